"""The paper's Table 1 (configurations as columns) generated from the code's own specs.

Each cell holds a stage's layers in the paper's notation (conv3-64, conv1-256, LRN); a layer is
marked ``added`` when the column to its left has no layer of the same kind at that position of the
stage, which is what the paper's bold type marks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vgg.configs import CONFIGS
from vgg.spec import LRN, Conv, LayerSpec, MaxPool, VGGSpec

PAPER_ORDER: tuple[str, ...] = ("A", "A-LRN", "B", "C", "D", "E")


@dataclass(frozen=True)
class Entry:
    text: str  # the paper's notation: "conv3-64", "conv1-256", "LRN"
    added: bool


@dataclass(frozen=True)
class Table1:
    columns: tuple[str, ...]
    weight_layers: dict[str, int]
    stages: tuple[dict[str, tuple[Entry, ...]], ...]  # one dict per stage: config -> its entries
    head: tuple[str, ...] = ("FC-4096", "FC-4096", "FC-1000", "soft-max")


def paper_token(layer: LayerSpec) -> str:
    if isinstance(layer, Conv):
        return f"conv{layer.kernel_size}-{layer.out_channels}"
    return "LRN" if isinstance(layer, LRN) else "maxpool"


def split_stages(spec: VGGSpec) -> list[list[LayerSpec]]:
    """The layers of each stage, without the pool that closes it (a trailing unpooled run is a stage too)."""
    stages: list[list[LayerSpec]] = [[]]
    for layer in spec.layers:
        if isinstance(layer, MaxPool):
            stages.append([])
        else:
            stages[-1].append(layer)
    return [stage for stage in stages if stage]


def _mark_added(layers: Sequence[LayerSpec], before: Sequence[LayerSpec] | None) -> tuple[Entry, ...]:
    entries = []
    for position, layer in enumerate(layers):
        previous = before[position] if before is not None and position < len(before) else None
        added = before is not None and (previous is None or paper_token(previous) != paper_token(layer))
        entries.append(Entry(paper_token(layer), added))
    return tuple(entries)


def table1(columns: Sequence[str] = PAPER_ORDER) -> Table1:
    """Table 1 for the given configurations (left to right), each compared with its left neighbour."""
    staged = {name: split_stages(CONFIGS[name]) for name in columns}
    stage_count = max(len(stages) for stages in staged.values())
    rows = []
    for index in range(stage_count):
        row, left = {}, None
        for name in columns:
            layers = staged[name][index] if index < len(staged[name]) else []
            row[name] = _mark_added(layers, left)
            left = layers
        rows.append(row)
    return Table1(columns=tuple(columns), weight_layers={name: CONFIGS[name].weight_layers for name in columns},
                  stages=tuple(rows))
