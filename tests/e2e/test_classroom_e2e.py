"""Every view at classroom sizes: nothing clipped, every chart label drawn, diagrams readable.

Projector mode on at 1280x720 and 1280x800 (what a classroom projector is), off at 1920x1080 and
1400x900. For each view (the tabs the app shows, so a view added later is checked too) the page is
asked which elements hide part of their text (``scrollWidth > clientWidth`` where overflow is cut:
metric values and labels, widget labels, buttons, tabs, headings, table headers, code lines), which chart tick
labels plotly dropped or drew outside the figure, and how tall diagram text is on screen. A full
screenshot of each goes to artifacts/e2e/classroom (git-ignored): look at them.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import ARTIFACTS, wait_for_render

SIZES = [  # (width, height, projector)
    (1280, 720, True), (1280, 800, True), (1920, 1080, False), (1400, 900, False),
]
SHOTS = ARTIFACTS / "classroom"
MIN_DIAGRAM_TEXT_PX = 14  # readable from the back of a room

# Elements whose text a class must read whole. Their descendants are checked too: Streamlit puts the
# ellipsis on an inner div.
_CLIP_SCRIPT = """
() => {
  const groups = {
    metric: '[data-testid="stMetricValue"], [data-testid="stMetricLabel"], [data-testid="stMetricDelta"]',
    button: 'button, [data-testid="stBaseButton-pills"], [data-testid="stDownloadButton"] button',
    tab: '[role="tab"]',
    label: '[data-testid="stMain"] label, [data-testid="stWidgetLabel"]',
    heading: 'h1, h2, h3, h4, h5, h6',
    table: 'th, [data-testid="stTableStyledTable"] td',
    code: 'pre, pre code, .lesson-code, .lesson-code .ln',
  };
  const cut = new Set(['hidden', 'clip', 'auto', 'scroll']);
  const visible = el => el.checkVisibility({visibilityProperty: true, opacityProperty: false}) &&
    el.getBoundingClientRect().height > 0 && el.clientWidth > 0;
  const textBox = el => { const range = document.createRange(); range.selectNodeContents(el);
                          return range.getBoundingClientRect(); };
  const describe = el => (el.innerText || el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 80);
  const found = [];
  for (const [group, selector] of Object.entries(groups)) {
    for (const root of document.querySelectorAll(selector)) {
      if (!visible(root)) continue;
      for (const el of [root, ...root.querySelectorAll('*')]) {
        if (!visible(el)) continue;
        const style = getComputedStyle(el);
        const hides = cut.has(style.overflowX) || style.textOverflow === 'ellipsis';
        if (hides && el.scrollWidth > el.clientWidth + 1) {
          found.push({group, text: describe(root), scroll: el.scrollWidth, client: el.clientWidth});
          break;
        }
      }
      // Text that spills out of its box (overflow visible) runs into its neighbour instead.
      if (group === 'metric' || group === 'button' || group === 'heading' || group === 'label') {
        const box = root.getBoundingClientRect(), text = textBox(root);
        if (text.width > 0 && text.right > box.right + 2)
          found.push({group, text: describe(root) + ' (spills out)', scroll: Math.round(text.right),
                      client: Math.round(box.right)});
      }
    }
  }
  // Static tables that scroll sideways hide their right-hand columns.
  for (const table of document.querySelectorAll('[data-testid="stTable"], [data-testid="stTable"] *')) {
    if (!visible(table)) continue;
    const style = getComputedStyle(table);
    if (cut.has(style.overflowX) && table.scrollWidth > table.clientWidth + 1) {
      found.push({group: 'table', text: 'table scrolls sideways: ' + describe(table).slice(0, 40),
                  scroll: table.scrollWidth, client: table.clientWidth});
    }
  }
  // The tab bar fits (wraps) or scrolls visibly: a tab cut off by the frame is not visible.
  for (const list of document.querySelectorAll('[role="tablist"]')) {
    const frame = list.getBoundingClientRect();
    for (const tab of list.querySelectorAll('[role="tab"]')) {
      const box = tab.getBoundingClientRect();
      if (box.right > frame.right + 1 || box.left < frame.left - 1 || box.right > window.innerWidth)
        found.push({group: 'tab', text: describe(tab) + ' (outside the tab bar)', scroll: box.right,
                    client: frame.right});
    }
  }
  // Data grids (a canvas) that hide columns to the right.
  for (const grid of document.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller')) {
    if (visible(grid) && grid.scrollWidth > grid.clientWidth + 1)
      found.push({group: 'table', text: 'data grid scrolls sideways: ' +
                  describe(grid.closest('[data-testid="stDataFrame"]')).slice(0, 40),
                  scroll: grid.scrollWidth, client: grid.clientWidth});
  }
  return found;
}
"""

# Plotly figures: every category of a bar or line trace (a layer's name along the network) has its tick
# label, no two tick labels overlap, and tick labels and the title lie inside the figure.
_CHART_SCRIPT = """
() => {
  const problems = [];
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    if (!plot.data || plot.getClientRects().length === 0) continue;
    const frame = plot.getBoundingClientRect();
    const keyed = plot.closest('[class*="st-key-"]');
    const name = keyed ? [...keyed.classList].find(c => c.startsWith('st-key-')).slice(7) : 'a chart';
    for (const axis of ['x', 'y']) {
      const labels = new Set();
      for (const trace of plot.data) {
        const horizontal = trace.orientation === 'h';
        if (!['bar', 'scatter'].includes(trace.type) || (axis === 'x') === horizontal) continue;
        for (const value of trace[axis] || []) if (typeof value === 'string') labels.add(value);
      }
      if (labels.size === 0) continue;
      const drawn = new Set([...plot.querySelectorAll(`g.${axis}tick text`)].map(t => t.textContent));
      const missing = [...labels].filter(label => !drawn.has(label));
      if (missing.length) problems.push(`${name}: ${axis} labels not drawn: ${missing.join(', ')}`);
    }
    // Labels drawn over each other cannot be read either (61 layers under one projector chart).
    for (const axis of ['x', 'y']) {
      const boxes = [...plot.querySelectorAll(`g.${axis}tick text`)]
        .map(t => [t.textContent, t.getBoundingClientRect()]).filter(([, box]) => box.width > 0)
        .sort((p, q) => axis === 'x' ? p[1].left - q[1].left : p[1].top - q[1].top);
      const crowded = boxes.slice(1).filter(([, box], i) => { const prev = boxes[i][1];
        return Math.min(prev.right, box.right) - Math.max(prev.left, box.left) > 1 &&
               Math.min(prev.bottom, box.bottom) - Math.max(prev.top, box.top) > 1; }).map(([text]) => text);
      if (crowded.length) problems.push(`${name}: ${axis} labels drawn over each other: ${crowded.join(', ')}`);
    }
    for (const text of plot.querySelectorAll('g.xtick text, g.ytick text, .gtitle, .g-xtitle text, .g-ytitle text')) {
      const box = text.getBoundingClientRect();
      if (box.width === 0) continue;
      if (box.left < frame.left - 1 || box.right > frame.right + 1 || box.top < frame.top - 1 ||
          box.bottom > frame.bottom + 1)
        problems.push(`${name}: "${text.textContent}" drawn outside the figure`);
    }
  }
  return problems;
}
"""

# Graphviz diagrams: the on-screen size of their text (the font size the drawing's scale gives, and the
# height of each text's box as Chromium lays it out, which is what the room sees) and of the drawing.
_DIAGRAM_SCRIPT = """
() => [...document.querySelectorAll('[data-testid="stGraphVizChart"] svg')].filter(svg =>
    svg.getClientRects().length > 0).map(svg => {
  const texts = [...svg.querySelectorAll('text')].filter(text => text.textContent.trim());
  const sizes = texts.map(text => {
    const matrix = text.getScreenCTM();
    return parseFloat(text.getAttribute('font-size') || '14') * Math.hypot(matrix.a, matrix.b);
  });
  const heights = texts.map(text => text.getBoundingClientRect().height);
  const box = svg.getBoundingClientRect();
  return {min_font_px: Math.min(...sizes), min_text_px: Math.min(...heights), width: box.width,
          height: box.height, top: box.top, bottom: box.bottom};
})
"""


_CONTENT_HEIGHT = """
() => Math.max(...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stMain"] *')]
    .slice(0, 400).map(el => el.scrollHeight), document.documentElement.scrollHeight)
