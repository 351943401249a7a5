"""The app's chart builders: every layer labelled on bar and line charts alike (plotly skips labels that crowd)."""

from __future__ import annotations

import vgg
from explorer import charts
from vgg.arch import LayerGroup


def test_every_bar_is_labelled_fc6_included() -> None:
    report = vgg.analyze("E", batch_norm=True)
    figure = charts.per_layer_bars(report.layers, [row.params for row in report.layers], title="Parameters",
                                   y_title="parameters", only_kinds=("conv", "fc"))
    names = [row.paper_name for row in report.layers if row.kind in ("conv", "fc")]
    assert list(figure.layout.xaxis.tickvals) == names and "fc6" in names
    assert figure.layout.xaxis.tickangle == -90  # upright: tilted labels ran into each other


def test_every_point_of_a_line_through_the_network_is_labelled() -> None:
    report = vgg.analyze("E", batch_norm=True)
    rows = [row for row in report.layers if row.kind in vgg.analysis.LEADING_KINDS]
    figure = charts.line_through_network(rows, {"elements": [row.activation_elements for row in rows]},
                                         title="Output size", y_title="elements", log_y=True)
    assert list(figure.layout.xaxis.tickvals) == [row.paper_name for row in rows]
    assert len(rows) == 16 + 5 + 1 + 3  # convs, pools, avgpool, fcs: BN and ReLU keep the size
    assert figure.layout.yaxis.dtick == 1  # a log axis labels its powers of ten only


def test_bars_take_the_colour_of_their_group_as_the_diagram_does() -> None:
    report = vgg.analyze("A", batch_norm=True)
    figure = charts.per_layer_bars(report.layers, [row.params for row in report.layers], title="Parameters",
                                   y_title="parameters", only_kinds=("conv", "fc", "bn", "pool"))
    colours = {trace.name: trace.marker.color for trace in figure.data}
    assert colours == {"Convolution": vgg.analysis.GROUP_COLOUR[LayerGroup.CONV],
                       "Other": vgg.analysis.GROUP_COLOUR[LayerGroup.OTHER],  # BN, stacked on its conv
                       "Pooling": vgg.analysis.GROUP_COLOUR[LayerGroup.POOL],
                       "Fully connected": vgg.analysis.GROUP_COLOUR[LayerGroup.FC]}
    conv_bars = next(trace for trace in figure.data if trace.name == "Convolution")
    bn_bars = next(trace for trace in figure.data if trace.name == "Other")
    assert list(bn_bars.x) == list(conv_bars.x)  # each BN on its conv's bar


def test_time_shares_and_roofline_read_as_the_other_charts() -> None:
    from explorer import perf_charts

    figure = perf_charts.time_shares({"conv": 0.7, "fc": 0.2, "other": 0.1}, title="Share of the time")
    assert list(figure.data[0].marker.color) == [vgg.analysis.GROUP_COLOUR[group] for group in
                                                 (LayerGroup.CONV, LayerGroup.FC, LayerGroup.OTHER)]
    assert list(figure.data[0].text) == ["70.0%", "20.0%", "10.0%"]
