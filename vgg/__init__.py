"""VGG Explorer's library: the VGG family as in torchvision and the paper, its analysis, image
inference and weight loading. Pure Python and torch; never imports streamlit.

By concern: ``vgg.arch`` (cfgs, make_layers, VGG, builders, weights), ``vgg.analysis`` (numbers on the
meta device, comparison, diagram, guards), ``vgg.vision`` (images, preprocessing, the forward pass),
``vgg.teaching`` (lesson steps, source listings, the paper's tables), ``vgg.perf`` (measurements) and
``vgg.explain`` (attribution, dense evaluation, feature visualisation), ``vgg.cli`` (``python -m vgg``).
The names most code needs are re-exported here.
"""

from vgg import (
    explain,  # the package, callable as vgg.explain(model, x, method)
    format,
)
from vgg.analysis import (
    Comparison,
    LayerRow,
    Report,
    ResourceLimits,
    StageSummary,
    Totals,
    TrainingMemory,
    analyze,
    check_resources,
    compare,
    diagram,
    diagram_svg,
    resource_limits,
    torchinfo_table,
)
from vgg.arch import (
    CONFIGS,
    KIND_GROUP,
    LRN,
    PUBLISHED,
    VARIANTS,
    VGG,
    Conv,
    LayerGroup,
    LayerInfo,
    LayerKind,
    MaxPool,
    Network,
    PublishedVariant,
    VGG11_BN_Weights,
    VGG11_Weights,
    VGG13_BN_Weights,
    VGG13_Weights,
    VGG16_BN_Weights,
    VGG16_Weights,
    VGG19_BN_Weights,
    VGG19_Weights,
    VGGSpec,
    Weights,
    WeightsEnum,
    _vgg,
    build,
    cfgs,
    check_state_dict,
    imagenet_classes,
    layer_infos,
    load_into,
    load_state_dict,
    make_layers,
    parse_spec,
    resolve_config,
    variant_name,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)
from vgg.errors import (
    DeviceError,
    GraphvizNotInstalledError,
    ImageError,
    InputSizeError,
    ResourceError,
    SpecError,
    VGGError,
    WeightsError,
)
from vgg.explain import dense_scores, effective_receptive_field, visualize_channel
from vgg.vision import (
    PRECISIONS,
    RANDOM_WEIGHTS_NOTICE,
    AccuracyCost,
    ChannelStats,
    FeatureGrid,
    ForwardResult,
    LayerStats,
    PrecisionError,
    Prediction,
    Predictions,
    PreprocessSteps,
    accuracy_cost,
    available_devices,
    channel_stats,
    check_precision,
    feature_grid,
    forward_with_features,
    layer_stats,
    load_image,
    load_sample,
    native_precisions,
    prepare,
    preprocess,
    preprocess_steps,
    sample_credits,
    sample_images,
    select_device,
    to_display_image,
    top_k,
)

__all__ = [  # noqa: RUF022 - grouped by topic, not sorted
    # torchvision's names
    "cfgs", "make_layers", "VGG", "_vgg",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "Weights", "WeightsEnum", "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights", "VGG13_BN_Weights",
    "VGG16_Weights", "VGG16_BN_Weights", "VGG19_Weights", "VGG19_BN_Weights",
    # which network, and the paper's configurations
    "Network", "build", "CONFIGS", "VARIANTS", "LRN", "Conv", "MaxPool", "VGGSpec", "parse_spec",
    "resolve_config", "variant_name", "LayerInfo", "LayerKind", "LayerGroup", "KIND_GROUP", "layer_infos",
    "PUBLISHED", "PublishedVariant",
    # weights
    "check_state_dict", "imagenet_classes", "load_into", "load_state_dict",
    # errors: every one a VGGError, itself a ValueError, with a message that says what to do
    "VGGError", "DeviceError", "ImageError", "InputSizeError", "ResourceError", "SpecError", "WeightsError",
    "GraphvizNotInstalledError",
    # analysis on the meta device
    "Comparison", "LayerRow", "Report", "StageSummary", "Totals", "TrainingMemory",
    "analyze", "compare", "diagram", "diagram_svg", "torchinfo_table",
    "ResourceLimits", "check_resources", "resource_limits",
    # inference
    "RANDOM_WEIGHTS_NOTICE", "ChannelStats", "FeatureGrid", "ForwardResult", "LayerStats", "Prediction",
    "Predictions", "PreprocessSteps", "available_devices", "channel_stats", "feature_grid", "forward_with_features",
    "layer_stats", "load_image", "load_sample", "prepare", "preprocess", "preprocess_steps", "sample_credits",
    "sample_images", "select_device", "to_display_image", "top_k",
    # precision where the hardware has it
    "PRECISIONS", "AccuracyCost", "PrecisionError", "accuracy_cost", "check_precision", "native_precisions",
    # where the network looks and what its units want (vgg.explain)
    "dense_scores", "effective_receptive_field", "explain", "visualize_channel",
    # numbers for people
    "format",
]
