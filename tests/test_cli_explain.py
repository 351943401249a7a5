"""``python -m vgg explain``: the PNG written atomically, JSON and text output, the random-weights
notice, bad requests as one line on stderr with exit status 2, and a checkpoint from ``train`` explained
at its own size with its dataset's classes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

import vgg.train
from vgg.cli import main
from vgg.cli.explain import write_png_atomically

SMALL = "16 M 32 M"  # VGG's head on two small stages: fast, still 1000 ImageNet classes


def explain_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["explain", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_gradcam_writes_an_overlay_png_and_json(capsys, tmp_path):
    out = tmp_path / "heat.png"
    status, stdout, _ = explain_cli(capsys, "cat", "--config", SMALL, "--out", str(out), "--json", "--target", "281")
    assert status == 0
    summary = json.loads(stdout)
    assert summary["method"] == "gradcam" and summary["layer"] == "features.3"
    assert summary["layer_paper_name"] == "conv2_1"
    assert summary["target"] == 281 and summary["label"] == "tabby"
    assert summary["random_weights"] is True and "untrained" in summary["notice"]
    assert summary["heatmap_shape"] == [224, 224]
    with Image.open(out) as picture:
        assert picture.format == "PNG" and picture.size == (224, 224)
    assert [path.name for path in tmp_path.iterdir()] == ["heat.png"]  # no temporary file left behind


def test_text_output_names_the_layer_and_says_random_weights_loudly(capsys):
    status, stdout, _ = explain_cli(capsys, "cat", "--config", SMALL, "--layer", "relu1_1", "--target", "tabby")
    assert status == 0
    assert "untrained" in stdout and "relu1_1 (features.1)" in stdout and "class 281 (tabby)" in stdout


def test_occlusion_takes_window_and_stride(capsys):
    status, stdout, _ = explain_cli(capsys, "cat", "--config", SMALL, "--method", "occlusion", "--window", "112",
                                    "--stride", "112", "--json")
    assert status == 0
    summary = json.loads(stdout)
    assert summary["options"]["window"] == [112, 112] and summary["layer"] is None


@pytest.mark.parametrize(("args", "fragment"), [
    (["--layer", "conv9_1"], "No layer 'conv9_1'"),
    (["--target", "not-a-class"], "neither a class index"),
    (["--method", "saliency", "--layer", "conv1_1"], "reads no layer"),
    (["--out", "heat.jpg"], "writes a PNG"),
])
def test_bad_requests_are_one_line_errors(capsys, args, fragment):
    status, stdout, stderr = explain_cli(capsys, "cat", "--config", SMALL, *args)
    assert status == 2 and stdout == ""
    assert stderr.startswith("error: ") and fragment in stderr and len(stderr.splitlines()) == 1


def test_a_missing_folder_is_refused_before_anything_is_written(capsys, tmp_path):
    status, _, stderr = explain_cli(capsys, "cat", "--config", SMALL, "--out", str(tmp_path / "nowhere" / "h.png"))
    assert status == 2 and "does not exist" in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_nothing_half_written(tmp_path):
    class Breaks:
        def save(self, stream, format):
            stream.write(b"\x89PNG half")
            raise OSError("disk full")

    target = tmp_path / "heat.png"
    target.write_bytes(b"the previous picture")
    with pytest.raises(OSError, match="disk full"):
        write_png_atomically(Breaks(), target)
    assert target.read_bytes() == b"the previous picture"  # untouched
    assert [path.name for path in tmp_path.iterdir()] == ["heat.png"]


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A checkpoint as 'python -m vgg train A --out mini.pth' writes it (one short epoch, widths / 32), and a
    test digit of its dataset as a PNG."""
    folder = tmp_path_factory.mktemp("mini")
    result = vgg.train.fit(vgg.train.Recipe("A", batch_norm=True, epochs=1, width_divisor=32, batch_size=32))
    checkpoint = vgg.train.save_checkpoint(result, folder / "mini.pth")
    pixels = result.dataset.test.images[0]  # (3, 32, 32) in [0, 1]
    image = folder / f"digit_{int(result.dataset.test.labels[0])}.png"
    Image.fromarray((pixels.permute(1, 2, 0).numpy() * 255).round().astype("uint8")).save(image)
    return checkpoint, image


def test_a_trained_checkpoint_is_explained_at_its_own_size_with_its_classes(capsys, tmp_path, mini):
    checkpoint, image = mini
    out = tmp_path / "heat.png"
    status, stdout, stderr = explain_cli(capsys, str(image), "--weights", str(checkpoint), "--out", str(out), "--json")
    assert status == 0, stderr
    summary = json.loads(stdout)
    assert summary["config"] == "A+BN mini (widths /32)" and summary["dataset"] == "digits"
    assert summary["trained"].startswith("A+BN mini (widths /32) on digits, ")
    assert summary["random_weights"] is False and summary["notice"] == "" and summary["seed"] is None
    assert summary["heatmap_shape"] == [32, 32] and summary["seen"] == "32 x 32 image"
    assert summary["layer_paper_name"] == "conv5_2" and summary["label"] in set("0123456789")
    with Image.open(out) as picture:
        assert picture.format == "PNG" and picture.size == (256, 256)
    status, stdout, _ = explain_cli(capsys, str(image), "--weights", str(checkpoint), "--target", "3",
                                    "--method", "occlusion", "--json")
    summary = json.loads(stdout)
    assert status == 0 and summary["target"] == 3 and summary["label"] == "3"
    assert summary["options"]["window"] == [8, 8] and summary["options"]["stride"] == [4, 4]
    status, stdout, _ = explain_cli(capsys, str(image), "--weights", str(checkpoint), "--layer", "conv1_1")
    assert status == 0 and "untrained" not in stdout and "conv1_1 (features.0)" in stdout
    assert "of the 32 x 32 image" in stdout


def test_a_trained_checkpoints_class_names_are_targets(capsys, tmp_path, mini):
    checkpoint, image = mini
    payload = torch.load(checkpoint, weights_only=True)
    payload["class_names"] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    named = tmp_path / "named.pth"
    torch.save(payload, named)
    status, stdout, _ = explain_cli(capsys, str(image), "--weights", str(named), "--target", "Seven", "--json")
    summary = json.loads(stdout)
    assert status == 0 and summary["target"] == 7 and summary["label"] == "seven"
    status, stdout, stderr = explain_cli(capsys, str(image), "--weights", str(named), "--target", "tabby")
    assert status == 2 and stdout == "" and len(stderr.splitlines()) == 1
    assert "one of the checkpoint's classes (zero, one, two" in stderr
