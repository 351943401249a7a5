"""``python -m vgg experiment NAME``: one of the paper's experiments in miniature, several mini VGGs
trained side by side; prints the test error per arm (mean ± std over seeds) and what it showed."""

from __future__ import annotations

import argparse
import json
import os
import sys

from vgg.cli.train import ProgressBar
from vgg.perf import hardware_line, hardware_summary
from vgg.train import DATASETS, EXPERIMENTS, ExperimentProgress, ExperimentResult, run_experiment


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("experiment", help="the paper's experiments in miniature (minutes on a CPU)",
                                   description="Train the arms of one experiment and compare their test error. "
                                               + " ".join(f"{name}: {e.title}." for name, e in EXPERIMENTS.items()))
    parser.add_argument("name", choices=tuple(EXPERIMENTS), metavar="NAME", help=", ".join(EXPERIMENTS))
    parser.add_argument("--seeds", type=int, default=1, help="seeds per arm, 0..N-1 (default: 1)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per run, every arm (default: the experiment's: "
                             + ", ".join(f"{name} {e.epochs}" for name, e in EXPERIMENTS.items()) + ")")
    parser.add_argument("--lr", type=float, default=None,
                        help="initial learning rate, every arm (default: the experiment's: "
                             + ", ".join(f"{name} {e.lr:g}" for name, e in EXPERIMENTS.items()) + ")")
    parser.add_argument("--dataset", choices=DATASETS, default=None,
                        help="every arm's data (default: the experiment's: "
                             + ", ".join(f"{name} {e.dataset}" for name, e in EXPERIMENTS.items()) + ")")
    parser.add_argument("--width-divisor", type=int, default=None, help="default: 8")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default: 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    overrides = {key: value for key, value in (("dataset", args.dataset), ("width_divisor", args.width_divisor),
                                               ("lr", args.lr)) if value is not None}
    hardware = hardware_summary() | {"training_threads": args.threads}
    bar = _ExperimentBar() if sys.stderr.isatty() else None
    result = run_experiment(args.name, seeds=args.seeds, epochs=args.epochs, callback=bar, threads=args.threads,
                            **overrides)
    if bar is not None:
        bar.close()
    hardware["load_average_after"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    line = (f"Hardware: {hardware_line(hardware)}; {args.threads} training thread(s); load average "
            f"{hardware['load_average_after']} at the end")
    if args.json:
        print(json.dumps(result.to_dict() | {"hardware": hardware, "hardware_line": line}, indent=2))
    else:
        print(render(result) + "\n\n" + line)
    return 0


class _ExperimentBar(ProgressBar):
    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def __call__(self, event: ExperimentProgress) -> None:  # type: ignore[override]
        self.stream.write(f"\r{event.arm} (seed {event.seed}, run {event.run}/{event.runs}) ")
        super().__call__(event.progress)


def render(result: ExperimentResult) -> str:
    experiment = result.experiment
    lines = [experiment.title, experiment.question, "", result.recipe_text(), "",
             f"{'Arm':<18} {'Runs':>4}  {'Test error':>16}  {'Paper top-1':>11}  Note"]
    for row in result.rows():
        spread = f"{row.mean_error:.2%} ± {row.std_error:.2%}" if row.runs > 1 else f"{row.mean_error:.2%}"
        paper = f"{row.paper_top1:.1f}%" if row.paper_top1 is not None else "-"
        lines.append(f"{row.arm:<18} {row.runs:>4}  {spread:>16}  {paper:>11}  {row.note}".rstrip())
    lines += ["", result.conclusion(), result.caveat()]
    if result.stopped:
        lines.append("(stopped before every run finished)")
    return "\n".join(lines)
