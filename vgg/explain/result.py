"""What every attribution method returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

_EPSILON = 1e-7  # pytorch-grad-cam's: a constant map normalises to 0, not NaN


@dataclass(frozen=True)
class Explanation:
    """One map for one image and one class. Tensors are float32 on the CPU."""

    heatmap: torch.Tensor  # (H, W) in [0, 1] at the input's resolution, for display
    raw: torch.Tensor  # the method's own map: (H, W) for gradcam and occlusion, (3, H, W) for gradient methods
    target: int  # the class explained
    method: str
    layer: str | None  # module path of the layer read (gradcam, guided_gradcam), else None
    score: float  # the target's logit for the unmodified image
    options: dict[str, Any] = field(default_factory=dict)  # occlusion's window, stride and baseline


def normalise(values: torch.Tensor) -> torch.Tensor:
    """Min-max to [0, 1], as pytorch-grad-cam's ``scale_cam_image``."""
    shifted = values - values.min()
    return shifted / (shifted.max() + _EPSILON)
