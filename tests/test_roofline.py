"""The roofline's arithmetic on synthetic layers whose bytes and FLOPs are known, joined with the
analysis of a tiny network; and the two probes, which are only checked for sane shapes (no timings)."""

from __future__ import annotations

import pytest
import torch

import vgg
from vgg.perf import MemoryProbe, Roof, layer_bytes, memory_probe, roofline

ROOF = Roof("fp32", peak_gflops=100.0, bandwidth_gbs=10.0)  # ridge at 10 FLOP per byte


def test_roof_arithmetic():
    assert ROOF.ridge == 10.0
    assert ROOF.attainable_gflops(1.0) == 10.0 and ROOF.attainable_gflops(1000.0) == 100.0
    # 1 GFLOP over 10 MB: 100 FLOP/byte, compute-bound; 10 ms of arithmetic, 1 ms of traffic
    assert ROOF.bound_seconds(10**9, 10**7) == pytest.approx(0.01)
    assert ROOF.limit(10**9, 10**7) == "compute"
    # a batch-1 fully connected layer: 2 FLOPs per 4-byte weight, 0.5 FLOP/byte, memory-bound
    assert ROOF.bound_seconds(2 * 10**6, 4 * 10**6) == pytest.approx(4e-4)
    assert ROOF.limit(2 * 10**6, 4 * 10**6) == "memory"
    assert ROOF.limit(0, 100) == "memory"


def test_layer_bytes_and_flops_of_a_known_conv():
    report = vgg.analyze("8 M", input_size=(32, 32))
    conv = report.layer("conv1_1")
    # weights 3*8*9 + bias 8 = 224; input 3*32*32 = 3072; output 8*32*32 = 8192 elements
    assert layer_bytes(conv, 4) == (224 + 3072 + 8192) * 4
    assert layer_bytes(conv, 2) == (224 + 3072 + 8192) * 2
    assert conv.flops == 2 * 3 * 9 * 8 * 32 * 32


def test_roofline_of_a_network_sums_the_layer_bounds():
    report = vgg.analyze("8 M", input_size=(32, 32))
    times = {row.name: 1e-3 for row in report.layers}  # every layer took 1 ms
    line = roofline(report, times, ROOF, measured_seconds=0.02, element_bytes=4)
    by_name = {layer.paper_name: layer for layer in line.layers}
    conv, fc6 = by_name["conv1_1"], by_name["fc6"]
    assert conv.bytes == 45952 and conv.flops == 442368
    assert conv.intensity == pytest.approx(442368 / 45952)
    assert conv.bound_seconds == pytest.approx(45952 / 10e9)  # 9.6 FLOP/byte: just under the ridge
    assert conv.limit == "memory"
    # fc6: 8*7*7 = 392 inputs -> 4096 outputs; weights 392*4096 + 4096
    assert fc6.bytes == (392 * 4096 + 4096 + 392 + 4096) * 4 and fc6.flops == 2 * 392 * 4096
    assert fc6.limit == "memory" and fc6.fraction == pytest.approx(fc6.bound_seconds / 1e-3)
    assert by_name["relu1_1"].flops == 0 and by_name["relu1_1"].limit == "memory"
    assert line.bound_seconds == pytest.approx(sum(layer.bound_seconds for layer in line.layers))
    assert line.fraction == pytest.approx(line.bound_seconds / 0.02)
    assert "memory-bound" in line.sentence() and "fc6" in line.sentence()


def test_vgg16_fc6_is_memory_bound_and_its_convs_compute_bound():
    report = vgg.analyze("D")
    roof = Roof("fp32", peak_gflops=400.0, bandwidth_gbs=20.0)
    line = roofline(report, dict.fromkeys((row.name for row in report.layers), 1.0), roof, measured_seconds=1.0,
                    element_bytes=4)
    # conv1_1 reads 3 channels and writes 64: 2*27*64 FLOPs per 67*4 bytes of pixels, 12.9 FLOP/byte,
    # under a ridge of 20; every other conv does hundreds of FLOPs per byte
    assert {layer.paper_name for layer in line.bound_by("compute")} == {
        row.paper_name for row in report.layers if row.kind == "conv"} - {"conv1_1"}
    assert {layer.paper_name for layer in line.bound_by("memory")} == {"conv1_1", "fc6", "fc7", "fc8"}
    assert line.layers[0].intensity == pytest.approx(2 * 27 * 64 / (67 * 4), rel=0.01)
    fc6 = next(layer for layer in line.layers if layer.paper_name == "fc6")
    assert fc6.intensity == pytest.approx(0.5, rel=0.01)
    assert "conv1_1, fc6, fc7 and fc8 are memory-bound" in line.sentence()


def test_memory_probe_reports_bandwidth():
    probe = memory_probe(torch.device("cpu"), array_bytes=2**20, repeats=2)
    assert probe.array_bytes == 2**20 and probe.gbs == max(probe.copy_gbs, probe.triad_gbs) > 0
    assert MemoryProbe("cpu", 10**9, 1.0, 1.0).copy_gbs == 2.0  # copy moves two arrays, triad three
    assert MemoryProbe("cpu", 10**9, 1.0, 1.0).triad_gbs == 3.0
    with pytest.raises(ValueError, match="at least 4 bytes"):
        memory_probe(torch.device("cpu"), array_bytes=2)
