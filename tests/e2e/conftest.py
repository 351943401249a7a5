"""Browser tests: a real app server and Debian's headless Chromium (never a downloaded browser)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_app(port: int, log_path: Path, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "streamlit", "run", "explorer/app.py", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    env = {**os.environ, **(extra_env or {})}
    with log_path.open("wb") as log:
        return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"the app did not answer {url}/_stcore/health within {timeout} s")


@contextlib.contextmanager
def running_app(log_name: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """An app server on a free port, healthy, logging to artifacts/e2e/<log_name>; (URL, process)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    process = start_app(port, ARTIFACTS / log_name)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


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
