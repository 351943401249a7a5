"""The Lesson walks the seed's path (builder -> _vgg -> cfgs -> make_layers -> VGG.__init__ -> initialisation ->
forward) under torchvision's names, with the analysis engine's numbers and the project's real source at every
step; the app shows each step; the receptive-field view draws the box the formula gives."""

from __future__ import annotations

import inspect
import itertools
from pathlib import Path

import pytest
import torch

import vgg
from tests.test_app import assert_clean, run_app
from vgg.arch import VARIANTS
from vgg.format import count, shape
from vgg.teaching import Lesson, Stage, lesson_of

CUSTOM = "32 LRN M 64 conv1-64 M 128"
SEED_ORDER = [Stage.BUILDER, Stage.VGG_FN, Stage.CFG, Stage.MAKE_LAYERS, Stage.VGG_INIT, Stage.INIT, Stage.FORWARD]


def walk(config: str, bn: bool = False) -> Lesson:
    return lesson_of(vgg.analyze(config, batch_norm=bn))


def features(report: vgg.Report) -> list[vgg.analysis.LayerRow]:
    return [row for row in report.layers if row.name.startswith("features.")]


def test_e_with_batch_norm_walks_the_seeds_path_under_its_names():
    steps = walk("E", True).steps
    assert [step.function for step in steps] == (
        ["vgg19_bn", "_vgg", "cfgs"] + ["make_layers"] * 22 + ["VGG.__init__"] * 3
        + ["VGG.reset_parameters", "VGG.forward"])
    assert [step.title for step in steps[:4]] == ["vgg19_bn()", '_vgg("E", True, weights, progress)', 'cfgs["E"]',
                                                  'make_layers(cfgs["E"], batch_norm=True)']
    assert steps[4].title == "make_layers: entry 1 of 21, 64" and steps[6].title == "make_layers: entry 3 of 21, 'M'"
    assert [step.title for step in steps[-5:-2]] == ["VGG.__init__: self.features", "VGG.__init__: self.avgpool",
                                                     "VGG.__init__: self.classifier"]
    assert walk("E", True).stages == tuple(SEED_ORDER)


@pytest.mark.parametrize(("variant", "letter", "bn"), [(name, *VARIANTS[name]) for name in ("vgg11", "vgg13_bn",
                                                                                              "vgg16")])
def test_every_torchvision_config_walks_its_own_builder_and_letter(variant, letter, bn):
    steps = walk(letter, bn).steps
    assert steps[0].title == f"{variant}()"
    assert f'return _vgg("{letter}", {bn}, weights, progress' in steps[0].code[0].excerpt
    assert steps[1].title == f'_vgg("{letter}", {bn}, weights, progress)' and steps[2].title == f'cfgs["{letter}"]'
    assert str(vgg.cfgs[letter]).replace("'", '"') in steps[2].code[0].excerpt  # the letter's own list


@pytest.mark.parametrize("letter", ["A-LRN", "C"])
def test_the_papers_other_configs_start_at_vgg_with_their_letter(letter):
    lesson = walk(letter)
    assert lesson.stages == tuple(SEED_ORDER[1:])
    assert lesson.steps[0].title == f'_vgg("{letter}", False, weights, progress)'
    assert lesson.steps[1].title == f'CONFIGS["{letter}"]'
    assert f'"{letter}": VGGSpec(' in lesson.steps[1].code[0].excerpt


def test_a_custom_spec_starts_at_make_layers_with_the_spec():
    lesson = walk(CUSTOM, True)
    assert lesson.stages == tuple(SEED_ORDER[3:])
    assert lesson.steps[0].title == "make_layers(cfg, batch_norm=True)" and lesson.steps[0].in_channels == 3
    assert lesson.cfg == (32, "LRN", "M", 64, "conv1-64", "M", 128)


@pytest.mark.parametrize(("config", "bn"), [("E", True), ("D", False), ("A-LRN", False), (CUSTOM, True)])
def test_make_layers_steps_add_up_to_the_analysis(config, bn):
    report = vgg.analyze(config, batch_norm=bn)
    entries = [step for step in lesson_of(report).of(Stage.MAKE_LAYERS) if step.entry is not None]
    rows = features(report)
    assert [module.path for step in entries for module in step.appended] == [row.name for row in rows]
    assert sum(step.params for step in entries) == entries[-1].params_so_far == sum(row.params for row in rows)
    assert sum(step.macs for step in entries) == entries[-1].macs_so_far == sum(row.macs for row in rows)
    assert entries[-1].shape == rows[-1].output_shape
    for before, after in itertools.pairwise(entries):  # make_layers' in_channels, handed on
        assert after.in_channels_before == before.in_channels
    convs = [step for step in entries if step.appended[0].module.startswith("Conv2d(")]
    assert [step.in_channels for step in convs] == [conv.out_channels for conv in report.spec.convs]


def test_fc6_has_25088_inputs_and_the_classifier_completes_the_totals():
    report = vgg.analyze("E", batch_norm=True)
    classifier = next(step for step in lesson_of(report).steps if step.title == "VGG.__init__: self.classifier")
    fc6 = classifier.appended[0]
    assert fc6.paper_name == "fc6" and "in_features=25088" in fc6.module
    assert "512 × 7 × 7 = 25,088" in classifier.text and f"{fc6.params:,} parameters" in classifier.text
    assert (classifier.params_so_far, classifier.macs_so_far) == (report.totals.params, report.totals.macs)
    forward = lesson_of(report).steps[-1]
    assert forward.flow[-2] == ("torch.flatten(x, 1)", (1, 25088)) and forward.shape == (1, 1000)


