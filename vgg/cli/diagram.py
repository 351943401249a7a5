"""``python -m vgg diagram CONFIG``: the Graphviz diagram as DOT text, or as SVG (needs Graphviz's dot)."""

from __future__ import annotations

import argparse
import sys

from vgg.analysis.diagram import LAYOUTS, GraphvizNotInstalledError, diagram, diagram_svg
from vgg.cli import USAGE_ERROR
from vgg.cli._config_args import CONFIG_HELP, add_input_size, analyze_arg


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("diagram", help="the network as a Graphviz diagram (DOT or SVG)",
                                   description="Stages as clusters, one node per layer (BN and ReLU folded into "
                                               "their conv): side by side (stages), or one chain with tensor "
                                               "shapes on the edges (detailed).")
    parser.add_argument("config", metavar="CONFIG", help=CONFIG_HELP)
    parser.add_argument("--bn", action="store_true", help="with batch normalisation")
    parser.add_argument("--collapsed", action="store_true", help="one node per stage")
    parser.add_argument("--layout", choices=LAYOUTS, default="stages",
                        help="stages: side by side, fits a screen (default); detailed: one top-down chain")
    parser.add_argument("--format", choices=("dot", "svg"), default="dot",
                        help="dot (text, default) or svg (runs Graphviz's dot)")
    add_input_size(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    graph = diagram(analyze_arg(args.config, args.bn, args.input_size), collapsed=args.collapsed,
                    layout=args.layout)
    if args.format == "dot":
        print(graph.source)
        return 0
    try:
        svg = diagram_svg(graph)
    except GraphvizNotInstalledError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    sys.stdout.buffer.write(svg)
    return 0
