from vgg.format import count, difference, exact, nbytes, ratio, shape


def test_formatting():
    assert count(138_357_544) == "138.36 M"
    assert count(15_470_264_320) == "15.47 G"
    assert count(1792) == "1,792"
    assert nbytes(553_430_176) == "527.8 MiB"
    assert nbytes(512) == "512 B"
    assert shape((1, 64, 224, 224)) == "1 × 64 × 224 × 224"


def test_a_difference_says_equal_for_no_change_and_uses_a_real_minus():
    assert difference(0) == "equal" and difference(0.0, exact) == "equal" and difference(None) == ""
    assert difference(10_000_000) == "+10.00 M" and difference(-2048, nbytes) == "\u22122.0 KiB"
    assert difference(-37_184, exact) == "\u221237,184" and exact(132_863_336) == "132,863,336"


def test_a_ratio_says_same_for_equal_values():
    assert ratio(138_357_544, 132_863_336) == "1.04×" and ratio(5, 5) == "same"
    assert ratio(1_000_001, 1_000_000, digits=3, suffix="") == "1.000"  # a change that rounds away is not "same"
    assert ratio(None, 3) == "" and ratio(3, 0) == ""
