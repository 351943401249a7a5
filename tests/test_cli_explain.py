"""``python -m vgg explain``: the PNG written atomically, JSON and text output, the random-weights
notice, and bad requests as one line on stderr with exit status 2."""

from __future__ import annotations

import json

import pytest
from PIL import Image

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
