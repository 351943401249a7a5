"""Heavy work in turns: a few at a time, first come first served, each waiting session told its place.

Thirty students pressing "run" at once on a two-core server do not finish sooner by running thirty forward
passes together: each pass would take thirty times as long, every one would hold its intermediate maps at
the same moment, and the last would finish no earlier. With a few turns at a time the server's peak memory
is that of a few passes, and most students get their answer long before the last.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Iterator

SLOTS_ENV = "VGG_EXPLORER_COMPUTE_SLOTS"
DEFAULT_SLOTS = 2  # on two cores: one pass per core, each using torch's threads


class Turns:
    """At most ``slots`` holders at once, in the order they asked (a ticket queue)."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        self.slots = slots
        self._condition = threading.Condition()
        self._waiting: list[int] = []  # tickets, oldest first
        self._running = 0
        self._tickets = itertools.count()

    def waiting(self) -> int:
        with self._condition:
            return len(self._waiting)

    @contextlib.contextmanager
    def turn(self, on_wait: Callable[[int], None] | None = None, *, poll_s: float = 0.5) -> Iterator[None]:
        """Wait for a turn, calling ``on_wait(place)`` (1 = next) now and then, outside the lock. If the waiter
        is interrupted (Streamlit stops a script whose user moved on), its ticket leaves the queue."""
        with self._condition:
            ticket = next(self._tickets)
            self._waiting.append(ticket)
        try:
            while True:
                with self._condition:
                    if self._waiting[0] == ticket and self._running < self.slots:
                        self._waiting.pop(0)
                        self._running += 1
                        break
                    place = self._waiting.index(ticket) + 1
                if on_wait is not None:
                    on_wait(place)
                with self._condition:
                    self._condition.wait(poll_s)
        except BaseException:
            with self._condition:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                self._condition.notify_all()
            raise
        try:
            yield
        finally:
            with self._condition:
                self._running -= 1
                self._condition.notify_all()


def slots_from_env() -> int:
    return max(1, int(os.environ.get(SLOTS_ENV) or DEFAULT_SLOTS))


FORWARD_TURNS = Turns(slots_from_env())  # the process's: every session's forward passes
