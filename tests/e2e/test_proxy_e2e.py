"""Two app servers behind nginx (deploy/cluster.py, deploy/nginx.conf.template), on free loopback ports: the class's
load test driven through the proxy, and one server stopped in the middle of it.

- Every browser sticks to one server (a cookie hashed to it), WebSockets and uploads pass through nginx.
- One server is stopped after the forward passes: its students are told to reload (the app's notice), reload,
  and carry on (upload again, forward pass, Explain's Grad-CAM, Compare) on the other; the other's students
  notice nothing.
- New sessions after the stop all go to the server still running, and complete.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from deploy.cluster import NGINX, Cluster, running_cluster
from tests.e2e import classroom
from tests.e2e.conftest import ARTIFACTS, free_ports, screenshot

# The load test's class of thirty through the proxy: 26 students from the start and 4 after one server was
# stopped (about 6.5 minutes on two idle cores); VGG_EXPLORER_PROXY_SESSIONS=8 makes a quicker run.
SESSIONS = int(os.environ.get("VGG_EXPLORER_PROXY_SESSIONS", "26"))
LATE_SESSIONS = 4
MOVED_NOTICE = "Reload the page to carry on"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx not installed (apt-get install nginx)")]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    nginx_port, *replica_ports = free_ports(3)
    with running_cluster(replica_ports, nginx_port, run_dir=ARTIFACTS / "proxy") as running:
        yield running


def wait_connected(students: list[classroom.Student], timeout: float | None = None) -> None:
    """Until no page shows Streamlit's "connecting" status (their WebSocket has found a server again). Each
    page retries on its own back-off while the survivor serves the others, so a larger class needs longer:
    90 s plus 5 s a page (a safety net, not a goal)."""
    deadline = time.perf_counter() + (90 + 5 * len(students) if timeout is None else timeout)
    while any(s.page.get_by_test_id("stStatusWidget").filter(has_text="onnecting").count() for s in students):
        assert time.perf_counter() < deadline, "pages still connecting"
        time.sleep(0.2)


RELOAD = classroom.Step("reload", lambda s: s.page.reload(wait_until="commit"),
                        classroom.COMPARE.needles, absent=(MOVED_NOTICE,))


def test_two_servers_behind_nginx_one_stopped_mid_way(browser: Browser, cluster: Cluster, tmp_path: Path) -> None:
    first, second = cluster.replicas
    pictures = classroom.photos(tmp_path, SESSIONS + LATE_SESSIONS)
    students = classroom.new_students(browser, cluster.url, pictures[:SESSIONS])
    late = classroom.new_students(browser, cluster.url, pictures[SESSIONS:], first=SESSIONS)
    figures: dict[str, object] = {"sessions": SESSIONS, "late_sessions": LATE_SESSIONS, "servers": 2}
    try:
        classroom.drive(students, classroom.FORWARD)
        on_first = [s for s in students if s.served_by == first.address]
        on_second = [s for s in students if s.served_by == second.address]
        assert len(on_first) + len(on_second) == SESSIONS, [s.served_by for s in students]
        assert on_first and on_second, "the proxy sent every browser to the same server"
        figures["sessions_per_server"] = [len(on_first), len(on_second)]
        figures["forward_latency_s"] = classroom.latency_figures(students)

        cluster.stop_replica(0)  # mid-way: every forward pass done, Compare not yet opened
        wait_connected(on_first)
        classroom.drive(students, (classroom.COMPARE,))
        for student in students:  # each saw its own picture; only the stopped server's students are told
            assert student.captions_seen == {student.caption}, (student.index, student.captions_seen)
            assert (student.page.get_by_text(MOVED_NOTICE).count() > 0) == (student in on_first), student.index
        screenshot(on_first[0].page, "20-proxy-server-stopped-notice")

        classroom.drive(on_first, (RELOAD, *classroom.SESSION))  # they carry on
        for student in on_first:
            assert student.captions_seen == {student.caption}, (student.index, student.captions_seen)
            assert student.explained_seen == {student.explained}, (student.index, student.explained_seen)
            assert student.served_by == second.address
        screenshot(on_first[0].page, "21-proxy-after-reload")

        classroom.drive(late)  # new sessions: all to the server still running
        assert {s.served_by for s in late} == {second.address}
        figures["late_latency_s"] = classroom.latency_figures(late)
        for student in [*students, *late]:
            assert not student.problems, (student.index, student.problems)
    finally:
        classroom.close([*students, *late])
    assert "Traceback" not in second.log.read_text()
    (ARTIFACTS / "proxy.json").write_text(json.dumps(figures, indent=2))
    print("\nproxy test:", json.dumps(figures))
