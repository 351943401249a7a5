"""The Train view in Chromium: a tiny mini VGG trains, its curves draw, Stop stops a long run, the
trained model is then the sidebar's weights, the Forward pass shows its digits and classifies one drawn with
the mouse; and the view in
projector mode at 1280x720 with no clipped label."""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, screenshot, wait_for_render


def main_area(page: Page):
    return page.get_by_test_id("stMain")


def pick(page: Page, label: str, option: str) -> None:
    main_area(page).get_by_label(label).first.click()
    page.get_by_role("option", name=option, exact=True).first.click()
    page.wait_for_timeout(300)
    wait_for_render(page)


def set_number(page: Page, label: str, value: int) -> None:
    box = main_area(page).get_by_label(label).first
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_timeout(300)
    wait_for_render(page)


def tiny_recipe(page: Page, app_url: str, epochs: int) -> None:
    page.goto(f"{app_url}/?view=Train")
    expect(page.get_by_text("Train a mini VGG, here and now").first).to_be_visible(timeout=120_000)
    wait_for_render(page)
    pick(page, "Configuration", "A")
    pick(page, "Width divisor", "/32 (conv1 2 channels)")
    set_number(page, "Epochs", epochs)


def test_train_draws_curves_and_the_forward_pass_uses_the_model(page: Page, app_url: str) -> None:
    tiny_recipe(page, app_url, epochs=3)
    main_area(page).get_by_role("button", name="Train").first.click()
    expect(page.get_by_text("Finished").first).to_be_visible(timeout=300_000)
    wait_for_render(page)
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
    assert page.locator(".js-plotly-plot").count() >= 2
    page.wait_for_timeout(1000)
    screenshot(page, "train-01-finished")
    main_area(page).get_by_role("button", name="Use it in every view").first.click()
    wait_for_render(page)
    # Streamlit's select box holds its choice as an input's value (not a text node, so get_by_text cannot
    # see it there); the caption under it spells the whole label, which the box cuts at the sidebar's width.
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("combobox", name="Trained model")).to_have_value(
        re.compile(r"^Trained here: A\+BN mini"), timeout=60_000)
    expect(sidebar.get_by_text(re.compile(r"^Trained here: A\+BN mini .* on digits, \d+\.\d%$")).first).to_be_visible()
    page.get_by_role("tab", name="Forward pass").click()
    page.wait_for_timeout(300)
    wait_for_render(page)
    expect(page.get_by_text("Top predictions").first).to_be_visible(timeout=120_000)
    expect(page.get_by_text("brighter = stronger").first).to_be_visible(timeout=60_000)
    assert page.get_by_text("this network is untrained").count() == 0
    screenshot(page, "train-02-forward-with-trained")
    draw_a_one(page)
    expect(page.get_by_text(re.compile(r"^your drawing: 32 × 32")).first).to_be_visible(timeout=120_000)
    expect(page.get_by_text("into one of 8 x 8 cells").first).to_be_visible()
    expect(page.get_by_text("Top predictions").first).to_be_visible()
    wait_for_render(page)
    page.wait_for_timeout(1000)  # the feature maps' image arrives after the run
    screenshot(page, "train-03-forward-drawn-digit")


def draw_a_one(page: Page) -> None:
    """Choose Draw and draw a '1' with the mouse on the canvas (Fabric.js listens on its upper canvas)."""
    main_area(page).get_by_test_id("stButtonGroup").get_by_text("Draw", exact=True).first.click()
    expect(page.get_by_text("Draw a digit on the black square").first).to_be_visible(timeout=60_000)
    canvas = main_area(page).locator("canvas.upper-canvas").first
    expect(canvas).to_be_visible(timeout=30_000)
    box = canvas.bounding_box()
    assert box is not None
    x, top, bottom = box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.12, box["y"] + box["height"] * 0.88
    page.mouse.move(x, top)
    page.mouse.down()
    for step in range(1, 21):  # a stroke made of many moves, as a hand makes it, slanting a little
        page.mouse.move(x - step * 1.5, top + (bottom - top) * step / 20)
    page.mouse.up()


def test_stop_stops_a_long_run(page: Page, app_url: str) -> None:
    tiny_recipe(page, app_url, epochs=100)  # the form's most: minutes, long enough to time a switch and stop it
    main_area(page).get_by_role("button", name="Train").first.click()
    stop = main_area(page).get_by_role("button", name="Stop").first
    expect(stop).to_be_visible(timeout=120_000)
    switch_s = time_a_configuration_switch(page, app_url)  # another student's session, while this one trains
    assert page.get_by_text("Stopped").count() == 0, "the run ended before the switch was timed"
    (ARTIFACTS / "train_switch.json").write_text(json.dumps({"configuration_switch_s_while_training": switch_s}))
    print(f"\nconfiguration switch in another session while a model trains: {switch_s:.2f} s (goal: under 2 s)")
    stop.click()
    expect(page.get_by_text("Stopped").first).to_be_visible(timeout=120_000)
    screenshot(page, "train-04-stopped")


def time_a_configuration_switch(page: Page, app_url: str) -> float:
    """Seconds from choosing VGG19 (E) in a second session's sidebar to its Overview showing E's numbers: what
    a student waits for while someone else's model trains on the same server (recorded, not asserted)."""
    other = page.context.new_page()
    try:
        other.goto(f"{app_url}/?view=Overview")
        expect(other.get_by_text("138.36 M").first).to_be_visible(timeout=120_000)
        wait_for_render(other)
        other.get_by_test_id("stSidebar").get_by_role("combobox", name="Configuration").click()
        started = time.perf_counter()
        other.get_by_role("option", name="VGG19 (E)", exact=True).first.click()
        expect(other.get_by_text("143.67 M").first).to_be_visible(timeout=60_000)
        wait_for_render(other)
        return time.perf_counter() - started
    finally:
        other.close()


def test_projector_mode_at_1280x720_clips_no_label(page: Page, app_url: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{app_url}/?view=Train&projector=true")
    expect(page.get_by_text("Train a mini VGG, here and now").first).to_be_visible(timeout=120_000)
    wait_for_render(page)
    page.wait_for_timeout(1000)
    clipped = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMain"] *')]
        .filter(e => getComputedStyle(e).textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1
                     && e.offsetParent !== null)
        .map(e => e.textContent.trim()).filter(t => t.length > 0)""")
    screenshot(page, "train-05-projector-1280x720")
    assert clipped == [], clipped
