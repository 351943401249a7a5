"""Loading images: every accepted format and mode comes out RGB; every bad file is refused in words.

The bad files are made here, byte by byte where Pillow would not write them (a PNG header that
claims 30000x30000 pixels, a PNG signature followed by garbage).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

import vgg
from tests.corpus import (
    RED,
    animated_gif,
    cmyk_jpeg,
    encode,
    exif_rotated_jpeg,
    palette_with_transparency,
    photo,
    png_header_claiming,
)
from vgg.vision.images import DEFAULT_MAX_PIXELS, to_rgb

WHITE = (255, 255, 255)


def assert_rgb(image: Image.Image, size: tuple[int, int] | None = None) -> None:
    assert image.mode == "RGB"
    assert np.asarray(image).shape[-1] == 3
    if size is not None:
        assert image.size == size


# --- accepted ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"])
def test_each_supported_format_loads_as_rgb(fmt):
    assert_rgb(vgg.load_image(encode(photo(), fmt)), (64, 48))


def test_sources_bytes_path_file_and_pil_image_agree(tmp_path: Path):
    data = encode(photo(), "PNG")
    path = tmp_path / "photo.png"
    path.write_bytes(data)
    loaded = [vgg.load_image(data), vgg.load_image(path), vgg.load_image(str(path)), vgg.load_image(io.BytesIO(data)),
              vgg.load_image(bytearray(data)), vgg.load_image(Image.open(io.BytesIO(data)))]
    reference = np.asarray(photo())
    assert all(np.array_equal(np.asarray(image), reference) for image in loaded)


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "LA", "PA", "CMYK", "YCbCr", "I", "I;16", "F", "HSV"])
def test_every_mode_converts_to_three_channels(mode):
    source = photo().convert(mode) if mode not in ("I", "I;16", "F", "PA") else _wide_or_pa(mode)
    assert_rgb(vgg.load_image(source), (64, 48))


def _wide_or_pa(mode: str) -> Image.Image:
    if mode == "PA":
        return photo().convert("P").convert("PA")
    dtype = {"I": np.int32, "I;16": np.uint16, "F": np.float32}[mode]
    image = Image.fromarray(np.arange(64 * 48, dtype=dtype).reshape(48, 64))
    assert image.mode == mode
    return image


def test_a_pil_image_passed_in_is_not_modified():
    source = photo().convert("RGBA")
    before = source.tobytes()
    loaded = vgg.load_image(source)
    assert source.mode == "RGBA" and source.tobytes() == before
    assert loaded is not source


def test_animated_gif_gives_its_first_frame():
    data = animated_gif()
    assert Image.open(io.BytesIO(data)).n_frames == 2
    image = vgg.load_image(data)
    assert_rgb(image, (40, 40))
    assert image.getpixel((20, 20)) == RED


def test_cmyk_jpeg_converts_to_rgb():
    data = cmyk_jpeg()  # pure red in CMYK
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    red, green, blue = vgg.load_image(data).getpixel((20, 20))
    assert red > 200 and green < 60 and blue < 60


def test_sixteen_bit_png_scales_65535_to_255():
    values = np.linspace(0, 65535, 64 * 48).astype(np.uint16).reshape(48, 64)
    data = encode(Image.fromarray(values), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    pixels = np.asarray(vgg.load_image(data))  # (48, 64, 3)
    expected = np.rint(values / 257.0).astype(np.uint8)
    assert np.array_equal(pixels[..., 0], expected) and np.array_equal(pixels[..., 2], expected)


def test_float_and_int_modes_are_scaled_sensibly():
    unit = Image.fromarray(np.full((40, 40), 0.5, dtype=np.float32))
    assert to_rgb(unit).getpixel((0, 0)) == (128, 128, 128)  # [0, 1] floats: x 255
    eight_bit = Image.fromarray(np.full((40, 40), 200, dtype=np.int32))
    assert to_rgb(eight_bit).getpixel((0, 0)) == (200, 200, 200)  # fits in 8 bits: as is
    stretched = Image.fromarray(np.array([[-5.0, 5.0]] * 40, dtype=np.float32).repeat(20, axis=1))
    assert to_rgb(stretched).getpixel((0, 0)) == (0, 0, 0) and to_rgb(stretched).getpixel((39, 0)) == WHITE


def test_palette_transparency_is_composited_on_white():
    loaded = vgg.load_image(palette_with_transparency())  # left half red, right half transparent black
    assert loaded.getpixel((5, 5)) == RED
    assert loaded.getpixel((35, 5)) == WHITE


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_composited_on_white(mode):
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste((0, 0, 0, 255), (0, 0, 20, 40))  # opaque black left, transparent right
    loaded = vgg.load_image(encode(image.convert(mode), "PNG"))
    assert loaded.getpixel((5, 5)) == (0, 0, 0)
    assert loaded.getpixel((35, 5)) == WHITE


def test_exif_orientation_is_applied():
    loaded = vgg.load_image(exif_rotated_jpeg())  # stored 60x40, red on the left; EXIF: rotate 90 clockwise
    assert loaded.size == (40, 60)
    top, bottom = np.asarray(loaded)[5, 20], np.asarray(loaded)[55, 20]
    assert top[0] > 200 and top[2] < 60  # the stored left edge is now at the top
    assert bottom[2] > 200 and bottom[0] < 60


def test_the_smallest_accepted_side_is_32():
    assert_rgb(vgg.load_image(encode(photo((32, 32)), "PNG")), (32, 32))


# --- refused ----------------------------------------------------------------------------------------

def refusal(source: object, **kwargs: object) -> str:
    with pytest.raises(vgg.ImageError) as caught:
        vgg.load_image(source, **kwargs)
    assert isinstance(caught.value, ValueError)
    return str(caught.value)


def test_empty_bytes_and_empty_file_are_refused(tmp_path: Path):
    assert "empty" in refusal(b"")
    empty = tmp_path / "empty.jpg"
    empty.touch()
    assert "empty" in refusal(empty) and "empty.jpg" in refusal(empty)


def test_text_is_refused_as_text(tmp_path: Path):
    notes = tmp_path / "notes.jpg"
    notes.write_text("This is not a picture.\nIt only has a picture's name.\n")
    message = refusal(notes)
    assert "text, not an image" in message and "JPEG, PNG" in message


def test_unknown_binary_is_refused_as_not_an_image():
    assert "not an image in a supported format" in refusal(bytes(range(256)) * 4)


def test_png_signature_followed_by_garbage_is_called_a_corrupt_png():
    message = refusal(b"\x89PNG\r\n\x1a\n" + bytes(range(200)))
    assert "PNG" in message and "corrupt" in message


def test_truncated_jpeg_is_refused():
    data = encode(photo((200, 150)), "JPEG", quality=90)
    assert "truncated or corrupt" in refusal(data[: len(data) // 2])


def test_truncated_png_is_refused():
    data = encode(photo((200, 150)), "PNG")
    assert "truncated or corrupt" in refusal(data[: len(data) * 2 // 3])


def test_truncation_is_not_turned_on_globally():
    test_truncated_jpeg_is_refused()
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_one_pixel_image_is_refused_as_too_small():
    message = refusal(encode(Image.new("RGB", (1, 1)), "PNG"))
    assert "1x1" in message and "32" in message


def test_a_thin_strip_is_refused():
    assert "too small" in refusal(encode(photo((400, 31)), "PNG"))


def test_header_claiming_30000_squared_pixels_is_refused_before_decoding():
    message = refusal(png_header_claiming(30_000, 30_000))
    assert "too large" in message and "Downscale" in message


def test_header_above_the_40_megapixel_limit_is_refused():
    message = refusal(png_header_claiming(8000, 6000))  # 48 MP: under Pillow's limits, over ours
    assert "8000x6000" in message and "40 MP" in message
    assert DEFAULT_MAX_PIXELS == 40_000_000


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_header_in_pillows_warning_band_is_refused():
    assert "too large" in refusal(png_header_claiming(10_000, 10_000))  # 100 MP: Pillow only warns


def test_pixel_limit_is_configurable():
    data = encode(photo((100, 100)), "PNG")
    assert "too large" in refusal(data, max_pixels=5_000)
    assert_rgb(vgg.load_image(data, max_pixels=10_000))


def test_missing_file_and_folder_are_refused(tmp_path: Path):
    assert "No file" in refusal(tmp_path / "nowhere.png")
    assert "folder" in refusal(tmp_path)


def test_a_format_outside_the_supported_list_is_refused():
    assert "not an image in a supported format" in refusal(encode(photo(), "TGA"))


JPEG_FOR_PREFIXES = encode(photo((120, 90)), "JPEG", quality=90)


def load_or_refuse(data: bytes) -> None:
    """The only acceptable outcomes for any bytes: an RGB image, or an ImageError (never another exception)."""
    try:
        image = vgg.load_image(data)
    except vgg.ImageError:
        return
    assert_rgb(image)


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(JPEG_FOR_PREFIXES)))
def test_any_prefix_of_a_jpeg_loads_or_is_refused_in_words(cut):
    load_or_refuse(JPEG_FOR_PREFIXES[:cut])


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=600))
def test_arbitrary_bytes_load_or_are_refused_in_words(data):
    load_or_refuse(data)


VALID_FILES = {fmt: encode(photo((48, 40)), fmt) for fmt in ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")}


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    """A valid file with some bytes overwritten (small offsets, the headers, are drawn most), then perhaps
    cut short or followed by junk."""
    data = bytearray(VALID_FILES[draw(st.sampled_from(sorted(VALID_FILES)))])
    for offset, value in draw(st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)),
                                       min_size=1, max_size=6)):
        data[offset] = value
    end = draw(st.integers(0, len(data)) | st.just(len(data)))
    return bytes(data[:end]) + draw(st.binary(max_size=64))


@settings(max_examples=150, deadline=None)
@given(data=mutated_files())
def test_mutated_valid_images_load_or_are_refused_in_words(data):
    load_or_refuse(data)


# --- bundled samples --------------------------------------------------------------------------------

def test_every_bundled_sample_loads_and_has_a_credit():
    samples = vgg.sample_images()
    assert set(samples) == {"astronaut", "cat", "coffee", "rocket"}
    credits = vgg.sample_credits()
    for name, path in samples.items():
        assert path.is_file() and credits[name]
        assert_rgb(vgg.load_sample(name))


def test_an_unknown_sample_is_refused_with_the_names():
    with pytest.raises(ValueError, match="astronaut, cat, coffee, rocket"):
        vgg.load_sample("dog")
