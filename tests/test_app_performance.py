"""The Performance view through AppTest: renders without measuring, runs the benchmark on a button press
with small settings (a small custom spec, batch sizes 1 and 2), keeps the result across reruns."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd

from tests.test_app import assert_clean, run_app

SMALL = {"view": "Performance", "config": "custom", "spec": "16 M 32 M", "size": "64"}


def _figure(at, key: str) -> dict:
    chart = next(chart for chart in at.get("plotly_chart") if chart.key == key)
    return json.loads(chart.proto.spec)


def _frame(at, column: str) -> pd.DataFrame:
    """The first table with ``column`` (AppTest does not expose a dataframe's key)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def _values(array) -> list[float]:
    """Plotly >= 6 writes arrays as {"dtype", "bdata"} (base64)."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def _run_small():
    at = run_app(**SMALL)
    assert_clean(at)
    at.multiselect(key="perf_batches").set_value([1, 2])
    at.slider(key="perf_repeats").set_value(2)
    at.button(key="perf_run").click().run()
    assert_clean(at)
    return at


def test_renders_without_measuring():
    at = run_app(**SMALL)
    assert_clean(at)
    assert any("Run benchmark" in info.value for info in at.info)
    labels = {metric.label: metric.value for metric in at.metric}
    assert labels["Device"] == "cpu" and "fp32" in labels["Precisions measured"]
    assert "Forward pass" not in labels  # nothing measured yet
    assert {"Weights", "Forward pass, at peak", "Training step (Adam)"} <= set(labels)


def test_run_benchmark_shows_every_section():
    at = _run_small()
    labels = {metric.label: metric.value for metric in at.metric}
    assert labels["Forward pass"].endswith(" ms") and labels["Of the probe"].endswith("%")
    layers = _frame(at, "Of the probe")
    assert list(layers["Paper name"][:3]) == ["conv1_1", "relu1_1", "pool1"]
    assert (layers["GFLOP/s"] != "").sum() == 5  # two convs and three FC layers; the rest empty, not "None"
    sweep = _frame(at, "Images/s")
    assert set(zip(sweep["Layout"], sweep["Batch"], strict=True)) == {
        ("channels_last", 1), ("channels_last", 2), ("nchw", 1), ("nchw", 2)}
    scatter = _figure(at, "perf_time_vs_macs")
    assert {trace["name"] for trace in scatter["data"]} >= {"Convolution", "Fully connected"}
    conv = next(trace for trace in scatter["data"] if trace["name"] == "Convolution")
    assert len(_values(conv["x"])) == 2 and all(ms > 0 for ms in _values(conv["y"]))
    shares = _figure(at, "perf_shares")
    assert abs(sum(_values(shares["data"][0]["x"])) - 1) < 1e-6
    assert len(_figure(at, "perf_throughput")["data"]) == 2  # fast and plain paths


def test_roofline_chart_table_and_sentence():
    at = _run_small()
    figure = _figure(at, "perf_roofline")
    assert figure["layout"]["xaxis"]["type"] == "log" and figure["layout"]["yaxis"]["type"] == "log"
    names = [trace["name"] for trace in figure["data"]]
    assert names[0].startswith("memory roof") and names[1].startswith("compute roof")
    points = [trace for trace in figure["data"] if trace["mode"] == "markers+text"]
    assert sorted(label for trace in points for label in trace["text"]) == sorted(
        ["conv1_1", "conv2_1", "fc6", "fc7", "fc8"])  # one labelled point per layer with FLOPs
    table = _frame(at, "Of the bound")
    assert list(table["Layer"]) == ["conv1_1", "conv2_1", "fc6", "fc7", "fc8"]
    assert set(table["Bound by"]) <= {"compute", "memory"}
    assert table.loc[table["Layer"] == "fc6", "Bound by"].item() == "memory"
    assert any("fc6" in block.value and "memory-bound" in block.value for block in at.markdown)


def test_results_survive_a_rerun_and_say_when_settings_changed():
    at = _run_small()
    before = _frame(at, "Of the probe")
    at.slider(key="perf_repeats").set_value(3).run()
    assert_clean(at)
    assert _frame(at, "Of the probe").equals(before)  # shown again, not measured again
    assert any("have changed since" in caption.value for caption in at.caption)


def test_projector_mode_shows_the_layer_and_roofline_tables_as_static_tables_in_large_type():
    """A data grid keeps its small fixed-size text on a projector: both tables become static tables, the
    layers that compute only, with percentages and separators written out."""
    at = run_app(**SMALL, projector="true")
    assert_clean(at)
    at.multiselect(key="perf_batches").set_value([1])
    at.slider(key="perf_repeats").set_value(2)
    at.button(key="perf_run").click().run()
    assert_clean(at)
    tables = [table.value for table in at.table]
    layers = next(frame for frame in tables if "Of the probe" in frame.columns)
    assert list(layers.columns) == ["Paper name", "MACs", "ms", "GFLOP/s", "Of the probe"]
    assert list(layers["Paper name"]) == ["conv1_1", "conv2_1", "fc6", "fc7", "fc8"]
    assert all(text.endswith("%") for text in layers["Of the probe"])
    roofline = next(frame for frame in tables if "Of the bound" in frame.columns)
    assert list(roofline["Layer"]) == ["conv1_1", "conv2_1", "fc6", "fc7", "fc8"]
    assert all(text.endswith("%") for text in roofline["Of the bound"])
    assert not any("Of the probe" in frame.value.columns or "Of the bound" in frame.value.columns
                   for frame in at.dataframe)
