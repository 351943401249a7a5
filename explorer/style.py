"""Presentation settings: projector mode (large type, high contrast) and chart styling."""

from __future__ import annotations

import html

import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from vgg.analysis import GROUP_COLOUR, HIGHLIGHT_FILL
from vgg.arch import LayerGroup

# Colours that stay distinct on a washed-out projector and for the common colour-vision deficiencies
# (Okabe-Ito palette): Compare's two sides, and what it highlights, in the diagram's highlight colour.
PALETTE = {"a": "#0072B2", "b": "#E69F00", "added": HIGHLIGHT_FILL}


def group_colour(group: LayerGroup | str) -> str:
    """A layer group's colour ("conv" or LayerGroup.CONV), the library's: charts and diagram agree."""
    return GROUP_COLOUR[LayerGroup(group)]


DEFAULT_HEIGHT = 380  # px of a chart on a desk; projector mode adds room for its larger type
# Lines and bars without a colour of their own take these, in order (Okabe-Ito, then grey).
COLORWAY = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#999999"]

# Always: nothing a class reads is cut to an ellipsis, and the tab bar wraps onto a second row
# rather than scrolling its last tabs out of sight (the Paper tab sat off-screen at 1280 px).
_BASE_CSS = """
<style>
[data-testid="stTabs"] [role="tablist"] { flex-wrap: wrap; row-gap: 0.2rem; overflow: visible; }
[data-testid="stMetricValue"] *, [data-testid="stMetricLabel"] *, [data-testid="stMetricDelta"] *,
[data-testid="stMetricValue"], [data-testid="stMetricLabel"], [data-testid="stMetricDelta"] {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
[data-testid="stMain"] button p { white-space: normal; overflow: visible; text-overflow: clip; }
[data-testid="stMain"] label *, [data-testid="stWidgetLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
/* A diagram stretched to the width keeps to the screen's height (the page's heading sits above it). */
[data-testid="stGraphVizChart"] svg { max-height: max(340px, calc(100vh - 330px)); }
/* Diagrams stacked one above the other (Compare's A and B) each take half a screen where that is tall
   enough (both in view at 1920x1080), and at least 34rem, which keeps VGG19's 14 pt text above 14 px
   on screen at 1280x720: capped like the one above, it was drawn at 9-10 px. */
[class*="st-key-stacked_diagram_"] [data-testid="stGraphVizChart"] svg { max-height: max(calc(50vh - 3rem), 34rem); }
</style>
"""

_PROJECTOR_CSS = """
<style>
[data-testid="stMain"] { font-size: 22px; }
[data-testid="stMain"] [data-testid="stMetricValue"], [data-testid="stMain"] [data-testid="stMetricValue"] * {
  font-size: 2.2rem !important; font-weight: 700; line-height: 1.2; }
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * { font-size: 1.2rem !important; }
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * { font-size: 1.1rem !important; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p, [data-testid="stMain"] li {
  font-size: 1.3rem; line-height: 1.5; }
[data-testid="stMain"] h1 { font-size: 3rem; }
[data-testid="stMain"] h2, [data-testid="stMain"] h3 { font-size: 2.2rem; }
[role="tab"] p { font-size: 1.3rem !important; font-weight: 600; }
[data-testid="stMain"] button p { font-size: 1.15rem; }
[data-testid="stCaptionContainer"] { font-size: 1.1rem !important; color: #222 !important; }
[data-testid="stMain"] [data-testid="stTable"] th, [data-testid="stMain"] [data-testid="stTable"] td {
  font-size: 1.2rem !important; padding: 0.35rem 0.6rem; }
[data-testid="stMain"] [data-testid="stCode"] code { font-size: 1.0rem; }
</style>
"""


def apply(*, projector: bool) -> None:
    st.html(_BASE_CSS + (_PROJECTOR_CSS if projector else ""))


def show_chart(figure: go.Figure, *, key: str, projector: bool) -> None:
    """Every chart through here: theme=None so our styling (projector fonts included) is not overridden.

    ``projector`` is the page's Projector mode (``AppState.projector``), handed down by the view: the
    figures themselves are built the same for every screen, so tests and exports read one figure.
    The title is drawn by the page above the chart, where it wraps to the column and follows projector
    mode's type: inside the figure plotly cut long titles off at the top or mid-word.
    """
    shown = go.Figure(figure)  # the caller's figure keeps its title and its desk-sized fonts
    title = figure.layout.title.text
    if title:
        shown.update_layout(title=None, margin={"t": 10})
        st.markdown(f"**{html.escape(title.replace('<br>', ' '))}**")
    if projector:
        _enlarge(shown)
    st.plotly_chart(shown, key=key, theme=None)


