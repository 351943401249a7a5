"""Builders: torchvision's eight names with its signature, all through ``_vgg`` as in torchvision, and
``build`` for any network (a ``Network`` or anything ``Network.resolve`` accepts)."""

from __future__ import annotations

import warnings
from typing import Any

import torch

from vgg.arch.configs import CONFIGS, cfgs
from vgg.arch.model import VGG, make_layers
from vgg.arch.network import Network, NetworkLike
from vgg.arch.pretrained import (
    WEIGHTS_OF,
    VGG11_BN_Weights,
    VGG11_Weights,
    VGG13_BN_Weights,
    VGG13_Weights,
    VGG16_BN_Weights,
    VGG16_Weights,
    VGG19_BN_Weights,
    VGG19_Weights,
    WeightsEnum,
)
from vgg.arch.published import PublishedVariant
from vgg.arch.weights import load_into
from vgg.errors import WeightsError

WeightsLike = None | str | WeightsEnum | PublishedVariant
_LEGACY_IMAGENET = "imagenet"  # the project's older spelling of the default weights


def build(config: NetworkLike, *, batch_norm: bool | None = None, num_classes: int | None = None,
          hidden_features: int | None = None, pooled_size: int | None = None, init_weights: bool = True,
          dropout: float = 0.5, device: str | torch.device | None = None) -> VGG:
    """Any VGG, with random weights: a Network, a letter ("D", "A-LRN"), a torchvision name ("vgg16_bn"),
    text ("64 M 128 M"), torchvision's list or a spec (see ``Network.resolve``).

    ``device="meta"`` builds the structure with no weight memory (and skips initialisation,
    which would have nothing to write to).
    """
    network = Network.resolve(config, batch_norm=batch_norm, num_classes=num_classes,
                              hidden_features=hidden_features, pooled_size=pooled_size)
    target = torch.device(device) if device is not None else None
    if target is not None and target.type == "meta":
        with torch.device("meta"):
            return network_module(network, init_weights=False, dropout=dropout)
    model = network_module(network, init_weights=init_weights, dropout=dropout)
    return model.to(target) if target is not None else model


def network_module(network: Network, *, init_weights: bool = True, dropout: float = 0.5) -> VGG:
    """``VGG(make_layers(spec, batch_norm), ...)`` for a Network: the one path every model is made by."""
    return VGG(make_layers(network.spec, batch_norm=network.batch_norm), num_classes=network.num_classes,
               init_weights=init_weights, dropout=dropout, hidden_features=network.hidden_features,
               pooled_size=network.pooled_size)


def _vgg(cfg: str, batch_norm: bool, weights: WeightsEnum | None, progress: bool, **kwargs: Any) -> VGG:
    """torchvision's ``_vgg``: ``cfgs[cfg]`` -> ``make_layers`` -> ``VGG``, then the weights if any.

    ``cfg`` is torchvision's letter ("A", "B", "D", "E") or one of the paper's others ("A-LRN", "C").
    """
    if weights is not None:
        kwargs["init_weights"] = False  # every value is about to be overwritten
        if weights.meta["categories"] is not None:
            _overwrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    model = VGG(make_layers(cfgs[cfg] if cfg in cfgs else CONFIGS[cfg], batch_norm=batch_norm), **kwargs)
    if weights is not None:
        load_into(model, weights.get_state_dict(progress=progress))
    model.weights = weights  # the app and predict refuse to classify with features-only weights
    return model


def _overwrite_named_param(kwargs: dict[str, Any], param: str, new_value: int) -> None:
    if kwargs.get(param, new_value) != new_value:
        raise WeightsError(f"The published weights have {param}={new_value}, but {param}={kwargs[param]} was "
                           f"asked for. Leave {param} unset, or use weights=None and train the head.")
    kwargs[param] = new_value


def _weights_arg(name: str, weights: WeightsLike, kwargs: dict[str, Any]) -> WeightsEnum | None:
    """torchvision's rules for ``weights``, and its legacy ``pretrained=True`` with a deprecation warning."""
    enum = WEIGHTS_OF[name]
    if "pretrained" in kwargs:
        pretrained = kwargs.pop("pretrained")
        if weights is not None:
            raise WeightsError(f"{name}() got both weights={weights!r} and pretrained={pretrained!r}; use weights.")
        weights = enum.IMAGENET1K_V1 if pretrained else None
        warnings.warn(f"The parameter 'pretrained' is deprecated, please use 'weights' instead: pretrained="
                      f"{pretrained!r} is weights={weights!r}. You can also use weights={enum.__name__}.DEFAULT "
                      "to get the most up-to-date weights.", DeprecationWarning, stacklevel=3)
    if isinstance(weights, PublishedVariant):
        if weights.name != name:
            raise WeightsError(f"{weights.name}'s weights do not fit {name}; use {enum.__name__}.IMAGENET1K_V1.")
        return enum.IMAGENET1K_V1
    if isinstance(weights, str) and weights.strip().lower() == _LEGACY_IMAGENET:
        return enum.DEFAULT
    return enum.verify(weights)


def vgg11(*, weights: VGG11_Weights | WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG11 (config A)."""
    weights = _weights_arg("vgg11", weights, kwargs)
    return _vgg("A", False, weights, progress, **kwargs)


def vgg11_bn(*, weights: VGG11_BN_Weights | WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG11 (config A) with batch normalisation."""
    weights = _weights_arg("vgg11_bn", weights, kwargs)
    return _vgg("A", True, weights, progress, **kwargs)


def vgg13(*, weights: VGG13_Weights | WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG13 (config B)."""
    weights = _weights_arg("vgg13", weights, kwargs)
    return _vgg("B", False, weights, progress, **kwargs)


def vgg13_bn(*, weights: VGG13_BN_Weights | WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG13 (config B) with batch normalisation."""
    weights = _weights_arg("vgg13_bn", weights, kwargs)
    return _vgg("B", True, weights, progress, **kwargs)


def vgg16(*, weights: VGG16_Weights | WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG16 (config D)."""
    weights = _weights_arg("vgg16", weights, kwargs)
    return _vgg("D", False, weights, progress, **kwargs)


def vgg16_bn(*, weights: VGG16_BN_Weights | WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG16 (config D) with batch normalisation."""
    weights = _weights_arg("vgg16_bn", weights, kwargs)
    return _vgg("D", True, weights, progress, **kwargs)


def vgg19(*, weights: VGG19_Weights | WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG19 (config E)."""
    weights = _weights_arg("vgg19", weights, kwargs)
    return _vgg("E", False, weights, progress, **kwargs)


def vgg19_bn(*, weights: VGG19_BN_Weights | WeightsLike = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG19 (config E) with batch normalisation."""
    weights = _weights_arg("vgg19_bn", weights, kwargs)
    return _vgg("E", True, weights, progress, **kwargs)


BUILDERS = {"vgg11": vgg11, "vgg11_bn": vgg11_bn, "vgg13": vgg13, "vgg13_bn": vgg13_bn,
            "vgg16": vgg16, "vgg16_bn": vgg16_bn, "vgg19": vgg19, "vgg19_bn": vgg19_bn}
