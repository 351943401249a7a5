"""Loading a user's image: bytes, a path, a binary file or a PIL image in; one RGB PIL image out,
or an ImageError whose message says what was wrong and what to do about it.

Every refusal happens before the pixels are used: an empty file, something that is not an image,
a header announcing more pixels than ``max_pixels`` (checked before decoding, so a decompression
bomb never allocates), truncated or corrupt data (decoding is forced with ``load()``, and
Pillow's global ``LOAD_TRUNCATED_IMAGES`` is left off), and a side shorter than the network's
minimum. Accepted images are oriented by their EXIF tag and converted to RGB: transparency is
composited on white, 16-bit and 32-bit greyscale is scaled to 8 bits.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vgg.arch.published import MIN_INPUT_SIZE
from vgg.errors import ImageError, VGGError

ImageSource = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO | Image.Image

DEFAULT_MAX_PIXELS = 40_000_000  # 40 MP: a large phone photo is 12-50 MP; decoded RGB at 40 MP is 120 MB
# Pillow decoders allowed to run on untrusted bytes ("JPEG" also opens phones' multi-picture MPO files).
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")
SUPPORTED_NAMES = "JPEG, PNG, WebP, BMP, TIFF or GIF"
_HEAD_BYTES = 512  # enough to recognise a format's magic number or text
_MAGIC = (  # (prefix, format) to tell "a corrupt PNG" from "not an image at all"
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
    (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
)
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
_WIDE_MODES = _SIXTEEN_BIT_MODES | {"I", "F"}
_WHITE = (255, 255, 255, 255)


def load_image(source: ImageSource, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """An RGB image, fully decoded and upright, from bytes, a path, a binary file or a PIL image.

    Raises ImageError for an empty file, a file that is not a JPEG/PNG/WebP/BMP/TIFF/GIF image,
    truncated or corrupt data, more than ``max_pixels`` pixels, or a side under 32 px. Animated
    GIFs and multi-page TIFFs give their first frame. A PIL image passed in is never modified.
    Pillow's own hard limit (2 x ``Image.MAX_IMAGE_PIXELS``, 179 MP by default) still applies
    when ``max_pixels`` is set above it.
    """
    if max_pixels < 1:
        raise VGGError(f"max_pixels must be positive, got {max_pixels}.")
    if isinstance(source, Image.Image):
        return _finish(source, "The image", max_pixels)
    name, stream = _open_stream(source)
    with stream, _open_image(stream, name) as image:
        return _finish(image, name, max_pixels)


def _open_stream(source: ImageSource) -> tuple[str, BinaryIO]:
    """A seekable binary stream over the source, and a name for it in messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _check_not_empty(io.BytesIO(bytes(source)), "The uploaded data")
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise ImageError(f"No file at {path}: check the path.")
        if path.is_dir():
            raise ImageError(f"{path} is a folder; give the path of an image file inside it.")
        return _check_not_empty(path.open("rb"), path.name)
    if hasattr(source, "read"):  # an open binary file, or a web framework's upload object
        name = Path(str(getattr(source, "name", "") or "the upload")).name
        return _check_not_empty(io.BytesIO(source.read()), name)
    raise TypeError(f"load_image takes bytes, a path, a binary file or a PIL image, not {type(source).__name__}.")


def _check_not_empty(stream: BinaryIO, name: str) -> tuple[str, BinaryIO]:
    if not stream.read(1):
        stream.close()
        raise ImageError(f"{name} is empty (0 bytes): the upload or copy did not complete. Try again.")
    stream.seek(0)
    return name, stream


def _open_image(stream: BinaryIO, name: str) -> Image.Image:
    """Read the header only (Pillow is lazy); map Pillow's refusals to messages a user can act on."""
    try:
        return Image.open(stream, formats=SUPPORTED_FORMATS)
    except Image.DecompressionBombError as error:
        raise ImageError(_too_many_pixels(name, str(error).rstrip("."))) from error
    except UnidentifiedImageError as error:
        stream.seek(0)
        raise ImageError(_unidentified(name, stream.read(_HEAD_BYTES))) from error
    except Exception as error:  # untrusted bytes: a plugin may fail in many ways on a malformed header
        raise ImageError(f"{name} has a corrupt header ({_first_line(error)}). Re-export or re-download it.") from error


