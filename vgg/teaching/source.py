"""The project's own source, read at run time, so the lesson shows the code that really runs.

The lesson highlights the line of ``make_layers`` that handles each spec entry; the lines are
found by what they say (``isinstance(v, Conv)``), not by number, so editing the function
moves the highlight with it instead of breaking it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vgg.arch import builders, model
from vgg.arch.network import Network
from vgg.errors import VGGError

# What each kind of spec entry looks like in make_layers, and the module it appends.
BRANCH_MARKERS: dict[str, str] = {
    "conv": "isinstance(v, Conv)",
    "lrn": "isinstance(v, LRN)",
    "pool": "isinstance(v, MaxPool)",
}
APPEND_MARKERS: dict[str, str] = {
    "conv": "nn.Conv2d(",
    "bn": "nn.BatchNorm2d(",
    "relu": "nn.ReLU(",
    "lrn": "nn.LocalResponseNorm(",
    "pool": "nn.MaxPool2d(",
}


@dataclass(frozen=True)
class SourceListing:
    """A function's source lines and where it starts in its file (1-based)."""

    name: str
    file: str
    first_line: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def find(self, marker: str) -> int:
        """0-based index of the first line containing ``marker``; ValueError if the code changed under it."""
        for index, line in enumerate(self.lines):
            if marker in line:
                return index
        raise VGGError(f"{self.name} no longer contains {marker!r}; update vgg/teaching/source.py's markers.")


def listing(function: Callable[..., Any]) -> SourceListing:
    lines, first = inspect.getsourcelines(function)
    return SourceListing(function.__qualname__, inspect.getsourcefile(function) or "?", first, tuple(lines))


def make_layers_listing() -> SourceListing:
    return listing(model.make_layers)


def vgg_init_listing() -> SourceListing:
    """``VGG.__init__``: features, avgpool, the classifier, and the call that initialises the weights."""
    return listing(model.VGG.__init__)


def reset_parameters_listing() -> SourceListing:
    return listing(model.VGG.reset_parameters)


def forward_listing() -> SourceListing:
    """forward_features, forward_head and forward, in file order, as one listing."""
    parts = [listing(method) for method in (model.VGG.forward_features, model.VGG.forward_head, model.VGG.forward)]
    lines: list[str] = []
    for part in parts:
        lines += [*part.lines, "\n"]
    return SourceListing("VGG.forward", parts[0].file, parts[0].first_line, tuple(lines[:-1]))


def builder_listings(network: Network) -> tuple[SourceListing, ...]:
    """The calls that make ``network``, as the seed walks them: for E with BN ``vgg19_bn`` then ``_vgg``
    (which looks up ``cfgs["E"]``); for a network torchvision lacks, ``build`` then ``network_module``."""
    if network.variant is not None:
        return listing(builders.BUILDERS[network.variant]), listing(builders._vgg)
    return listing(builders.build), listing(builders.network_module)


def highlighted_lines(kind: str, batch_norm: bool) -> tuple[int, ...]:
    """Lines of make_layers that run for one spec entry of ``kind`` ("conv", "lrn", "pool")."""
    source = make_layers_listing()
    lines = [source.find(BRANCH_MARKERS[kind])]
    appended = ("conv", "bn", "relu") if kind == "conv" else (kind,)
    lines += [source.find(APPEND_MARKERS[step]) for step in appended if step != "bn" or batch_norm]
    if kind == "conv":
        lines.append(source.find("in_channels = v.out_channels"))
    return tuple(sorted(lines))
