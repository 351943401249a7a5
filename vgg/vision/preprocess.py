"""From an RGB image to the network's input, each step kept for display, and back.

"crop" mode is torchvision's ``ImageClassification`` preset for the published VGG weights, on a
PIL image: resize the short side to 256 with PIL's bilinear filter (antialiased: its support
widens with the scale factor), centre-crop 224, scale to [0, 1], normalise with ImageNet's mean and
std. It calls the same Pillow resize with the same sizes and crop offsets as torchvision, so the
tensors are equal, not just close. (torchvision's tensor path, ``interpolate(antialias=True)`` in
float, differs from it by at most one 8-bit level, 0.0175 after normalisation.)

"whole" mode squashes the whole image to ``size x size``, or to ``(height, width)`` when ``size`` is a
pair (the aspect ratio is not kept), so nothing is cropped away; the network takes any input from
32 px, and the classifier's adaptive pool copes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from PIL import Image

from vgg.arch.published import CROP_SIZE, IMAGENET_MEAN, IMAGENET_STD, MIN_INPUT_SIZE
from vgg.arch.transforms import center_crop_box, normalize, resize_short_side, resized_size
from vgg.errors import VGGError
from vgg.vision.images import to_rgb

Mode = Literal["crop", "whole"]
Size = int | tuple[int, int]  # one side, or (height, width) in "whole" mode
MODES: tuple[Mode, ...] = ("crop", "whole")
MAX_SIZE = 2048  # a 2048 px input already needs GBs of activations in VGG; beyond it is a typo

_MEAN = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
_STD = torch.tensor(IMAGENET_STD).view(3, 1, 1)


@dataclass(frozen=True)
class PreprocessSteps:
    """What each step produced. In "whole" mode nothing is cropped: ``cropped`` is ``resized``."""

    original: Image.Image  # RGB, as loaded
    resized: Image.Image
    cropped: Image.Image  # what the network sees, before normalisation
    tensor: torch.Tensor  # (1, 3, height, width), float32, normalised
    mode: Mode
    size: Size
    crop_box: tuple[int, int, int, int]  # (left, top, right, bottom) of ``cropped`` inside ``resized``


def preprocess(image: Image.Image, *, mode: Mode = "crop", size: Size = CROP_SIZE) -> torch.Tensor:
    """The normalised ``(1, 3, height, width)`` input for ``image``; see the module docstring for the modes."""
    return preprocess_steps(image, mode=mode, size=size).tensor


def preprocess_steps(image: Image.Image, *, mode: Mode = "crop", size: Size = CROP_SIZE) -> PreprocessSteps:
    """Every intermediate image of :func:`preprocess`, for display."""
    height, width = _check_arguments(mode, size)
    rgb = image if image.mode == "RGB" else to_rgb(image)
    if mode == "crop":
        resized = rgb.resize(resized_size(rgb.size, resize_short_side(height)), Image.Resampling.BILINEAR)
        box = center_crop_box(resized.size, height)
        cropped = resized.crop(box)
    else:
        resized = rgb.resize((width, height), Image.Resampling.BILINEAR)
        box, cropped = (0, 0, width, height), resized
    return PreprocessSteps(rgb, resized, cropped, normalize(cropped), mode, size, box)


def _check_arguments(mode: str, size: Size) -> tuple[int, int]:
    """The (height, width) asked for, or a VGGError saying what is wrong with the arguments."""
    if mode not in MODES:
        raise VGGError(f"Unknown preprocessing mode {mode!r}: use 'crop' (torchvision's, for the published "
                         "weights) or 'whole' (the whole image, squashed to a square).")
    height, width = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    for side in (height, width):
        if not MIN_INPUT_SIZE <= side <= MAX_SIZE:
            raise VGGError(f"Input size {side} is out of range: VGG needs {MIN_INPUT_SIZE} to {MAX_SIZE} px.")
    if mode == "crop" and height != width:
        raise VGGError(f"A centre crop is square: got {height} x {width}. Give one side, or use mode 'whole' "
                       "to squash the image to that height and width.")
    return height, width


def to_display_image(tensor: torch.Tensor) -> Image.Image:
    """A normalised ``(1, 3, H, W)`` or ``(3, H, W)`` tensor back to a viewable RGB image (clamped)."""
    if tensor.dim() == 4 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tensor.dim() != 3 or tensor.shape[0] != 3:
        raise VGGError(f"Expected a (3, H, W) or (1, 3, H, W) image tensor, got shape {tuple(tensor.shape)}.")
    pixels = tensor.detach().to("cpu", torch.float32) * _STD + _MEAN  # (3, H, W) in [0, 1], give or take
    array = pixels.clamp_(0.0, 1.0).mul_(255.0).round_().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(np.ascontiguousarray(array), "RGB")
