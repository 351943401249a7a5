"""Receptive-field boxes from the jump/start formulas, and the paper's stacked-conv argument."""

import pytest

from vgg.analysis.receptive import receptive_box, stacked_conv_equivalence


def test_first_conv_sees_three_pixels_around_its_position():
    box = receptive_box(receptive_field=3, jump=1, start=0.0, position=(0, 0), input_size=(224, 224))
    assert (box.top, box.left, box.bottom, box.right) == (-1, -1, 2, 2)
    assert (box.clipped_top, box.clipped_left, box.clipped_bottom, box.clipped_right) == (0, 0, 2, 2)
    assert box.visible_fraction == pytest.approx(4 / 9)


def test_pool5_of_vgg16_position_centre():
    # VGG16 pool5: rf 212, jump 32, start 15.5 -> position 3 is centred at 15.5 + 96 = 111.5 (the image centre)
    box = receptive_box(receptive_field=212, jump=32, start=15.5, position=(3, 3), input_size=(224, 224))
    assert box.center_y == box.center_x == 111.5
    assert box.bottom - box.top == 212
    assert (box.clipped_top, box.clipped_bottom) == (6, 218)


def test_negative_positions_are_refused():
    with pytest.raises(ValueError, match="outside the feature map"):
        receptive_box(receptive_field=3, jump=1, start=0.0, position=(-1, 0), input_size=(8, 8))


def test_two_threes_are_a_five_three_are_a_seven():
    rows = stacked_conv_equivalence()
    assert [row["receptive_field"] for row in rows] == [3, 5, 7]
    assert rows[2]["stacked_weights"] / rows[2]["single_conv_weights"] == pytest.approx(27 / 49)
    assert rows[2]["saving_percent"] == 45
