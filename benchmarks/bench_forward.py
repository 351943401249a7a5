"""Benchmark: the batch-1, 224x224 forward of VGG16 (and any other variant) against its peers, and against the
roofline; prints JSON (or the docs' tables with --markdown).

    python benchmarks/bench_forward.py [--device cpu] [--variants vgg16 vgg19_bn] [--rounds 7]
                                       [--no-compile] [--emulated-bf16] [--threads N] [--markdown]

Peers, on the same weights, the same input (the cat sample) and the same thread count, run one after
the other in every round, the order rotating from round to round, so drift and other load hit all
alike; figures are medians over rounds:

- ``eager``: the model as built (NCHW, fp32), ``model(x)``: torchvision's code path.
- ``onnxruntime``: ONNX Runtime (CPU execution provider) on the model exported by ``vgg.perf.export``
  (its parity check passed first).
- ``compiled``: ``torch.compile`` (inductor, freezing on) of the prepared fp32 model; its compile time
  is stated. ``--no-compile`` leaves it out.
- ``project_fp32``: ``vgg.prepare`` (channels_last, fp32), ``model(x)``: the exact fast path.
- ``project_fp32_features``: the same model through ``vgg.forward_with_features`` keeping every layer
  (what the app's forward view runs).
- ``project_bf16``: ``vgg.prepare(precision="bf16")`` (weights converted once, channels_last), only
  where the hardware has native bf16; elsewhere the refusal is recorded. ``--emulated-bf16`` times the
  converted model anyway, two runs, to show what the refusal saves.

Each round also runs the roofline's probes (a 2048² matmul per precision, a stream copy/triad), so
the bound is measured under the same load. For each peer: median ms, ratio to eager and to ONNX
Runtime, GFLOP/s (2 x torchvision's published MACs / time), fraction of the roofline bound (the sum
of every layer's ``max(FLOPs / peak, bytes / bandwidth)``, see ``vgg.perf.roofline``), and its
accuracy cost against eager's logits (max logit difference, top-5 agreement, cosine similarity).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import torch

import vgg
from vgg.arch.configs import VARIANTS
from vgg.perf import Roof, converted_copy, hardware_line, hardware_summary, plain_layout_copy, roofline
from vgg.perf.export import export
from vgg.vision.devices import synchronize
from vgg.vision.precision import PRECISIONS, PrecisionError, accuracy_cost, check_precision

MATMUL_SIZE = 2048
MEMORY_ARRAY_BYTES = 128 * 2**20
EXACT = ("project_fp32", "project_fp32_features", "compiled")  # fp32 paths; ORT is the peer, not the project
GOALS = {  # per CPU class; see docs/benchmarks.md
    "bf16_speedup_over_eager": 3.0, "bf16_cosine": 0.999, "bf16_fraction_of_bound": 0.70,
    "fastest_exact_over_onnxruntime": 1.0, "fastest_exact_fraction_of_bound": 0.85,
}


def timed(function: Callable[[], object], device: torch.device) -> float:
    synchronize(device)
    start = time.perf_counter()
    function()
    synchronize(device)
    return time.perf_counter() - start


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


class Peers:
    """The models and the callables of one variant, built once."""

    def __init__(self, name: str, device: torch.device, x: torch.Tensor, args: argparse.Namespace,
                 folder: Path) -> None:
        config, batch_norm = variant(name)
        torch.manual_seed(0)
        self.device, self.notes = device, {}
        self.prepared = vgg.prepare(vgg.build(config, batch_norm=batch_norm), device)
        self.eager_model = plain_layout_copy(self.prepared)  # NCHW conv weights, the classifier shared
        self.x_nchw = x.to(device)
        self.x_last = self.x_nchw.contiguous(memory_format=torch.channels_last)
        self.calls: dict[str, Callable[[], torch.Tensor]] = {
            "eager": lambda: self._run(self.eager_model, self.x_nchw),
            "project_fp32": lambda: self._run(self.prepared, self.x_last),
            "project_fp32_features": lambda: vgg.forward_with_features(self.prepared, x).logits,
        }
        if args.onnxruntime:
            self._add_onnxruntime(folder / "model.onnx", x.shape[-2:])
        if args.compile:
            self._add_compiled()
        self._add_bf16(args.emulated_bf16)

    def _run(self, model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return model(x).float().cpu()

    def _add_onnxruntime(self, path: Path, size: tuple[int, int]) -> None:
        try:
            import onnxruntime
        except ImportError:
            self.notes["onnxruntime"] = "not installed"
            return
        result = export(self.eager_model, path, "onnx", input_size=tuple(size))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        image = self.x_nchw.cpu().numpy()
        self.calls["onnxruntime"] = lambda: torch.from_numpy(session.run(None, {"image": image})[0])
        self.notes["onnxruntime"] = (f"exported in {result.seconds:.0f} s, parity {result.max_abs_diff:.1e} "
                                     f"({result.checked_with})")

    def _add_compiled(self) -> None:
        import torch._inductor.config as inductor

        inductor.freezing = True  # weights become constants: inference only, as here
        compiled = torch.compile(self.prepared)
        started = time.perf_counter()
        self._run(compiled, self.x_last)
        self.compile_seconds = time.perf_counter() - started
        self.calls["compiled"] = lambda: self._run(compiled, self.x_last)
        self.notes["compiled"] = f"torch.compile (inductor, freezing) took {self.compile_seconds:.0f} s to compile"

    def _add_bf16(self, emulated: bool) -> None:
        try:
            check_precision(self.device, "bf16")
        except PrecisionError as error:
            self.notes["project_bf16"] = f"refused: {error}"
            if emulated:
                model = converted_copy(self.prepared, "bf16")
                x = self.x_last.to(torch.bfloat16)
                runs = [timed(lambda: self._run(model, x), self.device) for _ in range(2)]
                self.emulated_bf16_ms = median_ms(runs)
            return
        model = converted_copy(self.prepared, "bf16")  # what vgg.prepare(precision="bf16") makes
        x = self.x_last.to(torch.bfloat16)
        self.calls["project_bf16"] = lambda: self._run(model, x)


def probes(device: torch.device, precisions: list[str]) -> dict[str, Callable[[], object]]:
    a = torch.rand(MEMORY_ARRAY_BYTES // 4, device=device)
    b, c = torch.rand_like(a), torch.rand_like(a)
    calls: dict[str, Callable[[], object]] = {
        "copy": lambda: a.copy_(b), "triad": lambda: torch.add(b, c, alpha=3.0, out=a)}
    for precision in precisions:
        dtype = PRECISIONS[precision]
        m1 = torch.randn(MATMUL_SIZE, MATMUL_SIZE, device=device, dtype=dtype)
        m2, out = torch.randn_like(m1), torch.empty_like(m1)
        calls[f"matmul_{precision}"] = lambda m1=m1, m2=m2, out=out: torch.mm(m1, m2, out=out)
    return calls


def roof_of(precision: str, samples: dict[str, list[float]]) -> Roof:
    copy_gbs = 2 * MEMORY_ARRAY_BYTES / statistics.median(samples["copy"]) / 1e9
    triad_gbs = 3 * MEMORY_ARRAY_BYTES / statistics.median(samples["triad"]) / 1e9
    peak = 2 * MATMUL_SIZE**3 / statistics.median(samples[f"matmul_{precision}"]) / 1e9
    return Roof(precision, peak, max(copy_gbs, triad_gbs))


def bench_variant(name: str, device: torch.device, x: torch.Tensor, args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="vgg-bench-") as folder:
        peers = Peers(name, device, x, args, Path(folder))
        precisions = ["fp32"] + (["bf16"] if "project_bf16" in peers.calls else [])
        probe_calls = probes(device, precisions)
        outputs = {label: call() for label, call in peers.calls.items()}  # warm-up 1, and the logits compared
        for _ in range(args.warmup - 1):
            for call in itertools.chain(peers.calls.values(), probe_calls.values()):
                call()
        samples: dict[str, list[float]] = defaultdict(list)
        labels = list(peers.calls)
        for round_index in range(args.rounds):
            shift = round_index % len(labels)
            for label in labels[shift:] + labels[:shift]:  # each peer goes first in turn
                samples[label].append(timed(peers.calls[label], device))
            for label, call in probe_calls.items():
                samples[label].append(timed(call, device))
            print(f"  {name} round {round_index + 1}/{args.rounds}", file=sys.stderr)
        return summarise(name, peers, outputs, samples, precisions, tuple(x.shape[-2:]))


def variant(name: str) -> tuple[str, bool]:
    """(config, batch norm) of a torchvision name ("vgg16_bn") or a spec ("64 M 128 M")."""
    return VARIANTS.get(name, (name, False))


def summarise(name: str, peers: Peers, outputs: dict[str, torch.Tensor], samples: dict[str, list[float]],
              precisions: list[str], size: tuple[int, int]) -> dict[str, object]:
    config, batch_norm = variant(name)
    report = vgg.analyze(config, batch_norm=batch_norm, input_size=size)
    flops = report.totals.flops  # 2 x MACs: torchvision's published _ops at 224
    zero_times = {row.name: 0.0 for row in report.layers}
    bounds = {}
    for precision in precisions:
        roof = roof_of(precision, samples)
        line = roofline(report, zero_times, roof, measured_seconds=1.0, element_bytes=PRECISIONS[precision].itemsize)
        bounds[precision] = {"roof": roof.to_dict(), "bound_ms": line.bound_seconds * 1e3,
                             "compute_bound": [layer.paper_name for layer in line.bound_by("compute")],
                             "memory_bound": [layer.paper_name for layer in line.bound_by("memory")]}
    eager_ms = median_ms(samples["eager"])
    ort_ms = median_ms(samples["onnxruntime"]) if "onnxruntime" in samples else None
    result: dict[str, object] = {"gflop_per_forward": flops / 1e9, "roofline": bounds, "peers": {}}
    for label in peers.calls:
        ms = median_ms(samples[label])
        precision = "bf16" if label == "project_bf16" else "fp32"
        bound_ms = bounds[precision]["bound_ms"]
        result["peers"][label] = {
            "ms": ms, "min_ms": min(samples[label]) * 1e3, "speedup_over_eager": eager_ms / ms,
            "speedup_over_onnxruntime": ort_ms / ms if ort_ms else None, "gflops": flops / ms / 1e6,
            "fraction_of_bound": bound_ms / ms, "precision": precision,
            "accuracy_vs_eager": accuracy_cost(outputs["eager"], outputs[label]).to_dict()}
    result["notes"] = peers.notes
    if hasattr(peers, "compile_seconds"):
        result["compile_seconds"] = peers.compile_seconds
    if hasattr(peers, "emulated_bf16_ms"):
        result["emulated_bf16_ms"] = peers.emulated_bf16_ms
    exact = {label: result["peers"][label]["ms"] for label in EXACT if label in result["peers"]}
    result["fastest_exact"] = min(exact, key=exact.get)
    return result


def goals(results: dict[str, dict[str, object]], setting: dict[str, object]) -> dict[str, object]:
    """Each goal against the worst variant, or why it was not measured here."""
    def worst(figure: Callable[[dict[str, object]], float | None]) -> float | None:
        values = [figure(r) for r in results.values()]
        return None if any(v is None for v in values) else min(values)

    def fastest(r: dict[str, object]) -> dict[str, object]:
        return r["peers"][r["fastest_exact"]]

    bf16 = "bf16" in setting["native_precisions"]
    figures = {
        "fastest_exact_over_onnxruntime": worst(lambda r: fastest(r)["speedup_over_onnxruntime"]),
        "fastest_exact_fraction_of_bound": worst(lambda r: fastest(r)["fraction_of_bound"]),
        "bf16_speedup_over_eager": worst(lambda r: r["peers"]["project_bf16"]["speedup_over_eager"]) if bf16 else None,
        "bf16_cosine": worst(lambda r: r["peers"]["project_bf16"]["accuracy_vs_eager"]["cosine"]) if bf16 else None,
        "bf16_fraction_of_bound": worst(lambda r: r["peers"]["project_bf16"]["fraction_of_bound"]) if bf16 else None,
    }
    checks = {}
    for key, target in GOALS.items():
        value = figures[key]
        if value is None:
            why = "no native bf16 on this CPU" if key.startswith("bf16") else "a peer was not measured"
            checks[key] = {"target": target, "worst": None, "met": None, "why_not_measured": why}
        else:
            checks[key] = {"target": target, "worst": value, "met": value >= target}
    return checks


PEER_TITLES = {"eager": "eager (NCHW, as built)", "onnxruntime": "ONNX Runtime fp32",
               "compiled": "torch.compile (freezing)", "project_fp32": "project fp32 (vgg.prepare)",
               "project_fp32_features": "project fp32, every layer kept", "project_bf16": "project bf16 (native)"}


def to_markdown(report: dict[str, object]) -> str:
    lines = []
    for name, r in report["results"].items():
        lines += [f"**{name}**, batch 1, {report['size']}x{report['size']}, {report['rounds']} rotating rounds, "
                  "medians:", "",
                  "| peer | ms | vs eager | vs ONNX Runtime | GFLOP/s | of the roofline bound | max logit diff | "
                  "top-5 agreement | cosine |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for label, p in r["peers"].items():
            cost = p["accuracy_vs_eager"]
            ort = "" if p["speedup_over_onnxruntime"] is None else f"{p['speedup_over_onnxruntime']:.2f}x"
            lines.append(f"| {PEER_TITLES[label]} | {p['ms']:,.1f} | {p['speedup_over_eager']:.2f}x | {ort} | "
                         f"{p['gflops']:,.1f} | {p['fraction_of_bound']:.0%} | {cost['max_abs_diff']:.1e} | "
                         f"{cost['top5_agreement']:.0%} | {cost['cosine']:.6f} |")
        fp32 = r["roofline"]["fp32"]
        roof = fp32["roof"]
        lines += ["", f"Roofline (fp32, measured in the same rounds): matmul {roof['peak_gflops']:,.1f} GFLOP/s, "
                      f"bandwidth {roof['bandwidth_gbs']:,.1f} GB/s, ridge {roof['ridge']:.1f} FLOP/byte; the sum of "
                      f"the layers' bounds is {fp32['bound_ms']:,.1f} ms. Memory-bound layers: "
                      f"{', '.join(fp32['memory_bound'])}; every other layer with FLOPs is compute-bound. "
                      f"Fastest exact path: {PEER_TITLES[r['fastest_exact']]}."]
        lines += [f"- {PEER_TITLES.get(label, label)}: {note}" for label, note in r["notes"].items()]
        if "emulated_bf16_ms" in r:
            lines.append(f"- bf16 emulated (converted weights, this CPU, refused by vgg.prepare): "
                         f"{r['emulated_bf16_ms']:,.0f} ms, {r['emulated_bf16_ms'] / r['peers']['eager']['ms']:.1f}x "
                         "the eager fp32 forward")
        lines.append("")
    lines.append("Goals (worst variant):")
    for key, check in report["goals"].items():
        state = (f"not measured here ({check['why_not_measured']})" if check["met"] is None
                 else f"{check['worst']:.3g} against {check['target']:g}: {'met' if check['met'] else 'NOT met'}")
        lines.append(f"- {key}: {state}")
    lines += ["", f"Hardware: {report['hardware_line']}."]
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda / cuda:N (ONNX Runtime stays on the CPU)")
    parser.add_argument("--variants", nargs="+", default=["vgg16"],
                        help="torchvision names (vgg16, vgg19_bn, ...) or specs in quotes (default: vgg16)")
    parser.add_argument("--size", type=int, default=224, help="input side in pixels (default: 224)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--no-compile", dest="compile", action="store_false", help="leave torch.compile out")
    parser.add_argument("--no-onnxruntime", dest="onnxruntime", action="store_false",
                        help="leave ONNX Runtime out (its export takes a while)")
    parser.add_argument("--emulated-bf16", action="store_true",
                        help="where bf16 is not native, time the converted bf16 model anyway (two runs)")
    parser.add_argument("--markdown", action="store_true", help="print the docs' tables instead of JSON")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, object]:
    if args.threads:
        torch.set_num_threads(args.threads)
    device = vgg.select_device(args.device)
    setting = hardware_summary(device)
    x = vgg.preprocess(vgg.load_sample("cat"), size=args.size)  # (1, 3, size, size)
    results = {}
    for name in args.variants:
        results[name] = bench_variant(name, device, x, args)
        print(f"{name}: {json.dumps(results[name])}", file=sys.stderr)  # progress; stdout gets the report only
    return {"hardware": setting, "hardware_line": hardware_line(setting), "rounds": args.rounds, "size": args.size,
            "results": results, "goals": goals(results, setting)}


def main() -> None:
    args = parse()
    report = run(args)
    print(to_markdown(report) if args.markdown else json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
