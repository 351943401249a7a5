"""Images in, feature maps and predictions out: loading photos safely, torchvision's preprocessing,
devices, the forward pass that keeps every layer's output, feature-map grids and statistics, and the
bundled sample photos."""

from vgg.vision.devices import (
    DEVICE_CHOICES,
    LayerClock,
    available_devices,
    clock_for,
    cpu_has_native_bf16,
    cpu_model,
    select_device,
    synchronize,
)
from vgg.vision.featuremaps import (
    PADDING_VALUE,
    ChannelStats,
    FeatureGrid,
    LayerStats,
    channel_stats,
    feature_grid,
    layer_stats,
)
from vgg.vision.images import DEFAULT_MAX_PIXELS, SUPPORTED_FORMATS, load_image, to_rgb
from vgg.vision.inference import (
    OFFLOAD_NOTE,
    RANDOM_WEIGHTS_NOTICE,
    ForwardResult,
    Prediction,
    Predictions,
    forward_with_features,
    prepare,
    top_k,
)
from vgg.vision.precision import (
    PRECISIONS,
    AccuracyCost,
    PrecisionError,
    accuracy_cost,
    check_precision,
    native_precisions,
    precision_of,
)
from vgg.vision.preprocess import MAX_SIZE, MODES, Mode, PreprocessSteps, preprocess, preprocess_steps, to_display_image
from vgg.vision.samples import load_sample, sample_credits, sample_images

__all__ = [  # noqa: RUF022 - grouped by topic, not sorted
    "load_image", "to_rgb", "DEFAULT_MAX_PIXELS", "SUPPORTED_FORMATS",
    "preprocess", "preprocess_steps", "to_display_image", "PreprocessSteps", "Mode", "MODES", "MAX_SIZE",
    "select_device", "available_devices", "cpu_model", "cpu_has_native_bf16", "synchronize", "clock_for",
    "LayerClock", "DEVICE_CHOICES",
    "prepare", "forward_with_features", "top_k", "ForwardResult", "Prediction", "Predictions",
    "RANDOM_WEIGHTS_NOTICE", "OFFLOAD_NOTE",
    "feature_grid", "channel_stats", "layer_stats", "FeatureGrid", "ChannelStats", "LayerStats", "PADDING_VALUE",
    "load_sample", "sample_credits", "sample_images",
    "PRECISIONS", "AccuracyCost", "PrecisionError", "accuracy_cost", "check_precision", "native_precisions",
    "precision_of",
]
