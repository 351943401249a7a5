"""The network as a Graphviz diagram: stages as clusters, one node per layer, shapes on the edges.

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
from vgg.errors import GraphvizNotInstalledError, VGGError
from vgg.format import format_shape, short_count

HIGHLIGHT_FILL = "#CC79A7"  # Okabe-Ito reddish purple: the colour the app marks added layers with
HIGHLIGHT_BORDER = "#7A2E5C"
KIND_FILL = {"conv": "#D4E6F5", "lrn": "#E8E8E8", "pool": "#FBE3C2", "avgpool": "#FBE3C2", "fc": "#D3EFD9"}
END_FILL = "#FFFFFF"
FONT = "Helvetica"


def diagram(report: Report, *, collapsed: bool = False, highlight: Iterable[str] = frozenset(),
            rankdir: str = "TB", until: str | None = None) -> graphviz.Digraph:
    """A Digraph of ``report``: one node per layer in stage clusters, or one node per stage if ``collapsed``.

    ``highlight`` holds module paths (e.g. ``Comparison.added_paths_b``); a node containing any of
    them is filled with ``HIGHLIGHT_FILL``. ``rankdir`` is Graphviz's: "TB" (top-down) or "LR".
    ``until`` (a module path) draws the network only up to that layer, as the lesson builds it (no
    output node; when ``collapsed``, the stages reached so far).
    """
    marked = frozenset(highlight)
    height, width = report.input_size
    graph = graphviz.Digraph(
        name="vgg_" + re.sub(r"\W+", "_", report.label),
        graph_attr={"rankdir": rankdir, "label": f"VGG {report.label} at {height}×{width}", "labelloc": "t",
                    "fontname": FONT, "nodesep": "0.25", "ranksep": "0.35"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": FONT, "fontsize": "10"},
        edge_attr={"fontname": FONT, "fontsize": "9", "color": "#555555"},
    )
    first_input = report.layers[0].input_shape
    graph.node("input", f"input\\n{format_shape(first_input[1:])}", shape="oval", fillcolor=END_FILL)
    units = _units_until(report, until)
    reached = {unit.stage for unit in units}
    stages = tuple(stage for stage in report.stages if stage.stage in reached)
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


def _style(kind: str, highlighted: bool) -> dict[str, str]:
    if highlighted:
        return {"fillcolor": HIGHLIGHT_FILL, "color": HIGHLIGHT_BORDER, "penwidth": "2"}
    return {"fillcolor": KIND_FILL.get(kind, END_FILL)}


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
        graph.node(_stage_id(stage), label, **_style("fc" if stage.is_head else "conv", highlighted))


def _edge_label(shape_out: tuple[int, ...], shape_in: tuple[int, ...]) -> str:
    """The tensor between two nodes, without the batch: "64×224×224", or "512×7×7 → 25088" at a flatten."""
    if not shape_in or shape_out == shape_in:
        return format_shape(shape_out[1:])
    return f"{format_shape(shape_out[1:])} → {format_shape(shape_in[1:])}"


def _add_edges(graph: graphviz.Digraph, steps: list[tuple[str, tuple[int, ...], tuple[int, ...]]]) -> None:
    for (source, _, shape_out), (target, shape_in, _) in pairwise(steps):
        graph.edge(source, target, label=f" {_edge_label(shape_out, shape_in)} ")
