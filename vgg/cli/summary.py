"""``python -m vgg summary CONFIG``: the layer table and totals, or one JSON object with --json."""

from __future__ import annotations

import argparse
import json

from vgg.analysis import Report
from vgg.cli._config_args import CONFIG_HELP, add_input_size, analyze_arg, format_table
from vgg.format import format_shape, giga, mib

HEADERS = ("Paper name", "Module", "Type", "Output shape", "Params", "MACs", "RF")
RIGHT = (False, False, False, True, True, True, True)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("summary", help="per-layer shapes, params, MACs and receptive fields",
                                   description="Analyse a VGG on the meta device (no weights) and print its "
                                               "layer table with totals.")
    parser.add_argument("config", metavar="CONFIG", help=CONFIG_HELP)
    parser.add_argument("--bn", action="store_true", help="with batch normalisation")
    add_input_size(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead: layers and totals")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    report = analyze_arg(args.config, args.bn, args.input_size)
    print(json.dumps(report.to_dict(), indent=2) if args.json else render(report))
    return 0


def render(report: Report) -> str:
    rows = [(row.paper_name, row.name, row.type, format_shape(row.output_shape), f"{row.params:,}",
             f"{row.macs:,}", row.receptive_field) for row in report.layers]
    return "\n".join([f"VGG {report.label} at {report.input_size[0]}x{report.input_size[1]}, batch "
                      f"{report.batch_size}, {report.dtype}", "", format_table(HEADERS, rows, RIGHT), "",
                      *totals_lines(report)])


def totals_lines(report: Report) -> list[str]:
    totals = report.totals
    weights = " · ".join(f"{mib(size)} {name}" for name, size in totals.weight_bytes_by_dtype.items())
    return [
        f"Params:      {totals.params:,} ({totals.fc_param_share:.1%} in the fully connected layers)",
        f"MACs:        {totals.macs:,} ({giga(totals.macs)}; Conv2d and Linear, no bias: torchvision's _ops)",
        f"FLOPs:       {totals.flops:,} (2 x MACs)",
        f"Weights:     {weights}",
        f"Activations: {mib(totals.activation_bytes)} summed over every module's output; "
        f"{mib(totals.peak_activation_bytes)} peak (largest layer input + output)",
        f"Training:    {mib(totals.training_sgd.total)} with SGD + momentum, {mib(totals.training_adam.total)} with "
        f"Adam, for this batch",
        "             (weights + gradients + optimizer state + activations kept for backward; see --json's "
        "assumptions)",
    ]
