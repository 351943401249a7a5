"""Timing a call on a device: warm-up first, then one sample per call.

On CUDA a sample is the time between two events recorded around the call, waited for before the
next call: the GPU's time for that call, launch gaps included, host time after the last kernel
excluded. Elsewhere it is the wall clock, after waiting for the device (MPS) to finish.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import torch

from vgg.errors import VGGError
from vgg.vision.devices import synchronize


def seconds_once(function: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        stream = torch.cuda.current_stream(device)
        start.record(stream)
        function()
        end.record(stream)
        end.synchronize()
        return start.elapsed_time(end) / 1000.0  # elapsed_time is in milliseconds
    synchronize(device)
    started = time.perf_counter()
    function()
    synchronize(device)
    return time.perf_counter() - started


def sample_seconds(function: Callable[[], object], device: torch.device, *, repeats: int,
                   warmup: int) -> tuple[float, ...]:
    """``warmup`` untimed calls (lazy initialisation, allocator and kernel caches), then ``repeats`` samples."""
    for _ in range(warmup):
        function()
    return tuple(seconds_once(function, device) for _ in range(repeats))


def median(samples: Sequence[float]) -> float:
    return float(statistics.median(samples))


def check_counts(*, repeats: int, warmup: int) -> None:
    if repeats < 1:
        raise VGGError(f"repeats must be at least 1, got {repeats}.")
    if warmup < 0:
        raise VGGError(f"warmup cannot be negative, got {warmup}.")
