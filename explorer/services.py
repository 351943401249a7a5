"""What several views share: the cached model with the sidebar's weights (a download bar, and random
weights meanwhile when ImageNet's cannot be had), one forward pass remembered per session, the
predictions table, and one image through two networks. Views import this module, never each other."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import pandas as pd
import streamlit as st
import torch

import vgg
from explorer import resources, session_memory, training, turns
from explorer.guard import plain
from explorer.image_input import ChosenImage, choose_image
from explorer.state import AppState, ModelChoice
from explorer.weights_choice import ImageNetWeights, RandomWeights, WeightsChoice
from vgg import format
from vgg.vision import ForwardResult, PreprocessSteps, preprocess_steps, top_k

_KEPT_KINDS = frozenset({"relu", "lrn", "pool", "avgpool"})
FORWARD_SLOT = "Forward pass"  # the view whose title names the session's kept result (see session_memory)


_IMAGENET_FAILED = "_imagenet_unavailable"  # the session's last failed ImageNet download, in words


def _has_imagenet_weights(choice: ModelChoice) -> bool:
    """Whether torchvision published ImageNet weights for this network (A, B, D, E, with or without BN)."""
    try:
        return choice.network.variant is not None
    except vgg.VGGError:  # a custom spec that is not one: it has none either
        return False


def weights_choice(state: AppState, choice: ModelChoice | None = None) -> WeightsChoice:
    """The weights a view runs for ``choice`` (the sidebar's network by default): the sidebar's, or random
    ones where ImageNet weights could not be downloaded or were never published for that network."""
    if state.weights == "imagenet" and (st.session_state.get(_IMAGENET_FAILED)
                                        or not _has_imagenet_weights(choice or state.model)):
        return RandomWeights(state.seed)
    return resources.weights_choice(state.weights, state.seed, state.weights_path)


def weights_are_random(state: AppState, choice: ModelChoice | None = None) -> bool:
    return isinstance(weights_choice(state, choice), RandomWeights)


def imagenet_notice(state: AppState, *choices: ModelChoice) -> None:
    """Where ImageNet weights were asked for and cannot be used, why: never published for a network (one
    message each), or not downloadable (one message); the view goes on with random weights either way.
    ``choices`` are the networks on screen, the sidebar's by default."""
    if state.weights != "imagenet":
        return
    unpublished = [choice for choice in choices or (state.model,) if not _has_imagenet_weights(choice)]
    for choice in unpublished:
        st.info(f"torchvision published ImageNet weights only for A, B, D and E (with or without batch norm); "
                f"{choice.title} has none, so it runs with random weights (seed {state.seed}) here and its "
                f"predictions are noise. Choose one of those four for trained weights, or train a mini VGG in "
                f"the Train view.", icon=":material/info:")
    if not st.session_state.get(_IMAGENET_FAILED) or len(unpublished) == len(choices or (state.model,)):
        return
    st.warning(f"ImageNet weights are not available: they could not be downloaded (is this server offline?). "
               f"This view uses random weights (seed {state.seed}) meanwhile, so its predictions are noise. For "
               f"whoever runs the server: {plain(st.session_state[_IMAGENET_FAILED])}", icon=":material/cloud_off:")
    st.button("Try the download again", key="imagenet_retry", on_click=st.session_state.pop, args=(_IMAGENET_FAILED,))


def load_model(state: AppState, choice: ModelChoice, *, precision: str = "fp32") -> torch.nn.Module:
    """The cached, prepared model for ``choice`` with the sidebar's weights and device, with a
    progress bar while ImageNet weights download; random weights when they cannot be (``imagenet_notice``
    says so)."""
    weights = weights_choice(state, choice)
    bar = None

    def on_progress(done: int, total: int | None) -> None:
        nonlocal bar
        bar = bar or st.progress(0.0)
        fraction = min(done / total, 1.0) if total else 0.0
        bar.progress(fraction, text=f"Downloading ImageNet weights: {format.nbytes(done)}"
                                    + (f" of {format.nbytes(total)}" if total else ""))

    try:
        with st.spinner(f"Building {choice.title} with {weights.label} weights on {state.device}..."):
            return resources.model(choice, weights, state.device, _on_progress=on_progress, precision=precision)
    except vgg.WeightsError as error:
        if not isinstance(weights, ImageNetWeights):
            raise
        st.session_state[_IMAGENET_FAILED] = str(error)  # what went wrong, then what to do about it
        return resources.model(choice, weights_choice(state, choice), state.device, precision=precision)
    finally:
        if bar is not None:  # never a stale "Downloading... 0 B" above the message
            bar.empty()



def run_forward(state: AppState, choice: ModelChoice, picked: ChosenImage, steps: PreprocessSteps) -> ForwardResult:
    """One forward pass per (model, weights, device, image, preprocessing), remembered for the session
    so that picking another layer does not run the network again."""
    key = (choice, weights_choice(state, choice), state.device, state.precision, picked.digest, steps.mode, steps.size)
    session = session_memory.session_id()
    remembered = session_memory.RESULTS.get(session, FORWARD_SLOT, key)  # (ForwardResult, AccuracyCost or None)
    if remembered is not None:
        return remembered[0]  # type: ignore[index]
    # Drop the last pass's feature maps before this one allocates its own: held across the new pass, every
    # session would need two sets at its peak, memory the allocator then keeps.
    session_memory.RESULTS.drop(session, FORWARD_SLOT)
    input_size = tuple(steps.tensor.shape[-2:])
    resources.check_fits(choice, input_size)  # "whole" mode runs at the sidebar's size
    network = load_model(state, choice, precision=state.precision)
    imagenet_notice(state, choice)
    with st.spinner("Running the forward pass..."):
        result = in_turn(lambda: vgg.forward_with_features(network, steps.tensor,
                                                           layers=shown_layers(choice, input_size)))
    cost = None
    if state.precision != "fp32":  # what the fast path costs, measured on this very image
        exact = in_turn(lambda: vgg.forward_with_features(load_model(state, choice), steps.tensor, layers=()))
        cost = vgg.accuracy_cost(exact.logits, result.logits)
    result = replace(result, features={path: maps.to(torch.bfloat16) for path, maps in result.features.items()})
    session_memory.RESULTS.put(session, FORWARD_SLOT, key, (result, cost))  # released when unseen or idle
    return result


def precision_cost() -> vgg.AccuracyCost | None:
    """The accuracy cost of the session's last forward pass against fp32, when it ran in bf16."""
    remembered = session_memory.RESULTS.latest(session_memory.session_id(), FORWARD_SLOT)
    return remembered[1] if remembered else None  # type: ignore[index]


def in_turn(run: Callable[[], ForwardResult]) -> ForwardResult:
    """``run()`` when the server has a free turn (a few passes at a time, first come first served), with the
    session's place in the queue shown while it waits."""
    note = st.empty()

    def waiting(place: int) -> None:
        ahead = "yours is next" if place == 1 else f"{place - 1} passes are ahead of yours"
        note.info(f"The server is busy with other sessions' forward passes: {ahead}.", icon=":material/hourglass_top:")

    with turns.FORWARD_TURNS.turn(waiting):
        note.empty()
        return run()


def exported_bytes(network: torch.nn.Module, fmt: str) -> bytes:
    """The network exported and parity-checked, in one of the server's compute turns: an export holds a
    model's worth of memory, and thirty students pressing Download at once must not hold thirty. (It runs
    in the download's callback, where no message can be shown: it simply waits its turn.)"""
    with turns.FORWARD_TURNS.turn():
        return vgg.perf.export_bytes(network, fmt)[0]


def shown_layers(choice: ModelChoice, input_size: tuple[int, int]) -> list[str]:
    """The outputs a session keeps: after each ReLU, LRN and pool, the maps a reader calls features.
    Conv and BN outputs (pre-activation) are left out: keeping every layer of VGG19-BN is 176 MiB per
    session, these 63 MiB, which is what lets a class share one server."""
    return [row.name for row in resources.analysis(choice, input_size).layers if row.kind in _KEPT_KINDS]


def show_predictions(result: ForwardResult, random_weights: bool, *, k: int = 5, projector: bool = False,
                     labels: Sequence[str] | None = None) -> None:
    predictions = top_k(result.logits, k, weights_are_random=random_weights, labels=labels)
    if predictions.random_weights:
        st.warning(predictions.notice, icon=":material/casino:")
    frame = pd.DataFrame([{"Class": p.index, "Label": p.label, "Probability": p.probability}
                          for p in predictions.top])
    if projector:  # in the projector's type; a bar in a data grid stays small
        st.table(frame.assign(Probability=[f"{p:.1%}" for p in frame["Probability"]]), hide_index=True)
        return
    st.dataframe(frame, hide_index=True, key=f"predictions_{id(result)}", column_config={
        "Probability": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)})


