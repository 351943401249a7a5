"""Per-layer latency joined with the analysis: where the time goes, and how fast each layer computes.

Layers are timed by ``vgg.forward_with_features`` (wall clock per module on the CPU, CUDA events on a
GPU), keeping no outputs. Each round also runs the plain ``model(x)``, the two in alternating order
so drift and other load hit both alike; their ratio is the cost of timing every layer.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch

from vgg.analysis import analyze
from vgg.arch import LayerGroup, kind_group
from vgg.arch.model import VGG
from vgg.perf.hardware import check_precisions
from vgg.perf.layout import MEMORY_FORMATS, converted_copy, layout_of
from vgg.perf.timing import check_counts, median, seconds_once
from vgg.vision.inference import ForwardResult, forward_with_features
from vgg.vision.precision import PRECISIONS

TIME_GROUPS = ("conv", "fc", "other")  # the shares reported: convolutions, fully connected, everything else


def time_group(kind: str) -> str:
    """The share a layer's time counts toward: its kind's group (vgg.arch's one table), pooling with the rest."""
    group = kind_group(kind)
    return group.value if group in (LayerGroup.CONV, LayerGroup.FC) else "other"


@dataclass(frozen=True)
class LayerTime:
    name: str  # module path, "features.28"
    paper_name: str  # "conv5_3"
    kind: str  # conv, bn, relu, lrn, pool, avgpool, fc, dropout
    macs: int  # for the whole batch, from vgg.analyze
    seconds: float  # median over the rounds

    @property
    def gflops(self) -> float | None:
        """Achieved GFLOP/s (2 x MACs per second); None for layers without MACs."""
        return 2 * self.macs / self.seconds / 1e9 if self.macs and self.seconds > 0 else None

    def fraction_of(self, reference_gflops: float | None) -> float | None:
        """This layer's GFLOP/s over a reference (the matmul probe's), or None."""
        gflops = self.gflops
        return gflops / reference_gflops if gflops is not None and reference_gflops else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "gflops": self.gflops}


@dataclass(frozen=True)
class LayerProfile:
    device: str
    precision: str
    layout: str
    input_shape: tuple[int, ...]  # (N, 3, H, W)
    repeats: int
    layers: tuple[LayerTime, ...]
    timed_seconds: float  # median of a forward_with_features pass, every layer timed
    plain_seconds: float  # median of model(x)
    overhead: float  # median over rounds of timed / plain - 1: what per-layer timing adds

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def gflops(self) -> float:
        """The whole plain forward's achieved GFLOP/s."""
        return 2 * self.macs / self.plain_seconds / 1e9

    @property
    def shares(self) -> dict[str, float]:
        """Fractions of the summed layer times in conv, fc and the rest (BN, ReLU, pooling, ...)."""
        total = sum(layer.seconds for layer in self.layers) or 1.0
        return {group: sum(layer.seconds for layer in self.layers if time_group(layer.kind) == group) / total
                for group in TIME_GROUPS}

    def to_dict(self) -> dict[str, Any]:
        return {"device": self.device, "precision": self.precision, "layout": self.layout,
                "input_shape": list(self.input_shape), "repeats": self.repeats, "timed_seconds": self.timed_seconds,
                "plain_seconds": self.plain_seconds, "overhead": self.overhead, "macs": self.macs,
                "gflops": self.gflops, "shares": self.shares, "layers": [layer.to_dict() for layer in self.layers]}


def profile_layers(model: VGG, x: torch.Tensor, *, precision: str = "fp32", repeats: int = 5,
                   warmup: int = 1, on_round: Callable[[int, int], None] | None = None) -> LayerProfile:
    """Median time of every layer of ``model`` on ``x`` (N, 3, H, W), with each layer's MACs from the
    analysis. A ``precision`` other than the model's runs on a copy with its weights converted once
    (``converted_copy``), never under autocast. ``on_round(done, total)`` after each round."""
    device = next(model.parameters()).device
    check_precisions(device, (precision,))
    check_counts(repeats=repeats, warmup=warmup)
    network = converted_copy(model, precision)
    # The plain call must see what forward_with_features makes of x: the model's device, dtype and layout.
    x = x.to(device, PRECISIONS[precision]).contiguous(memory_format=MEMORY_FORMATS[layout_of(model)])
    passes: list[ForwardResult] = []

    def timed() -> None:
        passes.append(forward_with_features(network, x, layers=()))  # keep nothing: the pass frees as it goes

    def plain() -> None:
        with torch.inference_mode():
            network(x)

    for _ in range(warmup):
        timed(), plain()
    passes.clear()
    samples: dict[str, list[float]] = {"timed": [], "plain": []}
    for round_index in range(repeats):
        order = [("timed", timed), ("plain", plain)]
        for label, function in order if round_index % 2 == 0 else order[::-1]:
            samples[label].append(seconds_once(function, device))
        if on_round is not None:
            on_round(round_index + 1, repeats)
    ratios = [t / p for t, p in zip(samples["timed"], samples["plain"], strict=True)]
    return LayerProfile(str(device), precision, layout_of(model), tuple(x.shape), repeats,
                        _layer_times(model, x, passes), median(samples["timed"]), median(samples["plain"]),
                        statistics.median(ratios) - 1)


def _layer_times(model: VGG, x: torch.Tensor, passes: list[ForwardResult]) -> tuple[LayerTime, ...]:
    report = analyze(model.network, input_size=tuple(x.shape[-2:]), batch_size=x.shape[0])
    return tuple(LayerTime(row.name, row.paper_name, row.kind, row.macs,
                           median([result.times[row.name] for result in passes]))
                 for row in report.layers)
