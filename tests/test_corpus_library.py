"""Every case of the corpus (tests/corpus.py) through the library: accepted as documented, or refused with
an error of the library's type whose message says what was wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import vgg
from tests.corpus import ANALYSIS, CHECKPOINTS, FORWARD, IMAGES, PARSE, SMALL_SPEC, SPECS, CheckpointCase, ImageCase
from vgg.analysis.guards import DEFAULT_MAX_ACTIVATION_MB, DEFAULT_MAX_WEIGHT_MB

DEFAULT_LIMITS = {"max_weight_bytes": DEFAULT_MAX_WEIGHT_MB * 2**20,
                  "max_activation_bytes": DEFAULT_MAX_ACTIVATION_MB * 2**20}


@pytest.mark.parametrize("case", IMAGES, ids=lambda case: case.name)
def test_each_image_loads_as_rgb_or_is_refused_in_words(case: ImageCase):
    if case.refusal:
        with pytest.raises(vgg.ImageError) as caught:
            vgg.load_image(case.data)
        assert case.refusal in str(caught.value)
        return
    image = vgg.load_image(case.data)
    assert image.mode == "RGB" and image.size == case.size
    assert np.asarray(image).shape == (case.size[1], case.size[0], 3)


@pytest.mark.parametrize("case", SPECS, ids=lambda case: case.name)
def test_each_spec_is_refused_at_the_right_step_with_its_message(case):
    """A spec error at parsing, an input too small at analysis, a network too big before it is built."""
    if case.stage == PARSE:
        with pytest.raises(vgg.SpecError, match=None) as caught:
            vgg.parse_spec(case.text)
    else:
        spec = vgg.parse_spec(case.text)  # grammatical...
        if case.stage == ANALYSIS:
            with pytest.raises(vgg.InputSizeError) as caught:
                vgg.analyze(spec, input_size=case.input_size)
        else:
            assert case.stage == FORWARD
            report = vgg.analyze(spec, input_size=case.input_size)  # ...analysable on the meta device...
            with pytest.raises(vgg.ResourceError) as caught:  # ...but too big to build or run
                vgg.check_resources(report, **DEFAULT_LIMITS)
    assert case.refusal in str(caught.value)


@pytest.mark.parametrize("case", CHECKPOINTS, ids=lambda case: case.name)
def test_each_checkpoint_loads_or_is_refused_in_words(case: CheckpointCase, tmp_path: Path):
    path = tmp_path / case.name
    case.write(path)
    model = vgg.build(SMALL_SPEC, init_weights=False)
    if not case.refusal:
        vgg.load_into(model, vgg.load_state_dict(path))
        assert int(torch.count_nonzero(model.features[0].weight.detach())) == 0  # the checkpoint's zeros, loaded
        return
    with pytest.raises(vgg.WeightsError) as caught:
        vgg.load_into(model, vgg.load_state_dict(path))
    message = str(caught.value)
    assert case.refusal in message
    assert "weights_only` set to `False`" not in message  # torch's advice to trust the file is not passed on
    assert not path.with_suffix(".pwned").exists(), "loading the checkpoint ran its code"
