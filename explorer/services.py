"""What several views share: the cached model with the sidebar's weights (and a download bar), one
forward pass remembered per session, the predictions table, and one image through two networks.
Views import this module, never each other."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st
import torch

import vgg
from explorer import resources
from explorer.image_input import ChosenImage, choose_image
from explorer.state import AppState, ModelChoice
from vgg import format
from vgg.vision import ForwardResult, PreprocessSteps, preprocess_steps, top_k

_KEPT_KINDS = frozenset({"relu", "lrn", "pool", "avgpool"})
_RESULT_KEY = "_forward_result"  # one result per session: (key, ForwardResult)


def load_model(state: AppState, choice: ModelChoice) -> torch.nn.Module:
    """The cached, prepared model for ``choice`` with the sidebar's weights and device, with a
    progress bar while ImageNet weights download."""
    key = resources.weights_key(state.weights, state.seed, state.weights_path)
    bar = None

    def on_progress(done: int, total: int | None) -> None:
        nonlocal bar
        bar = bar or st.progress(0.0)
        fraction = min(done / total, 1.0) if total else 0.0
        bar.progress(fraction, text=f"Downloading ImageNet weights: {format.nbytes(done)}"
                                    + (f" of {format.nbytes(total)}" if total else ""))

    with st.spinner(f"Building {choice.title} with {state.weights} weights on {state.device}..."):
        network = resources.model(choice, key, state.device, _on_progress=on_progress)
    if bar is not None:
        bar.empty()
    return network


def run_forward(state: AppState, choice: ModelChoice, picked: ChosenImage, steps: PreprocessSteps) -> ForwardResult:
    """One forward pass per (model, weights, device, image, preprocessing), remembered for the session
    so that picking another layer does not run the network again."""
    key = (choice, resources.weights_key(state.weights, state.seed, state.weights_path), state.device,
           picked.digest, steps.mode, steps.size)
    remembered = st.session_state.get(_RESULT_KEY)
    if remembered is not None and remembered[0] == key:
        return remembered[1]
    # Drop the last pass's feature maps (110 MiB for VGG16) before this one allocates its own: held across
    # the new pass, every session would need two sets at its peak, memory the allocator then keeps.
    st.session_state.pop(_RESULT_KEY, None)
    del remembered
    input_size = tuple(steps.tensor.shape[-2:])
    resources.check_fits(choice, input_size)  # "whole" mode runs at the sidebar's size
    network = load_model(state, choice)
    with st.spinner("Running the forward pass..."):
        result = vgg.forward_with_features(network, steps.tensor, layers=shown_layers(choice, input_size))
    st.session_state[_RESULT_KEY] = (key, result)
    return result


def shown_layers(choice: ModelChoice, input_size: tuple[int, int]) -> list[str]:
    """The outputs a session keeps: after each ReLU, LRN and pool, the maps a reader calls features.
    Conv and BN outputs (pre-activation) are left out: keeping every layer of VGG19-BN is 176 MiB per
    session, these 63 MiB, which is what lets a class share one server."""
    return [row.name for row in resources.analysis(choice, input_size).layers if row.kind in _KEPT_KINDS]


def show_predictions(result: ForwardResult, random_weights: bool, *, k: int = 5) -> None:
    predictions = top_k(result.logits, k, weights_are_random=random_weights)
    if predictions.random_weights:
        st.warning(predictions.notice, icon=":material/casino:")
    frame = pd.DataFrame([{"Class": p.index, "Label": p.label, "Probability": p.probability}
                          for p in predictions.top])
    st.dataframe(frame, hide_index=True, key=f"predictions_{id(result)}", column_config={
        "Probability": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)})


def run_side_by_side(state: AppState, choices: Sequence[ModelChoice]) -> None:
    """The Compare view's option: one image through both networks, predictions and time side by side."""
    picked = choose_image("compare")
    if picked is None:
        return
    steps = preprocess_steps(picked.image, mode="crop", size=224)
    for column, choice in zip(st.columns(len(choices)), choices, strict=True):
        with column:
            network = load_model(state, choice)
            result = vgg.forward_with_features(network, steps.tensor, layers=())
            st.metric(f"{choice.title}: forward pass", f"{result.total_seconds * 1e3:.0f} ms")
            show_predictions(result, state.weights == "random", k=3)
