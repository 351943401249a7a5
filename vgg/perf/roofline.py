"""The roofline of each layer: the time the hardware allows it, against the time it took.

Two probes measure the device (Williams, Waterman & Patterson, "Roofline", CACM 2009):

- compute: a large square matmul in the layer's precision (``vgg.perf.probe``), the best dense
  arithmetic the device shows in practice;
- memory: streaming kernels over arrays far larger than the caches, STREAM's *copy*
  (``a = b``: 2 arrays' bytes moved) and *triad* (``a = b + s * c``: 3); the faster of the two is the
  bandwidth roof.

A layer moves at least the bytes of its weights (and BN's buffers), its input and its output, each
once; its arithmetic intensity is its FLOPs over those bytes. The roofline allows it
``max(FLOPs / peak, bytes / bandwidth)`` seconds: compute-bound when the first term is larger,
memory-bound otherwise. The ridge, ``peak / bandwidth`` FLOP per byte, separates the two. A
convolution of VGG16 does ~100-1000 FLOP per byte and is compute-bound; fc6 at batch 1 multiplies
each of its 103 M weights (411 MB in fp32) once, 0.5 FLOP per byte: memory-bound, its time set by
how fast the weights stream in. ReLU, pooling and BN do (next to) no FLOPs: their bound is their bytes.

Each layer's ``fraction`` is bound / measured (1.0: at the roof). For the whole network the sum of
the layers' bounds is set against the measured plain forward.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch

from vgg.analysis import LayerRow, Report
from vgg.errors import VGGError
from vgg.perf.layers import LayerProfile
from vgg.perf.probe import MatmulProbe
from vgg.perf.timing import check_counts, median, sample_seconds
from vgg.vision.precision import PRECISIONS

# Arrays this large are far past the last-level cache of any CPU or GPU measured here (a 2-core
# EPYC VM: 8 MiB L3; an H100: 50 MB L2); a GPU gets 4x more so its launch overhead is negligible.
DEFAULT_ARRAY_BYTES = {"cpu": 128 * 2**20, "mps": 256 * 2**20, "cuda": 512 * 2**20}
TRIAD_SCALAR = 3.0
COMPUTE, MEMORY = "compute", "memory"


@dataclass(frozen=True)
class MemoryProbe:
    device: str
    array_bytes: int  # the size of each fp32 array
    copy_seconds: float  # median of a = b
    triad_seconds: float  # median of a = b + s * c

    @property
    def copy_gbs(self) -> float:
        return 2 * self.array_bytes / self.copy_seconds / 1e9

    @property
    def triad_gbs(self) -> float:
        return 3 * self.array_bytes / self.triad_seconds / 1e9

    @property
    def gbs(self) -> float:
        """The bandwidth roof: the faster of the two kernels, in GB/s (10^9 bytes per second)."""
        return max(self.copy_gbs, self.triad_gbs)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "copy_gbs": self.copy_gbs, "triad_gbs": self.triad_gbs, "gbs": self.gbs}


def memory_probe(device: torch.device, *, array_bytes: int | None = None, repeats: int = 5,
                 warmup: int = 1) -> MemoryProbe:
    """Stream copy and triad over three fp32 arrays of ``array_bytes`` each on ``device``."""
    check_counts(repeats=repeats, warmup=warmup)
    size = array_bytes or DEFAULT_ARRAY_BYTES.get(device.type, DEFAULT_ARRAY_BYTES["cpu"])
    if size < 4:
        raise VGGError(f"The memory probe's arrays need at least 4 bytes, got {size}.")
    elements = size // 4
    with torch.inference_mode():
        a = torch.empty(elements, device=device)
        b = torch.rand(elements, device=device)  # rand, not empty: every page is touched before timing
        c = torch.rand(elements, device=device)
        a.zero_()
        copy = sample_seconds(lambda: a.copy_(b), device, repeats=repeats, warmup=warmup)
        triad = sample_seconds(lambda: torch.add(b, c, alpha=TRIAD_SCALAR, out=a), device, repeats=repeats,
                               warmup=warmup)
    return MemoryProbe(str(device), elements * 4, median(copy), median(triad))


@dataclass(frozen=True)
class Roof:
    """The two roofs of one device and precision."""

    precision: str
    peak_gflops: float  # the matmul probe in this precision
    bandwidth_gbs: float  # the memory probe

    @property
    def ridge(self) -> float:
        """The intensity (FLOP per byte) where the two roofs meet."""
        return self.peak_gflops / self.bandwidth_gbs

    def attainable_gflops(self, intensity: float) -> float:
        return min(self.peak_gflops, self.bandwidth_gbs * intensity)

    def bound_seconds(self, flops: int, nbytes: int) -> float:
        return max(flops / (self.peak_gflops * 1e9), nbytes / (self.bandwidth_gbs * 1e9))

    def limit(self, flops: int, nbytes: int) -> str:
        return COMPUTE if flops / self.peak_gflops >= nbytes / self.bandwidth_gbs else MEMORY

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ridge": self.ridge}


@dataclass(frozen=True)
class RooflineLayer:
    name: str  # "classifier.0"
    paper_name: str  # "fc6"
    kind: str
    flops: int  # 2 x MACs, for the whole batch
    bytes: int  # weights + buffers + input + output, each once, in the precision's element size
    bound_seconds: float  # what the roofline allows
    measured_seconds: float
    limit: str  # "compute" or "memory"

    @property
    def intensity(self) -> float:
        """FLOP per byte."""
        return self.flops / self.bytes if self.bytes else math.inf

    @property
    def achieved_gflops(self) -> float | None:
        return self.flops / self.measured_seconds / 1e9 if self.flops and self.measured_seconds > 0 else None

    @property
    def fraction(self) -> float | None:
        """bound / measured: 1.0 is at the roof."""
        return self.bound_seconds / self.measured_seconds if self.measured_seconds > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "intensity": self.intensity if self.bytes else None,
                "achieved_gflops": self.achieved_gflops, "fraction": self.fraction}


@dataclass(frozen=True)
class Roofline:
    roof: Roof
    batch_size: int
    layers: tuple[RooflineLayer, ...]
    measured_seconds: float  # the whole plain forward, median

    @property
    def bound_seconds(self) -> float:
        return sum(layer.bound_seconds for layer in self.layers)

    @property
    def fraction(self) -> float:
        """The sum of the layers' bounds over the measured forward: 1.0 is as fast as the roofs allow."""
        return self.bound_seconds / self.measured_seconds

    def bound_by(self, limit: str, *, with_flops: bool = True) -> tuple[RooflineLayer, ...]:
        """Layers whose bound is ``limit`` ("compute" or "memory"); by default only those with FLOPs."""
        return tuple(layer for layer in self.layers if layer.limit == limit and (layer.flops or not with_flops))

    def sentence(self) -> str:
        """Which layers are compute-bound, which memory-bound, and how close the network is."""
        compute, memory = self.bound_by(COMPUTE), self.bound_by(MEMORY)
        parts = []
        if compute:
            parts.append(f"{_names(compute)} {'is' if len(compute) == 1 else 'are'} compute-bound (intensity "
                         f"{_range(compute)} FLOP/byte, above the ridge at {self.roof.ridge:.1f})")
        if memory:
            parts.append(f"{_names(memory)} {'is' if len(memory) == 1 else 'are'} memory-bound "
                         f"({_range(memory)} FLOP/byte, below it: "
                         f"{'its' if len(memory) == 1 else 'their'} time is set by streaming "
                         f"{'its' if len(memory) == 1 else 'their'} weights at {self.roof.bandwidth_gbs:,.1f} GB/s)")
        head = f"At batch {self.batch_size} in {self.roof.precision}, " + "; ".join(parts) + "."
        return (f"{head} The roofline allows the whole forward {self.bound_seconds * 1e3:,.1f} ms; it took "
                f"{self.measured_seconds * 1e3:,.1f} ms, {self.fraction:.0%} of the bound.")

    def to_dict(self) -> dict[str, Any]:
        return {"roof": self.roof.to_dict(), "batch_size": self.batch_size,
                "measured_seconds": self.measured_seconds, "bound_seconds": self.bound_seconds,
                "fraction": self.fraction, "layers": [layer.to_dict() for layer in self.layers],
                "sentence": self.sentence()}


