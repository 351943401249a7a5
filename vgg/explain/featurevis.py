"""What a unit wants: the image that maximises one channel's mean activation, by the feature
visualisation recipe of Olah et al. (Distill, 2017) as Lucid and Lucent implement it, and the first
convolution's filters as a picture.

The recipe, and why each part is there:
- the image is parameterised in Fourier space, each frequency scaled by 1 / frequency, so that
  gradient steps change low frequencies as readily as high ones (plain pixels fill with
  high-frequency noise that excites the unit without looking like anything);
- colours are decorrelated: the three parameter channels map to RGB through the square root of
  ImageNet's colour covariance, then a sigmoid keeps pixels in [0, 1];
- every step sees the image padded, jittered, scaled and rotated at random, so that only patterns
  robust to small transformations survive.
Adam with learning rate 0.05, as Lucid's default. Only the image's parameters get gradients
(``torch.autograd.grad``): the shared model is read, never written.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vgg.arch.published import IMAGENET_MEAN, IMAGENET_STD
from vgg.explain.layers import ExplainError, check_eval, named_layers, resolve_layer, run_until

# Lucid's square root of ImageNet's colour correlation (from an SVD), normalised by its largest column norm.
_COLOR_SQRT = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=torch.float64)
COLOR_MATRIX = (_COLOR_SQRT / _COLOR_SQRT.norm(dim=0).max()).to(torch.float32)
_SPECTRUM_SCALE = 4.0  # Lucid's "magic" divisor of the inverse FFT's output
_SCALES = tuple(1 + (i - 5) / 50 for i in range(11))  # 0.90 ... 1.10
_ANGLES = tuple(range(-10, 11)) + (0,) * 5  # degrees; unrotated a little more often
_PAD, _JITTER, _FINE_JITTER = 12, 8, 4

Progress = Callable[[int, int], None]  # (steps done, steps in all)


@dataclass(frozen=True)
class ChannelVisualization:
    """The optimised image and how strongly the channel responds to it."""

    layer: str  # module path
    paper_name: str
    channel: int
    image: np.ndarray  # (size, size, 3) uint8 RGB
    activation: float  # the channel's mean activation on ``image`` (untransformed)
    history: tuple[float, ...]  # the mean activation seen at each step (on the transformed image)
    steps: int
    seed: int


def visualize_channel(model: nn.Module, layer: str, channel: int, *, steps: int = 256, size: int = 128,
                      seed: int = 0, learning_rate: float = 0.05, mean: Sequence[float] = IMAGENET_MEAN,
                      std: Sequence[float] = IMAGENET_STD, progress: Progress | None = None) -> ChannelVisualization:
    """Optimise an image to maximise the mean activation of ``channel`` at ``layer`` (module path or
    paper name, a layer of ``features``). The image in [0, 1] is normalised with ``mean`` and ``std``
    before the network sees it: ImageNet's, or those a network trained here was trained with.
    Deterministic for a given seed on a given machine."""
    check_eval(model)
    chosen = resolve_layer(model, layer)
    if not chosen.path.startswith("features."):
        raise ExplainError(f"{chosen.label} has no spatial map: visualise a layer of features (conv1_1 ... pool5).")
    channels = _channels_at(model, chosen.path)
    if not 0 <= channel < channels:
        raise ExplainError(f"{chosen.label} has channels 0..{channels - 1}; got {channel}.")
    if steps < 1 or size < 16:
        raise ExplainError(f"steps must be at least 1 and size at least 16 px; got {steps} and {size}.")
    parameter = next(model.parameters())
    device, dtype = parameter.device, parameter.dtype
    generator = torch.Generator().manual_seed(seed)
    draw = random.Random(seed)
    spectrum = (torch.randn(1, 3, size, size // 2 + 1, 2, generator=generator) * 0.01).to(device, dtype)
    spectrum.requires_grad_(True)
    scale = _frequency_scale(size, size).to(device, dtype)
    optimizer = torch.optim.Adam([spectrum], lr=learning_rate)
    shift = torch.tensor(tuple(mean), device=device, dtype=dtype).view(1, 3, 1, 1)
    spread = torch.tensor(tuple(std), device=device, dtype=dtype).view(1, 3, 1, 1)
    history = []
    for step in range(steps):
        image = _to_rgb(spectrum, scale, size)  # (1, 3, size, size) in [0, 1]
        seen = _transform(image, draw)
        activation = run_until(model, (seen - shift) / spread, chosen.path)[:, channel].mean()
        (gradient,) = torch.autograd.grad(-activation, spectrum)  # the model's parameters get nothing
        spectrum.grad = gradient
        optimizer.step()
        history.append(float(activation.detach()))
        if progress is not None:
            progress(step + 1, steps)
    with torch.inference_mode():
        image = _to_rgb(spectrum.detach(), scale, size)
        reached = float(run_until(model, (image - shift) / spread, chosen.path)[:, channel].mean())
    pixels = (image[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to("cpu", torch.uint8).numpy()
    return ChannelVisualization(chosen.path, chosen.paper_name, channel, pixels, reached, tuple(history), steps, seed)


def channel_activation(model: nn.Module, layer: str, channel: int, x: torch.Tensor) -> torch.Tensor:
    """The mean activation of ``channel`` at ``layer`` for each normalised image of ``x`` (N,), to
    compare a visualisation's ``activation`` with what natural images reach."""
    check_eval(model)
    chosen = resolve_layer(model, layer)
    parameter = next(model.parameters())
    with torch.inference_mode():
        output = run_until(model, x.to(parameter.device, parameter.dtype), chosen.path)
        return output[:, channel].mean(dim=(1, 2)).to("cpu", torch.float32)


