"""Run the meta model module by module and record what each module sees and returns.

Shapes come from torch itself (each module runs on a meta tensor: no data, no weight memory), so
they are right for any spec and input size without a hand-written shape formula. No hooks are
registered: the Sequentials are iterated directly, as DESIGN.md asks of shared models.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from vgg.builders import build
from vgg.model import VGG, LayerInfo
from vgg.spec import VGGSpec

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Traced:
    """One module of the model, where it sits, and the shapes flowing in and out of it."""

    info: LayerInfo
    module: nn.Module
    input_shape: Shape
    output_shape: Shape


@functools.lru_cache(maxsize=32)
def meta_model(spec: VGGSpec, batch_norm: bool) -> VGG:
    """The structure of a (spec, bn) pair on the meta device, in eval mode, shared by every analysis.

    Safe to share between threads: eval-mode modules on meta tensors mutate nothing, and analysis
    never registers hooks on it or switches its mode.
    """
    return build(spec, batch_norm=batch_norm, device="meta").eval()


def check_input_size(input_size: tuple[int, int], batch_size: int) -> tuple[int, int]:
    """Validate the user's numbers before torch sees them, so the message names what to change."""
    if len(input_size) != 2 or not all(isinstance(side, int) and not isinstance(side, bool) for side in input_size):
        raise ValueError(f"input_size must be two integers (height, width), got {input_size!r}.")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    height, width = input_size
    return int(height), int(width)


def trace(spec: VGGSpec, batch_norm: bool, input_size: tuple[int, int], batch_size: int) -> tuple[Traced, ...]:
    """Every module of features, avgpool and classifier, in forward order, with its input and output shape.

    Raises ``InputSizeError`` (via ``VGG.check_input``) when the input cannot survive the pools.
    """
    height, width = check_input_size(input_size, batch_size)
    model = meta_model(spec, batch_norm)
    x = torch.empty(batch_size, 3, height, width, device="meta")  # (N, 3, H, W)
    model.check_input(x)
    modules = dict(_forward_modules(model))
    traced = []
    seen: dict[tuple[type, str, Shape], Shape] = {}
    with torch.inference_mode():
        for info in model.layer_infos:
            module = modules[info.path]
            if info.kind == "fc" and x.dim() > 2:
                x = torch.flatten(x, 1)  # VGG.forward_head flattens between avgpool and fc6: (N, C * 7 * 7)
            output_shape = _run(module, x, seen)
            traced.append(Traced(info, module, tuple(x.shape), output_shape))
            x = x if output_shape == tuple(x.shape) else torch.empty(output_shape, device="meta")
    return tuple(traced)


def _forward_modules(model: VGG) -> Iterator[tuple[str, nn.Module]]:
    yield from ((f"features.{index}", module) for index, module in enumerate(model.features))
    yield "avgpool", model.avgpool
    yield from ((f"classifier.{index}", module) for index, module in enumerate(model.classifier))


def _run(module: nn.Module, x: torch.Tensor, seen: dict[tuple[type, str, Shape], Shape]) -> Shape:
    """The module's output shape on ``x``, running each distinct (module config, input shape) once.

    Identical modules on identical shapes return identical shapes; the memo matters because meta
    BatchNorm goes through a Python decomposition (about 1 ms a call), and VGG repeats its layers.
    """
    key = (type(module), module.extra_repr(), tuple(x.shape))
    if key not in seen:
        seen[key] = tuple(module(x).shape)
    return seen[key]
