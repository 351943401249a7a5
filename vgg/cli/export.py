"""``python -m vgg export CONFIG --format onnx|torchscript|pt2 --out PATH``: write the model to a file
another tool can run (ONNX Runtime, Netron, C++ libtorch), checked once for parity: the exported file
runs on random inputs and its logits must be within 1e-4 of the model's, or the command fails and
nothing is written. --json for one object."""

from __future__ import annotations

import argparse
import json

from vgg.cli._config_args import CONFIG_HELP, network_arg
from vgg.cli.predict import RANDOM, _model
from vgg.format import mib
from vgg.perf.export import FORMATS, PARITY_TOLERANCE, ExportResult, check_destination, export


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="write the model to ONNX, TorchScript or torch.export, with parity",
                                   description="Export a VGG to a file and check that the file computes the same "
                                               f"logits (within {PARITY_TOLERANCE:.0e}); fails otherwise.")
    parser.add_argument("config", metavar="CONFIG", help=CONFIG_HELP)
    parser.add_argument("--bn", action="store_true", help="with batch normalisation")
    parser.add_argument("--weights", default=RANDOM, metavar="random|imagenet|PATH",
                        help="random (default, seeded), imagenet (torchvision's, downloaded once), or a .pth file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights (default: 0)")
    parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt",
                        help="onnx (dynamic batch, height and width; checked with ONNX Runtime), torchscript "
                             "(torch.jit.trace) or pt2 (torch.export); the last two are checked with torch")
    parser.add_argument("--out", required=True, metavar="PATH", help="the file to write (replaced atomically)")
    parser.add_argument("--input-size", nargs=2, type=int, default=None, metavar=("H", "W"),
                        help="the size traced and checked (default: 224 224); the file accepts other sizes too")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    check_destination(args.out, args.fmt)  # before building the model: a wrong path fails at once
    model = _model(network_arg(args.config, args.bn), args.weights, args.seed).eval()
    size = tuple(args.input_size) if args.input_size else None
    result = export(model, args.out, args.fmt, input_size=size)
    print(json.dumps(result.to_dict(), indent=2) if args.json else render(result))
    return 0


def render(result: ExportResult) -> str:
    lines = [f"Wrote {result.path} ({result.format}, {mib(result.bytes)}) in {result.seconds:.1f} s.",
             f"Dynamic dimensions: {', '.join(result.dynamic) or 'none'}."]
    lines += [f"Parity with {result.checked_with} on {tuple(check.input_shape)}: largest logit difference "
              f"{check.max_abs_diff:.1e} (largest logit {check.max_abs_logit:.2f})" for check in result.checks]
    if result.format == "onnx":
        lines.append("Open it in Netron (https://netron.app, or `pip install netron; netron FILE`) to see the graph.")
    return "\n".join(lines)
