"""Design your own VGG: the spec as a table and back."""

import pandas as pd
import pytest

import vgg
from explorer.spec_table import frame_to_text, spec_to_frame, text_to_frame


@pytest.mark.parametrize("name", list(vgg.CONFIGS))
def test_every_named_config_round_trips_through_the_table(name):
    spec = vgg.CONFIGS[name]
    assert vgg.parse_spec(frame_to_text(spec_to_frame(spec))).layers == spec.layers


def test_an_edit_becomes_spec_text_and_a_missing_width_is_named_by_the_parser():
    frame = text_to_frame("64 M 128 M")
    frame.loc[len(frame)] = {"Layer": "conv 1×1", "Channels": 32}
    assert frame_to_text(frame) == "64 M 128 M conv1-32"
    frame.loc[len(frame)] = {"Layer": "conv 3×3", "Channels": pd.NA}
    with pytest.raises(ValueError, match="Token 6"):
        vgg.parse_spec(frame_to_text(frame))


def test_invalid_text_has_no_table():
    assert text_to_frame("64 banana") is None
