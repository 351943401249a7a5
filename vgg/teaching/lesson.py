"""The Lesson as data: the path torchvision's ``models/vgg.py`` takes to make a network, one step at a time.

For E with batch norm: ``vgg19_bn()`` -> ``_vgg("E", True, weights, progress)`` -> ``cfgs["E"]`` ->
``make_layers`` reading the list entry by entry -> ``VGG.__init__`` (features, avgpool, classifier) ->
the weight initialisation -> ``forward``. A paper configuration torchvision has no builder for (A-LRN, C)
starts at ``_vgg``; a custom spec at ``make_layers``.

Every number comes from the analysis report and the real modules (the network built on the meta device),
every code excerpt from the project's source as it is on disk (``vgg.teaching.source``), so the lesson
cannot drift from the code it teaches.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from torch import nn

from vgg.analysis import LayerRow, Report, meta_model
from vgg.arch import CONFIGS, HIDDEN_FEATURES, NUM_CLASSES, POOLED_SIZE, VGG, Conv, LayerSpec, MaxPool, Network, cfgs
from vgg.arch.configs import DEPTH_NAMES
from vgg.errors import VGGError
from vgg.format import shape as spaced
from vgg.teaching.source import (
    Code,
    builder_listing,
    cfgs_listing,
    dict_entry,
    forward_listing,
    highlight,
    highlighted_lines,
    make_layers_listing,
    reset_parameters_listing,
    vgg_init_listing,
    vgg_listing,
)

Shape = tuple[int, ...]


class Stage(StrEnum):
    """The functions of the seed's path, in the order it runs them."""

    BUILDER = "builder"
    VGG_FN = "_vgg"
    CFG = "cfgs"
    MAKE_LAYERS = "make_layers"
    VGG_INIT = "VGG.__init__"
    INIT = "initialisation"
    FORWARD = "forward"


@dataclass(frozen=True)
class Appended:
    """A module a step added to the network: where it sits, what it is and what it costs."""

    path: str  # torchvision's module path, "features.0"
    paper_name: str  # "conv1_1"
    module: str  # its repr, as torch prints it: "Conv2d(3, 64, kernel_size=(3, 3), ...)"
    output_shape: Shape
    params: int
    macs: int


@dataclass(frozen=True)
class InitGroup:
    """Modules ``reset_parameters`` initialises alike: the rule, and for weights drawn at random their std."""

    paper_names: tuple[str, ...]
    rule: str  # the call, as in the source: "kaiming_normal_(mode='fan_out')"
    fan_out: int | None  # k * k * C_out for a conv: what Kaiming's std divides by
    std: float | None  # of the weights; None for BN's constants


@dataclass(frozen=True)
class LessonStep:
    """One step of the walk. ``params_so_far``/``macs_so_far`` run over the whole path, so after the
    classifier they are the network's totals."""

    stage: Stage
    function: str  # the function whose code runs: "vgg19_bn", "_vgg", "cfgs", "make_layers", "VGG.__init__"
    title: str  # a heading, in code: 'vgg19_bn()', 'cfgs["E"]', 'make_layers: entry 3 of 21, 128'
    text: str  # what happens, in words (Markdown)
    code: tuple[Code, ...]
    appended: tuple[Appended, ...] = ()
    in_channels: int | None = None  # make_layers' variable after this step
    in_channels_before: int | None = None
    shape: Shape | None = None  # the running output shape after this step, batch included
    params_so_far: int = 0
    macs_so_far: int = 0
    entry: int | None = None  # make_layers' entries: which one of the spec (0-based)
    built_until: str | None = None  # the last module path the network has after this step; None: none yet
    flow: tuple[tuple[str, Shape], ...] = ()  # forward: each call and the shape it returns
    init: tuple[InitGroup, ...] = ()

    @property
    def params(self) -> int:
        """This step's own parameters: those of the modules it appended."""
        return sum(module.params for module in self.appended)

    @property
    def macs(self) -> int:
        return sum(module.macs for module in self.appended)


