"""Performance: measured latency per layer against its MACs, throughput over batch sizes, memory
measured beside the analysis' estimate, and how close it all gets to a matmul probe of the device.

Nothing is measured until "Run benchmark" is pressed; the result is kept in the session per model,
device and input size, so reruns (other widgets, other tabs) show it without measuring again.
The cached model is only read: the plain NCHW path runs on a private copy of its conv weights. The network is
the sidebar's, or the mini VGG trained here whose weights the sidebar chose, at its own input size
(explorer/subject.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

import vgg
from explorer import charts, perf_charts, resources
from explorer.services import load_model, weights_choice
from explorer.state import AppState
from explorer.style import show_chart, side_by_side
from explorer.subject import Subject, header, subject_of
from explorer.tables import show_table
from vgg import format
from vgg.perf import BenchReport, DeviceInfo, LayerProfile, Roofline, describe_device, layout_of, run_bench

TITLE = "Performance"
BATCH_CHOICES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
_RESULTS_KEY = "_perf_results"  # {(model, weights, device, input size): (Settings, BenchReport)}


@dataclass(frozen=True)
class Settings:
    repeats: int
    batch_sizes: tuple[int, ...]
    precisions: tuple[str, ...]
    plain_path: bool

    def describe(self) -> str:
        return (f"batch sizes {', '.join(map(str, self.batch_sizes))} · {', '.join(self.precisions)} · "
                f"median of {self.repeats} runs{' · fast and plain paths' if self.plain_path else ''}")


def render(state: AppState) -> None:
    subject = subject_of(state)
    header(subject, f"{subject.title} at {subject.size_text}: where the time and memory go")
    info = describe_device(vgg.select_device(state.device))
    _device(info)
    if not subject.runnable:
        st.info(subject.runnable_note("its time") + " The estimates below need none.")
        _memory(state, subject, None)
        return
    settings = _controls(info)
    weights = ("trained", subject.trained.id) if subject.trained else weights_choice(state)
    key = (subject.network, weights, state.device, subject.input_size)
    results = st.session_state.setdefault(_RESULTS_KEY, {})
    if st.button("Run benchmark", key="perf_run", type="primary", icon=":material/speed:"):
        results[key] = (settings, _run(state, subject, settings))
    stored = results.get(key)
    if stored is None:
        st.info("Press **Run benchmark** to measure this network on this device. Every run is a full forward "
                "pass (VGG16 at batch 1: about 0.2 s on an idle 2-core CPU, more when it is busy), so the defaults "
                "take about 10 s there; a progress bar shows each step.")
    else:
        used, report = stored
        st.caption(f"Measured with {used.describe()}."
                   + (" The settings above have changed since: run again to measure them." if used != settings
                      else ""))
        _results(report, state.projector)
    _memory(state, subject, stored[1] if stored else None)


def _device(info: DeviceInfo) -> None:
    st.subheader("The device")
    first, second, third, fourth = st.columns(4)
    first.metric("Device", info.device, help=info.name)
    second.metric("CPU threads" if info.device == "cpu" else "Streaming multiprocessors",
                  info.threads if info.sm_count is None else info.sm_count)
    third.metric("Memory", format.nbytes(info.total_memory) if info.total_memory else "unknown")
    fourth.metric("Precisions measured", ", ".join(info.precisions),
                  help="Only what the hardware computes natively: bf16 on CPUs with AVX512-BF16/AMX, bf16 and "
                       "fp16 on CUDA GPUs (bf16 from compute capability 8.0).")
    details = [info.name] + ([f"compute capability {info.compute_capability}"] if info.compute_capability else [])
    if info.datasheet_tflops:
        details.append(f"datasheet dense bf16/fp16 peak {info.datasheet_tflops:,.0f} TFLOP/s")
    st.caption(" · ".join(details) + "".join(f"  \n{note}" for note in info.notes))


def _controls(info: DeviceInfo) -> Settings:
    first, second, third, fourth = st.columns([1, 2, 1, 1])
    repeats = first.slider("Repeats", 1, 20, 3, key="perf_repeats",
                           help="Timed runs per measurement, after one warm-up run; the median is shown.")
    sizes = second.multiselect("Batch sizes", BATCH_CHOICES, default=[1, 2], key="perf_batches",
                               help="The throughput sweep; the per-layer profile uses the smallest. A series stops "
                                    "before a batch whose estimated memory does not fit in what is free.")
    precisions = third.multiselect("Precision", info.precisions, default=[info.precisions[0]],
                                   key="perf_precisions")
    plain = fourth.checkbox("Also the plain NCHW path", value=True, key="perf_plain",
                            help="The model as built, beside the channels_last fast path of vgg.prepare; runs on "
                                 "a private copy of the conv weights.")
    return Settings(repeats, tuple(sorted(sizes)) or (1,), tuple(precisions) or (info.precisions[0],), plain)


def _run(state: AppState, subject: Subject, settings: Settings) -> BenchReport:
    if subject.trained is not None:
        model = resources.trained_model(subject.trained, state.device)
    else:
        model = load_model(state, state.model)
    layouts = None if settings.plain_path else (layout_of(model),)
    bar = st.progress(0.0, text="Starting...")

    def on_progress(done: int, total: int, label: str) -> None:
        bar.progress(min(done / total, 1.0), text=f"Measuring: {label}" if label else "Done")

    report = run_bench(model, input_size=subject.input_size, batch_sizes=settings.batch_sizes,
                       precisions=settings.precisions, repeats=settings.repeats,
                       profile_batch=settings.batch_sizes[0], layouts=layouts, on_progress=on_progress)
    bar.empty()
    return report


def _results(report: BenchReport, projector: bool) -> None:
    profile = report.profiles[0]
    if len(report.profiles) > 1:
        names = [p.precision for p in report.profiles]
        chosen = st.radio("Profile shown", names, horizontal=True, key="perf_profile")
        profile = report.profiles[names.index(chosen)]
    probe = report.probe(profile.precision)
    reference = probe.gflops if probe else None
    st.subheader(f"Per layer: {profile.precision}, batch {profile.input_shape[0]}, {profile.layout}")
    first, second, third, fourth = st.columns(4)
    first.metric("Forward pass", f"{profile.plain_seconds * 1e3:,.1f} ms", help="Median of model(x)")
    second.metric("Achieved", f"{profile.gflops:,.1f} GFLOP/s", help="2 × MACs of the whole network / time")
    third.metric(f"Matmul probe ({profile.precision})", f"{reference:,.1f} GFLOP/s" if reference else "n/a",
                 help=f"A {probe.size}×{probe.size} matmul: what this device delivers on dense work" if probe else None)
    fourth.metric("Of the probe", f"{profile.gflops / reference:.0%}" if reference else "n/a")
    left, right = side_by_side([3, 2], projector=projector)
    with left:
        show_chart(perf_charts.time_vs_macs(profile.layers, title="Time against MACs, per layer"),
                   key="perf_time_vs_macs", projector=projector)
    with right:
        shares = profile.shares
        show_chart(perf_charts.time_shares(shares, title="Share of the time"), key="perf_shares", projector=projector)
        st.caption(overhead_sentence(profile.overhead, profile.timed_seconds, profile.plain_seconds))
    _layer_table(profile, reference, projector)
    _roofline(report.roofline(profile), projector)
    _sweep(report, projector)


NOISE = 0.02  # paired medians on a shared machine move by a few percent from run to run


def overhead_sentence(overhead: float, timed_seconds: float, plain_seconds: float) -> str:
    """What timing each layer costs, in words; a saving (or a cost under ``NOISE``) is said to be noise."""
    times = f"{timed_seconds * 1e3:,.1f} ms timed against {plain_seconds * 1e3:,.1f} ms untimed, median of paired runs"
    if overhead < NOISE:
        return (f"Timing every layer adds no measurable time to a forward pass: the difference ({times}) is within "
                "the run-to-run noise of this machine.")
    return f"Timing every layer adds {overhead:.1%} to a forward pass ({times})."


def _layer_table(profile: LayerProfile, reference: float | None, projector: bool) -> None:
    # Layers without MACs (ReLU, pooling) have no GFLOP/s: an empty cell, not "None".
    frame = pd.DataFrame([{"Paper name": layer.paper_name, "Module": layer.name, "Kind": layer.kind,
                           "MACs": layer.macs, "ms": layer.seconds * 1e3,
                           "GFLOP/s": "" if layer.gflops is None else f"{layer.gflops:,.1f}",
                           "Of the probe": layer.fraction_of(reference)} for layer in profile.layers])
    if projector:  # a static table in the page's large type, the layers that compute only, as the class reads them
        shown = frame[frame["MACs"] > 0].assign(**{"MACs": frame["MACs"].map(format.count),
                                                   "ms": frame["ms"].map("{:,.2f}".format),
                                                   "Of the probe": frame["Of the probe"].map(_percent)})
        show_table(shown, key="perf_layers", projector=True,
                   static_columns=["Paper name", "MACs", "ms", "GFLOP/s", "Of the probe"])
    else:
        st.dataframe(frame, hide_index=True, key="perf_layers", column_config={
            "MACs": st.column_config.NumberColumn(format="compact"),
            "ms": st.column_config.NumberColumn(format="%.3f"),
            "Of the probe": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)})
    st.caption("GFLOP/s = 2 × MACs / time. On the CPU, a layer's time is the wall clock around its call; on a GPU, "
               "CUDA events. A layer can pass 100% of the probe when its shape suits the hardware better than the "
               "square matmul does.")


def _percent(fraction: float | None) -> str:
    return "" if fraction is None or pd.isna(fraction) else f"{fraction:.0%}"


def _roofline(line: Roofline, projector: bool) -> None:
    roof = line.roof
    st.subheader(f"Roofline: {line.fraction:.0%} of what the hardware allows")
    st.markdown(line.sentence())
    chart_area, table_area = side_by_side([3, 2], projector=projector)
    with chart_area:
        show_chart(perf_charts.roofline_chart(line, title=f"Roofline, {roof.precision}, batch {line.batch_size}"),
                   key="perf_roofline", projector=projector)
    with table_area:
        frame = pd.DataFrame([{"Layer": layer.paper_name, "Bound by": layer.limit, "FLOP/byte": layer.intensity,
                               "Bound ms": layer.bound_seconds * 1e3, "Took ms": layer.measured_seconds * 1e3,
                               "Of the bound": layer.fraction} for layer in line.layers if layer.flops])
        if projector:  # static, in the page's large type: a data grid keeps its small fixed-size text
            show_table(frame.assign(**{"FLOP/byte": frame["FLOP/byte"].map("{:,.1f}".format),
                                       "Bound ms": frame["Bound ms"].map("{:,.2f}".format),
                                       "Took ms": frame["Took ms"].map("{:,.2f}".format),
                                       "Of the bound": frame["Of the bound"].map(_percent)}),
                       key="perf_roofline_table", projector=True)
        else:
            st.dataframe(frame, hide_index=True, key="perf_roofline_table", column_config={
                "FLOP/byte": st.column_config.NumberColumn(format="%.1f"),
                "Bound ms": st.column_config.NumberColumn(format="%.2f"),
                "Took ms": st.column_config.NumberColumn(format="%.2f"),
                "Of the bound": st.column_config.NumberColumn(format="percent")})
    st.caption(f"Roofs measured here: a {roof.precision} matmul ({roof.peak_gflops:,.1f} GFLOP/s) and a streaming "
               f"copy/triad ({roof.bandwidth_gbs:,.1f} GB/s); the ridge is at {roof.ridge:,.1f} FLOP per byte. A "
               "layer's bytes are its weights, input and output, each moved once; its bound is the larger of "
               "FLOPs / peak and bytes / bandwidth. The network's bound sums every layer (ReLU and pooling as "
               "memory traffic). Small layers can pass 100% when their weights stay in the cache.")


def _sweep(report: BenchReport, projector: bool) -> None:
    sweep = report.sweep
    st.subheader("Throughput over batch sizes")
    if sweep.points:
        left, right = side_by_side(2, projector=projector)
        with left:
            show_chart(perf_charts.sweep_lines(sweep, metric="images_per_second", title="Images per second",
                                               y_title="images/s"), key="perf_throughput",
                       projector=projector)
        with right:
            show_chart(perf_charts.sweep_lines(sweep, metric="ms_per_image", title="Latency per image",
                                               y_title="ms per image"), key="perf_latency",
                       projector=projector)
        frame = pd.DataFrame([{"Precision": p.precision, "Layout": p.layout, "Batch": p.batch_size,
                               "ms per batch": p.seconds * 1e3, "Images/s": p.images_per_second, "GFLOP/s": p.gflops,
                               "Estimated memory": format.nbytes(p.estimated_bytes),
                               "Measured memory": format.nbytes(p.measured_bytes) if p.measured_bytes is not None
                               else "n/a"} for p in sweep.points])
        show_table(frame, key="perf_sweep", projector=projector, column_config={
            "ms per batch": st.column_config.NumberColumn(format="%.1f"),
            "Images/s": st.column_config.NumberColumn(format="%.2f"),
            "GFLOP/s": st.column_config.NumberColumn(format="%.1f")})
        methods = ", ".join(sorted({p.memory_method for p in sweep.points}))
        st.caption(f"Memory besides the weights. Estimated: the largest input + output one layer holds (analysis). "
                   f"Measured: the peak growth during one pass, by {methods}. On the CPU that is what the pass "
                   "touches, allocator and oneDNN scratch included (a fixed 10-30 MB that dominates small batches; "
                   "the plain NCHW path adds oneDNN's reorders), and it counts the whole server process, so other "
                   "sessions' work can show up in it.")
    for stop in sweep.stops:
        st.warning(stop, icon=":material/memory:")


def _memory(state: AppState, subject: Subject, report: BenchReport | None) -> None:
    analysis = resources.analysis(subject.network, subject.input_size)
    totals = analysis.totals
    st.subheader("Memory, as the analysis estimates it (batch 1, fp32)")
    first, second, third, fourth = st.columns(4)
    first.metric("Weights", format.nbytes(totals.weight_bytes))
    second.metric("Forward pass, at peak", format.nbytes(totals.peak_activation_bytes),
                  help="The largest input + output one layer holds at once: what inference needs besides weights")
    third.metric("Every activation kept", format.nbytes(totals.activation_bytes),
                 help="What keeping every layer's output takes (the Forward pass view does)")
    fourth.metric("Training step (Adam)", format.nbytes(totals.training_adam.total))
    left, right = side_by_side(2, projector=state.projector)
    with left:
        show_chart(charts.per_layer_bars(analysis.layers, [row.activation_bytes / 2**20 for row in analysis.layers],
                                         title="Activation memory per layer (output, batch 1)", y_title="MiB",
                                         only_kinds=("conv", "fc", "pool", "avgpool", "bn", "lrn")),
                   key="perf_activations", projector=state.projector)
    with right:
        parts = {"Weights": "weights", "Gradients": "gradients", "Optimizer state": "optimizer_state",
                 "BN buffers": "buffers", "Saved for backward": "activations", "Total": "total"}
        training = pd.DataFrame({"Training step": list(parts)} | {
            name: [format.nbytes(getattr(estimate, field)) for field in parts.values()]
            for name, estimate in (("SGD + momentum", totals.training_sgd), ("Adam", totals.training_adam))})
        show_table(training, key="perf_training", projector=state.projector)
        st.caption("One training step of batch 1 in fp32: no mixed precision, no gradient checkpointing; allocator "
                   "overhead and cuDNN workspace are not included. Measured figures for inference are in the "
                   "throughput table" + (" above." if report is not None else " once the benchmark has run."))
