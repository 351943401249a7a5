"""The lesson reads the project's real source and highlights the lines that run."""

from pathlib import Path

import pytest

from vgg.errors import VGGError
from vgg.teaching import highlight
from vgg.teaching.source import cfgs_listing, dict_entry, forward_listing, highlighted_lines, make_layers_listing


def test_make_layers_listing_is_the_real_function():
    source = make_layers_listing()
    assert source.lines[0].startswith("def make_layers(")
    assert source.file.endswith("vgg/arch/model.py")


@pytest.mark.parametrize(("kind", "bn", "expected"), [
    ("conv", False, ["isinstance(v, Conv)", "nn.Conv2d(", "nn.ReLU(", "in_channels = v.out_channels"]),
    ("conv", True, ["isinstance(v, Conv)", "nn.Conv2d(", "if batch_norm:", "nn.BatchNorm2d(", "nn.ReLU(",
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


def test_forward_listing_is_one_stretch_of_the_file_with_the_three_methods():
    listing = forward_listing()
    assert "def forward_features" in listing.text and "def forward_head" in listing.text
    assert listing.lines[-1].strip() == "return self.forward_head(self.forward_features(x))"
    file_lines = Path(listing.file).read_text(encoding="utf-8").splitlines(keepends=True)
    assert tuple(file_lines[listing.first_line - 1:listing.first_line - 1 + len(listing.lines)]) == listing.lines


@pytest.mark.parametrize(("letter", "table", "lines"), [("E", "cfgs", 1), ("D", "cfgs", 1), ("C", "CONFIGS", 2)])
def test_a_dict_entry_is_read_from_its_assignment(letter, table, lines):
    source = cfgs_listing(letter)
    assert source.name == table and source.lines[0].startswith(f"{table}:") and source.lines[-1].startswith("}")
    entry = dict_entry(source, letter)
    assert entry.excerpt.lstrip().startswith(f'"{letter}":') and len(entry.highlighted) == lines
    assert entry.runs() == ((entry.highlighted[0], entry.highlighted[-1] + 1),)


def test_a_marker_the_code_no_longer_has_is_named():
    with pytest.raises(VGGError, match=r"make_layers no longer contains 'nn\.Conv3d\('"):
        highlight(make_layers_listing(), "nn.Conv3d(")
