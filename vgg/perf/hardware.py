"""What the device is and what it can do: its name, size, and the precisions worth measuring on it.

A precision is offered only where the hardware computes it natively (``vgg.vision.precision``): bf16 on a
CPU without AVX512-BF16/AMX is emulated and slower than fp32, and fp16 on a CPU has no fast kernels
at all, so measuring them would only show the emulation. MPS is measured in fp32 only. Every
precision is measured with the weights converted once (``vgg.vision.precision.converted_copy``), never
under autocast.
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from vgg.errors import VGGError
from vgg.vision.devices import cpu_model
from vgg.vision.precision import check_precision, native_precisions

# NVIDIA's datasheet figures for dense (no sparsity) bf16 = fp16 tensor-core throughput, in TFLOP/s.
# Matched in order against torch's device name, so the specific names come first. A GPU not listed
# has no known peak: the bf16 matmul probe is then the only ceiling shown.
DATASHEET_DENSE_TFLOPS: tuple[tuple[str, float], ...] = (
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H200", 989.0),
    ("H100", 989.0),  # SXM5 ("NVIDIA H100 80GB HBM3")
    ("A100", 312.0),  # SXM4 and PCIe alike
)


@dataclass(frozen=True)
class DeviceInfo:
    """The device a benchmark ran on, in words and numbers."""

    device: str  # "cpu", "cuda:0", "mps"
    name: str  # "AMD EPYC 7B13", "NVIDIA H100 80GB HBM3"
    threads: int  # torch's intra-op CPU threads: the CPU's compute, or the host side of a GPU
    precisions: tuple[str, ...]  # the ones measured natively here, fp32 first
    total_memory: int | None  # GPU memory, or physical RAM, in bytes
    sm_count: int | None  # CUDA streaming multiprocessors
    compute_capability: str | None  # "9.0"
    datasheet_tflops: float | None  # dense bf16/fp16 peak of a known GPU
    notes: tuple[str, ...] = ()  # what changes the meaning of a figure (TF32 for fp32 convolutions)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "precisions": list(self.precisions), "notes": list(self.notes)}


def describe_device(device: torch.device) -> DeviceInfo:
    precisions = supported_precisions(device)
    threads = torch.get_num_threads()
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        notes = ()
        if torch.backends.cudnn.allow_tf32:  # torch's default: fp32 convs use TF32 tensor cores, matmuls do not
            notes = ("cuDNN runs fp32 convolutions in TF32 (torch's default) while the fp32 matmul probe uses "
                     "full fp32, so an fp32 conv can pass 100% of that probe.",)
        return DeviceInfo(str(device), props.name, threads, precisions, props.total_memory,
                          props.multi_processor_count, f"{props.major}.{props.minor}", datasheet_tflops(props.name),
                          notes)
    if device.type == "mps":
        return DeviceInfo("mps", "Apple GPU (Metal Performance Shaders)", threads, precisions, _physical_memory(),
                          None, None, None, ("MPS is measured in fp32 only.",))
    return DeviceInfo("cpu", cpu_model(), threads, precisions, _physical_memory(), None, None, None)


def datasheet_tflops(name: str) -> float | None:
    return next((tflops for key, tflops in DATASHEET_DENSE_TFLOPS if key.lower() in name.lower()), None)


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not every platform names these
        return None


def supported_precisions(device: torch.device) -> tuple[str, ...]:
    return native_precisions(device)


def check_precisions(device: torch.device, precisions: tuple[str, ...]) -> tuple[str, ...]:
    """``precisions`` in order without repeats; PrecisionError naming why one cannot be measured here."""
    if not precisions:
        raise VGGError("Choose at least one precision.")
    for precision in precisions:
        check_precision(device, precision)
    return tuple(dict.fromkeys(precisions))


# The CPU features that decide which kernels are fast: AVX2/FMA for fp32 everywhere, AVX-512 and its VNNI,
# and native bf16 (AVX512-BF16, AMX) without which bf16 is emulated and slower than fp32.
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8")


def cpu_flags() -> list[str]:
    """Which of ``ISA_FLAGS`` this CPU reports (from /proc/cpuinfo; empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return []
    line = next((line for line in text.splitlines() if line.lower().startswith("flags")), "")
    present = set(line.split(":", 1)[-1].split())
    return [flag for flag in ISA_FLAGS if flag in present]


def hardware_summary(device: torch.device | str = "cpu") -> dict[str, Any]:
    """What a benchmark ran on, as JSON-ready values: the device, the CPU, its ISA and native precisions,
    torch's threads, the library versions, and the load average at the call (a shared machine's other work
    changes every timing, so each benchmark prints it)."""
    device = torch.device(device)
    try:
        import onnxruntime
        ort_version: str | None = onnxruntime.__version__
    except ImportError:
        ort_version = None
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"device": str(device), "device_name": describe_device(device).name, "cpu": cpu_model(),
            "cores": os.cpu_count(), "threads": torch.get_num_threads(),
            "isa": torch.backends.cpu.get_cpu_capability(), "cpu_flags": cpu_flags(),
            "native_precisions": list(native_precisions(device)), "torch": torch.__version__,
            "onnxruntime": ort_version, "python": platform.python_version(),
            "load_average_at_start": list(load) if load else None}


def hardware_line(summary: dict[str, Any]) -> str:
    """``hardware_summary`` in one line, the first thing every benchmark prints."""
    flags = ", ".join(summary["cpu_flags"]) or "none of the listed"
    load = summary["load_average_at_start"]
    where = "" if summary["device"] == "cpu" else f"{summary['device_name']} ({summary['device']}), host "
    return (f"{where}{summary['cpu']}, {summary['cores']} cores, {summary['threads']} torch threads, ISA "
            f"{summary['isa']} (flags: {flags}), native precisions {'/'.join(summary['native_precisions'])}, "
            f"torch {summary['torch']}, onnxruntime {summary['onnxruntime']}"
            + (f", load average {load[0]:.1f} at the start" if load else ""))
