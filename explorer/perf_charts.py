"""Plotly figures of measured performance (vgg.perf results); no Streamlit here, so tests can read them."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from explorer.charts import horizontal_bars
from explorer.style import group_colour, style_figure
from vgg.perf import TIME_GROUPS, LayerTime, Roofline, Sweep, time_group

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
            name=GROUP_LABELS[group], marker={"color": group_colour(group), "size": 10},
            customdata=[[layer.paper_name, layer.name, layer.gflops or 0.0] for layer in members],
            hovertemplate="%{customdata[0]} (%{customdata[1]}): %{x:.3f} GMACs, %{y:.2f} ms, "
                          "%{customdata[2]:.1f} GFLOP/s<extra></extra>")
    figure.update_layout(title=title, xaxis_title="GMACs (multiply-accumulates, billions)",
                         yaxis_title="time (ms, median)")
    style_figure(figure)
    figure.update_layout(legend={"xanchor": "left", "x": 0.01})  # the big convs sit top right
    return figure


def time_shares(shares: dict[str, float], *, title: str) -> go.Figure:
    """``LayerProfile.shares`` (time group -> fraction of the layer times) as bars in their groups' colours."""
    return horizontal_bars([GROUP_LABELS[group] for group in shares], list(shares.values()), title=title,
                           x_title="fraction of the layer times", colour=[group_colour(group) for group in shares])


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


def roofline_chart(line: Roofline, *, title: str) -> go.Figure:
    """Log-log: arithmetic intensity (FLOP/byte) against GFLOP/s. The memory roof rises at the bandwidth's
    slope up to the ridge, the compute roof is flat after it; one labelled point per layer with FLOPs, at
    what it achieved. A point on a roof runs as fast as the hardware allows; below it, it leaves speed."""
    roof = line.roof
    layers = [layer for layer in line.layers if layer.flops and layer.achieved_gflops]
    intensities = [layer.intensity for layer in layers] or [roof.ridge]
    low, high = min(min(intensities), roof.ridge) / 4, max(max(intensities), roof.ridge) * 4
    figure = go.Figure()
    figure.add_scatter(x=[low, roof.ridge], y=[roof.bandwidth_gbs * low, roof.peak_gflops], mode="lines",
                       name=f"memory roof {roof.bandwidth_gbs:,.1f} GB/s",
                       line={"color": group_colour("fc"), "width": 3})
    figure.add_scatter(x=[roof.ridge, high], y=[roof.peak_gflops, roof.peak_gflops], mode="lines",
                       name=f"compute roof {roof.peak_gflops:,.0f} GFLOP/s",
                       line={"color": group_colour("conv"), "width": 3})
    for group in ("conv", "fc"):
        members = [layer for layer in layers if time_group(layer.kind) == group]
        if not members:
            continue
        figure.add_scatter(
            x=[layer.intensity for layer in members], y=[layer.achieved_gflops for layer in members],
            mode="markers+text", text=[layer.paper_name for layer in members], name=GROUP_LABELS[group],
            textposition=_label_positions([layer.intensity for layer in members]),
            marker={"color": group_colour(group), "size": 10, "line": {"color": "white", "width": 1}},
            customdata=[[layer.name, layer.limit, (layer.fraction or 0.0)] for layer in members],
            hovertemplate="%{text} (%{customdata[0]}): %{x:,.1f} FLOP/byte, %{y:,.1f} GFLOP/s, "
                          "%{customdata[1]}-bound, %{customdata[2]:.0%} of its bound<extra></extra>")
    # 0.1 and 1,000, not "100m" and "1e+3"; labels at 1, 2 and 5 of each decade (every minor tick crowded).
    plain_numbers = {"type": "log", "exponentformat": "none", "tickformat": ",.3~r", "dtick": "D2"}
    figure.update_layout(title=title, xaxis_title="arithmetic intensity (FLOP per byte moved, log)",
                         yaxis_title="GFLOP/s (log)")
    style_figure(figure, height=420)
    figure.update_xaxes(**plain_numbers)
    figure.update_yaxes(**plain_numbers)
    return figure


_LABEL_SIDES = ("middle right", "middle left", "top center", "bottom center")


def _label_positions(intensities: Sequence[float]) -> list[str]:
    """Points at (nearly) the same intensity, like fc6, fc7 and fc8 at batch 1, get their labels on
    different sides, so no two labels are drawn over each other."""
    seen: dict[float, int] = {}
    positions = []
    for intensity in intensities:
        slot = round(math.log10(intensity), 1) if intensity > 0 else 0.0
        positions.append(_LABEL_SIDES[seen.get(slot, 0) % len(_LABEL_SIDES)])
        seen[slot] = seen.get(slot, 0) + 1
    return positions
