"""A mini VGG: any configuration of the family with its widths divided by a factor, for small inputs.

What is scaled, and why (so it trains in seconds on two CPU cores and stays the same family):
- every convolution's width is divided by ``width_divisor`` (rounded up): D's 64-128-256-512-512
  becomes 8-16-32-64-64 at the default of 8. Depth, kernel sizes (3x3, and C's 1x1), pools, LRN
  and batch norm are the configuration's own, so A..E still differ exactly as in the paper;
- the classifier keeps its three fully connected layers (fc6, fc7, fc8) and its dropout, with the
  hidden width 4096 divided by the same factor (512), and fc8 sized to the dataset's classes;
- the input is 32x32 (digits) or 64x64 (shapes) instead of 224x224: the five 2x2 pools bring 32 px
  down to 1x1, so the adaptive average pool before fc6 pools to 1x1 (``pooled_size=1``) instead of
  torchvision's 7x7, which at this size would only copy one pixel 49 times into fc6's inputs.
The network is built by the same code path as the full one (the scaled spec, ``make_layers``,
``VGG``), so the analysis reports its parameters, MACs, shapes and receptive fields like any other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from vgg.arch import Conv, Network, VGGSpec, build, find_named_config, resolve_config
from vgg.train.errors import TrainingError

DEFAULT_WIDTH_DIVISOR = 8
FULL_HIDDEN_FEATURES = 4096
MINI_POOLED_SIZE = 1
MAX_WIDTH_DIVISOR = 64


def scale_spec(spec: VGGSpec, divisor: int) -> VGGSpec:
    """Every conv's width divided by ``divisor`` (rounded up, at least 1); all else unchanged."""
    layers = tuple(Conv(math.ceil(layer.out_channels / divisor), layer.kernel_size) if isinstance(layer, Conv)
                   else layer for layer in spec.layers)
    return VGGSpec(layers, name=None)  # a scaled D is not D: no analysis may look it up as the paper's D


@dataclass(frozen=True)
class MiniVGG:
    """Which mini network: the configuration it scales, batch norm, the divisor, input size and classes.

    ``config`` is a name ("D", "A-LRN") or a spec in text ("64 M 128 M"), as the full builders take.
    """

    config: str
    batch_norm: bool = False
    width_divisor: int = DEFAULT_WIDTH_DIVISOR
    input_size: int = 32
    num_classes: int = 10
    dropout: float = 0.5

    def __post_init__(self) -> None:
        if isinstance(self.width_divisor, bool) or not 1 <= int(self.width_divisor) <= MAX_WIDTH_DIVISOR:
            raise TrainingError(f"The width divisor must be from 1 to {MAX_WIDTH_DIVISOR}, got {self.width_divisor}.")
        resolve_config(self.config)  # refuses a bad spec now, in its own words
        if self.input_size < self.spec.min_input_size:
            raise TrainingError(f"{self.input_size} px is too small for {self.spec.num_pools} pools; "
                                f"use at least {self.spec.min_input_size}.")

    @property
    def base_spec(self) -> VGGSpec:
        return resolve_config(self.config)

    @property
    def spec(self) -> VGGSpec:
        return scale_spec(self.base_spec, self.width_divisor)

    @property
    def hidden_features(self) -> int:
        return max(FULL_HIDDEN_FEATURES // self.width_divisor, self.num_classes)

    @property
    def pooled_size(self) -> int:
        return MINI_POOLED_SIZE

    @property
    def config_name(self) -> str:
        """The paper's letter ("D") or "custom"."""
        return find_named_config(self.base_spec) or "custom"

    @property
    def label(self) -> str:
        """"D+BN mini" (the divisor is added when it is not the default)."""
        name = self.config_name + ("+BN" if self.batch_norm else "") + " mini"
        return name if self.width_divisor == DEFAULT_WIDTH_DIVISOR else f"{name} (widths /{self.width_divisor})"

    @property
    def network(self) -> Network:
        """The library's value for this network: the analysis and the app's caches take it like any other."""
        return Network(self.spec, self.batch_norm, self.num_classes, self.hidden_features, self.pooled_size)

    def build(self, *, init_weights: bool = True, device: str | torch.device | None = None) -> nn.Module:
        """The model: ``VGG(make_layers(scaled spec, batch_norm), ...)``, the full network's own code path
        (with ``init_weights``, initialised from the global RNG as torchvision does). ``device="meta"``
        gives its structure, shapes included, with no weight memory."""
        return build(self.network, init_weights=init_weights, dropout=self.dropout, device=device)

    def describe(self) -> dict[str, object]:
        """What a checkpoint records: enough to build this network again."""
        return {"config": self.config, "spec": self.spec.to_text(), "batch_norm": self.batch_norm,
                "width_divisor": self.width_divisor, "input_size": self.input_size,
                "num_classes": self.num_classes, "hidden_features": self.hidden_features,
                "pooled_size": self.pooled_size, "dropout": self.dropout}


def initialize(model: nn.Module, generator: torch.Generator, scheme: str = "torchvision") -> None:
    """Fresh weights drawn from ``generator`` (never the global RNG, which other threads share).

    ``torchvision``: Kaiming normal (fan_out) convs, BN at 1/0, zero biases, as torchvision's VGG
    initialises itself; its Linear weights are N(0, 0.01) (std 0.01) at full size, which for fc6's
    25,088 inputs multiplies the signal's spread by 0.01 x sqrt(25,088) = 1.6. With 64 inputs the same
    std would shrink it 16-fold at each FC layer and the mini would sit at chance for epochs, so the
    std is scaled to keep torchvision's gain: 0.01 x sqrt(full fan-in / fan-in) (fc6 0.2, fc7 and fc8
    0.028 at divisor 8; exactly 0.01 for the full network). ``paper``: every conv and Linear weight from a
    normal distribution with zero mean and variance 10^-2 (std 0.1), zero biases: the paper's §3.1.
    """
    if scheme not in INIT_SCHEMES:
        raise TrainingError(f"Unknown initialisation {scheme!r}: use one of {', '.join(INIT_SCHEMES)}.")
    linears = [module for module in model.modules() if isinstance(module, nn.Linear)]
    full_fan_ins = dict(zip(map(id, linears), FULL_FC_FAN_INS, strict=False))
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            if scheme == "paper":
                nn.init.normal_(module.weight, 0, 0.1, generator=generator)
            else:
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu", generator=generator)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0, 0.1 if scheme == "paper" else _fc_std(module, full_fan_ins),
                            generator=generator)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
        else:
            continue
        if module.bias is not None:
            nn.init.zeros_(module.bias)


