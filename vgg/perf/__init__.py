"""Measured performance of a VGG on this machine's device: per-layer latency joined with the
analysis' MACs, each layer's roofline (matmul and memory-bandwidth probes), throughput over batch
sizes, precisions and memory layouts, measured against estimated memory, and export with parity.

Every result is a frozen dataclass with ``to_dict()``; nothing here prints. ``run_bench`` runs the
whole set (the CLI's ``bench`` and benchmarks/ call it); the app calls the pieces.
"""

from vgg.perf.export import FORMATS as EXPORT_FORMATS
from vgg.perf.export import SUFFIXES as EXPORT_SUFFIXES
from vgg.perf.export import ExportError, ExportResult, export_bytes, export_model
from vgg.perf.export import available_formats as available_export_formats
from vgg.perf.hardware import (
    DeviceInfo,
    cpu_flags,
    describe_device,
    hardware_line,
    hardware_summary,
    supported_precisions,
)
from vgg.perf.layers import TIME_GROUPS, LayerProfile, LayerTime, profile_layers, time_group
from vgg.perf.layout import (
    CHANNELS_LAST,
    NCHW,
    available_layouts,
    converted_copy,
    layout_of,
    plain_layout_copy,
    random_input,
)
from vgg.perf.memory import PeakMemory, available_bytes, fits, forward_estimate_bytes
from vgg.perf.probe import MatmulProbe, matmul_probe
from vgg.perf.roofline import (
    MemoryProbe,
    Roof,
    Roofline,
    RooflineLayer,
    layer_bytes,
    memory_probe,
    profile_roofline,
    roofline,
)
from vgg.perf.suite import BenchReport, run_bench
from vgg.perf.sweep import Sweep, SweepPoint, throughput_sweep
from vgg.vision.precision import PRECISIONS

__all__ = [
    "CHANNELS_LAST",
    "EXPORT_FORMATS",
    "EXPORT_SUFFIXES",
    "NCHW",
    "PRECISIONS",
    "TIME_GROUPS",
    "BenchReport",
    "DeviceInfo",
    "ExportError",
    "ExportResult",
    "LayerProfile",
    "LayerTime",
    "MatmulProbe",
    "MemoryProbe",
    "PeakMemory",
    "Roof",
    "Roofline",
    "RooflineLayer",
    "Sweep",
    "SweepPoint",
    "available_bytes",
    "available_export_formats",
    "available_layouts",
    "converted_copy",
    "cpu_flags",
    "describe_device",
    "export_bytes",
    "export_model",
    "fits",
    "forward_estimate_bytes",
    "hardware_line",
    "hardware_summary",
    "layer_bytes",
    "layout_of",
    "matmul_probe",
    "memory_probe",
    "plain_layout_copy",
    "profile_layers",
    "profile_roofline",
    "random_input",
    "roofline",
    "run_bench",
    "supported_precisions",
    "throughput_sweep",
    "time_group",
]
