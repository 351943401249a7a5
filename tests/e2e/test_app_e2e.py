"""The app in a real browser: default page, switch to E + BN, upload, feature maps, Compare, Diagram.

Screenshots go to artifacts/e2e (git-ignored); timings are printed (run with -s to see them) and
written to artifacts/e2e/timings.json, not asserted tightly.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, screenshot, wait_for_render

SAMPLE = Path(__file__).resolve().parents[2] / "vgg" / "data" / "samples" / "coffee.jpg"
TIMINGS: dict[str, float] = {}


def open_tab(page: Page, title: str) -> None:
    page.get_by_role("tab", name=title).click()
    page.wait_for_timeout(300)
    wait_for_render(page)


def choose_option(page: Page, label: str, option: str) -> None:
    page.get_by_test_id("stSidebar").get_by_label(label).first.click()
    page.get_by_role("option", name=option).first.click()
    page.wait_for_timeout(300)
    wait_for_render(page)


def test_the_whole_tour(page: Page, app_url: str) -> None:
    started = time.perf_counter()
    page.goto(app_url)
    expect(page.get_by_text("138.36 M").first).to_be_visible(timeout=120_000)
    wait_for_render(page)
    TIMINGS["cold_start_to_first_view_s"] = time.perf_counter() - started
    screenshot(page, "01-default-overview")
    expect(page.get_by_text("212 px").first).to_be_visible()

    started = time.perf_counter()
    choose_option(page, "Configuration", "VGG19 (E)")
    expect(page.get_by_text("143.67 M").first).to_be_visible(timeout=60_000)
    TIMINGS["config_switch_s"] = time.perf_counter() - started
    page.get_by_test_id("stSidebar").get_by_text("Batch norm").first.click()
    page.wait_for_timeout(300)
    wait_for_render(page)
    expect(page.get_by_text("VGG19 (E) + BN at 224 × 224").first).to_be_visible(timeout=60_000)
    assert "config=E" in page.url and "bn=true" in page.url
    screenshot(page, "02-e-bn-overview")

    open_tab(page, "Forward pass")
    page.get_by_test_id("stButtonGroup").get_by_text("Upload", exact=True).first.click()
    wait_for_render(page)
    page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(str(SAMPLE))
    expect(page.get_by_text("Top-5 predictions").first).to_be_visible(timeout=180_000)
    wait_for_render(page, timeout=180_000)
    expect(page.get_by_text("this network is untrained").first).to_be_visible()
    expect(page.get_by_text("brighter = stronger").first).to_be_visible()
    screenshot(page, "03-forward-upload")

    open_tab(page, "Compare")
    # B follows the sidebar: A against E + BN, both sides' totals and the difference
    expect(page.get_by_text("E + BN − A").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("143.68 M").first).to_be_visible()
    page.get_by_text("Diagrams with the changed layers highlighted").first.click()
    wait_for_render(page)
    expect(page.locator("svg text", has_text="conv5_4").first).to_be_attached(timeout=60_000)
    screenshot(page, "04-compare-a-vs-e")

    open_tab(page, "Diagram")
    expect(page.locator("svg .cluster").first).to_be_attached(timeout=60_000)
    screenshot(page, "05-diagram")

    open_tab(page, "Paper")
    expect(page.get_by_text("Table 1: ConvNet configurations").first).to_be_visible()
    screenshot(page, "06-paper")

    (ARTIFACTS / "timings.json").write_text(json.dumps(TIMINGS, indent=2))
    print("\nbrowser timings:", json.dumps(TIMINGS))


def test_a_shared_link_reproduces_the_view(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/?config=custom&spec=32+M+64+M+conv1-64+M&view=Layers")
    wait_for_render(page)
    expect(page.get_by_text("Custom VGG: layer by layer").first).to_be_visible(timeout=60_000)
    screenshot(page, "07-shared-link-custom-layers")
