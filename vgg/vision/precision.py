"""Precision where the hardware has it: which dtypes a device computes natively, a model's weights
converted to one of them once (not autocast), and what the conversion costs in accuracy.

Native means the arithmetic runs in hardware at that width:

- bf16 on a CPU with AVX512-BF16 or AMX-BF16 (``/proc/cpuinfo`` flags ``avx512_bf16``, ``amx_bf16``).
  Elsewhere oneDNN emulates it through fp32 with conversions at every op, which is many times
  *slower* than fp32, so it is refused, in words.
- bf16 on a CUDA GPU of compute capability 8.0 or more (Ampere, Hopper, ...); fp16 on every CUDA
  GPU (tensor cores from 7.0; half arithmetic before that).
- fp16 on a CPU: refused (no fast kernels). MPS: fp32 only (not measured here).

Converting the weights once matters: autocast keeps fp32 weights and casts each to 16 bits at every
call (for VGG16's fc6, 400 MB read and 200 MB written per forward), which on the CPU measured slower
than fp32 even where bf16 is native. A converted model reads half the bytes and runs the native kernels.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from vgg.errors import VGGError
from vgg.vision.devices import cpu_has_native_bf16

PRECISIONS: dict[str, torch.dtype] = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
NAMES: dict[torch.dtype, str] = {dtype: name for name, dtype in PRECISIONS.items()}
NATIVE_BF16_CUDA_CAPABILITY = (8, 0)

# How far bf16 logits may be from fp32's on the same weights and input, relative to the largest
# fp32 logit: bf16 keeps 8 bits of mantissa (relative step 2**-8 = 0.4%), and a VGG's logits are sums
# over thousands of products whose rounding errors partly cancel. Measured on small random networks:
# 0.4-0.7% of the largest logit, cosine similarity 0.99999.
BF16_RELATIVE_TOLERANCE = 0.02
BF16_MIN_COSINE = 0.999


class PrecisionError(VGGError):
    """A precision this device does not compute natively, or one that does not exist."""


def cuda_capability(device: torch.device) -> tuple[int, int]:
    return torch.cuda.get_device_capability(device)


def native_precisions(device: torch.device) -> tuple[str, ...]:
    """The precisions ``device`` computes in hardware, fp32 first."""
    if device.type == "cuda":
        if cuda_capability(device) >= NATIVE_BF16_CUDA_CAPABILITY:
            return ("fp32", "bf16", "fp16")
        return ("fp32", "fp16")
    if device.type == "cpu" and cpu_has_native_bf16():
        return ("fp32", "bf16")
    return ("fp32",)


def why_not(device: torch.device, precision: str) -> str:
    """Why ``precision`` is not native on ``device``, in one sentence."""
    if device.type == "cpu":
        if precision == "bf16":
            return ("this CPU has neither AVX512-BF16 nor AMX-BF16, so bf16 would be emulated through fp32 and run "
                    "many times slower than fp32.")
        return "CPUs have no fast fp16 kernels."
    if device.type == "mps":
        return "on Apple's MPS only fp32 is supported here."
    major, minor = cuda_capability(device)
    return f"this GPU (compute capability {major}.{minor}) predates native bf16, which needs 8.0 (Ampere) or later."


def check_precision(device: torch.device, precision: str) -> torch.dtype:
    """The dtype of ``precision`` if ``device`` computes it natively; PrecisionError in words otherwise."""
    if precision not in PRECISIONS:
        raise PrecisionError(f"Unknown precision {precision!r}: use {', '.join(PRECISIONS)}.")
    native = native_precisions(device)
    if precision not in native:
        raise PrecisionError(f"{precision} is refused on {device}: {why_not(device, precision)} "
                             f"Native here: {', '.join(native)}.")
    return PRECISIONS[precision]


def precision_of(model: nn.Module) -> str:
    """"fp32", "bf16" or "fp16": the dtype of the model's weights."""
    dtype = next(model.parameters()).dtype
    return NAMES.get(dtype, str(dtype).removeprefix("torch."))


def convert_weights(model: nn.Module, precision: str) -> nn.Module:
    """Cast the weights and buffers of ``model`` to ``precision`` in place (memory format kept), and
    return it. Not checked against the hardware: ``check_precision`` first where speed matters."""
    if precision not in PRECISIONS:
        raise PrecisionError(f"Unknown precision {precision!r}: use {', '.join(PRECISIONS)}.")
    return model.to(dtype=PRECISIONS[precision])


@dataclass(frozen=True)
class AccuracyCost:
    """How far a faster path's logits are from the exact (fp32) path's, on the same weights and input."""

    max_abs_diff: float  # the largest |logit - reference logit|
    max_abs_reference: float  # the largest |reference logit|: the scale of the difference
    top5_agreement: float  # fraction of the reference's top-5 classes also in the other's top-5 (mean over images)
    top1_same: float  # fraction of images whose top class is the same
    cosine: float  # cosine similarity of the two logit vectors (the smallest over images)

    @property
    def relative_diff(self) -> float:
        return self.max_abs_diff / self.max_abs_reference if self.max_abs_reference else math.inf

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "relative_diff": self.relative_diff}


def accuracy_cost(reference: torch.Tensor, other: torch.Tensor, *, k: int = 5) -> AccuracyCost:
    """Compare (N, classes) or (classes,) logits; both are read as float64 on the CPU."""
    ref = reference.detach().to("cpu", torch.float64).reshape(-1, reference.shape[-1])
    out = other.detach().to("cpu", torch.float64).reshape(-1, other.shape[-1])
    if ref.shape != out.shape:
        raise VGGError(f"Logits of different shapes: {tuple(ref.shape)} and {tuple(out.shape)}.")
    k = min(k, ref.shape[-1])
    ref_top, out_top = ref.topk(k).indices, out.topk(k).indices
    agreement = [len(set(a.tolist()) & set(b.tolist())) / k for a, b in zip(ref_top, out_top, strict=True)]
    same = (ref_top[:, 0] == out_top[:, 0]).double().mean().item()
    cosine = torch.nn.functional.cosine_similarity(ref, out, dim=1).min().item()
    return AccuracyCost(float((ref - out).abs().max()), float(ref.abs().max()), sum(agreement) / len(agreement),
                        float(same), float(cosine))
