"""Loading checkpoints: torchvision's published ImageNet weights, a URL, or a local file.

Downloads go through ``torch.hub.load_state_dict_from_url`` into torch's hub cache with the hash
checked, so a user who already has torchvision's files does not download them again, and a file
whose hash is wrong is never moved into the cache (torch.hub writes to a temporary file first).
Files are read with ``weights_only=True``: a pickle that would run code is refused.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import http.client
import os
import pickle
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from vgg.arch.configs import CONFIGS
from vgg.arch.model import VGG, make_layers
from vgg.arch.published import PUBLISHED, PublishedVariant
from vgg.errors import WeightsError
from vgg.format import nbytes

StateDict = dict[str, torch.Tensor]
DOWNLOAD_TIMEOUT_SECONDS = 60.0  # a server silent this long is treated as gone (torch.hub sets no timeout)
_CHUNK = 1 << 16
_FC8 = "classifier.6."
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")  # common training-loop checkpoint layouts


def hub_checkpoint_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def published_variant(source: str | os.PathLike[str] | PublishedVariant) -> PublishedVariant | None:
    """The published checkpoint a source names ("vgg16_bn", or the record itself), else None."""
    if isinstance(source, PublishedVariant):
        return source
    return PUBLISHED.get(os.fspath(source).lower())


def load_state_dict(source: str | os.PathLike[str] | PublishedVariant, *, progress: bool = True,
                    limits: DownloadLimits | None = None) -> StateDict:
    """A state_dict from a builder name ("vgg16_bn"), a published variant, a URL, or a local path.

    A download is abandoned (WeightsError, nothing kept) past ``limits`` (see DownloadLimits). ``progress``
    is accepted as torchvision's builders accept it; a caller that shows progress uses
    ``load_state_dict_with_progress``."""
    variant = published_variant(source)
    if variant is not None:
        return _download(variant.url, progress=progress, limits=limits)
    text = os.fspath(source)
    if text.startswith(("http://", "https://")):
        return _download(text, progress=progress, limits=limits)
    return read_checkpoint(Path(text))


def _download(url: str, *, progress: bool, limits: DownloadLimits | None = None) -> StateDict:
    """torch.hub's cache and naming (``<hub>/checkpoints/<file>``, the file name's hash prefix checked), but our
    own transfer: torch.hub's has no deadline, so a server that trickles bytes would hold a session forever."""
    file_name = url.rsplit("/", 1)[-1]
    cached = hub_checkpoint_dir() / file_name
    by_hand = (f"If this machine is offline, download {url} by hand and put it at {cached} (or load the file by "
               "its path).")
    if not cached.exists():
        match = torch.hub.HASH_REGEX.search(file_name)
        try:
            download_file(url, cached, hash_prefix=match.group(1) if match else None,
                          limits=limits or DownloadLimits(read_timeout_s=DOWNLOAD_TIMEOUT_SECONDS))
        except WeightsError as error:
            raise WeightsError(f"{error} {by_hand}") from error
    try:
        state = torch.load(cached, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise WeightsError(_unsafe_message(file_name, error)) from error
    except Exception as error:  # a served file that is not a checkpoint fails inside torch.load
        raise WeightsError(f"The downloaded {file_name} is not a readable PyTorch checkpoint "
                           f"({_first_line(error)}).") from error
    return _unwrap(state, file_name)


@dataclass(frozen=True)
class DownloadLimits:
    """When a download is abandoned: not complete within ``deadline_s``, slower than ``min_rate`` bytes/s over
    the last ``window_s`` seconds, or silent for ``read_timeout_s``. The defaults let torchvision's largest
    checkpoint (548 MB) through at 1 MB/s and give up on a server that trickles."""

    deadline_s: float = 1800.0
    min_rate: float = 50_000.0
    window_s: float = 30.0
    read_timeout_s: float = 60.0


class _Abandoned(WeightsError):
    """Raised inside the download loop; turned into a WeightsError that names the file."""


def download_file(url: str, destination: Path, *, hash_prefix: str | None = None,
                  limits: DownloadLimits = DownloadLimits()) -> None:
    """``url`` into ``destination`` through a temporary ``<name>.<uuid>.partial`` beside it, renamed only once
    complete and (with ``hash_prefix``) its SHA-256 checked, as torch.hub does; unlike torch.hub, with a
    deadline and a minimum rate. Whatever goes wrong, the temporary file is removed; raises WeightsError."""
    name = destination.name
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f"{name}.{uuid.uuid4().hex}.partial")
    try:
        digest, received, expected = _fetch(url, partial, limits)
        if expected is not None and received != expected:
            raise WeightsError(f"The download of {name} is incomplete or corrupt (the server sent {received:,} of "
                               f"{expected:,} bytes), so it was not kept. Try again.")
        if hash_prefix and not digest.startswith(hash_prefix):
            raise WeightsError(f"The download of {name} is incomplete or corrupt (its SHA-256 does not match the "
                               "name's hash prefix), so it was not kept. Try again.")
        partial.replace(destination)
    except _Abandoned as error:
        raise WeightsError(f"The download of {name} was abandoned: {error}. Nothing was kept; try again later, or "
                           "download the file by hand.") from error
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        raise WeightsError(f"Could not download {name}: {reason}.") from error
    finally:
        partial.unlink(missing_ok=True)


