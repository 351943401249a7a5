"""Heavy work in turns: never more than the slots at once, first come first served, places reported."""

from __future__ import annotations

import threading
import time

import pytest

from explorer.turns import Turns


def test_never_more_than_the_slots_at_once_and_everyone_gets_a_turn() -> None:
    turns = Turns(2)
    inside, peak, done = [0], [0], []
    lock = threading.Lock()

    def work(index: int) -> None:
        with turns.turn(poll_s=0.01):
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            time.sleep(0.01)
            with lock:
                inside[0] -= 1
                done.append(index)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(done) == list(range(12))
    assert peak[0] == 2


def test_a_waiter_is_told_its_place_and_served_in_order() -> None:
    turns = Turns(1)
    release = threading.Event()
    places: dict[str, list[int]] = {"second": [], "third": []}
    order: list[str] = []

    def holder() -> None:
        with turns.turn():
            order.append("first")
            release.wait(10)

    def waiter(name: str) -> None:
        with turns.turn(places[name].append, poll_s=0.01):
            order.append(name)

    first = threading.Thread(target=holder)
    first.start()
    while not order:
        time.sleep(0.005)
    second = threading.Thread(target=waiter, args=("second",))
    second.start()
    while turns.waiting() < 1:
        time.sleep(0.005)
    third = threading.Thread(target=waiter, args=("third",))
    third.start()
    while turns.waiting() < 2 or not places["third"]:
        time.sleep(0.005)
    release.set()
    for thread in (first, second, third):
        thread.join(timeout=10)
    assert order == ["first", "second", "third"]
    assert places["second"][0] == 1 and places["third"][0] == 2


def test_an_interrupted_waiter_leaves_the_queue() -> None:
    turns = Turns(1)

    def give_up(place: int) -> None:
        raise KeyboardInterrupt  # what Streamlit's StopException is to the waiting script

    with turns.turn():
        with pytest.raises(KeyboardInterrupt), turns.turn(give_up):
            pass
        assert turns.waiting() == 0
    with turns.turn():  # and the queue still works
        pass
