"""Two analysed configurations side by side, aligned stage by stage as the paper's Table 1 does.

Within a stage, the layers the paper lists (convs, LRN; fully connected layers in the head) are
aligned by the smallest edit that turns A's stage into B's: a layer is *same* (the same notation,
``conv3-256``, and the same widths in and out), *added* (only B has it: "added in B"), *removed*
(only A has it: "removed in B") or *replaced* (a conv of A in place of a different conv of B: D's
3x3 conv3_3 where C has a 1x1; or the same notation fed a different width, as fc6 after a narrower
stage 5: "replaced: FC 25,088→4,096 in A → FC 12,544→4,096 in B"). Ties keep the layers in step
from the start of the stage, so E's extra conv3_3 and conv3_4 relative to A are added at the end,
as the paper's bold type marks them.

Batch norm is not a layer of the paper's table, but it is a module one side has and the other lacks:
where only one side of an aligned pair of convs has BN, a row of its own follows the pair, added or
removed ("bn1_1", after conv1_1). Those rows are listed and summarised per stage but not highlighted in
the diagrams (against a BN network every conv would be). Deltas are b - a.
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
    follows: str | None = None  # a batch norm row: the paper name of the conv it follows ("conv1_1")

    @property
    def change(self) -> str:
        """``SAME``, ``ADDED`` (only B has it), ``REMOVED`` (only A has it) or ``REPLACED`` (different
        convs, or the same notation at different widths)."""
        if self.a is None:
            return ADDED
        if self.b is None:
            return REMOVED
        return SAME if _same(self.a, self.b) else REPLACED

    @property
    def is_batch_norm(self) -> bool:
        """A batch norm only one side has after an aligned conv."""
        return self.follows is not None

    def describe(self, label_a: str, label_b: str) -> str:
        """"same", "added in E", "removed in A" (only A-LRN, compared with A, has it),
        "replaced: conv3-256 in D → conv1-256 in C"; from B's point of view, as the deltas are."""
        change = self.change
        if change == ADDED:
            return f"added in {label_b}"
        if change == REMOVED:
            return f"removed in {label_b}"
        if change == REPLACED and self.a is not None and self.b is not None:
            a, b = _notations(self.a, self.b)
            return f"replaced: {a} in {label_a} → {b} in {label_b}"
        return change


def _widths(unit: Unit) -> tuple[object, ...]:
    """What makes two layers of the same notation differ: the kernel, the channels (features) in and out."""
    head = unit.head
    return head.kernel_size, head.input_shape[1], head.output_shape[1]


def _same(a: Unit, b: Unit) -> bool:
    return a.token == b.token and _widths(a) == _widths(b)


def _notations(a: Unit, b: Unit) -> tuple[str, str]:
    """Both in the paper's notation ("conv3-256", "conv1-256"), or where what comes in differs, which that
    notation does not say, with the widths in and out: "FC 25,088→4,096", "conv3 512→512"."""
    if a.head.input_shape[1] == b.head.input_shape[1]:
        return a.token, b.token
    return _with_widths(a), _with_widths(b)


def _with_widths(unit: Unit) -> str:
    head = unit.head
    name = f"conv{head.kernel_size[0]}" if head.kind == "conv" and head.kernel_size else unit.token
    return f"{'FC' if head.kind == 'fc' else name} {head.input_shape[1]:,}→{head.output_shape[1]:,}"


def _substitutable(a: Unit, b: Unit) -> bool:
    """A conv can stand in for a conv (another kernel or width), an fc for an fc; nothing else."""
    return a.head.kind == b.head.kind and a.head.kind in {"conv", "fc"}


def _batch_norm(unit: Unit) -> Unit | None:
    """The BN folded into a conv's unit, as a unit of its own."""
    return next((Unit((row,)) for row in unit.rows if row.kind == "bn"), None)


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
            pair = (0 if _same(a, b) else 1 if _substitutable(a, b) else 2) + cost[i + 1][j + 1]
            cost[i][j] = min(pair, 1 + cost[i + 1][j], 1 + cost[i][j + 1])
    steps: list[tuple[Unit | None, Unit | None]] = []
    i = j = 0
    while i < n or j < m:
        if i < n and j < m:
            a, b = units_a[i], units_b[j]
            step = 0 if _same(a, b) else 1 if _substitutable(a, b) else None
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
    return _with_batch_norm(steps)


