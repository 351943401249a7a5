"""vgg.analyze checked against independent tools: FlopCounterMode, torchinfo, and autograd itself."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import vgg
from vgg.analysis.torchinfo_view import torchinfo_summary, torchinfo_table
from vgg.arch.configs import CONFIGS


def _modules_in_forward_order(model: vgg.VGG) -> list[nn.Module]:
    return [*model.features, model.avgpool, *model.classifier]


@pytest.mark.parametrize("config", list(CONFIGS))
def test_macs_per_layer_match_flop_counter(config: str) -> None:
    """FlopCounterMode counts 2 FLOPs per multiply-accumulate of conv and linear, nothing else."""
    report = vgg.analyze(config, batch_norm=True, input_size=(64, 96), batch_size=2)
    model = vgg.build(config, batch_norm=True, device="meta").eval()
    x = torch.empty(2, 3, 64, 96, device="meta")
    with torch.inference_mode():
        for module, row in zip(_modules_in_forward_order(model), report.layers, strict=True):
            if isinstance(module, nn.Linear) and x.dim() > 2:
                x = torch.flatten(x, 1)
            with FlopCounterMode(display=False) as counter:
                x = module(x)
            assert counter.get_total_flops() == row.flops == 2 * row.macs, row.name
            assert tuple(x.shape) == row.output_shape, row.name


@pytest.mark.parametrize(("config", "batch_norm"), [("A-LRN", False), ("C", True), ("E", True)])
def test_layers_and_totals_match_torchinfo(config: str, batch_norm: bool) -> None:
    report = vgg.analyze(config, batch_norm=batch_norm, input_size=(64, 80), batch_size=2)
    stats = torchinfo_summary(config, batch_norm=batch_norm, input_size=(64, 80), batch_size=2)
    leaves = [layer for layer in stats.summary_list if layer.is_leaf_layer]
    assert len(leaves) == len(report.layers)
    for leaf, row in zip(leaves, report.layers, strict=True):
        assert (leaf.class_name, tuple(leaf.output_size), leaf.num_params) == (row.type, row.output_shape, row.params)
        # torchinfo's Mult-Adds add the bias (and BN's affine) once per output position: ours leave them out.
        bias = sum(p.numel() for name, p in leaf.module.named_parameters() if name == "bias")
        extra = bias * row.output_shape[0] * (row.output_shape[2] * row.output_shape[3] if row.kind == "conv" else 1)
        if row.kind == "bn":
            extra = row.output_shape[0] * row.params
        assert leaf.macs == row.macs + extra, row.name
    assert stats.total_params == report.totals.params
    # torchinfo's "forward/backward pass size": twice the outputs of the layers that have parameters.
    assert stats.total_output_bytes == 2 * sum(row.activation_bytes for row in report.layers if row.params)


def test_torchinfo_table_text() -> None:
    text = torchinfo_table("D", input_size=(32, 32))
    assert "Total params: 138,357,544" in text and "Conv2d (0)" in text
    with pytest.raises(vgg.InputSizeError):
        torchinfo_table("D", input_size=(16, 16))


def _saved_for_backward_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes of the tensors autograd saves (weights and buffers aside), plus the logits the caller holds."""
    skip = {tensor.untyped_storage().data_ptr() for tensor in (*model.parameters(), *model.buffers())}
    saved: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in skip:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        logits = model(x)
    return sum(saved.values()) + logits.numel() * logits.element_size()


@pytest.mark.parametrize(("spec", "batch_norm"), [("16 M 32 32 M", True), ("16 M conv1-16 32 M", False),
                                                  ("16 LRN M 32 M", False), ("16 LRN M 32 M", True)])
def test_training_activation_estimate_matches_autograd(spec: str, batch_norm: bool) -> None:
    """What autograd really keeps for backward on a small real model (CPU, train mode) vs the estimate.

    CPU dropout keeps a 4-byte float mask where the estimate assumes CUDA's 1-byte bool one.
    """
    torch.manual_seed(0)
    model = vgg.build(spec, batch_norm=batch_norm).train()
    report = vgg.analyze(spec, batch_norm=batch_norm, input_size=(24, 16), batch_size=2)
    measured = _saved_for_backward_bytes(model, torch.randn(2, 3, 24, 16))
    dropout_elements = sum(row.activation_elements for row in report.layers if row.kind == "dropout")
    measured -= dropout_elements * (4 - 1)
    assert report.totals.training_sgd.activations == measured
