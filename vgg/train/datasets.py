"""Image datasets that ship offline, small enough to train a mini VGG on two CPU cores.

- ``digits``: scikit-learn's bundled handwritten digits (1,797 real 8x8 scans of 0..9, part of the
  scikit-learn wheel, so nothing is downloaded), split once into a fixed stratified train/test
  split, upsampled to the network's input size and repeated into three channels.
- ``shapes``: coloured shapes (circle, square, triangle, star, cross, ...) drawn at random
  positions, sizes and colours on textured backgrounds; each image records its object's bounding
  box, so an explanation method can be scored on whether it points inside the object.

Both are deterministic from their seed and cached in memory: the same arguments give the same
tensors, bit for bit, and the second call costs nothing. The dataset seed fixes the data and the
split only; a training run has a seed of its own, so runs with different training seeds are scored
on the same test images.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch.nn import functional as F

from vgg.train.errors import DatasetError

DIGITS, SHAPES = "digits", "shapes"
DATASETS = (DIGITS, SHAPES)
DEFAULT_INPUT_SIZE = {DIGITS: 32, SHAPES: 64}  # 32 = 2**5: VGG's five pools end at 1x1
# Dropout in fc6 and fc7 when a recipe does not say: the paper's 0.5 on the digits; none on the shapes, which
# must be told apart from coloured, textured backgrounds by a 512-wide classifier. Measured there (widths / 8,
# lr 0.01, 12 epochs): A reached 78.5% test accuracy with dropout 0.5 and 95.8% without (docs/training.md).
DEFAULT_DROPOUT = {DIGITS: 0.5, SHAPES: 0.0}
SHAPE_CLASSES = ("circle", "square", "triangle", "star", "cross", "ring", "diamond", "hexagon")
MIN_SIZE, MAX_SIZE = 32, 256
# The digits are UCI optdigits: 32x32 black-and-white bitmaps, each 4x4 block counted into one of 8x8
# cells (0..16 ink pixels). vgg.train.drawing makes the same scan from a drawing.
SCAN_SIDE, BITMAP_SIDE, SCAN_LEVELS = 8, 32, 16
_BUILDING = threading.RLock()  # below 32 px the five pools leave nothing; above 256 training is no longer seconds


@dataclass(frozen=True, eq=False)
class Split:
    """One part of a dataset, as tensors ready to batch.

    images: (N, 3, H, W) float32 in [0, 1], not normalised (``Dataset.normalize`` does that).
    labels: (N,) int64 class indices into ``Dataset.class_names``.
    boxes:  (N, 4) float32 ``(x0, y0, x1, y1)`` in pixels of the H x W image, the object's
            bounding box (x1, y1 exclusive); None where a dataset has no boxes (digits).
    """

    images: torch.Tensor
    labels: torch.Tensor
    boxes: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True, eq=False)
class Dataset:
    """A named dataset: its train and test splits, class names, input size and normalisation.

    ``mean`` and ``std`` are per-channel statistics of the training images; the network is trained
    on ``(image - mean) / std`` and a checkpoint records them, so a prediction normalises alike.
    """

    name: str
    class_names: tuple[str, ...]
    train: Split
    test: Split
    input_size: int
    seed: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] -> normalised with this dataset's training statistics."""
        return normalize(images, self.mean, self.std)

    def describe(self) -> dict[str, object]:
        """What a checkpoint records to rebuild this dataset exactly."""
        return {"name": self.name, "input_size": self.input_size, "seed": self.seed,
                "train_size": len(self.train), "test_size": len(self.test)}


