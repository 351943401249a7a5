"""Downloads that go wrong on the wire, and the progress reported while they run."""

import socket
import threading

import pytest

import vgg
from tests.conftest import save_with_hash_name
from tests.test_weights import tiny_state
from vgg.download import load_state_dict_with_progress, partial_bytes


def test_progress_is_reported_and_ends_at_the_total(file_server, hub_dir):
    base, served = file_server
    path = save_with_hash_name(tiny_state(), served, "tiny")
    calls: list[tuple[int, int | None]] = []
    state = load_state_dict_with_progress(base + path.name, lambda done, total: calls.append((done, total)))
    assert state.keys() == tiny_state().keys()
    assert calls, "the callback was never called"
    assert partial_bytes(path.name, hub_dir / "checkpoints") == 0  # no temporary file left behind


def _serve_once(behaviour: str) -> tuple[str, threading.Event, socket.socket]:
    """A raw TCP server on 127.0.0.1 that stalls, or sends half a file and hangs up."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
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
    return f"http://127.0.0.1:{listener.getsockname()[1]}/", done, listener


@pytest.mark.parametrize(("behaviour", "message"), [("stall", "Could not download vgg-12345678.pth.*timed out"),
                                                   ("drop", "vgg-12345678.pth is incomplete or corrupt")])
def test_a_server_that_stalls_or_drops_gives_a_clear_error_and_no_file(behaviour, message, hub_dir, monkeypatch):
    monkeypatch.setattr("vgg.weights.DOWNLOAD_TIMEOUT_SECONDS", 1.0)
    base, done, listener = _serve_once(behaviour)
    try:
        with pytest.raises(vgg.WeightsError, match=message):
            vgg.load_state_dict(base + "vgg-12345678.pth", progress=False)
    finally:
        done.set()
        listener.close()
    checkpoints = hub_dir / "checkpoints"
    assert not checkpoints.exists() or not any(checkpoints.iterdir())
