"""torchinfo's familiar summary table, for readers who know it, of the same meta model ``analyze`` reads.

torchinfo runs the model on the meta device (no weight memory) but registers hooks, so it gets a
fresh meta model of its own, never the analysis cache's shared one. Its "Mult-Adds" include biases
and BN, so they read slightly above ``analyze``'s MACs (torchvision's convention).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from vgg.analysis.trace import check_input_size
from vgg.arch import NetworkLike, build

if TYPE_CHECKING:  # torchinfo is imported on use, so `import vgg` does not pay for it
    import torchinfo

COLUMNS = ("input_size", "output_size", "num_params", "mult_adds")
COLUMN_WIDTH = 20  # torchinfo's default of 25 makes a 140-character line


def torchinfo_summary(config: NetworkLike, *, batch_norm: bool | None = None, input_size: tuple[int, int] = (224, 224),
                      batch_size: int = 1) -> torchinfo.ModelStatistics:
    """torchinfo's statistics object (per-layer ``summary_list``, totals) of a meta model."""
    import torchinfo

    height, width = check_input_size(tuple(input_size), batch_size)
    model = build(config, batch_norm=batch_norm, device="meta").eval()
    model.check_input(torch.empty(batch_size, 3, height, width, device="meta"))  # torchinfo would bury this error
    return torchinfo.summary(model, input_size=(batch_size, 3, height, width), device="meta", verbose=0,
                             col_names=COLUMNS, col_width=COLUMN_WIDTH, row_settings=("var_names",), mode="eval")


def torchinfo_table(config: NetworkLike, *, batch_norm: bool | None = None, input_size: tuple[int, int] = (224, 224),
                    batch_size: int = 1) -> str:
    """The summary as text, exactly as ``print(torchinfo.summary(...))`` shows it."""
    return str(torchinfo_summary(config, batch_norm=batch_norm, input_size=input_size, batch_size=batch_size))