def normalize(images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    shape = (1, -1, 1, 1)
    return (images - torch.tensor(mean).view(shape)) / torch.tensor(std).view(shape)


def dataset_key(name: str) -> str:
    """The dataset's own name (one of ``DATASETS``) for ``name`` in any case and spacing; DatasetError otherwise."""
    key = name.strip().lower()
    if key not in DATASETS:
        raise DatasetError(f"Unknown dataset {name!r}: use one of {', '.join(DATASETS)}.")
    return key


def load_dataset(name: str, *, input_size: int | None = None, seed: int = 0) -> Dataset:
    """``digits`` or ``shapes`` at ``input_size`` (default: 32 for digits, 64 for shapes)."""
    key = dataset_key(name)
    size = DEFAULT_INPUT_SIZE[key] if input_size is None else _check_size(input_size)
    with _BUILDING:  # one build at a time: two threads importing scikit-learn at once can see it half-imported
        return digits_dataset(input_size=size, seed=seed) if key == DIGITS else shapes_dataset(input_size=size,
                                                                                               seed=seed)


def _check_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise DatasetError(f"The input size must be a whole number of pixels from {MIN_SIZE} to {MAX_SIZE}, "
                           f"got {size!r}.")
    return size


@functools.cache
def digits_dataset(*, input_size: int = 32, seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """scikit-learn's 1,797 handwritten digits, a stratified split (1,437 train / 360 test at 0.2).

    The 8x8 scans (values 0..16) are scaled to [0, 1], then ``scans_to_images`` makes them
    ``input_size`` RGB images.
    """
    from sklearn.datasets import load_digits  # ships inside the scikit-learn wheel: no download
    from sklearn.model_selection import train_test_split

    _check_size(input_size)
    bunch = load_digits()
    images = torch.from_numpy(bunch.images.astype(np.float32) / SCAN_LEVELS)  # (1797, 8, 8) in [0, 1]
    labels = torch.from_numpy(bunch.target.astype(np.int64))
    train_index, test_index = train_test_split(np.arange(len(labels)), test_size=test_fraction,
                                               random_state=seed, stratify=bunch.target)
    upsampled = scans_to_images(images, input_size)  # (1797, 3, S, S)
    train = Split(upsampled[np.sort(train_index)].contiguous(), labels[np.sort(train_index)])
    test = Split(upsampled[np.sort(test_index)].contiguous(), labels[np.sort(test_index)])
    mean, std = _channel_stats(train.images)
    return Dataset(DIGITS, tuple(str(digit) for digit in range(10)), train, test, input_size, seed, mean, std)


def scans_to_images(scans: torch.Tensor, input_size: int) -> torch.Tensor:
    """(N, 8, 8) scans in [0, 1] -> (N, 3, S, S) as the digits dataset feeds them: upsampled bilinearly
    and repeated into three channels, because a VGG takes RGB. The dataset's images and a drawing
    (``vgg.train.drawing``) both pass through here, so they reach the network alike."""
    if scans.ndim != 3 or tuple(scans.shape[1:]) != (SCAN_SIDE, SCAN_SIDE):
        raise DatasetError(f"Scans are (N, {SCAN_SIDE}, {SCAN_SIDE}); got {tuple(scans.shape)}.")
    size = (_check_size(input_size),) * 2
    return F.interpolate(scans.float().unsqueeze(1), size=size, mode="bilinear",
                         align_corners=False).clamp_(0, 1).repeat(1, 3, 1, 1)


@functools.cache
def shapes_dataset(*, input_size: int = 64, seed: int = 0, train_per_class: int = 200,
                   test_per_class: int = 50) -> Dataset:
    """Generated RGB images of one coloured shape each on a textured background.

    Returns a ``Dataset`` whose splits carry ``boxes``: image ``i`` of a split shows one object of
    class ``labels[i]`` (a name in ``class_names``, see ``SHAPE_CLASSES``) inside the pixel box
    ``boxes[i] = (x0, y0, x1, y1)``. Classes are balanced; the order within a split is shuffled.
    Train and test images come from independent streams of the same seed, so they never repeat.
    """
    _check_size(input_size)
    if train_per_class < 1 or test_per_class < 1:
        raise DatasetError("Each split needs at least one image per class.")
    train = _shape_split(np.random.default_rng([seed, 0]), input_size, train_per_class)
    test = _shape_split(np.random.default_rng([seed, 1]), input_size, test_per_class)
    mean, std = _channel_stats(train.images)
    return Dataset(SHAPES, SHAPE_CLASSES, train, test, input_size, seed, mean, std)


def _channel_stats(images: torch.Tensor) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    mean = images.mean(dim=(0, 2, 3))
    std = images.std(dim=(0, 2, 3)).clamp_min(1e-3)
    return (tuple(round(float(v), 6) for v in mean), tuple(round(float(v), 6) for v in std))  # type: ignore[return-value]


def _shape_split(rng: np.random.Generator, size: int, per_class: int) -> Split:
    labels = np.repeat(np.arange(len(SHAPE_CLASSES)), per_class)
    rng.shuffle(labels)
    images = np.empty((len(labels), size, size, 3), dtype=np.uint8)
    boxes = np.empty((len(labels), 4), dtype=np.float32)
    for index, label in enumerate(labels):
        images[index], boxes[index] = _draw_shape(rng, size, SHAPE_CLASSES[label])
    tensor = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255).contiguous()  # (N, 3, S, S)
    return Split(tensor, torch.from_numpy(labels.astype(np.int64)), torch.from_numpy(boxes))


def _draw_shape(rng: np.random.Generator, size: int, shape: str) -> tuple[np.ndarray, tuple[float, ...]]:
    """One image: a texture, then the shape with its box (x0, y0, x1, y1) in pixels."""
    background = _texture(rng, size)
    colour = _contrasting_colour(rng, background.mean(axis=(0, 1)))
    side = rng.uniform(0.4, 0.8) * size  # the object's bounding square
    x0, y0 = rng.uniform(0, size - side, size=2)
    image = Image.fromarray(background)
    draw = ImageDraw.Draw(image)
    box = (float(x0), float(y0), float(x0 + side), float(y0 + side))
    _SHAPE_DRAWERS[shape](draw, box, tuple(int(c) for c in colour), rng)
    return np.asarray(image), _ink_box(np.asarray(image), background, box)


def _ink_box(image: np.ndarray, background: np.ndarray, box: tuple[float, ...]) -> tuple[float, ...]:
    """The tight box around the pixels the shape changed (a triangle fills less than its square)."""
    changed = np.any(image != background, axis=2)
    rows, cols = np.nonzero(changed)
    if rows.size == 0:
        return box
    return (float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1))


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random texture: stripes, checks or smooth noise between two nearby muted colours, plus grain
    (strong enough that colour and texture say nothing about the class, faint beside the object)."""
    a = rng.uniform(60, 190, size=3)
    b = np.clip(a + rng.normal(0, 30, size=3), 0, 255)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    kind = rng.integers(3)
    period = rng.uniform(4, 12)
    if kind == 0:  # stripes at a random angle
        angle = rng.uniform(0, math.pi)
        mix = 0.5 + 0.5 * np.sin((x * math.cos(angle) + y * math.sin(angle)) * 2 * math.pi / period)
    elif kind == 1:  # checks
        mix = ((x // period + y // period) % 2).astype(np.float32)
    else:  # smooth noise: a coarse random grid upsampled
        coarse = torch.from_numpy(rng.uniform(0, 1, size=(1, 1, 5, 5)).astype(np.float32))
        mix = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[0, 0].numpy()
    mix = np.clip(mix, 0, 1)[..., None]
    texture = a * (1 - mix) + b * mix + rng.normal(0, 6, size=(size, size, 3))
    return np.clip(texture, 0, 255).astype(np.uint8)


def _contrasting_colour(rng: np.random.Generator, background: np.ndarray) -> np.ndarray:
    """A saturated colour far from the background's mean, so the shape is always visible."""
    for _ in range(20):
        colour = rng.uniform(0, 255, size=3)
        colour[rng.integers(3)] = rng.choice([0.0, 255.0])  # one channel at an extreme: saturated
        if np.abs(colour - background).sum() > 180:
            return colour
    return np.where(background > 127, 0.0, 255.0)


