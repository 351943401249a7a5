"""Throughput over batch sizes, per precision and memory layout, stopping before memory runs out.

Before each batch the analysis estimates what the pass needs (``vgg.perf.memory``); a batch whose
estimate does not fit in the device's free memory ends that series, and so does an out-of-memory
error, with the reason recorded. The first timed pass of each batch is also measured for memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

from vgg.analysis import analyze
from vgg.arch.model import VGG
from vgg.errors import VGGError
from vgg.format import mib
from vgg.perf.hardware import check_precisions
from vgg.perf.layout import available_layouts, converted_copy, plain_layout_copy, random_input
from vgg.perf.memory import SAFETY_FACTOR, PeakMemory, available_bytes, fits, forward_estimate_bytes
from vgg.perf.timing import check_counts, median, sample_seconds, seconds_once

Progress = Callable[[int, int, str], None]  # (steps done, steps in all, what is running now)


@dataclass(frozen=True)
class SweepPoint:
    precision: str
    layout: str
    batch_size: int
    seconds: float  # median time of one forward of the batch
    macs: int  # for the whole batch
    estimated_bytes: int  # the analysis' estimate of the pass's memory besides the weights
    measured_bytes: int | None  # peak growth during the first timed pass; None where not measurable
    memory_method: str

    @property
    def images_per_second(self) -> float:
        return self.batch_size / self.seconds

    @property
    def ms_per_image(self) -> float:
        return self.seconds * 1e3 / self.batch_size

    @property
    def gflops(self) -> float:
        return 2 * self.macs / self.seconds / 1e9

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "images_per_second": self.images_per_second, "gflops": self.gflops}


@dataclass(frozen=True)
class Sweep:
    points: tuple[SweepPoint, ...]
    stops: tuple[str, ...]  # why a series ended before its largest batch, in words

    def series(self, precision: str, layout: str) -> tuple[SweepPoint, ...]:
        return tuple(p for p in self.points if p.precision == precision and p.layout == layout)

    def to_dict(self) -> dict[str, Any]:
        return {"points": [point.to_dict() for point in self.points], "stops": list(self.stops)}


def check_batch_sizes(batch_sizes: Sequence[int]) -> tuple[int, ...]:
    sizes = tuple(sorted({int(size) for size in batch_sizes}))
    if not sizes or sizes[0] < 1:
        raise VGGError(f"Batch sizes must be whole numbers of at least 1, got {list(batch_sizes)}.")
    return sizes


def throughput_sweep(model: VGG, *, batch_sizes: Sequence[int], input_size: tuple[int, int],
                     precisions: Sequence[str] = ("fp32",), layouts: Sequence[str] | None = None, repeats: int = 3,
                     warmup: int = 1, memory_budget: int | None = None,
                     on_progress: Progress | None = None) -> Sweep:
    """Time ``model`` at each batch size, for each precision and layout (default: every layout the model
    can run, see ``vgg.perf.layout``). ``memory_budget`` (bytes) replaces the device's free memory,
    read before each batch otherwise. ``model`` is only read; the plain layout runs on a copy, and a
    precision other than the model's on a copy with its weights converted once (not autocast)."""
    device = next(model.parameters()).device
    precisions = check_precisions(device, tuple(precisions))
    sizes = check_batch_sizes(batch_sizes)
    check_counts(repeats=repeats, warmup=warmup)
    layouts = _check_layouts(model, layouts)
    progress = on_progress or (lambda done, total, label: None)
    total, done = len(layouts) * len(precisions) * len(sizes), 0
    points: list[SweepPoint] = []
    stops: list[str] = []
    for layout in layouts:
        network = model if layout == available_layouts(model)[0] else plain_layout_copy(model)
        for precision in precisions:
            converted = converted_copy(network, precision)  # weights converted once, not autocast
            for index, size in enumerate(sizes):
                progress(done, total, f"{precision}, {layout}, batch {size}")
                budget = memory_budget if memory_budget is not None else available_bytes(device)
                outcome = _measure_point(converted, layout, precision, size, input_size, repeats, warmup, budget)
                if isinstance(outcome, str):
                    stops.append(outcome)
                    done += len(sizes) - index  # the larger batches of this series are skipped
                    break
                points.append(outcome)
                done += 1
            del converted
        del network  # a plain copy's conv weights are freed before the next layout's
    progress(total, total, "")
    return Sweep(tuple(points), tuple(stops))


def _check_layouts(model: VGG, layouts: Sequence[str] | None) -> tuple[str, ...]:
    possible = available_layouts(model)
    if layouts is None:
        return possible
    unknown = [layout for layout in layouts if layout not in possible]
    if unknown or not layouts:
        raise VGGError(f"Layouts {list(layouts)!r}: this model runs {', '.join(possible)}.")
    return tuple(dict.fromkeys(layouts))


def _measure_point(model: VGG, layout: str, precision: str, batch_size: int, input_size: tuple[int, int],
                   repeats: int, warmup: int, budget: int | None) -> SweepPoint | str:
    """One batch size's point, or why it was not measured."""
    device = next(model.parameters()).device
    report = analyze(model.network, input_size=input_size, batch_size=batch_size)
    estimate = forward_estimate_bytes(report, precision)
    label = f"{precision} {layout}: stopped before batch {batch_size}"
    if not fits(estimate, budget):
        return (f"{label}, whose estimated {mib(estimate, digits=0)} (x{SAFETY_FACTOR:g} for safety) does not "
                f"fit in the {mib(budget, digits=0)} free on {device}.")
    try:
        seconds, peak = _time_batch(model, layout, precision, batch_size, input_size, repeats, warmup)
    except (RuntimeError, MemoryError) as error:  # torch.OutOfMemoryError is a RuntimeError
        if not _out_of_memory(error):
            raise
        reason = f"{label}: out of memory ({str(error).splitlines()[0][:160]})."
    else:
        return SweepPoint(precision, layout, batch_size, seconds, report.totals.macs, estimate, peak.bytes,
                          peak.method)
    if device.type == "cuda":  # outside the except block, whose traceback holds the failed pass's tensors
        torch.cuda.empty_cache()
    return reason


def _out_of_memory(error: BaseException) -> bool:
    # CUDA raises torch.OutOfMemoryError; the CPU allocator a plain RuntimeError ("can't allocate memory").
    return isinstance(error, torch.OutOfMemoryError | MemoryError) or "can't allocate memory" in str(error)


def _time_batch(model: VGG, layout: str, precision: str, batch_size: int, input_size: tuple[int, int],
                repeats: int, warmup: int) -> tuple[float, PeakMemory]:
    device = next(model.parameters()).device
    x = random_input(model, batch_size, input_size, layout)

    def forward() -> None:
        model(x)

    with torch.inference_mode():
        for _ in range(warmup):
            forward()
        with PeakMemory(device) as peak:  # the first timed pass: warm, so lazy set-up is not counted
            first = seconds_once(forward, device)
        rest = sample_seconds(forward, device, repeats=repeats - 1, warmup=0)
    return median((first, *rest)), peak
