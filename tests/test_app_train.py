"""The Train view in AppTest: a few epochs train in the server's queue, the curves appear, Stop stops,
and the trained model is then a weights choice that the Forward pass uses with the dataset's classes."""

from __future__ import annotations

import base64
import io
import random
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

import vgg

APP = str(Path(__file__).resolve().parents[1] / "explorer" / "app.py")


def open_train(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["view"] = "Train"
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def set_tiny_recipe(at: AppTest, epochs: int) -> None:
    at.selectbox(key="train_config").select("A")
    at.selectbox(key="train_divisor").select(32)
    at.number_input(key="train_epochs").set_value(epochs)
    at.run()


def progress_texts(at: AppTest) -> list[str]:
    return [element.proto.text for element in at.get("progress")]


def run_until(at: AppTest, done: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if any(done in text for text in progress_texts(at)):
            return
        time.sleep(0.5)
    errors = [error.value for error in at.error]  # a failed job shows its exception in words
    raise AssertionError(f"no {done!r} within {timeout} s: {progress_texts(at)}; errors shown: {errors}")


def charts(at: AppTest) -> list[str]:
    return [chart.proto.spec for chart in at.get("plotly_chart")]


@pytest.mark.slow
def test_train_shows_curves_and_offers_the_model_to_the_forward_pass() -> None:
    at = open_train()
    assert any("Press Train" in info.value for info in at.info)
    set_tiny_recipe(at, epochs=2)
    at.button(key="train_start").click().run()
    run_until(at, "Finished")
    assert len(charts(at)) == 2
    titles = [markdown.value for markdown in at.markdown]
    assert "**Loss (cross-entropy)**" in titles and "**Accuracy**" in titles
    assert any("Trained here: A+BN mini (widths /32) on digits" in s.value for s in at.success)
    use = next(button for button in at.button if button.key and button.key.startswith("train_use_"))
    use.click().run()
    assert at.radio(key="weights").value == "trained"
    assert any("Trained here: A+BN mini" in option for option in at.selectbox(key="trained_model").options)
    at.query_params["view"] = "Forward pass"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("untrained" in warning.value for warning in at.warning)
    labels = at.dataframe[0].value["Label"].tolist()
    assert set(labels) <= set("0123456789") and len(labels) == 5


@pytest.mark.slow
def test_stop_stops_a_running_job() -> None:
    at = open_train()
    set_tiny_recipe(at, epochs=50)
    at.button(key="train_start").click().run()
    deadline = time.monotonic() + 120
    while not any(b.key and b.key.startswith("train_stop_") for b in at.button) and time.monotonic() < deadline:
        at.run()
    stop = next(button for button in at.button if button.key and button.key.startswith("train_stop_"))
    stop.click().run()
    run_until(at, "Stopped")
    assert not any(b.key and b.key.startswith("train_stop_") for b in at.button)


def test_a_second_tab_on_the_jobs_link_shows_the_recipe_being_trained() -> None:
    first = open_train()
    set_tiny_recipe(first, epochs=1)
    first.select_slider(key="train_lr").set_value(0.05)
    first.number_input(key="train_seed").set_value(7)
    assert first.selectbox(key="train_input_size").value == 0  # the dataset's own
    first.selectbox(key="train_input_size").select(64)
    first.run()
    first.button(key="train_start").click().run()
    job = first.query_params["job"]
    job = job[0] if isinstance(job, list) else job
    second = open_train(job=str(job))
    assert second.selectbox(key="train_config").value == "A"
    assert second.selectbox(key="train_divisor").value == 32
    assert second.number_input(key="train_epochs").value == 1
    assert second.select_slider(key="train_lr").value == 0.05
    assert second.number_input(key="train_seed").value == 7
    assert second.selectbox(key="train_input_size").value == 64  # trained at 64 px, digits' own is 32
    assert not second.warning or not any("Session State API" in w.value for w in second.warning)
    run_until(first, "Finished")


def open_with_trained(checkpoint: bytes, view: str) -> AppTest:
    """The app on ``view`` with ``checkpoint`` uploaded in the sidebar and chosen as the weights."""
    at = open_train(weights="trained")
    at.sidebar.file_uploader(key="trained_upload").upload("a_bn.pth", checkpoint, "application/octet-stream")
    at.query_params["view"] = view
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def stroke_png(side: int = 256) -> str:
    """What the canvas sends back after a stroke: a data URL of its PNG, a white '1' on black."""
    image = Image.new("RGBA", (side, side), (0, 0, 0, 255))
    ImageDraw.Draw(image).line((side // 2, 30, side // 2 - 10, side - 30), fill=(255, 255, 255, 255), width=20)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_a_digit_drawn_on_the_canvas_is_classified_with_the_datasets_classes(digits_checkpoint: bytes) -> None:
    at = open_with_trained(digits_checkpoint, "Forward pass")
    at.get("segmented_control")[0].set_value("Draw").run()
    assert any("Draw a digit on the black square" in info.value for info in at.info)
    assert not at.dataframe  # nothing drawn, nothing predicted
    # The canvas is a custom component, which AppTest cannot draw on: give its key what the browser sends
    # after a stroke (tests/e2e/test_train_e2e.py draws with the mouse for real).
    at.session_state["forward_trained_drawing"] = {
        "drawing": {"raw": {"objects": [{"type": "path"}]}, "data": stroke_png()}, "backgroundFit": None}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    captions = [caption for image in at.image for caption in image.captions]
    assert any(caption.startswith("your drawing: 32 × 32, what the network sees") for caption in captions)
    assert any("into one of 8 x 8 cells" in caption for caption in captions)  # the dataset's scan of the drawing
    labels = at.dataframe[0].value["Label"].tolist()
    assert len(labels) == 5 and set(labels) <= set("0123456789")


def test_the_lessons_forward_pass_runs_the_trained_network(digits_checkpoint: bytes) -> None:
    """With a model trained here chosen, the Lesson's last step runs that network (its flow of shapes at 32 px,
    its predictions over the digits) instead of refusing the sidebar's weights."""
    at = open_with_trained(digits_checkpoint, "Lesson")
    steps = at.slider(key="lesson_step")
    steps.set_value(steps.max).run()  # the last step: forward
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    text = " ".join(markdown.value for markdown in at.markdown)
    assert "The sidebar's weights are a network trained here, **A+BN mini (widths /16) on digits" in text
    flows = [frame.value for frame in at.dataframe if "Call" in frame.value.columns]
    # VGG16 at 224 (the lesson's own network), then the mini at 32
    assert [flow["Output shape"].iloc[0] for flow in flows] == ["3 × 224 × 224", "3 × 32 × 32"]
    assert flows[1]["Output shape"].iloc[-1] == "10"
    predictions = [frame.value for frame in at.dataframe if "Label" in frame.value.columns]
    assert len(predictions) == 1 and set(predictions[0]["Label"]) <= set("0123456789")
    assert len(predictions[0]) == 5


def paper_photo_png() -> bytes:
    """A phone's photo of a digit on paper: a small dark '7' off-centre on a light, slightly uneven page."""
    image = Image.new("RGB", (400, 300), (235, 232, 225))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 250, 400, 300), fill=(215, 212, 205))  # a shadow along the bottom of the page
    draw.line((250, 60, 310, 60), fill=(30, 30, 40), width=9)
    draw.line((310, 60, 270, 170), fill=(30, 30, 40), width=9)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_uploaded_photo_of_a_digit_is_read_as_the_scans_were_and_a_bad_file_in_words(
        digits_checkpoint: bytes) -> None:
    """For a digits network an upload is cut out and scaled like the dataset's scans (its 8x8 scan shown), not
    squashed; any file type reaches the library, which refuses a non-image in words."""
    at = open_with_trained(digits_checkpoint, "Forward pass")
    at.get("segmented_control")[0].set_value("Upload").run()
    uploader = next(u for u in at.get("file_uploader") if "forward_trained_upload" in u.proto.id)
    assert not uploader.proto.type  # no browser-side type list: phone photos reach the library
    uploader.upload("seven.png", paper_photo_png(), "image/png").run()
    assert not at.exception, [e.value for e in at.exception]
    captions = [caption for image in at.image for caption in image.captions]
    assert any("into one of 8 x 8 cells" in caption for caption in captions)
    labels = at.dataframe[0].value["Label"].tolist()
    assert len(labels) == 5 and set(labels) <= set("0123456789")
    uploader = next(u for u in at.get("file_uploader") if "forward_trained_upload" in u.proto.id)
    uploader.upload("notes.png", b"these are my notes, not a picture", "image/png").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("notes.png" in error.value for error in at.error), [error.value for error in at.error]


@pytest.mark.parametrize("kind", ["truncated", "random"])
def test_a_bad_trained_upload_is_refused_in_words_once_and_the_app_keeps_running(
        digits_checkpoint: bytes, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A truncated checkpoint or random bytes in the sidebar's "Trained here" upload: an error in words in the
    sidebar, no traceback, the file read once (not again on every rerun), and the views still work."""
    data = digits_checkpoint[: len(digits_checkpoint) // 2] if kind == "truncated" else random.Random(0).randbytes(5000)
    reads: list[int] = []
    load = vgg.train.load_checkpoint
    monkeypatch.setattr(vgg.train, "load_checkpoint",
                        lambda source, **options: reads.append(1) or load(source, **options))
    at = open_train(weights="trained")
    at.sidebar.file_uploader(key="trained_upload").upload("broken.pth", data, "application/octet-stream").run()
    expected = "truncated or corrupt" if kind == "truncated" else "not a readable torch checkpoint"

    def refused() -> None:
        assert not at.exception, [e.value for e in at.exception]
        shown = [error.value for error in at.sidebar.error]
        assert any("broken.pth was not loaded" in text and expected in text for text in shown), shown

    refused()
    at.query_params["view"] = "Forward pass"
    at.run()
    refused()
    at.run()
    refused()
    assert reads == [1]  # read once, not on every rerun


def test_the_experiment_form_defaults_to_the_experiments_recipe_and_takes_a_learning_rate() -> None:
    at = open_train()
    assert at.selectbox(key="experiment_lr").value is None  # the experiment's own
    assert at.number_input(key="experiment_epochs").value is None
    assert at.selectbox(key="experiment_dataset").value is None  # its own: init's is the shapes
    at.selectbox(key="experiment_name").select("init").run()
    assert any("Its own recipe: shapes, 20 epochs per run, learning rate 0.01." in caption.value
               for caption in at.caption)
    at.selectbox(key="experiment_name").select("lrn")
    at.selectbox(key="experiment_lr").select(0.005)
    at.number_input(key="experiment_epochs").set_value(1)
    at.run()
    at.button(key="experiment_start").click().run()
    run_until(at, "Finished")
    assert any("Recipe: 1 epoch per run, learning rate 0.005" in caption.value and "; digits, widths" in caption.value
               for caption in at.caption)
    assert "Note" in at.dataframe[0].value.columns
