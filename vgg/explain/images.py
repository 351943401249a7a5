"""Pictures in and out of the explanations: test-scale resizing for dense evaluation, and heatmaps
coloured and laid over the image for people to look at."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from vgg.vision.preprocess import normalize, preprocess, resized_size

# Control points of a perceptually ordered map (dark blue -> teal -> yellow, like viridis), readable in
# greyscale and by the common colour-vision deficiencies; interpolated to 256 levels.
_STOPS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float64)
COLORMAP = np.stack([np.interp(np.linspace(0, len(_STOPS) - 1, 256), np.arange(len(_STOPS)), _STOPS[:, channel])
                     for channel in range(3)], axis=1).round().astype(np.uint8)  # (256, 3)


def resize_smallest_side(image: Image.Image, side: int) -> Image.Image:
    """The image with its smallest side at ``side``, the aspect ratio kept, nothing cropped."""
    rgb = image.convert("RGB")
    return rgb.resize(resized_size(rgb.size, side), Image.Resampling.BILINEAR)


def normalise_image(image: Image.Image) -> torch.Tensor:
    """An RGB image as the network's normalised (1, 3, H, W) input, at its own size."""
    return normalize(image.convert("RGB"))


def crop_input(image: Image.Image) -> torch.Tensor:
    """torchvision's evaluation input: resize 256, centre crop 224, normalise."""
    return preprocess(image, mode="crop", size=224)


def colorize(heatmap: torch.Tensor | np.ndarray) -> np.ndarray:
    """An (H, W) map in [0, 1] as an (H, W, 3) uint8 RGB image."""
    values = np.asarray(heatmap.detach().cpu() if isinstance(heatmap, torch.Tensor) else heatmap, dtype=np.float64)
    levels = np.clip(np.nan_to_num(values) * 255.0, 0, 255).round().astype(np.uint8)
    return COLORMAP[levels]


def overlay(image: Image.Image, heatmap: torch.Tensor | np.ndarray, *, opacity: float = 0.5) -> Image.Image:
    """``heatmap`` (any resolution, values in [0, 1]) coloured and blended over ``image`` at its size."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity is a fraction in [0, 1], got {opacity}.")
    rgb = image.convert("RGB")
    coloured = Image.fromarray(colorize(heatmap), "RGB").resize(rgb.size, Image.Resampling.BILINEAR)
    return Image.blend(rgb, coloured, opacity)
