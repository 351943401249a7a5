"""Builders: torchvision's eight names with its signature, and ``build`` for any configuration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from vgg.configs import VARIANTS, resolve_config
from vgg.errors import WeightsError
from vgg.model import VGG
from vgg.published import PUBLISHED, PublishedVariant
from vgg.spec import VGGSpec
from vgg.weights import load_into, load_state_dict

ConfigLike = str | Sequence[int | str] | VGGSpec
WeightsLike = None | str | PublishedVariant
_IMAGENET_ALIASES = {"imagenet", "imagenet1k_v1", "default"}


def build(config: ConfigLike, *, batch_norm: bool = False, num_classes: int = 1000, init_weights: bool = True,
          dropout: float = 0.5, device: str | torch.device | None = None) -> VGG:
    """Any VGG: a named config ("D", "A-LRN"), text ("64 M 128 M"), torchvision's list, or a spec.

    ``device="meta"`` builds the structure with no weight memory (and skips initialisation,
    which would have nothing to write to).
    """
    spec = resolve_config(config)
    target = torch.device(device) if device is not None else None
    if target is not None and target.type == "meta":
        with torch.device("meta"):
            return VGG(spec, batch_norm=batch_norm, num_classes=num_classes, init_weights=False, dropout=dropout)
    model = VGG(spec, batch_norm=batch_norm, num_classes=num_classes, init_weights=init_weights, dropout=dropout)
    return model.to(target) if target is not None else model


def _resolve_weights(name: str, weights: WeightsLike) -> PublishedVariant | None:
    if weights is None:
        return None
    if isinstance(weights, PublishedVariant):
        return weights
    if isinstance(weights, str) and weights.strip().lower() in _IMAGENET_ALIASES:
        return PUBLISHED[name]
    raise WeightsError(f"Unknown weights {weights!r} for {name}: use None (random) or 'IMAGENET1K_V1'.")


def _builder(name: str, *, weights: WeightsLike, progress: bool, **kwargs: Any) -> VGG:
    config, batch_norm = VARIANTS[name]
    variant = _resolve_weights(name, weights)
    if variant is None:
        return build(config, batch_norm=batch_norm, **kwargs)
    if kwargs.get("num_classes", 1000) != 1000:
        raise WeightsError(f"The ImageNet weights of {name} have 1000 classes; num_classes must be 1000.")
    model = build(config, batch_norm=batch_norm, **{**kwargs, "init_weights": False})
    return load_into(model, load_state_dict(variant, progress=progress))


def vgg11(*, weights: WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG11 (config A)."""
    return _builder("vgg11", weights=weights, progress=progress, **kwargs)


def vgg11_bn(*, weights: WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG11 (config A) with batch normalisation."""
    return _builder("vgg11_bn", weights=weights, progress=progress, **kwargs)


def vgg13(*, weights: WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG13 (config B)."""
    return _builder("vgg13", weights=weights, progress=progress, **kwargs)


def vgg13_bn(*, weights: WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG13 (config B) with batch normalisation."""
    return _builder("vgg13_bn", weights=weights, progress=progress, **kwargs)


def vgg16(*, weights: WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG16 (config D)."""
    return _builder("vgg16", weights=weights, progress=progress, **kwargs)


def vgg16_bn(*, weights: WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG16 (config D) with batch normalisation."""
    return _builder("vgg16_bn", weights=weights, progress=progress, **kwargs)


def vgg19(*, weights: WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG19 (config E)."""
    return _builder("vgg19", weights=weights, progress=progress, **kwargs)


def vgg19_bn(*, weights: WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG19 (config E) with batch normalisation."""
    return _builder("vgg19_bn", weights=weights, progress=progress, **kwargs)
