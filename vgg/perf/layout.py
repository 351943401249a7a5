"""Memory layouts: the fast path (channels_last, NHWC, what ``vgg.prepare`` makes on CPU and CUDA)
and the plain path (NCHW, the model as built), a plain copy of a prepared model to compare with, and
a copy with its weights converted to another precision.

The copy never touches the original (the app's cached models are shared between sessions): it
deep-copies ``features`` into NCHW and *shares* the classifier, whose 2-D weights look the same in
either layout. For VGG16 that is 59 MB of conv weights instead of a second 528 MB model.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from vgg.arch.builders import build
from vgg.arch.model import VGG
from vgg.vision.precision import PRECISIONS, precision_of

CHANNELS_LAST, NCHW = "channels_last", "nchw"
MEMORY_FORMATS = {CHANNELS_LAST: torch.channels_last, NCHW: torch.contiguous_format}


def layout_of(model: VGG) -> str:
    """channels_last when the convolutions' weights are stored NHWC, else nchw."""
    conv = next((module for module in model.features if isinstance(module, nn.Conv2d)), None)
    if conv is not None and not conv.weight.is_contiguous() and conv.weight.is_contiguous(
            memory_format=torch.channels_last):
        return CHANNELS_LAST
    return NCHW


def available_layouts(model: VGG) -> tuple[str, ...]:
    """The model's own layout first; a channels_last model can also be measured plain (via a copy)."""
    return (CHANNELS_LAST, NCHW) if layout_of(model) == CHANNELS_LAST else (NCHW,)


def plain_layout_copy(model: VGG) -> VGG:
    """An NCHW twin of a prepared ``model`` with the same weights, in eval mode, on the same device;
    only the conv (and BN) weights are copied. Never modifies ``model``."""
    twin = build(model.network, device="meta")
    twin.features = copy.deepcopy(model.features).to(memory_format=torch.contiguous_format)
    twin.eval()  # before the shared classifier is attached: eval() on it would write to the original's modules
    twin.classifier = model.classifier
    return twin


def converted_copy(model: VGG, precision: str) -> VGG:
    """``model`` itself if its weights are already in ``precision``; else a twin in eval mode on the same
    device and in the same memory format with every weight and buffer converted once (VGG16 in bf16:
    264 MB). Never modifies ``model``."""
    if precision_of(model) == precision:
        return model
    dtype = PRECISIONS[precision]
    twin = build(model.network, device="meta")
    state = {name: value.to(dtype) if value.is_floating_point() else value  # keeps channels_last strides
             for name, value in model.state_dict().items()}
    twin.load_state_dict(state, assign=True)
    return twin.eval()


def random_input(model: VGG, batch_size: int, input_size: tuple[int, int], layout: str) -> torch.Tensor:
    """A (N, 3, H, W) batch on the model's device, in its dtype and in ``layout``; values do not change
    dense kernels' speed."""
    weight = next(model.parameters())
    x = torch.randn(batch_size, 3, *input_size, device=weight.device, dtype=weight.dtype)
    return x.contiguous(memory_format=MEMORY_FORMATS[layout])
