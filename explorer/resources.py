"""Cached calls into vgg/: the only place the app keeps models and analyses.

Models live in ``st.cache_resource`` (shared by every browser session, so they are never mutated
after ``vgg.prepare``: no hooks, no train/eval toggling); analyses in ``st.cache_data``. Both are
keyed by everything that defines them.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import streamlit as st
import torch

import vgg
from explorer.state import PRECISION_CHOICES, ModelChoice
from vgg.arch import load_state_dict_with_progress
from vgg.perf import converted_copy

UPLOAD_DIR = Path(tempfile.gettempdir()) / "vgg-explorer-uploads"
MAX_CACHED_MODELS = 2  # VGG19-BN is 575 MB of fp32 weights; two keep the app under about 1.3 GB
REFERENCE_SIZE = (224, 224)  # every model is judged at the paper's crop, the size every view can run it at
SERVER_PATHS_ENV = "VGG_EXPLORER_SERVER_PATHS"  # "0" turns off loading checkpoints by their path on the server
_BUILD_LOCK = threading.Lock()  # random init reads torch's global RNG: seed and build as one step


def analysis(choice: ModelChoice | vgg.Network, input_size: tuple[int, int]) -> vgg.Report:
    return _analysis(_network(choice), tuple(input_size))


def _network(choice: ModelChoice | vgg.Network) -> vgg.Network:
    """The cache key of every cached call: the network itself, so "D" typed as a spec is "D"."""
    return choice if isinstance(choice, vgg.Network) else choice.network


@st.cache_data(show_spinner=False, max_entries=64)
def _analysis(network: vgg.Network, input_size: tuple[int, int]) -> vgg.Report:
    return vgg.analyze(network, input_size=input_size)


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
    """Whether a checkpoint may be named by its path on the server (a shared server may turn it off:
    anyone with the page, or a link to it, could otherwise probe which files exist there)."""
    return os.environ.get(SERVER_PATHS_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def weights_key(weights: str, seed: int, path: str) -> str:
    """One string that says which weights: 'random:0', 'imagenet', or 'file:/abs/path.pth'."""
    if weights == "random":
        return f"random:{seed}"
    if weights == "imagenet":
        return "imagenet"
    if weights == "trained":
        raise vgg.WeightsError("A mini VGG trained here runs in the Forward pass and Compare's image option, at its "
                               "own input size; for this view choose random, ImageNet or checkpoint weights.")
    upload = st.session_state.get("weights_upload_path")
    if upload:
        return f"file:{upload}"
    if path and not server_paths_allowed():
        raise vgg.WeightsError(f"Loading a checkpoint by its path on the server is turned off here ({SERVER_PATHS_ENV}"
                               "=0). Upload the .pth file instead.")
    if not path:
        raise vgg.WeightsError("Choose a checkpoint: type the path of a .pth file on the server, or upload one.")
    return f"file:{Path(path).expanduser().resolve()}"


def remember_upload(uploaded: object) -> None:
    """Save an uploaded checkpoint once, in a folder named by its digest, so the model cache can key on a
    path; the file keeps the user's name (made safe), which the library's messages then mention.

    Written to a temporary name and renamed, so a half-written file is never picked up.
    """
    if uploaded is None:
        st.session_state.pop("weights_upload_path", None)
        return
    data = uploaded.getvalue()  # type: ignore[attr-defined]
    digest = hashlib.sha256(data).hexdigest()[:16]
    final = UPLOAD_DIR / digest / _safe_file_name(str(getattr(uploaded, "name", "")))
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.exists():
        partial = final.with_suffix(f".{threading.get_ident()}.partial")
        partial.write_bytes(data)
        partial.replace(final)
    st.session_state["weights_upload_path"] = str(final)


def _safe_file_name(name: str) -> str:
    """The browser's file name, without folders or characters a file system might refuse, at most 100 long."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).strip("._")[:100]
    return stem or "upload.pth"


def _initial_state_dict(network: vgg.Network, key: str,
                        on_progress: Callable[[int, int | None], None] | None) -> dict[str, torch.Tensor] | None:
    if key.startswith("random:"):
        return None
    if key == "imagenet":
        variant = network.variant
        if variant is None:
            raise vgg.WeightsError(f"torchvision published ImageNet weights only for A, B, D and E (with or without "
                                   f"BN); {network.label} has none. Use random weights, or a checkpoint file.")
        if on_progress is None:
            return vgg.load_state_dict(variant, progress=False)
        return load_state_dict_with_progress(variant, on_progress)
    return vgg.load_state_dict(key.removeprefix("file:"))


def model(choice: ModelChoice | vgg.Network, key: str, device: str,
          _on_progress: Callable[[int, int | None], None] | None = None, *,
          precision: str = "fp32") -> torch.nn.Module:
    """A prepared (eval, on device, fast memory format) model, shared across sessions: read-only. A
    precision other than fp32 is the fp32 model's weights converted once (refused where not native)."""
    # "auto" is keyed as the device it picks, so choosing that device by name reuses the same model.
    network, target = _network(choice), str(vgg.select_device(device))
    exact = _model(network, key, target, _on_progress)
    return exact if precision == "fp32" else _converted(network, key, target, precision)


def offered_precisions(device: str) -> tuple[str, ...]:
    """The sidebar's choices on ``device``: fp32, and bf16 where the hardware computes it natively."""
    native = vgg.native_precisions(vgg.select_device(device))
    return tuple(precision for precision in PRECISION_CHOICES if precision in native)


@st.cache_resource(show_spinner=False, max_entries=MAX_CACHED_MODELS)
def _converted(network: vgg.Network, key: str, device: str, precision: str) -> torch.nn.Module:
    vgg.check_precision(torch.device(device), precision)
    return converted_copy(_model(network, key, device, None), precision)


@st.cache_resource(show_spinner=False, max_entries=MAX_CACHED_MODELS)
def _model(network: vgg.Network, key: str, device: str,
           _on_progress: Callable[[int, int | None], None] | None) -> torch.nn.Module:
    check_fits(network, REFERENCE_SIZE)  # before any download or allocation
    state = _initial_state_dict(network, key, _on_progress)
    with _BUILD_LOCK:
        if key.startswith("random:"):
            torch.manual_seed(int(key.split(":", 1)[1]))
        model = vgg.build(network, init_weights=state is None)
    if state is not None:
        vgg.load_into(model, state)
    return vgg.prepare(model, device)
