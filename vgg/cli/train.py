"""``python -m vgg train CONFIG``: train a mini VGG on a dataset that ships offline, print the curve,
and save a self-describing checkpoint with --out (usable by ``predict --weights`` and the app)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from vgg.train import DATASETS, Progress, Recipe, TrainResult, fit, save_checkpoint

_DEFAULTS = Recipe()


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train a mini VGG on digits or shapes (offline, seconds to minutes on a CPU)",
        description="Train a mini VGG (the configuration's widths divided by --width-divisor, a 32x32 or 64x64 "
                    "input) with the paper's recipe scaled down: SGD, momentum 0.9, weight decay, dropout, "
                    "learning rate / 10 when the test accuracy stops improving.")
    add_recipe_arguments(parser)
    parser.add_argument("--out", metavar="PATH", help="save the trained model to this .pth checkpoint")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end instead of a table")
    parser.set_defaults(handler=run)


def add_recipe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", metavar="CONFIG", help="A, A-LRN, B, C, D, E, or a spec in quotes ('64 M 128 M')")
    parser.add_argument("--bn", action="store_true", help="with batch normalisation")
    parser.add_argument("--dataset", choices=DATASETS, default=_DEFAULTS.dataset, help="default: digits")
    parser.add_argument("--epochs", type=int, default=_DEFAULTS.epochs, help=f"default: {_DEFAULTS.epochs}")
    parser.add_argument("--lr", type=float, default=_DEFAULTS.lr,
                        help=f"initial learning rate (default: {_DEFAULTS.lr})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, batches and dropout (default: 0)")
    parser.add_argument("--width-divisor", type=int, default=_DEFAULTS.width_divisor,
                        help=f"divide every width by this (default: {_DEFAULTS.width_divisor}: 64..512 -> 8..64)")
    parser.add_argument("--batch-size", type=int, default=_DEFAULTS.batch_size,
                        help=f"default: {_DEFAULTS.batch_size}")
    parser.add_argument("--init", choices=("torchvision", "paper"), default=_DEFAULTS.init,
                        help="torchvision's initialisation (default) or the paper's N(0, 10^-2)")
    parser.add_argument("--input-size", type=int, default=None, metavar="PX",
                        help="side of the square input in pixels, 32 to 256 (default: the dataset's, 32 for digits "
                             "and 64 for shapes)")
    parser.add_argument("--anneal-epochs", type=int, default=_DEFAULTS.anneal_epochs, metavar="N",
                        help="run the last N epochs at a tenth of the learning rate (default: 0, off)")
    parser.add_argument("--dropout", type=float, default=None,
                        help="dropout in fc6 and fc7 (default: the dataset's, 0.5 for digits and 0 for shapes)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default: 1; see docs/training.md)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, or auto")


def recipe_from(args: argparse.Namespace) -> Recipe:
    return Recipe(args.config, batch_norm=args.bn, dataset=args.dataset, epochs=args.epochs, lr=args.lr,
                  seed=args.seed, width_divisor=args.width_divisor, batch_size=args.batch_size, init=args.init,
                  dropout=args.dropout, input_size=args.input_size, anneal_epochs=args.anneal_epochs)


def run(args: argparse.Namespace) -> int:
    recipe = recipe_from(args)
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    result = fit(recipe, callback=bar, device=args.device, threads=args.threads)
    if bar is not None:
        bar.close()
    if result.divergence:
        print(f"vgg train: {result.divergence}", file=sys.stderr)
        return 1
    saved = save_checkpoint(result, args.out) if args.out else None
    if args.json:
        print(json.dumps({**to_json(result), "checkpoint": str(saved) if saved else None}, indent=2))
    else:
        print(render(result, saved))
    return 0


def to_json(result: TrainResult) -> dict[str, object]:
    return {"config": result.recipe.config, "batch_norm": result.recipe.batch_norm, "label": result.network.label,
            "dataset": result.dataset.name, "spec": result.network.spec.to_text(),
            "width_divisor": result.network.width_divisor, "input_size": result.network.input_size,
            "recipe": result.recipe.to_dict(), **result.summary()}


def render(result: TrainResult, saved: object) -> str:
    lines = [f"{result.network.label} on {result.dataset.name} ({len(result.dataset.train)} train / "
             f"{len(result.dataset.test)} test images, {result.network.input_size} px), seed {result.recipe.seed}, "
             f"{result.threads} thread(s)", "",
             f"{'Epoch':>5}  {'Loss':>7}  {'Train':>7}  {'Test':>7}  {'LR':>8}  {'img/s':>7}  {'Time':>7}"]
    lines += [f"{r.epoch:>5}  {r.loss:>7.4f}  {r.train_accuracy:>7.2%}  {r.test_accuracy:>7.2%}  {r.lr:>8.2g}  "
              f"{r.images_per_second:>7.0f}  {r.seconds:>6.1f}s" for r in result.history]
    stopped = " (stopped)" if result.stopped else ""
    lines += ["", f"Test accuracy {result.test_accuracy:.2%} after {result.epochs} epochs in {result.seconds:.1f} s"
                  f"{stopped}."]
    if saved:
        lines.append(f"Saved {saved}: use it with 'python -m vgg predict IMAGE --weights {saved}'.")
    return "\n".join(lines)


class ProgressBar:
    """A one-line bar on a terminal, redrawn after every step."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream, self.width = stream, width

    def __call__(self, progress: Progress) -> None:
        filled = round(progress.fraction * self.width)
        test = f" test {progress.test_accuracy:.1%}" if progress.test_accuracy is not None else ""
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] epoch {progress.epoch}/{progress.epochs} "
                          f"loss {progress.loss:.3f} train {progress.train_accuracy:.1%}{test} "
                          f"{progress.images_per_second:.0f} img/s ")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