INIT_SCHEMES = ("torchvision", "paper")
FULL_FC_FAN_INS = (512 * 7 * 7, FULL_HIDDEN_FEATURES, FULL_HIDDEN_FEATURES)  # fc6, fc7, fc8 of a full VGG


def _fc_std(layer: nn.Linear, full_fan_ins: dict[int, int]) -> float:
    full = full_fan_ins.get(id(layer), layer.in_features)
    return 0.01 * math.sqrt(full / layer.in_features)


def weight_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The paper's names of the weight layers (conv1_1 ... conv5_4, fc6, fc7, fc8) -> their modules."""
    names: dict[str, nn.Module] = {}
    stage, in_stage = 1, 0
    for module in model.features:
        if isinstance(module, nn.Conv2d):
            in_stage += 1
            names[f"conv{stage}_{in_stage}"] = module
        elif isinstance(module, nn.MaxPool2d):
            stage, in_stage = stage + 1, 0
    linears = [module for module in model.classifier if isinstance(module, nn.Linear)]
    names.update(zip(("fc6", "fc7", "fc8"), linears, strict=False))
    return names


# The paper (§3.1) trained A from random weights, then started each deeper net with A's first four
# conv layers and its three FC layers, the rest random. A's first four convs are conv1_1, conv2_1,
# conv3_1 and conv3_2; in B, D and E the layers of the same names have the same shapes.
PAPER_COPIED_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv3_2", "fc6", "fc7", "fc8")


def copy_layers(source: nn.Module, target: nn.Module, names: tuple[str, ...] = PAPER_COPIED_LAYERS) -> tuple[str, ...]:
    """Copy the named weight layers (weights and biases) from ``source`` into ``target``; returns the names."""
    from_layers, to_layers = weight_layers(source), weight_layers(target)
    for name in names:
        if name not in from_layers or name not in to_layers:
            raise TrainingError(f"Cannot copy {name}: one of the two networks has no layer of that name.")
        source_layer, target_layer = from_layers[name], to_layers[name]
        if source_layer.weight.shape != target_layer.weight.shape:
            raise TrainingError(f"Cannot copy {name}: shapes {tuple(source_layer.weight.shape)} and "
                                f"{tuple(target_layer.weight.shape)} differ (same width divisor and dataset?).")
        with torch.no_grad():
            target_layer.weight.copy_(source_layer.weight)
            target_layer.bias.copy_(source_layer.bias)
    return names