def _fetch(url: str, partial: Path, limits: DownloadLimits) -> tuple[str, int, int | None]:
    """Stream ``url`` into ``partial``; the SHA-256 of what was written, its size, and the size announced.

    The deadline covers the whole transfer: a watchdog shuts the connection when it passes, wherever the
    transfer is waiting (the TLS handshake, the status line and headers, the body), since a socket timeout
    bounds each read, not their sum: a server that sent one header line a minute would otherwise hold the
    download for a hundred minutes (http.client reads up to 100 headers). Only name resolution, which no
    socket call interrupts, can outlast it; a connection made after the deadline is shut at once."""
    started = time.monotonic()
    deadline = started + limits.deadline_s
    digest = hashlib.sha256()
    received = 0
    expected: int | None = None
    recent: collections.deque[tuple[float, int]] = collections.deque([(started, 0)])  # (time, bytes so far)
    watchdog = _Watchdog(limits.deadline_s)
    try:
        with _opener(watchdog).open(url, timeout=min(limits.read_timeout_s, limits.deadline_s)) as response, \
                partial.open("wb") as out:
            expected = int(response.headers.get("Content-Length") or 0) or None
            while True:
                _limit_next_read(response, min(limits.read_timeout_s, deadline - time.monotonic()))
                try:
                    chunk: bytes | None = response.read1(_CHUNK)
                except TimeoutError:
                    if time.monotonic() < deadline - 0.01:
                        raise  # silent for read_timeout_s: "timed out"
                    chunk = None  # the deadline passed while waiting: _check_pace says so
                if chunk == b"":
                    break  # the end (complete, cut short, or shut by the watchdog)
                if chunk:
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                now = time.monotonic()
                _check_pace(now, started, deadline, received, expected, recent, limits)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        if watchdog.stop():  # the failure is the watchdog's doing: say why
            raise _Abandoned(_late(limits, received, expected)) from error
        raise
    finally:
        fired = watchdog.stop()
    if fired:  # the body ended because the watchdog shut the connection
        raise _Abandoned(_late(limits, received, expected))
    return digest.hexdigest(), received, expected


def _late(limits: DownloadLimits, received: int, expected: int | None) -> str:
    of_total = f" of {nbytes(expected)}" if expected else ""
    return f"not complete within {limits.deadline_s:g} s ({nbytes(received)}{of_total} received)"


