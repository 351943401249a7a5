"""The upload folder: a size cap that holds under a class's uploads, least recently used out first, one file per
content, nothing half-written left behind."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from explorer.uploads import UploadStore, UploadTooLarge

MB = 2**20


def checkpoint_bytes(seed: int, size: int = 5 * MB) -> bytes:
    """``size`` bytes, different for each seed (cheap to make: the store only hashes and writes them)."""
    return seed.to_bytes(8, "little") + bytes(size - 8)


def folder_bytes(folder: Path) -> int:
    """What du would count: every file in the folder, whatever its name."""
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file()) if folder.exists() else 0


def test_two_hundred_uploads_of_five_mb_never_pass_the_cap(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / "uploads", cap_bytes=40 * MB)
    for seed in range(200):
        path = store.put(checkpoint_bytes(seed))
        assert path.read_bytes()[:64] == checkpoint_bytes(seed)[:64]
        assert folder_bytes(store.folder) <= store.cap_bytes
    assert len(store.files()) == 8  # the eight most recent fill the 40 MB exactly
    assert not list(store.folder.glob("*.partial"))


def test_concurrent_uploads_from_several_threads_never_pass_the_cap(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / "uploads", cap_bytes=30 * MB)
    peak, stop = [0], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], folder_bytes(store.folder))
            except FileNotFoundError:  # a file removed between listing and stat
                continue

    def upload(first: int) -> None:
        for seed in range(first, first + 15):
            store.put(checkpoint_bytes(seed))

    watcher = threading.Thread(target=watch)
    workers = [threading.Thread(target=upload, args=(100 * index,)) for index in range(4)]
    watcher.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stop.set()
    watcher.join()
    assert 0 < peak[0] <= store.cap_bytes
    assert folder_bytes(store.folder) <= store.cap_bytes


def test_the_same_content_is_stored_once_and_marked_used(tmp_path: Path) -> None:
    store = UploadStore(tmp_path, cap_bytes=12 * MB)
    first = store.put(checkpoint_bytes(1))
    second = store.put(checkpoint_bytes(2))
    os.utime(first, (1, 1))  # long ago: the least recently used
    assert store.put(checkpoint_bytes(1)) == first  # dedup: the same file, now the most recent
    store.put(checkpoint_bytes(3))  # 15 MB > 12 MB: the oldest goes, which is now the second
    assert first.exists() and not second.exists()
    assert store.touch(first) and not store.touch(second)


def test_least_recently_used_goes_first(tmp_path: Path) -> None:
    store = UploadStore(tmp_path, cap_bytes=10 * MB)
    old, recent = store.put(checkpoint_bytes(1)), store.put(checkpoint_bytes(2))
    os.utime(recent, (10, 10))
    os.utime(old, (20, 20))  # used after: kept
    store.put(checkpoint_bytes(3))
    assert old.exists() and not recent.exists()


def test_a_file_larger_than_the_cap_is_refused_with_the_limit(tmp_path: Path) -> None:
    store = UploadStore(tmp_path, cap_bytes=4 * MB)
    with pytest.raises(UploadTooLarge, match=r"5.0 MiB, more than this server keeps .*4 MiB"):
        store.put(checkpoint_bytes(1))
    assert store.files() == []


def test_names_say_nothing_of_the_uploader(tmp_path: Path) -> None:
    path = UploadStore(tmp_path, cap_bytes=10 * MB).put(b"tensor bytes")
    assert path.name == hashlib.sha256(b"tensor bytes").hexdigest() + ".pth"


def test_the_cap_and_folder_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VGG_EXPLORER_UPLOAD_DIR", str(tmp_path / "here"))
    monkeypatch.setenv("VGG_EXPLORER_UPLOAD_CAP_MB", "25")
    store = UploadStore.from_env()
    assert store.folder == tmp_path / "here" and store.cap_bytes == 25 * MB
