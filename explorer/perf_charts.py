"""Plotly figures of measured performance (vgg.perf results); no Streamlit here, so tests can read them."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from explorer.style import PALETTE, style_figure
from vgg.perf import LayerTime, Sweep
from vgg.perf.layers import TIME_GROUPS, time_group

GROUP_LABELS = {"conv": "Convolution", "fc": "Fully connected", "other": "Other (ReLU, pooling, BN, ...)"}


def time_vs_macs(layers: Sequence[LayerTime], *, title: str) -> go.Figure:
    """One point per layer: its MACs (x) against its measured time (y). Points on a line through the
    origin compute at the same rate; layers at x = 0 (ReLU, pooling) cost time without any MACs."""
    figure = go.Figure()
    for group in TIME_GROUPS:
        members = [layer for layer in layers if time_group(layer.kind) == group]
        if not members:
            continue
        figure.add_scatter(
            x=[layer.macs / 1e9 for layer in members], y=[layer.seconds * 1e3 for layer in members], mode="markers",
            name=GROUP_LABELS[group], marker={"color": PALETTE[group], "size": 10},
            customdata=[[layer.paper_name, layer.name, layer.gflops or 0.0] for layer in members],
            hovertemplate="%{customdata[0]} (%{customdata[1]}): %{x:.3f} GMACs, %{y:.2f} ms, "
                          "%{customdata[2]:.1f} GFLOP/s<extra></extra>")
    figure.update_layout(title=title, xaxis_title="GMACs (multiply-accumulates, billions)",
                         yaxis_title="time (ms, median)")
    style_figure(figure)
    figure.update_layout(legend={"xanchor": "left", "x": 0.01})  # the big convs sit top right
    return figure


def sweep_lines(sweep: Sweep, *, metric: str, title: str, y_title: str) -> go.Figure:
    """One line per (precision, layout) over batch size; ``metric`` is a SweepPoint attribute."""
    figure = go.Figure()
    for precision, layout in dict.fromkeys((p.precision, p.layout) for p in sweep.points):
        series = sweep.series(precision, layout)
        figure.add_scatter(x=[p.batch_size for p in series], y=[getattr(p, metric) for p in series],
                           mode="lines+markers", name=f"{precision}, {layout}")
    sizes = sorted({p.batch_size for p in sweep.points})
    figure.update_layout(title=title, xaxis_title="batch size", yaxis_title=y_title,
                         xaxis={"type": "log", "tickvals": sizes, "ticktext": [str(size) for size in sizes]})
    return style_figure(figure, height=340)
