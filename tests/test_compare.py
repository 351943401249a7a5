"""vgg.compare: layers added, removed, replaced or kept (Table 1's bold entries) and stage-by-stage deltas."""

from __future__ import annotations

import json

import pytest

import vgg


def _names(comparison: vgg.Comparison, kind: str) -> list[str]:
    return [unit.head.paper_name for stage in comparison.stages for unit in getattr(stage, kind)]


def _changes(comparison: vgg.Comparison, stage: int) -> list[str]:
    return [layer.change for layer in comparison.stages[stage].layers]


def test_e_adds_to_a_what_table_1_bolds() -> None:
    comparison = vgg.compare(vgg.analyze("A"), vgg.analyze("E"))
    assert _names(comparison, "added") == ["conv1_2", "conv2_2", "conv3_3", "conv3_4", "conv4_3", "conv4_4",
                                           "conv5_3", "conv5_4"]
    assert _names(comparison, "removed") == [] and comparison.changed_paths_a == frozenset()
    assert _changes(comparison, 2) == ["same", "same", "added", "added"]
    e = comparison.b
    # an added conv is highlighted with the ReLU folded into it
    assert {e.layer("conv1_2").name, e.layer("relu1_2").name} <= comparison.changed_paths_b
    assert e.layer("conv1_1").name not in comparison.changed_paths_b
    assert len(comparison.changed_paths_b) == 2 * 8


def test_c_adds_one_by_one_convs_to_b() -> None:
    comparison = vgg.compare(vgg.analyze("B"), vgg.analyze("C"))
    assert _names(comparison, "added") == ["conv3_3", "conv4_3", "conv5_3"]
    assert [comparison.b.layer(name).kernel_size for name in _names(comparison, "added")] == [(1, 1)] * 3
    stage3 = comparison.stages[2]
    assert stage3.params.delta == 256 * 256 + 256 and stage3.depth.delta == 1
    assert stage3.receptive_field.delta == 0  # a 1x1 conv widens nothing
    assert comparison.totals["macs"].delta == 256 * 256 * 56 * 56 + 512 * 512 * (28 * 28 + 14 * 14)


def test_c_replaces_ds_three_by_three_and_a_lrn_adds_lrn() -> None:
    d_vs_c = vgg.compare(vgg.analyze("D"), vgg.analyze("C"))
    assert _names(d_vs_c, "added") == _names(d_vs_c, "removed") == []
    assert [(a.token, b.token) for stage in d_vs_c.stages for a, b in stage.replaced] == [
        ("conv3-256", "conv1-256"), ("conv3-512", "conv1-512"), ("conv3-512", "conv1-512")]
    assert _changes(d_vs_c, 2) == ["same", "same", "replaced"]
    assert d_vs_c.stages[2].summary("D", "C") == "conv3_3: conv3-256 in D → conv1-256 in C"
    assert d_vs_c.stages[0].summary("D", "C") == ""
    assert d_vs_c.layer_table()["Change"][6] == "replaced: conv3-256 in D → conv1-256 in C"
    assert set(d_vs_c.layer_table()["Change"]) == {"same", "replaced: conv3-256 in D → conv1-256 in C",
                                                    "replaced: conv3-512 in D → conv1-512 in C"}
    a_vs_lrn = vgg.compare(vgg.analyze("A"), vgg.analyze("A-LRN"))
    assert _names(a_vs_lrn, "added") == ["lrn1"]
    assert a_vs_lrn.totals["params"].delta == 0
    lrn_vs_a = vgg.compare(vgg.analyze("A-LRN"), vgg.analyze("A"))
    assert _names(lrn_vs_a, "removed") == ["lrn1"] and lrn_vs_a.changed_paths_b == frozenset()


def test_any_two_configurations_are_classified_stage_by_stage() -> None:
    c_vs_e = vgg.compare(vgg.analyze("C"), vgg.analyze("E"))
    assert _changes(c_vs_e, 2) == ["same", "same", "replaced", "added"]  # 1x1 conv3_3 -> 3x3, then conv3_4
    assert _names(c_vs_e, "added") == ["conv3_4", "conv4_4", "conv5_4"]
    b_vs_lrn = vgg.compare(vgg.analyze("B"), vgg.analyze("A-LRN"))
    assert _changes(b_vs_lrn, 0) == ["same", "removed", "added"]  # a conv does not turn into an LRN
    e_vs_a = vgg.compare(vgg.analyze("E"), vgg.analyze("A"))
    assert _names(e_vs_a, "removed") == _names(vgg.compare(vgg.analyze("A"), vgg.analyze("E")), "added")
    narrow = vgg.compare(vgg.analyze("64 M 128 M"), vgg.analyze("32 M 128 M"))
    assert _changes(narrow, 0) == ["replaced"] and _changes(narrow, 1) == ["replaced"]  # conv2_1 takes 32, not 64
    assert narrow.layer_table()["Change"][1] == "replaced: conv3 64→128 in 64 M 128 M → conv3 32→128 in 32 M 128 M"
    assert _changes(narrow, 2) == ["same"] * 3  # fc6 takes 128 x 7 x 7 on both sides


