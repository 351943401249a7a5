"""Benchmark: batch-1, 224x224 forward of VGG16 and VGG19-BN, the plain eager forward (NCHW, the
model as built, ``model(x)``) beside the project's capture-all-layers fast path (``vgg.prepare`` +
``vgg.forward_with_features`` keeping every layer), same weights, same input; prints JSON.

    python benchmarks/bench_forward.py [--device cpu] [--variants vgg16 vgg19_bn] [--rounds 15] [--markdown]

The two paths and a 4096x4096 float32 matmul (the hardware's practical peak) run alternately, round
after round, so drift and other load hit all three alike; figures are medians over rounds.

- ``eager_ms`` / ``fast_ms``: medians of one forward (logits copied to the CPU in both).
- ``speedup``: eager_ms / fast_ms. ``*_gflops``: 2 x MACs / time (MACs: torchvision's published _ops).
- ``fast_fraction_of_matmul``: fast_gflops / matmul_gflops, the matmul measured in the same rounds.
- ``max_abs_logit_diff``: between the two paths' logits on the cat sample (``max_abs_logit`` gives the scale).
- ``fast_ms_by_kind``: where the fast path's time goes (conv, relu, pool, bn, fc...), medians.
- ``feature_grid_ms``: ``vgg.feature_grid`` of relu1_1's 64x224x224 output (16 channels, and all 64).
- ``--probe-bf16``: also times the eager forward under bf16 autocast, to show why the fast path stays fp32.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, not an install

import vgg
from vgg.arch.configs import VARIANTS
from vgg.arch.published import PUBLISHED
from vgg.vision.devices import cpu_has_native_bf16, cpu_model, synchronize

GOALS = {"speedup": 1.2, "fast_fraction_of_matmul": 0.85, "max_abs_logit_diff": 1e-3, "feature_grid_ms": 50.0}
MATMUL_SIZE = 4096


def timed(function: Callable[[], object], device: torch.device) -> float:
    synchronize(device)
    start = time.perf_counter()
    function()
    synchronize(device)
    return time.perf_counter() - start


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1e3, 2)


def build_pair(name: str, device: torch.device) -> tuple[vgg.VGG, vgg.VGG]:
    """The same random weights twice: one as built (NCHW) for eager, one prepared (the fast path)."""
    config, batch_norm = VARIANTS[name]
    torch.manual_seed(0)
    eager = vgg.build(config, batch_norm=batch_norm)
    fast = vgg.build(config, batch_norm=batch_norm, init_weights=False)
    fast.load_state_dict(eager.state_dict())
    return eager.eval().to(device), vgg.prepare(fast, device)


def bench_variant(name: str, device: torch.device, x: torch.Tensor, rounds: int, warmup: int,
                  probe_bf16: bool) -> dict[str, object]:
    eager_model, fast_model = build_pair(name, device)
    x_device = x.to(device)
    a, b = torch.randn(MATMUL_SIZE, MATMUL_SIZE, device=device), torch.randn(MATMUL_SIZE, MATMUL_SIZE, device=device)

    def eager() -> torch.Tensor:
        with torch.inference_mode():
            return eager_model(x_device).cpu()

    last: list[vgg.ForwardResult] = []

    def fast() -> None:
        last[:] = [vgg.forward_with_features(fast_model, x)]  # every layer kept; its times are read below

    def matmul() -> None:
        with torch.inference_mode():
            torch.mm(a, b)

    for _ in range(warmup):
        eager(), fast(), matmul()
    samples: dict[str, list[float]] = defaultdict(list)
    by_kind: dict[str, list[float]] = defaultdict(list)
    kinds = {info.path: info.kind for info in fast_model.layer_infos}
    for round_index in range(rounds):
        order = [("eager", eager), ("fast", fast)]
        for label, function in order if round_index % 2 == 0 else order[::-1]:  # alternate who goes first
            samples[label].append(timed(function, device))
        samples["matmul"].append(timed(matmul, device))
        kind_seconds: dict[str, float] = defaultdict(float)
        for path, seconds in last[0].times.items():
            kind_seconds[kinds[path]] += seconds
        for kind, seconds in kind_seconds.items():
            by_kind[kind].append(seconds)

    flops = 2 * PUBLISHED[name].gmacs * 1e9
    matmul_flops = 2 * MATMUL_SIZE**3
    eager_ms, fast_ms, matmul_ms = (median_ms(samples[k]) for k in ("eager", "fast", "matmul"))
    result = last[0]
    difference = (eager() - result.logits).abs().max().item()
    report: dict[str, object] = {
        "eager_ms": eager_ms, "fast_ms": fast_ms, "speedup": round(eager_ms / fast_ms, 3),
        "eager_gflops": round(flops / eager_ms / 1e6, 1), "fast_gflops": round(flops / fast_ms / 1e6, 1),
        "matmul_gflops": round(matmul_flops / matmul_ms / 1e6, 1),
        "fast_fraction_of_matmul": round(flops / fast_ms / (matmul_flops / matmul_ms), 3),
        "max_abs_logit_diff": difference, "max_abs_logit": result.logits.abs().max().item(),
        "gflop_per_forward": round(flops / 1e9, 3),
        "fast_ms_by_kind": {kind: median_ms(values) for kind, values in by_kind.items()},
        "min_ms": {k: round(min(v) * 1e3, 2) for k, v in samples.items()},
    }
    if probe_bf16:  # two runs: on a CPU without native bf16 each takes tens of seconds
        report["eager_bf16_autocast_ms"] = bench_bf16(eager, device, rounds=2)
    report["feature_grid_ms"] = bench_grid(result.features["features.1"], rounds)
    return report


def bench_bf16(eager: Callable[[], torch.Tensor], device: torch.device, rounds: int) -> float:
    with torch.autocast(device.type, dtype=torch.bfloat16):
        return median_ms([timed(eager, device) for _ in range(rounds)])


def bench_grid(relu1_1: torch.Tensor, rounds: int) -> dict[str, float]:
    """relu1_1 is the largest map (64x224x224); the grid of its 16 most active channels and of all 64."""
    figures: dict[str, float] = {}
    for n in (16, 64):
        vgg.feature_grid(relu1_1, n=n)
        times = [timed(lambda n=n: vgg.feature_grid(relu1_1, n=n), relu1_1.device) for _ in range(rounds)]
        figures[f"n{n}_median"], figures[f"n{n}_min"] = median_ms(times), round(min(times) * 1e3, 2)
    return figures


def environment(device: torch.device) -> dict[str, object]:
    names = dict(vgg.available_devices())
    return {
        "device": str(device), "device_name": names.get(str(device), names.get("cpu")),
        "torch": torch.__version__, "python": platform.python_version(), "threads": torch.get_num_threads(),
        "cpu": cpu_model(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_native_bf16": cpu_has_native_bf16(), "mkldnn": bool(torch.backends.mkldnn.enabled),
        "fast_path": "prepare(channels_last=True), float32, every layer kept",
    }


def goals(results: dict[str, dict[str, object]]) -> dict[str, object]:
    """Each goal against the worst variant, with the figure that decided it."""
    def worst(key: str, smaller_is_better: bool) -> float:
        values = [float(r[key]["n64_median"] if key == "feature_grid_ms" else r[key]) for r in results.values()]
        return max(values) if smaller_is_better else min(values)

    checks = {}
    for key, target in GOALS.items():
        smaller = key in ("max_abs_logit_diff", "feature_grid_ms")
        value = worst(key, smaller)
        checks[key] = {"target": target, "worst": value, "met": value <= target if smaller else value >= target}
    return checks


def to_markdown(report: dict[str, object]) -> str:
    """README's table, from the JSON report."""
    rows = ["| variant | eager NCHW (ms) | fast path, every layer kept (ms) | speed-up | eager GFLOP/s | "
            "fast GFLOP/s | 4096² matmul GFLOP/s | fast / matmul | max abs logit diff |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in report["results"].items():
        rows.append(f"| {name} | {r['eager_ms']:.1f} | {r['fast_ms']:.1f} | {r['speedup']:.2f}x | "
                    f"{r['eager_gflops']} | {r['fast_gflops']} | {r['matmul_gflops']} | "
                    f"{r['fast_fraction_of_matmul']:.0%} | {r['max_abs_logit_diff']:.1e} |")
    setting = report["environment"]
    rows.append("")
    rows.append(f"{setting['cpu']}, {setting['threads']} threads, {setting['cpu_capability']}, native bf16: "
                f"{setting['cpu_native_bf16']}, torch {setting['torch']}, {report['rounds']} alternating rounds.")
    for name, r in report["results"].items():
        kinds = ", ".join(f"{kind} {ms:.1f}" for kind, ms in r["fast_ms_by_kind"].items())
        grid = r["feature_grid_ms"]
        rows.append(f"{name}: fast path by layer kind (ms): {kinds}. feature_grid of relu1_1 (64x224x224): "
                    f"{grid['n16_median']:.1f} ms for 16 channels, {grid['n64_median']:.1f} ms for all 64.")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda, cuda:N or mps (default: cpu)")
    parser.add_argument("--variants", nargs="+", default=["vgg16", "vgg19_bn"], choices=sorted(PUBLISHED))
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--probe-bf16", action="store_true", help="also time eager under bf16 autocast")
    parser.add_argument("--markdown", action="store_true", help="print README's table instead of JSON")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = vgg.select_device(args.device)
    setting = environment(device)
    x = vgg.preprocess(vgg.load_sample("cat"))  # (1, 3, 224, 224)
    results = {}
    for name in args.variants:
        results[name] = bench_variant(name, device, x, args.rounds, args.warmup, args.probe_bf16)
        print(f"{name}: {json.dumps(results[name])}", file=sys.stderr)  # progress; stdout gets the JSON only
    report = {"environment": setting, "rounds": args.rounds, "results": results, "goals": goals(results)}
    print(to_markdown(report) if args.markdown else json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
