"""vgg.diagram: the DOT text of both layouts (clusters, nodes, highlight, edge shapes), and SVG where Graphviz is
installed."""

from __future__ import annotations

import re
import shutil
from itertools import pairwise

import pytest

import vgg
from vgg.analysis.diagram import HIGHLIGHT_FILL, LAYOUTS
from vgg.format import short_count


def _node_lines(source: str) -> list[str]:
    return [line for line in source.splitlines() if re.match(r'\s*("[^"]+"|\w+) \[label=', line)]


def test_one_cluster_per_stage_and_one_node_per_layer() -> None:
    source = vgg.diagram(vgg.analyze("D", batch_norm=True), layout="detailed").source
    assert source.count("subgraph cluster_") == 6
    assert "cluster_stage1" in source and "cluster_head" in source
    # 13 convs (BN and ReLU folded in), 5 pools, avgpool, 3 fc, input and output
    assert len(_node_lines(source)) == 13 + 5 + 1 + 3 + 2
    assert '"features.0" [label="conv1_1  (features.0)\\nconv 3×3, 64 ch + BN + ReLU\\n1.92K params' in source
    assert "fc 25088 → 4096 + ReLU + dropout" in source
    assert HIGHLIGHT_FILL not in source


def test_edges_carry_tensor_shapes() -> None:
    source = vgg.diagram(vgg.analyze("A", input_size=(224, 320)), layout="detailed").source
    assert 'input -> "features.0" [label=" 3×224×320 "]' in source
    assert '"features.2" -> "features.3" [label=" 64×112×160 "]' in source  # pool1 -> conv2_1
    assert 'avgpool -> "classifier.0" [label=" 512×7×7 → 25088 "]' in source  # the flatten
    assert '-> output [label=" 1000 "]' in source
    assert source.count("->") == len(_node_lines(source)) - 1


def test_highlighted_layers_are_filled() -> None:
    comparison = vgg.compare(vgg.analyze("A"), vgg.analyze("E"))
    source = vgg.diagram(comparison.b, highlight=comparison.changed_paths_b).source
    highlighted = [line for line in _node_lines(source) if HIGHLIGHT_FILL in line]
    assert len(highlighted) == 8
    assert all(re.search(r"conv[1-5]_[2-4]", line) for line in highlighted)


def test_collapsed_has_one_node_per_stage() -> None:
    comparison = vgg.compare(vgg.analyze("B"), vgg.analyze("C"))
    source = vgg.diagram(comparison.b, collapsed=True, highlight=comparison.changed_paths_b).source
    assert "cluster_" not in source
    assert len(_node_lines(source)) == 6 + 2
    assert "conv3-256 ×2, conv1-256, maxpool" in source
    assert sum(HIGHLIGHT_FILL in line for line in _node_lines(source)) == 3  # stages 3, 4 and 5
    assert 'stage2 -> stage3 [label=" 128×56×56 "]' in source


def test_custom_spec_and_left_to_right() -> None:
    graph = vgg.diagram(vgg.analyze("32 LRN M conv1-48 M", input_size=(16, 16)), layout="detailed", rankdir="LR")
    assert "rankdir=LR" in graph.source and "LocalResponseNorm" not in graph.source
    assert "lrn1  (features.2)" in graph.source


def test_until_draws_the_network_built_so_far() -> None:
    report = vgg.analyze("A")
    for layout in LAYOUTS:
        source = vgg.diagram(report, until="features.3", layout=layout).source  # conv2_1: stage 1, conv2_1
        assert len(_node_lines(source)) == 3 + 1 and "output" not in source
        assert source.count("subgraph cluster_") == 2
    assert len(_node_lines(vgg.diagram(report, until="features.3", collapsed=True).source)) == 2 + 1
    with pytest.raises(ValueError, match="No layer 'features.99'"):
        vgg.diagram(report, until="features.99")


def test_stages_side_by_side_with_their_layers_stacked() -> None:
    source = vgg.diagram(vgg.analyze("E", batch_norm=True)).source
    assert source.count("subgraph cluster_") == 6 and "newrank=true" in source
    assert len(_node_lines(source)) == 16 + 5 + 1 + 3 + 2
    assert '"features.0" [label="conv1_1\\nconv3-64"' in source  # short labels; details in the tooltip
    assert ('tooltip="conv1_1 (features.0): conv 3×3, 64 ch + BN + ReLU; out 64×224×224; 1,920 params, '
            '86,704,128 MACs"') in source
    assert "each conv + BN + ReLU" in source
    assert 'label="stage 3\\n56×56"' in source and 'label="fc6\\nFC-4096"' in source
    # the columns' tops share one rank and are ordered left to right by invisible flat edges
    tops = ["features.0", "features.7", "features.14", "features.27", "features.40", "avgpool"]
    quoted = re.sub(r"-> avgpool\b", '-> "avgpool"', source)
    assert all(f'"{left}" -> "{right}" [style=invis]' in quoted for left, right in pairwise(tops))
    assert "fontsize=14" in source
    assert "fontsize=20" in vgg.diagram(vgg.analyze("D"), font_size=20).source


def test_unknown_layout_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown diagram layout 'spiral'"):
        vgg.diagram(vgg.analyze("A"), layout="spiral")


def test_short_counts() -> None:
    assert [short_count(n) for n in (0, 999, 1792, 86704128, 19632062464)] == ["0", "999", "1.79K", "86.7M", "19.6G"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_svg_renders_with_dot() -> None:
    svg = vgg.diagram_svg(vgg.diagram(vgg.analyze("A"), highlight={"features.0"}))
    assert svg.lstrip().startswith(b"<?xml") and b"</svg>" in svg
    assert b"conv1_1" in svg and HIGHLIGHT_FILL.lower().encode() in svg.lower()


def test_svg_without_dot_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(vgg.GraphvizNotInstalledError, match="install Graphviz"):
        vgg.diagram_svg(vgg.diagram(vgg.analyze("A")))


def test_boxes_are_filled_by_the_kind_group_table() -> None:
    from vgg.analysis import GROUP_COLOUR, GROUP_FILL
    from vgg.arch import LayerGroup

    source = vgg.diagram(vgg.analyze("A-LRN")).source
    fills = {name: re.search(rf'"?{re.escape(name)}"? \[label=[^\n]*fillcolor="([^"]+)"', source).group(1)
             for name in ("features.0", "features.2", "features.3", "avgpool", "classifier.0")}
    assert fills == {"features.0": GROUP_FILL[LayerGroup.CONV], "features.2": GROUP_FILL[LayerGroup.OTHER],  # LRN
                     "features.3": GROUP_FILL[LayerGroup.POOL], "avgpool": GROUP_FILL[LayerGroup.POOL],
                     "classifier.0": GROUP_FILL[LayerGroup.FC]}
    assert GROUP_FILL[LayerGroup.CONV] == "#B2D5E8" and GROUP_COLOUR[LayerGroup.CONV] == "#0072B2"  # a tint of it
    assert len(set(GROUP_FILL.values())) == len(LayerGroup)
