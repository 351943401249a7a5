"""The Explain view's calls into vgg.explain, cached: attribution maps and dense evaluation per
(network, weights, device, image, request) in ``st.cache_data``; feature visualisations in one store
shared by every session, keyed by (network, weights, layer, channel, steps, size, seed), filled with
progress outside any cached function (so a progress bar is never replayed from a cache).

The model comes from ``explorer.resources`` and is shared: vgg.explain reads it and writes nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
import torch
from PIL import Image

import vgg
from vgg.explain import (
    ChannelVisualization,
    EffectiveField,
    Explanation,
    MultiScale,
    effective_receptive_field,
    explain,
    multiscale_scores,
    visualize_channel,
)

MAX_GALLERY_ENTRIES = 512  # one 128 px picture is 48 KiB: the store stays under 25 MiB


@dataclass(frozen=True)
class Network:
    """Which model, as the caches key it: the structure, the weights and the device."""

    network: vgg.Network  # structure, as the model caches key it
    weights: str  # resources.weights_key: "random:0", "imagenet", "file:/path"
    device: str

    @property
    def random_weights(self) -> bool:
        return self.weights.startswith("random:")


@st.cache_data(show_spinner=False, max_entries=64)
def explanation(network: Network, image_digest: str, method: str, layer: str | None, target: int | None,
                options: tuple[tuple[str, int], ...], _model: torch.nn.Module, _x: torch.Tensor) -> Explanation:
    """One map; the image enters by its digest (its tensor ``_x`` is not hashed)."""
    return explain(_model, _x, method, layer=layer, target=target, **dict(options))


@st.cache_data(show_spinner=False, max_entries=16)
def dense(network: Network, image_digest: str, scales: tuple[int, ...], flips: bool, _model: torch.nn.Module,
          _image: Image.Image) -> MultiScale:
    return multiscale_scores(_model, _image, scales=scales, flips=flips)


@st.cache_data(show_spinner=False, max_entries=32)
def effective_field(network: Network, layer: str, input_size: tuple[int, int], samples: int,
                    _model: torch.nn.Module) -> EffectiveField:
    return effective_receptive_field(_model, layer, input_size=input_size, samples=samples)


@st.cache_resource(show_spinner=False)
def _gallery_store() -> tuple[OrderedDict, threading.Lock]:
    return OrderedDict(), threading.Lock()


GalleryKey = tuple[Network, str, int, int, int, int]  # network, layer, channel, steps, size, seed


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
    _, layer, channel, steps, size, seed = key
    result = visualize_channel(model, layer, channel, steps=steps, size=size, seed=seed, progress=on_progress)
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
