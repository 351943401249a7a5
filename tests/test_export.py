"""Export with parity: ONNX through ONNX Runtime (dynamic batch and size), TorchScript and torch.export
through torch, on a small network; a failed parity check leaves nothing behind; the CLI's JSON."""

from __future__ import annotations

import json
import os

import pytest
import torch
from torch import nn

import vgg
from vgg.cli import main
from vgg.perf import export as exporting
from vgg.perf.export import AdaptivePoolByMatrices, ExportError, export, export_bytes

SIZE = (64, 64)


@pytest.fixture(scope="module")
def small() -> vgg.VGG:
    """Two stages and a small head, so a whole export takes seconds and a file is under 1 MB."""
    torch.manual_seed(0)
    model = vgg.build("16 M 32 M", num_classes=10)
    model.classifier = nn.Sequential(nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10))
    return model.eval()


@pytest.mark.parametrize(("height", "width"), [(7, 7), (14, 14), (5, 6), (9, 13), (1, 1), (16, 40)])
def test_the_exportable_pool_equals_adaptive_average_pooling(height, width):
    x = torch.randn(2, 3, height, width)
    expected = nn.functional.adaptive_avg_pool2d(x, (7, 7))
    torch.testing.assert_close(AdaptivePoolByMatrices()(x), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.slow  # torch's ONNX exporter takes ~30 s even for a small network on this machine
def test_onnx_export_has_parity_through_onnxruntime_at_any_batch_and_size(small, tmp_path):
    pytest.importorskip("onnxruntime")
    import onnxruntime

    result = export(small, tmp_path / "small.onnx", "onnx", input_size=SIZE)
    assert result.checked_with.startswith("onnxruntime") and result.max_abs_diff <= 1e-4
    assert [check.input_shape for check in result.checks] == [(2, 3, 64, 64), (1, 3, 96, 128)]
    assert result.dynamic == ("batch", "height", "width")
    assert sorted(os.listdir(tmp_path)) == ["small.onnx"]  # one file: the weights are inside it
    session = onnxruntime.InferenceSession(result.path, providers=["CPUExecutionProvider"])
    x = torch.randn(3, 3, 80, 112)
    with torch.inference_mode():
        expected = small(x)
    got = torch.from_numpy(session.run(None, {"image": x.numpy()})[0])
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize("fmt", ["torchscript", "pt2"])
def test_torch_formats_have_parity(small, tmp_path, fmt):
    result = export(small, tmp_path / f"small.{fmt}", fmt, input_size=SIZE)
    assert result.checked_with.startswith("torch") and result.max_abs_diff <= 1e-4
    assert result.bytes == (tmp_path / f"small.{fmt}").stat().st_size
    assert sorted(os.listdir(tmp_path)) == [f"small.{fmt}"]


def test_a_failed_parity_check_writes_nothing(small, tmp_path, monkeypatch):
    real = exporting._runner

    def off_by_a_little(fmt, path):
        run, name = real(fmt, path)
        return (lambda x: run(x) + 1e-3), name

    monkeypatch.setattr(exporting, "_runner", off_by_a_little)
    with pytest.raises(ExportError, match=r"differ .* by 1\.00e-03.*nothing was written"):
        export(small, tmp_path / "small.pt", "torchscript", input_size=SIZE)
    assert os.listdir(tmp_path) == []


def test_bad_destinations_and_formats(small, tmp_path):
    with pytest.raises(ExportError, match="is a folder"):
        export(small, tmp_path, "onnx")
    with pytest.raises(ExportError, match="does not exist"):
        export(small, tmp_path / "missing" / "x.onnx", "onnx")
    with pytest.raises(ExportError, match="Unknown export format 'tflite'"):
        export(small, tmp_path / "x.tflite", "tflite")


def test_export_bytes_for_a_download(small):
    data, result = export_bytes(small, "torchscript", input_size=SIZE)
    assert len(data) == result.bytes > 0 and not os.path.exists(result.path)  # the temporary folder is gone


def test_cli_export_json(tmp_path, capsys):
    out = tmp_path / "tiny.pt"
    status = main(["export", "8 M", "--format", "torchscript", "--out", str(out), "--input-size", "32", "32",
                   "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    data = json.loads(captured.out)
    assert data["path"] == str(out) and data["format"] == "torchscript" and data["bytes"] == out.stat().st_size
    assert data["max_abs_diff"] <= 1e-4 and len(data["checks"]) == 2


def test_cli_export_fails_in_one_line(tmp_path, capsys):
    status = main(["export", "8 M", "--format", "onnx", "--out", str(tmp_path / "no" / "x.onnx")])
    assert status == 2 and capsys.readouterr().err.startswith("error: The folder")


def test_onnx_is_offered_only_where_its_packages_are_installed(monkeypatch):
    import importlib.util

    assert vgg.perf.available_export_formats() == ("onnx", "torchscript", "pt2")  # the dev extra installs them
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "onnxscript" else
                        real(name, *args))
    assert vgg.perf.available_export_formats() == ("torchscript", "pt2")