@dataclass(frozen=True)
class Lesson:
    network: Network
    input_size: tuple[int, int]
    cfg: tuple[int | str, ...]  # torchvision's list of the spec (1x1 convs and LRN as text)
    steps: tuple[LessonStep, ...]

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages this network's path goes through, in order (a custom spec starts at make_layers)."""
        return tuple(dict.fromkeys(step.stage for step in self.steps))

    def first_step(self, stage: Stage) -> int:
        return next(index for index, step in enumerate(self.steps) if step.stage is stage)

    def stage_label(self, stage: Stage) -> str:
        """What the path's breadcrumb calls a stage: its call ("vgg19_bn()", 'cfgs["E"]') or function's name."""
        first = self.steps[self.first_step(stage)]
        return {Stage.BUILDER: first.title, Stage.VGG_FN: "_vgg(…)", Stage.CFG: first.title}.get(stage, first.function)

    def of(self, stage: Stage) -> tuple[LessonStep, ...]:
        return tuple(step for step in self.steps if step.stage is stage)


def lesson_of(report: Report) -> Lesson:
    """The seed's path for ``report.network``, with the report's numbers at each step."""
    network, model = report.network, meta_model(report.network)
    steps = [*_call_steps(network), *_make_layers_steps(report, model)]
    steps += _vgg_init_steps(report, model, steps[-1])
    steps += [_init_step(report, model, steps[-1]), _forward_step(report, steps[-1])]
    return Lesson(network, report.input_size, tuple(network.spec.to_list()), tuple(steps))


def _modules(model: VGG) -> Iterable[tuple[str, nn.Module]]:
    """features.*, avgpool, classifier.*: the modules the report has a row for, by path."""
    yield from ((f"features.{i}", m) for i, m in enumerate(model.features))
    yield "avgpool", model.avgpool
    yield from ((f"classifier.{i}", m) for i, m in enumerate(model.classifier))


def _rows(report: Report, sequential: str) -> list[LayerRow]:
    """The report's rows of ``features`` or ``classifier``, in order."""
    return [row for row in report.layers if row.name.startswith(f"{sequential}.")]


def _appended(rows: Sequence[LayerRow], model: VGG) -> tuple[Appended, ...]:
    modules = dict(_modules(model))
    return tuple(Appended(row.name, row.paper_name, repr(modules[row.name]), row.output_shape, row.params, row.macs)
                 for row in rows)


# --- the calls before make_layers ------------------------------------------------------------------------------

def _call_steps(network: Network) -> list[LessonStep]:
    """builder -> _vgg -> cfgs[letter]; only _vgg -> CONFIGS[letter] for A-LRN and C; nothing for a custom spec."""
    letter, bn = network.config, network.batch_norm
    if letter is None or network.head != (NUM_CLASSES, HIDDEN_FEATURES, POOLED_SIZE):  # no letter _vgg knows
        return []
    steps = []
    call = f'_vgg("{letter}", {bn}, weights, progress'
    if network.variant is not None:
        builder = builder_listing(network.variant)
        steps.append(LessonStep(
            Stage.BUILDER, network.variant, f"{network.variant}()",
            f"The function a user calls. It checks `weights` (None here: random weights, no download) and "
            f"hands torchvision's letter for {DEPTH_NAMES[letter]}, `\"{letter}\"`, and `batch_norm={bn}` to `_vgg`, "
            "as all eight builders do.",
            (highlight(builder, f"def {network.variant}(", call),)))
        intro = "The one place the eight builders go through."
    else:
        intro = (f"torchvision has no builder for {letter}, one of the paper's other configurations; this "
                 f"project's `_vgg` takes its letter too, and finds it in `CONFIGS` instead of `cfgs`.")
    table = "cfgs" if letter in cfgs else "CONFIGS"
    steps.append(LessonStep(
        Stage.VGG_FN, "_vgg", f"{call})",
        f"{intro} It looks up `{table}[\"{letter}\"]`, gives that list to `make_layers` with "
        f"`batch_norm={bn}`, and hands the resulting `features` to `VGG`. With published weights it would then "
        "load them; `weights` is None, so the random initialisation stays.",
        (highlight(vgg_listing(), "def _vgg(", "model = VGG(make_layers("),)))
    spec = CONFIGS[letter]
    kinds = f"{len(spec.convs)} convolutions and {spec.num_pools} pools"
    notation = ("a number is a 3×3 convolution with that many output channels, `\"M\"` a 2×2 max pool with "
                "stride 2" if letter in cfgs else
                "the paper's typed entries: `_stage(...)` is a stage's convolutions (a number is a 3×3 one, "
                "`_ONE_BY_ONE_256` a 1×1 one with 256 channels) and the max pool that closes it, `LRN()` local "
                "response normalisation")
    steps.append(LessonStep(
        Stage.CFG, table, f'{table}["{letter}"]',
        f"{DEPTH_NAMES[letter]} is a list: {notation}. {letter} has {kinds}: {len(spec.layers)} entries for "
        "`make_layers` to read.",
        (dict_entry(cfgs_listing(letter), letter),)))
    return steps


