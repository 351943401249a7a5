"""The network as a Graphviz diagram: stages as clusters, one node per layer.

Two layouts. ``"stages"`` (the default) puts the stages side by side, each a column of its layers
with the feature map's size at the top, so the whole of VGG19 fits a 16:9 screen with text large
enough to read from the back of a room; the details (module path, parameters, MACs) are in each
node's tooltip. ``"detailed"`` is one long chain of wide nodes with the tensor shape on every
edge, top-down or left to right (``rankdir``): the one to read on a desk or to print.

Built as DOT text with the ``graphviz`` package, so the app can hand ``.source`` to the browser and
nothing needs Graphviz's ``dot`` program; only ``diagram_svg`` runs it. BN and ReLU (and dropout in
the head) are folded into the node of the conv or fc they follow, which keeps a 19-layer network
readable; the node says what it folds ("conv 3×3, 64 ch + BN + ReLU").
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from itertools import groupby, pairwise

import graphviz

from vgg.analysis.report import Report, StageSummary
from vgg.analysis.units import Unit, group_units
from vgg.arch import LayerGroup, LayerKind, kind_group
from vgg.errors import GraphvizNotInstalledError, VGGError
from vgg.format import format_shape, short_count

HIGHLIGHT_FILL = "#CC79A7"  # Okabe-Ito reddish purple: the colour the app marks added layers with
HIGHLIGHT_BORDER = "#7A2E5C"
# One colour per layer group (vgg.arch's kind -> group table), Okabe-Ito so that they stay distinct on a
# washed-out projector and for the common colour-vision deficiencies. The app's charts draw in them; the
# diagram fills its boxes with a pale tint of them, dark enough text on top, so a conv is blue everywhere.
GROUP_COLOUR: dict[LayerGroup, str] = {LayerGroup.CONV: "#0072B2", LayerGroup.FC: "#D55E00",
                                       LayerGroup.POOL: "#009E73", LayerGroup.OTHER: "#999999"}
END_FILL = "#FFFFFF"


def _tint(colour: str, strength: float) -> str:
    """``colour`` mixed into white: "#0072B2" at 0.3 -> "#B2D5E8"."""
    channels = (int(colour[index:index + 2], 16) for index in (1, 3, 5))
    return "#" + "".join(f"{round(255 - strength * (255 - channel)):02X}" for channel in channels)


GROUP_FILL: dict[LayerGroup, str] = {group: _tint(colour, 0.3) for group, colour in GROUP_COLOUR.items()}
FONT = "Helvetica"
LAYOUTS = ("stages", "detailed")
STAGES_FONT_SIZE = 14  # points; the app scales the drawing to its column, which keeps it at >= 14 px


def diagram(report: Report, *, collapsed: bool = False, highlight: Iterable[str] = frozenset(),
            layout: str = "stages", rankdir: str = "TB", until: str | None = None,
            font_size: float = STAGES_FONT_SIZE, title: bool = True) -> graphviz.Digraph:
    """A Digraph of ``report``: one node per layer in stage clusters, or one node per stage if ``collapsed``.

    ``layout`` is ``"stages"`` (stages side by side, layers stacked inside; ``rankdir`` unused) or
    ``"detailed"`` (one chain with shapes on the edges, ``rankdir`` "TB" top-down or "LR").
    ``highlight`` holds module paths (e.g. ``Comparison.changed_paths_b``); a node containing any of
    them is filled with ``HIGHLIGHT_FILL``. ``until`` (a module path) draws the network only up to
    that layer, as the lesson builds it (no output node; when ``collapsed``, the stages reached so
    far). ``font_size`` (points) is the stage layout's text size; the detailed layout's is fixed.
    ``title=False`` leaves out the stage layout's title line, for a page that has its own heading.
    """
    if layout not in LAYOUTS:
        raise VGGError(f"Unknown diagram layout {layout!r}; use one of {', '.join(LAYOUTS)}.")
    marked = frozenset(highlight)
    units = _units_until(report, until)
    reached = {unit.stage for unit in units}
    stages = tuple(stage for stage in report.stages if stage.stage in reached)
    if layout == "stages" and not collapsed:
        return _stages_diagram(report, stages, units, marked, until is None, font_size, title)
    graph = graphviz.Digraph(
        name=_graph_name(report),
        graph_attr={"rankdir": rankdir, "label": _title(report), "labelloc": "t",
                    "fontname": FONT, "nodesep": "0.25", "ranksep": "0.35"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": FONT, "fontsize": "10"},
        edge_attr={"fontname": FONT, "fontsize": "9", "color": "#555555"},
    )
    if layout == "stages":  # collapsed: one box per stage, in a row
        graph.attr(rankdir="LR", fontsize=str(font_size))
        graph.attr("node", fontsize=str(font_size))
        graph.attr("edge", fontsize=str(font_size * 0.85))
    first_input = report.layers[0].input_shape
    graph.node("input", f"input\\n{format_shape(first_input[1:])}", shape="oval", fillcolor=END_FILL)
    if collapsed:
        steps = [(_stage_id(stage), stage.input_shape, stage.output_shape) for stage in stages]
        _add_stage_nodes(graph, stages, units, marked)
    else:
        steps = [(unit.head.name, unit.input_shape, unit.output_shape) for unit in units]
        _add_layer_clusters(graph, stages, units, marked)
    if until is None:
        graph.node("output", f"output\\n{format_shape(report.layers[-1].output_shape[1:])} logits", shape="oval",
                   fillcolor=END_FILL)
        steps.append(("output", (), ()))
    _add_edges(graph, [("input", first_input, first_input), *steps])
    return graph


def _graph_name(report: Report) -> str:
    return "vgg_" + re.sub(r"\W+", "_", report.label)


def _title(report: Report) -> str:
    height, width = report.input_size
    return f"VGG {report.label} at {height}×{width}"


def _stages_diagram(report: Report, stages: tuple[StageSummary, ...], units: tuple[Unit, ...],
                    marked: frozenset[str], with_output: bool, font_size: float, title: bool) -> graphviz.Digraph:
    """Stages side by side, each a column of its layers; the first layers of all stages share a rank.

    ``newrank`` lets that rank cross the clusters, and invisible edges between the columns' tops
    (flat edges, which dot keeps left to right) fix the stages' order. A stage's pool feeds the next
    column's top: drawn, those edges cut across the boxes, so the reading order says it instead.
    """
    size = str(font_size)
    graph = graphviz.Digraph(
        name=_graph_name(report),
        graph_attr={"rankdir": "TB", "newrank": "true", "label": _title(report) + _folded_note(units) if title else "",
                    "labelloc": "t", "fontname": FONT, "fontsize": size, "nodesep": "0.12", "ranksep": "0.14"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": FONT, "fontsize": size,
                   "margin": "0.06,0.03", "height": "0.3"},
        edge_attr={"color": "#555555", "arrowsize": "0.6"},
    )
    first_input = report.layers[0].input_shape
    ends = {"shape": "box", "style": "rounded", "fillcolor": END_FILL}
    graph.node("input", f"input {format_shape(first_input[1:])}", tooltip=f"input {format_shape(first_input)} "
               "(N×C×H×W)", **ends)
    columns = [[unit for unit in units if unit.stage == stage.stage] for stage in stages]
    for stage, column in zip(stages, columns, strict=True):
        with graph.subgraph(name=f"cluster_{_stage_id(stage)}") as cluster:
            cluster.attr(label=_stage_heading(stage), style="rounded,dashed", color="#999999", fontname=FONT,
                         fontsize=size, margin="6")
            for unit in column:
                cluster.node(unit.head.name, _short_label(unit), tooltip=_tooltip(unit),
                             **_style(unit.head.kind, bool(unit.paths & marked)))
            for upper, lower in pairwise(column):
                cluster.edge(upper.head.name, lower.head.name)
    tops = [column[0].head.name for column in columns if column]
    if with_output and columns:
        graph.node("output", f"output\\n{format_shape(report.layers[-1].output_shape[1:])}",
                   tooltip="the class scores (logits)", **ends)
        graph.edge(columns[-1][-1].head.name, "output")
    if tops:  # the input above the first column; the columns' tops on one rank, left to right
        graph.edge("input", tops[0])
        with graph.subgraph() as rank:
            rank.attr(rank="same")
            for name in tops:
                rank.node(name)
    for left, right in pairwise(tops):
        graph.edge(left, right, style="invis")
    return graph


def _folded_note(units: tuple[Unit, ...]) -> str:
    """What the stage layout's boxes leave out: " · each conv + BN + ReLU"."""
    conv = next((unit for unit in units if unit.head.kind == "conv"), None)
    return f" · each conv{''.join(f' + {name}' for name in conv.folded)}" if conv and conv.folded else ""