"""


def _screenshots(page: Page, name: str, width: int, height: int) -> None:
    """What the room sees first, then the whole view (the viewport made as tall as the content)."""
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    tall = min(int(page.evaluate(_CONTENT_HEIGHT)) + 100, 12_000)
    if tall > height:
        page.set_viewport_size({"width": width, "height": tall})
        page.wait_for_timeout(800)
        page.screenshot(path=str(SHOTS / f"{name}-full.png"))
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)


def _reveal(page: Page, title: str) -> None:
    """What a view shows only on request: the Lesson a few entries in, Compare's diagrams."""
    if title == "Lesson":
        for _ in range(4):
            page.get_by_role("button", name="Next").first.click()
            page.wait_for_timeout(300)
            wait_for_render(page)
    elif title == "Compare":
        page.get_by_text("Diagrams with the changed layers highlighted").first.click()
        wait_for_render(page)
    else:
        return
    page.wait_for_timeout(1500)


def _tabs(page: Page) -> list[str]:
    return [name.strip() for name in page.get_by_role("tab").all_inner_texts()]


def _open(page: Page, title: str, url: str) -> None:
    try:
        page.get_by_role("tab", name=title, exact=True).first.click(timeout=60_000)
    except PlaywrightTimeoutError:  # a busy machine: open the view by its link instead
        page.goto(f"{url}&view={title.replace(' ', '+')}")
    page.wait_for_timeout(400)
    wait_for_render(page, timeout=240_000)
    page.wait_for_timeout(1500)  # charts and diagrams draw after the run ends