def _names(layers: tuple[RooflineLayer, ...]) -> str:
    names = [layer.paper_name for layer in layers]
    if len(names) > 4:
        return f"{names[0]} ... {names[-1]} ({len(names)} layers)"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _range(layers: tuple[RooflineLayer, ...]) -> str:
    low, high = min(layer.intensity for layer in layers), max(layer.intensity for layer in layers)
    return f"{low:,.1f}" if f"{low:,.1f}" == f"{high:,.1f}" else f"{low:,.1f}-{high:,.1f}"


def layer_bytes(row: LayerRow, element_bytes: int) -> int:
    """The fewest bytes the layer moves: weights, buffers, input and output, each once."""
    elements = row.params + row.buffers + math.prod(row.input_shape) + math.prod(row.output_shape)
    return elements * element_bytes


def roofline(report: Report, times: Mapping[str, float], roof: Roof, *, measured_seconds: float,
             element_bytes: int) -> Roofline:
    """Join the analysis' rows (FLOPs, shapes, params) with measured per-layer ``times`` (module path ->
    seconds) under ``roof``. Pure arithmetic: no measurement."""
    layers = []
    for row in report.layers:
        nbytes = layer_bytes(row, element_bytes)
        layers.append(RooflineLayer(row.name, row.paper_name, row.kind, row.flops, nbytes,
                                    roof.bound_seconds(row.flops, nbytes), times[row.name],
                                    roof.limit(row.flops, nbytes)))
    return Roofline(roof, report.batch_size, tuple(layers), measured_seconds)


def profile_roofline(profile: LayerProfile, report: Report, matmul: MatmulProbe, memory: MemoryProbe) -> Roofline:
    """The roofline of a measured per-layer profile, with ``report`` the analysis of the same network,
    input size and batch, under the probes of its device and precision."""
    if matmul.precision != profile.precision:
        raise VGGError(f"A {matmul.precision} matmul probe cannot be the roof of a {profile.precision} profile.")
    if (report.batch_size, *report.input_size) != (profile.input_shape[0], *profile.input_shape[2:]):
        raise VGGError(f"The analysis (batch {report.batch_size}, {report.input_size}) is not of the profile's "
                         f"input {profile.input_shape}.")
    times = {layer.name: layer.seconds for layer in profile.layers}
    return roofline(report, times, Roof(profile.precision, matmul.gflops, memory.gbs),
                    measured_seconds=profile.plain_seconds, element_bytes=PRECISIONS[profile.precision].itemsize)
