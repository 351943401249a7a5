"""Dense evaluation, the paper's test-time method (Sec. 3.2): the fully connected layers become
convolutions, so the network scores every position of an image of any size in one pass.

fc6 reads a C x P x P block of the last feature map (P = the avgpool's size, 7 in A..E), so its
(4096, C * P * P) weight *is* a (4096, C, P, P) convolution kernel: the same numbers, viewed in a
new shape (``Tensor.view``, no copy), because ``torch.flatten`` of (C, P, P) orders them exactly so.
fc7 and fc8 become 1 x 1 convolutions. Each is computed as a convolution is defined: every kernel-sized
window of the map (``F.unfold``) times the layer's own weight matrix, read as it is. ``F.conv2d`` with
the viewed kernel gives the same numbers, but oneDNN then reorders fc6's 411 MB weight into its blocked
layout on every call: 0.55 s against 0.09 s for fc6 at 384 px on a 2-core EPYC.

At 224 x 224 the last map is 7 x 7, the 7 x 7 kernel fits once, and the scores equal the ordinary
logits; at 384 x 384 the map is 12 x 12 and the scores form a 6 x 6 grid, one class-score vector per
position.

The paper then averages the score map over positions, takes soft-max class posteriors, and
averages them over horizontal flips and several test scales (the image's smallest side Q,
uncropped). ``multiscale_scores`` does that, beside the answer torchvision's VGG gives for the
same image with its adaptive average pool instead. ``multiscale_pixel_scores`` does the same for a
network trained here on small square images (a mini VGG, whose avgpool keeps 1 x 1, so fc6 becomes
a 1 x 1 convolution too): the pixels resized to each test size and normalised as in its training,
beside the ordinary forward at the size it was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from vgg.explain.images import crop_input, normalise_image, resize_smallest_side
from vgg.explain.layers import ExplainError, batch_input, check_eval, named_layers, run

PAPER_SCALES = (256, 384, 512)  # the paper's Q for models trained with scale jittering S in [256, 512]


def dense_scores(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Class scores at every position: (N, classes, h, w) for a normalised (N, 3, H, W) batch, float32 on
    the CPU. ``h = H / 2**pools - P + 1`` (1 at 224, 6 at 384 for A..E); see the module docstring."""
    check_eval(model)
    x = batch_input(model, x)
    layers = named_layers(model)
    with torch.inference_mode():
        for layer in layers:
            if layer.path.startswith("features."):
                x = torch.relu(x) if layer.kind == "relu" else layer.module(x)
        pooled = _pooled_size(model, x)
        first = True
        for layer in layers:
            if not layer.path.startswith("classifier."):
                continue
            if layer.kind == "fc":
                x = fc_as_convolution(layer.module, x, pooled if first else (1, 1))  # (N, out, h, w)
                first = False
            elif layer.kind == "relu":
                x = torch.relu(x)
            elif layer.kind != "dropout":
                raise ExplainError(f"Dense evaluation does not know {layer.label} ({type(layer.module).__name__}) "
                                   "in the classifier.")
        return x.to("cpu", torch.float32)


def fc_as_convolution(fc: nn.Linear, x: torch.Tensor, kernel: tuple[int, int]) -> torch.Tensor:
    """``fc`` slid over the (N, C, h, w) map as a ``kernel``-sized convolution: (N, out, h - kh + 1, w - kw + 1).

    The same as ``F.conv2d(x, fc.weight.view(out, C, kh, kw), fc.bias)``: ``F.unfold`` lists each window's
    values in (C, kh, kw) order, the order ``torch.flatten`` gave fc's inputs, so one matrix product with
    fc's weight, unchanged, scores every window.
    """
    batch, _, height, width = x.shape
    windows = F.unfold(x, kernel)  # (N, C * kh * kw, positions)
    scores = torch.matmul(fc.weight, windows)  # (N, out, positions)
    if fc.bias is not None:
        scores = scores + fc.bias[:, None]
    return scores.view(batch, fc.out_features, height - kernel[0] + 1, width - kernel[1] + 1)


def _pooled_size(model: nn.Module, features: torch.Tensor) -> tuple[int, int]:
    """fc6's window: the avgpool's output size, checked against fc6's inputs and the map it will slide on."""
    size = model.avgpool.output_size
    pooled = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    fc6 = next(layer.module for layer in named_layers(model) if layer.kind == "fc")
    channels, height, width = features.shape[1:]
    if fc6.in_features != channels * pooled[0] * pooled[1]:
        raise ExplainError(f"fc6 reads {fc6.in_features} values, not the {channels} x {pooled[0]} x {pooled[1]} "
                           "block of the last feature map: it cannot become a convolution.")
    if height < pooled[0] or width < pooled[1]:
        scale = 2 ** sum(1 for layer in named_layers(model) if layer.kind == "pool")
        raise ExplainError(f"Dense evaluation slides fc6's {pooled[0]} x {pooled[1]} window over the last feature "
                           f"map, here {height} x {width}: give an input of at least {pooled[0] * scale} x "
                           f"{pooled[1] * scale} px.")
    return pooled


