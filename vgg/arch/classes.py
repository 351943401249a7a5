"""ImageNet-1k class names, in the index order of torchvision's published weights."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def imagenet_classes() -> tuple[str, ...]:
    text = resources.files("vgg.data").joinpath("imagenet_classes.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())
