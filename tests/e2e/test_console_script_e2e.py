"""``vgg-explorer``, the installed console script, starts the app from any directory (health check and a page)."""

from __future__ import annotations

import socket
import subprocess

import pytest

from tests.e2e.conftest import ARTIFACTS, wait_for_render, wait_healthy
from tests.test_install import installed_venv

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_console_script_starts_the_app(tmp_path, page):
    venv_bin = installed_venv(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTIFACTS / "console_script.log").open("wb")
    process = subprocess.Popen(
        [str(venv_bin / "vgg-explorer"), "--server.headless", "true", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, process, timeout=120)
        page.goto(url)
        wait_for_render(page)
        page.get_by_text("VGG16").first.wait_for(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "console_script.png"))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