def _polygon(box: tuple[float, ...], points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points given in the unit square -> pixels inside ``box``."""
    x0, y0, x1, y1 = box
    return [(x0 + px * (x1 - x0), y0 + py * (y1 - y0)) for px, py in points]


def _rotated(points: list[tuple[float, float]], angle: float) -> list[tuple[float, float]]:
    """Rotate unit-square points about the centre, shrunk so they stay inside the square."""
    cos, sin = math.cos(angle), math.sin(angle)
    scale = 1 / (abs(cos) + abs(sin))
    return [(0.5 + scale * ((x - 0.5) * cos - (y - 0.5) * sin), 0.5 + scale * ((x - 0.5) * sin + (y - 0.5) * cos))
            for x, y in points]


def _regular(count: int, radius: float = 0.5, phase: float = -math.pi / 2) -> list[tuple[float, float]]:
    return [(0.5 + radius * math.cos(phase + 2 * math.pi * k / count),
             0.5 + radius * math.sin(phase + 2 * math.pi * k / count)) for k in range(count)]


def _star_points() -> list[tuple[float, float]]:
    outer, inner = _regular(5), _regular(5, radius=0.2, phase=-math.pi / 2 + math.pi / 5)
    return [point for pair in zip(outer, inner, strict=True) for point in pair]


_CROSS = [(0.35, 0), (0.65, 0), (0.65, 0.35), (1, 0.35), (1, 0.65), (0.65, 0.65), (0.65, 1), (0.35, 1),
          (0.35, 0.65), (0, 0.65), (0, 0.35), (0.35, 0.35)]


def _circle(draw: ImageDraw.ImageDraw, box: tuple[float, ...], colour: tuple[int, ...],
            rng: np.random.Generator) -> None:
    draw.ellipse(box, fill=colour)


def _ring(draw: ImageDraw.ImageDraw, box: tuple[float, ...], colour: tuple[int, ...],
            rng: np.random.Generator) -> None:
    draw.ellipse(box, outline=colour, width=max(2, round((box[2] - box[0]) * 0.18)))


def _square(draw: ImageDraw.ImageDraw, box: tuple[float, ...], colour: tuple[int, ...],
            rng: np.random.Generator) -> None:
    draw.polygon(_polygon(box, _rotated([(0, 0), (1, 0), (1, 1), (0, 1)], rng.uniform(0, math.pi / 2))), fill=colour)


def _triangle(draw: ImageDraw.ImageDraw, box: tuple[float, ...], colour: tuple[int, ...],
              rng: np.random.Generator) -> None:
    draw.polygon(_polygon(box, _rotated(_regular(3), rng.uniform(0, 2 * math.pi))), fill=colour)


def _star(draw: ImageDraw.ImageDraw, box: tuple[float, ...], colour: tuple[int, ...],
            rng: np.random.Generator) -> None:
    draw.polygon(_polygon(box, _rotated(_star_points(), rng.uniform(0, 2 * math.pi))), fill=colour)


def _cross(draw: ImageDraw.ImageDraw, box: tuple[float, ...], colour: tuple[int, ...],
            rng: np.random.Generator) -> None:
    draw.polygon(_polygon(box, _rotated(_CROSS, rng.uniform(0, math.pi / 2))), fill=colour)


def _diamond(draw: ImageDraw.ImageDraw, box: tuple[float, ...], colour: tuple[int, ...],
             rng: np.random.Generator) -> None:
    draw.polygon(_polygon(box, [(0.5, 0), (0.8, 0.5), (0.5, 1), (0.2, 0.5)]), fill=colour)


def _hexagon(draw: ImageDraw.ImageDraw, box: tuple[float, ...], colour: tuple[int, ...],
             rng: np.random.Generator) -> None:
    draw.polygon(_polygon(box, _regular(6, phase=rng.uniform(0, math.pi / 3))), fill=colour)


_SHAPE_DRAWERS = {"circle": _circle, "square": _square, "triangle": _triangle, "star": _star, "cross": _cross,
                  "ring": _ring, "diamond": _diamond, "hexagon": _hexagon}
