"""Preprocessing equals torchvision's ImageClassification, computed independently here.

torchvision is not installed (and must not be), so its preset is written out below from its
source (transforms/_presets.py and functional.py): the same size arithmetic, crop rounding and
normalisation, in numpy. On a PIL image torchvision resizes with Pillow's bilinear filter; on a
tensor with ``interpolate(antialias=True)``: the second reference checks the tensor path too.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import vgg
from vgg.arch.published import IMAGENET_MEAN, IMAGENET_STD

MEAN = np.array(IMAGENET_MEAN, dtype=np.float32)
STD = np.array(IMAGENET_STD, dtype=np.float32)
ONE_LEVEL = 1 / 255 / min(IMAGENET_STD)  # one 8-bit step, after normalisation: 0.0175
REQUIRED = 1e-2  # the tolerance per pixel


def textured(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth gradients plus noise: fine detail, so a resize without antialiasing would alias visibly."""
    rng = np.random.default_rng(seed)
    x, y = np.meshgrid(np.linspace(0, 1, width), np.linspace(0, 1, height))
    base = np.stack([x, y, (x + y) / 2], axis=-1) * 200
    noise = rng.integers(0, 56, size=(height, width, 3))
    return Image.fromarray((base + noise).astype(np.uint8), "RGB")


def torchvision_pil_reference(image: Image.Image, crop: int = 224, resize: int = 256) -> torch.Tensor:
    """ImageClassification(crop_size=224, resize_size=256) on a PIL image, from torchvision's source."""
    w, h = image.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = resize, int(resize * long / short)  # _compute_resized_output_size
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    resized = image.resize((new_w, new_h), Image.Resampling.BILINEAR)  # F_pil.resize: PIL, no reducing_gap
    top, left = int(round((new_h - crop) / 2.0)), int(round((new_w - crop) / 2.0))  # noqa: RUF046 (as torchvision)
    cropped = resized.crop((left, top, left + crop, top + crop))
    pixels = np.asarray(cropped).astype(np.float32) / 255.0  # pil_to_tensor + convert_image_dtype
    normalised = (pixels - MEAN) / STD  # F.normalize
    return torch.from_numpy(normalised.transpose(2, 0, 1).copy()).unsqueeze(0)


def torchvision_tensor_reference(image: Image.Image, *, antialias: bool = True) -> torch.Tensor:
    """The same preset on a float tensor: interpolate(bilinear, antialias) instead of Pillow."""
    x = torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1).float().unsqueeze(0) / 255  # (1, 3, H, W)
    h, w = x.shape[-2:]
    new_h, new_w = (int(256 * h / w), 256) if w <= h else (256, int(256 * w / h))
    x = F.interpolate(x, size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=antialias)
    top, left = int(round((new_h - 224) / 2.0)), int(round((new_w - 224) / 2.0))  # noqa: RUF046
    x = x[..., top:top + 224, left:left + 224]
    return (x - torch.tensor(IMAGENET_MEAN).view(3, 1, 1)) / torch.tensor(IMAGENET_STD).view(3, 1, 1)


@pytest.fixture(scope="module")
def cat() -> Image.Image:
    return vgg.load_image(vgg.sample_images()["cat"])


@pytest.mark.parametrize("size", [(451, 300), (300, 451), (457, 300), (224, 224), (256, 640), (40, 33)])
def test_crop_mode_equals_torchvisions_pil_path(size):
    image = textured(*size)
    ours = vgg.preprocess(image)
    reference = torchvision_pil_reference(image)
    assert ours.shape == reference.shape == (1, 3, 224, 224)
    assert ours.dtype == torch.float32
    assert (ours - reference).abs().max().item() < 1e-5 < REQUIRED


def test_crop_mode_on_a_photograph(cat):
    assert (vgg.preprocess(cat) - torchvision_pil_reference(cat)).abs().max().item() < 1e-5


@settings(max_examples=25, deadline=None)
@given(width=st.integers(32, 700), height=st.integers(32, 700))
def test_crop_mode_matches_for_any_size(width, height):
    image = textured(width, height, seed=width * 1000 + height)
    assert (vgg.preprocess(image) - torchvision_pil_reference(image)).abs().max().item() < 1e-5


def test_tensor_path_agrees_within_one_level_and_needs_antialiasing(cat):
    ours = vgg.preprocess(cat)
    difference = (ours - torchvision_tensor_reference(cat)).abs()
    # Pillow rounds to 8 bits after each pass; interpolate stays in float: at most one level apart.
    assert difference.max().item() <= ONE_LEVEL * 1.01
    assert difference.mean().item() < 0.35 * ONE_LEVEL
    aliased = (ours - torchvision_tensor_reference(textured(900, 600), antialias=False)).abs()
    assert aliased.max().item() > 10 * ONE_LEVEL  # the check above would catch a resize without antialiasing


