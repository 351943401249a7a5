"""Uploaded checkpoints on disk: one folder with a size cap, one file per content, least recently used first out.

A class uploading checkpoints must not fill the server's disk, and thirty students uploading the same file
must not store it thirty times. Files are named by their SHA-256 (never by what a student called them, which
another student could then see in a message), written to a temporary name and renamed, so a half-written
file is never read. Every put or use marks a file as used (its modification time); a put that would pass the
cap first removes the least recently used files. A lock file serialises puts across threads and across the
app servers of one machine (deploy/), which share the folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

UPLOAD_DIR_ENV = "VGG_EXPLORER_UPLOAD_DIR"
UPLOAD_CAP_ENV = "VGG_EXPLORER_UPLOAD_CAP_MB"
DEFAULT_CAP_MB = 1024  # twenty checkpoints of the 50 MB upload limit
SUFFIX = ".pth"
_LOCK_NAME = ".lock"
_THREAD_LOCK = threading.Lock()  # flock is per open file: threads of one process also take this


class UploadTooLarge(ValueError):
    """A file larger than the whole store."""


@dataclass(frozen=True)
class UploadStore:
    folder: Path
    cap_bytes: int

    @classmethod
    def from_env(cls) -> UploadStore:
        """The app's store: VGG_EXPLORER_UPLOAD_DIR (default <temp>/vgg-explorer-uploads) and
        VGG_EXPLORER_UPLOAD_CAP_MB (default 1024)."""
        folder = os.environ.get(UPLOAD_DIR_ENV) or str(Path(tempfile.gettempdir()) / "vgg-explorer-uploads")
        cap_mb = float(os.environ.get(UPLOAD_CAP_ENV) or DEFAULT_CAP_MB)
        return cls(Path(folder), int(cap_mb * 2**20))

    def path_for(self, digest: str) -> Path:
        return self.folder / f"{digest}{SUFFIX}"

    def put(self, data: bytes) -> Path:
        """The file holding ``data`` (stored now, or already there), marked as just used."""
        if len(data) > self.cap_bytes:
            raise UploadTooLarge(f"The file is {len(data) / 2**20:.1f} MiB, more than this server keeps for all "
                                 f"uploads together ({self.cap_bytes / 2**20:.0f} MiB, {UPLOAD_CAP_ENV}). Ask "
                                 "whoever runs it to raise the limit, or to load the checkpoint from the server.")
        digest = hashlib.sha256(data).hexdigest()
        final = self.path_for(digest)
        with self._locked():
            if final.exists():
                os.utime(final)
                return final
            self._make_room(len(data))
            partial = final.with_name(f".{digest}.{os.getpid()}.{threading.get_ident()}.partial")
            try:
                partial.write_bytes(data)
                partial.replace(final)
            finally:
                partial.unlink(missing_ok=True)
        return final

    def touch(self, path: Path) -> bool:
        """Mark a stored file as used; False if it is gone (removed to make room)."""
        try:
            os.utime(path)
        except FileNotFoundError:
            return False
        return True

    def files(self) -> list[Path]:
        return [path for path in self.folder.glob(f"*{SUFFIX}") if path.is_file()]

    def total_bytes(self) -> int:
        """Bytes of every file in the folder, half-written ones included."""
        return sum(_size(path) for path in self.folder.iterdir() if path.name != _LOCK_NAME) \
            if self.folder.exists() else 0

    def _make_room(self, incoming: int) -> None:
        """Remove least recently used files until ``incoming`` more bytes fit under the cap."""
        by_age = sorted(self.files(), key=_mtime)
        total = self.total_bytes()
        while by_age and total + incoming > self.cap_bytes:
            oldest = by_age.pop(0)
            total -= _size(oldest)
            oldest.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with _THREAD_LOCK, (self.folder / _LOCK_NAME).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