@dataclass(frozen=True)
class ScaleScores:
    """Dense evaluation at one test scale Q (the image's smallest side)."""

    scale: int
    input_size: tuple[int, int]  # (H, W) of the network's input
    scores: torch.Tensor  # (classes, h, w) for the unflipped image
    posterior: torch.Tensor  # (classes,): soft-max of the position-averaged scores, averaged with the flip's
    adaptive_posterior: torch.Tensor  # (classes,): the ordinary forward (adaptive average pool) on the same input

    @property
    def grid(self) -> tuple[int, int]:
        return int(self.scores.shape[-2]), int(self.scores.shape[-1])

    @property
    def votes(self) -> torch.Tensor:
        """(h, w): the class each position scores highest."""
        return self.scores.argmax(dim=0)

    @property
    def top_class(self) -> int:
        return int(self.posterior.argmax())


@dataclass(frozen=True)
class MultiScale:
    """The paper's multi-scale dense test, and torchvision's single-crop answer beside it."""

    scales: tuple[ScaleScores, ...]
    posterior: torch.Tensor  # (classes,): averaged over scales (and flips)
    # (classes,): the single-view reference: torchvision's evaluation (resize 256, centre crop 224, forward) for
    # multiscale_scores, the ordinary forward on the pixels as given for multiscale_pixel_scores
    crop_posterior: torch.Tensor
    flips: bool

    @property
    def top_class(self) -> int:
        return int(self.posterior.argmax())


def multiscale_scores(model: nn.Module, image: Image.Image, *, scales: Sequence[int] = PAPER_SCALES,
                      flips: bool = True) -> MultiScale:
    """Dense evaluation of ``image`` at each scale in ``scales`` (its smallest side resized to Q, not
    cropped), with horizontal flips, posteriors averaged as in the paper."""
    _check_scales(scales)
    results = tuple(_one_scale(model, normalise_image(resize_smallest_side(image, int(scale))), int(scale), flips)
                    for scale in scales)
    posterior = torch.stack([result.posterior for result in results]).mean(dim=0)
    with torch.inference_mode():
        crop_posterior = torch.softmax(_forward(model, crop_input(image))[0], dim=0)
    return MultiScale(results, posterior, crop_posterior, flips)


def multiscale_pixel_scores(model: nn.Module, pixels: torch.Tensor, *, sizes: Sequence[int],
                            mean: Sequence[float], std: Sequence[float], flips: bool = False) -> MultiScale:
    """Dense evaluation of a square image given as (3, S, S) pixels in [0, 1] (a mini network's input),
    resized (bilinear) to Q x Q for each Q in ``sizes`` and normalised with the training ``mean`` and
    ``std``; posteriors averaged as in the paper. ``crop_posterior`` is the ordinary forward on the
    pixels as given: the network's answer at the size it was trained on."""
    _check_scales(sizes)
    if pixels.dim() != 3 or pixels.shape[0] != 3 or pixels.shape[1] != pixels.shape[2]:
        raise ExplainError(f"Give the image as (3, S, S) pixels in [0, 1]; got shape {tuple(pixels.shape)}.")
    shape = (1, 3, 1, 1)
    mean_t = torch.as_tensor(mean, dtype=torch.float32).view(shape)
    std_t = torch.as_tensor(std, dtype=torch.float32).view(shape)
    image = pixels.detach().to("cpu", torch.float32).unsqueeze(0)  # (1, 3, S, S)

    def at(size: int) -> torch.Tensor:
        resized = image if size == image.shape[-1] else F.interpolate(
            image, size=(size, size), mode="bilinear", align_corners=False, antialias=size < image.shape[-1])
        return (resized - mean_t) / std_t

    results = tuple(_one_scale(model, at(int(size)), int(size), flips) for size in sizes)
    posterior = torch.stack([result.posterior for result in results]).mean(dim=0)
    with torch.inference_mode():
        own_posterior = torch.softmax(_forward(model, at(image.shape[-1]))[0], dim=0)
    return MultiScale(results, posterior, own_posterior, flips)


def _check_scales(scales: Sequence[int]) -> None:
    if not scales:
        raise ExplainError("Give at least one test scale (the paper's are 256, 384 and 512).")


def _one_scale(model: nn.Module, x: torch.Tensor, scale: int, flips: bool) -> ScaleScores:
    """Dense scores of the normalised (1, 3, H, W) input ``x`` (the image at test scale ``scale``)."""
    batch = torch.cat([x, x.flip(-1)]) if flips else x  # the flipped copy rides in the same pass
    scores = dense_scores(model, batch)  # (1 or 2, classes, h, w)
    posterior = torch.softmax(scores.mean(dim=(2, 3)), dim=1).mean(dim=0)  # (classes,)
    with torch.inference_mode():
        adaptive = torch.softmax(_forward(model, batch), dim=1).mean(dim=0)
    return ScaleScores(scale, tuple(x.shape[-2:]), scores[0], posterior, adaptive)


def _forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The ordinary forward pass (adaptive average pool, flatten, fc): logits, float32 on the CPU."""
    logits, _ = run(model, batch_input(model, x))
    return logits.to("cpu", torch.float32)
