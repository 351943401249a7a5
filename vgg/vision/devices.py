"""Where the network runs: a CUDA GPU, Apple's MPS, or the CPU, picked automatically or by name."""

from __future__ import annotations

import platform
import time
from functools import cache
from pathlib import Path

import torch

from vgg.errors import DeviceError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")  # "cuda:N" is accepted too
_CPUINFO = Path("/proc/cpuinfo")
_NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def select_device(name: str | torch.device = "auto") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu; a named device that is absent raises DeviceError."""
    text = str(name).strip().lower()
    kind, _, index = text.partition(":")
    if text == "auto":
        return torch.device(available_devices()[0][0])
    if text == "cpu":
        return torch.device("cpu")
    if kind == "cuda":
        return _cuda_device(index)
    if text == "mps":
        if not _mps_available():
            raise DeviceError("Apple's MPS was requested but is not available (it needs an Apple-silicon Mac and a "
                              "PyTorch build with MPS). Use --device cpu, or auto.")
        return torch.device("mps")
    raise DeviceError(f"Unknown device {str(name)!r}: use auto, cpu, cuda (or cuda:N), or mps.")


def _cuda_device(index_text: str) -> torch.device:
    if not torch.cuda.is_available():
        why = (f"this PyTorch build ({torch.__version__}) is CPU-only" if torch.version.cuda is None
               else "no CUDA GPU or driver was found")
        raise DeviceError(f"CUDA was requested but {why}. Use --device cpu, or auto.")
    count = torch.cuda.device_count()
    try:
        index = int(index_text) if index_text else torch.cuda.current_device()
    except ValueError:
        raise DeviceError(f"Bad CUDA device 'cuda:{index_text}': use cuda or cuda:N with N a number.") from None
    if not 0 <= index < count:
        raise DeviceError(f"CUDA device {index} was requested but this machine shows {count} "
                          f"(cuda:0 to cuda:{count - 1}).")
    return torch.device("cuda", index)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_devices() -> list[tuple[str, str]]:
    """``(device id, human name)`` for every usable device, in ``auto``'s order of preference."""
    devices: list[tuple[str, str]] = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            memory_gib = torch.cuda.get_device_properties(index).total_memory / 2**30
            devices.append((f"cuda:{index}", f"{torch.cuda.get_device_name(index)} ({memory_gib:.0f} GiB)"))
    if _mps_available():
        devices.append(("mps", "Apple GPU (Metal Performance Shaders)"))
    devices.append(("cpu", f"{cpu_model()} ({torch.get_num_threads()} threads)"))
    return devices


@cache
def cpu_model() -> str:
    """The CPU's marketing name ("AMD EPYC 7B13"), or the best the platform says."""
    for line in _cpuinfo_lines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "CPU"


@cache
def cpu_has_native_bf16() -> bool:
    """True where the CPU computes bf16 in hardware (AVX512-BF16, AMX). Elsewhere bf16 is emulated:
    autocast to it makes a forward slower, not faster, so the fast path stays in float32."""
    for line in _cpuinfo_lines():
        if line.lower().startswith("flags"):
            return bool(_NATIVE_BF16_FLAGS & set(line.split(":", 1)[1].split()))
    return False


def _cpuinfo_lines() -> list[str]:
    try:
        return _CPUINFO.read_text(errors="replace").splitlines()
    except OSError:  # not Linux
        return []


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels, so a wall-clock reading covers the work (CPU ops are synchronous)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


class LayerClock:
    """Seconds per layer from the wall clock. On MPS, waits for the device at each mark, so each
    layer's time is its own (the pass gets slower by the waits)."""

    def __init__(self, device: torch.device) -> None:
        self._device = device
        self._times: dict[str, float] = {}
        self._last = 0.0

    def start(self) -> None:
        synchronize(self._device)
        self._last = time.perf_counter()

    def mark(self, name: str) -> None:
        """The time since the previous mark (or start) is ``name``'s."""
        synchronize(self._device)
        now = time.perf_counter()
        self._times[name] = now - self._last
        self._last = now

    def seconds(self) -> dict[str, float]:
        return dict(self._times)


class CudaEventClock(LayerClock):
    """Seconds per layer from CUDA events: recorded in the stream, no waits between layers."""

    def __init__(self, device: torch.device) -> None:
        super().__init__(device)
        self._stream = torch.cuda.current_stream(device)
        self._events: list[tuple[str, torch.cuda.Event]] = []

    def _record(self) -> torch.cuda.Event:
        event = torch.cuda.Event(enable_timing=True)
        event.record(self._stream)
        return event

    def start(self) -> None:
        self._events = [("", self._record())]

    def mark(self, name: str) -> None:
        self._events.append((name, self._record()))

    def seconds(self) -> dict[str, float]:
        self._events[-1][1].synchronize()
        pairs = zip(self._events, self._events[1:], strict=False)
        return {name: start.elapsed_time(end) / 1000.0 for (_, start), (name, end) in pairs}


def clock_for(device: torch.device) -> LayerClock:
    return CudaEventClock(device) if device.type == "cuda" else LayerClock(device)
