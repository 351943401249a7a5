"""Cached calls into vgg/: the only place the app keeps models and analyses.

Models live in ``st.cache_resource`` (shared by every browser session, so they are never mutated
after ``vgg.prepare``: no hooks, no train/eval toggling); analyses in ``st.cache_data``. Both are
keyed by everything that defines them.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import streamlit as st
import torch

import vgg
from explorer.state import PRECISION_CHOICES, ModelChoice
from explorer.uploads import UploadStore, UploadTooLarge
from explorer.weights_choice import CheckpointWeights, ImageNetWeights, RandomWeights, WeightsChoice
from vgg.arch import load_state_dict_with_progress
from vgg.perf import converted_copy
from vgg.teaching import Lesson, lesson_of
from vgg.train import TrainedEntry

MAX_CACHED_MODELS = 2  # VGG19-BN is 575 MB of fp32 weights; two keep the app under about 1.3 GB
REFERENCE_SIZE = (224, 224)  # every model is judged at the paper's crop, the size every view can run it at
SERVER_PATHS_ENV = "VGG_EXPLORER_SERVER_PATHS"  # "1" turns on loading checkpoints by their path on the server
_UPLOAD_PATH, _UPLOAD_NAME, _UPLOAD_ID = "weights_upload_path", "weights_upload_name", "weights_upload_id"
_BUILD_LOCK = threading.Lock()  # random init reads torch's global RNG: seed and build as one step


def analysis(choice: ModelChoice | vgg.Network, input_size: tuple[int, int]) -> vgg.Report:
    return _analysis(_network(choice), tuple(input_size))


def _network(choice: ModelChoice | vgg.Network) -> vgg.Network:
    """The cache key of every cached call: the network itself, so "D" typed as a spec is "D"."""
    return choice if isinstance(choice, vgg.Network) else choice.network


@st.cache_data(show_spinner=False, max_entries=64)
def _analysis(network: vgg.Network, input_size: tuple[int, int]) -> vgg.Report:
    return vgg.analyze(network, input_size=input_size)


def lesson(choice: ModelChoice | vgg.Network, input_size: tuple[int, int]) -> Lesson:
    """The Lesson's steps for the network, with the numbers of its analysis at ``input_size``."""
    return _lesson(_network(choice), tuple(input_size))


@st.cache_data(show_spinner=False, max_entries=32)
def _lesson(network: vgg.Network, input_size: tuple[int, int]) -> Lesson:
    return lesson_of(_analysis(network, input_size))


def torchinfo_text(choice: ModelChoice | vgg.Network, input_size: tuple[int, int]) -> str:
    return _torchinfo_text(_network(choice), tuple(input_size))


@st.cache_data(show_spinner=False, max_entries=64)
def _torchinfo_text(network: vgg.Network, input_size: tuple[int, int]) -> str:
    return vgg.torchinfo_table(network, input_size=input_size)


@st.cache_resource(show_spinner=False)
def device_options() -> list[tuple[str, str]]:
    """[("auto", "Auto: ..."), ("cpu", "CPU: ..."), ("cuda", "..."), ...]: only devices present."""
    present = vgg.available_devices()
    best_name = present[0][1] if present else "CPU"
    return [("auto", f"Auto ({best_name})"), *present]


def check_fits(choice: ModelChoice | vgg.Network, input_size: tuple[int, int]) -> None:
    """Refuse (vgg.ResourceError, with the estimates) a network or input over the server's memory limits,
    before anything is built or run: the estimates come from the meta-device analysis."""
    vgg.check_resources(analysis(choice, input_size))


def server_paths_allowed() -> bool:
    """Whether a checkpoint may be named by its path on the server: off unless the operator turns it on
    (VGG_EXPLORER_SERVER_PATHS=1). On a shared server anyone with the page, or a link to it, could otherwise
    learn from the replies which files exist there."""
    return os.environ.get(SERVER_PATHS_ENV, "0").strip().lower() in ("1", "true", "yes", "on")


def weights_choice(weights: str, seed: int, path: str) -> WeightsChoice:
    """The sidebar's weights (``weights`` one of state.WEIGHT_CHOICES) as the value the model caches key on.

    A checkpoint is this session's upload if there is one, else a path on the server (when the operator allows
    it), keyed with its content digest so that a file replaced at the same path is loaded again."""
    if weights == "random":
        return RandomWeights(seed)
    if weights == "imagenet":
        return ImageNetWeights()
    if weights == "trained":
        raise vgg.WeightsError("Weights trained here belong to the mini VGG they were trained with, which the views "
                               "run at its own input size; this runs the sidebar's full network: choose random, "
                               "ImageNet or checkpoint weights for it.")
    upload = st.session_state.get(_UPLOAD_PATH)
    if upload:
        return CheckpointWeights(upload, Path(upload).stem[:16])  # stored under its SHA-256
    if not server_paths_allowed():  # the same words whatever the link carried: nothing said about the path
        raise vgg.WeightsError("Choose a checkpoint: upload a .pth file. (Loading checkpoints by their path on the "
                               f"server is turned off here; whoever runs the app can turn it on with "
                               f"{SERVER_PATHS_ENV}=1.)")
    if not path:
        raise vgg.WeightsError("Choose a checkpoint: type the path of a .pth file on the server, or upload one.")
    resolved = Path(path).expanduser().resolve()
    return CheckpointWeights(str(resolved), file_digest(resolved))


