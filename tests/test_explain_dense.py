"""Dense evaluation (the paper's Sec. 3.2), the effective receptive field, and feature visualisation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import vgg
from vgg.explain import (
    ExplainError,
    channel_activation,
    dense_scores,
    effective_receptive_field,
    first_conv_filters,
    multiscale_pixel_scores,
    multiscale_scores,
    visualize_channel,
)


@pytest.fixture(scope="module")
def five_stages() -> nn.Module:
    """VGG's five pools on narrow stages: the 224 -> 7 x 7 geometry of A..E at a fraction of the cost."""
    torch.manual_seed(0)
    return vgg.prepare(vgg.build("8 M 16 M 16 M 32 M 32 M", num_classes=20), "cpu")


@pytest.fixture(scope="module")
def small() -> nn.Module:
    torch.manual_seed(0)
    return vgg.prepare(vgg.build("16 M 32 M 32 M", num_classes=5), "cpu")


def test_dense_scores_at_224_equal_the_logits(five_stages):
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    scores = dense_scores(five_stages, x)
    with torch.inference_mode():
        logits = five_stages(x)
    assert scores.shape == (2, 20, 1, 1)
    torch.testing.assert_close(scores[:, :, 0, 0], logits, rtol=1e-4, atol=1e-5)


def test_dense_scores_at_384_are_a_6x6_map(five_stages):
    scores = dense_scores(five_stages, torch.randn(1, 3, 384, 384))
    assert scores.shape == (1, 20, 6, 6)
    assert scores.dtype == torch.float32 and torch.isfinite(scores).all()


def test_dense_scores_equal_the_network_at_every_window(small):
    """Each position of the map is the ordinary network on the 7x7 block of features under it."""
    x = torch.randn(1, 3, 80, 96, generator=torch.Generator().manual_seed(3))  # features 10 x 12 -> scores 4 x 6
    scores = dense_scores(small, x)
    assert scores.shape == (1, 5, 4, 6)
    with torch.inference_mode():
        features = small.features(x.clone())
        for row, column in [(0, 0), (3, 5), (2, 1)]:
            block = features[:, :, row:row + 7, column:column + 7]
            expected = small.classifier(torch.flatten(block, 1))
            torch.testing.assert_close(scores[:, :, row, column], expected, rtol=1e-4, atol=1e-5)


def test_dense_scores_follow_any_pooled_size():
    """A mini network whose avgpool keeps 1 x 1 (fc6 reads C values): fc6 becomes a 1 x 1 convolution."""
    torch.manual_seed(0)
    model = vgg.prepare(vgg.build("8 M 16 M", num_classes=4, hidden_features=64, pooled_size=1), "cpu")
    x = torch.randn(3, 3, 4, 4)  # two pools: a 1 x 1 map, where the adaptive pool is the identity
    with torch.inference_mode():
        logits = model(x)
    torch.testing.assert_close(dense_scores(model, x)[:, :, 0, 0], logits, rtol=1e-4, atol=1e-5)
    assert dense_scores(model, torch.randn(1, 3, 32, 24)).shape == (1, 4, 8, 6)


def test_dense_scores_refuse_an_input_smaller_than_fc6s_window(small):
    with pytest.raises(ExplainError, match="at least 56 x 56"):
        dense_scores(small, torch.randn(1, 3, 48, 48))


def test_multiscale_averages_posteriors_over_scales_and_flips(small):
    image = vgg.load_sample("cat")
    result = multiscale_scores(small, image, scales=(64, 96), flips=True)
    assert [scale.scale for scale in result.scales] == [64, 96]
    assert min(result.scales[1].input_size) == 96
    for scale in result.scales:
        assert scale.posterior.sum() == pytest.approx(1.0, abs=1e-5)
        assert scale.adaptive_posterior.sum() == pytest.approx(1.0, abs=1e-5)
        assert scale.votes.shape == scale.grid
    torch.testing.assert_close(result.posterior, (result.scales[0].posterior + result.scales[1].posterior) / 2)
    assert result.crop_posterior.shape == (5,)
    unflipped = multiscale_scores(small, image, scales=(64,), flips=False)
    expected = torch.softmax(unflipped.scales[0].scores.mean(dim=(1, 2)), dim=0)
    torch.testing.assert_close(unflipped.posterior, expected)


