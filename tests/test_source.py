"""The lesson reads the project's real source and highlights the lines that run."""

import pytest

from vgg.teaching.source import forward_listing, highlighted_lines, make_layers_listing


def test_make_layers_listing_is_the_real_function():
    source = make_layers_listing()
    assert source.lines[0].startswith("def make_layers(")
    assert source.file.endswith("vgg/arch/model.py")


@pytest.mark.parametrize(("kind", "bn", "expected"), [
    ("conv", False, ["isinstance(v, Conv)", "nn.Conv2d(", "nn.ReLU(", "in_channels = v.out_channels"]),
    ("conv", True, ["isinstance(v, Conv)", "nn.Conv2d(", "nn.BatchNorm2d(", "nn.ReLU(",
                    "in_channels = v.out_channels"]),
    ("pool", False, ["isinstance(v, MaxPool)", "nn.MaxPool2d("]),
    ("lrn", True, ["isinstance(v, LRN)", "nn.LocalResponseNorm("]),
])
def test_highlighted_lines_say_what_they_do(kind, bn, expected):
    source = make_layers_listing()
    lines = [source.lines[i] for i in highlighted_lines(kind, bn)]
    assert len(lines) == len(expected)
    for line, fragment in zip(lines, expected, strict=True):
        assert fragment in line


def test_forward_listing_has_the_three_methods():
    text = forward_listing().text
    assert "def forward_features" in text and "def forward_head" in text and "def forward(" in text


def test_the_lesson_walks_the_seeds_path():
    import vgg
    from vgg.teaching import builder_listings

    builder, inner = builder_listings(vgg.Network.resolve("E", batch_norm=True))
    assert builder.lines[0].startswith("def vgg19_bn(") and '_vgg("E", True, weights, progress' in builder.text
    assert inner.lines[0].startswith("def _vgg(") and "make_layers(cfgs[cfg]" in inner.text
    builder, inner = builder_listings(vgg.Network.resolve("C"))
    assert builder.name == "build" and inner.name == "network_module"
