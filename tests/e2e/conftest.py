"""Browser tests: a real app server and Debian's headless Chromium (never a downloaded browser)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.cluster import start_app, stop, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "e2e"  # git-ignored: screenshots and timings to look at

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason="Chromium not installed (apt-get install chromium); .ci/run installs it")
        for item in items:
            if "e2e" in item.nodeid:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    return {
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture(scope="session")
def browser_context_args() -> dict:
    return {"viewport": {"width": 1600, "height": 2400}}  # Streamlit scrolls inside: tall shows all


def free_ports(count: int = 1) -> list[int]:
    """Ports free on 127.0.0.1 now (held open together while picked, so they differ)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@contextlib.contextmanager
def running_app(log_name: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """An app server on a free port, healthy, logging to artifacts/e2e/<log_name>; (URL, process)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (port,) = free_ports()
    process = start_app(port, ARTIFACTS / log_name)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url, process
    finally:
        stop(process)


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    with running_app("server.log") as (url, _):
        yield url


def wait_for_render(page, timeout: float = 120_000) -> None:
    """A rerun has finished when the app root says notRunning (after having started)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


def screenshot(page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
