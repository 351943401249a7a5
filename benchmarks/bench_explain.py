"""Benchmark: vgg.explain on VGG16 (random weights: the cost does not depend on them) beside the plain
forward pass it is measured against, in one run; prints JSON, or markdown with --markdown.

    python benchmarks/bench_explain.py [--rounds 3] [--whole-occlusion] [--markdown]

- ``forward_224``, ``forward_384``: the ordinary forward pass (``model(x)`` under inference_mode), batch 1.
- ``gradcam_224``: ``vgg.explain(model, x, "gradcam")`` at conv5_3 (forward without a graph up to the
  layer, then the head with one), goal under 1 s.
- ``occlusion_224``: a 32 px window, stride 16 (169 occluded copies), goal under 15 s; with
  ``--whole-occlusion`` also every copy run whole (what captum's Occlusion computes), for the ratio.
- ``dense_384``: ``vgg.dense_scores`` at 384 x 384 (a 6 x 6 map), goal under 2x ``forward_384``.
The short measurements run in rotating rounds (each round times every one once) and report medians,
so that a machine whose load changes during the run slows all of them alike; occlusion runs once.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable

import torch

import vgg
from vgg.explain import occlusion as occlusion_module
from vgg.perf import hardware_line, hardware_summary

GOALS = {"gradcam_224_s": 1.0, "occlusion_224_s": 15.0, "dense_over_forward_384": 2.0}


def seconds(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def whole_occlusion(model: torch.nn.Module, x: torch.Tensor) -> None:
    """Every occluded copy through the whole network, in batches of 16: captum's computation."""
    boxes = [(top, left) for top in range(0, 193, 16) for left in range(0, 193, 16)]
    fill = torch.zeros_like(x)
    with torch.inference_mode():
        for start in range(0, len(boxes), 16):
            occlusion_module._whole_scores(model, x, fill, boxes[start:start + 16], (32, 32), 0)


def measure(rounds: int, whole: bool) -> dict[str, object]:
    torch.manual_seed(0)
    model = vgg.prepare(vgg.build("D"), "cpu")
    x224 = vgg.preprocess(vgg.load_sample("cat"))
    x384 = torch.randn(1, 3, 384, 384, generator=torch.Generator().manual_seed(0))
    hardware = hardware_line(hardware_summary())

    def forward(x: torch.Tensor) -> None:
        with torch.inference_mode():
            model(x)

    jobs = {
        "forward_224": lambda: forward(x224),
        "gradcam_224": lambda: vgg.explain(model, x224, "gradcam"),
        "forward_384": lambda: forward(x384),
        "dense_384": lambda: vgg.dense_scores(model, x384),
    }
    for job in jobs.values():  # warm-up: oneDNN picks its kernels on the first call of each shape
        job()
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(rounds):
        for name, job in jobs.items():
            times[name].append(seconds(job))
    result: dict[str, object] = {name: statistics.median(values) for name, values in times.items()}
    result["occlusion_224"] = seconds(lambda: vgg.explain(model, x224, "occlusion", window=32, stride=16))
    result["forward_224_after_occlusion"] = seconds(lambda: forward(x224))
    if whole:
        result["occlusion_224_whole"] = seconds(lambda: whole_occlusion(model, x224))
    forward_224 = (result["forward_224"] + result["forward_224_after_occlusion"]) / 2
    ratios = {
        "gradcam_over_forward_224": result["gradcam_224"] / result["forward_224"],
        "occlusion_over_forward_224": result["occlusion_224"] / forward_224,
        "occlusion_copies": 169,
        "dense_over_forward_384": result["dense_384"] / result["forward_384"],
    }
    if whole:
        ratios["whole_over_patch_occlusion"] = result["occlusion_224_whole"] / result["occlusion_224"]
    goals = {
        "gradcam_224_s": {"goal": GOALS["gradcam_224_s"], "measured": result["gradcam_224"],
                          "met": result["gradcam_224"] < GOALS["gradcam_224_s"]},
        "occlusion_224_s": {"goal": GOALS["occlusion_224_s"], "measured": result["occlusion_224"],
                            "met": result["occlusion_224"] < GOALS["occlusion_224_s"]},
        "dense_over_forward_384": {"goal": GOALS["dense_over_forward_384"],
                                   "measured": ratios["dense_over_forward_384"],
                                   "met": ratios["dense_over_forward_384"] < GOALS["dense_over_forward_384"]},
    }
    end_load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"hardware_line": hardware, "load_average_at_end": end_load, "rounds": rounds, "seconds": result,
            "ratios": ratios, "goals": goals}


def markdown(report: dict[str, object]) -> str:
    seconds_, ratios, goals = report["seconds"], report["ratios"], report["goals"]
    lines = ["| measurement | seconds | ratio |", "|---|---:|---:|",
             f"| plain forward, 224 | {seconds_['forward_224']:.3f} | 1 |",
             f"| Grad-CAM at conv5_3, 224 | {seconds_['gradcam_224']:.3f} | "
             f"{ratios['gradcam_over_forward_224']:.2f}x forward |",
             f"| occlusion 32 px / stride 16 (169 copies), 224 | {seconds_['occlusion_224']:.2f} | "
             f"{ratios['occlusion_over_forward_224']:.1f}x forward |"]
    if "occlusion_224_whole" in seconds_:
        lines.append(f"| same, every copy run whole (captum's way) | {seconds_['occlusion_224_whole']:.2f} | "
                     f"{ratios['whole_over_patch_occlusion']:.2f}x the patch pass |")
    lines += [f"| plain forward, 384 | {seconds_['forward_384']:.3f} | 1 |",
              f"| dense scores, 384 (6 x 6 map) | {seconds_['dense_384']:.3f} | "
              f"{ratios['dense_over_forward_384']:.2f}x forward |", ""]
    for name, goal in goals.items():
        lines.append(f"- {name}: goal {goal['goal']}, measured {goal['measured']:.2f}: "
                     f"{'met' if goal['met'] else 'NOT met'}")
    lines += ["", f"Hardware: {report['hardware_line']}; load average {report['load_average_at_end']:.1f} at the end."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--whole-occlusion", action="store_true", help="also run every occluded copy whole")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    report = measure(args.rounds, args.whole_occlusion)
    print(markdown(report) if args.markdown else json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