def test_odd_crop_offsets_round_half_to_even_as_torchvision():
    assert vgg.preprocess_steps(textured(457, 300)).crop_box == (82, 16, 306, 240)  # (389 - 224) / 2 = 82.5 -> 82


def test_steps_hold_each_intermediate_image(cat):
    steps = vgg.preprocess_steps(cat)
    assert isinstance(steps, vgg.PreprocessSteps)
    assert steps.original.size == (451, 300) and steps.original.mode == "RGB"
    assert steps.resized.size == (384, 256)  # short side 256, long side int(256 * 451 / 300)
    assert steps.cropped.size == (224, 224) and steps.crop_box == (80, 16, 304, 240)
    assert np.array_equal(np.asarray(steps.cropped), np.asarray(steps.resized.crop(steps.crop_box)))
    assert torch.equal(steps.tensor, vgg.preprocess(cat))
    with pytest.raises(AttributeError):
        steps.size = 1  # frozen


def test_whole_mode_squashes_the_whole_image(cat):
    steps = vgg.preprocess_steps(cat, mode="whole", size=160)
    assert steps.tensor.shape == (1, 3, 160, 160)
    assert steps.cropped is steps.resized and steps.crop_box == (0, 0, 160, 160)
    expected = (np.asarray(cat.resize((160, 160), Image.Resampling.BILINEAR)) / 255.0 - MEAN) / STD
    assert np.abs(steps.tensor[0].permute(1, 2, 0).numpy() - expected).max() < 1e-5


def test_whole_mode_squashes_to_a_height_and_width(cat):
    steps = vgg.preprocess_steps(cat, mode="whole", size=(96, 160))
    assert steps.tensor.shape == (1, 3, 96, 160) and steps.cropped.size == (160, 96)
    assert steps.crop_box == (0, 0, 160, 96) and steps.size == (96, 160)
    expected = (np.asarray(cat.resize((160, 96), Image.Resampling.BILINEAR)) / 255.0 - MEAN) / STD
    assert np.abs(steps.tensor[0].permute(1, 2, 0).numpy() - expected).max() < 1e-5


def test_a_centre_crop_of_two_sides_is_refused_in_words(cat):
    with pytest.raises(vgg.VGGError, match="centre crop is square.*'whole'"):
        vgg.preprocess_steps(cat, mode="crop", size=(224, 320))
    assert vgg.preprocess_steps(cat, mode="crop", size=(224, 224)).tensor.shape == (1, 3, 224, 224)


def test_crop_mode_at_another_size_keeps_torchvisions_ratio():
    steps = vgg.preprocess_steps(textured(500, 400), size=448)
    assert steps.resized.size[1] == 512 and steps.tensor.shape == (1, 3, 448, 448)


def test_non_rgb_images_are_converted_first():
    grey = textured(100, 80).convert("L")
    assert vgg.preprocess(grey).shape == (1, 3, 224, 224)
    assert torch.equal(vgg.preprocess(grey), vgg.preprocess(grey.convert("RGB")))


def test_display_image_inverts_normalisation(cat):
    steps = vgg.preprocess_steps(cat)
    shown = vgg.to_display_image(steps.tensor)
    assert shown.mode == "RGB" and shown.size == (224, 224)
    difference = np.abs(np.asarray(shown, dtype=int) - np.asarray(steps.cropped, dtype=int))
    assert difference.max() <= 1  # float rounding only
    assert vgg.to_display_image(steps.tensor[0]).size == (224, 224)


def test_display_image_clamps_out_of_range_values():
    extreme = torch.stack([torch.full((8, 8), -100.0), torch.full((8, 8), 100.0), torch.zeros(8, 8)])
    pixels = np.asarray(vgg.to_display_image(extreme))
    assert pixels[0, 0, 0] == 0 and pixels[0, 0, 1] == 255


@pytest.mark.parametrize(("kwargs", "words"), [({"mode": "fit"}, "mode"), ({"size": 16}, "32"),
                                               ({"size": 100_000}, "2048")])
def test_bad_arguments_are_refused(cat, kwargs, words):
    with pytest.raises(ValueError, match=words):
        vgg.preprocess(cat, **kwargs)


def test_display_refuses_a_non_image_tensor():
    with pytest.raises(ValueError, match="3, H, W"):
        vgg.to_display_image(torch.zeros(1, 64, 8, 8))
