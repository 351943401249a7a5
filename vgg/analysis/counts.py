"""Parameters, buffers and multiply-accumulates of one module, from its structure and traced shapes.

MACs follow torchvision's published ``_ops``: Conv2d and Linear only, one multiply-accumulate per
weight per output position, no bias, and nothing for BN, ReLU, LRN or pooling. FLOPs are 2 x MACs,
the convention of ``torch.utils.flop_counter``.
"""

from __future__ import annotations

import math

from torch import nn

from vgg.analysis.trace import Shape


def trainable_params(module: nn.Module) -> int:
    return sum(param.numel() for param in module.parameters() if param.requires_grad)


def buffer_elements(module: nn.Module) -> int:
    """BN's running mean and variance and its num_batches_tracked counter (2C + 1); 0 elsewhere."""
    return sum(buffer.numel() for buffer in module.buffers())


def buffer_bytes(module: nn.Module, float_itemsize: int) -> int:
    """Floating buffers take the model's dtype when it is converted; integer counters keep theirs."""
    return sum(buffer.numel() * (float_itemsize if buffer.is_floating_point() else buffer.element_size())
               for buffer in module.buffers())


def macs(module: nn.Module, output_shape: Shape) -> int:
    """Multiply-accumulates for the whole batch (``output_shape`` includes N)."""
    if isinstance(module, nn.Conv2d):
        per_output = (module.in_channels // module.groups) * math.prod(module.kernel_size)
        return math.prod(output_shape) * per_output  # N * C_out * H * W outputs, C_in * kh * kw each
    if isinstance(module, nn.Linear):
        return math.prod(output_shape) * module.in_features  # N * out_features outputs, in_features each
    return 0
