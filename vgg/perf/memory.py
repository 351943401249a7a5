"""Memory: what a forward pass will need (from the analysis), what the device has free, and what
a pass took (measured).

Measured is the peak *growth* while the pass runs, over what the process held when it started (the
weights are already there): on CUDA from torch's allocator (``max_memory_allocated``), on Linux
CPUs from the kernel's peak resident set size (VmHWM), which writing "5" to /proc/self/clear_refs
resets. Before that, glibc's ``malloc_trim`` hands memory freed by earlier passes back to the
kernel: otherwise the pass reuses it without growing RSS and a small batch measures near 0. So the
figure is what the pass touches, allocator and oneDNN scratch included: about the estimate once
activations dominate (batch 4 of VGG16), up to 2-4x a small batch's estimate (a fixed ~10-30 MB).
RSS counts every thread of the process, so in a shared server (the app) other work can show up in
it. MPS has no peak counter: not measured.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import re
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import torch

from vgg.analysis import Report
from vgg.vision.devices import synchronize
from vgg.vision.precision import PRECISIONS

# The estimate is the analysis' peak_activation_bytes: the largest input + output that one layer
# holds at once. Measured on this project's CPU at batch 4, the channels_last path needs that (within
# 1%), the plain NCHW path about 1.5x (oneDNN reorders to its blocked layout); small batches add a
# fixed 10-30 MB. A batch is tried only if twice its estimate fits in what is free, less a margin.
SAFETY_FACTOR = 2.0
KEEP_FREE_FRACTION = 0.1
KEEP_FREE_MIN_BYTES = 256 * 2**20

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_MEMINFO = Path("/proc/meminfo")
_CGROUP_LIMITS = (  # (limit, usage): cgroup v2, then v1; a container's limit is often below MemAvailable
    (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory.current")),
    (Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"), Path("/sys/fs/cgroup/memory/memory.usage_in_bytes")),
)


def forward_estimate_bytes(report: Report, precision: str = "fp32") -> int:
    """Bytes one inference pass of ``report``'s batch needs besides the weights.

    A 16-bit precision runs on converted weights (``vgg.perf.layout.converted_copy``), so its
    activations are 16-bit too: the figure of an fp32 report is scaled by the element size.
    """
    element = PRECISIONS[precision].itemsize
    return report.totals.peak_activation_bytes * element // getattr(torch, report.dtype).itemsize


def fits(estimate: int, available: int | None) -> bool:
    """Whether a pass estimated at ``estimate`` bytes may be tried; unknown free memory never stops it."""
    if available is None:
        return True
    keep_free = max(KEEP_FREE_MIN_BYTES, int(KEEP_FREE_FRACTION * available))
    return SAFETY_FACTOR * estimate <= available - keep_free


def available_bytes(device: torch.device) -> int | None:
    """Memory a new allocation on ``device`` can use now, or None where it cannot be known."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return free + cached  # blocks torch's caching allocator holds but does not use are reusable
    if device.type == "mps":
        return max(0, torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory())
    return _cpu_available_bytes()


def _cpu_available_bytes() -> int | None:
    candidates = [value for value in (_meminfo_available(), _cgroup_headroom()) if value is not None]
    return min(candidates) if candidates else None


def _meminfo_available() -> int | None:
    try:
        match = re.search(r"^MemAvailable:\s+(\d+) kB", _MEMINFO.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) * 1024 if match else None


def _cgroup_headroom() -> int | None:
    for limit_path, usage_path in _CGROUP_LIMITS:
        try:
            limit, usage = limit_path.read_text().strip(), usage_path.read_text().strip()
        except OSError:
            continue
        if limit.isdigit() and usage.isdigit() and int(limit) < 2**60:  # v1 writes a huge number for "none"
            return max(0, int(limit) - int(usage))
    return None


class PeakMemory:
    """``with PeakMemory(device) as peak: ...``; then ``peak.bytes`` is the peak growth during the block
    (None where it cannot be measured) and ``peak.method`` says how it was measured."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.bytes: int | None = None
        self.method = {"cuda": "torch.cuda.max_memory_allocated"}.get(device.type, "")
        self._baseline = 0

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._baseline = torch.cuda.memory_allocated(self.device)
        elif self.device.type == "cpu":
            gc.collect()  # garbage from earlier work would otherwise be freed, or not, inside the block
            if _reset_peak_rss():
                self.method = "peak RSS (VmHWM) growth"
                self._baseline = _status_bytes("VmRSS") or 0
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.device.type == "cuda":
            synchronize(self.device)
            self.bytes = torch.cuda.max_memory_allocated(self.device) - self._baseline
        elif self.method:
            peak = _status_bytes("VmHWM")
            self.bytes = None if peak is None else max(0, peak - self._baseline)
        if not self.method:
            self.method = f"not measurable on {self.device.type}"


def _reset_peak_rss() -> bool:
    """Make VmHWM equal to the current RSS (Linux 4.0+); False where /proc does not allow it."""
    _release_free_heap()
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return _status_bytes("VmHWM") is not None


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def _release_free_heap() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _status_bytes(field: str) -> int | None:
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) * 1024 if match else None
