"""Architecture analysis: per-layer and total numbers of a VGG, computed on the meta device.

``analyze`` returns a frozen ``Report``; ``Report.to_dict()`` is the JSON of ``summary --json``,
``Report.to_frame()`` the layer table, ``Report.stage_frame()`` the stage table.
"""

from vgg.analysis.engine import analyze, clear_caches
from vgg.analysis.memory import ASSUMPTIONS
from vgg.analysis.report import LayerRow, Report, StageSummary, Totals, TrainingMemory, format_shape
from vgg.analysis.units import Unit, group_units

__all__ = [
    "ASSUMPTIONS", "LayerRow", "Report", "StageSummary", "Totals", "TrainingMemory", "Unit", "analyze",
    "clear_caches", "format_shape", "group_units",
]
