"""The spec parser: torchvision's list format, the text format, and every refusal."""

import pytest

import vgg
from vgg.spec import LRN, Conv, MaxPool

TORCHVISION_CFGS = {  # torchvision's `cfgs`, transcribed
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


@pytest.mark.parametrize("name", TORCHVISION_CFGS)
def test_torchvision_list_and_text_parse_to_the_named_config(name):
    cfg = TORCHVISION_CFGS[name]
    assert vgg.parse_spec(cfg).layers == vgg.CONFIGS[name].layers
    text = ", ".join(str(t) for t in cfg)
    assert vgg.parse_spec(text).layers == vgg.CONFIGS[name].layers
    assert vgg.CONFIGS[name].to_list() == cfg


def test_text_grammar_covers_1x1_convs_lrn_and_paper_notation():
    spec = vgg.parse_spec("conv3-64 lrn maxpool 128 conv1-128 pool")
    assert spec.layers == (Conv(64), LRN(), MaxPool(), Conv(128), Conv(128, kernel_size=1), MaxPool())
    assert vgg.parse_spec(spec.to_text()).layers == spec.layers


def test_named_configs_match_table_1():
    c = vgg.CONFIGS["C"]
    one_by_one = [conv.out_channels for conv in c.convs if conv.kernel_size == 1]
    assert one_by_one == [256, 512, 512]
    assert vgg.CONFIGS["A-LRN"].layers[1] == LRN(size=5, alpha=1e-4, beta=0.75, k=2.0)
    depths = {name: spec.weight_layers for name, spec in vgg.CONFIGS.items()}
    assert depths == vgg.published.PAPER_TABLE1_WEIGHT_LAYERS


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        ("", ["empty"]),
        ("   ,, ", ["empty"]),
        ([], ["empty"]),
        ("M M", ["no convolution"]),
        ("64 M 0 M", ["Token 3", "'0'", "positive"]),
        ("64 -5", ["Token 2", "'-5'", "positive"]),
        ("64 M 9000", ["Token 3", "9,000", "8,192"]),
        ("64 M 128 banana", ["Token 4", "'banana'", "not a layer"]),
        ([64, "M", 3.5], ["Token 3", "3.5"]),
        ([64, True], ["Token 2"]),
        ("conv5-64", ["Token 1", "kernel size 5"]),
        ("64 " + "M " * 8, ["Token 9", "one pool too many", "224x224"]),
        ("6" * 20_000, ["characters long"]),
    ],
)
def test_bad_specs_raise_a_clear_value_error(spec, fragments):
    with pytest.raises(ValueError) as info:
        vgg.parse_spec(spec)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_seven_pools_still_fit_224():
    assert vgg.parse_spec("64 " + "M " * 7).num_pools == 7


def test_resolve_config_accepts_names_builder_names_and_specs():
    assert vgg.resolve_config("d") is vgg.CONFIGS["D"]
    assert vgg.resolve_config("vgg19_bn") is vgg.CONFIGS["E"]
    assert vgg.resolve_config("a-lrn") is vgg.CONFIGS["A-LRN"]
    assert vgg.resolve_config("64 M").num_pools == 1
    with pytest.raises(ValueError, match="Unknown configuration 'Z'"):
        vgg.resolve_config("Z")