def _check_pace(now: float, started: float, deadline: float, received: int, expected: int | None,
                recent: collections.deque[tuple[float, int]], limits: DownloadLimits) -> None:
    if now > deadline:
        raise _Abandoned(_late(limits, received, expected))
    recent.append((now, received))
    while len(recent) > 2 and recent[1][0] <= now - limits.window_s:
        recent.popleft()  # keep one sample at or before the window's start
    since, then = recent[0]
    if now - started >= limits.window_s and now - since >= limits.window_s:
        rate = (received - then) / (now - since)
        if rate < limits.min_rate:
            raise _Abandoned(f"the server sent {rate / 1e3:.1f} kB/s over the last {now - since:.0f} s, under the "
                             f"minimum of {limits.min_rate / 1e3:g} kB/s")


class _Watchdog:
    """Shuts every connection a download opens (redirects included) once ``seconds`` have passed.

    It holds a duplicate of each socket's descriptor, taken as the socket is connected and before any TLS
    wraps it: shutting that down ends the connection under whatever object reads it, and wakes a read
    blocked in another thread. The duplicates are the watchdog's own, so it never touches a descriptor
    the transfer has closed (and the system may have reused)."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._fired = False
        self._stopped = False
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> socket.socket:
        """Watch a newly connected socket; returns it, so it can wrap socket.create_connection."""
        duplicate = socket.fromfd(sock.fileno(), sock.family, sock.type)
        with self._lock:
            if self._stopped:
                duplicate.close()
                return sock
            self._sockets.append(duplicate)
            if self._fired:  # connected after the deadline: shut at once
                _shut(duplicate)
        return sock

    def _fire(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._fired = True
            for duplicate in self._sockets:
                _shut(duplicate)

    def stop(self) -> bool:
        """Stop watching and release the duplicates (idempotent); whether the deadline had passed."""
        self._timer.cancel()
        with self._lock:
            self._stopped = True
            for duplicate in self._sockets:
                duplicate.close()
            self._sockets.clear()
            return self._fired


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the peer
        sock.shutdown(socket.SHUT_RDWR)


def _opener(watchdog: _Watchdog) -> urllib.request.OpenerDirector:
    """urllib's default opener (proxies, redirects, HTTPS), its connections watched by ``watchdog``."""

    def watched(connection_class: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
        class Watched(connection_class):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, **kwargs)
                create = self._create_connection  # socket.create_connection, used by connect() and TLS alike
                self._create_connection = lambda *a, **k: watchdog.watch(create(*a, **k))

        return Watched

    class HTTP(urllib.request.HTTPHandler):
        def do_open(self, http_class: type[http.client.HTTPConnection], req: urllib.request.Request,
                    **kwargs: object) -> http.client.HTTPResponse:
            return super().do_open(watched(http_class), req, **kwargs)

    class HTTPS(urllib.request.HTTPSHandler):
        def do_open(self, http_class: type[http.client.HTTPConnection], req: urllib.request.Request,
                    **kwargs: object) -> http.client.HTTPResponse:
            return super().do_open(watched(http_class), req, **kwargs)

    return urllib.request.build_opener(HTTP, HTTPS)


def _limit_next_read(response: object, seconds: float) -> None:
    """Let the next read wait at most ``seconds`` (the time left before the deadline, or the read timeout)."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)  # http.client's socket
    if sock is not None:
        sock.settimeout(max(seconds, 0.01))


def read_checkpoint(path: Path) -> StateDict:
    """Read a local .pth/.pt file safely (weights_only) and return its state_dict."""
    if not path.exists():
        raise WeightsError(f"No checkpoint at {path}: check the path, or use 'imagenet' to download the weights.")
    if path.is_dir():
        raise WeightsError(f"{path} is a folder; give the path of a .pth file inside it.")
    if path.stat().st_size == 0:
        raise WeightsError(f"{path.name} is empty (0 bytes); the file was probably not fully copied or downloaded.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise WeightsError(_unsafe_message(path.name, error)) from error
    except Exception as error:  # untrusted bytes: the unpickler fails in many ways (EOF, Index, Key, zip)
        raise WeightsError(f"{path.name} is not a readable PyTorch checkpoint ({_first_line(error)}). "
                           "Save one with torch.save(model.state_dict(), path).") from error
    return _unwrap(state, path.name)


def _unsafe_message(file_name: str, error: Exception) -> str:
    """The weights_only unpickler's refusal: of a Python object (code could run), or of bytes that are no pickle."""
    reason = _unpickler_reason(error)
    if "global" not in reason.lower():  # "Unsupported operand 110": text or random bytes, nothing to run
        return (f"{file_name} is not a readable PyTorch checkpoint ({reason}). "
                "Save one with torch.save(model.state_dict(), path).")
    return (f"Refused to load {file_name}: it holds Python objects that would run code when unpickled "
            f"({reason}). Only state_dicts saved with torch.save(model.state_dict(), path) are loaded.")


