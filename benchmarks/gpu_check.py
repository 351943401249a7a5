"""The CUDA paths in one short run, for a session that is lent a GPU; prints JSON.

    python benchmarks/gpu_check.py [--device cuda] [--batch 128]

Nothing here has run on a GPU yet (no GPU was lent to the sessions that wrote it). It checks, on
VGG16 with random weights:

- CUDA-event timing: a per-layer profile at batch 1 (``vgg.perf.profile_layers``), fp32;
- the bf16 and fp16 paths: ``vgg.prepare(precision=...)`` (weights converted once) through
  ``forward_with_features``, float32 logits, accuracy cost against fp32 on the cat sample;
- peak memory: ``torch.cuda.max_memory_allocated`` growth during one pass at the batch size;
- the out-of-memory fallback: ``forward_with_features`` keeping every layer of a batch that does not
  fit under a memory cap (``torch.cuda.set_per_process_memory_fraction``, undone at the end);
- VGG16 bf16 at ``--batch`` (default 128) against the device's dense bf16 datasheet peak, and the
  bf16 matmul probe and stream bandwidth (the roofs).
"""

from __future__ import annotations

import argparse
import json
import sys

import torch

import vgg
from vgg import perf
from vgg.vision.precision import accuracy_cost


def precision_paths(device: torch.device, exact: vgg.VGG, x: torch.Tensor) -> dict[str, object]:
    reference = vgg.forward_with_features(exact, x, layers=()).logits
    figures: dict[str, object] = {}
    for precision in perf.describe_device(device).precisions[1:]:
        torch.manual_seed(0)
        model = vgg.prepare(vgg.build("D"), device, precision=precision)
        result = vgg.forward_with_features(model, x)
        figures[precision] = {"logits_dtype": str(result.logits.dtype),
                              "feature_dtype": str(next(iter(result.features.values())).dtype),
                              "total_ms": result.total_seconds * 1e3,
                              "accuracy_vs_fp32": accuracy_cost(reference, result.logits).to_dict()}
        del model, result
    return figures


def oom_fallback(model: vgg.VGG, device: torch.device) -> dict[str, object]:
    """Cap this process at a fraction of the GPU that holds the weights but not every layer of a big batch."""
    total = torch.cuda.get_device_properties(device).total_memory
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    x = torch.randn(64, 3, 224, 224)  # every layer kept: ~7 GiB in fp32
    torch.cuda.set_per_process_memory_fraction(min(1.0, (weights + 3 * 2**30) / total), device)
    try:
        result = vgg.forward_with_features(model, x)
        outcome = {"notes": list(result.notes), "feature_device": str(next(iter(result.features.values())).device)}
    except vgg.DeviceError as error:
        outcome = {"error": str(error)}
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, device)
        torch.cuda.empty_cache()
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    device = vgg.select_device(args.device)
    if device.type != "cuda":
        print("gpu_check needs a CUDA device.", file=sys.stderr)
        return 2
    info = perf.describe_device(device)
    torch.manual_seed(0)
    model = vgg.prepare(vgg.build("D"), device)
    x = vgg.preprocess(vgg.load_sample("cat"))
    x_random = perf.random_input(model, 1, (224, 224), perf.layout_of(model))
    profile = perf.profile_layers(model, x_random, repeats=10, warmup=3)
    report: dict[str, object] = {
        "device": info.to_dict(), "fp32_batch1_ms": profile.plain_seconds * 1e3,
        "fp32_batch1_timed_ms": profile.timed_seconds * 1e3, "timing_overhead": profile.overhead,
        "probes": {p: perf.matmul_probe(device, p).to_dict() for p in info.precisions},
        "memory_probe": perf.memory_probe(device).to_dict(), "precisions": precision_paths(device, model, x)}
    if "bf16" in info.precisions:
        sweep = perf.throughput_sweep(model, batch_sizes=[args.batch], input_size=(224, 224), precisions=["bf16"],
                                      layouts=[perf.layout_of(model)], repeats=10)
        point = sweep.points[0] if sweep.points else None
        peak = info.datasheet_tflops
        report["bf16_batch"] = {
            "batch_size": args.batch, "stops": list(sweep.stops),
            "images_per_second": point.images_per_second if point else None,
            "tflops": point.gflops / 1e3 if point else None, "measured_bytes": point.measured_bytes if point else None,
            "datasheet_tflops": peak, "fraction_of_datasheet": point.gflops / 1e3 / peak if point and peak else None}
    report["oom_fallback"] = oom_fallback(model, device)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
