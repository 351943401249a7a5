"""The app's state and its URL round trip (no Streamlit needed)."""

import pytest

from explorer.state import AppState, ModelChoice, format_size, from_query, parse_size, to_query


def test_defaults_make_an_empty_query():
    assert to_query(AppState()) == {}
    assert from_query({}).state == AppState()


def test_round_trip_of_every_field():
    state = AppState(model=ModelChoice("custom", True, "64 M 128 conv1-128 M"), input_size=(160, 320),
                     weights="file", seed=7, weights_path="/tmp/x.pth", device="cpu",
                     compare_a=ModelChoice("B"), compare_b=ModelChoice("C", batch_norm=True), projector=True)
    query = to_query(state)
    assert query["config"] == "custom" and query["spec"] == "64 M 128 conv1-128 M" and query["size"] == "160x320"
    parsed = from_query(query)
    assert parsed.problems == ()
    assert parsed.state == state


def test_bad_values_fall_back_with_a_message():
    parsed = from_query({"config": "Z", "bn": "maybe", "size": "10", "weights": "magic", "seed": "-3"})
    assert parsed.state == AppState()
    assert len(parsed.problems) == 5
    assert any("config='Z'" in problem for problem in parsed.problems)


def test_compare_b_follows_the_sidebar_unless_the_link_chooses_it():
    follows = from_query({"config": "E", "bn": "true"}).state
    assert follows.compare_b is None and follows.compare_b_or_model == ModelChoice("E", batch_norm=True)
    assert to_query(follows) == {"config": "E", "bn": "true"}
    chosen = from_query({"config": "E", "bn": "true", "b_config": "C"}).state
    assert chosen.compare_b_or_model == ModelChoice("C", batch_norm=True)  # its BN from the sidebar's
    assert to_query(chosen)["b_bn"] == "true" and from_query(to_query(chosen)).state == chosen


def test_every_corrected_url_value_says_what_is_used_instead():
    problems = from_query({"config": "Z", "bn": "maybe", "size": "10", "weights": "magic", "seed": "-5",
                           "projector": "loud"}).problems
    assert len(problems) == 6
    assert all("using" in problem.lower() for problem in problems), problems
    assert any("seed='-5'" in problem and "using 0" in problem for problem in problems)


def test_a_seed_beyond_32_bits_says_which_seed_is_used():
    parsed = from_query({"seed": str(2**32 + 5)})
    assert parsed.state.seed == 5
    assert any("using 5" in problem for problem in parsed.problems), parsed.problems
    assert from_query({"seed": "7"}).problems == ()


def test_config_names_are_case_insensitive():
    assert from_query({"config": "a-lrn", "a_config": "c"}).state.model.config == "A-LRN"


@pytest.mark.parametrize(("text", "size"), [("224", (224, 224)), ("160x320", (160, 320)), (" 64 , 96 ", (64, 96))])
def test_parse_size(text, size):
    assert parse_size(text) == size
    assert parse_size(format_size(size)) == size


@pytest.mark.parametrize("text", ["", "abc", "31", "2000", "224x20"])
def test_parse_size_refuses_in_words(text):
    with pytest.raises(ValueError, match="Input size"):
        parse_size(text)


def test_a_named_config_ignores_the_custom_text_so_caches_build_it_once():
    assert ModelChoice("D", spec_text="64 M").canonical() == ModelChoice("D", spec_text="").canonical()
    assert ModelChoice("custom", spec_text="64 M").canonical().spec_text == "64 M"
