"""A session's large results are held while their view is on screen and in use, and let go otherwise."""

from __future__ import annotations

from explorer import session_memory
from explorer.session_memory import SessionResults
from tests.test_app import run_app

SMALL = {"config": "custom", "spec": "16 M"}  # a small network: the forward pass runs in a blink


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_result_is_found_by_its_key_only() -> None:
    results = SessionResults()
    results.put("s1", "forward", ("D", "img-a"), "maps of a")
    assert results.get("s1", "forward", ("D", "img-a")) == "maps of a"
    assert results.get("s1", "forward", ("D", "img-b")) is None  # another image: computed again
    assert results.get("s2", "forward", ("D", "img-a")) is None  # another session never sees it


def test_results_idle_longer_than_the_limit_are_released_and_use_keeps_them() -> None:
    clock = Clock()
    results = SessionResults(clock)
    results.put("reading", "forward", 1, "kept")
    results.put("gone-home", "forward", 1, "released")
    clock.now += 100
    results.get("reading", "forward", 1)  # a student still clicking
    clock.now += 100
    assert results.release_idle(150) == 1
    assert results.held() == [("reading", "forward")]


def test_keep_only_drops_the_views_not_on_screen() -> None:
    results = SessionResults()
    results.put("s1", "Forward pass", 1, "maps")
    results.put("s2", "Forward pass", 1, "maps")
    assert results.keep_only("s1", ["Compare"]) == 1
    assert results.held() == [("s2", "Forward pass")]


def test_leaving_the_forward_pass_releases_its_maps() -> None:
    at = run_app(view="Forward pass", **SMALL)
    assert not at.exception
    held = [name for name in session_memory.RESULTS.held() if name[1] == "Forward pass"]
    assert held, "the forward pass keeps its maps while it is on screen"
    session = held[-1][0]
    at.query_params["view"] = "Compare"  # the tab bar follows the URL
    at.run()
    assert any("side by side" in header.value for header in at.header)
    assert (session, "Forward pass") not in session_memory.RESULTS.held()
