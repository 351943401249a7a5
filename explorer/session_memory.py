"""Large per-session results (a forward pass's feature maps: 58 MiB for VGG16), held only while they can be seen.

A class leaves tabs open: thirty sessions each holding the maps of their last forward pass would keep most
of a server's memory for pages nobody is reading. So a session's results live here, not in its session
state: a view's result is dropped as soon as that view is closed (what is on screen stays: the browser has
the page, and Streamlit keeps the images it sent), and every result untouched for
``VGG_EXPLORER_IDLE_RELEASE_S`` seconds (default 180) is dropped by a sweeper thread. A dropped result is
computed again, the same, the next time its view needs it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from streamlit.runtime.scriptrunner import get_script_run_ctx

IDLE_RELEASE_ENV = "VGG_EXPLORER_IDLE_RELEASE_S"
DEFAULT_IDLE_RELEASE_S = 180.0


@dataclass
class _Entry:
    key: Hashable  # what the value was computed from; a different key is a miss
    value: object
    used: float  # time.monotonic() of the last get or put


class SessionResults:
    """Results by (session, slot): one value per slot (say, "forward") per session. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def get(self, session: str, slot: str, key: Hashable) -> object | None:
        with self._lock:
            entry = self._entries.get((session, slot))
            if entry is None or entry.key != key:
                return None
            entry.used = self._clock()
            return entry.value

    def latest(self, session: str, slot: str) -> object | None:
        """The slot's value whatever its key (or None), without marking it used."""
        with self._lock:
            entry = self._entries.get((session, slot))
            return None if entry is None else entry.value

    def put(self, session: str, slot: str, key: Hashable, value: object) -> None:
        with self._lock:
            self._entries[(session, slot)] = _Entry(key, value, self._clock())

    def drop(self, session: str, slot: str) -> bool:
        with self._lock:
            return self._entries.pop((session, slot), None) is not None

    def keep_only(self, session: str, slots: Iterable[str]) -> int:
        """Drop this session's results of every slot not in ``slots`` (the views not on screen); how many."""
        keep = set(slots)
        with self._lock:
            gone = [name for name in self._entries if name[0] == session and name[1] not in keep]
            for name in gone:
                del self._entries[name]
        return len(gone)

    def release_idle(self, max_idle_s: float) -> int:
        """Drop every result not used for ``max_idle_s`` seconds; how many."""
        cutoff = self._clock() - max_idle_s
        with self._lock:
            gone = [name for name, entry in self._entries.items() if entry.used < cutoff]
            for name in gone:
                del self._entries[name]
        return len(gone)

    def held(self, session: str | None = None) -> list[tuple[str, str]]:
        with self._lock:
            return [name for name in self._entries if session is None or name[0] == session]


RESULTS = SessionResults()  # the process's: every session of this server


def session_id() -> str:
    """This browser session's id (one per tab), while a script run is in progress."""
    context = get_script_run_ctx()
    return context.session_id if context is not None else "no-session"


def idle_release_seconds() -> float:
    return float(os.environ.get(IDLE_RELEASE_ENV) or DEFAULT_IDLE_RELEASE_S)


def give_memory_back() -> None:
    """Collect, then ask glibc to return freed heap pages to the system (else RSS stays at its peak)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


_SWEEPER_LOCK = threading.Lock()
_sweeper: threading.Thread | None = None


def start_sweeper(results: SessionResults = RESULTS) -> None:
    """Start (once per process) the daemon thread that drops idle results every quarter of the idle time."""
    global _sweeper
    with _SWEEPER_LOCK:
        if _sweeper is not None and _sweeper.is_alive():
            return
        idle = idle_release_seconds()

        def sweep() -> None:
            while True:
                time.sleep(max(idle / 4, 1.0))
                if results.release_idle(idle):
                    give_memory_back()

        _sweeper = threading.Thread(target=sweep, name="vgg-explorer-idle-release", daemon=True)
        _sweeper.start()
