"""The Explain view and the effective receptive field in the Receptive field view, through AppTest,
on a small custom network and a small mini trained on digits, so that every panel runs in seconds."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_app import assert_clean, run_app

SMALL = {"config": "custom", "spec": "16 M 32 M 32 M"}


def warnings(at: AppTest) -> list[str]:
    return [warning.value for warning in at.warning]


@pytest.fixture(scope="module")
def explain_view() -> AppTest:
    at = run_app(view="Explain", **SMALL)
    assert_clean(at)
    return at


def test_maps_side_by_side_with_the_random_weights_notice_on_every_panel(explain_view):
    at = explain_view
    texts = warnings(at)
    assert any("untrained network's score" in text for text in texts)  # attribution
    assert any("score maps below" in text for text in texts)  # dense evaluation
    assert any("untrained unit" in text for text in texts)  # what units want
    assert at.multiselect(key="explain_methods").value == ["gradcam", "guided_backprop"]
    assert at.selectbox(key="explain_layer").value == "features.6"  # the last conv: conv3_1
    assert len(at.get("image")) == 3  # two overlays and the first layer's filters


def test_another_method_class_and_opacity_rerun_cleanly(explain_view):
    at = explain_view
    at.multiselect(key="explain_methods").set_value(["gradcam", "saliency", "occlusion"]).run()
    assert_clean(at)
    at.select_slider(key="explain_window").set_value(64)
    at.select_slider(key="explain_stride").set_value(64).run()
    classes = at.selectbox(key="explain_class").options
    at.selectbox(key="explain_class").select(classes[2])
    at.slider(key="explain_opacity").set_value(0.8).run()
    assert_clean(at)
    assert len(at.get("image")) == 4  # three overlays and the filters


def test_dense_evaluation_on_demand(explain_view):
    at = explain_view
    at.multiselect(key="explain_scales").set_value([224, 256]).run()
    at.button(key="explain_dense_run").click().run()
    assert_clean(at)
    frames = [table.value for table in at.dataframe if "Test" in table.value.columns]
    assert len(frames) == 1
    tests = list(frames[0]["Test"])
    assert tests == ["dense, Q = 224", "dense, Q = 256", "adaptive pool, Q = 224", "adaptive pool, Q = 256",
                     "multi-scale dense (the paper)", "torchvision: resize 256, crop 224"]


def test_what_units_want_computes_once_then_comes_from_the_store(explain_view):
    at = explain_view
    at.slider(key="explain_unit_count").set_value(2)
    at.select_slider(key="explain_unit_steps").set_value(32).run()
    before = len(at.get("image"))
    at.button(key="explain_units_run").click().run()
    assert_clean(at)
    assert len(at.get("image")) == before + 2
    at.run()  # the next run finds both channels in the shared store: nothing left to compute
    assert at.button(key="explain_units_run").disabled
    assert len(at.get("image")) == before + 2


def test_the_receptive_field_view_measures_the_effective_field():
    at = run_app(view="Receptive field", size="64", **SMALL)
    assert_clean(at)
    at.button(key="rf_erf_run").click().run()
    assert_clean(at)
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Gradient outside the theoretical field"] == "0.0%"
    assert metrics["Theoretical field (analysis)"] == "18 px"  # conv3_1, the view's default layer
    assert any("Gaussian at initialisation" in text for text in warnings(at))


@pytest.fixture(scope="module")
def trained_explain_view(digits_checkpoint: bytes) -> AppTest:
    """The Explain view on a mini trained on digits (widths /16, two epochs: a few seconds), uploaded."""
    from tests.test_app_train import open_with_trained

    at = open_with_trained(digits_checkpoint, "Explain")
    assert_clean(at)
    return at


def image_captions(at: AppTest) -> list[str]:
    return [picture.caption for element in at.get("image") for picture in element.proto.imgs]


def test_a_trained_mini_gets_the_full_networks_panels_at_its_own_size(trained_explain_view):
    at = trained_explain_view
    assert "A+BN mini (widths /16) on digits" in at.header[0].value
    captions = image_captions(at)
    assert captions[0].startswith("Grad-CAM at conv5_2") and captions[1].startswith("Guided backprop: class ")
    assert any(caption.startswith("conv1_1's 3 × 3 RGB kernels") for caption in captions)  # the filters grid
    # dense evaluation at the mini's 32 px and at twice it: fc6 (1 x 1 here) slides over 1 x 1, then 2 x 2 maps
    assert any(caption.startswith("Q = 32: 1 × 1 positions") for caption in captions), captions
    assert any(caption.startswith("Q = 64: 2 × 2 positions") for caption in captions), captions
    assert len(captions) == 5  # two maps, two score maps, the filters
    frames = [table.value for table in at.dataframe if "Test" in table.value.columns]
    assert len(frames) == 1
    assert list(frames[0]["Test"]) == ["dense, Q = 32", "dense, Q = 64", "adaptive pool, Q = 32",
                                       "adaptive pool, Q = 64", "multi-scale dense (the paper)",
                                       "the ordinary forward at 32 px (as trained)"]
    assert set(frames[0]["Top class"]) <= set("0123456789")
    assert not any("Random weights" in text for text in warnings(at))


def test_a_trained_minis_occlusion_is_scaled_to_its_input(trained_explain_view):
    at = trained_explain_view
    at.multiselect(key="explain_trained_methods").set_value(["gradcam", "occlusion"]).run()
    assert_clean(at)
    assert at.select_slider(key="explain_trained_window").value == 8
    assert at.select_slider(key="explain_trained_stride").value == 4
    assert any("scaled to this network's 32 px input: a 8 px window moved 4 px" in caption.value
               for caption in at.caption)
    assert [caption.split(":")[0] for caption in image_captions(at)[:2]] == ["Grad-CAM at conv5_2 (features.25)",
                                                                           "Occlusion"]
    at.select_slider(key="explain_trained_window").set_value(4)
    at.select_slider(key="explain_trained_stride").set_value(16).run()  # longer than the window: said in words
    assert not at.exception
    assert any("larger than the window" in text for text in warnings(at))


def test_what_a_trained_minis_units_want_at_its_input_size(trained_explain_view):
    at = trained_explain_view
    at.slider(key="explain_trained_unit_count").set_value(2)
    at.select_slider(key="explain_trained_unit_steps").set_value(32).run()
    before = len(image_captions(at))
    at.button(key="explain_trained_units_run").click().run()
    assert_clean(at)
    pictures = [picture for element in at.get("image") for picture in element.proto.imgs]
    assert len(pictures) == before + 2
    assert [picture.caption.split(":")[0] for picture in pictures[-2:]] == ["channel 0", "channel 1"]
    at.run()  # the store keys the trained model by its id: both channels come back without computing
    assert at.button(key="explain_trained_units_run").disabled


@pytest.mark.slow
def test_a_mini_trained_on_shapes_is_explained_on_its_test_images_with_the_box_and_the_pointing_game():
    from tests.test_app_train import open_train, run_until

    at = open_train()
    at.selectbox(key="train_config").select("A")
    at.selectbox(key="train_divisor").select(32)
    at.selectbox(key="train_dataset").select("shapes")
    at.number_input(key="train_epochs").set_value(1)
    at.run()
    at.button(key="train_start").click().run()
    run_until(at, "Finished")
    next(button for button in at.button if button.key and button.key.startswith("train_use_")).click().run()
    at.query_params["view"] = "Explain"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "A+BN mini (widths /32) on shapes" in at.header[0].value and "where it looks" in at.header[0].value
    captions = [caption for caption in image_captions(at) if " at " in caption or caption.startswith("Guided")]
    assert len(captions) == 2, captions  # Grad-CAM and guided backprop, the defaults
    assert captions[0].startswith("Grad-CAM at conv5_2 (features.")
    assert all("peak inside the box" in caption or "peak outside the box" in caption for caption in captions)
    at.number_input(key="explain_trained_index").set_value(7).run()
    assert any("test image 7: a " in caption.value for caption in at.caption)
    at.button(key="explain_trained_pointing").click().run()
    metrics = {metric.label: metric.value for metric in at.metric}
    assert set(metrics) == {"Peaks on the object", "A random point"}
    assert all(value.endswith("%") for value in metrics.values())
