"""The sidebar: reads the widgets into an AppState and mirrors it into the URL.

The first run of a session seeds every widget from the URL (so a shared link reproduces the
view); every run writes the state back, leaving defaults out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

import vgg
from explorer import resources, training
from explorer.guard import plain
from explorer.spec_table import LAYER_KINDS, frame_to_text, text_to_frame
from explorer.state import (
    CONFIG_CHOICES,
    CUSTOM,
    QUERY_KEYS,
    WEIGHT_CHOICES,
    AppState,
    ModelChoice,
    format_size,
    from_query,
    parse_size,
    to_query,
)

_SEEDED = "_seeded_from_url"
_TRAINED_UPLOAD, _TRAINED_UPLOAD_ERROR = "_trained_upload_name", "_trained_upload_error"  # its file_id; its refusal
B_CHOSEN = "_compare_b_chosen"  # set once Compare's B is chosen there (or by a link): B stops following the sidebar
WEIGHT_LABELS = {"random": "Random (seeded)", "imagenet": "ImageNet (download)", "file": "Checkpoint file (.pth)",
                 "trained": "Trained here (Train view)"}


def seed_session_from_url(view_titles: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Copy the URL's state into the widgets' session keys, once per session; what was corrected, in words."""
    if st.session_state.get(_SEEDED):
        return ()
    query = st.query_params.to_dict()
    parsed = from_query(query)
    state = parsed.state
    problems = list(parsed.problems)
    view = query.get("view")
    if view is not None and view_titles and view not in view_titles:
        problems.append(f"URL parameter view={view!r} is not one of the views ({', '.join(view_titles)}); "
                        f"showing {view_titles[0]}.")
    st.session_state[B_CHOSEN] = state.compare_b is not None
    for prefix, choice in (("", state.model), ("a_", state.compare_a), ("b_", state.compare_b_or_model)):
        st.session_state[f"{prefix}config"] = choice.config
        st.session_state[f"{prefix}bn"] = choice.batch_norm
        st.session_state[f"{prefix}spec"] = choice.spec_text
    st.session_state.update(size=format_size(state.input_size), weights=state.weights, seed=state.seed,
                            weights_path=state.weights_path, device=state.device, precision=state.precision,
                            projector=state.projector)
    st.session_state[_SEEDED] = True
    return tuple(problems)


def choose_b() -> None:
    """Compare's B widgets changed: from now on B is what was chosen there, not the sidebar's network."""
    st.session_state[B_CHOSEN] = True


def follow_sidebar_with_b(model: ModelChoice) -> None:
    """Before Compare draws B's widgets: while B has not been chosen there, it shows the sidebar's network."""
    if not st.session_state.get(B_CHOSEN):
        st.session_state.update(b_config=model.config, b_bn=model.batch_norm, b_spec=model.spec_text)


def write_url(state: AppState) -> None:
    wanted = to_query(state)
    for key in QUERY_KEYS:
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]


def model_choice_widgets(prefix: str, *, label: str, container: st.delta_generator.DeltaGenerator,
                         on_change: Callable[[], None] | None = None) -> ModelChoice:
    """Config select, custom spec box with live validation, and BN toggle; used by the sidebar and Compare."""
    config = container.selectbox(label, CONFIG_CHOICES, key=f"{prefix}config", persist_state="session",
                                 on_change=on_change,
                                 format_func=lambda name: vgg.arch.CONFIG_TITLES.get(name, "Custom spec..."))
    spec_text = st.session_state.get(f"{prefix}spec", "")
    if config == CUSTOM:
        _spec_table(prefix, container)
        spec_text = container.text_input(
            "Spec", key=f"{prefix}spec", persist_state="session", on_change=on_change,
            help="A number is a 3x3 conv with that many channels, conv1-N a 1x1 conv, M a 2x2 max pool, "
                 "LRN local response normalisation. Commas optional.")
        try:
            spec = vgg.parse_spec(spec_text)
            container.caption(f"Valid: {len(spec.convs)} convs, {spec.num_pools} pools, "
                              f"{spec.weight_layers} weight layers.")
        except vgg.VGGError as error:
            container.error(plain(str(error)))
    batch_norm = container.toggle("Batch norm", key=f"{prefix}bn", persist_state="session", on_change=on_change)
    return ModelChoice(config=config, batch_norm=batch_norm, spec_text=spec_text)


