"""Progress for weight downloads that still go through torch.hub (and so its cache and hash check).

torch.hub reports progress only as a tqdm bar on stderr. It writes the download to
``<checkpoints>/<file>.<uuid>.partial`` and moves it into place after the hash checks, so a caller
that wants a progress bar (the app) runs the download in a thread and watches that file grow.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from vgg.arch.published import PublishedVariant
from vgg.arch.weights import StateDict, hub_checkpoint_dir, load_state_dict, published_variant

ProgressCallback = Callable[[int, int | None], None]  # (bytes so far, expected total or None)
_MEGABYTE = 1_000_000


def partial_bytes(file_name: str, folder: Path | None = None) -> int:
    """Bytes written so far by torch.hub's temporary files for this download."""
    folder = folder or hub_checkpoint_dir()
    total = 0
    for partial in folder.glob(f"{file_name}.*.partial"):
        try:
            total += partial.stat().st_size
        except FileNotFoundError:  # moved into place (or removed) between glob and stat
            continue
    return total


def load_state_dict_with_progress(source: str | PublishedVariant, on_progress: ProgressCallback, *,
                                  poll_seconds: float = 0.25) -> StateDict:
    """``load_state_dict(source)`` in a worker thread, calling ``on_progress`` as the file grows."""
    variant = published_variant(source)
    file_name = (variant.url if variant else str(source)).rsplit("/", 1)[-1]
    total = round(variant.file_size_mb * 2**20) if variant else None  # torchvision's _file_size is in MiB
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["state"] = load_state_dict(source, progress=False)
        except BaseException as error:  # handed to the caller's thread below
            outcome["error"] = error

    worker = threading.Thread(target=work, name=f"download-{file_name}", daemon=True)
    worker.start()
    while worker.is_alive():
        on_progress(partial_bytes(file_name), total)
        worker.join(poll_seconds)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    on_progress(total or 0, total)
    return outcome["state"]  # type: ignore[return-value]
