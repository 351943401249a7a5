"""Presentation settings: projector mode (large type, high contrast) and chart styling."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

# Colours that stay distinct on a washed-out projector and for the common colour-vision deficiencies
# (Okabe-Ito palette).
PALETTE = {"conv": "#0072B2", "fc": "#D55E00", "pool": "#009E73", "other": "#999999",
           "a": "#0072B2", "b": "#E69F00", "added": "#CC79A7"}

_PROJECTOR_CSS = """
<style>
[data-testid="stMain"] { font-size: 22px; }
[data-testid="stMain"] [data-testid="stMetricValue"], [data-testid="stMain"] [data-testid="stMetricValue"] * {
  font-size: 2.8rem !important; font-weight: 700; }
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  font-size: 1.3rem !important; white-space: normal !important; overflow: visible !important; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p, [data-testid="stMain"] li {
  font-size: 1.3rem; line-height: 1.5; }
[data-testid="stMain"] h1 { font-size: 3rem; }
[data-testid="stMain"] h2, [data-testid="stMain"] h3 { font-size: 2.2rem; }
button[role="tab"] p { font-size: 1.4rem !important; font-weight: 600; }
[data-testid="stCaptionContainer"] { font-size: 1.1rem !important; color: #222 !important; }
</style>
"""


def projector_enabled() -> bool:
    return bool(st.session_state.get("projector", False))


def apply(*, projector: bool) -> None:
    if projector:
        st.html(_PROJECTOR_CSS)


def show_chart(figure: go.Figure, *, key: str) -> None:
    """Every chart through here: theme=None so our styling (projector fonts included) is not overridden."""
    st.plotly_chart(figure, key=key, theme=None)


def style_figure(figure: go.Figure, *, height: int = 380) -> go.Figure:
    """One look for every chart; in projector mode bigger fonts, thicker lines, white background."""
    big = projector_enabled()
    figure.update_layout(
        height=height + (120 if big else 0), margin={"l": 10, "r": 10, "t": 50, "b": 10},
        font={"size": 20 if big else 13}, template="plotly_white",
        # Below the plot: inside it, the legend hid the tallest bar (fc6) exactly where the eye should go.
        legend={"orientation": "h", "yanchor": "top", "y": -0.28, "xanchor": "left", "x": 0},
    )
    if big:
        figure.update_traces(selector={"type": "scatter"}, line={"width": 4}, marker={"size": 12})
    return figure