def _unidentified(name: str, head: bytes) -> str:
    known = next((fmt for magic, fmt in _MAGIC if head.startswith(magic)), None)
    if known is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        known = "WebP"
    if known is not None:
        return f"{name} starts like a {known} file but its header is corrupt. Re-export or re-download it."
    if _looks_like_text(head):
        return f"{name} is text, not an image. Upload a {SUPPORTED_NAMES} file."
    return f"{name} is not an image in a supported format. Upload a {SUPPORTED_NAMES} file."


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


def _finish(image: Image.Image, name: str, max_pixels: int) -> Image.Image:
    """Check the header's size, decode, orient, convert: the steps shared by every source."""
    _check_size(image.size, name, max_pixels)
    _decode(image, name)
    return to_rgb(_upright(image))


def _check_size(size: tuple[int, int], name: str, max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageError(_too_many_pixels(name, f"{width}x{height} is {width * height / 1e6:.1f} MP",
                                          limit=max_pixels))
    if min(width, height) < MIN_INPUT_SIZE:
        raise ImageError(f"{name} is {width}x{height}: too small. VGG needs at least {MIN_INPUT_SIZE} px on each "
                         "side (its five 2x2 pools halve the image five times). Use a larger image.")


def _too_many_pixels(name: str, detail: str, *, limit: int | None = None) -> str:
    limit_text = f" (the limit is {limit / 1e6:g} MP)" if limit is not None else ""
    return (f"{name} is too large to decode safely: {detail}{limit_text}. Very large images, or files crafted "
            "to expand in memory, would exhaust it. Downscale it (say, to 4000 px on the long side) and try again.")


def _decode(image: Image.Image, name: str) -> None:
    """Decode every pixel now, so truncated data fails here and not halfway through the network."""
    try:
        image.load()
    except Image.DecompressionBombError as error:
        raise ImageError(_too_many_pixels(name, str(error).rstrip("."))) from error
    except MemoryError as error:
        raise ImageError(f"Not enough memory to decode {name}. Downscale it and try again.") from error
    except Exception as error:  # OSError "truncated", SyntaxError, ValueError, struct.error...: all mean bad data
        raise ImageError(f"{name} is truncated or corrupt ({_first_line(error)}). "
                         "Re-save or re-download the file.") from error


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation tag, as a phone's viewer does. A copy: the input is never changed."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # corrupt metadata must not refuse pixels that decoded; show them as stored
        return image.copy()


def to_rgb(image: Image.Image) -> Image.Image:
    """A new 8-bit RGB image from any mode Pillow decodes; transparency composited on white."""
    if image.mode in _WIDE_MODES:
        return _wide_to_rgb(image)
    if image.mode in _ALPHA_MODES or "transparency" in image.info:  # palette/L/RGB can carry a transparent colour
        background = Image.new("RGBA", image.size, _WHITE)
        return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
    try:
        return image.convert("RGB")  # L, 1, P, CMYK, YCbCr, RGB (a copy)
    except ValueError as error:
        raise ImageError(f"Images in Pillow's {image.mode} mode cannot be converted to RGB. "
                         "Save the image as an sRGB JPEG or PNG and try again.") from error


def _wide_to_rgb(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer or float greyscale -> 8-bit grey, replicated to RGB.

    16-bit data maps 65535 to 255 (a fixed scale, so dark images stay dark). Modes that do not say
    their range ("I", "F") are taken as 8-bit, 16-bit or [0, 1] when the values fit, else stretched.
    """
    values = np.asarray(image).astype(np.float64)  # (H, W)
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if image.mode in _SIXTEEN_BIT_MODES or (image.mode == "I" and low >= 0 and 255 < high <= 65535):
        scaled = values / 257.0
    elif image.mode == "F" and low >= 0 and high <= 1:
        scaled = values * 255.0
    elif low >= 0 and high <= 255:
        scaled = values
    else:  # an unknown range: stretch it, the only way to make it visible
        scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
    grey = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:200] if lines else type(error).__name__
