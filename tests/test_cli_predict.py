"""``python -m vgg predict``: JSON and text output, the random-weights notice, and every error as one
line on stderr with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import vgg
import vgg.arch.published
from vgg.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMALL = "16 M"  # VGG's head on one small conv stage: fast, and still 1000 ImageNet classes
TABBY = 281


def predict(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["predict", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line_error(capsys: pytest.CaptureFixture[str], *args: str, progress: bool = False) -> str:
    """The error line; with ``progress``, a progress line may come before it (on stderr)."""
    status, out, err = predict(capsys, *args)
    assert status == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) in ((1, 2) if progress else (1,)) and lines[-1].startswith("error: ")
    return lines[-1]


@pytest.fixture
def tabby_checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = vgg.build(SMALL)
    with torch.no_grad():
        model.classifier[6].bias[TABBY] = 30.0  # class 281 wins whatever the image
    path = tmp_path / "tabby.pth"
    torch.save(model.state_dict(), path)
    return path


def test_json_with_a_checkpoint_names_the_winning_class(capsys, tabby_checkpoint):
    status, out, _ = predict(capsys, "coffee", "--config", SMALL, "--weights", str(tabby_checkpoint), "--json",
                             "--topk", "3", "--device", "cpu")
    assert status == 0
    report = json.loads(out)
    assert report["predictions"][0] == {"rank": 1, "index": TABBY, "label": "tabby",
                                        "probability": pytest.approx(1.0, abs=1e-3)}
    assert len(report["predictions"]) == 3
    assert report["random_weights"] is False and report["notice"] == "" and report["seed"] is None
    assert report["image"] == "sample:coffee" and report["device"] == "cpu"
    assert report["input_shape"] == [1, 3, 224, 224] and report["config"] == f"custom ({SMALL})"


def test_random_weights_are_seeded_and_announced(capsys):
    first = json.loads(predict(capsys, "cat", "--config", SMALL, "--json", "--seed", "3")[1])
    again = json.loads(predict(capsys, "cat", "--config", SMALL, "--json", "--seed", "3")[1])
    other = json.loads(predict(capsys, "cat", "--config", SMALL, "--json", "--seed", "4")[1])
    assert first["random_weights"] is True and first["notice"] == vgg.RANDOM_WEIGHTS_NOTICE
    assert first["predictions"] == again["predictions"] != other["predictions"]


def test_text_output_leads_with_the_random_weights_notice(capsys):
    status, out, _ = predict(capsys, "cat", "--config", SMALL, "--mode", "whole", "--size", "96")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("!!!") and lines[1].startswith("!! Random weights")
    assert "96x96" in out and "Probability" in out and len([ln for ln in lines if "%" in ln]) == 5


def test_text_output_with_a_checkpoint_has_no_notice(capsys, tabby_checkpoint, tmp_path):
    image = tmp_path / "cat.jpg"
    image.write_bytes(vgg.sample_images()["cat"].read_bytes())
    status, out, _ = predict(capsys, str(image), "--config", SMALL, "--weights", str(tabby_checkpoint))
    assert status == 0 and "Random" not in out and "tabby" in out.splitlines()[3]


def test_the_default_network_is_vgg16(capsys):
    report = json.loads(predict(capsys, "rocket", "--json", "--topk", "1")[1])
    assert report["config"] == "VGG16 (D)" and len(report["predictions"]) == 1


@pytest.mark.parametrize("args", [
    ("nowhere.jpg",),
    ("cat", "--weights", "missing.pth"),
    ("cat", "--weights", "imagenet", "--config", "C"),
    ("cat", "--config", "64 Q"),
    ("cat", "--topk", "0", "--config", SMALL),
    ("cat", "--device", "tpu", "--config", SMALL),
    ("cat", "--size", "8", "--config", SMALL),
])
def test_errors_are_one_line_and_exit_2(capsys, args):
    one_line_error(capsys, *args)


def test_an_image_that_is_text_is_refused(capsys, tmp_path):
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture")
    assert "text, not an image" in one_line_error(capsys, str(notes), "--config", SMALL)


def test_a_checkpoint_for_another_config_is_refused(capsys, tabby_checkpoint):
    assert "does not fit" in one_line_error(capsys, "cat", "--config", "32 M", "--weights", str(tabby_checkpoint))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without CUDA")
def test_absent_cuda_is_refused(capsys):
    assert "CUDA was requested" in one_line_error(capsys, "cat", "--device", "cuda", "--config", SMALL)


def test_imagenet_weights_that_cannot_be_downloaded_are_one_line(capsys, hub_dir, monkeypatch):
    monkeypatch.setattr(vgg.arch.published, "WEIGHTS_BASE_URL", "http://127.0.0.1:9/models/")  # nothing listens there
    err = one_line_error(capsys, "cat", "--config", "A", "--weights", "imagenet", progress=True)
    assert "Could not download vgg11-8a719046.pth" in err


def test_the_module_entry_point_runs(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "vgg", "predict", "cat", "--config", SMALL, "--json"],
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["random_weights"] is True
    failed = subprocess.run([sys.executable, "-m", "vgg", "predict", str(tmp_path / "none.png")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2 and failed.stderr.startswith("error: ") and failed.stdout == ""
