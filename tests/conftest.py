"""Shared fixtures: a local HTTP server for download tests, a private torch hub cache, a trained mini's
checkpoint."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import vgg.train


@pytest.fixture(scope="session")
def digits_checkpoint() -> bytes:
    """A small digits network, as `python -m vgg train --out` would write it (a few seconds)."""
    recipe = vgg.train.Recipe("A", batch_norm=True, epochs=2, lr=0.02, width_divisor=16, batch_size=32)
    return vgg.train.checkpoint_bytes(vgg.train.fit(recipe))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Serve a fresh folder on 127.0.0.1; yields (base URL, folder). Stopped by its own handle."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def hub_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private torch hub cache, so tests never touch (or reuse) the user's."""
    directory = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "_hub_dir", str(directory))
    return directory


def save_with_hash_name(state: dict, folder: Path, stem: str) -> Path:
    """Save a checkpoint named as torchvision names them: <stem>-<first 8 hex of sha256>.pth."""
    temporary = folder / f"{stem}.tmp"
    torch.save(state, temporary)
    digest = hashlib.sha256(temporary.read_bytes()).hexdigest()
    final = folder / f"{stem}-{digest[:8]}.pth"
    temporary.rename(final)
    return final