def _channels_at(model: nn.Module, path: str) -> int:
    channels = 3
    for layer in named_layers(model):
        if layer.kind == "conv":
            channels = layer.module.out_channels
        if layer.path == path:
            return channels
    raise ExplainError(f"No layer {path!r} in this network.")


def _frequency_scale(height: int, width: int) -> torch.Tensor:
    """1 / frequency (floored at 1 / size) for every rfft2 coefficient: (height, width // 2 + 1, 1)."""
    rows = torch.fft.fftfreq(height)[:, None]
    columns = torch.fft.rfftfreq(width)[None, :]
    frequency = torch.sqrt(rows**2 + columns**2)
    return (1.0 / frequency.clamp(min=1.0 / max(height, width)))[..., None]


def _to_rgb(spectrum: torch.Tensor, scale: torch.Tensor, size: int) -> torch.Tensor:
    """Fourier parameters -> decorrelated colour -> sigmoid: a (1, 3, size, size) image in [0, 1]."""
    complex_spectrum = torch.view_as_complex((spectrum * scale).contiguous())
    image = torch.fft.irfft2(complex_spectrum, s=(size, size), norm="ortho") / _SPECTRUM_SCALE
    color = COLOR_MATRIX.to(image.device, image.dtype)
    image = torch.einsum("nchw,dc->ndhw", image, color)  # each pixel's 3 values through the colour matrix
    return torch.sigmoid(image)


def _transform(image: torch.Tensor, draw: random.Random) -> torch.Tensor:
    """Lucid's standard transforms: pad 12 (grey), jitter 8, scale 0.9-1.1, rotate -10..10 degrees, jitter 4."""
    image = F.pad(image, (_PAD,) * 4, value=0.5)
    image = _jitter(image, _JITTER, draw)
    factor = draw.choice(_SCALES)
    side = max(16, round(image.shape[-1] * factor))
    image = F.interpolate(image, size=(side, side), mode="bilinear", align_corners=False)
    image = _rotate(image, math.radians(draw.choice(_ANGLES)))
    return _jitter(image, _FINE_JITTER, draw)


def _jitter(image: torch.Tensor, amount: int, draw: random.Random) -> torch.Tensor:
    dy, dx = draw.randrange(amount), draw.randrange(amount)
    height, width = image.shape[-2:]
    return image[..., dy:height - amount + dy, dx:width - amount + dx]


def _rotate(image: torch.Tensor, angle: float) -> torch.Tensor:
    cos, sin = math.cos(angle), math.sin(angle)
    theta = torch.tensor([[cos, -sin, 0.0], [sin, cos, 0.0]], device=image.device, dtype=image.dtype)[None]
    grid = F.affine_grid(theta, list(image.shape), align_corners=False)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)


def first_conv_filters(model: nn.Module, *, zoom: int = 8, padding: int = 2) -> np.ndarray:
    """conv1_1's kernels as RGB tiles in a near-square grid, (rows, columns, 3) uint8: each kernel's
    weights shifted and scaled together (one range for all, so strong and weak filters compare), grey
    = 0, and each tile enlarged ``zoom`` times (nearest) so a 3 x 3 kernel is visible."""
    convs = [layer.module for layer in named_layers(model) if layer.kind == "conv"]
    if not convs or convs[0].in_channels != 3:
        raise ExplainError("The first convolution of this network does not read an RGB image.")
    weight = convs[0].weight.detach().to("cpu", torch.float32)  # (C, 3, k, k)
    limit = float(weight.abs().max()) or 1.0
    tiles = ((weight / limit) * 0.5 + 0.5).clamp(0, 1)  # (C, 3, k, k): 0 -> grey
    tiles = tiles.repeat_interleave(zoom, dim=2).repeat_interleave(zoom, dim=3)  # (C, 3, k * zoom, k * zoom)
    count, _, side, _ = tiles.shape
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    cell = side + padding
    grid = torch.ones(3, rows * cell - padding, columns * cell - padding)  # white between tiles
    for index in range(count):
        row, column = divmod(index, columns)
        grid[:, row * cell:row * cell + side, column * cell:column * cell + side] = tiles[index]
    return (grid.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