@pytest.mark.slow
@pytest.mark.parametrize(("width", "height", "projector"), SIZES, ids=lambda v: str(v).lower())
def test_every_view_is_readable(browser: Browser, app_url: str, width: int, height: int, projector: bool) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    suffix = f"{width}x{height}{'-projector' if projector else ''}"
    try:
        url = f"{app_url}/?projector={'true' if projector else 'false'}"
        page.goto(url)
        wait_for_render(page, timeout=240_000)
        titles = _tabs(page)
        assert len(titles) >= 9, titles
        report: dict[str, dict] = {}
        for index, title in enumerate(titles):
            _open(page, title, url)
            _reveal(page, title)
            report[title] = {"clipped": page.evaluate(_CLIP_SCRIPT), "charts": page.evaluate(_CHART_SCRIPT),
                             "diagrams": page.evaluate(_DIAGRAM_SCRIPT)}
            _screenshots(page, f"{suffix}-{index:02d}-{title.replace(' ', '_')}", width, height)
        (SHOTS / f"{suffix}.json").write_text(json.dumps(report, indent=2))
    finally:
        context.close()
    problems = [f"{title}: {item['group']} '{item['text']}' ({item['scroll']} > {item['client']} px)"
                for title, found in report.items() for item in found["clipped"]]
    problems += [f"{title}: {problem}" for title, found in report.items() for problem in found["charts"]]
    problems += [f"{title}: diagram text {diagram['min_font_px']:.1f} px font, {diagram['min_text_px']:.1f} px tall "
                 f"< {MIN_DIAGRAM_TEXT_PX} px" for title, found in report.items() for diagram in found["diagrams"]
                 if min(diagram["min_font_px"], round(diagram["min_text_px"], 1)) < MIN_DIAGRAM_TEXT_PX]
    problems += [f"Diagram: the diagram ends at {diagram['bottom']:.0f} px, below the {height} px screen"
                 for diagram in report.get("Diagram", {}).get("diagrams", [])[:1] if diagram["bottom"] > height]
    assert not problems, "\n".join(problems)
