"""Layers: the full analysis table (every column, sortable, grouped by stage), CSV/JSON downloads,
and torchinfo's familiar summary of the same model."""

from __future__ import annotations

import json

import streamlit as st

from explorer import resources
from explorer.state import AppState
from explorer.style import fitted_code
from explorer.subject import header, subject_of
from explorer.tables import show_table

TITLE = "Layers"
# What a class reads first; the rest are one toggle away (all of them scroll sideways at 1280 px).
KEY_COLUMNS = ["Paper name", "Module", "Kernel", "Output shape", "Params", "MACs", "FLOPs", "Receptive field", "Jump"]
PROJECTOR_COLUMNS = ["Paper name", "Module", "Output shape", "Params", "MACs", "Receptive field"]
STAGE_PROJECTOR_COLUMNS = ["Stage", "Layers", "Params", "MACs", "Output shape", "Receptive field"]


def render(state: AppState) -> None:
    subject = subject_of(state)
    report = resources.analysis(subject.network, subject.input_size)
    header(subject, f"{subject.title}: layer by layer")
    frame = report.to_frame()
    labels = {stage.stage: stage.label for stage in report.stages}
    chosen = st.pills("Stages", list(labels), selection_mode="multi", default=list(labels), key="layers_stages",
                      format_func=labels.__getitem__)
    shown = frame[frame["Stage"].isin(chosen or list(labels))]
    every = st.toggle("All columns", key="layers_all_columns",
                      help="Type, kind, stride, padding, input shape, buffers, activations and start too")
    if not every:
        shown = shown[PROJECTOR_COLUMNS if state.projector else KEY_COLUMNS]
    show_table(shown, key="layers_table", projector=state.projector, height=min(40 + 35 * len(shown), 720))
    st.caption(("" if state.projector else "Click a column header to sort. ")
               + "params: trainable parameters; buffers: BN running statistics; "
               "MACs: multiply-accumulates (conv and linear only); FLOPs = 2 × MACs; RF: receptive field in "
               "input pixels; jump: input pixels between neighbouring positions; start: input coordinate of "
               "position 0's centre.")
    stem = f"{subject.file_stem}-{subject.input_size[0]}"
    left, right, _ = st.columns([1, 1, 2])
    left.download_button("Download CSV", frame.to_csv(index=False), file_name=f"{stem}.csv", mime="text/csv",
                         on_click="ignore")
    right.download_button("Download JSON", json.dumps(report.to_dict(), indent=2), file_name=f"{stem}.json",
                          mime="application/json", on_click="ignore")
    st.subheader("Per stage")
    stages = report.stage_frame()
    show_table(stages if every else stages.drop(columns=["Jump", "Weight layers"]), key="layers_stage_table",
               projector=state.projector, static_columns=None if every else STAGE_PROJECTOR_COLUMNS)
    with st.expander("torchinfo's summary of the same model"):
        fitted_code(resources.torchinfo_text(subject.network, subject.input_size))
