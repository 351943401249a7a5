"""vgg.analyze against published numbers (torchvision, the paper, docs/architecture.md) and its own contracts."""

from __future__ import annotations

import dataclasses
import json
import pickle

import pytest
import torch

import vgg
from vgg.analysis import clear_caches
from vgg.arch.configs import CONFIGS
from vgg.arch.published import PAPER_PARAMS_MILLIONS, PUBLISHED

DESIGN_CONV1_1 = {"name": "features.0", "paper_name": "conv1_1", "type": "Conv2d", "output_shape": [1, 64, 224, 224],
                  "params": 1792, "macs": 86704128, "receptive_field": 3, "jump": 1, "activation_bytes": 12845056}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_torchvision_published_params_and_ops(name: str) -> None:
    variant = PUBLISHED[name]
    totals = vgg.analyze(variant.config, batch_norm=variant.batch_norm).totals
    assert totals.params == variant.num_params
    assert round(totals.macs / 1e9, 3) == variant.gmacs
    assert totals.flops == 2 * totals.macs


@pytest.mark.parametrize("config", list(CONFIGS))
def test_paper_table2_params_in_millions(config: str) -> None:
    assert round(vgg.analyze(config).totals.params / 1e6) == PAPER_PARAMS_MILLIONS[config]


@pytest.mark.parametrize(("config", "last_conv", "conv_rf", "pool_rf"), [
    ("A", "conv5_2", 134, 150), ("B", "conv5_2", 140, 156), ("D", "conv5_3", 196, 212), ("E", "conv5_4", 252, 268),
])
def test_receptive_fields_at_the_end_of_the_features(config: str, last_conv: str, conv_rf: int, pool_rf: int) -> None:
    report = vgg.analyze(config)
    assert report.layer(last_conv).receptive_field == conv_rf
    pool5 = report.layer("pool5")
    assert (pool5.receptive_field, pool5.jump) == (pool_rf, 32)
    assert report.last_pool == pool5


def test_receptive_field_start_and_the_head() -> None:
    report = vgg.analyze("D")
    assert report.layer("pool5").start == 15.5  # the centre of position 3 is then the image centre, 111.5
    assert report.layer("avgpool").receptive_field == 212  # 7x7 -> 7x7 is the identity
    fc6 = report.layer("fc6")
    assert (fc6.receptive_field, fc6.jump, fc6.start) == (212 + 6 * 32, None, 111.5)
    assert report.layer("fc8").receptive_field == fc6.receptive_field


def test_adaptive_avgpool_on_a_side_that_is_not_a_multiple_of_seven() -> None:
    report = vgg.analyze("D", input_size=(256, 448))  # pool5 is 8 x 14: rows have windows of 2, columns of 2
    avgpool = report.layer("avgpool")
    assert report.layer("pool5").output_shape == (1, 512, 8, 14)
    assert avgpool.output_shape == (1, 512, 7, 7)
    assert avgpool.receptive_field == 212 + 32 and avgpool.jump is None and avgpool.start is None
    assert report.layer("fc6").receptive_field == 212 + 13 * 32  # the wider axis: 14 positions


def test_design_json_example_for_e_with_bn() -> None:
    data = vgg.analyze("E", batch_norm=True).to_dict()
    assert (data["config"], data["batch_norm"], data["input_size"]) == ("E", True, [224, 224])
    assert {key: data["layers"][0][key] for key in DESIGN_CONV1_1} == DESIGN_CONV1_1
    totals = data["totals"]
    assert (totals["params"], totals["macs"], totals["flops"]) == (143678248, 19632062464, 2 * 19632062464)
    assert totals["weight_bytes"] == 4 * 143678248
    assert totals["activation_bytes"] == sum(layer["activation_bytes"] for layer in data["layers"])
    assert json.loads(json.dumps(data)) == data  # plain JSON types only: lists, not tuples


def test_one_row_per_module_with_torchvision_paths() -> None:
    report = vgg.analyze("D", batch_norm=True)
    model = vgg.build("D", batch_norm=True, device="meta")
    expected = [f"features.{i}" for i in range(len(model.features))] + ["avgpool"]
    expected += [f"classifier.{i}" for i in range(len(model.classifier))]
    assert [row.name for row in report.layers] == expected
    assert [row.paper_name for row in report.layers] == [info.paper_name for info in model.layer_infos]
    conv, bn = report.layer("features.0"), report.layer("features.1")
    assert (conv.kernel_size, conv.stride, conv.padding) == ((3, 3), (1, 1), (1, 1))
    assert (bn.type, bn.kind, bn.params, bn.buffers, bn.kernel_size) == ("BatchNorm2d", "bn", 128, 129, None)
    assert report.layer("pool1").stride == (2, 2)


def test_non_square_input_and_batch() -> None:
    report = vgg.analyze("A", input_size=(96, 160), batch_size=3)
    assert report.layer("conv1_1").output_shape == (3, 64, 96, 160)
    assert report.layer("pool5").output_shape == (3, 512, 3, 5)
    assert report.layer("avgpool").output_shape == (3, 512, 7, 7)
    assert report.layer("fc6").input_shape == (3, 25088)
    single = vgg.analyze("A", input_size=(96, 160))
    assert report.totals.macs == 3 * single.totals.macs
    assert report.totals.activation_bytes == 3 * single.totals.activation_bytes
    assert report.totals.params == single.totals.params


