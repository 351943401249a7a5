"""The lesson, driven step by step through the app, agrees with the analysis engine at every step;
the receptive-field view draws the box the formula gives."""

from __future__ import annotations

import pytest

import vgg
from tests.test_app import assert_clean, run_app
from vgg.format import count, shape
from vgg.teaching.lesson import build_steps

CUSTOM = "32 LRN M 64 conv1-64 M 128"


def expected_steps(config: str, bn: bool):
    report = vgg.analyze(config, batch_norm=bn)
    return build_steps(report.spec.layers, report.layers, batch_norm=bn)


@pytest.mark.parametrize("bn", [False, True])
def test_build_steps_add_up_to_the_analysis(bn):
    report = vgg.analyze("D", batch_norm=bn)
    steps = build_steps(report.spec.layers, report.layers, batch_norm=bn)
    features = [row for row in report.layers if row.name.startswith("features.")]
    assert steps[-1].params_so_far == sum(row.params for row in features)
    assert steps[-1].macs_so_far == sum(row.macs for row in features)
    assert steps[-1].output_shape == (1, 512, 7, 7)
    assert [s.in_channels_after for s in steps[:3]] == [64, 64, 64]


@pytest.mark.slow
@pytest.mark.parametrize(("query", "config"), [({}, "D"), ({"config": "custom", "spec": CUSTOM}, CUSTOM)])
def test_the_lesson_from_first_to_last_step(query, config):
    at = run_app(view="Lesson", **query)
    assert_clean(at)
    steps = expected_steps(config, False)
    for step in steps:
        at.button(key="lesson_next").click().run()
        assert_clean(at)
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Output shape"] == shape(step.output_shape[1:]), step
        assert metrics["Parameters so far"] == count(step.params_so_far), step
        assert metrics["MACs so far"] == count(step.macs_so_far), step
        assert metrics["in_channels"] == str(step.in_channels_after)
    assert at.slider(key="lesson_step").value == len(steps)
    assert any("`features` is complete" in s.value for s in at.success)
    at.button(key="lesson_prev").click().run()
    assert at.slider(key="lesson_step").value == len(steps) - 1


def test_lesson_diagram_grows_with_the_steps():
    at = run_app(view="Lesson", config="A")
    for _ in range(3):  # conv1_1, pool1, conv2_1
        at.button(key="lesson_next").click().run()
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "conv2_1" in dot and "conv3_1" not in dot and "output" not in dot


@pytest.mark.parametrize(("layer", "position"), [("features.10", (28, 28)), ("features.30", (0, 6))])
def test_receptive_field_view_shows_the_formulas_box(layer, position):
    at = run_app(view="Receptive field")
    at.selectbox(key="rf_layer").set_value(layer).run()
    row = vgg.analyze("D").layer(layer)
    size = row.output_shape[2]
    at.slider(key=f"rf_row_{size}").set_value(position[0]).run()
    at.slider(key=f"rf_col_{size}").set_value(position[1]).run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    centre = (row.start + position[0] * row.jump, row.start + position[1] * row.jump)
    assert metrics["Receptive field"] == f"{row.receptive_field} × {row.receptive_field} px"
    assert metrics["Centre in the input"] == f"({centre[0]:g}, {centre[1]:g})"
