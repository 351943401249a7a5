"""Architecture analysis on the meta device: per-layer and total numbers of a network (shapes, params,
MACs, memory, receptive fields), two networks compared, the diagram, torchinfo's view, and the
resource guards that refuse a network too large before it is built.

``analyze`` returns a frozen ``Report``; ``Report.to_dict()`` is the JSON of ``summary --json``,
``Report.to_frame()`` the layer table, ``Report.stage_frame()`` the stage table.
"""

from vgg.analysis.compare import AlignedLayer, Comparison, Delta, StageDiff, compare
from vgg.analysis.diagram import GROUP_COLOUR, GROUP_FILL, HIGHLIGHT_FILL, LAYOUTS, diagram, diagram_svg
from vgg.analysis.engine import analyze, clear_caches, stage_summaries
from vgg.analysis.guards import (
    ACTIVATION_ENV,
    DEFAULT_MAX_ACTIVATION_MB,
    DEFAULT_MAX_WEIGHT_MB,
    WEIGHT_ENV,
    ResourceLimits,
    check_resources,
    resource_limits,
)
from vgg.analysis.memory import ASSUMPTIONS
from vgg.analysis.receptive import InputBox, receptive_box, stacked_conv_equivalence
from vgg.analysis.report import LayerRow, Report, StageSummary, Totals, TrainingMemory
from vgg.analysis.torchinfo_view import torchinfo_summary, torchinfo_table
from vgg.analysis.trace import check_input_size, meta_model
from vgg.analysis.units import ALIGNED_KINDS, LEADING_KINDS, Unit, group_units
from vgg.errors import GraphvizNotInstalledError
from vgg.format import format_shape

__all__ = [  # noqa: RUF022 - grouped by topic, not sorted
    "analyze", "clear_caches", "stage_summaries", "check_input_size", "meta_model", "ASSUMPTIONS",
    "LayerRow", "Report", "StageSummary", "Totals", "TrainingMemory", "format_shape",
    "Unit", "group_units", "ALIGNED_KINDS", "LEADING_KINDS",
    "compare", "Comparison", "Delta", "StageDiff", "AlignedLayer",
    "diagram", "diagram_svg", "GraphvizNotInstalledError", "HIGHLIGHT_FILL", "GROUP_COLOUR", "GROUP_FILL", "LAYOUTS",
    "torchinfo_summary", "torchinfo_table",
    "check_resources", "resource_limits", "ResourceLimits", "WEIGHT_ENV", "ACTIVATION_ENV",
    "DEFAULT_MAX_WEIGHT_MB", "DEFAULT_MAX_ACTIVATION_MB",
    "InputBox", "receptive_box", "stacked_conv_equivalence",
]