@pytest.mark.parametrize(("size", "says"), [((224, 224), "already are 7 × 7"), ((320, 320), "are 10 × 10, which it "
                                             "averages"), ((64, 64), "only 2 × 2, which it stretches")])
def test_avgpool_says_what_it_does_at_the_input_size(size, says):
    avgpool = lesson_of(vgg.analyze("D", input_size=size)).of(Stage.VGG_INIT)[1]
    assert says in avgpool.text and avgpool.shape == (1, 512, 7, 7)


REAL_FUNCTIONS = {"vgg19_bn": vgg.vgg19_bn, "vgg11": vgg.vgg11, "_vgg": vgg._vgg, "make_layers": vgg.make_layers,
                  "VGG.__init__": vgg.VGG.__init__, "VGG.reset_parameters": vgg.VGG.reset_parameters}


@pytest.mark.parametrize(("config", "bn"), [("E", True), ("A", False), ("C", False), (CUSTOM, False)])
def test_every_code_excerpt_is_the_real_source(config, bn):
    for step in walk(config, bn).steps:
        assert step.code, step.title
        for code in step.code:
            source = Path(code.listing.file).read_text(encoding="utf-8")
            assert code.highlighted and code.excerpt in source, step.title
            for first, end in code.runs(max_gap=3):  # what a projector shows: each run verbatim
                assert "".join(code.listing.lines[first:end]) in source
            real = REAL_FUNCTIONS.get(step.function)
            if real is not None and code.listing.name == real.__qualname__:
                assert code.excerpt in inspect.getsource(real), step.title


def test_the_initialisation_groups_say_what_reset_parameters_draws():
    network = vgg.Network.resolve("64 M 128", batch_norm=True, num_classes=10, hidden_features=256, pooled_size=1)
    groups = {group.paper_names: group for group in walk_network(network).steps[-2].init}
    torch.manual_seed(0)
    model = vgg.build(network)
    conv1 = groups[("conv1_1",)]
    assert conv1.fan_out == 64 * 9 and model.features[0].weight.std().item() == pytest.approx(conv1.std, rel=0.1)
    assert groups[("conv2_1",)].std == pytest.approx((2 / (128 * 9)) ** 0.5)
    assert groups[("bn1_1", "bn2_1")].std is None and torch.all(model.features[1].weight == 1)
    assert model.classifier[0].weight.std().item() == pytest.approx(groups[("fc6", "fc7", "fc8")].std, rel=0.1)


def walk_network(network: vgg.Network) -> Lesson:
    return lesson_of(vgg.analyze(network))


# --- the app ------------------------------------------------------------------------------------------------------

def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.slow
@pytest.mark.parametrize(("query", "config"), [({}, "D"), ({"config": "custom", "spec": CUSTOM}, CUSTOM)])
def test_the_lesson_from_first_to_last_step(query, config):
    at = run_app(view="Lesson", **query)
    assert_clean(at)
    steps = walk(config).steps
    for index, step in enumerate(steps):
        assert at.subheader[0].value == f"`{step.title}`", index
        if step.shape is not None:
            shown = metrics(at)
            assert shown["Output shape"] == shape(step.shape[1:]), step.title
            assert shown["Parameters so far"] == count(step.params_so_far), step.title
            assert shown["MACs so far"] == count(step.macs_so_far), step.title
            if step.in_channels is not None:
                assert shown["in_channels"] == str(step.in_channels)
        if index < len(steps) - 1:
            at.button(key="lesson_next").click().run()
            assert_clean(at)
    assert at.slider(key="lesson_step").value == len(steps)  # counted from 1
    at.button(key="lesson_prev").click().run()
    assert at.slider(key="lesson_step").value == len(steps) - 1


def test_the_path_jumps_to_a_function_and_follows_the_stepper():
    at = run_app(view="Lesson", config="E", bn="true")
    assert at.subheader[0].value == "`vgg19_bn()`"
    at.get("button_group")[0].set_value(Stage.VGG_INIT).run()
    assert_clean(at)
    assert at.subheader[0].value == "`VGG.__init__: self.features`"
    for _ in range(2):
        at.button(key="lesson_next").click().run()
    assert at.subheader[0].value == "`VGG.__init__: self.classifier`"
    assert metrics(at)["Parameters so far"] == count(143_678_248)
    assert at.session_state["lesson_stage"] == Stage.VGG_INIT


def test_lesson_diagram_grows_with_the_steps():
    at = run_app(view="Lesson", config="A")
    for _ in range(6):  # vgg11, _vgg, cfgs, make_layers begins; conv1_1, pool1, conv2_1
        at.button(key="lesson_next").click().run()
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "conv2_1" in dot and "conv3_1" not in dot and "output" not in dot


def test_projector_mode_shows_only_the_lines_that_matter():
    at = run_app(view="Lesson", config="E", bn="true", projector="true")
    for _ in range(5):  # to entry 2, a conv
        at.button(key="lesson_next").click().run()
    listing = next(element.proto.body for element in at.get("html") if "lesson-code" in element.proto.body)
    assert "isinstance(v, Conv)" in listing and "nn.BatchNorm2d(" in listing and "⋮" in listing
    assert "isinstance(v, MaxPool)" not in listing and "def make_layers(" not in listing


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
