"""The Explain view's calls into vgg.explain, cached: attribution maps and dense evaluation per
(network, weights, device, image, request) in ``st.cache_data``; feature visualisations in one store
shared by every session, keyed by (network, weights, layer, channel, steps, size, seed), filled with
progress outside any cached function (so a progress bar is never replayed from a cache). A mini
network trained here enters every key as its ``TrainedNetwork`` (the server's id for it, never reused).

The model comes from ``explorer.resources`` and is shared: vgg.explain reads it and writes nothing. Every
computation takes one of the server's turns (``explorer.turns``), as forward passes do: thirty students'
Grad-CAMs at once would hold thirty passes' activations and gradients (3.9 GB measured) for no speed-up
on two cores.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
import torch
from PIL import Image, ImageDraw

import vgg
from explorer import resources, services
from explorer.state import AppState
from explorer.style import display_scale
from explorer.subject import Subject
from explorer.turns import FORWARD_TURNS
from explorer.weights_choice import RandomWeights, WeightsChoice
from vgg.explain import (
    MASS_SHARE,
    ChannelVisualization,
    EffectiveField,
    Explanation,
    MultiScale,
    PointingGame,
    colorize,
    effective_receptive_field,
    explain,
    multiscale_pixel_scores,
    multiscale_scores,
    pointing_game,
    visualize_channel,
)

MAX_GALLERY_ENTRIES = 512  # one 128 px picture is 48 KiB: the store stays under 25 MiB


@dataclass(frozen=True)
class Network:
    """Which model, as the caches key it: the structure, the weights and the device."""

    network: vgg.Network  # structure, as the model caches key it
    weights: WeightsChoice
    device: str

    @property
    def random_weights(self) -> bool:
        return isinstance(self.weights, RandomWeights)


@dataclass(frozen=True)
class TrainedNetwork:
    """A mini network trained here, as the caches key it: the server's id for it (never reused) and
    the normalisation it was trained with (what its inputs, feature visualisation's included, need)."""

    model_id: int
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def random_weights(self) -> bool:
        return False


def trained_network(entry: vgg.train.TrainedEntry) -> TrainedNetwork:
    trained = entry.trained
    return TrainedNetwork(entry.id, tuple(trained.mean), tuple(trained.std))


def network_of(state: AppState) -> Network:
    """The network a view runs: the sidebar's structure and device, and the weights it really got
    (random ones while ImageNet's cannot be downloaded)."""
    return Network(state.model.network, services.weights_choice(state), str(vgg.select_device(state.device)))


@st.cache_data(show_spinner=False, max_entries=64)
def explanation(network: Network | TrainedNetwork, image_digest: str, method: str, layer: str | None,
                target: int | None, options: tuple[tuple[str, int], ...], _model: torch.nn.Module,
                _x: torch.Tensor) -> Explanation:
    """One map; the image enters by its digest (its tensor ``_x`` is not hashed)."""
    with FORWARD_TURNS.turn():  # a few at a time: each holds a pass's activations and their gradients
        return explain(_model, _x, method, layer=layer, target=target, **dict(options))


@st.cache_data(show_spinner=False, max_entries=16)
def trained_pointing_game(model_id: int, layer: str, _model: torch.nn.Module, _images: torch.Tensor,
                          _boxes: torch.Tensor, _labels: torch.Tensor) -> PointingGame:
    """The pointing game on the model's whole test split, once per (model, layer) for every session."""
    with FORWARD_TURNS.turn():
        return pointing_game(_model, _images, _boxes, _labels, layer=layer)


@st.cache_data(show_spinner=False, max_entries=16)
def dense(network: Network, image_digest: str, scales: tuple[int, ...], flips: bool, _model: torch.nn.Module,
          _image: Image.Image) -> MultiScale:
    with FORWARD_TURNS.turn():
        return multiscale_scores(_model, _image, scales=scales, flips=flips)


@st.cache_data(show_spinner=False, max_entries=16)
def trained_dense(network: TrainedNetwork, image_digest: str, sizes: tuple[int, ...], flips: bool,
                  _model: torch.nn.Module, _pixels: torch.Tensor) -> MultiScale:
    """Dense evaluation of a mini's (3, S, S) pixels at each size, normalised as it was trained."""
    with FORWARD_TURNS.turn():
        return multiscale_pixel_scores(_model, _pixels, sizes=sizes, mean=network.mean, std=network.std, flips=flips)


@st.cache_data(show_spinner=False, max_entries=32)
def effective_field(network: Network | TrainedNetwork, layer: str, input_size: tuple[int, int], samples: int,
                    _model: torch.nn.Module) -> EffectiveField:
    with FORWARD_TURNS.turn():
        return effective_receptive_field(_model, layer, input_size=input_size, samples=samples)


@st.cache_resource(show_spinner=False)
def _gallery_store() -> tuple[OrderedDict, threading.Lock]:
    return OrderedDict(), threading.Lock()


# network (a trained one by its id), layer, channel, steps, size, seed
GalleryKey = tuple[Network | TrainedNetwork, str, int, int, int, int]


def cached_unit(key: GalleryKey) -> ChannelVisualization | None:
    store, lock = _gallery_store()
    with lock:
        found = store.get(key)
        if found is not None:
            store.move_to_end(key)
        return found


def unit(key: GalleryKey, model: torch.nn.Module,
         on_progress: Callable[[int, int], None] | None = None) -> ChannelVisualization:
    """The channel's visualisation from the store, or computed (with progress) and stored."""
    found = cached_unit(key)
    if found is not None:
        return found
    network, layer, channel, steps, size, seed = key
    # ImageNet's statistics (the library's default) for the full networks, the training's for a mini
    statistics = {"mean": network.mean, "std": network.std} if isinstance(network, TrainedNetwork) else {}
    with FORWARD_TURNS.turn():
        result = visualize_channel(model, layer, channel, steps=steps, size=size, seed=seed, progress=on_progress,
                                   **statistics)
    store, lock = _gallery_store()
    with lock:
        store[key] = result
        while len(store) > MAX_GALLERY_ENTRIES:
            store.popitem(last=False)
    return result


@st.cache_data(show_spinner=False, max_entries=64)
def predictions(network: Network, image_digest: str, _model: torch.nn.Module, _x: torch.Tensor,
                k: int = 5) -> vgg.Predictions:
    """The top-k classes, offered as what to explain (the first is the default)."""
    logits = vgg.forward_with_features(_model, _x, layers=()).logits
    return vgg.top_k(logits, k, weights_are_random=network.random_weights)


RANDOM_ERF = ("Random weights: this is the effective field of an untrained network, already concentrated towards "
              "the centre (Luo et al., 2016, found it Gaussian at initialisation); training changes its shape, "
              "never its bound.")


def effective_field_section(state: AppState, subject: Subject, row: vgg.LayerRow) -> None:
    """For the Receptive field view: the measured field of the centre unit of ``row``'s map in ``subject`` (the
    sidebar's network with its weights, or the mini trained here), inside the theoretical square the analysis
    gives."""
    st.subheader("Effective receptive field")
    st.markdown(f"The theoretical field is every pixel that *can* reach {row.paper_name}; the effective field is how "
                "much each one *does*: the input gradient of the unit at the centre of the map, averaged over "
                "images (here seeded noise). It never leaves the theoretical square, and fills only its middle.")
    if not subject.runnable:
        st.info(subject.runnable_note("the effective field"))
        return
    trained = subject.trained
    request = (trained_network(trained) if trained else network_of(state), row.name, subject.input_size)
    if st.button("Measure the effective field", key="rf_erf_run"):
        st.session_state["_rf_erf_request"] = request
    if st.session_state.get("_rf_erf_request") != request:
        return
    if trained is not None:
        network, model = request[0], trained.trained.model
    else:
        if request[0].random_weights:
            st.warning(RANDOM_ERF, icon=":material/casino:")
        resources.check_fits(state.model, state.input_size)
        model = services.load_model(state, state.model)
        network = network_of(state)  # the weights it really got
    with st.spinner(f"Back-propagating from the centre of {row.paper_name}..."):
        field = effective_field(network, row.name, subject.input_size, 4, model)
    _show_field(field, row, subject.input_size)


def _show_field(field: EffectiveField, row: vgg.LayerRow, input_size: tuple[int, int]) -> None:
    picture, numbers = st.columns([3, 2])
    scale = display_scale(input_size)
    picture.image(field_picture(field, scale), caption=f"Gradient magnitude of {row.paper_name}[{field.position[0]}, "
                                                       f"{field.position[1]}] (square root, for contrast); the "
                                                       "theoretical field outlined",
                  width=min(input_size[1] * scale, 560))
    numbers.metric("Theoretical field (analysis)", f"{row.receptive_field} px")
    numbers.metric(f"Effective field ({MASS_SHARE:.0%} of the gradient)", f"{field.effective_size} px")
    numbers.metric("Gradient outside the theoretical field", f"{field.outside_share:.1%}")


def field_picture(field: EffectiveField, scale: int = 1) -> Image.Image:
    """The gradient map coloured (square root: the tails stay visible) and enlarged ``scale`` times by whole
    pixels, the theoretical square drawn on it."""
    picture = Image.fromarray(colorize(field.gradient.sqrt()), "RGB")
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    top, left, bottom, right = (side * scale for side in field.theoretical.box)
    width = max(2, round(min(picture.size) / 112))
    ImageDraw.Draw(picture).rectangle((left, top, right - 1, bottom - 1), outline=(255, 255, 255), width=width)
    return picture
