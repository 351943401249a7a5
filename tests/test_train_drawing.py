"""vgg.train.drawing: a digit drawn on a canvas becomes the digits dataset's 8x8 scan (the ink's box scaled
to fill a 32x32 bitmap's height, centred, 4x4 blocks counted) and then the network's input exactly as the
dataset's images are made; where, how large and in which polarity it is drawn does not matter, and an
empty or malformed drawing is refused with a message that says what to do."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits

from vgg.train import DatasetError, digit_from_drawing, digits_dataset, scans_to_images
from vgg.train.drawing import SCAN_INK


def bitmap_digit(seed: int = 0) -> np.ndarray:
    """A 32x32 black-and-white 'optdigits' bitmap whose ink fills the height and 24 centred columns
    (columns 4..27), as the digits' scans are framed: random ink, at both ends of the box too."""
    rng = np.random.default_rng(seed)
    bitmap = np.zeros((32, 32), dtype=bool)
    bitmap[:, 4:28] = rng.random((32, 24)) < 0.5  # 37% of the bitmap: as inked as a scan, so not thickened
    bitmap[0, 4] = bitmap[31, 27] = True
    return bitmap


def on_canvas(bitmap: np.ndarray, *, zoom: int, at: tuple[int, int], size: tuple[int, int] = (600, 560),
              light_on_dark: bool = True) -> Image.Image:
    """The bitmap drawn at ``zoom`` px per pixel, its corner at ``at`` (x, y), on a larger canvas."""
    ink = np.kron(bitmap, np.ones((zoom, zoom), dtype=bool))
    canvas = np.zeros((size[1], size[0]), dtype=bool)
    canvas[at[1]: at[1] + ink.shape[0], at[0]: at[0] + ink.shape[1]] = ink
    return Image.fromarray(np.where(canvas == light_on_dark, 255, 0).astype(np.uint8))


def expected_scan(bitmap: np.ndarray) -> np.ndarray:
    return bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3)).astype(np.float32) / 16


def test_a_drawn_bitmap_gives_the_scan_optdigits_would_count() -> None:
    bitmap = bitmap_digit()
    drawn = digit_from_drawing(on_canvas(bitmap, zoom=8, at=(37, 11)))
    assert drawn.scan.shape == (8, 8) and drawn.scan.dtype == np.float32
    np.testing.assert_array_equal(drawn.scan, expected_scan(bitmap))
    assert set(np.unique(drawn.scan * 16)) <= set(range(17))  # counts 0..16, as in load_digits
    assert torch.equal(drawn.pixels, scans_to_images(torch.from_numpy(expected_scan(bitmap))[None], 32)[0])


def test_the_drawing_reaches_the_network_as_the_dataset_images_do() -> None:
    """scans_to_images is the dataset's own path: an sklearn scan through it is the dataset's tensor."""
    data = digits_dataset()
    scans = torch.from_numpy(load_digits().images.astype(np.float32) / 16)
    every = scans_to_images(scans, 32)
    for image in (data.train.images[0], data.train.images[-1], data.test.images[0], data.test.images[-1]):
        assert any(torch.equal(image, every[index]) for index in range(len(every)))
    assert digit_from_drawing(on_canvas(bitmap_digit(), zoom=8, at=(0, 0)), input_size=64).pixels.shape == (3, 64, 64)


@pytest.mark.parametrize("variant", ["elsewhere and twice as large", "dark ink on light paper", "see-through canvas"])
def test_place_size_and_polarity_do_not_matter(variant: str) -> None:
    bitmap = bitmap_digit(1)
    if variant == "elsewhere and twice as large":
        drawing = on_canvas(bitmap, zoom=16, at=(80, 30))
    elif variant == "dark ink on light paper":
        drawing = on_canvas(bitmap, zoom=8, at=(200, 140), light_on_dark=False)
    else:  # a canvas with no background: the strokes are the opaque pixels, whatever their colour
        alpha = np.asarray(on_canvas(bitmap, zoom=8, at=(5, 250)))
        drawing = Image.fromarray(np.dstack([np.full_like(alpha, 255)] * 3 + [alpha]), mode="RGBA")
    np.testing.assert_array_equal(digit_from_drawing(drawing).scan, expected_scan(bitmap))


def test_a_thin_stroke_is_framed_and_thickened_as_the_scans_are() -> None:
    """A '1' drawn small and thin near a corner is framed as the dataset frames its 1s: full height, in the
    middle, and as much ink as a scan has (a bar two to three cells wide, not a faint line)."""
    canvas = np.zeros((256, 256, 4), dtype=np.uint8)
    canvas[..., 3] = 255
    canvas[10:70, 200:203, :3] = 255  # 60 px tall, 3 px wide, top right
    scan = digit_from_drawing(canvas).scan
    assert (scan.sum(axis=1) > 0).all()  # every row has ink
    assert SCAN_INK <= scan.mean() <= SCAN_INK + 0.05
    np.testing.assert_array_equal(scan, scan[:, ::-1])  # a centred vertical bar: symmetric
    assert (scan[:, 3:5] == 1).all() and scan[:, :2].sum() == scan[:, 6:].sum() == 0


def test_the_scans_ink_is_what_the_drawing_is_thickened_to() -> None:
    """SCAN_INK is the data's: every digit's scans are about 30% ink (their strokes were never thin)."""
    bunch = load_digits()
    ink = bunch.images.sum(axis=(1, 2)) / 1024  # counts of ink pixels over the 32x32 bitmap
    for digit in range(10):
        assert abs(float(ink[bunch.target == digit].mean()) - SCAN_INK) < 0.025, digit


def test_empty_and_malformed_drawings_are_refused_with_a_reason() -> None:
    with pytest.raises(DatasetError, match="empty: draw a digit"):
        digit_from_drawing(np.zeros((256, 256, 4), dtype=np.uint8) + np.array([0, 0, 0, 255], dtype=np.uint8))
    with pytest.raises(DatasetError, match="uint8"):
        digit_from_drawing(np.zeros((64, 64), dtype=np.float32))
    with pytest.raises(DatasetError, match=r"\(H, W, 4\) RGBA array; got shape \(4, 64, 64, 3\)"):
        digit_from_drawing(np.zeros((4, 64, 64, 3), dtype=np.uint8))
    with pytest.raises(DatasetError, match="4096 px a side"):
        digit_from_drawing(Image.new("L", (5000, 10)))
    with pytest.raises(DatasetError, match="not str"):
        digit_from_drawing("digit.png")  # type: ignore[arg-type]
    with pytest.raises(DatasetError, match=r"Scans are \(N, 8, 8\)"):
        scans_to_images(torch.zeros(1, 32, 32), 32)