def file_digest(path: Path) -> str:
    """The first 16 hex digits of the file's SHA-256, computed once per (size, modification time, inode);
    "missing" when there is no readable file (loading it then says why)."""
    try:
        info = path.stat()
    except OSError:
        return "missing"
    return _digest(str(path), info.st_size, info.st_mtime_ns, info.st_ino)


@functools.lru_cache(maxsize=64)
def _digest(path: str, size: int, mtime_ns: int, inode: int) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return "missing"
    return digest.hexdigest()[:16]


def remember_upload(uploaded: object) -> None:
    """Keep an uploaded checkpoint in the capped upload folder (one file per content, least recently used
    removed first, see explorer/uploads.py), so the model cache can key on a path. Called on every run while
    the uploader shows it: a file removed to make room for other uploads is written back from the session's
    copy. The user's file name is remembered for messages; the stored file is named by its digest."""
    if uploaded is None:
        for key in (_UPLOAD_PATH, _UPLOAD_NAME, _UPLOAD_ID):
            st.session_state.pop(key, None)
        return
    store = UploadStore.from_env()
    file_id = getattr(uploaded, "file_id", None)
    known = st.session_state.get(_UPLOAD_PATH)
    if known and st.session_state.get(_UPLOAD_ID) == file_id and store.touch(Path(known)):
        return  # the same upload, still stored: no need to hash it again
    try:
        stored = store.put(uploaded.getvalue())  # type: ignore[attr-defined]
    except UploadTooLarge as error:
        st.session_state.pop(_UPLOAD_PATH, None)
        raise vgg.WeightsError(str(error)) from error
    st.session_state.update({_UPLOAD_PATH: str(stored), _UPLOAD_ID: file_id,
                             _UPLOAD_NAME: Path(str(getattr(uploaded, "name", "") or "upload.pth")).name})


def with_upload_name(error: vgg.WeightsError) -> vgg.WeightsError:
    """The library names the stored file (a digest); say the name the user uploaded instead."""
    stored, name = st.session_state.get(_UPLOAD_PATH), st.session_state.get(_UPLOAD_NAME)
    if not stored or not name or Path(stored).name not in str(error):
        return error
    return vgg.WeightsError(str(error).replace(Path(stored).name, name))


def _initial_state_dict(network: vgg.Network, weights: WeightsChoice,
                        on_progress: Callable[[int, int | None], None] | None) -> dict[str, torch.Tensor] | None:
    """The values to load, or None for random weights (the builder's own initialisation)."""
    if isinstance(weights, RandomWeights):
        return None
    if isinstance(weights, ImageNetWeights):
        variant = network.variant
        if variant is None:
            raise vgg.WeightsError(f"torchvision published ImageNet weights only for A, B, D and E (with or without "
                                   f"BN); {network.label} has none. Use random weights, or a checkpoint file.")
        if on_progress is None:
            return vgg.load_state_dict(variant, progress=False)
        return load_state_dict_with_progress(variant, on_progress)
    return vgg.load_state_dict(weights.path)


def model(choice: ModelChoice | vgg.Network, weights: WeightsChoice, device: str,
          _on_progress: Callable[[int, int | None], None] | None = None, *,
          precision: str = "fp32") -> torch.nn.Module:
    """A prepared (eval, on device, fast memory format) model, shared across sessions: read-only. A
    precision other than fp32 is the fp32 model's weights converted once (refused where not native)."""
    # "auto" is keyed as the device it picks, so choosing that device by name reuses the same model.
    network, target = _network(choice), str(vgg.select_device(device))
    try:
        exact = _model(network, weights, target, _on_progress)
    except vgg.WeightsError as error:
        renamed = with_upload_name(error)
        if renamed is error:
            raise
        raise renamed from error
    return exact if precision == "fp32" else _converted(network, weights, target, precision)


def trained_model(entry: TrainedEntry, device: str) -> torch.nn.Module:
    """A prepared copy (eval, on ``device``, fast memory format) of a mini trained here, shared across sessions:
    read-only. The entry's own model stays as it is, on the CPU, where the other views run it."""
    return _trained_model(entry.id, str(vgg.select_device(device)), entry.trained.model)


@st.cache_resource(show_spinner=False, max_entries=MAX_CACHED_MODELS)
def _trained_model(model_id: int, device: str, _model: torch.nn.Module) -> torch.nn.Module:
    return vgg.prepare(copy.deepcopy(_model), device)


def offered_precisions(device: str) -> tuple[str, ...]:
    """The sidebar's choices on ``device``: fp32, and bf16 where the hardware computes it natively."""
    native = vgg.native_precisions(vgg.select_device(device))
    return tuple(precision for precision in PRECISION_CHOICES if precision in native)


@st.cache_resource(show_spinner=False, max_entries=MAX_CACHED_MODELS)
def _converted(network: vgg.Network, weights: WeightsChoice, device: str, precision: str) -> torch.nn.Module:
    vgg.check_precision(torch.device(device), precision)
    return converted_copy(_model(network, weights, device, None), precision)


@st.cache_resource(show_spinner=False, max_entries=MAX_CACHED_MODELS)
def _model(network: vgg.Network, weights: WeightsChoice, device: str,
           _on_progress: Callable[[int, int | None], None] | None) -> torch.nn.Module:
    check_fits(network, REFERENCE_SIZE)  # before any download or allocation
    state = _initial_state_dict(network, weights, _on_progress)
    with _BUILD_LOCK:
        if isinstance(weights, RandomWeights):
            torch.manual_seed(weights.seed)
        model = vgg.build(network, init_weights=state is None)
    if state is not None:
        vgg.load_into(model, state)
    return vgg.prepare(model, device)
