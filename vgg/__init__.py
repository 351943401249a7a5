"""VGG Explorer's library: the VGG family as in torchvision and the paper, and its analysis.

Pure Python and torch; never imports streamlit.
"""

from vgg.builders import build, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn
from vgg.classes import imagenet_classes
from vgg.configs import CONFIGS, VARIANTS, resolve_config, variant_name
from vgg.errors import ImageError, InputSizeError, SpecError, WeightsError
from vgg.model import VGG, LayerInfo
from vgg.published import PUBLISHED, PublishedVariant
from vgg.spec import LRN, Conv, MaxPool, VGGSpec, parse_spec
from vgg.weights import check_state_dict, load_into, load_state_dict

__all__ = [
    "CONFIGS", "LRN", "PUBLISHED", "VARIANTS", "VGG", "Conv", "ImageError", "InputSizeError", "LayerInfo",
    "MaxPool", "PublishedVariant", "SpecError", "VGGSpec", "WeightsError", "build", "check_state_dict",
    "imagenet_classes", "load_into", "load_state_dict", "parse_spec", "resolve_config", "variant_name",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
]

# Inference (images in, feature maps and predictions out); appended after the core so it stays separate.
from vgg.devices import available_devices, select_device
from vgg.errors import DeviceError
from vgg.featuremaps import ChannelStats, FeatureGrid, LayerStats, channel_stats, feature_grid, layer_stats
from vgg.images import load_image
from vgg.inference import (
    RANDOM_WEIGHTS_NOTICE,
    ForwardResult,
    Prediction,
    Predictions,
    forward_with_features,
    prepare,
    top_k,
)
from vgg.preprocess import PreprocessSteps, preprocess, preprocess_steps, to_display_image
from vgg.samples import load_sample, sample_credits, sample_images

__all__ += [
    "RANDOM_WEIGHTS_NOTICE", "ChannelStats", "DeviceError", "FeatureGrid", "ForwardResult", "LayerStats", "Prediction",
    "Predictions", "PreprocessSteps", "available_devices", "channel_stats", "feature_grid", "forward_with_features",
    "layer_stats", "load_image", "load_sample", "prepare", "preprocess", "preprocess_steps", "sample_credits",
    "sample_images", "select_device", "to_display_image", "top_k",
]

# Architecture analysis (numbers per layer and in total, comparison, diagram), all on the meta device;
# appended below the other sections, hence the noqa.
from vgg.analysis import LayerRow, Report, StageSummary, Totals, TrainingMemory, analyze  # noqa: E402
from vgg.compare import Comparison, compare  # noqa: E402
from vgg.diagram import GraphvizNotInstalledError, diagram, diagram_svg  # noqa: E402
from vgg.torchinfo_view import torchinfo_table  # noqa: E402

__all__ += [
    "Comparison", "GraphvizNotInstalledError", "LayerRow", "Report", "StageSummary", "Totals", "TrainingMemory",
    "analyze", "compare", "diagram", "diagram_svg", "torchinfo_table",
]

# Resource guards: refuse what would not fit before allocating it.
from vgg.errors import ResourceError  # noqa: E402
from vgg.guards import ResourceLimits, check_resources, resource_limits  # noqa: E402

__all__ += ["ResourceError", "ResourceLimits", "check_resources", "resource_limits"]