def run_side_by_side(state: AppState, choices: Sequence[ModelChoice]) -> None:
    """The Compare view's option: one image through both networks, predictions and time side by side."""
    if state.weights == "trained":
        _trained_side_by_side(state)
        return
    picked = choose_image("compare")
    if picked is None:
        return
    steps = preprocess_steps(picked.image, mode="crop", size=224)
    networks = [load_model(state, choice) for choice in choices]
    imagenet_notice(state, *choices)  # once, above both columns
    for column, choice, network in zip(st.columns(len(choices)), choices, networks, strict=True):
        with column:
            result = in_turn(lambda network=network: vgg.forward_with_features(network, steps.tensor, layers=()))
            st.metric(f"{choice.title}: forward pass", f"{result.total_seconds * 1e3:.0f} ms")
            show_predictions(result, weights_are_random(state, choice), k=3)


def _trained_side_by_side(state: AppState) -> None:
    """With weights trained here: the chosen model beside the newest other one, on one of its test images."""
    chosen = training.chosen_model(state.trained_model)
    if chosen is None:
        return
    others = [entry for entry in training.models() if entry.id != chosen.id
              and entry.trained.dataset.get("name") == chosen.trained.dataset.get("name")
              and entry.trained.input_size == chosen.trained.input_size][:1]
    if not others:
        st.info("Train a second model on the same dataset (A and E, say) to see both on one image.")
    picked = training.choose_trained_image(chosen, "compare")
    if picked is None:
        return
    pixels = picked.pixels
    st.image(training.enlarged(pixels, side=128), caption=picked.caption)
    for column, entry in zip(st.columns(1 + len(others)), (chosen, *others), strict=True):
        with column:
            trained = entry.trained
            x = trained.prepare_images(pixels.unsqueeze(0))
            result = vgg.forward_with_features(trained.model, x, layers=())
            st.metric(entry.label, f"{result.total_seconds * 1e3:.1f} ms")
            show_predictions(result, False, k=3, labels=trained.class_names)
