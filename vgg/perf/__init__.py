"""Measured performance of a VGG on this machine's device: per-layer latency joined with the
analysis' MACs, throughput over batch sizes, precisions and memory layouts, measured against
estimated memory, and a matmul probe of what the hardware delivers.

Every result is a frozen dataclass with ``to_dict()``; nothing here prints. ``run_bench`` runs the
whole set (the CLI's ``bench`` and benchmarks/ call it); the app calls the pieces.
"""

from vgg.perf.hardware import PRECISIONS, DeviceInfo, autocast, describe_device, supported_precisions
from vgg.perf.layers import LayerProfile, LayerTime, profile_layers
from vgg.perf.layout import CHANNELS_LAST, NCHW, available_layouts, layout_of, plain_layout_copy, random_input
from vgg.perf.memory import PeakMemory, available_bytes, fits, forward_estimate_bytes
from vgg.perf.probe import MatmulProbe, matmul_probe
from vgg.perf.suite import BenchReport, run_bench
from vgg.perf.sweep import Sweep, SweepPoint, throughput_sweep

__all__ = [
    "CHANNELS_LAST", "NCHW", "PRECISIONS", "BenchReport", "DeviceInfo", "LayerProfile", "LayerTime", "MatmulProbe",
    "PeakMemory", "Sweep", "SweepPoint", "autocast", "available_bytes", "available_layouts", "describe_device",
    "fits", "forward_estimate_bytes", "layout_of", "matmul_probe", "plain_layout_copy", "profile_layers",
    "random_input", "run_bench", "supported_precisions", "throughput_sweep",
]
