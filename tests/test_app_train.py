"""The Train view in AppTest: a few epochs train in the server's queue, the curves appear, Stop stops,
and the trained model is then a weights choice that the Forward pass uses with the dataset's classes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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
