"""A classroom at once: ten browser sessions (Playwright contexts on one Chromium) against one app server, each
uploading its own image and running VGG16's forward pass; then the corpus of bad images thrown at the same
server, an upload over the size limit, and the server still answering.

The server's memory (VmRSS and its peak VmHWM from /proc/<pid>/status) and each session's latency are printed
(run with -s) and written to artifacts/e2e/load.json; they are recorded, not asserted, beyond "all completed".
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.corpus import IMAGES, encode, photo
from tests.e2e.conftest import ARTIFACTS, running_app, screenshot, wait_for_render

SESSIONS = 10
MAX_UPLOAD_MB = 50  # .streamlit/config.toml's server.maxUploadSize
RENDERED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen

    def memory_mib(self) -> dict[str, float]:
        """VmRSS (now) and VmHWM (peak so far) of the server process, in MiB."""
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines())
        return {name: int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM")}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A server of its own, so that its memory is this test's alone."""
    with running_app("load-server.log") as (url, process):
        yield Server(url, process)


def wait_all(pages: list[Page], done: Callable[[Page], bool], timeout: float = 300) -> list[float]:
    """Poll every page until ``done``; the seconds each took, from now. One thread drives all pages (Playwright's
    sync API is not thread-safe); the server works on every session at once meanwhile."""
    started = time.perf_counter()
    finished: dict[int, float] = {}
    while len(finished) < len(pages):
        for index, page in enumerate(pages):
            if index not in finished and done(page):
                finished[index] = time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"sessions {sorted(set(range(len(pages))) - set(finished))} did not finish")
        time.sleep(0.1)
    return [finished[index] for index in range(len(pages))]


def shows(text: str) -> Callable[[Page], bool]:
    """Rendered (script not running), and ``text`` on the page."""
    return lambda page: page.locator(RENDERED).count() > 0 and page.get_by_text(text).count() > 0


def upload(page: Page, path: Path) -> None:
    page.get_by_test_id("stFileUploader").locator('input[type="file"]').first.set_input_files(str(path))


def choose_upload(page: Page) -> None:
    page.get_by_test_id("stButtonGroup").get_by_text("Upload", exact=True).first.click()


def test_ten_sessions_at_once_each_upload_and_run_vgg16(browser: Browser, server: Server, tmp_path: Path) -> None:
    figures: dict[str, object] = {"sessions": SESSIONS, "model": "VGG16 (D), random weights, 224x224 crop",
                                  "server_mib_idle": server.memory_mib()}
    contexts = [browser.new_context(viewport={"width": 1280, "height": 1800}) for _ in range(SESSIONS)]
    pages = [context.new_page() for context in contexts]
    try:
        for page in pages:  # all at once: the Forward pass view runs the sample through VGG16 on opening
            page.goto(f"{server.url}/?view=Forward+pass", wait_until="commit")
        figures["open_s"] = wait_all(pages, shows("Top-5 predictions"))
        figures["server_mib_after_open"] = server.memory_mib()

        for page in pages:
            choose_upload(page)
        wait_all(pages, shows("Choose a file"))
        images = [tmp_path / f"session-{index}.png" for index in range(SESSIONS)]
        for index, image in enumerate(images):  # a different image per session: each must see its own
            image.write_bytes(encode(photo((300 + 10 * index, 200 + 10 * index)), "PNG"))
        for page, image in zip(pages, images, strict=True):
            upload(page, image)
        figures["upload_s"] = wait_all(pages, lambda page: shows("Top-5 predictions")(page)
                                       and page.get_by_text("1. Original, ").count() > 0)
        figures["server_mib_after_upload"] = server.memory_mib()

        for index, page in enumerate(pages):
            expect(page.get_by_text(f"1. Original, {300 + 10 * index} × {200 + 10 * index}")).to_be_visible()
            expect(page.get_by_text("this network is untrained").first).to_be_visible()
            assert page.get_by_test_id("stException").count() == 0
        screenshot(pages[-1], "10-load-session-9")
    finally:
        for context in contexts:
            context.close()
    for key in ("open_s", "upload_s"):
        latencies = sorted(figures[key])  # type: ignore[arg-type]
        figures[f"{key}_median"], figures[f"{key}_max"] = latencies[len(latencies) // 2], latencies[-1]
    (ARTIFACTS / "load.json").write_text(json.dumps(figures, indent=2))
    print("\nload test:", json.dumps(figures))


def test_the_corpus_thrown_at_the_server_leaves_it_answering(page: Page, server: Server, tmp_path: Path) -> None:
    page.goto(f"{server.url}/?view=Forward+pass&config=custom&spec=16+M")
    wait_for_render(page)
    choose_upload(page)
    wait_for_render(page)
    for case in IMAGES:
        path = tmp_path / case.name
        path.write_bytes(case.data)
        upload(page, path)
        page.wait_for_timeout(300)
        wait_for_render(page)
        if case.refusal:
            expect(page.get_by_test_id("stAlertContentError").filter(has_text=case.refusal).first).to_be_visible()
            if case.name == "bomb.png":
                screenshot(page, "11-corpus-bomb-refused")
        else:
            width, height = case.size
            expect(page.get_by_text(f"1. Original, {width} × {height}").first).to_be_visible(timeout=60_000)
        assert page.get_by_test_id("stException").count() == 0, case.name
    screenshot(page, "11-corpus-last-accepted")

    too_big = tmp_path / "too-big.png"
    too_big.write_bytes(encode(photo((64, 64)), "PNG") + b"\0" * (MAX_UPLOAD_MB * 2**20 + 1))
    upload(page, too_big)
    expect(page.get_by_text(f"File must be {MAX_UPLOAD_MB}.0MB or smaller").first).to_be_visible(timeout=30_000)
    screenshot(page, "12-upload-too-big")

    with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=5) as response:
        assert response.read().decode().strip() == "ok"
    page.goto(server.url)  # a fresh session still gets the default page
    expect(page.get_by_text("138.36 M").first).to_be_visible(timeout=120_000)
    assert "Traceback" not in (ARTIFACTS / "load-server.log").read_text()


def test_a_shared_link_cannot_put_a_disguised_link_or_a_remote_image_in_the_page(page: Page, server: Server) -> None:
    query = urllib.parse.urlencode({"config": "[Get the weights](http://example.invalid/x)",
                                    "size": "![](http://127.0.0.1:9/pixel.png)"})
    page.goto(f"{server.url}/?{query}")
    wait_for_render(page)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("[Get the weights]").first).to_be_visible()  # the text, as written
    assert sidebar.locator("img").count() == 0
    links = sidebar.locator("a").evaluate_all("links => links.map(a => [a.textContent, a.href])")
    assert all(text == href for text, href in links), links  # a bare URL may be a link, showing where it goes
