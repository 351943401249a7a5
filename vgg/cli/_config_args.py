"""What the analysis subcommands (summary, compare, diagram) share: how a config is named on the
command line, and plain-text formatting of tables, counts and bytes."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from vgg.analysis import Report, analyze
from vgg.arch import Network

CONFIG_HELP = ("A, A-LRN, B, C, D, E, a torchvision name (vgg16, vgg16_bn: _bn turns on batch norm), "
               "or a spec in quotes, e.g. '64 M 128 M conv1-128 M'")


def add_input_size(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input-size", nargs=2, type=int, default=(224, 224), metavar=("H", "W"),
                        help="input height and width in pixels (default: 224 224)")


def network_arg(config: str, bn_flag: bool) -> Network:
    """The network a CONFIG argument and its --bn flag name: vgg16_bn has batch norm by its name
    (--bn is allowed with it); vgg16 --bn is refused as a contradiction."""
    return Network.resolve(config, batch_norm=True if bn_flag else None)


def analyze_arg(config: str, bn_flag: bool, input_size: Sequence[int]) -> Report:
    height, width = input_size
    return analyze(network_arg(config, bn_flag), input_size=(height, width))


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[bool]) -> str:
    """Aligned plain-text columns; ``right`` says which columns are numbers (right-aligned)."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(header)] + [len(row[index]) for row in cells]) for index, header in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.rjust(width) if align else value.ljust(width)
                         for value, width, align in zip(values, widths, right, strict=True)).rstrip()

    rule = "-" * len(line(["-" * width for width in widths]))
    return "\n".join([line(headers), rule, *(line(row) for row in cells)])
