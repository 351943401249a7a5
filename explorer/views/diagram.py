"""Diagram: the network as a graph, stages side by side (or one detailed chain), downloadable as DOT (and SVG
with Graphviz)."""

from __future__ import annotations

import shutil

import streamlit as st

import vgg
from explorer import resources
from explorer.state import AppState
from explorer.style import show_diagram
from explorer.subject import header, subject_of

TITLE = "Diagram"


def render(state: AppState) -> None:
    subject = subject_of(state)
    report = resources.analysis(subject.network, subject.input_size)
    header(subject, f"{subject.title}: diagram")
    left, right = st.columns(2)
    collapsed = left.toggle("Collapse stages", key="diagram_collapsed",
                            help="One box per stage instead of one per layer")
    detailed = right.toggle("Detailed chain (scrolls)", key="diagram_detailed",
                            help="One long top-down chain with every layer's parameters, MACs and tensor shapes: "
                                 "to read on a desk, too tall for a projector")
    graph = vgg.diagram(report, collapsed=collapsed, layout="detailed" if detailed else "stages")
    if detailed:
        st.graphviz_chart(graph.source, width="content")  # at its natural size; stretched it would be enormous
        st.caption("Each box is a layer (BN and ReLU are folded into their conv), with its parameters and MACs; "
                   "the edges carry the tensor shape (C × H × W) flowing between layers.")
    else:  # the page's heading names the network: the drawing leaves its title out, the download keeps it
        show_diagram(vgg.diagram(report, collapsed=collapsed, title=False).source)
        st.caption("Read left to right: each column is a stage working at the size on top (H × W), its layers "
                   "top-down in the paper's notation (conv3-256: a 3×3 conv with 256 output channels, BN and ReLU "
                   "folded in); a stage's pool feeds the next column. Hover a box for its module path, parameters "
                   "and MACs.")
    stem = subject.file_stem
    left, right = st.columns(2)
    left.download_button("Download DOT", graph.source, file_name=f"{stem}.dot", mime="text/vnd.graphviz",
                         on_click="ignore")
    if shutil.which("dot"):
        right.download_button("Download SVG", data=lambda: vgg.diagram_svg(graph), file_name=f"{stem}.svg",
                              mime="image/svg+xml", on_click="ignore")
    else:
        right.caption("SVG download needs Graphviz's `dot` on the server (apt-get install graphviz).")
