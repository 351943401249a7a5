"""The preprocessing that travels with the published weights: torchvision's ``ImageClassification``
preset, on a PIL image, with the same Pillow resize, crop offsets and arithmetic (so the tensors are
equal, not just close).

Resize the short side to ``resize_size`` with PIL's bilinear filter (antialiased), centre-crop
``crop_size``, scale to [0, 1], normalise with ``mean`` and ``std``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from vgg.arch.published import CROP_SIZE, IMAGENET_MEAN, IMAGENET_STD, RESIZE_SIZE
from vgg.errors import ImageError, VGGError


class ImageClassification:
    """torchvision's ``transforms._presets.ImageClassification``: a PIL image -> a ``(3, crop, crop)`` tensor."""

    def __init__(self, *, crop_size: int, resize_size: int = RESIZE_SIZE,
                 mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD,
                 interpolation: str = "bilinear", antialias: bool = True) -> None:
        if interpolation != "bilinear" or not antialias:
            raise VGGError("Only torchvision's default, antialiased bilinear resizing is implemented.")
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def __call__(self, image: Image.Image) -> torch.Tensor:
        if not isinstance(image, Image.Image):
            raise ImageError(f"The weights' transforms take a PIL image; got {type(image).__name__}. "
                             "Load it with vgg.load_image(path).")
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        resized = rgb.resize(resized_size(rgb.size, self.resize_size[0]), Image.Resampling.BILINEAR)
        cropped = resized.crop(center_crop_box(resized.size, self.crop_size[0]))
        return normalize(cropped, self.mean, self.std)[0]  # (3, crop, crop)

    def __repr__(self) -> str:
        lines = [f"crop_size={self.crop_size}", f"resize_size={self.resize_size}", f"mean={self.mean}",
                 f"std={self.std}", "interpolation=InterpolationMode.BILINEAR"]
        return "ImageClassification(\n" + "".join(f"    {line}\n" for line in lines) + ")"

    def describe(self) -> str:
        return (f"The PIL image is resized to resize_size={self.resize_size} with bilinear interpolation, then "
                f"centre-cropped to crop_size={self.crop_size}; its values are rescaled to [0.0, 1.0] and "
                f"normalised with mean={self.mean} and std={self.std}.")


def resize_short_side(crop_size: int) -> int:
    """The resize before a centre crop: 256 for 224, as published; other crops keep that 8:7 ratio."""
    return round(crop_size * RESIZE_SIZE / CROP_SIZE)


def resized_size(size: tuple[int, int], short_side: int) -> tuple[int, int]:
    """(width, height) with the short side at ``short_side``: torchvision's rounding (the long side floors)."""
    width, height = size
    if width <= height:
        return short_side, int(short_side * height / width)
    return int(short_side * width / height), short_side


def center_crop_box(size: tuple[int, int], crop: int) -> tuple[int, int, int, int]:
    """torchvision's centre crop offsets: ``int(round(excess / 2))``, Python's round-half-to-even."""
    width, height = size
    left, top = round((width - crop) / 2), round((height - crop) / 2)
    return left, top, left + crop, top + crop


def normalize(image: Image.Image, mean: Sequence[float] = IMAGENET_MEAN,
              std: Sequence[float] = IMAGENET_STD) -> torch.Tensor:
    """uint8 RGB -> float in [0, 1] -> normalised ``(1, 3, H, W)``."""
    pixels = torch.from_numpy(np.asarray(image, dtype=np.uint8).copy())  # (H, W, 3)
    scaled = pixels.permute(2, 0, 1).to(torch.float32).div_(255.0)  # (3, H, W)
    mean_t = torch.as_tensor(mean, dtype=torch.float32).view(3, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32).view(3, 1, 1)
    return scaled.sub_(mean_t).div_(std_t).unsqueeze(0)