# torch's weights_only refusal wraps its reason in advice to retry with weights_only=False, the one thing a
# server must not do with a stranger's file. Keep only the reason ("Unsupported operand 149", "...GLOBAL posix.system").
_TORCH_BOILERPLATE = ("Weights only load failed", "Please file an issue", "Check the documentation")


def _unpickler_reason(error: Exception) -> str:
    lines = (line.strip() for line in str(error).splitlines())
    reason = next((line for line in lines if line and not line.startswith(_TORCH_BOILERPLATE)), "")
    return reason.removeprefix("WeightsUnpickler error:").strip()[:200] or type(error).__name__


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


def _unwrap(state: object, file_name: str) -> StateDict:
    """Accept a bare state_dict, or the dicts training loops save ({"state_dict": ...}, DataParallel's "module.")."""
    if isinstance(state, Mapping):
        for key in _WRAPPER_KEYS:
            if isinstance(state.get(key), Mapping):
                state = state[key]
                break
    if not isinstance(state, Mapping) or not state:
        raise WeightsError(f"{file_name} holds {type(state).__name__}, not a state_dict of tensors.")
    tensors = {str(k).removeprefix("module."): v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise WeightsError(f"{file_name} holds no tensors; it is not a model checkpoint.")
    return tensors


def check_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    """Raise WeightsError listing missing and unexpected keys and shape mismatches, naming the
    config the checkpoint was made for when it is one of torchvision's."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    given = {k: tuple(v.shape) for k, v in state.items()}
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    mismatched = [f"{k}: checkpoint {given[k]} vs model {expected[k]}"
                  for k in expected if k in given and given[k] != expected[k]]
    if not (missing or unexpected or mismatched):
        return
    parts = []
    owner = identify_checkpoint(given)
    if owner:
        parts.append(f"This checkpoint is for {owner}; pick that configuration (and its batch-norm setting).")
    for label, items in (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", mismatched)):
        if items:
            shown = ", ".join(items[:6]) + (f", ... ({len(items) - 6} more)" if len(items) > 6 else "")
            parts.append(f"{len(items)} {label}: {shown}")
    raise WeightsError("The checkpoint does not fit this model. " + " ".join(parts))


def identify_checkpoint(shapes: Mapping[str, tuple[int, ...]]) -> str | None:
    """The torchvision variant whose state_dict layout these shapes match exactly, if any."""
    for name, layout in _published_layouts().items():
        if layout.keys() == shapes.keys() and all(layout[k] == shapes[k] or k.startswith(_FC8) for k in layout):
            return name  # fc8 may differ: a fine-tuned checkpoint keeps the layout, not num_classes
    return None


@functools.cache
def _published_layouts() -> dict[str, dict[str, tuple[int, ...]]]:
    """Each torchvision variant's state_dict keys and shapes, from its structure on the meta device."""
    layouts = {}
    for name, variant in PUBLISHED.items():
        with torch.device("meta"):
            model = VGG(make_layers(CONFIGS[variant.config], batch_norm=variant.batch_norm), init_weights=False)
        layouts[name] = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    return layouts


def load_into(model: nn.Module, state: Mapping[str, torch.Tensor]) -> nn.Module:
    """Load with strict checking and a readable error instead of torch's key dump."""
    check_state_dict(model, state)
    model.load_state_dict(state, strict=True)
    return model
