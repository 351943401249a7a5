"""Explain: where the network looked (attribution heatmaps over the image, several methods side by
side), the paper's dense evaluation at several scales, and what its units want (feature
visualisation, the first layer's filters). With random weights every panel says what that means.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

import vgg
from explorer import explain_service as service
from explorer import resources, services, training
from explorer.image_input import ChosenImage, choose_image
from explorer.state import AppState
from vgg.explain import (
    LAYER_METHODS,
    METHOD_TITLES,
    METHODS,
    PAPER_SCALES,
    RANDOM_WEIGHTS_EXPLAINED,
    MultiScale,
    first_conv_filters,
    inside,
    mark_box_and_peak,
    named_layers,
    overlay,
    peak_of,
    resize_smallest_side,
)

TITLE = "Explain"
DEFAULT_METHODS = ["gradcam", "guided_backprop"]
RANDOM_DENSE = ("Random weights: the score maps below are an untrained network's, so the class each position "
                "\"votes\" for is noise. The mechanics (fc layers as convolutions, one score vector per position) "
                "are the paper's; load ImageNet weights to see them agree on a class.")
RANDOM_UNITS = ("Random weights: an untrained unit still responds more to some patterns than others, and the "
                "optimiser finds them (random colour blobs and stripes). Trained units want edges, textures, "
                "eyes and wheels: load ImageNet weights to see those.")
TRAINED_DISPLAY_SIDE = 256  # a trained mini's 32 or 64 px input, enlarged with hard pixel edges for a class
_DENSE_KEY, _GALLERY_KEY = "_explain_dense_request", "_explain_gallery_request"


def _feature_rows(state: AppState) -> list[vgg.LayerRow]:
    report = resources.analysis(state.model, (224, 224))
    return [row for row in report.layers if row.name.startswith("features.") and row.kind in ("conv", "relu", "pool")]


def _label(row: vgg.LayerRow) -> str:
    return f"{row.paper_name} ({row.name})"


def render(state: AppState) -> None:
    if state.weights == "trained":
        _render_trained(state)
        return
    st.header(f"{state.model.title}: where it looks, what its units want")
    resources.check_fits(state.model, (224, 224))
    model = services.load_model(state, state.model)  # random weights while ImageNet's cannot be downloaded
    services.imagenet_notice(state)
    network = service.network_of(state)
    if network.random_weights:
        st.warning(RANDOM_WEIGHTS_EXPLAINED, icon=":material/casino:")
    picked = choose_image("explain")
    if picked is None:
        return
    steps = vgg.preprocess_steps(picked.image, mode="crop", size=224)
    width, height = picked.image.size
    st.caption(f"Explaining {picked.label} ({width} × {height}): the maps are drawn over the 224 × 224 centre "
               "crop that the network sees.")
    attribution, dense_tab, units = st.tabs(["Where it looked", "Dense evaluation (paper, Sec. 3.2)",
                                             "What units want"])
    with attribution:
        _attribution(state, network, model, picked, steps)
    with dense_tab:
        _dense(network, model, picked)
    with units:
        _units(state, network, model)


def _attribution(state: AppState, network: service.Network, model: torch.nn.Module, picked: ChosenImage,
                 steps: vgg.PreprocessSteps) -> None:
    rows = _feature_rows(state)
    convs = [row for row in rows if row.kind == "conv"]
    labels = {row.name: _label(row) for row in rows}
    predictions = service.predictions(network, picked.digest, model, steps.tensor)
    classes = {p.index: f"{p.index} {p.label} ({p.probability:.1%})" for p in predictions.top}
    left, middle, right = st.columns([3, 2, 2])
    methods = left.multiselect("Methods", list(METHODS), default=DEFAULT_METHODS, format_func=METHOD_TITLES.get,
                               key="explain_methods", help="Each map explains the same class; they appear side by "
                                                           "side. Occlusion runs the network once per window.")
    layer = middle.selectbox("Layer (Grad-CAM)", list(labels), index=list(labels).index(convs[-1].name),
                             format_func=labels.__getitem__, key="explain_layer",
                             help="Grad-CAM weighs this layer's maps; the last convolution is the usual choice.")
    target = right.selectbox("Class", list(classes), format_func=classes.__getitem__, key="explain_class",
                             help="The network's top 5; the first is its prediction (the default).")
    opacity = st.slider("Heatmap opacity", 0.0, 1.0, 0.5, 0.05, key="explain_opacity")
    window, stride = 32, 16
    if "occlusion" in methods:
        first, second = st.columns(2)
        window = first.select_slider("Occlusion window (px)", [16, 32, 48, 64], 32, key="explain_window")
        stride = second.select_slider("Occlusion stride (px)", [8, 16, 32, 64], 16, key="explain_stride")
    if not methods:
        st.info("Choose at least one method.")
        return
    columns = st.columns(3)  # a fixed width, so that a map and its caption fit a projector's screen
    for index, method in enumerate(methods):
        options = (("window", window), ("stride", stride)) if method == "occlusion" else ()
        with st.spinner(f"{METHOD_TITLES[method]}..."):
            result = service.explanation(network, picked.digest, method, layer if method in LAYER_METHODS else None,
                                         target, options, model, steps.tensor)
        where = f" at {labels[result.layer]}" if result.layer else ""
        columns[index % len(columns)].image(overlay(steps.cropped, result.heatmap, opacity=opacity),
                                            caption=f"{METHOD_TITLES[method]}{where}: class {classes[result.target]}",
                                            width="stretch")
    st.caption("Bright = where the class's score depends most on the image. Grad-CAM is coarse (its layer's "
               "grid, 14 × 14 at conv5_3) but class-specific; gradients are sharp but noisy; occlusion measures "
               "the score's drop when a grey patch hides each part. The 224 × 224 crop is what the network saw.")


def _dense(network: service.Network, model: torch.nn.Module, picked: ChosenImage) -> None:
    st.markdown("The paper's test: fc6 becomes a 7 × 7 convolution and fc7, fc8 1 × 1 ones (the same weights, "
                "reshaped), so the whole uncropped image is scored at every position. Posteriors are averaged "
                "over positions, horizontal flips and test scales Q (the image's smallest side).")
    if network.random_weights:
        st.warning(RANDOM_DENSE, icon=":material/casino:")
    left, right = st.columns([3, 1])
    scales = left.multiselect("Test scales Q (px)", [224, *PAPER_SCALES], default=[256, 384], key="explain_scales")
    flips = right.toggle("With flips", value=True, key="explain_flips")
    request = (network, picked.digest, tuple(sorted(scales)), flips)
    if st.button("Run dense evaluation", key="explain_dense_run", disabled=not scales, type="primary"):
        st.session_state[_DENSE_KEY] = request
    if st.session_state.get(_DENSE_KEY) != request:
        st.caption("Runs the network over the whole image at each scale (and mirrored): seconds per scale on a CPU.")
        return
    with st.spinner("Scoring every position at each scale..."):
        result = service.dense(network, picked.digest, request[2], flips, model, picked.image)
    _show_dense(result, picked)


def _show_dense(result: MultiScale, picked: ChosenImage) -> None:
    names = vgg.imagenet_classes()

    def name(index: int) -> str:
        return names[index] if len(result.posterior) == len(names) else f"class {index}"

    winner = result.top_class
    columns = st.columns(3)
    for index, scale in enumerate(result.scales):
        probabilities = torch.softmax(scale.scores, dim=0)[winner]  # (h, w): the winner's posterior per position
        spread = probabilities - probabilities.min()
        shown = spread / spread.max() if float(spread.max()) > 0 else spread
        height, width = scale.grid
        columns[index % len(columns)].image(
            overlay(resize_smallest_side(picked.image, scale.scale), shown, opacity=0.55),
            caption=f"Q = {scale.scale}: {height} × {width} positions; this scale votes {name(scale.top_class)} "
                    f"({float(scale.posterior.max()):.1%})", width="stretch")
    frame = pd.DataFrame([{"Test": f"dense, Q = {scale.scale}", "Top class": name(scale.top_class),
                           "Probability": float(scale.posterior.max())} for scale in result.scales]
                         + [{"Test": f"adaptive pool, Q = {scale.scale}", "Top class":
                             name(int(scale.adaptive_posterior.argmax())),
                             "Probability": float(scale.adaptive_posterior.max())} for scale in result.scales]
                         + [{"Test": "multi-scale dense (the paper)", "Top class": name(winner),
                             "Probability": float(result.posterior.max())},
                            {"Test": "torchvision: resize 256, crop 224", "Top class":
                             name(int(result.crop_posterior.argmax())),
                             "Probability": float(result.crop_posterior.max())}])
    st.dataframe(frame, hide_index=True, key="explain_dense_table", column_config={
        "Probability": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)})
    st.caption(f"The maps show, per position, the posterior of the class the multi-scale average votes for "
               f"({name(winner)}); brighter = more sure. The adaptive-pool rows are torchvision's answer at the "
               "same sizes: it averages the features to 7 × 7 instead of sliding fc6.")


def _units(state: AppState, network: service.Network, model: torch.nn.Module) -> None:
    if network.random_weights:
        st.warning(RANDOM_UNITS, icon=":material/casino:")
    st.subheader("The first layer's filters")
    st.image(first_conv_filters(model), caption="conv1_1's 3 × 3 RGB kernels, enlarged; grey = 0, every filter on "
                                                "one scale", width=360)
    st.subheader("What units want")
    relus = [row for row in _feature_rows(state) if row.kind == "relu"]
    labels = {row.name: _label(row) for row in relus}
    default = next((row.name for row in relus if row.paper_name.startswith("relu4_")), relus[-1].name)
    first, second, third = st.columns(3)
    layer = first.selectbox("Layer", list(labels), index=list(labels).index(default), format_func=labels.__getitem__,
                            key="explain_unit_layer")
    count = second.slider("Channels", 1, 8, 4, key="explain_unit_count")
    steps = third.select_slider("Optimisation steps", [32, 64, 128, 256], 64, key="explain_unit_steps")
    channels_in_layer = resources.analysis(state.model, (224, 224)).layer(layer).output_shape[1]
    keys = [(network, layer, channel, steps, 96, 0) for channel in range(min(count, channels_in_layer))]
    ready = all(service.cached_unit(key) is not None for key in keys)
    if st.button("Visualise", key="explain_units_run", type="primary", disabled=ready):
        st.session_state[_GALLERY_KEY] = tuple(keys)
    if not ready and st.session_state.get(_GALLERY_KEY) != tuple(keys):
        st.caption(f"Optimises an image for each of the first {len(keys)} channels of {labels[layer]} (Fourier "
                   "parameterised, decorrelated colour, jittered, scaled and rotated at every step, as Lucid does). "
                   "Results are kept for everyone using this server.")
        return
    bar = st.progress(0.0)
    results = []
    for index, key in enumerate(keys):
        def on_progress(done: int, total: int, index: int = index) -> None:
            bar.progress((index + done / total) / len(keys), text=f"Channel {index + 1} of {len(keys)}: step {done}")

        results.append(service.unit(key, model, on_progress))
    bar.empty()
    columns = st.columns(4)
    for index, result in enumerate(results):
        columns[index % 4].image(result.image, caption=f"channel {result.channel}: mean activation "
                                                       f"{result.activation:.2f}", width="stretch")



def _render_trained(state: AppState) -> None:
    """Where a mini VGG trained here looks, on its dataset's test images (the shapes' with their object's
    box, and the pointing game over the whole split) or an upload."""
    entry = training.chosen_model(state.trained_model)
    if entry is None:
        return
    trained = entry.trained
    st.header(f"{trained.label}: where it looks")
    picked = training.choose_trained_image(entry, "explain")
    if picked is None:
        return
    convs = [layer for layer in named_layers(trained.model) if layer.kind == "conv"]
    labels = {layer.path: f"{layer.paper_name} ({layer.path})" for layer in convs}
    x = trained.prepare_images(picked.pixels.unsqueeze(0))
    predictions = trained.predict(picked.pixels, k=min(5, len(trained.class_names)))
    classes = {p.index: f"{p.label} ({p.probability:.1%})" for p in predictions.top}
    left, middle, right = st.columns([3, 2, 2])
    methods = left.multiselect("Methods", [m for m in METHODS if m != "occlusion"], default=DEFAULT_METHODS,
                               format_func=METHOD_TITLES.get, key="explain_trained_methods")
    layer = middle.selectbox("Layer (Grad-CAM)", list(labels), index=len(labels) - 1, format_func=labels.__getitem__,
                             key="explain_trained_layer")
    target = right.selectbox("Class", list(classes), format_func=classes.__getitem__, key="explain_trained_class",
                             help="The network's top predictions; the first is its answer (the default).")
    opacity = st.slider("Heatmap opacity", 0.0, 1.0, 0.5, 0.05, key="explain_trained_opacity")
    if not methods:
        st.info("Choose at least one method.")
        return
    side = trained.input_size
    shown = training.enlarged(picked.pixels, side=TRAINED_DISPLAY_SIDE)
    columns = st.columns(3)
    for index, method in enumerate(methods):
        result = service.trained_explanation(entry.id, picked.digest, method,
                                             layer if method in LAYER_METHODS else None, target, trained.model, x)
        peak = peak_of(result.heatmap)
        picture = mark_box_and_peak(overlay(shown, result.heatmap, opacity=opacity), (side, side), peak, picked.box)
        verdict = "" if picked.box is None else (" · peak inside the box" if inside(peak, picked.box)
                                                 else " · peak outside the box")
        where = f" at {labels[result.layer]}" if result.layer else ""
        columns[index % len(columns)].image(picture, width="stretch", caption=f"{METHOD_TITLES[method]}{where}: "
                                            f"{trained.class_names[result.target]}{verdict}")
    st.caption(f"{picked.caption}, {side} × {side} pixels as the network sees them (enlarged). The cross marks each "
               "map's peak" + ("; the white box is where the shape really is." if picked.box is not None else "."))
    if picked.box is not None:
        _trained_pointing_game(entry, layer, labels[layer])


def _trained_pointing_game(entry: vgg.train.TrainedEntry, layer: str, layer_label: str) -> None:
    """The pointing game over the whole test split: how often Grad-CAM's peak lands on the object."""
    st.subheader("The pointing game")
    test = training.dataset_test_split(entry)
    st.markdown(f"For each of the {len(test.labels)} test images, Grad-CAM of the true class at {layer_label}: a hit "
                "when its peak falls inside the shape's box. A point drawn at random would hit as often as the "
                "boxes cover the image.")
    if not st.button("Play on every test image", key="explain_trained_pointing", type="primary"):
        return
    trained = entry.trained
    with st.spinner(f"Grad-CAM of {len(test.labels)} test images..."):
        game = service.trained_pointing_game(entry.id, layer, trained.model, trained.prepare_images(test.images),
                                             test.boxes, test.labels)
    left, right = st.columns(2)
    left.metric("Peaks on the object", f"{game.accuracy:.1%}", help=f"{game.hits} of {game.total} test images")
    right.metric("A random point", f"{game.random_baseline:.1%}", help="The mean share of the image the boxes cover.")