def test_batch_norm_alone_adds_a_bn_row_after_each_conv() -> None:
    comparison = vgg.compare(vgg.analyze("D"), vgg.analyze("D", batch_norm=True))
    assert comparison.changed_paths_a == comparison.changed_paths_b == frozenset()  # not highlighted: every conv
    assert comparison.totals["params"].delta == 138365992 - 138357544
    assert (comparison.label_a, comparison.label_b) == ("D", "D + BN")
    assert _names(comparison, "added") == [f"bn{stage}_{i}" for stage, convs in enumerate((2, 2, 3, 3, 3), 1)
                                           for i in range(1, convs + 1)]


def test_a_against_a_with_batch_norm_names_every_bn() -> None:
    comparison = vgg.compare(vgg.analyze("A"), vgg.analyze("vgg11_bn"))
    assert comparison.label_b == "A + BN"
    layers = comparison.layer_table()
    changed = layers[layers["Change"] != "same"]
    assert len(changed) == 8 and set(changed["Change"]) == {"added in A + BN"}
    assert list(changed["A + BN"])[:2] == ["bn1_1 (BN after conv1_1)", "bn2_1 (BN after conv2_1)"]
    assert (changed["A"] == "").all()
    assert list(layers.loc[:1, "Change"]) == ["same", "added in A + BN"]  # conv1_1 is the same conv, then its BN
    assert list(comparison.stage_table()["Changes"]) == [
        "batch norm after conv1_1 added in A + BN", "batch norm after conv2_1 added in A + BN",
        "batch norm after conv3_1, conv3_2 added in A + BN", "batch norm after conv4_1, conv4_2 added in A + BN",
        "batch norm after conv5_1, conv5_2 added in A + BN", ""]
    assert comparison.stage_table().loc[2, "A + BN layers"] == "conv3-256, conv3-256"  # Table 1's notation
    assert [stage.batch_norm_added for stage in comparison.stages][2] == ("conv3_1", "conv3_2")
    assert comparison.totals["params"].delta == 2 * (64 + 128 + 2 * 256 + 4 * 512)
    reverse = vgg.compare(vgg.analyze("vgg11_bn"), vgg.analyze("A"))
    assert reverse.stages[0].summary(reverse.label_a, reverse.label_b) == "batch norm after conv1_1 removed in A"
    assert _names(reverse, "removed")[:2] == ["bn1_1", "bn2_1"]
    data = comparison.to_dict()
    assert data["stages"][2]["batch_norm_added_after"] == ["conv3_1", "conv3_2"]
    assert data["stages"][2]["b_layers"] == ["conv3-256", "conv3-256"]


def test_batch_norm_follows_replaced_and_added_convs() -> None:
    comparison = vgg.compare(vgg.analyze("D"), vgg.analyze("C", batch_norm=True))
    assert _changes(comparison, 2) == ["same", "added", "same", "added", "replaced", "added"]
    a_vs_e_bn = vgg.compare(vgg.analyze("A"), vgg.analyze("E", batch_norm=True))
    # an added conv brings its BN with it: no row of its own; the convs both have get one each
    assert _changes(a_vs_e_bn, 0) == ["same", "added", "added"]
    assert a_vs_e_bn.stages[0].summary("A", "E + BN") == ("conv1_2 (conv3-64) added in E + BN; "
                                                          "batch norm after conv1_1 added in E + BN")
    assert a_vs_e_bn.b.layer("bn1_2").name in a_vs_e_bn.changed_paths_b  # with the added conv1_2
    assert a_vs_e_bn.b.layer("bn1_1").name not in a_vs_e_bn.changed_paths_b


def test_widths_in_count_fc6_fed_a_narrower_stage_5_is_replaced() -> None:
    spec = "64 M 128 M 256 256 M 512 512 M 256 256 M"
    comparison = vgg.compare(vgg.analyze("A"), vgg.analyze(spec))
    assert comparison.b.layer("fc6").input_shape[-1] == 12544 and comparison.a.layer("fc6").input_shape[-1] == 25088
    assert _changes(comparison, 4) == ["replaced", "replaced"]
    assert _changes(comparison, 5) == ["replaced", "same", "same"]
    head = comparison.layer_table().set_index(["Stage", "Position"]).loc["head"]
    assert head.loc[1, "Change"] == f"replaced: FC 25,088→4,096 in A → FC 12,544→4,096 in {spec}"
    assert (head.loc[1, "A"], head.loc[1, spec]) == ("fc6 (FC 25,088→4,096)", "fc6 (FC 12,544→4,096)")
    assert comparison.stages[5].summary("A", "B") == "fc6: FC 25,088→4,096 in A → FC 12,544→4,096 in B"
    # conv5_1 keeps its input width: the paper's notation says what changed
    assert comparison.stages[4].summary("A", "B").startswith("conv5_1: conv3-512 in A → conv3-256 in B; ")
    assert comparison.to_dict()["stages"][5]["replaced"] == [
        {"a": "fc6", "a_layer": "FC 25,088→4,096", "b": "fc6", "b_layer": "FC 12,544→4,096"}]
    assert comparison.a.layer("fc6").name in comparison.changed_paths_a


