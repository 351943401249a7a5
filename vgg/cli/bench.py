"""``python -m vgg bench CONFIG``: measured speed and memory of a VGG on this machine (random weights):
per-layer latency and GFLOP/s against a matmul probe, each layer's roofline (compute- or memory-bound,
its bound against its time), time shares, throughput over batch sizes for each precision (weights
converted once, not autocast) and layout, and measured memory beside the analysis' estimate. --json
for one object."""

from __future__ import annotations

import argparse
import json

import torch

from vgg.analysis import analyze
from vgg.analysis.guards import check_resources
from vgg.arch.builders import build
from vgg.arch.configs import CONFIG_TITLES
from vgg.cli._config_args import CONFIG_HELP, add_input_size, format_table, network_arg
from vgg.errors import VGGError
from vgg.format import mib
from vgg.perf import PRECISIONS, BenchReport, LayerProfile, Roofline, Sweep, layout_of, run_bench
from vgg.vision.devices import DEVICE_CHOICES
from vgg.vision.inference import prepare

LAYER_HEADERS = ("Paper name", "Module", "Kind", "MACs", "ms", "GFLOP/s", "of probe")
ROOFLINE_HEADERS = ("Paper name", "Bound by", "FLOP/byte", "Bound ms", "Measured ms", "Of the bound")
SWEEP_HEADERS = ("Precision", "Layout", "Batch", "ms/batch", "images/s", "GFLOP/s", "Est. memory", "Measured")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="measure per-layer latency, throughput and memory on a device",
                                   description="Run a VGG (random weights) on this machine and print where the time "
                                               "and memory go, against a matmul probe of the hardware.")
    parser.add_argument("config", metavar="CONFIG", help=CONFIG_HELP)
    parser.add_argument("--bn", action="store_true", help="with batch normalisation")
    parser.add_argument("--device", default="auto", metavar="|".join(DEVICE_CHOICES),
                        help="where to run (default: auto = cuda, then mps, then cpu); cuda:N also works")
    add_input_size(parser)
    parser.add_argument("--batch-sizes", default="1,8", metavar="1,8,32",
                        help="batch sizes of the throughput sweep, comma-separated (default: 1,8); a series stops "
                             "before a batch whose estimated memory does not fit")
    parser.add_argument("--precisions", default="auto", metavar="auto|fp32,bf16,fp16",
                        help="auto (default): every precision this device computes natively")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement, median kept (default: 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before each measurement (default: 1)")
    parser.add_argument("--profile-batch", type=int, default=1, help="batch size of the per-layer profile (default: 1)")
    parser.add_argument("--probe-size", type=int, default=None,
                        help="n of the n x n matmul probe (default: 2048 on CPU, 8192 on CUDA)")
    parser.add_argument("--fast-only", action="store_true", help="skip the plain NCHW path (no conv-weight copy)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(handler=run)


def parse_int_list(text: str, what: str) -> tuple[int, ...]:
    """'1,8,32' -> (1, 8, 32); ValueError naming ``what`` otherwise."""
    try:
        values = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise VGGError(f"{what} {text!r} must be whole numbers separated by commas, e.g. 1,8,32.") from None
    if not values:
        raise VGGError(f"{what} {text!r} is empty: give at least one number, e.g. 1,8,32.")
    return values


def parse_precisions(text: str) -> tuple[str, ...] | None:
    if text.strip().lower() == "auto":
        return None
    chosen = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    unknown = [part for part in chosen if part not in PRECISIONS]
    if unknown or not chosen:
        raise VGGError(f"Precisions {text!r}: use auto or a comma-separated list of {', '.join(PRECISIONS)}.")
    return chosen


def run(args: argparse.Namespace) -> int:
    batch_sizes = parse_int_list(args.batch_sizes, "Batch sizes")
    precisions = parse_precisions(args.precisions)
    network = network_arg(args.config, args.bn)
    height, width = args.input_size
    # Refuse a network too big for this machine before building it; larger batches are the sweep's to stop.
    check_resources(analyze(network, input_size=(height, width),
                            batch_size=args.profile_batch), keep_features=False)
    torch.manual_seed(0)  # timings do not depend on the values; the seed keeps runs identical anyway
    model = prepare(build(network), args.device)
    layouts = (layout_of(model),) if args.fast_only else None  # None: the model's own layout and plain NCHW
    report = run_bench(model, input_size=(height, width), batch_sizes=batch_sizes, precisions=precisions,
                       repeats=args.repeats, warmup=args.warmup, profile_batch=args.profile_batch,
                       probe_size=args.probe_size, layouts=layouts)
    print(json.dumps(report.to_dict(), indent=2) if args.json else render(report))
    return 0


def render(report: BenchReport) -> str:
    device = report.device
    title = CONFIG_TITLES.get(report.config, f"custom ({report.config})") + (" + BN" if report.batch_norm else "")
    lines = [f"{title} at {report.input_size[0]}x{report.input_size[1]} · {device.device}: {device.name} "
             f"({device.threads} threads) · random weights", ""]
    lines += [f"Matmul probe, {p.precision}: {p.size}x{p.size} in {p.seconds * 1e3:.1f} ms = {p.gflops:,.1f} GFLOP/s"
              for p in report.probes]
    memory = report.memory
    lines.append(f"Memory probe: copy {memory.copy_gbs:,.1f} GB/s, triad {memory.triad_gbs:,.1f} GB/s over "
                 f"{mib(memory.array_bytes)} arrays")
    if device.datasheet_tflops:
        lines.append(f"Datasheet dense bf16/fp16 peak of this GPU: {device.datasheet_tflops:,.0f} TFLOP/s")
    lines += [f"Note: {note}" for note in device.notes]
    for profile in report.profiles:
        lines += ["", *profile_lines(profile, report), "", *roofline_lines(report.roofline(profile))]
    lines += ["", *sweep_lines(report.sweep), "", *memory_lines(report)]
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def profile_lines(profile: LayerProfile, report: BenchReport) -> list[str]:
    probe = report.probe(profile.precision)
    reference = probe.gflops if probe else None
    rows = [(layer.paper_name, layer.name, layer.kind, f"{layer.macs:,}", f"{layer.seconds * 1e3:.2f}",
             "" if layer.gflops is None else f"{layer.gflops:,.1f}", _percent(layer.fraction_of(reference)))
            for layer in profile.layers]
    shares = " · ".join(f"{group} {share:.1%}" for group, share in profile.shares.items())
    fraction = f" = {profile.gflops / reference:.0%} of the {profile.precision} probe" if reference else ""
    batch = profile.input_shape[0]
    return [f"Per layer: {profile.precision}, batch {batch}, {profile.layout}, median of {profile.repeats} runs",
            format_table(LAYER_HEADERS, rows, (False, False, False, True, True, True, True)),
            f"Whole forward: {profile.plain_seconds * 1e3:,.1f} ms, {profile.gflops:,.1f} GFLOP/s{fraction}",
            f"Time in: {shares}",
            f"Per-layer timing overhead: {profile.overhead:+.1%} ({profile.timed_seconds * 1e3:,.1f} ms timed per "
            f"layer vs {profile.plain_seconds * 1e3:,.1f} ms plain)"]


def roofline_lines(line: Roofline) -> list[str]:
    rows = [(layer.paper_name, layer.limit, "" if not layer.flops else f"{layer.intensity:,.1f}",
             f"{layer.bound_seconds * 1e3:.3f}", f"{layer.measured_seconds * 1e3:.3f}", _percent(layer.fraction))
            for layer in line.layers if layer.flops]
    roof = line.roof
    return [f"Roofline, {roof.precision}: peak {roof.peak_gflops:,.1f} GFLOP/s, bandwidth {roof.bandwidth_gbs:,.1f} "
            f"GB/s, ridge {roof.ridge:,.1f} FLOP/byte (layers with FLOPs; the sum below counts every layer)",
            format_table(ROOFLINE_HEADERS, rows, (False, False, True, True, True, True)), line.sentence()]


def sweep_lines(sweep: Sweep) -> list[str]:
    rows = [(p.precision, p.layout, p.batch_size, f"{p.seconds * 1e3:,.1f}", f"{p.images_per_second:,.2f}",
             f"{p.gflops:,.1f}", mib(p.estimated_bytes), "" if p.measured_bytes is None else mib(p.measured_bytes))
            for p in sweep.points]
    lines = ["Throughput (estimated memory: the largest input + output one layer holds; measured: peak growth "
             "during one pass)", format_table(SWEEP_HEADERS, rows, (False, False, True, True, True, True, True, True))]
    methods = sorted({p.memory_method for p in sweep.points})
    lines += [f"Memory measured by: {', '.join(methods)}"] if methods else []
    return lines + [f"Stopped: {stop}" for stop in sweep.stops]


def memory_lines(report: BenchReport) -> list[str]:
    totals = report.analysis.totals
    return [f"Memory estimates (analysis, batch {report.analysis.batch_size}, fp32): weights "
            f"{mib(totals.weight_bytes)} · forward peak activations {mib(totals.peak_activation_bytes)} · every "
            f"activation kept {mib(totals.activation_bytes)} · training step {mib(totals.training_sgd.total)} "
            f"(SGD + momentum), {mib(totals.training_adam.total)} (Adam)"]
