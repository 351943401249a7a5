"""Command line: ``python -m vgg SUBCOMMAND``. Each subcommand lives in its own module here and
exposes ``register(subparsers)``, which adds its parser and sets ``handler`` to a function
``(args) -> int``. Errors the user can fix are VGGErrors: one line on stderr, exit status 2."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from vgg.errors import VGGError

# Modules listed here are imported lazily so `python -m vgg summary` does not import the image stack.
SUBCOMMAND_MODULES = ("summary", "compare", "diagram", "predict", "bench", "export", "explain", "train", "experiment")
USAGE_ERROR = 2

__all__ = ["SUBCOMMAND_MODULES", "USAGE_ERROR", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vgg", description="Explore the VGG family from the terminal.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"vgg.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"vgg.cli.{name}":
                raise
            continue  # a subcommand not yet written is simply absent
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except VGGError as error:  # SpecError, InputSizeError, ImageError, WeightsError, ...: messages to act on
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130