def test_multiscale_pixel_scores_score_a_mini_at_its_size_and_twice_it():
    """A mini's square pixels, normalised as in its training: at its own 32 px the single position is the
    ordinary forward; at 64 px the 1 x 1 fc6 slides over a 2 x 2 map."""
    torch.manual_seed(0)
    mini = vgg.prepare(vgg.build("8 M 16 M 16 M 16 M 16 M", num_classes=4, hidden_features=32, pooled_size=1), "cpu")
    pixels = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(1))
    mean, std = (0.2, 0.3, 0.4), (0.5, 0.6, 0.7)
    result = multiscale_pixel_scores(mini, pixels, sizes=(32, 64), mean=mean, std=std)
    assert [scale.grid for scale in result.scales] == [(1, 1), (2, 2)]
    assert result.scales[1].input_size == (64, 64) and not result.flips
    x = (pixels[None] - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    with torch.inference_mode():
        own = torch.softmax(mini(x)[0], dim=0)
    torch.testing.assert_close(result.crop_posterior, own)
    torch.testing.assert_close(result.scales[0].posterior, own, rtol=1e-4, atol=1e-6)  # 1 x 1: the same answer
    torch.testing.assert_close(result.posterior, (result.scales[0].posterior + result.scales[1].posterior) / 2)
    with pytest.raises(ExplainError, match=r"\(3, S, S\)"):
        multiscale_pixel_scores(mini, torch.rand(3, 32, 48), sizes=(32,), mean=mean, std=std)


@pytest.mark.slow
def test_dense_scores_of_vgg16_at_224_equal_the_logits():
    torch.manual_seed(0)
    model = vgg.prepare(vgg.build("D"), "cpu")
    x = vgg.preprocess(vgg.load_sample("cat"))
    with torch.inference_mode():
        logits = model(x)
    torch.testing.assert_close(dense_scores(model, x)[:, :, 0, 0], logits, rtol=1e-4, atol=1e-5)
    assert dense_scores(model, torch.randn(1, 3, 384, 384)).shape == (1, 1000, 6, 6)


@pytest.mark.parametrize("layer", ["conv1_1", "conv2_1", "relu3_1", "pool3"])
def test_the_effective_field_never_reaches_outside_the_theoretical_one(small, layer):
    field = effective_receptive_field(small, layer, input_size=(64, 64), samples=3)
    report = vgg.analyze("16 M 32 M 32 M", input_size=(64, 64))
    assert field.theoretical.size == report.layer(layer).receptive_field
    assert field.outside_share == 0.0  # exactly: no path from those pixels to the unit
    assert 0 < field.effective_size <= field.theoretical.size
    assert float(field.gradient.max()) == pytest.approx(1.0)
    assert field.images == 3


@pytest.mark.slow
def test_the_effective_field_of_vgg16_sits_inside_the_analysis_field():
    torch.manual_seed(0)
    model = vgg.prepare(vgg.build("D"), "cpu")
    field = effective_receptive_field(model, "conv4_3", input_size=(160, 160), samples=2)
    assert field.theoretical.size == vgg.analyze("D").layer("conv4_3").receptive_field == 92
    assert field.outside_share == 0.0
    assert field.effective_size < field.theoretical.size  # the gradient gathers towards the centre


def test_feature_visualisation_raises_the_channel_far_above_natural_images(small):
    natural = torch.cat([vgg.preprocess(vgg.load_sample(name), size=64) for name in vgg.sample_images()])
    channel = 3
    seen = channel_activation(small, "relu3_1", channel, natural)
    result = visualize_channel(small, "relu3_1", channel, steps=40, size=48, seed=0)
    assert result.image.shape == (48, 48, 3) and result.image.dtype.name == "uint8"
    assert len(result.history) == 40
    assert result.activation > 3 * float(seen.mean()) + 1e-3, (result.activation, seen.tolist())
    assert result.activation > float(seen.max())
    again = visualize_channel(small, "relu3_1", channel, steps=40, size=48, seed=0)
    assert (again.image == result.image).all()  # seeded: the same picture


def test_feature_visualisation_normalises_with_the_given_statistics(small):
    """A network trained here sees its image normalised as in its training: the activation reported is the
    channel's on that input."""
    mean, std = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
    result = visualize_channel(small, "relu2_1", 1, steps=3, size=32, seed=0, mean=mean, std=std)
    pixels = torch.from_numpy(result.image).permute(2, 0, 1)[None].float() / 255
    seen = channel_activation(small, "relu2_1", 1, (pixels - 0.5) / 0.25)
    assert float(seen[0]) == pytest.approx(result.activation, rel=0.05, abs=1e-3)  # up to the uint8 rounding
    imagenet = visualize_channel(small, "relu2_1", 1, steps=3, size=32, seed=0)
    assert not (imagenet.image == result.image).all()


def test_feature_visualisation_refuses_bad_channels_and_head_layers(small):
    with pytest.raises(ExplainError, match="channels 0..31"):
        visualize_channel(small, "conv3_1", 32, steps=1, size=32)
    with pytest.raises(ExplainError, match="spatial map"):
        visualize_channel(small, "fc7", 0, steps=1, size=32)


def test_first_conv_filters_make_a_grid(small):
    grid = first_conv_filters(small, zoom=4, padding=1)
    # 16 filters: 4 x 4 tiles of 12 px and 1 px between them
    assert grid.shape == (4 * 13 - 1, 4 * 13 - 1, 3) and grid.dtype.name == "uint8"


@pytest.mark.parametrize(("channels", "kernel", "size"),
                         [(8, (3, 3), (5, 7)), (16, (1, 1), (4, 4)), (4, (2, 3), (2, 3))])
def test_fc_as_convolution_is_conv2d_with_the_viewed_weight(channels, kernel, size):
    from vgg.explain.dense import fc_as_convolution

    generator = torch.Generator().manual_seed(3)
    fc = torch.nn.Linear(channels * kernel[0] * kernel[1], 10)
    x = torch.randn(2, channels, *size, generator=generator).contiguous(memory_format=torch.channels_last)
    expected = torch.nn.functional.conv2d(x, fc.weight.view(10, channels, *kernel), fc.bias)
    with torch.inference_mode():
        assert torch.allclose(fc_as_convolution(fc, x, kernel), expected, atol=1e-5)