# --- make_layers, entry by entry --------------------------------------------------------------------------------

_MODULES_PER_ENTRY = {"lrn": 1, "pool": 1}  # a conv appends conv, (bn), relu


def _make_layers_steps(report: Report, model: VGG) -> list[LessonStep]:
    spec, bn = report.spec, report.batch_norm
    rows = _rows(report, "features")
    source = make_layers_listing()
    cfg = f'cfgs["{report.network.config}"]' if report.network.config in cfgs else "cfg"
    input_shape = (report.batch_size, 3, *report.input_size)
    steps = [LessonStep(
        Stage.MAKE_LAYERS, "make_layers", f"make_layers({cfg}, batch_norm={bn})",
        f"`make_layers` starts with an empty list and `in_channels = 3`: the input is an RGB image, "
        f"{spaced(input_shape[1:])}. It reads the {len(spec.layers)} entries one at a time, appending the "
        "modules each one stands for.",
        (highlight(source, "def make_layers(", "layers: list[nn.Module] = []", "in_channels = 3",
                   "for v in parse_spec(cfg).layers:"),),
        in_channels=3, in_channels_before=3, shape=input_shape)]
    cursor, in_channels, params, macs = 0, 3, 0, 0
    for index, entry in enumerate(spec.layers):
        kind = "conv" if isinstance(entry, Conv) else "pool" if isinstance(entry, MaxPool) else "lrn"
        count = _MODULES_PER_ENTRY.get(kind, 3 if bn else 2)
        taken = rows[cursor:cursor + count]
        if len(taken) != count:
            raise VGGError(f"Spec entry {index + 1} ({entry.to_token()}) has no matching layers in the analysis.")
        cursor += count
        appended = _appended(taken, model)
        before, in_channels = in_channels, entry.out_channels if isinstance(entry, Conv) else in_channels
        params += sum(module.params for module in appended)
        macs += sum(module.macs for module in appended)
        token = spec.to_list()[index]
        steps.append(LessonStep(
            Stage.MAKE_LAYERS, "make_layers", f"make_layers: entry {index + 1} of {len(spec.layers)}, {token!r}",
            _entry_text(entry, taken, before, bn),
            (Code(source, highlighted_lines(kind, bn)),), appended=appended, in_channels=in_channels,
            in_channels_before=before, shape=taken[-1].output_shape, params_so_far=params, macs_so_far=macs,
            entry=index, built_until=taken[-1].name))
    return steps


