"""Compare: two configurations side by side (default A vs E): both sides' totals with their difference, the
layers aligned stage by stage and classified (same, added, removed, replaced), and optionally one image
through both."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import vgg
from explorer import charts, resources
from explorer.services import run_side_by_side
from explorer.sidebar import choose_b, follow_sidebar_with_b, model_choice_widgets
from explorer.state import AppState
from explorer.style import PALETTE, show_chart, show_diagram, side_by_side
from explorer.tables import show_table
from vgg import format

TITLE = "Compare"
_TOTALS = {  # Comparison.totals key -> (label, formatter)
    "params": ("Parameters", format.count), "macs": ("MACs", format.count), "flops": ("FLOPs", format.count),
    "depth": ("Weight layers", str), "weight_bytes": ("Weights (fp32)", format.nbytes),
    "activation_bytes": ("Activations", format.nbytes), "peak_activation_bytes": ("Peak activations", format.nbytes),
    "training_adam_bytes": ("Training step (Adam)", format.nbytes),
    "receptive_field": ("RF at last pool", lambda px: f"{px:.0f} px"),
}


def _highlight_added(frame: pd.DataFrame) -> pd.io.formats.style.Styler:
    def colour(row: pd.Series) -> list[str]:
        added = row["Change"] != "same"
        return [f"background-color: {PALETTE['added']}33; font-weight: 700" if added else ""] * len(row)

    return frame.style.apply(colour, axis=1)


def totals_frame(comparison: vgg.Comparison) -> pd.DataFrame:
    """Each whole-network quantity for A and for B side by side, the difference B − A, and the ratio."""
    la, lb = comparison.label_a, comparison.label_b
    rows = []
    for key, (label, formatter) in _TOTALS.items():
        delta = comparison.totals[key]
        rows.append({"Quantity": label, la: "" if delta.a is None else formatter(delta.a),
                     lb: "" if delta.b is None else formatter(delta.b),
                     f"{lb} − {la}": format.difference(delta.delta, formatter),
                     f"{lb} / {la}": format.ratio(delta.b, delta.a)})
    return pd.DataFrame(rows)


def _totals(comparison: vgg.Comparison) -> None:
    st.table(totals_frame(comparison), hide_index=True)


def _stage_charts(comparison: vgg.Comparison, projector: bool) -> None:
    labels = [stage.label for stage in comparison.stages]
    sides = {"params": "Parameters", "macs": "MACs", "activation_bytes": "Activation bytes"}
    columns = side_by_side(len(sides), projector=projector)
    for column, (field, title) in zip(columns, sides.items(), strict=True):
        values = {side: [getattr(stage, field).a if side == comparison.label_a else getattr(stage, field).b
                         for stage in comparison.stages]
                  for side in (comparison.label_a, comparison.label_b)}
        with column:
            show_chart(charts.grouped_stage_bars(labels, values, title=f"{title} per stage", y_title=title),
                       key=f"compare_{field}", projector=projector)


def render(state: AppState) -> None:
    st.header("Two configurations side by side")
    left, right = st.columns(2)
    choice_a = model_choice_widgets("a_", label="Configuration A", container=left)
    follow_sidebar_with_b(state.model)
    choice_b = model_choice_widgets("b_", label="Configuration B", container=right, on_change=choose_b)
    if state.compare_b is None:
        right.caption("Follows the sidebar's network until you choose one here.")
    report_a = resources.analysis(choice_a, state.input_size)
    report_b = resources.analysis(choice_b, state.input_size)
    comparison = vgg.compare(report_a, report_b)
    _totals(comparison)
    st.subheader("Stage by stage")
    st.caption(f"Layers are aligned stage by stage, as the paper's Table 1 does: each is the same, added in "
               f"{comparison.label_b} (only {comparison.label_b} has it), removed in {comparison.label_b} (only "
               f"{comparison.label_a} has it), or replaced by a different layer or the same one at other widths; "
               f"a batch norm only one side has is a row of its own. Highlighted rows change (in pink in the "
               f"diagrams below, batch norm aside). Δ = {comparison.label_b} − {comparison.label_a}.")
    layer_table = comparison.layer_table()
    show_table(_highlight_added(layer_table), key="compare_layers", projector=state.projector,
               height=40 + 35 * len(layer_table))
    stage_table = comparison.stage_table()
    la, lb = comparison.label_a, comparison.label_b
    key_columns = ["Stage", "Changes", f"{la} params", f"{lb} params", "Δ params", "Δ MACs", f"{la} RF", f"{lb} RF"]
    show_table(stage_table, key="compare_stages", projector=state.projector,
               static_columns=["Stage", "Changes", "Δ params", "Δ MACs", f"{la} RF", f"{lb} RF"],
               column_config={name: None for name in stage_table.columns if name not in key_columns})
    _stage_charts(comparison, state.projector)
    with st.expander("Diagrams with the changed layers highlighted", expanded=False):
        st.markdown(f"**{la}**")
        show_diagram(vgg.diagram(report_a, highlight=comparison.changed_paths_a).source, stacked_key="a")
        st.markdown(f"**{lb}**")
        show_diagram(vgg.diagram(report_b, highlight=comparison.changed_paths_b).source, stacked_key="b")
    if st.toggle("Run the same image through both", key="compare_run_image",
                 help="Builds both real models (hundreds of MB each); the analysis above needs none."):

        run_side_by_side(state, (choice_a, choice_b))
