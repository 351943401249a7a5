"""How every method here runs a VGG: module by module, as ``VGG.forward`` would, with nothing
written to the model.

The app shares one cached model between browser sessions and threads, so no method registers a
hook, switches train/eval, or lets autograd write ``.grad`` into a parameter (gradients are taken
with ``torch.autograd.grad`` for named inputs only). ReLUs are applied functionally and out of
place, whatever ``inplace`` says, so a captured conv output is never overwritten by the ReLU that
follows it; guided backprop swaps in its own autograd function at the same spot.

Layers are named by module path ("features.28") or by the paper's name ("conv5_3"), derived here
from torchvision's layout (``features``, ``avgpool``, ``classifier``) so any such model works,
a torchvision VGG included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from vgg.errors import VGGError


class ExplainError(VGGError):
    """A layer, class, method or option that an explanation cannot use; the message says what can."""


@dataclass(frozen=True)
class Layer:
    """One module of the walk: where it sits, the paper's name for it, and what it is."""

    path: str  # "features.28"
    paper_name: str  # "conv5_3"
    kind: str  # conv, bn, relu, lrn, pool, avgpool, fc, dropout, other
    module: nn.Module

    @property
    def label(self) -> str:
        return f"{self.paper_name} ({self.path})"


def named_layers(model: nn.Module) -> tuple[Layer, ...]:
    """Every module of features, avgpool and classifier, in forward order, with its paper name."""
    _check_layout(model)
    layers: list[Layer] = []
    stage, conv_in_stage = 1, 0
    for index, module in enumerate(model.features):
        path = f"features.{index}"
        if isinstance(module, nn.Conv2d):
            conv_in_stage += 1
            layers.append(Layer(path, f"conv{stage}_{conv_in_stage}", "conv", module))
        elif isinstance(module, nn.BatchNorm2d):
            layers.append(Layer(path, f"bn{stage}_{conv_in_stage}", "bn", module))
        elif isinstance(module, nn.ReLU):
            layers.append(Layer(path, f"relu{stage}_{conv_in_stage}", "relu", module))
        elif isinstance(module, nn.LocalResponseNorm):
            layers.append(Layer(path, f"lrn{stage}", "lrn", module))
        elif isinstance(module, nn.MaxPool2d):
            layers.append(Layer(path, f"pool{stage}", "pool", module))
            stage, conv_in_stage = stage + 1, 0
        else:
            layers.append(Layer(path, path, "other", module))
    layers.append(Layer("avgpool", "avgpool", "avgpool", model.avgpool))
    number = 6  # the paper numbers the head fc6, fc7, fc8 whatever the depth
    for index, module in enumerate(model.classifier):
        path = f"classifier.{index}"
        if isinstance(module, nn.Linear):
            layers.append(Layer(path, f"fc{number}", "fc", module))
            number += 1
        elif isinstance(module, nn.ReLU):
            layers.append(Layer(path, f"relu{number - 1}", "relu", module))
        elif isinstance(module, nn.Dropout):
            layers.append(Layer(path, f"drop{number - 1}", "dropout", module))
        else:
            layers.append(Layer(path, path, "other", module))
    return tuple(layers)


def _check_layout(model: nn.Module) -> None:
    missing = [name for name in ("features", "avgpool", "classifier") if not hasattr(model, name)]
    if missing:
        raise ExplainError(f"This model has no {', '.join(missing)}: the explanations read torchvision's VGG layout "
                           "(features, avgpool, classifier).")


def resolve_layer(model: nn.Module, name: str) -> Layer:
    """The layer named by its module path or paper name; ExplainError listing examples otherwise."""
    layers = named_layers(model)
    for layer in layers:
        if name in (layer.path, layer.paper_name):
            return layer
    convs = [layer.paper_name for layer in layers if layer.kind == "conv"]
    raise ExplainError(f"No layer {name!r} in this network: use a module path (features.0, classifier.0, ...) or a "
                       f"paper name ({', '.join(convs[:2])}, ..., {convs[-1]}, pool1, fc6, ...).")


