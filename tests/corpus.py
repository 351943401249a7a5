"""The corpus of bad (and awkward but valid) inputs, generated at test time: nothing is downloaded or committed.

Each case names the outcome the library and the app must agree on: accepted (with what comes out), or
refused with a message containing ``refusal``. tests/test_corpus_library.py runs every case through
``vgg``; tests/test_corpus_app.py through the Streamlit app; tests/e2e throws the images at a running server.
"""

from __future__ import annotations

import io
import os
import pickle
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import vgg

RED, BLUE = (255, 0, 0), (0, 0, 255)
SMALL_SPEC = "16 M"  # VGG's head on one small conv stage: builds and runs in a blink, still 1000 classes


# --- image generators --------------------------------------------------------------------------------------------

def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """A smooth RGB gradient: compresses like a photo, and every pixel differs from its neighbours."""
    width, height = size
    x, y = np.meshgrid(np.linspace(0, 255, width), np.linspace(0, 255, height))
    return Image.fromarray(np.stack([x, y, 255 - x], axis=-1).astype(np.uint8), "RGB")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR (with a valid CRC) claims width x height RGB pixels, and no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")


def garbage(count: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(count)


def truncated(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def jpeg_header_then_garbage() -> bytes:
    """A real JPEG's headers up to its scan, then random bytes where the entropy-coded data should be."""
    data = encode(photo((200, 150)), "JPEG", quality=90)
    start_of_scan = data.index(b"\xff\xda")
    return data[: start_of_scan + 14] + garbage(3000)


def png_header_then_garbage() -> bytes:
    """A real PNG's signature and IHDR, then an IDAT chunk (valid CRC) of random bytes instead of zlib data."""
    data = encode(photo((200, 150)), "PNG")
    return data[:33] + png_chunk(b"IDAT", garbage(3000)) + png_chunk(b"IEND", b"")


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (40, 40), RED), Image.new("RGB", (40, 40), BLUE)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def cmyk_jpeg() -> bytes:
    return encode(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG", quality=95)  # pure red in CMYK


def sixteen_bit_png() -> bytes:
    values = np.linspace(0, 65535, 64 * 48).astype(np.uint16).reshape(48, 64)
    return encode(Image.fromarray(values), "PNG")


def palette_with_transparency() -> bytes:
    """Left half red, right half palette index 0, which the tRNS chunk makes transparent."""
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0] + list(RED) + [0] * 762)
    image.paste(1, (0, 0, 20, 40))
    return encode(image, "PNG", transparency=0)


