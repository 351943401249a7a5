"""Where VGG looks and what its units want: attribution maps (Grad-CAM, guided backprop, guided
Grad-CAM, saliency, occlusion), the paper's dense evaluation, feature visualisation and effective
receptive fields. Every function runs a shared model without hooks, without switching train/eval,
and safely with in-place ReLUs (see ``vgg.explain.layers``); none writes to the model.
"""

import sys
import types
from typing import Any

from vgg.explain.attribution import LAYER_METHODS, METHOD_TITLES, METHODS, RANDOM_WEIGHTS_EXPLAINED, explain
from vgg.explain.dense import (
    PAPER_SCALES,
    MultiScale,
    ScaleScores,
    dense_scores,
    multiscale_pixel_scores,
    multiscale_scores,
)
from vgg.explain.featurevis import ChannelVisualization, channel_activation, first_conv_filters, visualize_channel
from vgg.explain.images import (
    colorize,
    enlarged,
    has_peak,
    inside,
    mark_box_and_peak,
    overlay,
    peak_of,
    resize_smallest_side,
)
from vgg.explain.layers import ExplainError, Layer, named_layers, resolve_layer
from vgg.explain.pointing import SHAPES_LAYERS, SHAPES_RECIPE, PointingGame, play_on_test_split, pointing_game
from vgg.explain.receptive import (
    MASS_SHARE,
    EffectiveField,
    TheoreticalField,
    effective_receptive_field,
    theoretical_field,
)
from vgg.explain.result import Explanation

__all__ = [  # noqa: RUF022 - grouped by topic
    # attribution
    "LAYER_METHODS", "METHODS", "METHOD_TITLES", "RANDOM_WEIGHTS_EXPLAINED", "Explanation", "explain",
    # dense evaluation
    "PAPER_SCALES", "MultiScale", "ScaleScores", "dense_scores", "multiscale_pixel_scores", "multiscale_scores",
    # what units want, and what they see
    "MASS_SHARE", "ChannelVisualization", "EffectiveField", "TheoreticalField", "channel_activation",
    "effective_receptive_field", "first_conv_filters", "theoretical_field", "visualize_channel",
    # an honest check: the pointing game
    "PointingGame", "pointing_game", "play_on_test_split", "SHAPES_RECIPE", "SHAPES_LAYERS",
    # pictures and layers
    "ExplainError", "Layer", "colorize", "enlarged", "has_peak", "inside", "mark_box_and_peak", "named_layers",
    "overlay", "peak_of", "resize_smallest_side", "resolve_layer",
]


class _CallableModule(types.ModuleType):
    """The package is also the function: ``vgg.explain(model, x, "gradcam")`` calls ``explain``, while
    ``vgg.explain.dense_scores`` and ``import vgg.explain`` keep working (a plain re-export of the
    function under the package's own name would hide the package)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Explanation:
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