def _spec_table(prefix: str, container: st.delta_generator.DeltaGenerator) -> None:
    """The spec as an editable table above its text box; an edit rewrites the text (rendered next)."""
    text = st.session_state.get(f"{prefix}spec", "")
    frame = text_to_frame(text)
    if frame is None:
        return
    with container.expander("Edit as a table", expanded=False):
        edited = st.data_editor(
            frame, num_rows="dynamic", hide_index=True, key=f"{prefix}spec_table_{abs(hash(text))}",
            column_config={"Layer": st.column_config.SelectboxColumn(options=LAYER_KINDS, required=True),
                           "Channels": st.column_config.NumberColumn(min_value=1, max_value=8192, step=1)})
    new_text = frame_to_text(edited)
    if new_text != frame_to_text(frame):
        st.session_state[f"{prefix}spec"] = new_text


def _input_size() -> tuple[int, int]:
    text = st.text_input("Input size (H or HxW)", key="size", persist_state="session",
                         help="From 32 px (VGG's five pools halve it five times) to 1024 px. 224 is the paper's crop.")
    try:
        return parse_size(text)
    except ValueError as error:
        st.error(plain(f"{error} Using 224."))
        return (224, 224)


def _trained_model() -> int | None:
    """The models trained on this server (newest first), and an upload of one from ``python -m vgg train``."""
    uploaded = st.file_uploader("...or upload one from 'python -m vgg train --out'", type=["pth", "pt"],
                                key="trained_upload")
    if uploaded is not None and st.session_state.get(_TRAINED_UPLOAD) != uploaded.file_id:
        # Handled once per file, refused or not: a bad file is read once, and its refusal stays shown
        # (below) while it sits in the uploader, rather than failing again on every rerun.
        st.session_state[_TRAINED_UPLOAD] = uploaded.file_id
        st.session_state[_TRAINED_UPLOAD_ERROR] = None
        try:
            entry = training.offer_upload(uploaded.getvalue())
        except vgg.VGGError as error:  # truncated, hostile, or not a checkpoint of this trainer
            st.session_state[_TRAINED_UPLOAD_ERROR] = f"{uploaded.name} was not loaded: {error}"
        else:
            st.session_state[training.TRAINED_KEY] = entry.id
    refusal = st.session_state.get(_TRAINED_UPLOAD_ERROR)
    if uploaded is not None and refusal:
        st.error(plain(refusal))
    entries = {entry.id: entry for entry in training.models()}
    if not entries:
        st.caption("No model trained yet: press Train in the Train view, then choose it here.")
        return None
    if st.session_state.get(training.TRAINED_KEY) not in entries:
        st.session_state[training.TRAINED_KEY] = next(iter(entries))
    chosen = st.selectbox("Trained model", list(entries), key=training.TRAINED_KEY,
                          format_func=lambda model_id: training.sidebar_label(entries[model_id]))
    # The sidebar's select box cuts a label this long after ~25 characters, and the part a class wants to
    # read (dataset, accuracy) is at its end: the whole label again, as text that wraps.
    st.caption(training.sidebar_label(entries[chosen]))
    return chosen


