"""The spec parser: torchvision's list format, the text format, every refusal, and properties over any input."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vgg
from vgg.arch.spec import LRN, MAX_LAYERS, MAX_WIDTH, Conv, MaxPool

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
    assert depths == vgg.arch.published.PAPER_TABLE1_WEIGHT_LAYERS


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
        ("64 " * 3_000, ["3,000 layers", "limit is 256"]),
        ([64] * 257, ["257 layers"]),
        ("6" * 5_000, ["Token 1", "5,000-digit", "8,192"]),  # int() alone refuses > 4,300 digits in its own words
        ("64 M conv1-" + "9" * 4_500, ["Token 3", "4,500-digit"]),
        ("64 -" + "1" * 4_500, ["Token 2", "positive"]),
        ([64, 10**5_000], ["Token 2", "16,610-bit", "8,192"]),  # str() of that int would raise
        ([64, -(10**5_000)], ["Token 2", "positive"]),
        ("64 M ６４ Ｍ", ["Token 4", "'Ｍ'", "not a layer"]),  # full-width digits are digits; a full-width M is not M
        ("64 \u202e M", ["Token 2", "\\u202e"]),  # a right-to-left override is shown escaped, not obeyed
    ],
)
def test_bad_specs_raise_a_clear_value_error(spec, fragments):
    with pytest.raises(ValueError) as info:
        vgg.parse_spec(spec)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_the_longest_spec_allowed_parses():
    assert len(vgg.parse_spec("64 " * MAX_LAYERS).layers) == MAX_LAYERS


def test_seven_pools_still_fit_224():
    assert vgg.parse_spec("64 " + "M " * 7).num_pools == 7


def test_resolve_config_accepts_names_builder_names_and_specs():
    assert vgg.resolve_config("d") is vgg.CONFIGS["D"]
    assert vgg.resolve_config("vgg19_bn") is vgg.CONFIGS["E"]
    assert vgg.resolve_config("a-lrn") is vgg.CONFIGS["A-LRN"]
    assert vgg.resolve_config("64 M").num_pools == 1
    with pytest.raises(ValueError, match="Unknown configuration 'Z'"):
        vgg.resolve_config("Z")
    for spec, message in (("", "empty"), ("M M M", "no convolution"), ("lrn", "no convolution")):
        with pytest.raises(vgg.SpecError, match=message):  # specs without digits are specs, not unknown names
            vgg.resolve_config(spec)


# --- properties: any input gives a valid spec or a SpecError, and valid specs round-trip -------------------------

TOKENS = st.sampled_from(["M", "m", "pool", "maxpool", "LRN", "lrn", "64", "512", "conv1-256", "conv3-64", "conv5-3",
                          "0", "-7", "8193", "banana", "６４", "Ｍ", "", " ", ",", ";", "\n", "\u202e", "1e3"])
HUGE = 10**5_000  # more digits than int() and str() convert (4,300)
LONG_DIGITS = st.text(alphabet="0123456789", min_size=4_301, max_size=5_000)
LIST_ITEMS = st.one_of(st.integers(-HUGE, HUGE), st.integers(1, 600), st.text(max_size=12),
                       st.sampled_from(["M", "LRN", "conv1-64"]), st.floats(), st.booleans(), st.none())
LAYERS = st.one_of(st.builds(Conv, st.integers(1, MAX_WIDTH), st.sampled_from([1, 3])), st.just(MaxPool()),
                   st.just(LRN()))


def parse_or_refuse(spec: object) -> vgg.VGGSpec | None:
    """The only acceptable outcomes: a spec that obeys the grammar's limits, or a SpecError in words."""
    try:
        parsed = vgg.parse_spec(spec)
    except vgg.SpecError as error:
        assert str(error) and "Traceback" not in str(error)
        return None
    assert parsed.convs and parsed.num_pools <= 7 and len(parsed.layers) <= MAX_LAYERS
    assert all(1 <= conv.out_channels <= MAX_WIDTH and conv.kernel_size in (1, 3) for conv in parsed.convs)
    return parsed


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(st.text(max_size=200), st.lists(TOKENS, max_size=30).map(" ".join), LONG_DIGITS))
def test_any_text_parses_or_is_refused_and_what_parses_round_trips(text):
    parsed = parse_or_refuse(text)
    if parsed is not None:
        assert vgg.parse_spec(parsed.to_text()).layers == parsed.layers


@settings(max_examples=150, deadline=None)
@given(items=st.lists(LIST_ITEMS, max_size=30))
def test_any_list_parses_or_is_refused(items):
    parse_or_refuse(items)


@settings(max_examples=100, deadline=None)
@given(layers=st.lists(LAYERS, min_size=1, max_size=40).filter(
    lambda layers: any(isinstance(layer, Conv) for layer in layers)
    and sum(isinstance(layer, MaxPool) for layer in layers) <= 7))
def test_valid_specs_round_trip_through_text_and_list(layers):
    spec = vgg.VGGSpec(tuple(layers))
    assert vgg.parse_spec(spec.to_text()).layers == spec.layers
    assert vgg.parse_spec(spec.to_list()).layers == spec.layers
