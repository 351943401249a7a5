"""``make_layers`` and ``VGG``, with torchvision's signatures, modules and ``state_dict`` keys (so its
checkpoints load with strict=True), and the structural metadata (paper names, stages, kinds) read
back from the modules themselves, so a ``VGG`` made by hand has it too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from vgg.arch.kinds import LayerKind
from vgg.arch.network import HIDDEN_FEATURES, NUM_CLASSES, POOLED_SIZE, Network, canonical_spec
from vgg.arch.spec import LRN, Conv, LayerSpec, MaxPool, VGGSpec, parse_spec
from vgg.errors import InputSizeError, SpecError, VGGError, WeightsError


@dataclass(frozen=True)
class LayerInfo:
    """Where a module sits: its torchvision path, the paper's name for it, and its stage (1-based).

    The stage after the last feature stage (6 for A..E) holds avgpool and the classifier, the head;
    a custom spec that does not end with a pool has its trailing layers in a feature stage of their own.
    """

    path: str
    paper_name: str
    stage: int
    kind: LayerKind


def make_layers(cfg: str | Sequence[int | str] | VGGSpec, batch_norm: bool = False) -> nn.Sequential:
    """torchvision's ``make_layers``: conv [bn] relu ... pool, from ``cfgs["D"]``, spec text or a VGGSpec.

    Besides torchvision's 3x3 convs and "M" pools it builds the paper's 1x1 convs (config C) and LRN (A-LRN).
    """
    layers: list[nn.Module] = []
    in_channels = 3
    for v in parse_spec(cfg).layers:
        if isinstance(v, MaxPool):
            layers.append(nn.MaxPool2d(kernel_size=v.kernel_size, stride=v.stride))
        elif isinstance(v, LRN):
            layers.append(nn.LocalResponseNorm(v.size, alpha=v.alpha, beta=v.beta, k=v.k))
        elif isinstance(v, Conv):
            layers.append(nn.Conv2d(in_channels, v.out_channels, kernel_size=v.kernel_size, padding=v.padding))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v.out_channels))
            layers.append(nn.ReLU(inplace=True))
            in_channels = v.out_channels  # the next conv reads this conv's channels
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """torchvision's VGG: ``features`` -> ``avgpool`` -> flatten -> ``classifier``.

    ``hidden_features`` (fc6 and fc7, 4096 in the paper) and ``pooled_size`` (avgpool's side, 7) are
    keyword-only extras, so a mini VGG for small inputs is built by this same code.
    """

    def __init__(self, features: nn.Module, num_classes: int = NUM_CLASSES, init_weights: bool = True,
                 dropout: float = 0.5, *, hidden_features: int = HIDDEN_FEATURES,
                 pooled_size: int = POOLED_SIZE) -> None:
        super().__init__()
        _check_head(num_classes, dropout, hidden_features, pooled_size)
        self.weights: Any = None  # the published weights a builder loaded (a WeightsEnum member), if any
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((pooled_size, pooled_size))
        in_features = feature_channels(features) * pooled_size * pooled_size  # 512 * 7 * 7 = 25,088 for A..E
        self.classifier = nn.Sequential(
            nn.Linear(in_features, hidden_features),  # fc6
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden_features, hidden_features),  # fc7
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden_features, num_classes),  # fc8
        )
        if init_weights:
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """torchvision's scheme: Kaiming normal (fan_out) convs, N(0, 0.01) Linear, BN at 1/0, zero biases."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        return self.features(x)  # (N, C, H / 2**pools, W / 2**pools)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        self.check_can_classify()
        x = self.avgpool(x)  # (N, C, 7, 7)
        x = torch.flatten(x, 1)  # (N, C * 49)
        return self.classifier(x)  # (N, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    # Structure, read from the modules (never stored beside them, so it cannot disagree with them).
    @property
    def spec(self) -> VGGSpec:
        return spec_of(self.features)

    @property
    def batch_norm(self) -> bool:
        return any(isinstance(m, nn.BatchNorm2d) for m in self.features)

    @property
    def network(self) -> Network:
        pooled = self.avgpool.output_size
        side = pooled[0] if isinstance(pooled, tuple) else pooled
        return Network(self.spec, self.batch_norm, num_classes=self.classifier[-1].out_features,
                       hidden_features=self.classifier[0].out_features, pooled_size=int(side))

    @property
    def layer_infos(self) -> tuple[LayerInfo, ...]:
        return layer_infos(self)

    @property
    def min_input_size(self) -> int:
        """Smallest input side that survives every pool with at least one pixel (32 for A..E)."""
        return 2 ** sum(isinstance(m, nn.MaxPool2d) for m in self.features)

    def check_can_classify(self) -> None:
        """Refuse, in words, to classify with features-only weights (VGG16_Weights.IMAGENET1K_FEATURES)."""
        if self.weights is not None and not getattr(self.weights, "can_classify", True):
            raise WeightsError(f"{self.weights!r} are features-only weights: their classifier (fc6 to fc8) holds no "
                               "trained values and they have no categories, so they cannot predict classes. Use "
                               "model.features(x) for feature maps, or the IMAGENET1K_V1 weights to classify.")

    def check_input(self, x: torch.Tensor) -> None:
        """Refuse, in words, what would otherwise be a torch shape error deep inside a pool."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise InputSizeError(f"VGG takes a (N, 3, H, W) batch of RGB images; got shape {tuple(x.shape)}.")
        height, width = x.shape[-2:]
        smallest = self.min_input_size
        if height < smallest or width < smallest:
            pools = smallest.bit_length() - 1
            raise InputSizeError(f"Input {height}x{width} is too small: this network's {pools} pools "
                                 f"halve each side, so it needs at least {smallest}x{smallest}.")


def _check_head(num_classes: int, dropout: float, hidden_features: int, pooled_size: int) -> None:
    if num_classes < 1:
        raise VGGError(f"num_classes must be at least 1, got {num_classes}.")
    if not 0.0 <= dropout <= 1.0:
        raise VGGError(f"dropout is a probability in [0, 1], got {dropout}.")
    if hidden_features < 1 or pooled_size < 1:
        raise VGGError(f"hidden_features and pooled_size must be positive, got {hidden_features}, {pooled_size}.")


def feature_channels(features: nn.Module) -> int:
    """The width of the last conv in ``features``: what avgpool and fc6 receive (512 for A..E)."""
    convs = [m for m in features.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise SpecError("VGG's features have no Conv2d; build them with make_layers(cfg), e.g. make_layers([64, 'M']).")
    return convs[-1].out_channels


def spec_of(features: nn.Sequential) -> VGGSpec:
    """The spec that ``make_layers`` would turn into these modules (named when it is one of Table 1's)."""
    layers: list[LayerSpec] = []
    for index, m in enumerate(features):
        if isinstance(m, nn.Conv2d):
            layers.append(Conv(m.out_channels, kernel_size=_side(m.kernel_size)))
        elif isinstance(m, nn.MaxPool2d):
            layers.append(MaxPool(kernel_size=_side(m.kernel_size), stride=_side(m.stride)))
        elif isinstance(m, nn.LocalResponseNorm):
            layers.append(LRN(size=m.size, alpha=m.alpha, beta=m.beta, k=m.k))
        elif not isinstance(m, nn.BatchNorm2d | nn.ReLU):
            raise SpecError(f"features.{index} is a {type(m).__name__}; a VGG's features hold Conv2d, BatchNorm2d, "
                            "ReLU, LocalResponseNorm and MaxPool2d.")
    return canonical_spec(VGGSpec(tuple(layers)))


def _side(value: int | tuple[int, ...]) -> int:
    return value[0] if isinstance(value, tuple) else int(value)


_FEATURE_KINDS: tuple[tuple[type[nn.Module], LayerKind, str], ...] = (
    (nn.Conv2d, LayerKind.CONV, "conv"), (nn.BatchNorm2d, LayerKind.BN, "bn"), (nn.ReLU, LayerKind.RELU, "relu"),
    (nn.LocalResponseNorm, LayerKind.LRN, "lrn"), (nn.MaxPool2d, LayerKind.POOL, "pool"),
)
_HEAD_KINDS: tuple[tuple[type[nn.Module], LayerKind, str], ...] = (
    (nn.Linear, LayerKind.FC, "fc"), (nn.ReLU, LayerKind.RELU, "relu"), (nn.Dropout, LayerKind.DROPOUT, "drop"),
)


def layer_infos(model: VGG) -> tuple[LayerInfo, ...]:
    """Every module of features, avgpool and classifier, in forward order, with its paper name and stage."""
    features = tuple(_feature_infos(model.features))
    head_stage = max(info.stage for info in features) + 1  # 6 for A..E
    head = tuple(_head_infos(model.classifier, head_stage))
    return (*features, LayerInfo("avgpool", "avgpool", head_stage, LayerKind.AVGPOOL), *head)


def _kind(module: nn.Module, table: tuple[tuple[type[nn.Module], LayerKind, str], ...], path: str
          ) -> tuple[LayerKind, str]:
    for cls, kind, prefix in table:
        if isinstance(module, cls):
            return kind, prefix
    raise SpecError(f"{path} is a {type(module).__name__}, which is not a layer of a VGG.")


def _feature_infos(features: nn.Sequential) -> Iterator[LayerInfo]:
    """conv{stage}_{n}, bn{stage}_{n}, relu{stage}_{n}, lrn{stage}, pool{stage}: the paper's names."""
    stage, conv_in_stage = 1, 0
    for index, module in enumerate(features):
        path = f"features.{index}"
        kind, prefix = _kind(module, _FEATURE_KINDS, path)
        if kind is LayerKind.CONV:
            conv_in_stage += 1
        tag = f"{stage}_{conv_in_stage}" if kind in (LayerKind.CONV, LayerKind.BN, LayerKind.RELU) else f"{stage}"
        yield LayerInfo(path, f"{prefix}{tag}", stage, kind)
        if kind is LayerKind.POOL:
            stage, conv_in_stage = stage + 1, 0


def _head_infos(classifier: nn.Sequential, stage: int) -> Iterator[LayerInfo]:
    """fc6 relu6 drop6 fc7 relu7 drop7 fc8: a ReLU or dropout takes the number of the fc before it."""
    fc_number = 5
    for index, module in enumerate(classifier):
        path = f"classifier.{index}"
        kind, prefix = _kind(module, _HEAD_KINDS, path)
        fc_number += kind is LayerKind.FC
        yield LayerInfo(path, f"{prefix}{fc_number}", stage, kind)