def _weights() -> tuple[str, int, str]:
    weights = st.radio("Weights", WEIGHT_CHOICES, key="weights", persist_state="session",
                       format_func=WEIGHT_LABELS.__getitem__)
    seed, path = st.session_state.get("seed", 0), st.session_state.get("weights_path", "")
    if weights == "random":
        seed = st.number_input("Seed", min_value=0, max_value=2**32 - 1, step=1, key="seed", persist_state="session",
                               help="Same seed, same random weights: a class sees the same feature maps.")
    elif weights == "trained":
        pass  # the model is chosen in render(), below
    elif weights == "imagenet":
        st.caption("torchvision's ImageNet weights, about 530 MB, downloaded once into torch's hub cache "
                   "when a view needs them.")
    else:
        if resources.server_paths_allowed():
            path = st.text_input("Path on the server", key="weights_path", persist_state="session",
                                 help="A .pth state_dict on the machine running the app (the way to load "
                                      "checkpoints larger than the upload limit); or upload one below.")
        uploaded = st.file_uploader("...or upload a .pth", type=["pth", "pt"], key="weights_upload")
        try:
            resources.remember_upload(uploaded)
        except vgg.WeightsError as error:  # larger than the server keeps for all uploads together
            st.error(plain(str(error)))
    return weights, int(seed), path


def _device() -> str:
    options = resources.device_options()
    ids = [device_id for device_id, _ in options]
    names = dict(options)
    asked = st.session_state.get("device")
    if asked not in ids:
        if asked not in (None, "auto"):
            st.warning(plain(f"Device {asked!r} is not available on this server; using {names['auto']}."))
        st.session_state["device"] = "auto"
    return st.selectbox("Device", ids, key="device", persist_state="session", format_func=names.__getitem__)


PRECISION_LABELS = {"fp32": "exact (fp32)", "bf16": "fast (bf16)"}


def _precision(device: str) -> str:
    """"exact (fp32)", and "fast (bf16)" only where this device computes bf16 natively."""
    offered = resources.offered_precisions(device)
    asked = st.session_state.get("precision")
    if asked not in offered:
        if asked is not None and asked != "fp32":
            st.warning(plain(f"Precision {asked!r} is not native on this device; using exact (fp32)."))
        st.session_state["precision"] = "fp32"
    choice = st.radio("Precision", offered, key="precision", persist_state="session", horizontal=True,
                      format_func=PRECISION_LABELS.__getitem__,
                      help="fast (bf16) runs the network with its weights converted to bfloat16 once: about half "
                           "the bytes to move and the CPU's or GPU's native bf16 units. Its cost in accuracy is "
                           "measured on the current image in the Forward pass view.")
    if len(offered) == 1:
        st.caption("fast (bf16) is offered only where the hardware computes bf16 natively (CPUs with AVX512-BF16 "
                   "or AMX, CUDA GPUs from compute capability 8.0); here it would be emulated and many times "
                   "slower than fp32.")
    return choice


def render(view_titles: tuple[str, ...] = ()) -> AppState:
    """The sidebar's widgets as an AppState; ``view_titles`` (the tabs) let a link's unknown view be named."""
    problems = seed_session_from_url(view_titles)
    with st.sidebar:
        st.title("VGG Explorer")
        for problem in problems:
            st.warning(plain(problem))
        model = model_choice_widgets("", label="Configuration", container=st.sidebar)
        size = _input_size()
        weights, seed, path = _weights()
        trained = _trained_model() if weights == "trained" else None
        device = _device()
        precision = _precision(device)
        projector = st.toggle("Projector mode", key="projector", persist_state="session",
                              help="Large type and high-contrast charts for a classroom projector.")
    state = AppState(model=model, input_size=size, weights=weights, seed=seed, weights_path=path, device=device,
                     precision=precision, projector=projector, trained_model=trained)
    state = replace(state, compare_a=_stored_choice("a_"), compare_b=_stored_choice("b_"))
    write_url(state)
    return state


def _stored_choice(prefix: str) -> ModelChoice | None:
    """The Compare view's choices as last set (its widgets only render while that view is open); None for a B
    that still follows the sidebar."""
    if prefix == "b_" and not st.session_state.get(B_CHOSEN):
        return None
    return ModelChoice(config=st.session_state.get(f"{prefix}config", "A"),
                       batch_norm=bool(st.session_state.get(f"{prefix}bn", False)),
                       spec_text=st.session_state.get(f"{prefix}spec", ""))