def last_conv(model: nn.Module) -> Layer:
    """Grad-CAM's default layer: the last convolution (conv5_3 in VGG16)."""
    convs = [layer for layer in named_layers(model) if layer.kind == "conv"]
    if not convs:
        raise ExplainError("This network has no convolution.")
    return convs[-1]


def check_eval(model: nn.Module) -> None:
    """Refuse a model in training mode: switching it here would race with other threads using it."""
    if model.training:
        raise ExplainError("The model is in training mode (dropout on, batch norm updating its statistics). "
                           "Call vgg.prepare(model) once before explaining it.")


def batch_input(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A (N, 3, H, W) batch on the model's device and dtype, checked against its smallest input."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ExplainError(f"Expected a (N, 3, H, W) batch of RGB images; got shape {tuple(x.shape)}.")
    check = getattr(model, "check_input", None)
    if check is not None:
        check(x)  # a readable InputSizeError instead of a shape error inside a pool
    parameter = next(model.parameters())
    return x.to(device=parameter.device, dtype=parameter.dtype)


def model_input(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``x`` as one (1, 3, H, W) image on the model's device and dtype, detached (a fresh leaf)."""
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[0] != 1:
        raise ExplainError(f"Explain one image at a time: a (1, 3, H, W) or (3, H, W) tensor; got shape "
                           f"{tuple(x.shape)}.")
    return batch_input(model, x.detach()).clone()


class GuidedReLU(torch.autograd.Function):
    """ReLU forward; backward passes only positive gradients through positive inputs (Springenberg et al.)."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor) -> torch.Tensor:
        out = x.clamp(min=0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:
        (out,) = ctx.saved_tensors
        return grad.clamp(min=0) * (out > 0).to(grad.dtype)


Relu = Callable[[torch.Tensor], torch.Tensor]


def apply(layer: Layer, x: torch.Tensor, relu: Relu = torch.relu) -> torch.Tensor:
    """One module's output for ``x``. ReLUs run as ``relu`` (out of place); dropout is the identity
    (the model is in eval mode); everything else is the module itself."""
    if layer.kind == "relu":
        return relu(x)
    if layer.kind == "dropout":
        return x
    if layer.kind == "fc" and x.dim() > 2:
        x = torch.flatten(x, 1)  # (N, C * P * P) after avgpool
    return layer.module(x)


def run(model: nn.Module, x: torch.Tensor, *, stop_at: str | None = None, guided: bool = False,
        start_after: str | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The logits of ``x`` and the output of layer ``stop_at`` (None: no capture).

    ``start_after``: ``x`` is that layer's output and the walk begins after it (Grad-CAM runs the
    part before its layer without a graph). ``guided``: ReLUs are ``GuidedReLU``.
    """
    relu: Relu = GuidedReLU.apply if guided else torch.relu
    layers = named_layers(model)
    started = start_after is None
    captured = None
    for layer in layers:
        if not started:
            started = layer.path == start_after
            continue
        x = apply(layer, x, relu)
        if layer.path == stop_at:
            captured = x
    return x, captured


def run_until(model: nn.Module, x: torch.Tensor, path: str, relu: Relu = torch.relu) -> torch.Tensor:
    """The output of layer ``path``, running no further."""
    for layer in named_layers(model):
        x = apply(layer, x, relu)
        if layer.path == path:
            return x
    raise ExplainError(f"No layer {path!r} in this network.")


def resolve_target(logits: torch.Tensor, target: int | None) -> int:
    """The class to explain: ``target``, or the top-1 of ``logits`` (1, classes)."""
    classes = logits.shape[-1]
    if target is None:
        return int(logits[0].argmax())
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < classes:
        raise ExplainError(f"target must be a class index in 0..{classes - 1} (or None for the prediction); "
                           f"got {target!r}.")
    return target