def _enlarge(figure: go.Figure) -> None:
    """Projector mode: bigger fonts, a taller plot for them, thicker lines and markers."""
    figure.update_layout(height=(figure.layout.height or DEFAULT_HEIGHT) + 120, font={"size": 20})
    figure.update_traces(selector={"type": "scatter"}, line={"width": 4}, marker={"size": 12})


def side_by_side(spec: int | list[int], *, projector: bool) -> list[DeltaGenerator]:
    """Columns (``st.columns(spec)``) on a desk; on a projector the same areas one above the other, as wide
    as the page: in half its width a chart's layer labels and a table's columns did not fit the large type."""
    count = spec if isinstance(spec, int) else len(spec)
    return [st.container() for _ in range(count)] if projector else list(st.columns(spec))


PICTURE_SIDE = 448  # px a small input is enlarged to (by whole pixels), so a 32 px image and its box can be read


def display_scale(input_size: tuple[int, int]) -> int:
    """The whole factor that enlarges an input of ``input_size`` to about PICTURE_SIDE px (1 when it is larger):
    a 32 × 32 input drawn as is is a stamp, and a 2 px outline covers a sixteenth of it."""
    return max(1, PICTURE_SIDE // max(input_size))


def fitted_code(text: str) -> None:
    """A fixed-width table (torchinfo's summary) whose type shrinks until its longest line fits the column:
    wrapping would break its columns, and a sideways scroll hides them."""
    longest = max((len(line) for line in text.splitlines()), default=1)
    # A monospace character is ~0.6 em wide; cqw is 1% of the wrapper's width.
    size = f"min(0.9rem, calc(100cqw / {longest * 0.61:.1f}))"
    st.html(f"<div style='container-type:inline-size'><pre class='fitted-code' style='font-size:{size};"
            f"line-height:1.35;background:#f6f8fa;padding:0.5rem 0;margin:0;overflow-x:auto'>"
            f"{html.escape(text)}</pre></div>")


def show_diagram(source: str, *, stacked_key: str | None = None) -> None:
    """A diagram of vgg.diagram's stage layout, as large as the page's width and the screen's height allow
    (the CSS above caps its height): the whole of VGG19 with its 14 pt text at 15 px or more from
    1280x720 up, under the page's heading.

    ``stacked_key`` (unique on the page) marks one of several diagrams stacked one above the other, each
    under a label of its own rather than under the page's heading: it may be taller (see the CSS).
    """
    if stacked_key is None:
        st.graphviz_chart(source, width="stretch")
        return
    with st.container(key=f"stacked_diagram_{stacked_key}"):
        st.graphviz_chart(source, width="stretch")


def style_figure(figure: go.Figure, *, height: int = DEFAULT_HEIGHT) -> go.Figure:
    """One look for every chart (``show_chart`` enlarges it in projector mode).

    Every category of a bar or line chart gets its tick label (plotly drops some when they crowd: fc6
    went missing), counts read 1.5G rather than 1.5B, and a log axis labels its powers of ten only (1M,
    10M, 100M). The title stays in the figure's layout; ``show_chart`` draws it above the chart.
    """
    figure.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 50, "b": 10},
        font={"size": 13}, template="plotly_white", colorway=COLORWAY,
        # Above the plot, under the title: inside it the legend hid the tallest bar (fc6), and below it
        # it sat on the layers' tick labels.
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0},
    )
    figure.update_xaxes(automargin=True, exponentformat="SI")
    figure.update_yaxes(automargin=True, exponentformat="SI")
    _label_every_category(figure)
    for axis in (figure.layout.xaxis, figure.layout.yaxis):
        if axis.type == "log" and axis.tickvals is None:
            axis.update(dtick=1, tickformat="~s")
    return figure


def _label_every_category(figure: go.Figure) -> None:
    """Pin a tick to every category of the bar and line traces (layers along the network), so none is
    skipped: plotly drops every other one when they crowd, as it did on a projector's 1280 px."""
    for letter in ("x", "y"):
        categories: dict[str, None] = {}
        for trace in figure.data:
            horizontal = getattr(trace, "orientation", None) == "h"
            if trace.type not in ("bar", "scatter") or (letter == "x") == horizontal:
                continue
            categories |= dict.fromkeys(value for value in (getattr(trace, letter) or ()) if isinstance(value, str))
        if categories:
            axis = figure.layout.xaxis if letter == "x" else figure.layout.yaxis
            order = list(axis.categoryarray) if axis.categoryarray is not None else list(categories)
            axis.update(tickmode="array", tickvals=order, ticktext=order)
            if letter == "x" and len(order) > 8:  # upright, side by side: tilted labels ran into each other
                axis.update(tickangle=-90)
