"""Receptive field, jump and start of every layer, by the closed-form recurrence of a single-path network.

Per spatial axis, a layer with kernel k, stride s and padding p maps the state of its input to

    rf    += (k - 1) * jump          side of the input window one output position sees, in pixels
    start += ((k - 1) / 2 - p) * jump input coordinate of the centre of output position 0
    jump  *= s                       input pixels between neighbouring output positions

Conv and max-pool read k, s, p from the module. BN, ReLU, LRN (across channels only) and dropout
leave the state unchanged. Two layers have no fixed kernel and are defined here:

- ``avgpool`` (AdaptiveAvgPool2d to 7 x 7): when the input side is a multiple of 7 it *is* a plain
  pool with k = s = side / 7 (the identity at 224 x 224) and the recurrence holds. Otherwise its
  windows vary in width and spacing: ``receptive_field`` is that of the widest window, and
  ``jump``/``start`` are None, because no single stride describes the grid.
- ``fc6`` and everything after it see every position of the last feature map, so their receptive
  field covers the whole input (plus padding): ``rf_last + (side - 1) * jump_last``, the same as
  reading fc6 as a conv whose kernel is the whole map. There is one output position, so
  ``jump`` is None and ``start`` is the centre of that field.

A row reports the larger of its two axes; they differ only for avgpool/fc on non-square inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from vgg.analysis.trace import Traced
from vgg.errors import VGGError


@dataclass(frozen=True)
class AxisField:
    """The recurrence's state along one axis; jump/start are None where no single stride exists."""

    rf: int = 1
    jump: int | None = 1
    start: float | None = 0.0  # centre of input pixel 0, in pixel-index coordinates

    def through(self, kernel: int, stride: int, padding: int) -> AxisField:
        if self.jump is None or self.start is None:
            return AxisField(self.rf + (kernel - 1), None, None)  # cannot happen in a VGG; kept total
        return AxisField(rf=self.rf + (kernel - 1) * self.jump,
                         jump=self.jump * stride,
                         start=self.start + ((kernel - 1) / 2 - padding) * self.jump)


@dataclass(frozen=True)
class Field:
    """The state along (height, width), and what a table shows for it."""

    height: AxisField = AxisField()
    width: AxisField = AxisField()

    @property
    def receptive_field(self) -> int:
        return max(self.height.rf, self.width.rf)

    @property
    def jump(self) -> int | None:
        return self.height.jump if self.height.jump == self.width.jump else None

    @property
    def start(self) -> float | None:
        return self.height.start if self.height.start == self.width.start else None


def _pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def kernel_geometry(module: nn.Module) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]] | None:
    """(kernel, stride, padding) as (h, w) pairs for modules with a fixed window, else None."""
    if isinstance(module, nn.Conv2d | nn.MaxPool2d):
        if isinstance(module, nn.Conv2d) and module.dilation != (1, 1):
            raise VGGError("Dilated convolutions are not part of VGG; the receptive-field recurrence assumes none.")
        stride = module.stride if module.stride is not None else module.kernel_size
        return _pair(module.kernel_size), _pair(stride), _pair(module.padding)
    return None


def _adaptive_axis(axis: AxisField, side: int, target: int) -> AxisField:
    if side % target == 0:
        step = side // target
        return axis.through(step, step, 0)
    # Output i averages input positions [floor(i * side / target), ceil((i + 1) * side / target)).
    widest = max(math.ceil((i + 1) * side / target) - (i * side) // target for i in range(target))
    jump = axis.jump if axis.jump is not None else 0
    return AxisField(rf=axis.rf + (widest - 1) * jump, jump=None, start=None)


def _global_axis(axis: AxisField, side: int) -> AxisField:
    """One output that sees all ``side`` positions of the map it reads."""
    if axis.jump is None or axis.start is None:
        return AxisField(axis.rf, None, axis.start)
    return AxisField(rf=axis.rf + (side - 1) * axis.jump, jump=None, start=axis.start + (side - 1) / 2 * axis.jump)


def _through_layer(field: Field, layer: Traced) -> Field:
    geometry = kernel_geometry(layer.module)
    if geometry is not None:
        (kh, kw), (sh, sw), (ph, pw) = geometry
        return Field(field.height.through(kh, sh, ph), field.width.through(kw, sw, pw))
    if isinstance(layer.module, nn.AdaptiveAvgPool2d):
        height, width = layer.input_shape[-2:]
        out_height, out_width = _pair(layer.module.output_size)
        return Field(_adaptive_axis(field.height, height, out_height),
                     _adaptive_axis(field.width, width, out_width))
    return field  # BN, ReLU, LRN, dropout: positions map one to one


def _pair(size: int | tuple[int | None, ...]) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    height, width = size
    return int(height), int(width)  # torchvision's and ours are (7, 7); None ("keep the input's") is never used


def receptive_fields(layers: Sequence[Traced]) -> tuple[Field, ...]:
    """The field after each layer, in order; ``layers`` is a whole traced model, starting at the image."""
    field, fields = Field(), []
    last_map = field, (0, 0)  # (field, (H, W)) of the last 4-D tensor entering a layer
    flat = False
    for layer in layers:
        if len(layer.input_shape) == 4:
            last_map = field, (layer.input_shape[2], layer.input_shape[3])
        elif not flat:  # the first layer after the flatten (fc6) sees the whole last feature map
            map_field, (height, width) = last_map
            field, flat = Field(_global_axis(map_field.height, height), _global_axis(map_field.width, width)), True
        field = _through_layer(field, layer)
        fields.append(field)
    return tuple(fields)
