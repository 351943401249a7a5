"""``python -m vgg train``, ``predict --weights`` with its checkpoint, and ``experiment``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vgg.cli import main
from vgg.train import digits_dataset, load_checkpoint

TINY = ["--epochs", "3", "--width-divisor", "16", "--lr", "0.02"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("trained") / "a_bn.pth"
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["train", "A", "--bn", *TINY, "--out", str(path), "--json"]) == 0
    return path, json.loads(out.getvalue())


def test_train_json_has_the_promised_fields(checkpoint: tuple[Path, dict]) -> None:
    path, report = checkpoint
    assert {"test_accuracy", "epochs", "seconds", "history"} <= set(report)
    assert report["epochs"] == 3 and len(report["history"]) == 3 and report["test_accuracy"] > 0.5
    assert report["label"] == "A+BN mini (widths /16)" and report["checkpoint"] == str(path)
    assert report["history"][0]["epoch"] == 1 and "images_per_second" in report["history"][0]
    assert load_checkpoint(path).test_accuracy == report["test_accuracy"]


def test_train_text_output_is_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "train", "A", "--epochs", "1", "--width-divisor", "32")
    assert status == 0 and "Epoch" in out and "Test accuracy" in out and err == ""  # no bar off a terminal


def test_train_refuses_bad_arguments_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for args, words in ((["Z"], "Unknown configuration"), (["D", "--epochs", "0"], "Epochs"),
                        (["D", "--width-divisor", "0"], "width divisor")):
        status, out, err = run(capsys, "train", *args)
        assert status == 2 and out == "" and words in err and len(err.splitlines()) == 1


def test_predict_with_the_checkpoint_gets_the_digits_right(checkpoint: tuple[Path, dict], tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = checkpoint
    test = digits_dataset().test
    right = 0
    for index in range(0, 200, 20):  # ten test digits, saved as PNG files as a user would have them
        pixels = (test.images[index].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        image = tmp_path / f"digit{index}.png"
        Image.fromarray(pixels).save(image)
        status, out, _ = run(capsys, "predict", str(image), "--weights", str(path), "--json", "--topk", "3")
        report = json.loads(out)
        assert status == 0 and report["dataset"] == "digits" and len(report["predictions"]) == 3
        right += report["predictions"][0]["label"] == str(int(test.labels[index]))
    assert right >= 6
    status, out, _ = run(capsys, "predict", str(image), "--weights", str(path))
    assert status == 0 and "A+BN mini (widths /16) on digits" in out


def test_predict_refuses_a_truncated_checkpoint(checkpoint: tuple[Path, dict], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.pth"
    broken.write_bytes(checkpoint[0].read_bytes()[:2000])
    status, out, err = run(capsys, "predict", "cat", "--weights", str(broken))
    assert status == 2 and out == "" and err.startswith("error: ")


def test_experiment_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "experiment", "lrn", "--epochs", "1", "--width-divisor", "32", "--json")
    report = json.loads(out)
    assert status == 0 and report["experiment"] == "lrn" and [row["arm"] for row in report["rows"]] == ["A", "A-LRN"]
    assert "The paper:" in report["conclusion"]
    status, out, _ = run(capsys, "experiment", "lrn", "--epochs", "1", "--width-divisor", "32")
    assert status == 0 and "Paper top-1" in out and "29.6%" in out


def test_experiment_takes_a_learning_rate_and_states_its_recipe(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "experiment", "lrn", "--epochs", "1", "--lr", "0.005", "--width-divisor", "32",
                         "--json")
    report = json.loads(out)
    assert status == 0 and report["recipe"].startswith("Recipe: 1 epoch per run, learning rate 0.005")
    assert {record["lr"] for run in report["runs"] for record in run["history"]} == {0.005}
    assert {row["status"] for row in report["rows"]} <= {"learned", "at chance", "diverged"}
    assert report["hardware_line"].startswith("Hardware: ")
    status, out, _ = run(capsys, "experiment", "lrn", "--epochs", "1", "--lr", "0.005", "--width-divisor", "32")
    assert status == 0 and "Recipe: 1 epoch per run, learning rate 0.005" in out and "\nHardware: " in out
    status, _, err = run(capsys, "experiment", "lrn", "--lr", "-1")
    assert status == 2 and "learning rate" in err


def test_train_that_diverges_says_so_and_saves_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "nan.pth"
    status, stdout, stderr = run(capsys, "train", "A", "--epochs", "3", "--width-divisor", "16", "--lr", "10",
                                 "--init", "paper", "--dropout", "0.2", "--out", str(out))
    assert status == 1 and stdout == "" and not out.exists()
    assert "The loss became NaN at epoch 1" in stderr and "lower learning rate than 10, or batch norm" in stderr


def test_train_takes_the_input_size_and_annealing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "shapes40.pth"
    status, stdout, _ = run(capsys, "train", "A", "--bn", "--dataset", "shapes", "--epochs", "2", "--width-divisor",
                            "16", "--input-size", "40", "--anneal-epochs", "1", "--json", "--out", str(out))
    report = json.loads(stdout)
    assert status == 0 and report["input_size"] == 40 and report["recipe"]["anneal_epochs"] == 1
    assert [record["lr"] for record in report["history"]] == [0.02, 0.002]
    assert load_checkpoint(out).input_size == 40
