"""The VGG module: torchvision's layout (so its checkpoints load with strict=True), plus the
structural metadata (paper names, stages) recorded while the layers are built."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vgg.errors import InputSizeError
from vgg.spec import LRN, Conv, MaxPool, VGGSpec

POOLED_SIZE = (7, 7)  # AdaptiveAvgPool2d target: fc6 always sees C x 7 x 7, whatever the input size
HIDDEN_FEATURES = 4096


@dataclass(frozen=True)
class LayerInfo:
    """Where a module sits: its torchvision path, the paper's name for it, and its stage (1-based).

    The stage after the last feature stage (6 for A..E) holds avgpool and the classifier, the head;
    a custom spec that does not end with a pool has its trailing layers in a feature stage of their own.
    """

    path: str
    paper_name: str
    stage: int
    kind: str  # "conv", "bn", "relu", "lrn", "pool", "avgpool", "flatten", "fc", "dropout"


def make_features(spec: VGGSpec, batch_norm: bool) -> tuple[nn.Sequential, list[LayerInfo]]:
    """Build ``features`` as torchvision does (conv [bn] relu ... pool), naming each module on the way."""
    modules: list[nn.Module] = []
    infos: list[LayerInfo] = []
    in_channels, stage, conv_in_stage = 3, 1, 0

    def add(module: nn.Module, paper_name: str, kind: str) -> None:
        infos.append(LayerInfo(f"features.{len(modules)}", paper_name, stage, kind))
        modules.append(module)

    for layer in spec.layers:
        if isinstance(layer, Conv):
            conv_in_stage += 1
            tag = f"{stage}_{conv_in_stage}"
            add(nn.Conv2d(in_channels, layer.out_channels, layer.kernel_size, padding=layer.padding), f"conv{tag}",
                "conv")
            if batch_norm:
                add(nn.BatchNorm2d(layer.out_channels), f"bn{tag}", "bn")
            add(nn.ReLU(inplace=True), f"relu{tag}", "relu")
            in_channels = layer.out_channels
        elif isinstance(layer, LRN):
            add(nn.LocalResponseNorm(layer.size, alpha=layer.alpha, beta=layer.beta, k=layer.k), f"lrn{stage}", "lrn")
        elif isinstance(layer, MaxPool):
            add(nn.MaxPool2d(layer.kernel_size, stride=layer.stride), f"pool{stage}", "pool")
            stage, conv_in_stage = stage + 1, 0
    return nn.Sequential(*modules), infos


def make_classifier(in_features: int, num_classes: int, dropout: float,
                    stage: int) -> tuple[nn.Sequential, list[LayerInfo]]:
    """fc6 -> relu -> dropout -> fc7 -> relu -> dropout -> fc8, torchvision's indices 0..6."""
    layers = [
        (nn.Linear(in_features, HIDDEN_FEATURES), "fc6", "fc"), (nn.ReLU(True), "relu6", "relu"),
        (nn.Dropout(p=dropout), "drop6", "dropout"),
        (nn.Linear(HIDDEN_FEATURES, HIDDEN_FEATURES), "fc7", "fc"), (nn.ReLU(True), "relu7", "relu"),
        (nn.Dropout(p=dropout), "drop7", "dropout"),
        (nn.Linear(HIDDEN_FEATURES, num_classes), "fc8", "fc"),
    ]
    infos = [LayerInfo(f"classifier.{i}", name, stage, kind) for i, (_, name, kind) in enumerate(layers)]
    return nn.Sequential(*(module for module, _, _ in layers)), infos


class VGG(nn.Module):
    """features -> avgpool -> flatten -> classifier, with torchvision's module names.

    ``layer_infos`` maps every module path of features, avgpool and classifier to its paper name
    and stage; analysis and the app read it instead of re-deriving structure from modules.
    """

    def __init__(self, spec: VGGSpec, *, batch_norm: bool = False, num_classes: int = 1000,
                 init_weights: bool = True, dropout: float = 0.5) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}.")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout is a probability in [0, 1], got {dropout}.")
        self.spec = spec
        self.batch_norm = batch_norm
        self.features, feature_infos = make_features(spec, batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d(POOLED_SIZE)
        in_features = spec.out_channels * POOLED_SIZE[0] * POOLED_SIZE[1]  # 512 * 49 = 25088 for A..E
        head_stage = max(info.stage for info in feature_infos) + 1  # 6 for A..E
        self.classifier, head_infos = make_classifier(in_features, num_classes, dropout, head_stage)
        avgpool_info = LayerInfo("avgpool", "avgpool", head_stage, "avgpool")
        self.layer_infos: tuple[LayerInfo, ...] = tuple(feature_infos) + (avgpool_info,) + tuple(head_infos)
        if init_weights:
            self.reset_parameters()

    @property
    def min_input_size(self) -> int:
        return self.spec.min_input_size

    def reset_parameters(self) -> None:
        """torchvision's scheme: Kaiming normal (fan_out) convs, N(0, 0.01) Linear, BN at 1/0, zero biases."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.constant_(module.bias, 0)

    def check_input(self, x: torch.Tensor) -> None:
        """Refuse, in words, what would otherwise be a torch shape error deep inside a pool."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise InputSizeError(f"VGG takes a (N, 3, H, W) batch of RGB images; got shape {tuple(x.shape)}.")
        height, width = x.shape[-2:]
        smallest = self.min_input_size
        if height < smallest or width < smallest:
            raise InputSizeError(f"Input {height}x{width} is too small: this network's {self.spec.num_pools} pools "
                                 f"halve each side, so it needs at least {smallest}x{smallest}.")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        return self.features(x)  # (N, C, H / 2**pools, W / 2**pools)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(x)  # (N, C, 7, 7)
        x = torch.flatten(x, 1)  # (N, C * 49)
        return self.classifier(x)  # (N, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
