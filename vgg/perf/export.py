"""Export a VGG to ONNX, TorchScript or a PyTorch 2 program (``torch.export``), checked for parity.

- ``onnx``: ``torch.onnx.export`` (the dynamo exporter; it needs the ``onnx`` and ``onnxscript``
  packages) with the batch, height and width dynamic, the weights inside the one file (opset 18).
  The parity run goes through ONNX Runtime when it is installed, which is also the speed peer in
  benchmarks/bench_forward.py.
- ``torchscript``: ``torch.jit.trace`` (it records the input's sizes as operations, so it runs at any
  batch and size too); ``pt2``: ``torch.export`` with the same dynamic dimensions, saved by
  ``torch.export.save``. Their parity runs go through torch.

The head's ``AdaptiveAvgPool2d(7)`` is exported as two averaging matrices built from the input's
height and width (``AdaptivePoolByMatrices``): the exporter otherwise turns it into a fixed
``AveragePool`` valid only for the size it traced, so a 224 px trace would fail at any other size.
The matrices compute the same means (within float rounding), at any size, in the graph.

Every export is checked: the exported file is run on random inputs (the traced batch of 2 and a
batch of 1 at a larger, non-square size) against the model's own fp32 forward, and
the largest logit difference is reported; above ``PARITY_TOLERANCE`` the export fails
(``ExportError``) and nothing is left at the destination. Files are written to a temporary name
beside the destination and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vgg.arch import POOLED_SIZE, VGG
from vgg.errors import VGGError
from vgg.files import replace_atomically, temporary_beside

FORMATS = ("onnx", "torchscript", "pt2")
SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt", "pt2": ".pt2"}
PARITY_TOLERANCE = 1e-4
ONNX_OPSET = 18
INPUT_NAME, OUTPUT_NAME = "image", "logits"
TRACE_BATCH = 2  # torch.export specialises a dimension of size 1 to a constant: trace at batch 2
CHECK_GROWTH = (32, 64)  # the second parity check: batch 1, 32 px taller and 64 px wider than the trace


# The packages each format needs beyond torch: ONNX is the "export" extra (pip install 'vgg-explorer[export]').
_NEEDS = {"onnx": ("onnx", "onnxscript", "onnxruntime"), "torchscript": (), "pt2": ()}


def available_formats() -> tuple[str, ...]:
    """The formats this installation can write and check (ONNX only with its packages installed)."""
    return tuple(fmt for fmt in FORMATS if all(importlib.util.find_spec(name) for name in _NEEDS[fmt]))


class ExportError(VGGError):
    """An export that could not be written, or whose parity check failed."""


@dataclass(frozen=True)
class ParityCheck:
    input_shape: tuple[int, ...]
    max_abs_diff: float
    max_abs_logit: float  # of the model's own logits: the scale of the difference


@dataclass(frozen=True)
class ExportResult:
    path: str
    format: str
    bytes: int
    seconds: float  # export and check, together
    checked_with: str  # "onnxruntime 1.32.0", "torch 2.13.0"
    checks: tuple[ParityCheck, ...]
    dynamic: tuple[str, ...]  # the dimensions left free: ("batch", "height", "width"), or ()

    @property
    def max_abs_diff(self) -> float:
        return max(check.max_abs_diff for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "checks": [asdict(check) for check in self.checks], "dynamic": list(self.dynamic),
                "max_abs_diff": self.max_abs_diff}


class AdaptivePoolByMatrices(nn.Module):
    """``AdaptiveAvgPool2d(output)`` as ``P_h @ x @ P_w^T``, with the (out, in) averaging matrices
    built from the input's size, so an exported graph stays valid at every height and width.

    Output cell i along a side of n pixels averages pixels [floor(i n / out), ceil((i + 1) n / out)),
    PyTorch's adaptive-pooling windows."""

    def __init__(self, output: tuple[int, int] = (POOLED_SIZE, POOLED_SIZE)) -> None:
        super().__init__()
        self.output = output

    @staticmethod
    def _matrix(size: int, out: int, like: torch.Tensor) -> torch.Tensor:
        cells = torch.arange(out, device=like.device)
        start = (cells * size) // out  # (out,)
        end = ((cells + 1) * size + out - 1) // out
        pixels = torch.arange(size, device=like.device)
        inside = (pixels[None, :] >= start[:, None]) & (pixels[None, :] < end[:, None])  # (out, size)
        weights = inside.to(like.dtype)
        return weights / weights.sum(dim=1, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, C, out_h, out_w)
        rows = self._matrix(x.shape[-2], self.output[0], x)
        cols = self._matrix(x.shape[-1], self.output[1], x)
        return torch.einsum("oh,nchw,pw->ncop", rows, x, cols)


