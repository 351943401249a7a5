"""Benchmark: ``vgg.analyze`` (meta device) beside what a user does without it (build the real CPU
model, then ``torchinfo.summary`` at 224), for the twelve named variants; prints JSON.

    python benchmarks/bench_analysis.py [--repeats 15] [--baseline-repeats 3] [--markdown]

- ``analyze_cold_ms``: median with every cache cleared first (meta model built, then traced): the real cost.
- ``analyze_warm_ms``: median with the meta model cached, the report recomputed (a new input size in the app).
- ``build_torchinfo_ms``: median of ``vgg.build(...)`` (real weights, initialised) + ``torchinfo.summary``.
- ``speedup``: build_torchinfo_ms / analyze_cold_ms.
- ``memory``: peak RSS (VmHWM) of a fresh process after ``import torch``, after ``import vgg``, and after
  analysing all twelve variants; the growth over ``import torch`` is the goal's figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

GOALS = {"analyze_vgg19_bn_ms": 50.0, "speedup": 50.0, "memory_growth_mb": 50.0}
VARIANTS = [(config, bn) for config in ("A", "A-LRN", "B", "C", "D", "E") for bn in (False, True)]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (VmHWM; ru_maxrss where /proc is absent)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_ms(function: Callable[[], object], repeats: int, before: Callable[[], None] = lambda: None) -> float:
    times = []
    for _ in range(repeats):
        before()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def memory_probe() -> dict[str, float]:
    """Run in a fresh interpreter: what importing and analysing adds to the peak RSS of torch alone."""
    import torch  # noqa: F401

    after_torch = peak_rss_mb()
    import vgg

    after_import = peak_rss_mb()
    for config, bn in VARIANTS:
        vgg.analyze(config, batch_norm=bn)
    after_analyze = peak_rss_mb()
    return {"after_import_torch_mb": round(after_torch, 1), "after_import_vgg_mb": round(after_import, 1),
            "after_analyze_mb": round(after_analyze, 1),
            "growth_over_torch_mb": round(after_analyze - after_torch, 1),
            "growth_of_analyze_alone_mb": round(after_analyze - after_import, 1)}


def measure_memory() -> dict[str, float]:
    result = subprocess.run([sys.executable, __file__, "--memory-probe"], capture_output=True, text=True,
                            check=True, timeout=300)
    return json.loads(result.stdout)


def bench_variant(config: str, bn: bool, repeats: int, baseline_repeats: int) -> dict[str, object]:
    import torch
    import torchinfo

    import vgg
    from vgg.analysis import clear_caches

    def run() -> None:
        vgg.analyze(config, batch_norm=bn)

    def baseline() -> None:
        model = vgg.build(config, batch_norm=bn)
        torchinfo.summary(model, input_size=(1, 3, 224, 224), device="cpu", verbose=0)

    run()  # warm-up: torch's meta kernels and decompositions load on first use
    cold = median_ms(run, repeats, before=clear_caches)
    warm = median_ms(run, repeats, before=lambda: clear_caches(models=False))
    with torch.inference_mode(False):
        reference = median_ms(baseline, baseline_repeats)
    name = vgg.variant_name(config, batch_norm=bn) or f"{config}{' + BN' if bn else ''}"
    return {"variant": name, "config": config, "batch_norm": bn, "analyze_cold_ms": round(cold, 2),
            "analyze_warm_ms": round(warm, 2), "build_torchinfo_ms": round(reference, 1),
            "speedup": round(reference / cold, 1)}


def warm_up_baseline() -> None:
    """torchinfo's first summary in a process pays for imports and kernel set-up; keep that out of the timings."""
    import torchinfo

    import vgg

    torchinfo.summary(vgg.build("A"), input_size=(1, 3, 32, 32), device="cpu", verbose=0)


def markdown(report: dict) -> str:
    """The README's table, from the JSON report."""
    lines = ["| variant | analyze, cold (ms) | analyze, model cached (ms) | build + torchinfo (ms) | speed-up |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {row['variant']} | {row['analyze_cold_ms']:.1f} | {row['analyze_warm_ms']:.1f} | "
              f"{row['build_torchinfo_ms']:,.0f} | {row['speedup']:.0f}x |" for row in report["variants"]]
    memory = report["memory"]
    lines += ["", f"Peak RSS: {memory['after_import_torch_mb']} MB after `import torch`, "
              f"{memory['after_analyze_mb']} MB after `import vgg` and analysing all twelve variants: "
              f"+{memory['growth_over_torch_mb']} MB ({report['machine']['cpus']} CPUs, torch "
              f"{report['machine']['torch']})."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed runs of analyze per variant")
    parser.add_argument("--baseline-repeats", type=int, default=3, help="timed runs of build + torchinfo")
    parser.add_argument("--markdown", action="store_true", help="print the README's table instead of JSON")
    parser.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        print(json.dumps(memory_probe()))
        return 0
    import torch

    warm_up_baseline()
    rows = [bench_variant(config, bn, args.repeats, args.baseline_repeats) for config, bn in VARIANTS]
    memory = measure_memory()
    vgg19_bn = next(row for row in rows if row["variant"] == "vgg19_bn")
    report = {
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
                    "python": platform.python_version()},
        "repeats": {"analyze": args.repeats, "baseline": args.baseline_repeats},
        "variants": rows,
        "memory": memory,
        "goals": {
            "analyze_vgg19_bn_cold_ms": [vgg19_bn["analyze_cold_ms"], f"< {GOALS['analyze_vgg19_bn_ms']}",
                                         vgg19_bn["analyze_cold_ms"] < GOALS["analyze_vgg19_bn_ms"]],
            "vgg19_bn_speedup": [vgg19_bn["speedup"], f">= {GOALS['speedup']}",
                                 vgg19_bn["speedup"] >= GOALS["speedup"]],
            "min_speedup": [min(row["speedup"] for row in rows), f">= {GOALS['speedup']}",
                            min(row["speedup"] for row in rows) >= GOALS["speedup"]],
            "memory_growth_mb": [memory["growth_over_torch_mb"], f"< {GOALS['memory_growth_mb']}",
                                 memory["growth_over_torch_mb"] < GOALS["memory_growth_mb"]],
        },
    }
    print(markdown(report) if args.markdown else json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
