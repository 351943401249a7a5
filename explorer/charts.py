"""Plotly figures built from the library's plain results; no Streamlit here, so tests can read them."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from explorer.style import PALETTE, group_colour, style_figure
from vgg.analysis import LayerRow, group_units
from vgg.arch import LayerGroup, kind_group

_GROUP_LABEL = {LayerGroup.CONV: "Convolution", LayerGroup.FC: "Fully connected", LayerGroup.POOL: "Pooling",
                LayerGroup.OTHER: "Other"}


def per_layer_bars(rows: Sequence[LayerRow], values: Sequence[float], *, title: str, y_title: str,
                   only_kinds: tuple[str, ...]) -> go.Figure:
    """One bar per layer as the diagram draws them (paper name on x, ``values`` aligned with ``rows``),
    coloured by kind: BN, ReLU and dropout are stacked on the bar of the layer they follow (conv3_1's bar:
    its conv, then its BN and ReLU in grey), so VGG19-BN has 25 bars, where 61 labels ran into each other
    under a projector's chart."""
    column = _unit_heads(rows)
    chosen = [(row, value) for row, value in zip(rows, values, strict=True) if row.kind in only_kinds]
    figure = go.Figure()
    for group in dict.fromkeys(kind_group(row.kind) for row, _ in chosen):  # the library's kind -> group table
        members = [(row, value) for row, value in chosen if kind_group(row.kind) == group]
        figure.add_bar(x=[column[row.name] for row, _ in members], y=[value for _, value in members],
                       name=_GROUP_LABEL[group], marker_color=group_colour(group),
                       customdata=[[row.paper_name, row.name] for row, _ in members],
                       hovertemplate="%{customdata[0]} (%{customdata[1]}): %{y:,}<extra></extra>")
    order = list(dict.fromkeys(column[row.name] for row, _ in chosen))
    figure.update_layout(title=title, yaxis_title=y_title, barmode="relative",
                         xaxis={"categoryorder": "array", "categoryarray": order})
    return style_figure(figure)


def _unit_heads(rows: Sequence[LayerRow]) -> dict[str, str]:
    """Module path -> the paper name of the unit it belongs to ("features.2", conv1_1's ReLU -> "conv1_1")."""
    return {row.name: unit.head.paper_name for unit in group_units(rows) for row in unit.rows}


def line_through_network(rows: Sequence, series: dict[str, Sequence[float]], *, title: str, y_title: str,
                         log_y: bool = False) -> go.Figure:
    figure = go.Figure()
    names = [row.paper_name for row in rows]
    for label, values in series.items():
        figure.add_scatter(x=names, y=list(values), mode="lines+markers", name=label)
    figure.update_layout(title=title, yaxis_title=y_title, yaxis_type="log" if log_y else "linear")
    return style_figure(figure)


def grouped_stage_bars(stages: Sequence[str], sides: dict[str, Sequence[float]], *, title: str,
                       y_title: str) -> go.Figure:
    """Two configurations' per-stage values side by side (the Compare view's overlays)."""
    figure = go.Figure()
    for (label, values), colour in zip(sides.items(), (PALETTE["a"], PALETTE["b"]), strict=False):
        figure.add_bar(x=list(stages), y=list(values), name=label, marker_color=colour)
    figure.update_layout(title=title, yaxis_title=y_title, barmode="group")
    return style_figure(figure, height=320)


def horizontal_bars(labels: Sequence[str], values: Sequence[float], *, title: str, x_title: str,
                    colour: str | Sequence[str] = group_colour(LayerGroup.CONV)) -> go.Figure:
    """One bar per label, top to bottom, each with its value as a percentage; ``colour`` one or one per bar."""
    figure = go.Figure(go.Bar(x=list(values), y=list(labels), orientation="h",
                              marker_color=colour if isinstance(colour, str) else list(colour),
                              text=[f"{v:.1%}" for v in values], textposition="auto"))
    figure.update_layout(title=title, xaxis_title=x_title, yaxis={"autorange": "reversed"})
    return style_figure(figure, height=80 + 36 * len(labels))
