"""The paper's Table 1 (configurations as columns) generated from the code's own specs.

Each cell holds a stage's layers in the paper's notation (conv3-64, conv1-256, LRN). A layer is
marked ``added`` when ``vgg.compare`` of the column with its left neighbour says it is added or replaced, the same
stage alignment the Compare view uses, which is what the paper's bold type marks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from vgg.analysis import Report, analyze, group_units
from vgg.analysis.compare import compare
from vgg.analysis.units import ALIGNED_KINDS
from vgg.arch.configs import CONFIGS

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


def _column(report: Report, added: frozenset[str]) -> list[tuple[Entry, ...]]:
    """The config's feature stages as Table 1 lists them (convs and LRN; pools are the rows between)."""
    head_stage = report.stages[-1].stage
    units = [unit for unit in group_units(report.layers) if unit.head.kind in ALIGNED_KINDS]
    return [tuple(Entry(unit.token, bool(unit.paths & added)) for unit in units if unit.stage == stage.stage)
            for stage in report.stages if stage.stage != head_stage]


def table1(columns: Sequence[str] = PAPER_ORDER) -> Table1:
    """Table 1 for the given configurations (left to right), each compared with its left neighbour."""
    reports = [analyze(name) for name in columns]
    staged = [_column(reports[0], frozenset())]
    staged += [_column(right, compare(left, right).changed_paths_b) for left, right in pairwise(reports)]
    by_config = dict(zip(columns, staged, strict=True))
    rows = tuple({name: stages[index] if index < len(stages) else () for name, stages in by_config.items()}
                 for index in range(max(len(stages) for stages in staged)))
    return Table1(columns=tuple(columns), weight_layers={name: CONFIGS[name].weight_layers for name in columns},
                  stages=rows)
