"""Layers: the full analysis table (every column, sortable, grouped by stage), CSV/JSON downloads,
and torchinfo's familiar summary of the same model."""

from __future__ import annotations

import json

import streamlit as st

from explorer import resources
from explorer.state import AppState

TITLE = "Layers"


def render(state: AppState) -> None:
    report = resources.analysis(state.model, state.input_size)
    st.header(f"{state.model.title}: layer by layer")
    frame = report.to_frame()
    labels = {stage.stage: stage.label for stage in report.stages}
    chosen = st.pills("Stages", list(labels), selection_mode="multi", default=list(labels), key="layers_stages",
                      format_func=labels.__getitem__)
    shown = frame[frame["Stage"].isin(chosen or list(labels))]
    st.dataframe(shown, hide_index=True, height=min(40 + 35 * len(shown), 720), key="layers_table")
    st.caption("Click a column header to sort. params: trainable parameters; buffers: BN running statistics; "
               "MACs: multiply-accumulates (conv and linear only); FLOPs = 2 × MACs; RF: receptive field in "
               "input pixels; jump: input pixels between neighbouring positions; start: input coordinate of "
               "position 0's centre.")
    stem = f"vgg-{state.model.config.lower()}{'-bn' if state.model.batch_norm else ''}-{state.input_size[0]}"
    left, right, _ = st.columns([1, 1, 4])
    left.download_button("Download CSV", frame.to_csv(index=False), file_name=f"{stem}.csv", mime="text/csv",
                         on_click="ignore")
    right.download_button("Download JSON", json.dumps(report.to_dict(), indent=2), file_name=f"{stem}.json",
                          mime="application/json", on_click="ignore")
    st.subheader("Per stage")
    st.dataframe(report.stage_frame(), hide_index=True, key="layers_stage_table")
    with st.expander("torchinfo's summary of the same model"):
        st.code(resources.torchinfo_text(state.model, state.input_size), language=None)
