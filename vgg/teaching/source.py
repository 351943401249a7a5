"""The project's own source, read at run time, so the lesson shows the code that really runs.

The lesson highlights the lines that matter at each step; they are found by what they say
(``isinstance(v, Conv)``), not by number, so editing a function moves the highlight with it instead
of breaking it, and a marker that is gone raises a VGGError naming it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from vgg.arch import builders, configs, model
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
    """A stretch of a source file: its name, the file, where it starts (1-based) and its lines."""

    name: str
    file: str
    first_line: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def find(self, marker: str, start: int = 0) -> int:
        """0-based index of the first line from ``start`` containing ``marker``; VGGError if the code changed."""
        for index in range(start, len(self.lines)):
            if marker in self.lines[index]:
                return index
        raise VGGError(f"{self.name} no longer contains {marker!r}; update vgg/teaching's markers.")


@dataclass(frozen=True)
class Code:
    """A listing with the lines that matter at one step of the lesson highlighted."""

    listing: SourceListing
    highlighted: tuple[int, ...]  # 0-based indices into listing.lines, sorted

    @property
    def span(self) -> tuple[int, int]:
        """[first, last + 1) of the highlighted lines: the excerpt shown where the whole listing does not fit."""
        return (self.highlighted[0], self.highlighted[-1] + 1) if self.highlighted else (0, len(self.listing.lines))

    def runs(self, max_gap: int = 0) -> tuple[tuple[int, int], ...]:
        """[first, end) of each run of highlighted lines, runs less than ``max_gap`` + 1 lines apart taken as one
        (with the lines between): what a short listing shows, the other lines left out."""
        runs: list[tuple[int, int]] = []
        for index in self.highlighted:
            if runs and index - runs[-1][1] <= max_gap:
                runs[-1] = (runs[-1][0], index + 1)
            else:
                runs.append((index, index + 1))
        return tuple(runs)

    @property
    def excerpt(self) -> str:
        """The highlighted stretch, verbatim: a substring of the file it was read from."""
        first, end = self.span
        return "".join(self.listing.lines[first:end])


def highlight(source: SourceListing, *markers: str) -> Code:
    """``source`` with the first line containing each marker highlighted."""
    return Code(source, tuple(sorted({source.find(marker) for marker in markers})))


def listing(function: Callable[..., Any]) -> SourceListing:
    lines, first = inspect.getsourcelines(function)
    return SourceListing(function.__qualname__, inspect.getsourcefile(function) or "?", first, tuple(lines))


def _module_lines(module: ModuleType) -> tuple[str, tuple[str, ...]]:
    return inspect.getsourcefile(module) or "?", tuple(inspect.getsourcelines(module)[0])


def assignment_listing(module: ModuleType, name: str) -> SourceListing:
    """A module-level ``name: ... = {`` through its closing ``}`` (or ``)``, ``]``) at the start of a line:
    how ``cfgs`` and ``CONFIGS`` are read, which ``inspect`` cannot do for a dict."""
    file, lines = _module_lines(module)
    starts = [i for i, line in enumerate(lines) if line.startswith((f"{name}:", f"{name} ="))]
    if not starts:
        raise VGGError(f"{module.__name__} no longer assigns {name}; update vgg/teaching/source.py.")
    first = starts[0]
    last = next((i for i in range(first + 1, len(lines)) if lines[i][:1] in "}])"), first)
    return SourceListing(name, file, first + 1, lines[first:last + 1])


def dict_entry(source: SourceListing, key: str) -> Code:
    """The lines of ``source`` (a dict's listing) that hold ``"key": ...``, up to the next key or the end."""
    first = source.find(f'    "{key}":')
    end = first + 1
    while end < len(source.lines) - 1 and not source.lines[end].startswith('    "'):
        end += 1
    return Code(source, tuple(range(first, end)))


def make_layers_listing() -> SourceListing:
    return listing(model.make_layers)


def vgg_init_listing() -> SourceListing:
    """``VGG.__init__``: features, avgpool, the classifier, and the call that initialises the weights."""
    return listing(model.VGG.__init__)


def reset_parameters_listing() -> SourceListing:
    return listing(model.VGG.reset_parameters)


def forward_listing() -> SourceListing:
    """forward_features, forward_head and forward: the file's lines from the first to the end of the last."""
    first, last = listing(model.VGG.forward_features), listing(model.VGG.forward)
    file, lines = _module_lines(model)
    end = last.first_line - 1 + len(last.lines)
    return SourceListing("VGG.forward", file, first.first_line, lines[first.first_line - 1:end])


def builder_listing(variant: str) -> SourceListing:
    """torchvision's builder of that name ("vgg19_bn")."""
    return listing(builders.BUILDERS[variant])


def vgg_listing() -> SourceListing:
    """``_vgg``: the one place the eight builders go through."""
    return listing(builders._vgg)


def cfgs_listing(letter: str) -> SourceListing:
    """torchvision's ``cfgs`` dict for its four letters, the paper's ``CONFIGS`` for A-LRN and C."""
    return assignment_listing(configs, "cfgs" if letter in configs.cfgs else "CONFIGS")


def highlighted_lines(kind: str, batch_norm: bool) -> tuple[int, ...]:
    """Lines of make_layers that run for one spec entry of ``kind`` ("conv", "lrn", "pool")."""
    source = make_layers_listing()
    lines = [source.find(BRANCH_MARKERS[kind])]
    appended = ("conv", "bn", "relu") if kind == "conv" else (kind,)
    lines += [source.find(APPEND_MARKERS[step]) for step in appended if step != "bn" or batch_norm]
    if kind == "conv":
        lines.append(source.find("in_channels = v.out_channels"))
        if batch_norm:  # the test that lets BatchNorm2d in
            lines.append(source.find("if batch_norm:"))
    return tuple(sorted(lines))
