"""Feature maps for people to look at: a grid image of a layer's most active channels, and statistics
per channel and per layer. Everything is tensor ops over all channels at once (no Python loop over
channels), on whatever device the feature map is on; only the finished uint8 grid comes back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from vgg.errors import VGGError

if TYPE_CHECKING:
    import pandas as pd

PADDING_VALUE = 255  # white lines between tiles (and empty cells): visible against mostly dark maps


@dataclass(frozen=True)
class FeatureGrid:
    """Channels laid out row by row, each scaled to its own min..max (black..white)."""

    image: np.ndarray  # (rows * (H + padding) - padding, columns * (W + padding) - padding), uint8 greyscale
    channels: tuple[int, ...]  # the channel in each tile, row by row
    rows: int
    columns: int
    tile_shape: tuple[int, int]  # (H, W) of one channel's map
    padding: int

    def tile_origin(self, position: int) -> tuple[int, int]:
        """(top, left) pixel of the ``position``-th tile, for labelling it."""
        row, column = divmod(position, self.columns)
        height, width = self.tile_shape
        return row * (height + self.padding), column * (width + self.padding)


def feature_grid(tensor: torch.Tensor, *, n: int = 16, channels: Sequence[int] | None = None,
                 columns: int | None = None, padding: int = 1) -> FeatureGrid:
    """The ``n`` channels with the highest mean activation (or ``channels``, in that order) of a
    (C, H, W) or (1, C, H, W) feature map, tiled into a near-square grid (or ``columns`` wide)."""
    maps = _as_maps(tensor)  # (C, H, W)
    chosen = _choose(maps, n, channels)  # (k,)
    tiles = _scale_each_to_uint8(maps[chosen])  # (k, H, W)
    count, height, width = tiles.shape
    columns = columns if columns is not None else math.ceil(math.sqrt(count))
    if columns < 1 or padding < 0:
        raise VGGError(f"columns must be at least 1 and padding at least 0; got {columns} and {padding}.")
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    cells = torch.full((rows * columns, height + padding, width + padding), PADDING_VALUE, dtype=torch.uint8,
                       device=tiles.device)
    cells[:count, :height, :width] = tiles
    # (rows, columns, H + p, W + p) -> (rows, H + p, columns, W + p): tiles side by side, then stacked.
    grid = cells.view(rows, columns, height + padding, width + padding).permute(0, 2, 1, 3)
    grid = grid.reshape(rows * (height + padding), columns * (width + padding))
    grid = grid[: grid.shape[0] - padding, : grid.shape[1] - padding]  # no padding after the last row/column
    return FeatureGrid(grid.contiguous().cpu().numpy(), tuple(chosen.tolist()), rows, columns, (height, width),
                       padding)


def _as_maps(tensor: torch.Tensor) -> torch.Tensor:
    if tensor.dim() == 4 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tensor.dim() != 3:
        raise VGGError(f"A feature grid needs one image's convolutional map, (C, H, W) or (1, C, H, W); got shape "
                         f"{tuple(tensor.shape)} (fully connected layers have no spatial map).")
    return tensor.detach()


def _choose(maps: torch.Tensor, n: int, channels: Sequence[int] | None) -> torch.Tensor:
    total = maps.shape[0]
    if channels is not None:
        chosen = [int(c) for c in channels]
        if not chosen or any(not 0 <= c < total for c in chosen):
            raise VGGError(f"channels must be a non-empty list of indices in 0..{total - 1}; got {list(channels)}.")
        return torch.tensor(chosen, dtype=torch.long, device=maps.device)
    if n < 1:
        raise VGGError(f"n must be at least 1, got {n}.")
    return maps.float().mean(dim=(1, 2)).topk(min(n, total)).indices  # most active first


def _scale_each_to_uint8(maps: torch.Tensor) -> torch.Tensor:
    """Each channel to 0..255 by its own min and max; a constant channel (a dead ReLU) is black."""
    flat = maps.float().flatten(1)  # (k, H * W)
    low = flat.amin(dim=1, keepdim=True)
    spread = flat.amax(dim=1, keepdim=True) - low
    scale = torch.where(spread > 0, 255.0 / spread, torch.zeros_like(spread))
    return ((flat - low) * scale).round_().to(torch.uint8).view(maps.shape)


@dataclass(frozen=True)
class ChannelStats:
    """Per channel (or per unit of a fully connected layer) of one image's output."""

    mean: np.ndarray  # (C,) float64
    max: np.ndarray  # (C,)
    zero_fraction: np.ndarray  # (C,) the fraction of positions at exactly 0, ReLU's sparsity

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd  # local: the library's core does not need pandas

        return pd.DataFrame({"channel": np.arange(len(self.mean)), "mean": self.mean, "max": self.max,
                             "zero_fraction": self.zero_fraction})


def channel_stats(tensor: torch.Tensor) -> ChannelStats:
    """Statistics per channel of (C, H, W), (1, C, H, W), or a fully connected (1, F) output."""
    if tensor.dim() == 2 and tensor.shape[0] == 1:
        tensor = tensor[0].view(-1, 1, 1)  # F units, each a 1x1 "map"
    maps = _as_maps(tensor).float().flatten(1)  # (C, H * W)
    columns = torch.stack([maps.mean(dim=1), maps.amax(dim=1), (maps == 0).float().mean(dim=1)])  # (3, C)
    mean, high, zeros = columns.to("cpu", torch.float64).numpy()
    return ChannelStats(mean, high, zeros)


@dataclass(frozen=True)
class LayerStats:
    """One layer's output, summarised. ``pandas.DataFrame(layer_stats(...))`` makes a table of them."""

    path: str  # module path, "features.29"
    shape: tuple[int, ...]
    mean: float
    max: float
    sparsity: float  # the fraction of elements at exactly 0
    elements: int


def layer_stats(features: Mapping[str, torch.Tensor]) -> tuple[LayerStats, ...]:
    """Mean, max, sparsity and size of every captured output (``ForwardResult.features``), in order."""
    if not features:
        return ()
    rows = torch.stack([torch.stack([t.float().mean(), t.float().amax(), 1.0 - t.count_nonzero() / t.numel()])
                        for t in features.values()])  # (layers, 3), one transfer from the device below
    summary = rows.to("cpu", torch.float64).tolist()
    return tuple(LayerStats(path, tuple(t.shape), mean, high, sparsity, t.numel())
                 for (path, t), (mean, high, sparsity) in zip(features.items(), summary, strict=True))
