"""Properties of vgg.analyze over random specs and input sizes: shapes as torch computes them, and
receptive fields, jumps and starts as gradients reveal them."""

from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import vgg
from vgg.arch.model import make_layers
from vgg.arch.spec import LRN, Conv, LayerSpec, MaxPool, VGGSpec


@st.composite
def specs(draw: st.DrawFn) -> VGGSpec:
    """1-3 stages of 1-2 narrow convs (3x3 or 1x1), an optional LRN, the last stage maybe unpooled."""
    layers: list[LayerSpec] = []
    stages = draw(st.integers(1, 3))
    for stage in range(stages):
        for _ in range(draw(st.integers(1, 2))):
            layers.append(Conv(draw(st.sampled_from([2, 4])), kernel_size=draw(st.sampled_from([1, 3, 3]))))
        if stage == 0 and draw(st.booleans()):
            layers.append(LRN())
        if stage < stages - 1 or draw(st.booleans()):
            layers.append(MaxPool())
    return VGGSpec(tuple(layers))


def _sizes(spec: VGGSpec) -> st.SearchStrategy[tuple[int, int]]:
    side = st.integers(spec.min_input_size, 48)
    return st.tuples(side, side)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), batch_norm=st.booleans())
def test_shapes_equal_running_every_module_on_meta(data: st.DataObject, batch_norm: bool) -> None:
    spec = data.draw(specs())
    size = data.draw(_sizes(spec))
    report = vgg.analyze(spec, batch_norm=batch_norm, input_size=size, batch_size=2)
    model = vgg.build(spec, batch_norm=batch_norm, device="meta").eval()
    x = torch.empty(2, 3, *size, device="meta")
    with torch.inference_mode():
        for module, row in zip([*model.features, model.avgpool, *model.classifier], report.layers, strict=True):
            x = torch.flatten(x, 1) if isinstance(module, nn.Linear) and x.dim() > 2 else x
            x = module(x)
            assert tuple(x.shape) == row.output_shape, row.name
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.activation_bytes == 4 * sum(math.prod(row.output_shape) for row in report.layers)


def _geometry_twin(spec: VGGSpec) -> nn.Sequential:
    """The features with the same kernels, strides and padding, made to pass every gradient: weights
    positive, and each max-pool an average pool (a max-pool sends gradient to one input of four)."""
    features = make_layers(spec, batch_norm=False)
    layers = [nn.AvgPool2d(m.kernel_size, m.stride) if isinstance(m, nn.MaxPool2d) else m for m in features]
    twin = nn.Sequential(*layers).double()
    for module in twin:
        if isinstance(module, nn.Conv2d):
            nn.init.constant_(module.weight, 1.0 / module.weight[0].numel())
            nn.init.zeros_(module.bias)
    return twin


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_receptive_field_jump_and_start_match_gradients(data: st.DataObject) -> None:
    spec = data.draw(specs())
    # A multiple of 2**pools: floor-mode pooling would drop trailing pixels, which no field then reaches.
    side = spec.min_input_size * data.draw(st.integers(max(1, 8 // spec.min_input_size), 48 // spec.min_input_size))
    report = vgg.analyze(spec, input_size=(side, side))
    twin = _geometry_twin(spec)
    for depth, row in enumerate(report.layers[: len(twin)], start=1):
        image = torch.ones(1, 3, side, side, dtype=torch.float64, requires_grad=True)
        out = twin[:depth](image)
        position = data.draw(st.integers(0, out.shape[-1] - 1), label=f"position at {row.paper_name}")
        out[0, :, position, position].sum().backward()
        rows = image.grad[0].abs().sum(dim=(0, 2)).nonzero().flatten()
        centre = row.start + position * row.jump
        low, high = centre - (row.receptive_field - 1) / 2, centre + (row.receptive_field - 1) / 2
        assert (rows.min().item(), rows.max().item()) == (max(0, low), min(side - 1, high)), row.paper_name
