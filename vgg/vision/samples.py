"""The sample photographs bundled in vgg/data/samples, so a forward pass works with no upload.

Their attributions are in vgg/data/SOURCES.md, one line per file; ``sample_credits`` reads them
from there, so the credit shown is the one shipped with the file.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from PIL import Image

from vgg.errors import VGGError
from vgg.vision.images import load_image

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SAMPLES_DIR = DATA_DIR / "samples"
_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp"})
_CREDIT_LINE = re.compile(r"^\s*-\s*`(?P<file>[^`]+)`:\s*(?P<credit>.+?)\s*$")


def sample_images() -> dict[str, Path]:
    """Sample name ("cat") -> path of the bundled photograph, sorted by name."""
    files = sorted(p for p in SAMPLES_DIR.iterdir() if p.suffix.lower() in _SUFFIXES)
    return {p.stem: p for p in files}


def load_sample(name: str) -> Image.Image:
    """A bundled sample as an RGB image; ValueError naming the samples for an unknown name."""
    samples = sample_images()
    if name not in samples:
        raise VGGError(f"No sample named {name!r}: the samples are {', '.join(samples)}.")
    return load_image(samples[name])


@cache
def sample_credits() -> dict[str, str]:
    """Sample name -> its attribution line from SOURCES.md ("Chelsea the cat", CC0 (...))."""
    credits: dict[str, str] = {}
    for line in (DATA_DIR / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        match = _CREDIT_LINE.match(line)
        if match and Path(match["file"]).suffix.lower() in _SUFFIXES:
            credits[Path(match["file"]).stem] = match["credit"]
    return credits
