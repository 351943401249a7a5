"""Writing files so that a failure leaves nothing half-written: a temporary name beside the target,
renamed over it only once the content is complete.

The temporary file lives in the destination's own folder because ``os.replace`` is atomic only
within one file system; a name in /tmp could be on another one.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def temporary_beside(destination: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """A fresh, not yet existing file name in ``destination``'s folder, hidden (a leading dot) and ending
    in ``.part`` + ``suffix`` (some writers insist on an extension: torch.export.load wants ".pt2").

    The caller writes it and ``os.replace``-s it onto the destination; whatever is still there at the end,
    the file and any ``.data`` sidecar an exporter wrote beside it, is removed, on success or error.
    """
    target = Path(destination)
    # uuid4, not a counter: two threads or processes writing the same destination never share a name.
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part{suffix}")
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)
        Path(f"{temporary}.data").unlink(missing_ok=True)


def replace_atomically(temporary: Path, destination: str | os.PathLike[str], mode: int = 0o644) -> None:
    """Give the finished temporary file ordinary permissions and rename it onto the destination."""
    os.chmod(temporary, mode)
    os.replace(temporary, destination)
