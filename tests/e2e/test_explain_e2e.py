"""The Explain view in Chromium: at 1920x1080, and at a projector's 1280x720 with Projector mode,
with no label clipped. Screenshots in artifacts/e2e/explain-*.png, to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import screenshot, wait_for_render

SMALL = "config=custom&spec=16+M+32+M+32+M"
CLIPPED = """() => [...document.querySelectorAll('[data-testid="stMain"] *')].filter(element => {
    const style = getComputedStyle(element);
    return style.textOverflow === 'ellipsis' && element.scrollWidth > element.clientWidth + 1
        && element.textContent.trim().length > 0;
}).map(element => element.textContent.trim().slice(0, 60))"""


def open_explain(page: Page, app_url: str, query: str) -> None:
    page.goto(f"{app_url}/?view=Explain&{SMALL}{query}")
    wait_for_render(page)
    page.get_by_text("Grad-CAM at conv3_1").first.wait_for(timeout=120_000)
    page.wait_for_timeout(500)
    wait_for_render(page)


@pytest.mark.parametrize(("width", "height", "query", "name"), [
    (1920, 1080, "", "explain-1920x1080"),
    (1280, 720, "&projector=true", "explain-1280x720-projector"),
])
def test_the_explain_view_shows_maps_side_by_side_unclipped(page: Page, app_url: str, width, height, query, name):
    page.set_viewport_size({"width": width, "height": height})
    open_explain(page, app_url, query)
    main = page.get_by_test_id("stMain")
    assert main.get_by_test_id("stImage").count() >= 3  # two overlays and conv1_1's filters (in a hidden tab)
    assert main.get_by_text("untrained network's score").first.is_visible()
    screenshot(page, name)
    assert page.evaluate(CLIPPED) == []
    page.get_by_role("tab", name="Dense evaluation (paper, Sec. 3.2)").click()
    page.get_by_role("button", name="Run dense evaluation").click()
    page.get_by_text("The maps show, per position").first.wait_for(timeout=180_000)
    wait_for_render(page)
    page.wait_for_timeout(800)
    screenshot(page, f"{name}-dense")
    assert page.evaluate(CLIPPED) == []
