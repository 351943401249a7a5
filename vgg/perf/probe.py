"""The matmul probe: a large square matmul, the best dense compute this device shows in practice.

A convolution is a matmul in disguise (im2col, or oneDNN/cuDNN's direct kernels), so a layer's
GFLOP/s divided by the probe's says how close VGG gets to what the hardware delivers; the
datasheet peak (``DeviceInfo.datasheet_tflops``) is a ceiling the probe itself rarely reaches.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from vgg.errors import VGGError
from vgg.perf.hardware import check_precisions
from vgg.perf.timing import check_counts, median, sample_seconds
from vgg.vision.precision import PRECISIONS

# Large enough to reach the plateau of each kind of device, small enough to take well under a
# second: 2048 on a CPU is 17 GFLOP (within a few % of 4096's rate), 8192 on a GPU 1.1 TFLOP.
DEFAULT_SIZES = {"cpu": 2048, "mps": 4096, "cuda": 8192}


@dataclass(frozen=True)
class MatmulProbe:
    device: str
    precision: str  # the dtype of both operands: "fp32", "bf16", "fp16"
    size: int  # n of the (n, n) @ (n, n) product
    seconds: float  # median of the samples

    @property
    def flops(self) -> int:
        return 2 * self.size**3

    @property
    def gflops(self) -> float:
        return self.flops / self.seconds / 1e9

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "gflops": self.gflops}


def matmul_probe(device: torch.device, precision: str = "fp32", *, size: int | None = None, repeats: int = 5,
                 warmup: int = 2) -> MatmulProbe:
    check_precisions(device, (precision,))
    check_counts(repeats=repeats, warmup=warmup)
    size = size or DEFAULT_SIZES.get(device.type, 2048)
    if size < 1:
        raise VGGError(f"The probe's size must be positive, got {size}.")
    dtype = PRECISIONS[precision]
    with torch.inference_mode():
        a = torch.randn(size, size, device=device, dtype=dtype)
        b = torch.randn(size, size, device=device, dtype=dtype)
        out = torch.empty(size, size, device=device, dtype=dtype)  # no allocation inside the timed call
        samples = sample_seconds(lambda: torch.mm(a, b, out=out), device, repeats=repeats, warmup=warmup)
    return MatmulProbe(str(device), precision, size, median(samples))