def test_same_configuration_is_same_throughout() -> None:
    comparison = vgg.compare(vgg.analyze("D"), vgg.analyze("D"))
    layers = comparison.layer_table()
    assert len(layers) == 16 and set(layers["Change"]) == {"same"}
    assert set(comparison.stage_table()["Changes"]) == {""}
    assert comparison.changed_paths_a == comparison.changed_paths_b == frozenset()
    bn = vgg.compare(vgg.analyze("D", batch_norm=True), vgg.analyze("vgg16_bn"))
    assert set(bn.layer_table()["Change"]) == {"same"}


def test_removed_is_said_from_bs_point_of_view() -> None:
    comparison = vgg.compare(vgg.analyze("A-LRN"), vgg.analyze("A"))
    assert comparison.layer_table()["Change"][1] == "removed in A"
    assert comparison.stages[0].summary("A-LRN", "A") == "lrn1 (LRN) removed in A"
    e_vs_a = vgg.compare(vgg.analyze("E"), vgg.analyze("A"))
    assert set(e_vs_a.layer_table()["Change"]) == {"same", "removed in A"}


def test_same_config_gets_distinct_labels() -> None:
    comparison = vgg.compare(vgg.analyze("D"), vgg.analyze("D"))
    assert comparison.label_a != comparison.label_b
    assert all(delta.delta == 0 for delta in comparison.totals.values())


def test_stage_deltas_and_totals() -> None:
    comparison = vgg.compare(vgg.analyze("A"), vgg.analyze("E"))
    assert [stage.label for stage in comparison.stages] == ["stage 1", "stage 2", "stage 3", "stage 4", "stage 5",
                                                             "head"]
    assert [(stage.receptive_field.a, stage.receptive_field.b) for stage in comparison.stages[:5]] == [
        (4, 6), (10, 16), (30, 52), (70, 124), (150, 268)]
    assert sum(stage.params.delta for stage in comparison.stages) == comparison.totals["params"].delta
    assert sum(stage.macs.delta for stage in comparison.stages) == comparison.totals["macs"].delta
    assert comparison.totals["depth"].a == 11 and comparison.totals["depth"].b == 19
    assert comparison.totals["macs"].ratio == pytest.approx(19.632062464 / 7.609090048)
    assert comparison.stages[-1].params.delta == 0


def test_stage_table_is_ready_to_show() -> None:
    comparison = vgg.compare(vgg.analyze("B"), vgg.analyze("C"))
    table = comparison.stage_table()
    assert list(table["Stage"]) == ["stage 1", "stage 2", "stage 3", "stage 4", "stage 5", "head"]
    assert list(table["Changes"]) == ["", "", "conv3_3 (conv1-256) added in C", "conv4_3 (conv1-512) added in C",
                                      "conv5_3 (conv1-512) added in C", ""]
    assert table.loc[2, "C layers"] == "conv3-256, conv3-256, conv1-256"
    assert {"B params", "C params", "Δ params", "Δ MACs", "B RF", "C RF", "Δ depth"} <= set(table)
    layers = comparison.layer_table()
    assert list(layers.loc[layers["Change"] != "same", "C"]) == ["conv3_3 (conv1-256)", "conv4_3 (conv1-512)",
                                                                  "conv5_3 (conv1-512)"]
    assert set(layers["Change"]) == {"same", "added in C"}
    assert list(comparison.totals_table()["Quantity"])[:2] == ["params", "macs"]


def test_configs_with_different_numbers_of_stages() -> None:
    comparison = vgg.compare(vgg.analyze("64 M 128 M"), vgg.analyze("D"))
    assert [stage.label for stage in comparison.stages][-2:] == ["stage 5", "head"]
    stage5 = comparison.stages[4]
    assert stage5.a is None and stage5.receptive_field.a is None and stage5.receptive_field.delta is None
    assert stage5.params.a == 0 and _names(comparison, "added")[-3:] == ["conv5_1", "conv5_2", "conv5_3"]
    table = comparison.stage_table()
    assert table["64 M 128 M RF"].isna().sum() == 3


def test_json_view() -> None:
    data = vgg.compare(vgg.analyze("A"), vgg.analyze("B")).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["stages"][0]["added"] == ["conv1_2"] and data["stages"][0]["replaced"] == []
    assert data["totals"]["params"] == {"a": 132863336, "b": 133047848, "delta": 133047848 - 132863336}