def _stage_heading(stage: StageSummary) -> str:
    """"stage 3\\n56×56": the spatial size its layers work at; the head's "head"."""
    if stage.is_head:
        return "head"
    return f"{stage.label}\\n{format_shape(stage.input_shape[2:])}"


def _short_label(unit: Unit) -> str:
    """Two short lines for the stage layout: the paper name and the paper's notation."""
    head = unit.head
    if head.kind == "pool":
        return f"{head.paper_name}\\n→ {format_shape(unit.output_shape[2:])}"
    if head.kind == "avgpool":
        return f"avgpool\\n→ {format_shape(head.output_shape[2:])}"
    if head.kind == "fc":
        return f"{head.paper_name}\\nFC-{head.output_shape[-1]}"
    return f"{head.paper_name}\\n{unit.token}"


def _tooltip(unit: Unit) -> str:
    """Everything the short label leaves out, shown on hover."""
    head = unit.head
    return (f"{head.paper_name} ({head.name}): {_describe(unit)}; out {format_shape(unit.output_shape[1:])}; "
            f"{unit.params:,} params, {unit.macs:,} MACs")


def _units_until(report: Report, until: str | None) -> tuple[Unit, ...]:
    """The units up to the one holding module path ``until`` (all of them when None)."""
    units = group_units(report.layers)
    if until is None:
        return units
    order = {row.name: index for index, row in enumerate(report.layers)}
    if until not in order:
        raise VGGError(f"No layer {until!r} in {report.label}; use a module path like 'features.3'.")
    return tuple(unit for unit in units if order[unit.head.name] <= order[until])


