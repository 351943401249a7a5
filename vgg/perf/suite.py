"""The whole benchmark of one prepared model: matmul and memory probes, per-layer profiles and their
rooflines, the throughput sweep, and the analysis' memory estimates, as one ``BenchReport``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vgg.analysis import Report, analyze
from vgg.arch.configs import find_named_config
from vgg.arch.model import VGG
from vgg.errors import VGGError
from vgg.perf.hardware import DeviceInfo, check_precisions, describe_device
from vgg.perf.layers import LayerProfile, profile_layers
from vgg.perf.layout import available_layouts, layout_of, random_input
from vgg.perf.probe import MatmulProbe, matmul_probe
from vgg.perf.roofline import MemoryProbe, Roofline, memory_probe, profile_roofline
from vgg.perf.sweep import Progress, Sweep, check_batch_sizes, throughput_sweep


@dataclass(frozen=True)
class BenchReport:
    config: str  # "D", or a custom spec's text
    batch_norm: bool
    input_size: tuple[int, int]
    device: DeviceInfo
    probes: tuple[MatmulProbe, ...]  # one per precision
    profiles: tuple[LayerProfile, ...]  # one per precision, in the model's own layout
    sweep: Sweep
    analysis: Report  # at the profile's batch size: the memory estimates
    memory: MemoryProbe  # the bandwidth roof

    def probe(self, precision: str) -> MatmulProbe | None:
        return next((probe for probe in self.probes if probe.precision == precision), None)

    def roofline(self, profile: LayerProfile) -> Roofline:
        probe = self.probe(profile.precision)
        if probe is None:
            raise VGGError(f"No {profile.precision} matmul probe in this report.")
        return profile_roofline(profile, self.analysis, probe, self.memory)

    def to_dict(self) -> dict[str, Any]:
        totals = self.analysis.totals
        return {
            "config": self.config, "batch_norm": self.batch_norm, "input_size": list(self.input_size),
            "device": self.device.to_dict(), "probes": [probe.to_dict() for probe in self.probes],
            "memory_probe": self.memory.to_dict(),
            "rooflines": [self.roofline(profile).to_dict() for profile in self.profiles],
            "profiles": [self._profile_dict(profile) for profile in self.profiles], "sweep": self.sweep.to_dict(),
            "memory_estimates": {
                "batch_size": self.analysis.batch_size, "weight_bytes": totals.weight_bytes,
                "activation_bytes": totals.activation_bytes, "peak_activation_bytes": totals.peak_activation_bytes,
                "training_sgd": totals.training_sgd.to_dict(), "training_adam": totals.training_adam.to_dict(),
            },
        }

    def _profile_dict(self, profile: LayerProfile) -> dict[str, Any]:
        probe = self.probe(profile.precision)
        reference = probe.gflops if probe else None
        data = profile.to_dict()
        data["fraction_of_probe"] = profile.gflops / reference if reference else None
        for row, layer in zip(data["layers"], profile.layers, strict=True):
            row["fraction_of_probe"] = layer.fraction_of(reference)
        return data


def run_bench(model: VGG, *, input_size: tuple[int, int] = (224, 224), batch_sizes: Sequence[int] = (1,),
              precisions: Sequence[str] | None = None, repeats: int = 5, warmup: int = 1, profile_batch: int = 1,
              probe_size: int | None = None, layouts: Sequence[str] | None = None,
              on_progress: Progress | None = None) -> BenchReport:
    """Everything, for a model already on its device (``vgg.prepare``). ``precisions`` defaults to every
    precision this device computes natively. ``model`` is only read (safe for the app's shared models)."""
    device = next(model.parameters()).device
    info = describe_device(device)
    chosen = check_precisions(device, tuple(precisions) if precisions is not None else info.precisions)
    sizes = check_batch_sizes(batch_sizes)
    (profile_batch,) = check_batch_sizes((profile_batch,))
    progress = on_progress or (lambda done, total, label: None)
    per_precision = 1 + repeats  # the probe, then one step per profile round
    sweep_steps = len(sizes) * len(chosen) * len(layouts or available_layouts(model))
    total = 1 + len(chosen) * per_precision + sweep_steps
    progress(0, total, "memory bandwidth probe")
    memory = memory_probe(device, repeats=max(3, repeats))
    probes, profiles = [], []
    for index, precision in enumerate(chosen):
        base = 1 + index * per_precision
        progress(base, total, f"matmul probe, {precision}")
        probes.append(matmul_probe(device, precision, size=probe_size))
        progress(base + 1, total, f"per-layer profile, {precision}")
        x = random_input(model, profile_batch, input_size, layout_of(model))
        profiles.append(profile_layers(
            model, x, precision=precision, repeats=repeats, warmup=warmup,
            on_round=lambda done, _, base=base, precision=precision: progress(
                base + 1 + done, total, f"per-layer profile, {precision}")))
        del x
    start = 1 + len(chosen) * per_precision
    sweep = throughput_sweep(
        model, batch_sizes=sizes, input_size=input_size, precisions=chosen, layouts=layouts, repeats=repeats,
        warmup=warmup, on_progress=lambda done, steps, label: progress(start + done * sweep_steps // steps,
                                                                       total, label))
    analysis = analyze(model.network, input_size=input_size, batch_size=profile_batch)
    return BenchReport(find_named_config(model.spec) or model.spec.to_text(), model.batch_norm, tuple(input_size),
                       info, tuple(probes), tuple(profiles), sweep, analysis, memory)
