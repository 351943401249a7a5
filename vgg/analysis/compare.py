"""Two analysed configurations side by side, aligned stage by stage as the paper's Table 1 does.

Within a stage, the layers the paper lists (convs, LRN; fully connected layers in the head) are
aligned from the start of the stage. A layer is *added* on one side when the other side has no
layer of the same notation (``conv3-256``, ``conv1-256``, ``LRN``) at that position: E's extra
conv3_3 and conv3_4 relative to A, C's 1x1 conv3_3 relative to B (and D's 3x3 conv3_3 relative
to C). That is what the paper's bold type marks. Batch norm is not a layer of the paper's table: a
BN-only difference shows in the parameter deltas, not as added layers. Deltas are b - a.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest
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


@dataclass(frozen=True)
class AlignedLayer:
    """The layers at one position of a stage on each side (None where that side has fewer)."""

    position: int  # 1-based within the stage
    a: Unit | None
    b: Unit | None

    @property
    def added_in_a(self) -> bool:
        return self.a is not None and (self.b is None or self.a.token != self.b.token)

    @property
    def added_in_b(self) -> bool:
        return self.b is not None and (self.a is None or self.a.token != self.b.token)

    @property
    def change(self) -> str:
        """"same", "added in a", "added in b", or "differs" (both sides have a layer, not the same)."""
        if self.added_in_a and self.added_in_b:
            return "differs"
        return "added in a" if self.added_in_a else "added in b" if self.added_in_b else "same"


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

    @property
    def added_a(self) -> tuple[Unit, ...]:
        return tuple(layer.a for layer in self.layers if layer.added_in_a and layer.a is not None)

    @property
    def added_b(self) -> tuple[Unit, ...]:
        return tuple(layer.b for layer in self.layers if layer.added_in_b and layer.b is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.label,
            "a_layers": [layer.a.token for layer in self.layers if layer.a],
            "b_layers": [layer.b.token for layer in self.layers if layer.b],
            "added_a": [unit.head.paper_name for unit in self.added_a],
            "added_b": [unit.head.paper_name for unit in self.added_b],
            **{name: getattr(self, name).to_dict() for name in _STAGE_METRICS},
        }


_STAGE_METRICS = {"params": "params", "macs": "MACs", "activation_bytes": "activation bytes",
                  "receptive_field": "RF", "depth": "depth"}


@dataclass(frozen=True)
class Comparison:
    """``a`` and ``b`` aligned by stage; ``added_paths_*`` are the module paths to highlight on each side
    (an added conv together with its BN and ReLU)."""

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
    def added_paths_a(self) -> frozenset[str]:
        return frozenset(path for stage in self.stages for unit in stage.added_a for path in unit.paths)

    @property
    def added_paths_b(self) -> frozenset[str]:
        return frozenset(path for stage in self.stages for unit in stage.added_b for path in unit.paths)

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
        """One row per stage: each side's layers (paper notation), what each side adds, and the deltas."""
        la, lb = self.label_a, self.label_b
        rows = []
        for stage in self.stages:
            row: dict[str, Any] = {
                "Stage": stage.label,
                f"{la} layers": ", ".join(layer.a.token for layer in stage.layers if layer.a),
                f"{lb} layers": ", ".join(layer.b.token for layer in stage.layers if layer.b),
                f"{la} adds": ", ".join(unit.head.paper_name for unit in stage.added_a),
                f"{lb} adds": ", ".join(unit.head.paper_name for unit in stage.added_b),
            }
            for name, title in _STAGE_METRICS.items():
                delta = getattr(stage, name)
                row |= {f"{la} {title}": delta.a, f"{lb} {title}": delta.b, f"Δ {title}": delta.delta}
            rows.append(row)
        return _frame(rows)

    def layer_table(self) -> pd.DataFrame:
        """One row per aligned position: "conv3_3 (conv1-256)" on each side and the change."""
        la, lb = self.label_a, self.label_b
        change = {"added in a": f"added in {la}", "added in b": f"added in {lb}"}
        return _frame([{
            "Stage": stage.label, "Position": layer.position,
            la: _describe(layer.a), lb: _describe(layer.b), "Change": change.get(layer.change, layer.change),
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
            "added_paths_a": sorted(self.added_paths_a), "added_paths_b": sorted(self.added_paths_b),
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
    """Align two networks stage by stage (stage i with stage i, head with head) and mark added layers.

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
        aligned = tuple(AlignedLayer(position, a, b)
                        for position, (a, b) in enumerate(zip_longest(units_a, units_b), start=1))
        stages.append(StageDiff(label, summary_a, summary_b, aligned))
    return Comparison(report_a, report_b, tuple(stages))