def diagram_svg(graph: graphviz.Digraph) -> bytes:
    """Render with Graphviz's ``dot``; raises ``GraphvizNotInstalledError`` saying what to install if absent."""
    advice = ("SVG export needs Graphviz's `dot` program, which is not installed here: install Graphviz "
              "(apt-get install graphviz, brew install graphviz) or export the DOT text instead.")
    if shutil.which("dot") is None:
        raise GraphvizNotInstalledError(advice)
    try:
        return graph.pipe(format="svg")
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotInstalledError(advice) from error


def _stage_id(stage: StageSummary) -> str:
    return "head" if stage.is_head else f"stage{stage.stage}"


def _style(kind: LayerKind | str, highlighted: bool) -> dict[str, str]:
    if highlighted:
        return {"fillcolor": HIGHLIGHT_FILL, "color": HIGHLIGHT_BORDER, "penwidth": "2"}
    return {"fillcolor": GROUP_FILL[kind_group(kind)]}


def _counts_line(params: int, macs: int) -> str:
    return f"\\n{short_count(params)} params · {short_count(macs)} MACs" if params or macs else ""


def _describe(unit: Unit) -> str:
    """What the unit computes, with the modules folded into it."""
    head = unit.head
    folded = "".join(f" + {name}" for name in unit.folded)
    if head.kind == "conv" and head.kernel_size is not None:
        return f"conv {head.kernel_size[0]}×{head.kernel_size[1]}, {head.output_shape[1]} ch{folded}"
    if head.kind == "pool" and head.kernel_size is not None and head.stride is not None:
        return f"maxpool {head.kernel_size[0]}×{head.kernel_size[1]}, stride {head.stride[0]}"
    if head.kind == "avgpool":
        return f"adaptive avgpool → {format_shape(head.output_shape[2:])}"
    if head.kind == "fc":
        return f"fc {head.input_shape[-1]} → {head.output_shape[-1]}{folded}"
    if head.kind == "lrn":
        return f"local response norm{folded}"
    return f"{head.type}{folded}"


def _unit_label(unit: Unit) -> str:
    head = unit.head
    return f"{head.paper_name}  ({head.name})\\n{_describe(unit)}{_counts_line(unit.params, unit.macs)}"


def _add_layer_clusters(graph: graphviz.Digraph, stages: Iterable[StageSummary], units: tuple[Unit, ...],
                        marked: frozenset[str]) -> None:
    for stage in stages:
        with graph.subgraph(name=f"cluster_{_stage_id(stage)}") as cluster:
            cluster.attr(label=stage.label if stage.is_head else f"{stage.label} ({stage.convs} conv)",
                         style="rounded,dashed", color="#999999", fontname=FONT, fontsize="10")
            for unit in (unit for unit in units if unit.stage == stage.stage):
                cluster.node(unit.head.name, _unit_label(unit), **_style(unit.head.kind, bool(unit.paths & marked)))


def _stage_layers(stage: StageSummary, units: tuple[Unit, ...]) -> str:
    """"conv3-256 ×3, maxpool": runs of the same layer written once with a count."""
    tokens = [unit.token for unit in units if unit.stage == stage.stage]
    return ", ".join(f"{token} ×{count}" if count > 1 else token
                     for token, count in ((token, len(list(run))) for token, run in groupby(tokens)))


def _add_stage_nodes(graph: graphviz.Digraph, stages: tuple[StageSummary, ...], units: tuple[Unit, ...],
                     marked: frozenset[str]) -> None:
    for stage in stages:
        label = (f"{stage.label}\\n{_stage_layers(stage, units)}{_counts_line(stage.params, stage.macs)}"
                 f"\\nRF {stage.receptive_field} px")
        highlighted = bool(set(stage.paths) & marked)
        graph.node(_stage_id(stage), label, **_style(LayerKind.FC if stage.is_head else LayerKind.CONV, highlighted))


def _edge_label(shape_out: tuple[int, ...], shape_in: tuple[int, ...]) -> str:
    """The tensor between two nodes, without the batch: "64×224×224", or "512×7×7 → 25088" at a flatten."""
    if not shape_in or shape_out == shape_in:
        return format_shape(shape_out[1:])
    return f"{format_shape(shape_out[1:])} → {format_shape(shape_in[1:])}"


def _add_edges(graph: graphviz.Digraph, steps: list[tuple[str, tuple[int, ...], tuple[int, ...]]]) -> None:
    for (source, _, shape_out), (target, shape_in, _) in pairwise(steps):
        graph.edge(source, target, label=f" {_edge_label(shape_out, shape_in)} ")
