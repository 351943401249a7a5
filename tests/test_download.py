"""Downloads that go wrong on the wire, and the progress reported while they run."""

import socket
import threading
import time

import pytest
import torch

import vgg
from tests.conftest import save_with_hash_name
from tests.test_weights import tiny_state
from vgg.arch import DownloadLimits
from vgg.arch.download import load_state_dict_with_progress, partial_bytes


def test_progress_is_reported_and_ends_at_the_total(file_server, hub_dir):
    base, served = file_server
    path = save_with_hash_name(tiny_state(), served, "tiny")
    calls: list[tuple[int, int | None]] = []
    state = load_state_dict_with_progress(base + path.name, lambda done, total: calls.append((done, total)))
    assert state.keys() == tiny_state().keys()
    assert calls, "the callback was never called"
    assert partial_bytes(path.name, hub_dir / "checkpoints") == 0  # no temporary file left behind


def _listen() -> tuple[str, socket.socket]:
    """A listening socket on a free port of 127.0.0.1, and its base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    return f"http://127.0.0.1:{listener.getsockname()[1]}/", listener


def _accept_request(listener: socket.socket) -> socket.socket | None:
    """The next connection, its request read (and ignored); None once the listener is closed."""
    try:
        connection, _ = listener.accept()
    except OSError:
        return None
    connection.recv(65536)
    return connection


def _serve_one_request(listener: socket.socket, talk) -> threading.Thread:
    """A daemon thread that accepts one request on ``listener`` and hands the connection to ``talk``; a
    client that hangs up ends it quietly."""

    def run() -> None:
        connection = _accept_request(listener)
        if connection is None:
            return
        with connection:
            try:
                talk(connection)
            except OSError:  # the client gave up
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _serve_once(behaviour: str) -> tuple[str, threading.Event, socket.socket]:
    """A raw TCP server on 127.0.0.1 that stalls, or sends half a file and hangs up."""
    base, listener = _listen()
    done = threading.Event()

    def run() -> None:
        while not done.is_set():
            connection = _accept_request(listener)
            if connection is None:
                return
            with connection:
                if behaviour == "drop":
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
                else:
                    done.wait(10)  # stall: say nothing

    threading.Thread(target=run, daemon=True).start()
    return base, done, listener


@pytest.mark.parametrize(("behaviour", "message"), [("stall", "Could not download vgg-12345678.pth.*timed out"),
                                                   ("drop", "vgg-12345678.pth is incomplete or corrupt")])
def test_a_server_that_stalls_or_drops_gives_a_clear_error_and_no_file(behaviour, message, hub_dir, monkeypatch):
    monkeypatch.setattr("vgg.arch.weights.DOWNLOAD_TIMEOUT_SECONDS", 1.0)
    base, done, listener = _serve_once(behaviour)
    try:
        with pytest.raises(vgg.WeightsError, match=message):
            vgg.load_state_dict(base + "vgg-12345678.pth", progress=False)
    finally:
        done.set()
        listener.close()
    checkpoints = hub_dir / "checkpoints"
    assert not checkpoints.exists() or not any(checkpoints.iterdir())


def _serve_in_two_halves(data: bytes) -> tuple[str, threading.Event, socket.socket]:
    """A raw TCP server on 127.0.0.1 that sends the first half of ``data``, then waits for the event."""
    base, listener = _listen()
    release = threading.Event()

    def run() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\n\r\n".encode())
            connection.sendall(data[: len(data) // 2])
            release.wait(30)
            connection.sendall(data[len(data) // 2 :])

    threading.Thread(target=run, daemon=True).start()
    return base, release, listener


def test_a_download_lands_in_the_cache_only_once_complete_and_hash_checked(tmp_path, hub_dir):
    state = {"features.0.weight": torch.randn(250_000)}  # 1 MB
    path = save_with_hash_name(state, tmp_path, "tiny")
    data = path.read_bytes()
    base, release, listener = _serve_in_two_halves(data)
    checkpoints = hub_dir / "checkpoints"
    outcome: dict[str, object] = {}
    worker = threading.Thread(target=lambda: outcome.update(state=vgg.load_state_dict(base + path.name,
                                                                                       progress=False)))
    try:
        worker.start()
        while partial_bytes(path.name, checkpoints) < len(data) // 4 and worker.is_alive():  # writes are buffered
            worker.join(0.05)
        # Half the file has been sent: it sits in a temporary file, and the cache has no file of that name yet.
        assert [p.name.endswith(".partial") for p in checkpoints.iterdir()] == [True]
        assert not (checkpoints / path.name).exists()
        release.set()
        worker.join(30)
    finally:
        release.set()
        listener.close()
    assert torch.equal(outcome["state"]["features.0.weight"], state["features.0.weight"])  # type: ignore[index]
    assert [p.name for p in checkpoints.iterdir()] == [path.name]  # moved into place, temporary file gone


def _trickle(silent_after: int | None = None) -> tuple[str, threading.Event, socket.socket]:
    """A raw TCP server on 127.0.0.1 that announces 10 MB, then sends 16 bytes every 50 ms (or, with
    ``silent_after``, that many bytes and then nothing), until the client hangs up or 30 s pass."""
    base, listener = _listen()
    stop = threading.Event()

    def talk(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n")
        sent = 0
        while not stop.wait(0.05) and sent < 30 * 20 * 16:
            if silent_after is not None and sent >= silent_after:
                continue
            connection.sendall(b"x" * 16)
            sent += 16

    _serve_one_request(listener, talk)
    return base, stop, listener


@pytest.mark.parametrize(("limits", "silent_after", "message"), [
    (DownloadLimits(deadline_s=1.5, min_rate=0), None, r"abandoned: not complete within 1.5 s"),
    (DownloadLimits(deadline_s=60, min_rate=10_000, window_s=1.0), None,
     r"abandoned: the server sent [0-9.]+ kB/s over the last 1 s"),
    (DownloadLimits(deadline_s=1.5, min_rate=0, read_timeout_s=30), 64, r"abandoned: not complete within 1.5 s"),
], ids=["deadline", "minimum-rate", "silent-past-the-deadline"])
def test_a_trickling_download_gives_up_within_its_limits_and_leaves_nothing(limits, silent_after, message, hub_dir):
    base, stop, listener = _trickle(silent_after)
    started = time.monotonic()
    try:
        with pytest.raises(vgg.WeightsError, match=message) as caught:
            vgg.load_state_dict(base + "vgg-12345678.pth", limits=limits)
    finally:
        stop.set()
        listener.close()
    elapsed = time.monotonic() - started
    # Given up by the limits (1.5 s here), long before the trickle would end (30 s): a wide bound, not a benchmark.
    assert elapsed < 15, elapsed
    assert "Nothing was kept" in str(caught.value)
    checkpoints = hub_dir / "checkpoints"
    assert not checkpoints.exists() or not any(checkpoints.iterdir()), list(checkpoints.iterdir())


def test_a_server_that_trickles_its_headers_is_abandoned_at_the_deadline(hub_dir):
    """The deadline covers the status line and headers too: one header line every 0.2 s never trips the
    per-read timeout, and http.client would read 100 of them (20 s here; 100 minutes at the defaults)."""
    base, listener = _listen()
    listener.settimeout(10)  # the server thread ends even if the client never connects
    stop = threading.Event()

    def talk(connection: socket.socket) -> None:
        line = b"HTTP/1.1 200 OK\r\n"
        for number in range(1000):
            connection.sendall(line)
            line = f"X-Slow-{number}: {'x' * 8}\r\n".encode()
            if stop.wait(0.2):
                return

    server = _serve_one_request(listener, talk)
    limits = DownloadLimits(deadline_s=1.0, min_rate=0, read_timeout_s=30)
    started = time.monotonic()
    try:
        with pytest.raises(vgg.WeightsError, match=r"abandoned: not complete within 1 s \(0 B received\)\. "
                                                   r"Nothing was kept"):
            vgg.load_state_dict(base + "vgg-12345678.pth", limits=limits)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        listener.close()
        server.join(5)
    assert not server.is_alive()
    assert elapsed < limits.deadline_s + 1.5, elapsed  # at the deadline, not after 100 header lines
    checkpoints = hub_dir / "checkpoints"
    assert not checkpoints.exists() or not any(checkpoints.iterdir()), list(checkpoints.iterdir())
