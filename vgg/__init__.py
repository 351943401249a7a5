"""VGG Explorer's library: the VGG family as in torchvision and the paper, its analysis, image
inference and weight loading. Pure Python and torch; never imports streamlit.

Measurements (per-layer timing, throughput sweeps, matmul probes) live in ``vgg.perf``.
"""

from vgg import explain  # the package, callable as vgg.explain(model, x, method)
from vgg.analysis import LayerRow, Report, StageSummary, Totals, TrainingMemory, analyze
from vgg.builders import build, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn
from vgg.classes import imagenet_classes
from vgg.compare import Comparison, compare
from vgg.configs import CONFIGS, VARIANTS, resolve_config, variant_name
from vgg.devices import available_devices, select_device
from vgg.diagram import GraphvizNotInstalledError, diagram, diagram_svg
from vgg.errors import DeviceError, ImageError, InputSizeError, ResourceError, SpecError, WeightsError
from vgg.explain import dense_scores, effective_receptive_field, visualize_channel
from vgg.featuremaps import ChannelStats, FeatureGrid, LayerStats, channel_stats, feature_grid, layer_stats
from vgg.guards import ResourceLimits, check_resources, resource_limits
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
from vgg.model import VGG, LayerInfo
from vgg.preprocess import PreprocessSteps, preprocess, preprocess_steps, to_display_image
from vgg.published import PUBLISHED, PublishedVariant
from vgg.samples import load_sample, sample_credits, sample_images
from vgg.spec import LRN, Conv, MaxPool, VGGSpec, parse_spec
from vgg.torchinfo_view import torchinfo_table
from vgg.weights import check_state_dict, load_into, load_state_dict

__all__ = [  # noqa: RUF022 - grouped by topic, not sorted
    # the model family
    "CONFIGS", "LRN", "PUBLISHED", "VARIANTS", "VGG", "Conv", "LayerInfo", "MaxPool", "PublishedVariant",
    "VGGSpec", "build", "parse_spec", "resolve_config", "variant_name",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    # weights
    "check_state_dict", "imagenet_classes", "load_into", "load_state_dict",
    # errors (all ValueErrors with a message that says what to do)
    "DeviceError", "ImageError", "InputSizeError", "ResourceError", "SpecError", "WeightsError",
    # analysis on the meta device
    "Comparison", "GraphvizNotInstalledError", "LayerRow", "Report", "StageSummary", "Totals", "TrainingMemory",
    "analyze", "compare", "diagram", "diagram_svg", "torchinfo_table",
    "ResourceLimits", "check_resources", "resource_limits",
    # inference
    "RANDOM_WEIGHTS_NOTICE", "ChannelStats", "FeatureGrid", "ForwardResult", "LayerStats", "Prediction",
    "Predictions", "PreprocessSteps", "available_devices", "channel_stats", "feature_grid", "forward_with_features",
    "layer_stats", "load_image", "load_sample", "prepare", "preprocess", "preprocess_steps", "sample_credits",
    "sample_images", "select_device", "to_display_image", "top_k",
    # where the network looks and what its units want (vgg.explain)
    "dense_scores", "effective_receptive_field", "explain", "visualize_channel",
]
