"""One forward pass that returns the logits and the output of every layer, timed per layer; and the
top-k predictions read from the logits.

The app caches one model per configuration and shares it between browser sessions, so a pass here
writes nothing to the model: no forward hooks, no train/eval toggling (``prepare`` sets eval mode
once), everything under ``torch.inference_mode()``. Layers are called one by one, as ``VGG.forward``
would call them, and each wanted output is kept. Two threads may run the same model at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from vgg.arch.classes import imagenet_classes
from vgg.arch.model import VGG
from vgg.errors import DeviceError, VGGError
from vgg.vision.devices import LayerClock, clock_for, select_device
from vgg.vision.precision import check_precision

RANDOM_WEIGHTS_NOTICE = ("Random weights: this network is untrained, so these classes and probabilities are noise, "
                         "not predictions. Load the ImageNet weights to see what VGG recognises.")
OFFLOAD_NOTE = ("CUDA ran out of memory keeping every layer's output on the GPU, so this pass moved each captured "
                "output to the CPU as it was computed (slower). Capture fewer layers or use a smaller input.")


def prepare(model: VGG, device: str | torch.device = "auto", precision: str = "fp32", *,
            channels_last: bool = True) -> VGG:
    """Put ``model`` in eval mode on ``device`` ("auto": cuda, mps, cpu) in ``precision``, once, and return it.

    ``channels_last`` (NHWC) lets oneDNN on the CPU and cuDNN on CUDA run convolutions without
    reordering their input and output at every layer; it changes strides, not values. ``precision``
    "bf16" or "fp16" converts the weights once (not autocast) where the device computes that dtype
    natively, and raises ``vgg.vision.precision.PrecisionError`` in words elsewhere (checked before anything
    moves): emulated bf16 is many times slower than fp32. ``forward_with_features`` still returns
    float32 logits and feature maps.
    """
    target = select_device(device)
    dtype = check_precision(target, precision)
    model.eval()
    if channels_last and target.type in ("cpu", "cuda"):  # on MPS NHWC is unmeasured here: leave it NCHW
        return model.to(device=target, dtype=dtype, memory_format=torch.channels_last)
    return model.to(device=target, dtype=dtype)


@dataclass(frozen=True)
class ForwardResult:
    """What one pass produced. ``features`` tensors stay on ``device`` (on CUDA unless the pass fell
    back, see ``notes``), in the model's memory format (channels_last strides after ``prepare``);
    they are inference tensors: read them, do not modify them in place."""

    logits: torch.Tensor  # (N, num_classes), float32, on the CPU
    features: dict[str, torch.Tensor]  # module path ("features.29") -> that module's output (float32), in order
    times: dict[str, float]  # module path -> seconds, for every module whether captured or not
    device: torch.device
    total_seconds: float  # the whole call: input transfer, the pass, logits back to the CPU
    notes: tuple[str, ...] = ()  # what the pass had to do differently (a CUDA out-of-memory fallback)


def forward_with_features(model: VGG, x: torch.Tensor, *, layers: Iterable[str] | None = None) -> ForwardResult:
    """Run ``x`` (N, 3, H, W) through ``model`` and keep the output of every layer in ``layers``
    (module paths like "features.29" or paper names like "relu5_3"; None keeps all). Every layer is
    timed; times come from CUDA events on a GPU, from the wall clock elsewhere.

    On CUDA out of memory the pass is retried once with each kept output moved to the CPU as it is
    computed (``notes`` says so); if that fails too, DeviceError. ``model`` must be in eval mode
    (``prepare`` does it): toggling it here would race with other threads using it.
    """
    if model.training:
        raise VGGError("The model is in training mode (dropout on, batch norm updating its statistics). "
                         "Call vgg.prepare(model) once before running it.")
    model.check_can_classify()  # features-only weights have no classifier to read logits from
    wanted = _resolve_layers(model, layers)
    device = next(model.parameters()).device
    started = time.perf_counter()
    with torch.inference_mode():
        x = _model_input(model, x, device)
        (logits, features, times), notes = _run_with_fallback(model, x, wanted)
        logits = logits.to("cpu", torch.float32)  # waits for the device: total_seconds covers the work
    return ForwardResult(logits, features, times, device, time.perf_counter() - started, notes)


def _resolve_layers(model: VGG, layers: Iterable[str] | None) -> frozenset[str]:
    paths = {info.path: info.path for info in model.layer_infos}
    if layers is None:
        return frozenset(paths)
    by_name = paths | {info.paper_name: info.path for info in model.layer_infos}
    requested = [layers] if isinstance(layers, str) else list(layers)
    unknown = [name for name in requested if name not in by_name]
    if unknown:
        examples = ", ".join(info.path for info in model.layer_infos[:3])
        raise VGGError(f"Unknown layer(s) {', '.join(map(repr, unknown))}: use module paths ({examples}, ...) "
                         "or paper names (conv1_1, relu5_3, pool5, fc6, ...).")
    return frozenset(by_name[name] for name in requested)


def _model_input(model: VGG, x: torch.Tensor, device: torch.device) -> torch.Tensor:
    model.check_input(x)  # a readable InputSizeError instead of a shape error inside a pool
    dtype = next(model.parameters()).dtype
    memory_format = torch.channels_last if _is_channels_last(model) else torch.contiguous_format
    return x.to(device=device, dtype=dtype, memory_format=memory_format)


def _is_channels_last(model: VGG) -> bool:
    conv = next((m for m in model.features if isinstance(m, nn.Conv2d)), None)
    return conv is not None and not conv.weight.is_contiguous() and conv.weight.is_contiguous(
        memory_format=torch.channels_last)


_PassOutput = tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, float]]  # logits, kept outputs, seconds


def _run_with_fallback(model: VGG, x: torch.Tensor, wanted: frozenset[str]) -> tuple[_PassOutput, tuple[str, ...]]:
    """The pass and its notes: on CUDA out of memory, once more with kept outputs moved to the CPU."""
    try:
        return _run(model, x, wanted, offload=False), ()
    except torch.cuda.OutOfMemoryError:
        if x.device.type != "cuda":
            raise
    # Retry outside the except block: its traceback holds the failed pass's tensors on the GPU.
    torch.cuda.empty_cache()
    try:
        return _run(model, x, wanted, offload=True), (OFFLOAD_NOTE,)
    except torch.cuda.OutOfMemoryError:
        pass
    torch.cuda.empty_cache()
    batch, _, height, width = x.shape
    raise DeviceError(f"CUDA ran out of memory for a batch of {batch} at {height}x{width}, even with each layer's "
                      "output moved to the CPU. Use a smaller input, or --device cpu.")


def _run(model: VGG, x: torch.Tensor, wanted: frozenset[str], offload: bool) -> _PassOutput:
    """The pass itself: VGG.forward's order, one module at a time."""
    run = _Pass(wanted, clock_for(x.device), offload)
    for index, module in enumerate(model.features):
        x = run.step(f"features.{index}", module, x)  # (N, C, H / 2**pools, W / 2**pools) at the end
    x = run.step("avgpool", model.avgpool, x)  # (N, C, 7, 7)
    x = torch.flatten(x, 1)  # (N, C * 49)
    for index, module in enumerate(model.classifier):
        x = run.step(f"classifier.{index}", module, x)  # (N, num_classes) at the end
    return x, run.features, run.clock.seconds()


