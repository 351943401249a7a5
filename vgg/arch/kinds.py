"""The one vocabulary of layer kinds, and the one table that groups them for tables, charts and timings."""

from __future__ import annotations

from enum import Enum


class LayerKind(str, Enum):
    """What a module of a VGG is. A ``str`` enum: ``LayerKind.CONV == "conv"``, and JSON writes ``"conv"``."""

    CONV = "conv"
    BN = "bn"
    RELU = "relu"
    LRN = "lrn"
    POOL = "pool"
    AVGPOOL = "avgpool"
    FLATTEN = "flatten"
    FC = "fc"
    DROPOUT = "dropout"

    def __str__(self) -> str:  # "conv", not "LayerKind.CONV", in f-strings on every Python version
        return self.value

    @property
    def group(self) -> LayerGroup:
        return KIND_GROUP[self]


class LayerGroup(str, Enum):
    """How charts colour layers and timings share out time: the kinds that carry the compute, and the rest."""

    CONV = "conv"
    FC = "fc"
    POOL = "pool"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


KIND_GROUP: dict[LayerKind, LayerGroup] = {
    LayerKind.CONV: LayerGroup.CONV,
    LayerKind.FC: LayerGroup.FC,
    LayerKind.POOL: LayerGroup.POOL,
    LayerKind.AVGPOOL: LayerGroup.POOL,
    LayerKind.BN: LayerGroup.OTHER,
    LayerKind.RELU: LayerGroup.OTHER,
    LayerKind.LRN: LayerGroup.OTHER,
    LayerKind.FLATTEN: LayerGroup.OTHER,
    LayerKind.DROPOUT: LayerGroup.OTHER,
}


def kind_group(kind: str | LayerKind) -> LayerGroup:
    """The group of a kind given as the enum or its text ("conv"); an unknown text is OTHER."""
    try:
        return KIND_GROUP[LayerKind(kind)]
    except ValueError:
        return LayerGroup.OTHER
