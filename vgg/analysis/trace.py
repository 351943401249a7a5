"""Run the meta model module by module and record what each module sees and returns.

Shapes come from torch itself (each module runs on a meta tensor: no data, no weight memory, with
two exceptions kept for memory, see SHAPE_PRESERVING), so they are right for any spec and input size
without a hand-written shape formula. No hooks are registered: the Sequentials are iterated
directly: models shared between threads never get hooks (docs/architecture.md).
"""

from __future__ import annotations

import functools
import numbers
import operator
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from vgg.arch import VGG, LayerInfo, LayerKind, Network, build
from vgg.errors import VGGError

Shape = tuple[int, ...]

# Two exceptions to running each module as is, both for memory: on the meta device some kernels are
# Python decompositions that import torch._dynamo on first use (+40 MB of peak memory, against a
# goal of 50 MB for the whole analysis). BatchNorm2d and LocalResponseNorm have their input's shape
# by contract: it is taken from the input, after the check a run would make (BN's channel count).
# Linear runs without its bias (x @ W^T), since adding a bias of shape (out,) cannot change the shape
# and addmm is the decomposed kernel. tests/test_analysis_crosscheck.py runs all of them on meta.
SHAPE_PRESERVING = (nn.BatchNorm2d, nn.LocalResponseNorm)


@dataclass(frozen=True)
class Traced:
    """One module of the model, where it sits, and the shapes flowing in and out of it."""

    info: LayerInfo
    module: nn.Module
    input_shape: Shape
    output_shape: Shape


@functools.lru_cache(maxsize=32)
def meta_model(network: Network) -> VGG:
    """The structure of a network on the meta device, in eval mode, shared by every analysis.

    Safe to share between threads: eval-mode modules on meta tensors mutate nothing, and analysis
    never registers hooks on it or switches its mode.
    """
    return build(network, device="meta").eval()


def check_input_size(input_size: tuple[int, int], batch_size: int) -> tuple[int, int]:
    """Validate the user's numbers before torch sees them, so the message names what to change."""
    if len(input_size) != 2 or not all(_is_integer(side) for side in input_size):
        raise VGGError(f"input_size must be two integers (height, width), got {input_size!r}.")
    if not _is_integer(batch_size) or batch_size < 1:
        raise VGGError(f"batch_size must be a positive integer, got {batch_size!r}.")
    height, width = input_size
    return operator.index(height), operator.index(width)


def _is_integer(value: object) -> bool:
    """Python and numpy integers (what widgets and arrays hand over), but not bools or floats."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def trace(network: Network, input_size: tuple[int, int], batch_size: int) -> tuple[Traced, ...]:
    """Every module of features, avgpool and classifier, in forward order, with its input and output shape.

    Raises ``InputSizeError`` (via ``VGG.check_input``) when the input cannot survive the pools.
    """
    height, width = check_input_size(input_size, batch_size)
    model = meta_model(network)
    x = torch.empty(batch_size, 3, height, width, device="meta")  # (N, 3, H, W)
    model.check_input(x)
    modules = dict(_forward_modules(model))
    traced = []
    with torch.inference_mode():
        for info in model.layer_infos:
            module = modules[info.path]
            if info.kind is LayerKind.FC and x.dim() > 2:
                x = torch.flatten(x, 1)  # VGG.forward_head flattens between avgpool and fc6: (N, C * 7 * 7)
            output_shape = _output_shape(module, x)
            traced.append(Traced(info, module, tuple(x.shape), output_shape))
            x = x if output_shape == tuple(x.shape) else torch.empty(output_shape, device="meta")
    return tuple(traced)


def _forward_modules(model: VGG) -> Iterator[tuple[str, nn.Module]]:
    yield from ((f"features.{index}", module) for index, module in enumerate(model.features))
    yield "avgpool", model.avgpool
    yield from ((f"classifier.{index}", module) for index, module in enumerate(model.classifier))


def _output_shape(module: nn.Module, x: torch.Tensor) -> Shape:
    """Run the module on the meta tensor, with the two exceptions explained at SHAPE_PRESERVING."""
    if isinstance(module, SHAPE_PRESERVING):
        if isinstance(module, nn.BatchNorm2d) and (x.dim() != 4 or x.shape[1] != module.num_features):
            raise VGGError(f"BatchNorm2d({module.num_features}) cannot take a tensor of shape {tuple(x.shape)}.")
        return tuple(x.shape)
    if isinstance(module, nn.Linear):
        return tuple(F.linear(x, module.weight).shape)
    return tuple(module(x).shape)
