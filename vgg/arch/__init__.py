"""The architecture, as torchvision writes it: ``cfgs``, ``make_layers``, ``VGG``, ``_vgg`` and the eight
builders, the weights enums and checkpoint loading; the paper's typed specs and six configurations;
``Network``, the one value for "which network"; the layer kinds; the published facts and class names."""

from vgg.arch.builders import (
    BUILDERS,
    _vgg,
    build,
    network_module,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)
from vgg.arch.classes import imagenet_classes
from vgg.arch.configs import CONFIG_TITLES, CONFIGS, VARIANTS, cfgs, find_named_config, resolve_config
from vgg.arch.download import load_state_dict_with_progress
from vgg.arch.kinds import KIND_GROUP, LayerGroup, LayerKind, kind_group
from vgg.arch.model import VGG, LayerInfo, layer_infos, make_layers, spec_of
from vgg.arch.network import (
    HIDDEN_FEATURES,
    NUM_CLASSES,
    POOLED_SIZE,
    ConfigLike,
    Network,
    NetworkLike,
    canonical_spec,
    variant_name,
)
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
    Weights,
    WeightsEnum,
)
from vgg.arch.published import (
    CROP_SIZE,
    IMAGENET_MEAN,
    IMAGENET_STD,
    MIN_INPUT_SIZE,
    PAPER_PARAMS_MILLIONS,
    PAPER_TABLE1_WEIGHT_LAYERS,
    PUBLISHED,
    RESIZE_SIZE,
    PublishedVariant,
)
from vgg.arch.spec import LRN, MAX_LAYERS, MAX_SPEC_CHARS, MAX_WIDTH, Conv, LayerSpec, MaxPool, VGGSpec, parse_spec
from vgg.arch.transforms import ImageClassification
from vgg.arch.weights import StateDict, check_state_dict, identify_checkpoint, load_into, load_state_dict

__all__ = [  # noqa: RUF022 - grouped by topic, not sorted
    # torchvision's names
    "cfgs", "make_layers", "VGG", "_vgg", "BUILDERS",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "Weights", "WeightsEnum", "WEIGHTS_OF", "ImageClassification",
    "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights", "VGG13_BN_Weights",
    "VGG16_Weights", "VGG16_BN_Weights", "VGG19_Weights", "VGG19_BN_Weights",
    # which network
    "Network", "NetworkLike", "ConfigLike", "build", "network_module", "NUM_CLASSES", "HIDDEN_FEATURES",
    "POOLED_SIZE",
    # the paper's specs and configurations
    "CONFIGS", "CONFIG_TITLES", "VARIANTS", "LRN", "Conv", "LayerSpec", "MaxPool", "VGGSpec", "MAX_LAYERS",
    "MAX_WIDTH", "MAX_SPEC_CHARS", "parse_spec", "resolve_config", "find_named_config", "variant_name", "spec_of",
    "canonical_spec",
    # structure
    "LayerInfo", "LayerKind", "LayerGroup", "KIND_GROUP", "kind_group", "layer_infos",
    # checkpoints
    "StateDict", "check_state_dict", "identify_checkpoint", "load_into", "load_state_dict",
    "load_state_dict_with_progress",
    # published facts
    "PUBLISHED", "PublishedVariant", "PAPER_PARAMS_MILLIONS", "PAPER_TABLE1_WEIGHT_LAYERS", "CROP_SIZE",
    "RESIZE_SIZE", "IMAGENET_MEAN", "IMAGENET_STD", "MIN_INPUT_SIZE", "imagenet_classes",
]