class ExportableVGG(nn.Module):
    """The model's own ``features`` and ``classifier`` (shared, not copied) around an exportable pool."""

    def __init__(self, model: VGG) -> None:
        super().__init__()
        self.features, self.classifier = model.features, model.classifier
        self.avgpool = AdaptivePoolByMatrices(tuple(model.avgpool.output_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) -> (N, num_classes)
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def exportable(model: VGG) -> ExportableVGG:
    """An fp32 CPU module in eval mode with ``model``'s weights. Shares them when ``model`` already is
    fp32 on the CPU in eval mode (the app's cached models are only read); otherwise copies."""
    weight = next(model.parameters())
    if model.training or weight.device.type != "cpu" or weight.dtype != torch.float32:
        model = copy.deepcopy(model).float().cpu().eval()
    return ExportableVGG(model).eval()


def default_input_size(model: VGG) -> tuple[int, int]:
    """The paper's 224 px, or the smallest side a network with more pools accepts."""
    side = max(224, 2**model.spec.num_pools)
    return (side, side)


def check_destination(out: str | os.PathLike[str], fmt: str) -> Path:
    """``out`` as a Path if a ``fmt`` export can be written there; ExportError in words otherwise."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}: use {', '.join(FORMATS)}.")
    destination = Path(out)
    if destination.is_dir():
        raise ExportError(f"{destination} is a folder: give a file name, e.g. {destination / ('vgg' + SUFFIXES[fmt])}.")
    if not destination.parent.is_dir():
        raise ExportError(f"The folder {destination.parent} does not exist: create it first.")
    return destination


def export(model: VGG, out: str | os.PathLike[str], fmt: str, *, input_size: tuple[int, int] | None = None,
           tolerance: float = PARITY_TOLERANCE) -> ExportResult:
    """Write ``model`` to ``out`` in ``fmt`` ("onnx", "torchscript", "pt2") and check its parity."""
    destination = check_destination(out, fmt)
    started = time.perf_counter()
    module = exportable(model)
    size = input_size or default_input_size(model)
    example = torch.randn(TRACE_BATCH, 3, *size)
    with temporary_beside(destination, SUFFIXES[fmt]) as temporary:
        _WRITERS[fmt](module, example, temporary)
        checks, checked_with = _check(fmt, temporary, module, example, tolerance)
        replace_atomically(temporary, destination)
    dynamic = ("batch", "height", "width")  # the second parity check ran at another batch and size
    return ExportResult(str(destination), fmt, destination.stat().st_size, time.perf_counter() - started,
                        checked_with, checks, dynamic)


export_model = export  # the package's name for it: ``vgg.perf.export`` is this module


def export_bytes(model: VGG, fmt: str, *, input_size: tuple[int, int] | None = None) -> tuple[bytes, ExportResult]:
    """The exported file's bytes (for a download button), after the same parity check."""
    with tempfile.TemporaryDirectory(prefix="vgg-export-") as folder:
        result = export(model, Path(folder) / f"model{SUFFIXES[fmt]}", fmt, input_size=input_size)
        return Path(result.path).read_bytes(), result


def _dynamic_shapes() -> dict[str, dict[int, Any]]:
    batch, height, width = (torch.export.Dim(name, min=minimum) for name, minimum in
                            (("batch", 1), ("height", 32), ("width", 32)))
    return {"x": {0: batch, 2: height, 3: width}}


def _write_onnx(module: nn.Module, example: torch.Tensor, path: Path) -> None:
    try:
        import onnx  # noqa: F401 - torch's exporter needs both packages
        import onnxscript  # noqa: F401
    except ImportError as error:
        raise ExportError(f"ONNX export needs the onnx and onnxscript packages ({error.name} is missing): "
                          "pip install onnx onnxscript onnxruntime") from None
    with _quiet(), torch.inference_mode(False), torch.no_grad():
        program = torch.onnx.export(module, (example,), dynamo=True, input_names=[INPUT_NAME],
                                    output_names=[OUTPUT_NAME], dynamic_shapes=_dynamic_shapes(),
                                    opset_version=ONNX_OPSET, external_data=False)
        program.save(str(path), external_data=False)


def _write_torchscript(module: nn.Module, example: torch.Tensor, path: Path) -> None:
    with _quiet(), torch.no_grad():
        traced = torch.jit.trace(module, example)
        torch.jit.save(traced, str(path))


def _write_pt2(module: nn.Module, example: torch.Tensor, path: Path) -> None:
    with _quiet(), torch.no_grad():
        program = torch.export.export(module, (example,), dynamic_shapes=_dynamic_shapes())
        torch.export.save(program, str(path))


_WRITERS = {"onnx": _write_onnx, "torchscript": _write_torchscript, "pt2": _write_pt2}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporters print progress and warnings about their internals: keep them off the user's screen."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def _check(fmt: str, path: Path, module: nn.Module, example: torch.Tensor,
           tolerance: float) -> tuple[tuple[ParityCheck, ...], str]:
    taller, wider = CHECK_GROWTH
    inputs = [example, torch.randn(1, 3, example.shape[2] + taller, example.shape[3] + wider)]
    run, checked_with = _runner(fmt, path)
    checks = []
    for x in inputs:
        with torch.inference_mode():
            expected = module(x)
        got = run(x)
        checks.append(ParityCheck(tuple(x.shape), float((got - expected).abs().max()), float(expected.abs().max())))
    worst = max(checks, key=lambda check: check.max_abs_diff)
    if not worst.max_abs_diff <= tolerance:  # NaN fails too
        raise ExportError(f"The {fmt} export's logits differ from the model's by {worst.max_abs_diff:.2e} on an input "
                          f"of shape {worst.input_shape} (checked with {checked_with}), above the {tolerance:.0e} "
                          "allowed: nothing was written.")
    return tuple(checks), checked_with


def _runner(fmt: str, path: Path) -> tuple[Any, str]:
    """A function (N, 3, H, W) tensor -> logits tensor running the exported file, and what runs it."""
    if fmt == "onnx":
        try:
            import onnxruntime
        except ImportError:
            raise ExportError("The ONNX parity check needs onnxruntime: pip install onnxruntime") from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return (lambda x: torch.from_numpy(session.run(None, {INPUT_NAME: x.numpy()})[0]),
                f"onnxruntime {onnxruntime.__version__}")
    with _quiet():  # torch.jit.load warns that TorchScript is deprecated
        loaded = torch.jit.load(str(path)) if fmt == "torchscript" else torch.export.load(str(path)).module()

    def run(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return loaded(x)

    return run, f"torch {torch.__version__}"