def _with_batch_norm(steps: Sequence[tuple[Unit | None, Unit | None]]) -> tuple[AlignedLayer, ...]:
    """The steps numbered, each pair where only one side has batch norm followed by that BN's own row."""
    rows: list[tuple[Unit | None, Unit | None, str | None]] = []
    for a, b in steps:
        rows.append((a, b, None))
        if a is not None and b is not None:
            bn_a, bn_b = _batch_norm(a), _batch_norm(b)
            if (bn_a is None) != (bn_b is None):
                rows.append((bn_a, bn_b, (a if bn_a else b).head.paper_name))
    return tuple(AlignedLayer(position, a, b, follows)
                 for position, (a, b, follows) in enumerate(rows, start=1))


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
        """B's layers that A lacks (a batch norm after a conv both have included)."""
        return self._units(ADDED, "b")

    @property
    def removed(self) -> tuple[Unit, ...]:
        """A's layers that B lacks (a batch norm after a conv both have included)."""
        return self._units(REMOVED, "a")

    def _batch_norm_after(self, change: str) -> tuple[str, ...]:
        return tuple(layer.follows for layer in self.layers
                     if layer.follows is not None and layer.change == change)

    @property
    def batch_norm_added(self) -> tuple[str, ...]:
        """The convs (paper names) after which only B has batch norm."""
        return self._batch_norm_after(ADDED)

    @property
    def batch_norm_removed(self) -> tuple[str, ...]:
        """The convs (paper names) after which only A has batch norm."""
        return self._batch_norm_after(REMOVED)

    @property
    def replaced(self) -> tuple[tuple[Unit, Unit], ...]:
        """(A's layer, B's layer) where a different conv (or fc) stands in the same place."""
        return tuple((layer.a, layer.b) for layer in self.layers
                     if layer.change == REPLACED and layer.a is not None and layer.b is not None)

    @property
    def changed_a(self) -> tuple[Unit, ...]:
        """A's layers that differ from B: removed or replaced (not a batch norm row: see the module's doc)."""
        return tuple(layer.a for layer in self.layers
                     if layer.a is not None and layer.change != SAME and not layer.is_batch_norm)

    @property
    def changed_b(self) -> tuple[Unit, ...]:
        """B's layers that differ from A: added or replaced (not a batch norm row)."""
        return tuple(layer.b for layer in self.layers
                     if layer.b is not None and layer.change != SAME and not layer.is_batch_norm)

    def summary(self, label_a: str, label_b: str) -> str:
        """What changes in this stage, in words, from B's point of view; "" when nothing:
        "conv3_3 (conv1-256) added in C", "lrn1 (LRN) removed in A", "conv3_3: conv3-256 in D → conv1-256 in C",
        "batch norm after conv3_1, conv3_2 added in A + BN"."""
        layers = [layer for layer in self.layers if not layer.is_batch_norm]
        parts = [f"{layer.b.head.paper_name} ({layer.b.token}) added in {label_b}"
                 for layer in layers if layer.change == ADDED and layer.b is not None]
        parts += [f"{layer.a.head.paper_name} ({layer.a.token}) removed in {label_b}"
                  for layer in layers if layer.change == REMOVED and layer.a is not None]
        for a, b in self.replaced:
            token_a, token_b = _notations(a, b)
            parts.append(f"{a.head.paper_name}: {token_a} in {label_a} → {token_b} in {label_b}")
        for convs, verb in ((self.batch_norm_added, "added"), (self.batch_norm_removed, "removed")):
            if convs:
                parts.append(f"batch norm after {', '.join(convs)} {verb} in {label_b}")
        return "; ".join(parts)

    def _tokens(self, side: str) -> list[str]:
        """The side's layers in the paper's notation (batch norm is folded into its conv, as the paper lists)."""
        return [unit.token for layer in self.layers if not layer.is_batch_norm
                for unit in (getattr(layer, side),) if unit is not None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.label,
            "a_layers": self._tokens("a"),
            "b_layers": self._tokens("b"),
            "added": [unit.head.paper_name for unit in self.added],
            "removed": [unit.head.paper_name for unit in self.removed],
            "replaced": [{"a": a.head.paper_name, "a_layer": token_a, "b": b.head.paper_name, "b_layer": token_b}
                         for a, b in self.replaced for token_a, token_b in (_notations(a, b),)],
            "batch_norm_added_after": list(self.batch_norm_added),
            "batch_norm_removed_after": list(self.batch_norm_removed),
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
        """A's removed and replaced layers (a batch norm only A has is not highlighted)."""
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
                f"{la} layers": ", ".join(stage._tokens("a")),
                f"{lb} layers": ", ".join(stage._tokens("b")),
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
            la: _describe(layer.a, layer), lb: _describe(layer.b, layer), "Change": layer.describe(la, lb),
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


def _describe(unit: Unit | None, layer: AlignedLayer) -> str:
    """"conv3_3 (conv1-256)", "bn1_1 (BN after conv1_1)", "fc6 (FC 12,544→4,096)" where the notation hides a change."""
    if unit is None:
        return ""
    if layer.is_batch_norm:
        return f"{unit.head.paper_name} (BN after {layer.follows})"
    if layer.change == REPLACED and layer.a is not None and layer.b is not None:
        return f"{unit.head.paper_name} ({_notations(layer.a, layer.b)[0 if unit is layer.a else 1]})"
    return f"{unit.head.paper_name} ({unit.token})"


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
