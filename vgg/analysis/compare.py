"""Two analysed configurations side by side, aligned stage by stage as the paper's Table 1 does.

Within a stage, the layers the paper lists (convs, LRN; fully connected layers in the head) are
aligned by the smallest edit that turns A's stage into B's: a layer is *same* (the same notation,
``conv3-256``), *added* (only B has it), *removed* (only A has it) or *replaced* (a conv of A in
place of a different conv of B: D's 3x3 conv3_3 where C has a 1x1). Ties keep the layers in step
from the start of the stage, so E's extra conv3_3 and conv3_4 relative to A are added at the end,
as the paper's bold type marks them. Batch norm is not a layer of the paper's table: a BN-only
difference shows in the parameter deltas, not as changed layers. Deltas are b - a.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vgg.analysis.engine import analyze
from vgg.analysis.report import Report, StageSummary
from vgg.analysis.units import ALIGNED_KINDS, Unit, group_units
from vgg.arch import NetworkLike

if TYPE_CHECKING:  # imported where a frame is made, so `import vgg` stays light
    import pandas as pd


@dataclass(frozen=True)
class Delta:
    """A quantity on both sides; None where a side has no such thing (a stage it lacks)."""

    a: int | None
    b: int | None

    @property
    def delta(self) -> int | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def ratio(self) -> float | None:
        return None if self.a is None or self.b is None or self.a == 0 else self.b / self.a

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "delta": self.delta}


SAME, ADDED, REMOVED, REPLACED = "same", "added", "removed", "replaced"


@dataclass(frozen=True)
class AlignedLayer:
    """One step of the alignment: A's layer, B's layer, or both (None where a side has none)."""

    position: int  # 1-based within the stage's alignment
    a: Unit | None
    b: Unit | None

    @property
    def change(self) -> str:
        """``SAME``, ``ADDED`` (only B has it), ``REMOVED`` (only A has it) or ``REPLACED`` (different convs)."""
        if self.a is None:
            return ADDED
        if self.b is None:
            return REMOVED
        return SAME if self.a.token == self.b.token else REPLACED

    def describe(self, label_a: str, label_b: str) -> str:
        """"same", "added in E", "removed from A", "replaced: conv3-256 in D → conv1-256 in C"."""
        change = self.change
        if change == ADDED:
            return f"added in {label_b}"
        if change == REMOVED:
            return f"removed from {label_a}" if label_a != label_b else "removed"
        if change == REPLACED and self.a is not None and self.b is not None:
            return f"replaced: {self.a.token} in {label_a} → {self.b.token} in {label_b}"
        return change


def _substitutable(a: Unit, b: Unit) -> bool:
    """A conv can stand in for a conv (another kernel or width), an fc for an fc; nothing else."""
    return a.head.kind == b.head.kind and a.head.kind in {"conv", "fc"}


def align(units_a: Sequence[Unit], units_b: Sequence[Unit]) -> tuple[AlignedLayer, ...]:
    """The cheapest edit from ``units_a`` to ``units_b`` (keep 0, replace 1, add or remove 1 each).

    ``cost[i][j]`` aligns ``units_a[i:]`` with ``units_b[j:]``; walking it from the start and
    preferring keep > replace > remove > add on ties keeps the stages in step from their first layer.
    """
    n, m = len(units_a), len(units_b)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n, -1, -1):
        for j in range(m, -1, -1):
            if i == n or j == m:
                cost[i][j] = (n - i) + (m - j)
                continue
            a, b = units_a[i], units_b[j]
            pair = (0 if a.token == b.token else 1 if _substitutable(a, b) else 2) + cost[i + 1][j + 1]
            cost[i][j] = min(pair, 1 + cost[i + 1][j], 1 + cost[i][j + 1])
    steps: list[tuple[Unit | None, Unit | None]] = []
    i = j = 0
    while i < n or j < m:
        if i < n and j < m:
            a, b = units_a[i], units_b[j]
            step = 0 if a.token == b.token else 1 if _substitutable(a, b) else None
            if step is not None and cost[i][j] == step + cost[i + 1][j + 1]:
                steps.append((a, b))
                i, j = i + 1, j + 1
                continue
        if i < n and (j == m or cost[i][j] == 1 + cost[i + 1][j]):
            steps.append((units_a[i], None))
            i += 1
        else:
            steps.append((None, units_b[j]))
            j += 1
    return tuple(AlignedLayer(position, a, b) for position, (a, b) in enumerate(steps, start=1))


@dataclass(frozen=True)
class StageDiff:
    label: str  # "stage 3" or "head"
    a: StageSummary | None
    b: StageSummary | None
    layers: tuple[AlignedLayer, ...]

    def _delta(self, field: str, missing: int | None = 0) -> Delta:
        return Delta(getattr(self.a, field) if self.a else missing, getattr(self.b, field) if self.b else missing)

    @property
    def params(self) -> Delta:
        return self._delta("params")

    @property
    def macs(self) -> Delta:
        return self._delta("macs")

    @property
    def activation_bytes(self) -> Delta:
        return self._delta("activation_bytes")

    @property
    def receptive_field(self) -> Delta:
        """At the stage's last layer."""
        return self._delta("receptive_field", missing=None)

    @property
    def depth(self) -> Delta:
        """Weight layers (convs, or fully connected layers in the head)."""
        return self._delta("weight_layers")

    def _units(self, change: str, side: str) -> tuple[Unit, ...]:
        return tuple(unit for layer in self.layers if layer.change == change
                     for unit in (getattr(layer, side),) if unit is not None)

    @property
    def added(self) -> tuple[Unit, ...]:
        """B's layers that A lacks."""
        return self._units(ADDED, "b")

    @property
    def removed(self) -> tuple[Unit, ...]:
        """A's layers that B lacks."""
        return self._units(REMOVED, "a")

    @property
    def replaced(self) -> tuple[tuple[Unit, Unit], ...]:
        """(A's layer, B's layer) where a different conv (or fc) stands in the same place."""
        return tuple((layer.a, layer.b) for layer in self.layers
                     if layer.change == REPLACED and layer.a is not None and layer.b is not None)

    @property
    def changed_a(self) -> tuple[Unit, ...]:
        """A's layers that differ from B: removed or replaced."""
        return tuple(layer.a for layer in self.layers if layer.a is not None and layer.change != SAME)

    @property
    def changed_b(self) -> tuple[Unit, ...]:
        """B's layers that differ from A: added or replaced."""
        return tuple(layer.b for layer in self.layers if layer.b is not None and layer.change != SAME)

    def summary(self, label_a: str, label_b: str) -> str:
        """"conv3_3 added", "conv3_3 3×3 → 1×1": what changes in this stage, in words; "" when nothing."""
        parts = [f"{unit.head.paper_name} ({unit.token}) added in {label_b}" for unit in self.added]
        parts += [f"{unit.head.paper_name} ({unit.token}) removed from {label_a}" for unit in self.removed]
        parts += [f"{a.head.paper_name}: {a.token} in {label_a} → {b.token} in {label_b}" for a, b in self.replaced]
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.label,
            "a_layers": [layer.a.token for layer in self.layers if layer.a],
            "b_layers": [layer.b.token for layer in self.layers if layer.b],
            "added": [unit.head.paper_name for unit in self.added],
            "removed": [unit.head.paper_name for unit in self.removed],
            "replaced": [{"a": a.head.paper_name, "a_layer": a.token, "b": b.head.paper_name, "b_layer": b.token}
                         for a, b in self.replaced],
            **{name: getattr(self, name).to_dict() for name in _STAGE_METRICS},
        }


