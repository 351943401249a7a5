"""Precision where the hardware has it: refusal in words where it does not (detection monkeypatched,
both ways, on CPU and CUDA), the converted-weights bf16 forward against fp32 on a small network,
and the accuracy-cost arithmetic."""

from __future__ import annotations

import pytest
import torch

import vgg
from vgg.perf import converted_copy, layout_of
from vgg.vision import precision
from vgg.vision.precision import (
    BF16_MIN_COSINE,
    BF16_RELATIVE_TOLERANCE,
    PrecisionError,
    accuracy_cost,
    check_precision,
    native_precisions,
    precision_of,
)

CPU, CUDA = torch.device("cpu"), torch.device("cuda", 0)
SMALL = "16 M 32 M 64 M"


def test_cpu_without_native_bf16_refuses_it_in_words(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    assert native_precisions(CPU) == ("fp32",)
    with pytest.raises(PrecisionError, match="neither AVX512-BF16 nor AMX-BF16.*slower than fp32"):
        check_precision(CPU, "bf16")
    with pytest.raises(PrecisionError, match="no fast fp16 kernels"):
        check_precision(CPU, "fp16")
    assert check_precision(CPU, "fp32") is torch.float32


def test_cpu_with_native_bf16_accepts_it(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    assert native_precisions(CPU) == ("fp32", "bf16")
    assert check_precision(CPU, "bf16") is torch.bfloat16
    with pytest.raises(PrecisionError, match="fp16"):
        check_precision(CPU, "fp16")


@pytest.mark.parametrize(("capability", "native"), [((7, 5), ("fp32", "fp16")), ((8, 0), ("fp32", "bf16", "fp16")),
                                                    ((9, 0), ("fp32", "bf16", "fp16"))])
def test_cuda_bf16_needs_compute_capability_8(monkeypatch, capability, native):
    monkeypatch.setattr(precision, "cuda_capability", lambda device: capability)
    assert native_precisions(CUDA) == native
    if "bf16" not in native:
        with pytest.raises(PrecisionError, match=r"compute capability 7\.5.*8\.0"):
            check_precision(CUDA, "bf16")


def test_unknown_precision():
    with pytest.raises(PrecisionError, match="Unknown precision 'int4'"):
        check_precision(CPU, "int4")


def test_bf16_forward_matches_fp32_within_tolerance():
    """The converted-weights bf16 path runs on this CPU too (emulated, slowly): a small network is enough to
    check its accuracy against fp32 on the same weights and image."""
    torch.manual_seed(0)
    model = vgg.prepare(vgg.build(SMALL, num_classes=100), "cpu")
    x = vgg.preprocess(vgg.load_sample("cat"), size=64)
    reference = vgg.forward_with_features(model, x)
    bf16 = converted_copy(model, "bf16")
    assert precision_of(bf16) == "bf16" and precision_of(model) == "fp32"  # the original is untouched
    assert layout_of(bf16) == layout_of(model) == "channels_last"
    result = vgg.forward_with_features(bf16, x)
    assert result.logits.dtype == torch.float32
    cost = accuracy_cost(reference.logits, result.logits)
    assert cost.relative_diff < BF16_RELATIVE_TOLERANCE
    assert cost.cosine >= BF16_MIN_COSINE
    assert cost.top5_agreement >= 0.8


def test_accuracy_cost_arithmetic():
    reference = torch.tensor([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0, -1.0]])
    same = accuracy_cost(reference, reference)
    assert same.max_abs_diff == 0 and same.top5_agreement == 1 and same.top1_same == 1
    assert same.cosine == pytest.approx(1.0)
    swapped = reference.clone()
    swapped[0, 4], swapped[0, 6] = -1.0, 1.0  # class 4 leaves the top 5, class 6 enters it
    cost = accuracy_cost(reference, swapped)
    assert cost.max_abs_diff == 2.0 and cost.max_abs_reference == 5.0 and cost.relative_diff == 0.4
    assert cost.top5_agreement == 0.8 and cost.top1_same == 1.0
    with pytest.raises(ValueError, match="different shapes"):
        accuracy_cost(reference, reference[:, :3])


def test_prepare_refuses_bf16_without_native_support_before_touching_the_model(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    model = vgg.build(SMALL, num_classes=10)
    model.train()
    with pytest.raises(PrecisionError, match="emulated"):
        vgg.prepare(model, "cpu", precision="bf16")
    assert model.training and precision_of(model) == "fp32"  # refused before anything changed


def test_prepare_bf16_where_native_converts_once_and_every_feature_reads_float32(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)  # the acceptance path, detection faked
    torch.manual_seed(0)
    model = vgg.prepare(vgg.build(SMALL, num_classes=10), "cpu", precision="bf16")
    assert precision_of(model) == "bf16" and layout_of(model) == "channels_last" and not model.training
    x = vgg.preprocess(vgg.load_sample("cat"), size=64)
    result = vgg.forward_with_features(model, x)
    assert result.logits.dtype == torch.float32
    assert {tensor.dtype for tensor in result.features.values()} == {torch.float32}
    vgg.feature_grid(result.features["features.1"], n=4)  # the app's readers work on them
    vgg.channel_stats(result.features["features.1"])
