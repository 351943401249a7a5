"""The classroom cases through AppTest: Compare's two sides, projector tables, diagrams that fit a screen."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "explorer" / "app.py")


def run_app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_compare_shows_both_sides_and_their_difference() -> None:
    at = run_app(view="Compare", config="E")
    totals = at.table[0].value.set_index("Quantity")
    assert list(totals.columns) == ["A", "E", "E − A", "E / A"]
    assert (totals.loc["Parameters", "A"], totals.loc["Parameters", "E"]) == ("132.86 M", "143.67 M")
    assert totals.loc["Parameters", "E − A"] == "+10.80 M"
    assert totals.loc["Weight layers", "E − A"] == "+8"
    changes = at.dataframe[0].value["Change"]
    assert set(changes) == {"same", "added in E"}


def test_compare_says_equal_for_no_change_and_names_replacements() -> None:
    at = run_app(view="Compare", a_config="D", b_config="C")
    totals = at.table[0].value.set_index("Quantity")
    assert totals.loc["Weight layers", "C − D"] == "equal" and totals.loc["Weight layers", "C / D"] == "same"
    assert not any("↑" in value or "↓" in value for value in totals.to_numpy().ravel())
    changes = list(at.dataframe[0].value["Change"])
    assert changes.count("replaced: conv3-256 in D → conv1-256 in C") == 1
    assert not any(change.startswith("added") for change in changes)


def test_compare_lists_the_batch_norm_only_one_side_has() -> None:
    at = run_app(view="Compare", config="A", bn="true")
    layers = at.dataframe[0].value
    changed = layers[layers["Change"] != "same"]
    assert set(changed["Change"]) == {"added in A + BN"} and len(changed) == 8
    assert changed["A + BN"].iloc[0] == "bn1_1 (BN after conv1_1)"
    assert any("removed in A + BN (only A has it)" in caption.value for caption in at.caption)


def test_projector_mode_shows_static_tables_with_separators() -> None:
    at = run_app(view="Layers", projector="true")
    table = at.table[0].value
    assert "MACs" in table.columns and "Receptive field" in table.columns
    assert not at.dataframe  # a canvas grid would not grow with the projector's type


def test_diagram_defaults_to_stages_side_by_side() -> None:
    at = run_app(view="Diagram", config="E", bn="true")
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "newrank=true" in dot and "fontsize=14" in dot


def test_timing_overhead_within_noise_is_said_as_such() -> None:
    from explorer.views.performance import overhead_sentence

    assert "adds 12.0%" in overhead_sentence(0.12, 0.112, 0.1)
    saving = overhead_sentence(-0.145, 0.0855, 0.1)
    assert "-" not in saving.split("(")[0] and "within the run-to-run noise" in saving


def test_compare_b_follows_the_sidebar_and_the_url_carries_both() -> None:
    at = run_app(view="Compare", config="E", bn="true")
    totals = at.table[0].value
    assert list(totals.columns)[1:3] == ["A", "E + BN"]
    at.selectbox(key="config").select("B").run()  # B follows the sidebar while Compare has not chosen it
    assert list(at.table[0].value.columns)[1:3] == ["A", "B + BN"]
    at.selectbox(key="b_config").select("C").run()  # chosen in Compare: B stays C whatever the sidebar says
    at.selectbox(key="config").select("D").run()
    assert list(at.table[0].value.columns)[1:3] == ["A", "C + BN"]
    assert at.query_params["b_config"] == "C" and "config" not in at.query_params  # D, the default


def test_a_compare_link_opens_a_against_the_linked_b() -> None:
    at = run_app(view="Compare", a_config="D", b_config="C", config="E")
    assert list(at.table[0].value.columns)[1:3] == ["D", "C"]


def test_offline_imagenet_weights_say_so_once_and_the_view_runs_on_random_weights(monkeypatch) -> None:
    import urllib.error

    import torch

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    at = run_app(view="Forward pass", weights="imagenet", config="A")
    assert not at.error, [e.value for e in at.error]
    notices = [w.value for w in at.warning if "ImageNet weights are not available" in w.value]
    assert len(notices) == 1 and "random weights (seed 0) meanwhile" in notices[0]
    assert any("untrained" in w.value for w in at.warning)  # the predictions say they are noise
    assert not at.get("progress")  # no stale "Downloading... 0 B" bar
    assert any(h.value == "Top-5 predictions" for h in at.subheader)


def test_imagenet_weights_for_a_network_torchvision_never_published_say_so_and_do_not_stick(monkeypatch) -> None:
    import torch

    def must_not_download(*args, **kwargs):
        raise AssertionError("C has no published weights: nothing may be downloaded for it")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", must_not_download)
    at = run_app(view="Forward pass", weights="imagenet", config="C")
    assert not at.error, [e.value for e in at.error]
    assert not any("could not be downloaded" in w.value for w in at.warning)  # not an "offline" server
    notices = [i.value for i in at.info if "published ImageNet weights only for A, B, D and E" in i.value]
    assert len(notices) == 1 and "has none" in notices[0]
    assert any(h.value == "Top-5 predictions" for h in at.subheader)  # the view runs, on random weights


def test_a_seed_precision_or_device_from_a_link_that_is_not_used_says_what_is(monkeypatch) -> None:
    from explorer import resources

    monkeypatch.setattr(resources, "offered_precisions", lambda device: ("fp32",))  # a CPU without native bf16
    at = run_app(view="Overview", seed=str(2**32 + 3), precision="bf16", device="cuda:7")
    shown = [w.value for w in at.warning] + [e.value for e in at.error] + [i.value for i in at.info]
    assert any("using 3" in text for text in shown), shown
    assert any("cuda:7" in text and "not available" in text for text in shown), shown
    assert any("bf16" in text and "not native" in text and "fp32" in text for text in shown), shown


def test_whole_image_mode_runs_at_the_sidebars_height_and_width() -> None:
    at = run_app(view="Forward pass", size="96x160", config="A")
    at.radio(key="forward_mode").set_value("whole").run()
    assert not at.exception, [e.value for e in at.exception]
    captions = [str(image.proto) for image in at.get("image")]
    assert any("Squashed to 160 × 96" in caption for caption in captions), captions  # width × height, as PIL
    assert not any("has no effect here" in i.value for i in at.info)


def test_input_size_without_effect_in_centre_crop_mode_is_said() -> None:
    at = run_app(view="Forward pass", size="320", config="A")
    assert any("has no effect here" in i.value for i in at.info)


def _chart_layouts(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec)["layout"] for chart in at.get("plotly_chart")]


def test_projector_mode_reaches_the_charts_from_the_page_state() -> None:
    desk = _chart_layouts(run_app(view="Overview"))
    projector = _chart_layouts(run_app(view="Overview", projector="true"))
    assert len(desk) == len(projector) == 2
    assert {layout["font"]["size"] for layout in desk} == {13}
    assert {layout["font"]["size"] for layout in projector} == {20}
    assert all(big["height"] == small["height"] + 120 for small, big in zip(desk, projector, strict=True))
