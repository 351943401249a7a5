"""The effective receptive field of a unit (Luo et al., 2016): how strongly each input pixel moves
the unit at the centre of a layer's map, measured as the input gradient of that unit, averaged over
images, beside the theoretical receptive field (the closed-form recurrence of the analysis).

The theoretical field is a hard bound: no input pixel outside it is connected to the unit, so the
gradient there is exactly zero. Inside it, the gradient concentrates towards the centre (roughly
Gaussian): the pixels near the edge of a 212 px field barely count.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vgg.explain.layers import ExplainError, check_eval, named_layers, resolve_layer, run_until

MASS_SHARE = 0.95  # the effective field's side: the centred square that holds this share of the gradient


@dataclass(frozen=True)
class TheoreticalField:
    """The recurrence's receptive field of one position: ``size`` px square centred at ``center``."""

    size: int
    jump: int
    start: float
    center: tuple[float, float]  # (row, column) in input pixels

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(top, left, bottom, right), bottom/right exclusive; may reach past the image into the padding."""
        half = (self.size - 1) / 2
        top, left = self.center[0] - half, self.center[1] - half
        return top, left, top + self.size, left + self.size


@dataclass(frozen=True)
class EffectiveField:
    """The centre unit's input gradient (mean absolute value over images, summed over colour channels)."""

    layer: str  # module path
    paper_name: str
    position: tuple[int, int]  # (row, column) of the unit in the layer's map
    gradient: torch.Tensor  # (H, W), float32 on the CPU, scaled so that its maximum is 1 (all 0 if dead)
    theoretical: TheoreticalField
    images: int

    @property
    def outside_share(self) -> float:
        """The share of the gradient that falls outside the theoretical field: 0 for every VGG."""
        total = float(self.gradient.sum())
        if total == 0:
            return 0.0
        outside = self.gradient.clone()
        outside[self._square(self.theoretical.size)] = 0.0
        return float(outside.sum()) / total

    @property
    def effective_size(self) -> int:
        """Side of the smallest square, concentric with the theoretical field, that holds ``MASS_SHARE`` of
        the gradient (at most the theoretical side)."""
        total = float(self.gradient.sum())
        if total == 0:
            return 0
        for side in range(2 - self.theoretical.size % 2, self.theoretical.size + 1, 2):  # same parity: concentric
            if float(self.gradient[self._square(side)].sum()) >= MASS_SHARE * total:
                return side
        return self.theoretical.size

    def _square(self, side: int) -> tuple[slice, slice]:
        """The pixels of a ``side`` px square centred where the theoretical field is, clipped to the image."""
        row, column = self.theoretical.center
        top, left = round(row - (side - 1) / 2), round(column - (side - 1) / 2)
        return slice(max(top, 0), max(top + side, 0)), slice(max(left, 0), max(left + side, 0))


def theoretical_field(model: nn.Module, layer: str, position: tuple[int, int]) -> TheoreticalField:
    """The recurrence rf += (k - 1) * jump, start += ((k - 1) / 2 - p) * jump, jump *= s up to ``layer``."""
    target = resolve_layer(model, layer)
    size, jump, start = 1, 1, 0.0
    for current in named_layers(model):
        module = current.module
        if isinstance(module, nn.Conv2d | nn.MaxPool2d):
            kernel, stride, padding = (_first(getattr(module, name)) for name in ("kernel_size", "stride", "padding"))
            size += (kernel - 1) * jump
            start += ((kernel - 1) / 2 - padding) * jump
            jump *= stride
        if current.path == target.path:
            break
    row, column = position
    return TheoreticalField(size, jump, start, (start + row * jump, start + column * jump))


def _first(value: int | tuple[int, ...]) -> int:
    return value if isinstance(value, int) else int(value[0])


def effective_receptive_field(model: nn.Module, layer: str, *, input_size: tuple[int, int] = (224, 224),
                              images: torch.Tensor | None = None, samples: int = 8, seed: int = 0,
                              batch_size: int = 2) -> EffectiveField:
    """The effective receptive field of the unit at the centre of ``layer``'s map (module path or paper
    name, a layer of ``features``). ``images``: a normalised (N, 3, H, W) batch to average over; by
    default ``samples`` images of seeded Gaussian noise at ``input_size``."""
    check_eval(model)
    chosen = resolve_layer(model, layer)
    if not chosen.path.startswith("features."):
        raise ExplainError(f"{chosen.label} is in the head: every one of its units sees the whole image. Choose a "
                           "layer of features (conv1_1 ... pool5).")
    parameter = next(model.parameters())
    if images is None:
        generator = torch.Generator().manual_seed(seed)
        images = torch.randn(samples, 3, *input_size, generator=generator)
    if images.dim() != 4 or images.shape[1] != 3 or images.shape[0] < 1:
        raise ExplainError(f"images must be a (N, 3, H, W) batch; got shape {tuple(images.shape)}.")
    total = torch.zeros(images.shape[-2:], dtype=torch.float64)
    position = (0, 0)
    for chunk in images.split(batch_size):
        leaf = chunk.to(device=parameter.device, dtype=parameter.dtype).requires_grad_(True)
        output = run_until(model, leaf, chosen.path)  # (n, C, h, w), with its graph
        position = (output.shape[-2] // 2, output.shape[-1] // 2)
        unit = output[:, :, position[0], position[1]].sum()  # every channel at the centre, every image
        (gradient,) = torch.autograd.grad(unit, leaf)  # (n, 3, H, W); images do not interact in eval mode
        total += gradient.abs().sum(dim=(0, 1)).to("cpu", torch.float64)
    peak = float(total.max())
    scaled = (total / peak if peak > 0 else total).to(torch.float32)
    return EffectiveField(chosen.path, chosen.paper_name, position, scaled,
                          theoretical_field(model, chosen.path, position), int(images.shape[0]))
