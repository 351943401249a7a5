"""The Lesson in Chromium, E with batch norm, at a projector's 1280x720 with Projector mode and at 1920x1080:
each function of the seed's path, reached by a click on the path, shows its code whole (no line cut or
scrolled sideways), nothing clipped, diagrams readable. Screenshots in artifacts/e2e/lesson-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import screenshot, wait_for_render
from tests.e2e.test_classroom_e2e import _CLIP_SCRIPT, _DIAGRAM_SCRIPT, MIN_DIAGRAM_TEXT_PX

PATH = ["vgg19_bn()", "_vgg(…)", 'cfgs["E"]', "make_layers", "VGG.__init__", "VGG.reset_parameters", "VGG.forward"]
HEADINGS = ["vgg19_bn()", '_vgg("E", True, weights, progress)', 'cfgs["E"]', 'make_layers(cfgs["E"], batch_norm=True)',
            "VGG.__init__: self.features", "VGG.__init__: self.reset_parameters()", "VGG.forward(x)"]


def settle(page: Page) -> None:
    page.wait_for_timeout(400)
    wait_for_render(page, timeout=240_000)
    page.wait_for_timeout(1200)  # the diagram draws after the run ends


def problems(page: Page, where: str) -> list[str]:
    found = [f"{where}: {item['group']} '{item['text']}' ({item['scroll']} > {item['client']} px)"
             for item in page.evaluate(_CLIP_SCRIPT)]
    return found + [f"{where}: diagram text {diagram['min_font_px']:.1f} px"
                    for diagram in page.evaluate(_DIAGRAM_SCRIPT) if diagram["min_font_px"] < MIN_DIAGRAM_TEXT_PX]


@pytest.mark.slow
@pytest.mark.parametrize(("width", "height", "projector"), [(1280, 720, True), (1920, 1080, False)])
def test_the_seeds_path_reads_whole_at_classroom_sizes(page: Page, app_url: str, width: int, height: int,
                                                       projector: bool) -> None:
    page.set_viewport_size({"width": width, "height": height})
    name = f"lesson-{width}x{height}{'-projector' if projector else ''}"
    page.goto(f"{app_url}/?view=Lesson&config=E&bn=true&projector={str(projector).lower()}")
    settle(page)
    main = page.get_by_test_id("stMain")
    found: list[str] = []
    for number, (label, heading) in enumerate(zip(PATH, HEADINGS, strict=True)):
        main.get_by_role("radio", name=label, exact=True).first.click()
        settle(page)
        assert main.get_by_role("heading", name=heading).first.is_visible(), heading
        if label == "make_layers":  # on to the first entry, a conv: its branch highlighted
            main.get_by_role("button", name="Next").first.click()
            settle(page)
            assert main.locator(".lesson-code .hl").filter(has_text="isinstance(v, Conv)").count() == 1
        found += problems(page, heading)
        slug = re.sub(r"\W+", "_", label).strip("_")  # cfgs["E"] -> cfgs_E
        screenshot(page, f"{name}-{number}-{slug}")
    assert not found, "\n".join(found)