def _entry_text(entry: LayerSpec, rows: Sequence[LayerRow], before: int, bn: bool) -> str:
    first = rows[0]
    side_in, side_out = first.input_shape[-1], first.output_shape[-1]
    if isinstance(entry, MaxPool):
        return (f"`\"M\"`: a {entry.kernel_size}×{entry.kernel_size} max pool with stride {entry.stride} halves each "
                f"side, {side_in} → {side_out}. No parameters, and by the MACs convention (convolutions and linear "
                f"layers only) no MACs; `in_channels` stays {before}.")
    if not isinstance(entry, Conv):
        return (f"`LRN`: local response normalisation across {entry.size} neighbouring channels, with AlexNet's "
                f"constants (alpha {entry.alpha:g}, beta {entry.beta:g}, k {entry.k:g}). No parameters; the shape "
                "is unchanged.")
    k, out = entry.kernel_size, entry.out_channels
    norm = f", then `BatchNorm2d({out})` (batch_norm=True: {rows[1].params:,} parameters, γ and β)" if bn else ""
    keep = (f"Padding {entry.padding} keeps the side at {side_out}" if side_in == side_out
            else f"The side goes {side_in} → {side_out}")
    return (f"A {k}×{k} convolution from {before} to {out} channels{norm}, and `ReLU(inplace=True)`. {keep}; "
            f"`in_channels` becomes {out}. The convolution has {k}·{k}·{before}·{out} + {out} = {first.params:,} "
            f"parameters and does {k}·{k}·{before} = {k * k * before:,} multiply-accumulates for each of its "
            f"{math.prod(first.output_shape):,} outputs: {first.macs:,} MACs.")


# --- VGG.__init__, the initialisation and forward ---------------------------------------------------------------

def _vgg_init_steps(report: Report, model: VGG, last: LessonStep) -> list[LessonStep]:
    source = vgg_init_listing()
    features = _rows(report, "features")
    avgpool, fc6 = report.layer("avgpool"), report.layer("fc6")
    classifier = _rows(report, "classifier")
    channels, height, width = avgpool.output_shape[1:]
    in_features = model.classifier[0].in_features
    if in_features != channels * height * width or fc6.input_shape[-1] != in_features:
        raise VGGError(f"fc6 takes {in_features} inputs but avgpool gives {channels}×{height}×{width}.")
    hidden, classes = model.classifier[0].out_features, model.classifier[-1].out_features
    dropout = model.classifier[2].p
    params = last.params_so_far + sum(row.params for row in classifier)
    macs = last.macs_so_far + sum(row.macs for row in classifier)
    return [
        LessonStep(Stage.VGG_INIT, "VGG.__init__", "VGG.__init__: self.features",
                   f"`VGG(features, **kwargs)`. `__init__` keeps the `nn.Sequential` that `make_layers` returned as "
                   f"`self.features`: {len(features)} modules, {last.params_so_far:,} parameters, output "
                   f"{spaced(last.shape[1:])} at {report.input_size[0]} × {report.input_size[1]}.",
                   (highlight(source, "def __init__(", "self.features = features"),),
                   shape=last.shape, params_so_far=last.params_so_far, macs_so_far=last.macs_so_far,
                   built_until=last.built_until),
        LessonStep(Stage.VGG_INIT, "VGG.__init__", "VGG.__init__: self.avgpool",
                   f"`AdaptiveAvgPool2d(({height}, {width}))` gives {height} × {width} maps whatever the input "
                   f"size: {_pooled(avgpool, report.input_size)}. That is what lets one classifier take images of "
                   "any size.",
                   (highlight(source, "self.avgpool = "),), appended=_appended([avgpool], model),
                   shape=avgpool.output_shape, params_so_far=last.params_so_far, macs_so_far=last.macs_so_far,
                   built_until=avgpool.name),
        LessonStep(Stage.VGG_INIT, "VGG.__init__", "VGG.__init__: self.classifier",
                   f"Flattened, the pooled map is **{channels} × {height} × {width} = {in_features:,}** numbers, "
                   f"so fc6 is `Linear({in_features}, {hidden})`: it connects each of them to each of its "
                   f"{hidden:,} units, {in_features:,} × {hidden:,} + {hidden:,} = **{fc6.params:,} parameters**, "
                   f"{fc6.params / params:.0%} of the network. fc7 is {hidden:,} → {hidden:,}, fc8 {hidden:,} → "
                   f"{classes:,} (one score per class); between them ReLU and `Dropout(p={dropout:g})`.",
                   (highlight(source, "in_features = ", "# fc6", "# fc7", "# fc8"),),
                   appended=_appended(classifier, model), shape=classifier[-1].output_shape,
                   params_so_far=params, macs_so_far=macs, built_until=classifier[-1].name),
    ]