_STAGE_METRICS = {"params": "params", "macs": "MACs", "activation_bytes": "activation bytes",
                  "receptive_field": "RF", "depth": "depth"}


@dataclass(frozen=True)
class Comparison:
    """``a`` and ``b`` aligned by stage; ``changed_paths_*`` are the module paths to highlight on each side
    (a changed conv together with its BN and ReLU)."""

    a: Report
    b: Report
    stages: tuple[StageDiff, ...]

    @property
    def label_a(self) -> str:
        return self.a.label if self.a.label != self.b.label else f"{self.a.label} #1"

    @property
    def label_b(self) -> str:
        return self.b.label if self.a.label != self.b.label else f"{self.b.label} #2"

    @property
    def changed_paths_a(self) -> frozenset[str]:
        """A's removed and replaced layers."""
        return frozenset(path for stage in self.stages for unit in stage.changed_a for path in unit.paths)

    @property
    def changed_paths_b(self) -> frozenset[str]:
        """B's added and replaced layers."""
        return frozenset(path for stage in self.stages for unit in stage.changed_b for path in unit.paths)

    @property
    def totals(self) -> dict[str, Delta]:
        """Whole-network quantities on both sides, in display order."""
        ta, tb = self.a.totals, self.b.totals
        pool_a, pool_b = self.a.last_pool, self.b.last_pool
        return {
            "params": Delta(ta.params, tb.params), "macs": Delta(ta.macs, tb.macs),
            "flops": Delta(ta.flops, tb.flops), "weight_bytes": Delta(ta.weight_bytes, tb.weight_bytes),
            "activation_bytes": Delta(ta.activation_bytes, tb.activation_bytes),
            "peak_activation_bytes": Delta(ta.peak_activation_bytes, tb.peak_activation_bytes),
            "training_adam_bytes": Delta(ta.training_adam.total, tb.training_adam.total),
            "depth": Delta(self.a.spec.weight_layers, self.b.spec.weight_layers),
            "receptive_field": Delta(pool_a.receptive_field if pool_a else None,
                                     pool_b.receptive_field if pool_b else None),
        }

    def stage_table(self) -> pd.DataFrame:
        """One row per stage: each side's layers (paper notation), what changes, and the deltas."""
        la, lb = self.label_a, self.label_b
        rows = []
        for stage in self.stages:
            row: dict[str, Any] = {
                "Stage": stage.label,
                f"{la} layers": ", ".join(layer.a.token for layer in stage.layers if layer.a),
                f"{lb} layers": ", ".join(layer.b.token for layer in stage.layers if layer.b),
                "Changes": stage.summary(la, lb),
            }
            for name, title in _STAGE_METRICS.items():
                delta = getattr(stage, name)
                row |= {f"{la} {title}": delta.a, f"{lb} {title}": delta.b, f"Δ {title}": delta.delta}
            rows.append(row)
        return _frame(rows)

    def layer_table(self) -> pd.DataFrame:
        """One row per aligned step: "conv3_3 (conv1-256)" on each side and the change, in words."""
        la, lb = self.label_a, self.label_b
        return _frame([{
            "Stage": stage.label, "Position": layer.position,
            la: _describe(layer.a), lb: _describe(layer.b), "Change": layer.describe(la, lb),
        } for stage in self.stages for layer in stage.layers])

    def totals_table(self) -> pd.DataFrame:
        la, lb = self.label_a, self.label_b
        return _frame([{"Quantity": name, la: delta.a, lb: delta.b, "Δ": delta.delta, "ratio": delta.ratio}
                       for name, delta in self.totals.items()])

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": {"config": self.a.config, "batch_norm": self.a.batch_norm, "label": self.label_a},
            "b": {"config": self.b.config, "batch_norm": self.b.batch_norm, "label": self.label_b},
            "input_size": [list(self.a.input_size), list(self.b.input_size)],
            "stages": [stage.to_dict() for stage in self.stages],
            "totals": {name: delta.to_dict() for name, delta in self.totals.items()},
            "changed_paths_a": sorted(self.changed_paths_a), "changed_paths_b": sorted(self.changed_paths_b),
        }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Nullable dtypes, so a side without a stage shows a gap instead of turning the column float."""
    import pandas as pd

    return pd.DataFrame(rows).convert_dtypes()


def _describe(unit: Unit | None) -> str:
    return "" if unit is None else f"{unit.head.paper_name} ({unit.token})"


def _stage_units(report: Report) -> dict[str, tuple[StageSummary, tuple[Unit, ...]]]:
    """Stage label -> (summary, the units Table 1 lists), feature stages first, then the head."""
    units = group_units(report.layers)
    return {summary.label: (summary, tuple(unit for unit in units
                                           if unit.stage == summary.stage and unit.head.kind in ALIGNED_KINDS))
            for summary in report.stages}


def _stage_order(labels_a: list[str], labels_b: list[str]) -> list[str]:
    features = sorted({label for label in labels_a + labels_b if label != "head"}, key=lambda s: int(s.split()[1]))
    return [*features, "head"]


def compare(a: Report | NetworkLike, b: Report | NetworkLike, *,
            input_size: tuple[int, int] = (224, 224)) -> Comparison:
    """Align two networks stage by stage (stage i with stage i, head with head), classifying every layer.

    ``a`` and ``b`` are Reports, or Networks (or anything ``Network.resolve`` accepts), analysed at
    ``input_size``.
    """
    report_a = a if isinstance(a, Report) else analyze(a, input_size=input_size)
    report_b = b if isinstance(b, Report) else analyze(b, input_size=input_size)
    staged_a, staged_b = _stage_units(report_a), _stage_units(report_b)
    stages = []
    for label in _stage_order(list(staged_a), list(staged_b)):
        summary_a, units_a = staged_a.get(label, (None, ()))
        summary_b, units_b = staged_b.get(label, (None, ()))
        stages.append(StageDiff(label, summary_a, summary_b, align(units_a, units_b)))
    return Comparison(report_a, report_b, tuple(stages))
