"""Layers as a reader sees them: a conv with its BN and ReLU, an fc with its ReLU and dropout.

The diagram draws one node per unit and the comparison aligns units, so both fold BN/ReLU/dropout
into the layer they follow in one place, here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vgg.analysis.report import LayerRow, Shape

LEADING_KINDS = frozenset({"conv", "lrn", "pool", "avgpool", "fc"})  # a unit starts at each of these
ALIGNED_KINDS = frozenset({"conv", "lrn", "fc"})  # what the paper's Table 1 lists (and bolds when added)


@dataclass(frozen=True)
class Unit:
    rows: tuple[LayerRow, ...]

    @property
    def head(self) -> LayerRow:
        return self.rows[0]

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(row.name for row in self.rows)

    @property
    def stage(self) -> int:
        return self.head.stage

    @property
    def params(self) -> int:
        return sum(row.params for row in self.rows)

    @property
    def macs(self) -> int:
        return sum(row.macs for row in self.rows)

    @property
    def input_shape(self) -> Shape:
        return self.head.input_shape

    @property
    def output_shape(self) -> Shape:
        return self.rows[-1].output_shape

    @property
    def token(self) -> str:
        """The paper's notation: conv3-64, conv1-256, LRN, FC-4096, maxpool."""
        head = self.head
        if head.kind == "conv" and head.kernel_size is not None:
            return f"conv{head.kernel_size[0]}-{head.output_shape[1]}"
        if head.kind == "fc":
            return f"FC-{head.output_shape[-1]}"
        return {"lrn": "LRN", "pool": "maxpool", "avgpool": "avgpool"}.get(head.kind, head.kind)

    @property
    def folded(self) -> tuple[str, ...]:
        """Names of the kinds folded into this unit ("BN", "ReLU", "dropout"), in order."""
        names = {"bn": "BN", "relu": "ReLU", "dropout": "dropout"}
        return tuple(names.get(row.kind, row.kind) for row in self.rows[1:])


def group_units(rows: Sequence[LayerRow]) -> tuple[Unit, ...]:
    groups: list[list[LayerRow]] = []
    for row in rows:
        if row.kind in LEADING_KINDS or not groups or groups[-1][0].stage != row.stage:
            groups.append([row])
        else:
            groups[-1].append(row)
    return tuple(Unit(tuple(group)) for group in groups)
