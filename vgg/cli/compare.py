"""``python -m vgg compare CONFIG_A CONFIG_B``: stage-aligned differences, as the paper's Table 1."""

from __future__ import annotations

import argparse
import json

from vgg.analysis.compare import Comparison, compare
from vgg.cli._config_args import CONFIG_HELP, add_input_size, analyze_arg, format_table
from vgg.format import difference, exact, ratio


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("compare", help="two configurations side by side, stage by stage",
                                   description="Which layers CONFIG_B adds, removes or replaces per stage (the "
                                               "paper's bold entries; batch norm too), and the deltas of params, "
                                               "MACs, memory and RF.")
    parser.add_argument("config_a", metavar="CONFIG_A", help=CONFIG_HELP)
    parser.add_argument("config_b", metavar="CONFIG_B", help="the configuration compared with CONFIG_A")
    parser.add_argument("--bn-a", action="store_true", help="CONFIG_A with batch normalisation")
    parser.add_argument("--bn-b", action="store_true", help="CONFIG_B with batch normalisation")
    add_input_size(parser)
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    comparison = compare(analyze_arg(args.config_a, args.bn_a, args.input_size),
                         analyze_arg(args.config_b, args.bn_b, args.input_size))
    print(json.dumps(comparison.to_dict(), indent=2) if args.json else render(comparison))
    return 0


def _signed(value: int | None) -> str:
    return difference(value, exact)


def render(comparison: Comparison) -> str:
    la, lb = comparison.label_a, comparison.label_b
    stage_rows = [(stage.label, stage.summary(la, lb) or "same",
                   _signed(stage.params.delta), _signed(stage.macs.delta), _signed(stage.depth.delta),
                   f"{stage.receptive_field.a or '-'} -> {stage.receptive_field.b or '-'}")
                  for stage in comparison.stages]
    stages = format_table(("Stage", "Changes", "Δ params", "Δ MACs", "Δ depth", "RF at end"),
                          stage_rows, (False, False, True, True, True, True))
    total_rows = [(name, "-" if delta.a is None else f"{delta.a:,}", "-" if delta.b is None else f"{delta.b:,}",
                   _signed(delta.delta), ratio(delta.b, delta.a, digits=3, suffix=""))
                  for name, delta in comparison.totals.items()]
    totals = format_table(("Total", la, lb, "Δ", f"{lb} / {la}"), total_rows, (False, True, True, True, True))
    return "\n".join([f"{la} vs {lb} (deltas are {lb} - {la})", "", stages, "", totals])
