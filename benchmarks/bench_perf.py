"""Benchmark: what ``vgg.perf`` measures, for the README's Performance section; prints JSON.

    python benchmarks/bench_perf.py [--device cpu] [--variant vgg16] [--rounds 15] [--probe-size 4096]
                                    [--batch-sizes 1,4,16] [--markdown]

- ``overhead``: per-layer timing (``forward_with_features``, every layer clocked) against the plain
  ``model(x)``, the two alternating round after round; the median of the paired ratios, minus 1.
- ``fast_gflops``: 2 x MACs / median time of the plain batch-1 forward on the fast path (``vgg.prepare``:
  channels_last, fp32). ``probe_gflops``: an fp32 n x n matmul, measured before and after the forward
  rounds; the better of the two is the reference, so drift cannot flatter the fraction.
- ``layers``: each conv's and FC's GFLOP/s and fraction of the probe; ``shares``: conv / fc / other time.
- ``sweep``: images/s over batch sizes, fast path beside the plain NCHW path, each precision the
  device computes natively; estimated and measured memory per point (peak RSS growth on CPU,
  torch.cuda.max_memory_allocated on CUDA).
- ``roofline``: each layer's bound (``vgg.perf.roofline``: max(FLOPs / probe peak, bytes / stream
  bandwidth), the memory probe also run before and after the rounds, the better kept), its measured
  time and the fraction; compute- and memory-bound layers named; the sum of the bounds against the
  plain forward.
- On CUDA the sweep also runs bf16 (weights converted once, not autocast) at batch 128 and reports its
  fraction of the datasheet's dense peak.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys

import torch

import vgg
from vgg.arch.configs import VARIANTS
from vgg.perf import (
    describe_device,
    layout_of,
    matmul_probe,
    memory_probe,
    profile_layers,
    profile_roofline,
    random_input,
    throughput_sweep,
)

GOALS = {"overhead": 0.05, "fast_fraction_of_probe": 0.90, "gpu_bf16_fraction_of_datasheet": 0.40}
GPU_BATCH = 128


def parse_sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def layer_figures(profile: vgg.perf.LayerProfile, reference: float) -> list[dict[str, object]]:
    return [{"paper_name": layer.paper_name, "kind": layer.kind, "ms": round(layer.seconds * 1e3, 3),
             "gflops": round(layer.gflops, 1), "fraction_of_probe": round(layer.fraction_of(reference), 3)}
            for layer in profile.layers if layer.gflops is not None]


def bench(args: argparse.Namespace) -> dict[str, object]:
    device = vgg.select_device(args.device)
    config, batch_norm = VARIANTS[args.variant]
    torch.manual_seed(0)
    model = vgg.prepare(vgg.build(config, batch_norm=batch_norm), device)
    probe_repeats = max(3, args.rounds // 3)
    before = matmul_probe(device, size=args.probe_size, repeats=probe_repeats)
    memory_before = memory_probe(device, repeats=probe_repeats)
    profile = profile_layers(model, random_input(model, 1, (224, 224), layout_of(model)), repeats=args.rounds,
                             warmup=2)
    after = matmul_probe(device, size=args.probe_size, repeats=probe_repeats)
    memory_after = memory_probe(device, repeats=probe_repeats)
    reference = max(before.gflops, after.gflops)
    best = max(before, after, key=lambda probe: probe.gflops)
    line = profile_roofline(profile, vgg.analyze(config, batch_norm=batch_norm), best,
                            max(memory_before, memory_after, key=lambda probe: probe.gbs))
    info = describe_device(device)
    sweep = throughput_sweep(model, batch_sizes=parse_sizes(args.batch_sizes), input_size=(224, 224),
                             precisions=info.precisions, repeats=args.sweep_repeats)
    result: dict[str, object] = {
        "variant": args.variant, "device": info.to_dict(), "probe_size": args.probe_size,
        "probe_before_gflops": round(before.gflops, 1), "probe_after_gflops": round(after.gflops, 1),
        "plain_ms": round(profile.plain_seconds * 1e3, 2), "timed_ms": round(profile.timed_seconds * 1e3, 2),
        "overhead": round(profile.overhead, 4), "fast_gflops": round(profile.gflops, 1),
        "fast_fraction_of_probe": round(profile.gflops / reference, 3),
        "shares": {group: round(share, 4) for group, share in profile.shares.items()},
        "layers": layer_figures(profile, reference), "sweep": sweep.to_dict(),
        "memory_probe_gbs": [round(memory_before.gbs, 2), round(memory_after.gbs, 2)],
        "roofline": line.to_dict(),
    }
    if device.type == "cuda" and "bf16" in info.precisions:
        result["gpu_bf16"] = gpu_bf16(model, info)
    return result


def gpu_bf16(model: vgg.VGG, info: vgg.perf.DeviceInfo) -> dict[str, object]:
    """VGG16 bf16 (weights converted once) at batch 128 on the fast path, against the GPU's datasheet dense
    bf16 peak."""
    sweep = throughput_sweep(model, batch_sizes=[GPU_BATCH], input_size=(224, 224), precisions=["bf16"],
                             layouts=[layout_of(model)], repeats=10)
    if not sweep.points:
        return {"batch_size": GPU_BATCH, "stopped": list(sweep.stops)}
    point = sweep.points[0]
    peak = info.datasheet_tflops
    return {"batch_size": GPU_BATCH, "images_per_second": round(point.images_per_second, 1),
            "tflops": round(point.gflops / 1e3, 1), "datasheet_tflops": peak,
            "fraction_of_datasheet": round(point.gflops / 1e3 / peak, 3) if peak else None}


def goals(result: dict[str, object]) -> dict[str, object]:
    checks = {
        "overhead": {"target": f"< {GOALS['overhead']:.0%}", "value": result["overhead"],
                     "met": result["overhead"] < GOALS["overhead"]},
        "fast_fraction_of_probe": {"target": f">= {GOALS['fast_fraction_of_probe']:.0%}",
                                   "value": result["fast_fraction_of_probe"],
                                   "met": result["fast_fraction_of_probe"] >= GOALS["fast_fraction_of_probe"]},
    }
    gpu = result.get("gpu_bf16")
    if gpu and gpu.get("fraction_of_datasheet") is not None:
        value = gpu["fraction_of_datasheet"]
        checks["gpu_bf16_fraction_of_datasheet"] = {
            "target": f">= {GOALS['gpu_bf16_fraction_of_datasheet']:.0%}", "value": value,
            "met": value >= GOALS["gpu_bf16_fraction_of_datasheet"]}
    else:
        checks["gpu_bf16_fraction_of_datasheet"] = {"target": "on a GPU", "value": None, "met": None,
                                                    "why": "no CUDA GPU with native bf16 and a known datasheet peak"}
    return checks


def markdown(report: dict) -> str:
    """README's Performance tables, from the JSON report."""
    result, env = report["result"], report["environment"]
    lines = [f"{result['variant']} on {env['device_name']} ({env['threads']} threads), torch {env['torch']}, "
             f"median of {report['rounds']} rounds.", "",
             "| figure | value | goal |", "|---|---:|---|",
             f"| plain forward, batch 1 (fast path) | {result['plain_ms']:.1f} ms | |",
             f"| same pass with every layer timed | {result['timed_ms']:.1f} ms | |",
             f"| per-layer timing overhead | {result['overhead']:+.1%} | {_goal(report, 'overhead')} |",
             f"| achieved, whole forward | {result['fast_gflops']:.1f} GFLOP/s | |",
             f"| fp32 matmul probe ({result['probe_size']}², before / after) | {result['probe_before_gflops']:.1f} / "
             f"{result['probe_after_gflops']:.1f} GFLOP/s | |",
             f"| forward / probe | {result['fast_fraction_of_probe']:.0%} | "
             f"{_goal(report, 'fast_fraction_of_probe')} |",
             "| time in conv / fc / other | " + " / ".join(f"{share:.1%}" for share in result["shares"].values())
             + " | |"]
    gpu = report["goals"]["gpu_bf16_fraction_of_datasheet"]
    lines.append(f"| GPU bf16, batch {GPU_BATCH}, of datasheet peak | "
                 f"{'n/a' if gpu['value'] is None else format(gpu['value'], '.0%')} | "
                 f"{gpu['target']}{': ' + gpu['why'] if gpu.get('why') else ''} |")
    lines += ["", "| layer | ms | GFLOP/s | of probe |", "|---|---:|---:|---:|"]
    lines += [f"| {row['paper_name']} | {row['ms']:.2f} | {row['gflops']:.1f} | {row['fraction_of_probe']:.0%} |"
              for row in result["layers"]]
    line = result["roofline"]
    roof = line["roof"]
    lines += ["", f"Roofline, fp32: matmul {roof['peak_gflops']:.1f} GFLOP/s, stream bandwidth "
                  f"{roof['bandwidth_gbs']:.1f} GB/s (before / after: "
                  f"{' / '.join(map(str, result['memory_probe_gbs']))}), ridge "
                  f"{roof['ridge']:.1f} FLOP/byte.", "",
              "| layer | bound by | FLOP/byte | bound ms | measured ms | of the bound |",
              "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {row['paper_name']} | {row['limit']} | {row['intensity']:,.1f} | {row['bound_seconds'] * 1e3:.2f} "
              f"| {row['measured_seconds'] * 1e3:.2f} | {row['fraction']:.0%} |"
              for row in line["layers"] if row["flops"]]
    lines += ["", line["sentence"] + " (The sum counts every layer, ReLU and pooling too, as memory traffic.)"]
    lines += ["", "| precision | layout | batch | ms / batch | images/s | GFLOP/s | est. memory | measured |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for point in result["sweep"]["points"]:
        measured = point["measured_bytes"]
        lines.append(f"| {point['precision']} | {point['layout']} | {point['batch_size']} | "
                     f"{point['seconds'] * 1e3:,.1f} | {point['images_per_second']:.2f} | {point['gflops']:.1f} | "
                     f"{point['estimated_bytes'] / 2**20:,.1f} MiB | "
                     f"{'n/a' if measured is None else f'{measured / 2**20:,.1f} MiB'} |")
    lines += [f"\nStopped: {stop}" for stop in result["sweep"]["stops"]]
    return "\n".join(lines)


def _goal(report: dict, key: str) -> str:
    check = report["goals"][key]
    return f"{check['target']}: {'met' if check['met'] else 'not met'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda, cuda:N or mps (default: cpu)")
    parser.add_argument("--variant", default="vgg16", choices=sorted(VARIANTS))
    parser.add_argument("--rounds", type=int, default=15, help="paired rounds of the per-layer profile")
    parser.add_argument("--sweep-repeats", type=int, default=5, help="timed runs per sweep point")
    parser.add_argument("--probe-size", type=int, default=4096, help="n of the fp32 n x n matmul probe")
    parser.add_argument("--batch-sizes", default="1,4,16", help="the throughput sweep's batch sizes")
    parser.add_argument("--markdown", action="store_true", help="print the README's tables instead of JSON")
    args = parser.parse_args()
    device = vgg.select_device(args.device)
    result = bench(args)
    info = result["device"]
    report = {
        "environment": {"device": str(device), "device_name": info["name"], "threads": torch.get_num_threads(),
                        "torch": torch.__version__, "python": platform.python_version()},
        "rounds": args.rounds, "result": result, "goals": goals(result),
    }
    print(markdown(report) if args.markdown else json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
