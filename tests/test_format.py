from vgg.format import count, nbytes, shape, signed


def test_formatting():
    assert count(138_357_544) == "138.36 M"
    assert count(15_470_264_320) == "15.47 G"
    assert count(1792) == "1,792"
    assert nbytes(553_430_176) == "527.8 MiB"
    assert nbytes(512) == "512 B"
    assert signed(10_000_000) == "+10.00 M" and signed(-2048, nbytes) == "-2.0 KiB" and signed(0) == "0"
    assert shape((1, 64, 224, 224)) == "1 × 64 × 224 × 224"
