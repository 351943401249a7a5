"""Downloads that go wrong on the wire, and the progress reported while they run."""

import socket
import threading

import pytest
import torch

import vgg
from tests.conftest import save_with_hash_name
from tests.test_weights import tiny_state
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


def _serve_once(behaviour: str) -> tuple[str, threading.Event, socket.socket]:
    """A raw TCP server on 127.0.0.1 that stalls, or sends half a file and hangs up."""
    base, listener = _listen()
    done = threading.Event()

    def run() -> None:
        while not done.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
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
