"""Feature-map grids and statistics, checked against per-channel loops written here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import vgg
from vgg.vision.featuremaps import PADDING_VALUE


def maps_with_known_means(channels: int = 10, size: int = 6) -> torch.Tensor:
    """(C, H, W): channel c is a ramp plus 10 * ((c * 7) % C), so the ranking by mean is known."""
    ramp = torch.linspace(0, 1, size * size).view(size, size)
    offsets = torch.tensor([float((c * 7) % channels) for c in range(channels)]) * 10
    return ramp.expand(channels, size, size) * (torch.arange(channels).view(-1, 1, 1) + 1) + offsets.view(-1, 1, 1)


def scaled_reference(channel: torch.Tensor) -> np.ndarray:
    """One channel to 0..255 by its own min and max, with a plain loop's clarity."""
    values = channel.double().numpy()
    low, high = values.min(), values.max()
    return np.zeros(values.shape, np.uint8) if high == low else np.rint((values - low) / (high - low) * 255).astype(
        np.uint8)


def test_grid_of_a_conv1_sized_map_has_the_expected_shape_and_type():
    grid = vgg.feature_grid(torch.rand(1, 64, 224, 224), n=16)
    assert grid.image.dtype == np.uint8 and grid.image.shape == (4 * 225 - 1, 4 * 225 - 1)
    assert (grid.rows, grid.columns, grid.tile_shape, grid.padding) == (4, 4, (224, 224), 1)
    assert len(grid.channels) == 16


def test_the_most_active_channels_are_shown_most_active_first():
    maps = maps_with_known_means()
    grid = vgg.feature_grid(maps, n=4)
    expected = maps.mean(dim=(1, 2)).argsort(descending=True)[:4].tolist()
    assert list(grid.channels) == expected


def test_each_tile_is_its_channel_scaled_to_its_own_range():
    maps = maps_with_known_means()
    maps[3] = 5.0  # a constant channel, as a dead ReLU gives
    grid = vgg.feature_grid(maps, channels=[3, 0, 9, 4, 1], columns=2)
    assert (grid.rows, grid.columns) == (3, 2)
    for position, channel in enumerate(grid.channels):
        top, left = grid.tile_origin(position)
        tile = grid.image[top:top + 6, left:left + 6]
        assert np.array_equal(tile, scaled_reference(maps[channel])), channel
    assert grid.image[0:6, 0:6].max() == 0  # the constant channel is black
    top, left = grid.tile_origin(5)  # the sixth cell is empty
    assert (grid.image[top:top + 6, left:left + 6] == PADDING_VALUE).all()
    assert (grid.image[6, :] == PADDING_VALUE).all()  # the line between rows


def test_layouts_and_inputs():
    maps = torch.rand(5, 8, 8)
    assert len(vgg.feature_grid(maps, n=99).channels) == 5  # n above C: all channels
    assert vgg.feature_grid(maps, n=4, padding=0).image.shape == (16, 16)
    assert vgg.feature_grid(maps, n=3, columns=10).image.shape == (8, 3 * 9 - 1)  # columns capped at the count
    channels_last = torch.rand(1, 5, 8, 8).contiguous(memory_format=torch.channels_last)
    dense = channels_last.contiguous()
    assert np.array_equal(vgg.feature_grid(channels_last).image, vgg.feature_grid(dense).image)


@pytest.mark.parametrize(("kwargs", "words"), [({"channels": [5]}, "indices"), ({"channels": []}, "non-empty"),
                                               ({"n": 0}, "at least 1"), ({"columns": 0}, "columns")])
def test_bad_arguments_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        vgg.feature_grid(torch.rand(5, 8, 8), **kwargs)


def test_a_fully_connected_output_has_no_grid():
    with pytest.raises(ValueError, match="fully connected"):
        vgg.feature_grid(torch.rand(1, 4096))


def test_channel_stats_match_numpy():
    maps = torch.relu(torch.randn(1, 6, 5, 7, generator=torch.Generator().manual_seed(0)))
    stats = vgg.channel_stats(maps)
    flat = maps[0].flatten(1).double().numpy()
    assert np.allclose(stats.mean, flat.mean(axis=1)) and np.allclose(stats.max, flat.max(axis=1))
    assert np.allclose(stats.zero_fraction, (flat == 0).mean(axis=1))
    frame = stats.to_frame()
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == ["channel", "mean", "max", "zero_fraction"]
    assert len(frame) == 6


def test_channel_stats_of_a_fully_connected_output_are_per_unit():
    stats = vgg.channel_stats(torch.tensor([[0.0, 2.0, -1.0]]))
    assert stats.mean.tolist() == [0.0, 2.0, -1.0] and stats.zero_fraction.tolist() == [1.0, 0.0, 0.0]


def test_layer_stats_summarise_every_captured_output():
    torch.manual_seed(0)
    model = vgg.prepare(vgg.build("16 M 32 M", num_classes=10), "cpu")
    result = vgg.forward_with_features(model, torch.randn(1, 3, 32, 32))
    stats = vgg.layer_stats(result.features)
    assert [s.path for s in stats] == list(result.features)
    for row in stats:
        tensor = result.features[row.path]
        assert row.shape == tuple(tensor.shape) and row.elements == tensor.numel()
        assert row.mean == pytest.approx(tensor.mean().item(), rel=1e-5, abs=1e-7)
        assert row.max == pytest.approx(tensor.max().item())
        assert row.sparsity == pytest.approx((tensor == 0).double().mean().item(), abs=1e-6)
    relu = next(s for s in stats if s.path == "features.1")
    assert 0.2 < relu.sparsity < 0.8  # roughly half of a random conv's outputs are negative
    assert list(pd.DataFrame(stats).columns) == ["path", "shape", "mean", "max", "sparsity", "elements"]
    assert vgg.layer_stats({}) == ()