def exif_rotated(fmt: str) -> bytes:
    """Stored 60x40 with red on the left, and an EXIF orientation 6 ("rotate 90 degrees clockwise to display"),
    as a phone saves a photo taken upright: in ``fmt`` ("JPEG", "HEIF" through pillow-heif, "AVIF")."""
    stored = Image.new("RGB", (60, 40), BLUE)
    stored.paste(RED, (0, 0, 30, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(stored, fmt, exif=exif.tobytes(), quality=95)


def exif_rotated_jpeg() -> bytes:
    """Stored 60x40 with red on the left; its EXIF orientation 6 says "rotate 90 degrees clockwise to display"."""
    stored = Image.new("RGB", (60, 40), BLUE)
    stored.paste(RED, (0, 0, 30, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(stored, "JPEG", exif=exif.tobytes(), quality=95)


@dataclass(frozen=True)
class ImageCase:
    name: str  # the upload's file name (its extension must be one the app's uploader accepts)
    data: bytes
    refusal: str = ""  # a fragment of the ImageError message; "" means the image is accepted
    size: tuple[int, int] | None = None  # accepted: the upright size that comes out

    @property
    def mime(self) -> str:
        return {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "heic": "image/heic",
                "avif": "image/avif", "txt": "text/plain", "pdf": "application/pdf"}[self.name.rsplit(".", 1)[-1]]


IMAGES: tuple[ImageCase, ...] = (
    ImageCase("empty.jpg", b"", refusal="is empty (0 bytes)"),
    ImageCase("notes.png", b"These are my notes, saved with a picture's name.\n", refusal="is text, not an image"),
    ImageCase("drawing.png", b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="9"/></svg>', refusal="is text"),
    ImageCase("weights.png", b"PK\x03\x04" + garbage(500), refusal="not an image in a supported format"),
    ImageCase("truncated.jpg", truncated(encode(photo((200, 150)), "JPEG", quality=90), 0.5),
              refusal="truncated or corrupt"),
    ImageCase("truncated.png", truncated(encode(photo((200, 150)), "PNG"), 0.66), refusal="truncated or corrupt"),
    ImageCase("signature-only.png", b"\x89PNG\r\n\x1a\n" + garbage(200), refusal="starts like a PNG file but its "
              "header is corrupt"),
    ImageCase("header-then-garbage.jpg", jpeg_header_then_garbage(), refusal="truncated or corrupt"),
    ImageCase("header-then-garbage.png", png_header_then_garbage(), refusal="truncated or corrupt"),
    ImageCase("one-pixel.png", encode(Image.new("RGB", (1, 1)), "PNG"), refusal="is 1x1: too small"),
    ImageCase("icon.png", encode(photo((20, 20)), "PNG"), refusal="is 20x20: too small"),
    ImageCase("bomb.png", png_header_claiming(30_000, 30_000), refusal="too large to decode safely"),
    ImageCase("animated.gif", animated_gif(), size=(40, 40)),
    ImageCase("cmyk.jpg", cmyk_jpeg(), size=(40, 40)),
    ImageCase("sixteen-bit.png", sixteen_bit_png(), size=(64, 48)),
    ImageCase("palette-transparent.png", palette_with_transparency(), size=(40, 40)),
    ImageCase("exif-rotated.jpg", exif_rotated_jpeg(), size=(40, 60)),
    # Phone photos: HEIC (an iPhone's default) and AVIF, upright by their orientation; then the ways they go wrong.
    ImageCase("iphone.heic", exif_rotated("HEIF"), size=(40, 60)),
    ImageCase("android.avif", exif_rotated("AVIF"), size=(40, 60)),
    ImageCase("truncated.heic", truncated(encode(photo((200, 150)), "HEIF", quality=80), 0.5),
              refusal="truncated or corrupt"),
    ImageCase("header-only.avif", truncated(encode(photo((200, 150)), "AVIF", quality=80), 0.5),
              refusal="starts like an AVIF file but its header is corrupt"),
    ImageCase("notes.heic", b"Notes from class, saved as text with a photo's name.\n", refusal="is text, not an image"),
    ImageCase("notes.txt", b"Not a picture at all.\n", refusal="is text, not an image"),
    ImageCase("handout.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + garbage(300),
              refusal="not an image in a supported format"),
)


# --- specs -------------------------------------------------------------------------------------------------------

PARSE, ANALYSIS, FORWARD = "parse", "analysis", "forward"  # the first step that refuses the spec


@dataclass(frozen=True)
class SpecCase:
    name: str
    text: str
    refusal: str
    stage: str = PARSE
    input_size: tuple[int, int] = (224, 224)


SPECS: tuple[SpecCase, ...] = (
    SpecCase("empty", "", "The spec is empty"),
    SpecCase("separators-only", " ,; \n", "The spec is empty"),
    SpecCase("only-pools", "M M M", "no convolution"),
    SpecCase("unknown-token", "64 M 128 banana", "Token 4 ('banana') is not a layer"),
    SpecCase("negative-width", "64 M -128", "Token 3 ('-128'): a conv needs a positive number of channels"),
    SpecCase("zero-width", "0 M", "Token 1 ('0'): a conv needs a positive number"),
    SpecCase("huge-width", "64 M 100000", "100,000 channels is more than the limit of 8,192"),
    SpecCase("thousands-of-digits", "64 " + "9" * 5000, "a 5,000-digit channel count is more than the limit"),
    SpecCase("bad-kernel", "conv7-64 M", "kernel size 7 is not a VGG conv"),
    SpecCase("too-many-pools", "64 " + "M " * 8, "Token 9 ('M') is one pool too many"),
    SpecCase("too-many-pools-for-the-input", "64 M M M M M M", "needs at least 64x64", ANALYSIS, (32, 32)),
    SpecCase("full-width-m", "64 M ６４ Ｍ", "Token 4 ('Ｍ') is not a layer"),  # full-width digits are digits
    SpecCase("emoji", "64 M 🐍", "Token 3 ('🐍') is not a layer"),
    SpecCase("right-to-left-override", "64 \u202e M", "Token 2 ('\\u202e') is not a layer"),
    SpecCase("markdown-image", "64 ![](http://a.invalid/p.png)", "Token 2 ('![](http://a.invalid/p.p...')"),
    SpecCase("very-long", "6" * 20_000, "20,000 characters long; the limit is 10,000"),
    SpecCase("too-many-layers", "64 " * 3000, "3,000 layers; the limit is 256"),
    SpecCase("too-many-weights", "8192 M", "needs an estimated 6,353 MiB for its weights", FORWARD),
    SpecCase("too-many-activations", "1024 " * 12 + "M 64 M", "needs an estimated 4,760 MiB for its feature maps",
             FORWARD),
)


# --- checkpoints (for SMALL_SPEC with 1000 classes, the model the app builds for it) -----------------------------

def shell_state(config: str = SMALL_SPEC, *, batch_norm: bool = False) -> dict[str, torch.Tensor]:
    """A state_dict with the layout of ``config`` whose tensors are zeros expanded from one element, so a
    checkpoint of any size (vgg11_bn's 133 M parameters) is a file of a few kilobytes."""
    layout = vgg.build(config, batch_norm=batch_norm, device="meta").state_dict()
    return {key: torch.zeros((), dtype=value.dtype).expand(value.shape) for key, value in layout.items()}


class RunsCode:
    """Unpickling this runs a shell command: what a hostile checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def _save(obj: object) -> Callable[[Path], None]:
    return lambda path: torch.save(obj, path)


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _truncated_checkpoint(path: Path) -> None:
    torch.save(shell_state(), path)
    path.write_bytes(truncated(path.read_bytes(), 0.5))


def _evil_checkpoint(path: Path) -> None:
    torch.save({"state_dict": RunsCode(path.with_suffix(".pwned"))}, path)


def _evil_pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps(RunsCode(path.with_suffix(".pwned")), protocol=2))  # torch.load's protocol


def _claims_a_huge_tensor(path: Path) -> None:
    """A valid zip whose pickle says its 4-element tensor has 10**12 elements: torch must not allocate them."""
    torch.save({"features.0.bias": torch.zeros(4)}, path)
    huge = b"\x8a\x08" + (10**12).to_bytes(8, "little")  # LONG1: an 8-byte integer
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as target:
        for info, data in entries:
            if info.filename.endswith("data.pkl"):
                data = data.replace(b"K\x04t", huge + b"t").replace(b"K\x04\x85", huge + b"\x85")
            target.writestr(info, data)


def _renamed_key(path: Path) -> None:
    state = shell_state()
    state["features.0.kernel"] = state.pop("features.0.weight")
    torch.save(state, path)


def _wrong_shape(path: Path) -> None:
    state = shell_state()
    state["features.0.weight"] = torch.zeros(8, 3, 3, 3)
    torch.save(state, path)


@dataclass(frozen=True)
class CheckpointCase:
    name: str
    write: Callable[[Path], None] = field(repr=False)
    refusal: str  # "" means the checkpoint loads into SMALL_SPEC's model


CHECKPOINTS: tuple[CheckpointCase, ...] = (
    CheckpointCase("good.pth", _save(shell_state()), ""),
    CheckpointCase("empty.pth", _bytes(b""), "is empty (0 bytes)"),
    CheckpointCase("text.pth", _bytes(b"not a checkpoint\n" * 20), "is not a readable PyTorch checkpoint"),
    CheckpointCase("random.pth", _bytes(garbage(4096)), "is not a readable PyTorch checkpoint"),
    CheckpointCase("zip-header.pth", _bytes(b"PK\x03\x04" + garbage(100)), "is not a readable PyTorch checkpoint"),
    CheckpointCase("truncated.pth", _truncated_checkpoint, "is not a readable PyTorch checkpoint"),
    CheckpointCase("huge-claim.pth", _claims_a_huge_tensor, "record size (16 bytes) does not match"),
    CheckpointCase("runs-code.pth", _evil_checkpoint, "unsupported GLOBAL posix.system"),
    CheckpointCase("runs-code.pkl", _evil_pickle, "would run code when unpickled (Trying to load unsupported GLOBAL"),
    CheckpointCase("a-list.pth", _save([1, 2, 3]), "holds list, not a state_dict"),
    CheckpointCase("no-tensors.pth", _save({"epoch": 3, "lr": 0.1}), "holds no tensors"),
    CheckpointCase("wrong-keys.pth", _renamed_key, "1 missing keys: features.0.weight 1 unexpected keys: "
                   "features.0.kernel"),
    CheckpointCase("wrong-shapes.pth", _wrong_shape, "features.0.weight: checkpoint (8, 3, 3, 3) vs model "
                   "(16, 3, 3, 3)"),
    CheckpointCase("vgg11_bn.pth", _save(shell_state("A", batch_norm=True)), "This checkpoint is for vgg11_bn"),
    CheckpointCase("other-custom.pth", _save(shell_state("32 M")), "checkpoint (32, 3, 3, 3) vs model (16, 3, 3, 3)"),
)
