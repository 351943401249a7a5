"""Pictures in and out of the explanations: test-scale resizing for dense evaluation, and heatmaps
coloured and laid over the image for people to look at, and the pointing game's box and peak drawn on
them."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

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


def enlarged(pixels: torch.Tensor, side: int = 192) -> Image.Image:
    """(3, S, S) in [0, 1] -> a PIL image scaled up with hard pixel edges, to show what the network sees."""
    array = (pixels.detach().cpu().permute(1, 2, 0).clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    return Image.fromarray(array).resize((side, side), Image.Resampling.NEAREST)


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


def mark_box_and_peak(image: Image.Image, source_size: tuple[int, int], peak: tuple[int, int],
                      box: tuple[float, float, float, float] | None = None) -> Image.Image:
    """A copy of ``image`` (a picture of an input of ``source_size`` = (width, height) pixels, at any
    display size) with the map's ``peak`` (row, column in input pixels) as a cross and, where known, the
    object's ``box`` (x0, y0, x1, y1 input pixels, x1 and y1 exclusive) as a rectangle: white edges on
    black, so they show on any heatmap colour."""
    marked = image.convert("RGB")  # a copy: convert always returns a new image
    draw = ImageDraw.Draw(marked)
    scale_x, scale_y = marked.width / source_size[0], marked.height / source_size[1]
    line = max(1, round(min(marked.size) / 128))
    if box is not None:
        x0, y0, x1, y1 = box
        rectangle = (x0 * scale_x, y0 * scale_y, x1 * scale_x - 1, y1 * scale_y - 1)
        draw.rectangle(rectangle, outline=(0, 0, 0), width=line + 2)
        draw.rectangle(rectangle, outline=(255, 255, 255), width=line)
    row, column = peak
    centre_x, centre_y = (column + 0.5) * scale_x, (row + 0.5) * scale_y
    arm = max(4 * line, min(marked.size) / 20)
    for colour, width in (((0, 0, 0), line + 2), ((255, 255, 255), line)):
        draw.line((centre_x - arm, centre_y, centre_x + arm, centre_y), fill=colour, width=width)
        draw.line((centre_x, centre_y - arm, centre_x, centre_y + arm), fill=colour, width=width)
    return marked


def peak_of(heatmap: torch.Tensor) -> tuple[int, int]:
    """(row, column) of the map's largest value; where that value is a plateau, its middle (the maximal pixel
    nearest the plateau's centroid).

    Why the middle: a map upsampled bilinearly from a coarse grid (Grad-CAM at conv5_3 is 4 x 4 at 64 px)
    is exactly flat from a border cell's centre to the image's edge, because the interpolation clamps
    there. The first maximum in reading order then lies on the top or left edge of the image, half a cell
    from where the cell's evidence is, and a pointing game scored it a miss for any object not touching
    that edge (measured: docs/explain.md)."""
    if heatmap.dim() != 2 or heatmap.numel() == 0:
        raise ValueError(f"peak_of takes a non-empty (H, W) map, got shape {tuple(heatmap.shape)}.")
    ties = (heatmap == heatmap.max()).nonzero()  # (K, 2) rows and columns of every maximal pixel
    if len(ties) > 1:
        centre = ties.float().mean(dim=0)
        ties = ties[((ties.float() - centre) ** 2).sum(dim=1).argmin()][None]
    row, column = ties[0].tolist()
    return int(row), int(column)


def has_peak(heatmap: torch.Tensor) -> bool:
    """Whether the map points anywhere: a flat map (every pixel equal, e.g. a Grad-CAM its ReLU zeroed) has no
    peak, and its plateau's middle, the image's centre, must not count as pointing at an object there."""
    return bool(heatmap.max() > heatmap.min())


def inside(peak: tuple[int, int], box: tuple[float, float, float, float], tolerance: int = 0) -> bool:
    """Whether a (row, column) peak lies in the (x0, y0, x1, y1) box, x1 and y1 exclusive, give or take
    ``tolerance`` pixels: the pointing game's hit."""
    row, column = peak
    x0, y0, x1, y1 = box
    return x0 - tolerance <= column < x1 + tolerance and y0 - tolerance <= row < y1 + tolerance
