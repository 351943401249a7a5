"""The app's chart builders: every layer labelled on bar and line charts alike (plotly skips labels that crowd)."""

from __future__ import annotations

import vgg
from explorer import charts


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