class _Pass:
    """The state of one pass: what was kept, and the clock. Lives on one thread's stack only."""

    def __init__(self, wanted: frozenset[str], clock: LayerClock, offload: bool) -> None:
        self.wanted, self.clock, self.offload = wanted, clock, offload
        self.features: dict[str, torch.Tensor] = {}
        self._kept_storage: set[int] = set()
        clock.start()

    def step(self, path: str, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if getattr(module, "inplace", False) and x.untyped_storage().data_ptr() in self._kept_storage:
            out = _out_of_place(module, x)  # the in-place ReLU would overwrite a kept output
        else:
            out = module(x)
        self.clock.mark(path)
        if path in self.wanted:
            self._keep(path, out)
        return out

    def _keep(self, path: str, out: torch.Tensor) -> None:
        if out.dtype != torch.float32:  # a bf16/fp16 model's maps are kept in float32, as every reader expects
            out = out.float()
        if self.offload:
            self.features[path] = out.to("cpu")
        else:
            self.features[path] = out
            # Dropout (eval) and Flatten return their input or a view of it: track storage, not objects.
            self._kept_storage.add(out.untyped_storage().data_ptr())


def _out_of_place(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    if isinstance(module, nn.ReLU):
        return F.relu(x)  # one read and one write, like the in-place op; a clone would add a second pass
    return module(x.clone())


class Prediction(NamedTuple):
    index: int  # class index, 0-999 for ImageNet
    label: str
    probability: float  # softmax over all classes


@dataclass(frozen=True)
class Predictions:
    """The k most probable classes. When ``random_weights`` is set the UI must show ``notice``:
    an untrained network's "predictions" are noise."""

    top: tuple[Prediction, ...]
    random_weights: bool

    @property
    def notice(self) -> str:
        return RANDOM_WEIGHTS_NOTICE if self.random_weights else ""


def top_k(logits: torch.Tensor, k: int = 5, *, weights_are_random: bool,
          labels: Sequence[str] | None = None) -> Predictions:
    """The ``k`` most probable classes of one image's logits ((num_classes,) or (1, num_classes)).

    Labels are ImageNet's for 1000 classes, "class i" otherwise, unless ``labels`` are given.
    """
    if logits.dim() == 2 and logits.shape[0] == 1:
        logits = logits[0]
    if logits.dim() != 1:
        raise VGGError(f"top_k reads one image's logits, (num_classes,) or (1, num_classes); "
                         f"got shape {tuple(logits.shape)}.")
    if k < 1:
        raise VGGError(f"k must be at least 1, got {k}.")
    names = labels if labels is not None else _default_labels(logits.shape[0])
    if len(names) != logits.shape[0]:
        raise VGGError(f"{len(names)} labels for {logits.shape[0]} classes.")
    probabilities = torch.softmax(logits.detach().to("cpu", torch.float64), dim=0)  # float64: tiny tails stay > 0
    values, indices = probabilities.topk(min(k, logits.shape[0]))
    top = tuple(Prediction(i, names[i], p) for i, p in zip(indices.tolist(), values.tolist(), strict=True))
    return Predictions(top, weights_are_random)


def _default_labels(num_classes: int) -> Sequence[str]:
    classes = imagenet_classes()
    return classes if num_classes == len(classes) else [f"class {i}" for i in range(num_classes)]
