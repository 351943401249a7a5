"""Benchmark: training a mini VGG on the bundled digits, per configuration: throughput (training
images per second), time to a target test accuracy, and the final accuracy; prints JSON, or a
markdown table with --markdown, after a hardware line.

    python benchmarks/bench_train.py [--runs D+BN A A-LRN B C D E] [--epochs 15] [--lr 0.02] [--threads 1] [--markdown]

Goals (docs/training.md): D with batch norm reaches 98% test accuracy within 60 s of training;
every one of A, A-LRN, B, C, D, E reaches 95%. ``seconds_to_target`` is the wall time from the
start of the run to the end of the first epoch whose test accuracy reached the target (the test
pass included); null when it never did. The machine's load average is printed before and after,
since on a shared CPU it changes every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace

from vgg.perf import hardware_line, hardware_summary
from vgg.train import Recipe, digits_dataset, fit

TARGETS = {"D+BN": 0.98}
DEFAULT_TARGET = 0.95
DEFAULT_RUNS = ("D+BN", "A", "A-LRN", "B", "C", "D", "E")
TIME_GOAL_S = 60.0


def recipe_for(run: str, epochs: int, seed: int, lr: float | None = None) -> Recipe:
    config, _, bn = run.partition("+")
    recipe = Recipe(config, batch_norm=bn.upper() == "BN", epochs=epochs, seed=seed)
    return recipe if lr is None else replace(recipe, lr=lr)


def measure(run: str, epochs: int, seed: int, threads: int, lr: float | None = None) -> dict[str, object]:
    target = TARGETS.get(run, DEFAULT_TARGET)
    result = fit(recipe_for(run, epochs, seed, lr), threads=threads)
    reached = next((r for r in result.history if r.test_accuracy >= target), None)
    return {
        "run": run, "label": result.network.label, "lr": result.recipe.lr, "target": target,
        "seconds_to_target": round(reached.seconds, 1) if reached else None,
        "epochs_to_target": reached.epoch if reached else None,
        "final_test_accuracy": round(result.test_accuracy, 4),
        "best_test_accuracy": round(max(r.test_accuracy for r in result.history), 4),
        "images_per_second": round(statistics.median(r.images_per_second for r in result.history), 1),
        "seconds": round(result.seconds, 1), "epochs": result.epochs,
        "met": reached is not None and (run != "D+BN" or reached.seconds <= TIME_GOAL_S),
    }


def training_hardware_line(info: dict[str, object]) -> str:
    return (f"Hardware: {hardware_line(info)}; {info['training_threads']} training thread(s); load average "
            f"{info['load_average_after']} after (others' work on the same cores)")


def markdown(rows: list[dict[str, object]]) -> str:
    lines = ["| Run | Target | Time to target | Epochs | Final test acc. | Best | Training img/s | Met |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        seconds = f"{row['seconds_to_target']} s" if row["seconds_to_target"] is not None else "not reached"
        lines.append(f"| {row['label']}, lr {row['lr']:g} | {row['target']:.0%} | {seconds} | "
                     f"{row['epochs_to_target'] or '-'} | "
                     f"{row['final_test_accuracy']:.2%} | {row['best_test_accuracy']:.2%} | "
                     f"{row['images_per_second']:.0f} | {'yes' if row['met'] else 'no'} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=list(DEFAULT_RUNS), help="configs, '+BN' for batch norm")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lr", type=float, default=None, help="the learning rate (default: the recipe's, 0.02)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    digits_dataset()  # built once before any clock starts
    info = hardware_summary() | {"training_threads": args.threads}
    started = time.perf_counter()
    rows = []
    for run in args.runs:  # each row on stderr as it is measured, so a long sweep shows its progress
        rows.append(measure(run, args.epochs, args.seed, args.threads, args.lr))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    info["load_average_after"] = round(os.getloadavg()[0], 2)
    info["wall_seconds"] = round(time.perf_counter() - started, 1)
    print(training_hardware_line(info))
    print(markdown(rows) if args.markdown else json.dumps({"hardware": info, "runs": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