def _pooled(avgpool: LayerRow, input_size: tuple[int, int]) -> str:
    """What the adaptive avgpool does to the features at this input size, in words."""
    size, features = f"{input_size[0]} × {input_size[1]}", spaced(avgpool.input_shape[2:])
    pooled = spaced(avgpool.output_shape[2:])
    if avgpool.input_shape == avgpool.output_shape:
        return (f"at {size} the features already are {pooled}, so here it changes nothing; a larger image gives "
                f"larger maps, which it averages down to {pooled}")
    if min(avgpool.input_shape[2:]) < min(avgpool.output_shape[2:]):  # a window covers one or two inputs
        return f"at {size} the features are only {features}, which it stretches to {pooled} by repeating values"
    return f"at {size} the features are {features}, which it averages into {pooled}"


def _init_step(report: Report, model: VGG, last: LessonStep) -> LessonStep:
    init = highlight(vgg_init_listing(), "if init_weights:", "self.reset_parameters()")
    reset = highlight(reset_parameters_listing(), "kaiming_normal_(", "nn.init.constant_(m.weight, 1)",
                      "nn.init.normal_(m.weight, 0, 0.01)")
    return LessonStep(
        Stage.INIT, "VGG.reset_parameters", "VGG.__init__: self.reset_parameters()",
        "`init_weights=True`, so `__init__` ends by calling `reset_parameters()`. Before any training the "
        "weights are random but not arbitrary: convolutions get Kaiming normal with `mode=\"fan_out\"`, "
        "std = √(2 / fan_out) with fan_out = k² · C_out, so a signal keeps its scale through the ReLUs; linear "
        "layers N(0, 0.01); batch norm weight 1 and bias 0; every bias 0.",
        (init, reset), shape=last.shape, params_so_far=last.params_so_far, macs_so_far=last.macs_so_far,
        built_until=last.built_until, init=init_groups(model))


def init_groups(model: VGG) -> tuple[InitGroup, ...]:
    """What ``reset_parameters`` gives each module, grouped where the rule and std agree (conv1_1 and conv1_2)."""
    names = {info.path: info.paper_name for info in model.layer_infos}
    groups: dict[tuple[str, int | None, float | None], list[str]] = {}
    for path, module in _modules(model):
        if isinstance(module, nn.Conv2d):
            fan_out = module.out_channels * math.prod(module.kernel_size)
            key: tuple[str, int | None, float | None] = ("kaiming_normal_(mode='fan_out')", fan_out,
                                                         math.sqrt(2 / fan_out))
        elif isinstance(module, nn.BatchNorm2d):
            key = ("constant_: weight 1, bias 0", None, None)
        elif isinstance(module, nn.Linear):
            key = ("normal_(0, 0.01)", None, 0.01)
        else:
            continue
        groups.setdefault(key, []).append(names[path])
    return tuple(InitGroup(tuple(paper_names), *key) for key, paper_names in groups.items())


def _forward_step(report: Report, last: LessonStep) -> LessonStep:
    features = _rows(report, "features")[-1]
    flow = (("x", (report.batch_size, 3, *report.input_size)), ("self.features(x)", features.output_shape),
            ("self.avgpool(x)", report.layer("avgpool").output_shape),
            ("torch.flatten(x, 1)", report.layer("fc6").input_shape),
            ("self.classifier(x)", report.layers[-1].output_shape))
    code = highlight(forward_listing(), "def forward_features(", "return self.features(x)", "def forward_head(",
                     "x = self.avgpool(x)", "x = torch.flatten(x, 1)", "return self.classifier(x)", "def forward(",
                     "return self.forward_head(self.forward_features(x))")
    return LessonStep(
        Stage.FORWARD, "VGG.forward", "VGG.forward(x)",
        "`forward` runs `forward_features` (the input's size checked first, then the features) and `forward_head`: "
        f"avgpool, flatten to one vector per image, the classifier: {spaced(flow[0][1][1:])} in, "
        f"{spaced(flow[-1][1][1:])} scores out.",
        (code,), shape=flow[-1][1], params_so_far=last.params_so_far, macs_so_far=last.macs_so_far,
        built_until=last.built_until, flow=flow)
