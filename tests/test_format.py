from vgg.format import count, difference, exact, nbytes, shape, signed


def test_formatting():
    assert count(138_357_544) == "138.36 M"
    assert count(15_470_264_320) == "15.47 G"
    assert count(1792) == "1,792"
    assert nbytes(553_430_176) == "527.8 MiB"
    assert nbytes(512) == "512 B"
    assert signed(10_000_000) == "+10.00 M" and signed(-2048, nbytes) == "-2.0 KiB" and signed(0) == "0"
    assert shape((1, 64, 224, 224)) == "1 × 64 × 224 × 224"


def test_a_difference_says_equal_for_no_change_and_uses_a_real_minus():
    assert difference(0) == "equal" and difference(0.0, exact) == "equal" and difference(None) == ""
    assert difference(10_000_000) == "+10.00 M" and difference(-2048, nbytes) == "\u22122.0 KiB"
    assert difference(-37_184, exact) == "\u221237,184" and exact(132_863_336) == "132,863,336"
