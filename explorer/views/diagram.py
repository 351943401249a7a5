"""Diagram: the network as a graph, one cluster per stage, downloadable as DOT (and SVG with Graphviz)."""

from __future__ import annotations

import shutil

import streamlit as st

import vgg
from explorer import resources
from explorer.state import AppState

TITLE = "Diagram"


def render(state: AppState) -> None:
    report = resources.analysis(state.model, state.input_size)
    st.header(f"{state.model.title}: diagram")
    left, right = st.columns(2)
    collapsed = left.toggle("Collapse stages", key="diagram_collapsed",
                            help="One box per stage instead of one per layer")
    across = right.toggle("Left to right", key="diagram_across", help="Fits a wide projector screen better")
    graph = vgg.diagram(report, collapsed=collapsed, rankdir="LR" if across else "TB")
    # Top-down at its natural size stays readable; stretched to the page width it would be enormous.
    st.graphviz_chart(graph.source, width="stretch" if across else "content")
    st.caption("Each box is a layer (BN and ReLU are folded into their conv), with its parameters and MACs; "
               "the edges carry the tensor shape (C × H × W) flowing between layers.")
    stem = f"vgg-{state.model.config.lower()}{'-bn' if state.model.batch_norm else ''}"
    left, right = st.columns(2)
    left.download_button("Download DOT", graph.source, file_name=f"{stem}.dot", mime="text/vnd.graphviz",
                         on_click="ignore")
    if shutil.which("dot"):
        right.download_button("Download SVG", data=lambda: vgg.diagram_svg(graph), file_name=f"{stem}.svg",
                              mime="image/svg+xml", on_click="ignore")
    else:
        right.caption("SVG download needs Graphviz's `dot` on the server (apt-get install graphviz).")
