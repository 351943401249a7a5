"""Compare: two configurations side by side (default A vs E), aligned stage by stage, with the
layers each adds highlighted, the deltas of every total, and optionally one image through both."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import vgg
from explorer import charts, resources
from explorer.sidebar import model_choice_widgets
from explorer.state import AppState
from explorer.style import PALETTE, show_chart
from vgg import format

TITLE = "Compare"
_TOTALS = {  # Comparison.totals key -> (label, formatter)
    "params": ("Parameters", format.count), "macs": ("MACs", format.count), "flops": ("FLOPs", format.count),
    "depth": ("Weight layers", str), "weight_bytes": ("Weights (fp32)", format.nbytes),
    "activation_bytes": ("Activations", format.nbytes), "peak_activation_bytes": ("Peak activations", format.nbytes),
    "training_adam_bytes": ("Training step (Adam)", format.nbytes), "receptive_field": ("RF at last pool", str),
}


def _highlight_added(frame: pd.DataFrame) -> pd.io.formats.style.Styler:
    def colour(row: pd.Series) -> list[str]:
        added = str(row["Change"]).startswith("added") or row["Change"] == "differs"
        return [f"background-color: {PALETTE['added']}33; font-weight: 700" if added else ""] * len(row)

    return frame.style.apply(colour, axis=1)


def _totals(comparison: vgg.Comparison) -> None:
    columns = st.columns(len(_TOTALS) // 2 + 1)
    for index, (key, (label, formatter)) in enumerate(_TOTALS.items()):
        delta = comparison.totals[key]
        if delta.a is None or delta.b is None:
            continue
        columns[index % len(columns)].metric(
            f"{label}: {comparison.label_b}", formatter(delta.b),
            delta=f"{format.signed(delta.delta, formatter) if key != 'depth' else f'{delta.delta:+d}'} vs "
                  f"{comparison.label_a}", delta_color="off")


def _stage_charts(comparison: vgg.Comparison) -> None:
    labels = [stage.label for stage in comparison.stages]
    sides = {"params": "Parameters", "macs": "MACs", "activation_bytes": "Activation bytes"}
    for column, (field, title) in zip(st.columns(len(sides)), sides.items(), strict=True):
        values = {side: [getattr(stage, field).a if side == comparison.label_a else getattr(stage, field).b
                         for stage in comparison.stages]
                  for side in (comparison.label_a, comparison.label_b)}
        with column:
            show_chart(charts.grouped_stage_bars(labels, values, title=f"{title} per stage", y_title=title),
                       key=f"compare_{field}")


def render(state: AppState) -> None:
    st.header("Two configurations side by side")
    left, right = st.columns(2)
    choice_a = model_choice_widgets("a_", label="Configuration A", container=left)
    choice_b = model_choice_widgets("b_", label="Configuration B", container=right)
    report_a = resources.analysis(choice_a, state.input_size)
    report_b = resources.analysis(choice_b, state.input_size)
    comparison = vgg.compare(report_a, report_b)
    _totals(comparison)
    st.subheader("Stage by stage")
    st.caption(f"Layers are aligned from the start of each stage, as the paper's Table 1 does; highlighted rows "
               f"are layers one side adds (in pink in the diagrams below). Δ = {comparison.label_b} − "
               f"{comparison.label_a}.")
    layer_table = comparison.layer_table()
    st.dataframe(_highlight_added(layer_table), hide_index=True, key="compare_layers",
                 height=40 + 35 * len(layer_table))
    st.dataframe(comparison.stage_table(), hide_index=True, key="compare_stages")
    _stage_charts(comparison)
    with st.expander("Diagrams with the added layers highlighted", expanded=False):
        first, second = st.columns(2)
        first.graphviz_chart(vgg.diagram(report_a, highlight=comparison.added_paths_a).source)
        second.graphviz_chart(vgg.diagram(report_b, highlight=comparison.added_paths_b).source)
    if st.toggle("Run the same image through both", key="compare_run_image",
                 help="Builds both real models (hundreds of MB each); the analysis above needs none."):
        from explorer.views.forward import run_side_by_side  # only when asked: it builds real models

        run_side_by_side(state, (choice_a, choice_b))