def test_custom_spec_with_one_by_one_conv_and_lrn() -> None:
    report = vgg.analyze("32 LRN M conv1-48 64 M", input_size=(20, 20))
    assert report.config == "32 LRN M conv1-48 64 M"
    assert [row.paper_name for row in report.layers if row.kind in ("conv", "lrn", "pool")] == [
        "conv1_1", "lrn1", "pool1", "conv2_1", "conv2_2", "pool2"]
    one_by_one = report.layer("conv2_1")
    assert one_by_one.kernel_size == (1, 1) and one_by_one.padding == (0, 0)
    assert one_by_one.macs == 48 * 10 * 10 * 32
    assert report.layer("lrn1").macs == 0
    assert report.layer("conv2_2").receptive_field == 3 + 1 + 2 * 2  # the 1x1 conv adds nothing
    assert report.layer("fc6").input_shape == (1, 64 * 49)


def test_named_spec_text_is_reported_by_its_name() -> None:
    assert vgg.analyze(CONFIGS["D"].to_text()).config == "D"
    assert vgg.analyze([64, "M", 128, "M"]).config == "64 M 128 M"


def test_dtype_changes_bytes_not_counts() -> None:
    half = vgg.analyze("B", dtype=torch.float16)
    full = vgg.analyze("B")
    assert half.dtype == "float16"
    assert half.totals.activation_bytes * 2 == full.totals.activation_bytes
    assert half.totals.weight_bytes * 2 == full.totals.weight_bytes == full.totals.weight_bytes_fp32
    assert half.totals.weight_bytes_by_dtype == full.totals.weight_bytes_by_dtype
    assert (half.totals.params, half.totals.macs) == (full.totals.params, full.totals.macs)


def test_memory_totals() -> None:
    report = vgg.analyze("E", batch_norm=True)
    totals = report.totals
    assert totals.weight_bytes_by_dtype == {"float32": 4 * totals.params, "float16": 2 * totals.params,
                                            "int8": totals.params}
    assert totals.peak_activation_bytes == 2 * 64 * 224 * 224 * 4  # conv1_2: its input and output
    assert totals.input_bytes == 3 * 224 * 224 * 4
    assert totals.buffers == sum(2 * row.output_shape[1] + 1 for row in report.layers if row.kind == "bn")
    sgd, adam = totals.training_sgd, totals.training_adam
    assert sgd.total == 3 * totals.weight_bytes + totals.buffer_bytes + sgd.activations
    assert adam.total - sgd.total == totals.weight_bytes
    assert sgd.activations > totals.input_bytes
    assert any("Adam" in line for line in totals.assumptions)
    assert totals.fc_param_share == pytest.approx(123642856 / 143678248)


def test_stage_summaries() -> None:
    report = vgg.analyze("E")
    stages = report.stages
    assert [stage.label for stage in stages] == ["stage 1", "stage 2", "stage 3", "stage 4", "stage 5", "head"]
    assert [stage.convs for stage in stages] == [2, 2, 4, 4, 4, 0]
    assert [stage.weight_layers for stage in stages] == [2, 2, 4, 4, 4, 3]
    assert [stage.receptive_field for stage in stages[:5]] == [6, 16, 52, 124, 268]
    assert stages[2].output_shape == (1, 256, 28, 28)
    assert sum(stage.params for stage in stages) == report.totals.params
    assert sum(stage.macs for stage in stages) == report.totals.macs
    frame = report.stage_frame()
    assert list(frame["Stage"]) == [stage.label for stage in stages]
    assert frame.loc[4, "Layers"] == "conv5_1, conv5_2, conv5_3, conv5_4, pool5"


def test_frame_has_one_row_per_layer_and_readable_columns() -> None:
    report = vgg.analyze("A")
    frame = report.to_frame()
    assert len(frame) == len(report.layers)
    assert {"Paper name", "Module", "Output shape", "Params", "MACs", "FLOPs", "Receptive field"} <= set(frame)
    assert frame.loc[0, "Output shape"] == "1×64×224×224" and frame.loc[0, "Kernel"] == "3×3"
    assert frame["Params"].sum() == report.totals.params
    assert str(frame["Jump"].dtype) == "Int64" and frame["Jump"].isna().sum() == 7  # the classifier's modules
    assert frame.to_csv(index=False).startswith("Paper name,Module,")


def test_too_small_input_names_the_minimum() -> None:
    with pytest.raises(vgg.InputSizeError, match="needs at least 32x32"):
        vgg.analyze("D", input_size=(31, 224))
    assert vgg.analyze("64 M 64 M", input_size=(4, 4)).layer("pool2").output_shape == (1, 64, 1, 1)


@pytest.mark.parametrize("kwargs", [{"input_size": (0, 224)}, {"input_size": (224,)}, {"batch_size": 0},
                                    {"input_size": (224.0, 224)}, {"dtype": "float16"}])
def test_bad_arguments_are_value_errors(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        vgg.analyze("A", **kwargs)


def test_bad_config_is_a_spec_error() -> None:
    with pytest.raises(vgg.SpecError):
        vgg.analyze("64 X")


def test_reports_are_frozen_and_cached() -> None:
    report = vgg.analyze("B")
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.batch_norm = True  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.layers[0].params = 0  # type: ignore[misc]
    assert vgg.analyze("B") is report
    clear_caches()
    again = vgg.analyze("B")
    assert again is not report and again == report
    assert pickle.loads(pickle.dumps(report)) == report  # st.cache_data pickles what it caches


def test_numpy_integers_are_sizes() -> None:
    numpy = pytest.importorskip("numpy")
    report = vgg.analyze("A", input_size=(numpy.int64(64), numpy.int32(48)), batch_size=numpy.int64(2))
    assert report.input_size == (64, 48) and type(report.input_size[0]) is int and report.batch_size == 2
