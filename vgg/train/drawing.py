"""A digit drawn with a mouse (or photographed on paper), turned into what the digits dataset is made of.

scikit-learn's digits are the UCI "optdigits" scans: each digit was written on a form, scanned to a
32x32 black-and-white bitmap scaled so that the digit fills the box's height (every one of the 1,797
scans has ink in all eight rows; most are six cells wide, centred), and each 4x4 block of that bitmap
was replaced by its count of ink pixels, 0..16. An 8x8 scan is therefore a coarse, size-normalised
picture, not a thumbnail: a digit drawn small in a corner of a canvas must first be cut out and scaled
to fill the height, or the network sees a shape it was never shown. This module makes that scan from a
drawing, step by step (its strokes first thickened to the scans' ink), and then hands it to the
dataset's own upsampling (``scans_to_images``), so a drawing reaches the network exactly as a test
image does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageFilter

from vgg.train.datasets import BITMAP_SIDE, SCAN_LEVELS, SCAN_SIDE, scans_to_images
from vgg.train.errors import DatasetError

INK_THRESHOLD = 0.5  # a bitmap pixel is ink when at least half of the area it covers is inked
# The scans' strokes are thick, and alike for every digit: 30% of a scan's 32x32 bitmap is ink on average
# (each class 0.30 to 0.32, spread 0.03 to 0.04; tests/test_train_drawing.py measures it). A stroke drawn
# with a mouse is thinner; left thin, a drawn 1 is a faint line no scan ever showed the network.
SCAN_INK = 0.30
FINE_SIDE = 4 * BITMAP_SIDE  # the strokes are thickened at this resolution: a quarter of a bitmap pixel a step
MAX_THICKENING = 4 * 8  # at most 8 bitmap pixels on each side: a dot stays a blob, not the whole square
MAX_DRAWING_SIDE = 4096  # a canvas or a phone photo; a larger array is not a drawing


@dataclass(frozen=True, eq=False)
class DrawnDigit:
    """A drawing as the digits dataset sees it.

    scan:   (8, 8) float32 in [0, 1], multiples of 1/16: the dataset's ``images / 16``.
    pixels: (3, S, S) float32 in [0, 1] at the network's input size, not normalised (a
            ``TrainedModel.prepare_images`` normalises it with the dataset's mean and std).
    """

    scan: np.ndarray
    pixels: torch.Tensor


def digit_from_drawing(drawing: Image.Image | np.ndarray, *, input_size: int = 32) -> DrawnDigit:
    """A drawn digit (light on dark, dark on light, or ink in the alpha channel) -> the dataset's 8x8 scan
    and the network's (3, S, S) input; ``DatasetError`` if there is no digit to see."""
    scan = scan_from_ink(ink_map(drawing))  # (8, 8)
    return DrawnDigit(scan, scans_to_images(torch.from_numpy(scan)[None], input_size)[0])


def ink_map(drawing: Image.Image | np.ndarray) -> np.ndarray:
    """(H, W) float32 in [0, 1] where 1 is ink. On a see-through canvas the ink is whatever is opaque;
    otherwise paper is whichever of light and dark covers most of the border (a canvas's background,
    a sheet of paper), so light-on-dark and dark-on-light drawings read the same."""
    image = _as_image(drawing)
    if "A" in image.getbands() or "transparency" in image.info:
        alpha = np.asarray(image.convert("RGBA").getchannel("A"), dtype=np.float32) / 255.0
        if float(alpha.min()) < 1.0:
            return alpha
    grey = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return 1.0 - grey if float(np.median(border)) >= 0.5 else grey


def scan_from_ink(ink: np.ndarray) -> np.ndarray:
    """(H, W) ink in [0, 1] -> (8, 8) as optdigits made its scans: the strokes thickened to the scans' ink
    (``SCAN_INK``), their bounding box scaled to fill the 32 px height (or width, for a mark wider than
    tall) keeping its proportions, centred in a 32x32 black-and-white bitmap, each 4x4 block counted
    (0..16) and divided by 16."""
    inked = ink >= INK_THRESHOLD
    if not inked.any():
        raise DatasetError("The drawing is empty: draw a digit with the mouse (a light stroke on the dark canvas, "
                           "or dark ink on light paper in an upload), large enough to see.")
    strokes = _framed(_cropped(ink, inked), FINE_SIDE)  # at 4x the bitmap's resolution: thickened in fine steps
    bitmap = _framed(_cropped(strokes, strokes), BITMAP_SIDE)
    for _ in range(MAX_THICKENING):  # a mouse draws thinner than the forms' pens: thicken to the scans' ink
        if bitmap.mean() >= SCAN_INK:
            break
        strokes = _thickened(strokes)
        bitmap = _framed(_cropped(strokes, strokes), BITMAP_SIDE)
    block = BITMAP_SIDE // SCAN_SIDE
    counts = bitmap.reshape(SCAN_SIDE, block, SCAN_SIDE, block).sum(axis=(1, 3))  # (8, 8) in 0..16
    return (counts / SCAN_LEVELS).astype(np.float32)


def _cropped(values: np.ndarray, inked: np.ndarray) -> np.ndarray:
    """``values`` cut to the bounding box of ``inked``."""
    rows, cols = np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0))
    return values[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]


def _framed(crop: np.ndarray, side: int) -> np.ndarray:
    """A cropped mark scaled so its longer side is ``side`` px, centred in a ``side`` x ``side`` bitmap; a
    pixel is ink when at least half of the area it covers is (BOX resampling averages that area)."""
    height, width = crop.shape
    scale = side / max(height, width)
    size = (max(1, min(side, round(width * scale))), max(1, min(side, round(height * scale))))
    resized = np.asarray(Image.fromarray(crop.astype(np.float32)).resize(size, Image.Resampling.BOX))
    bitmap = np.zeros((side, side), dtype=bool)
    top, left = (side - size[1]) // 2, (side - size[0]) // 2
    bitmap[top: top + size[1], left: left + size[0]] = resized >= INK_THRESHOLD
    return bitmap


def _thickened(strokes: np.ndarray) -> np.ndarray:
    """Every stroke one pixel wider on each side (a 3x3 maximum), on a canvas one pixel larger all round."""
    padded = Image.fromarray(np.pad(strokes, 1).astype(np.uint8) * 255)
    return np.asarray(padded.filter(ImageFilter.MaxFilter(3))) > 0


def _as_image(drawing: Image.Image | np.ndarray) -> Image.Image:
    if isinstance(drawing, Image.Image):
        image = drawing
    elif isinstance(drawing, np.ndarray):
        if drawing.ndim not in (2, 3) or (drawing.ndim == 3 and drawing.shape[2] not in (1, 3, 4)):
            raise DatasetError(f"A drawing is an (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA array; got shape "
                               f"{drawing.shape}.")
        if drawing.dtype != np.uint8:
            raise DatasetError(f"A drawing array holds 0..255 as uint8 (what a canvas returns); got {drawing.dtype}.")
        image = Image.fromarray(drawing[..., 0] if drawing.ndim == 3 and drawing.shape[2] == 1 else drawing)
    else:
        raise DatasetError(f"A drawing is a PIL image or a numpy array, not {type(drawing).__name__}.")
    if min(image.size) < 1 or max(image.size) > MAX_DRAWING_SIDE:
        raise DatasetError(f"A drawing is 1 to {MAX_DRAWING_SIDE} px a side; this one is {image.size[0]} x "
                           f"{image.size[1]}.")
    return image
