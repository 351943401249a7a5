"""Explain: where the network looked (attribution heatmaps over the image, several methods side by
side), the paper's dense evaluation at several scales, and what its units want (feature
visualisation, the first layer's filters). With random weights every panel says what that means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st
import torch
from PIL import Image

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
    ExplainError,
    Explanation,
    MultiScale,
    first_conv_filters,
    has_peak,
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
FULL_SIDE, FULL_UNIT_SIDE = 224, 96  # the full networks' input; their gallery's pictures
_DENSE_KEY, _GALLERY_KEY = "_explain_dense_request", "_explain_gallery_request"


@dataclass(frozen=True)
class Explained:
    """What every panel explains, full network or mini: the network as the caches key it, its model, the
    image's normalised (1, 3, H, W) input and digest, the classes offered (index -> label, the prediction
    first), and the prefix of the panel's widget keys."""

    network: service.Network | service.TrainedNetwork
    model: torch.nn.Module
    x: torch.Tensor
    digest: str
    classes: dict[int, str]
    key: str


@dataclass(frozen=True)
class OcclusionChoices:
    """The occlusion window and stride offered (px), their defaults, and a note on where they come from."""

    windows: tuple[int, ...]
    window: int
    strides: tuple[int, ...]
    stride: int
    note: str = ""


FULL_OCCLUSION = OcclusionChoices((16, 32, 48, 64), 32, (8, 16, 32, 64), 16)


def mini_occlusion(side: int) -> OcclusionChoices:
    """Occlusion for a mini's small input: a quarter of its side as the window, an eighth as the stride
    (8 and 4 px at 32 px), where VGG's 32 px window would hide a whole 32 px digit."""
    eighth = max(1, side // 8)
    return OcclusionChoices(
        (eighth, 2 * eighth, 3 * eighth, 4 * eighth), 2 * eighth, (max(1, eighth // 2), eighth, 2 * eighth, 4 * eighth),
        eighth, f"Occlusion scaled to this network's {side} px input: a {2 * eighth} px window moved {eighth} px at a "
                "time by default (a quarter and an eighth of its side; the full networks' 32 and 16 px window and "
                f"stride would hide {'all' if side <= 32 else 'a quarter'} of it).")


def _feature_rows(network: vgg.Network, side: int) -> list[vgg.LayerRow]:
    report = resources.analysis(network, (side, side))
    return [row for row in report.layers if row.name.startswith("features.") and row.kind in ("conv", "relu", "pool")]


def _label(row: vgg.LayerRow) -> str:
    return f"{row.paper_name} ({row.name})"


def render(state: AppState) -> None:
    if state.weights == "trained":
        _render_trained(state)
        return
    st.header(f"{state.model.title}: where it looks, what its units want")
    resources.check_fits(state.model, (FULL_SIDE, FULL_SIDE))
    model = services.load_model(state, state.model)  # random weights while ImageNet's cannot be downloaded
    services.imagenet_notice(state)
    network = service.network_of(state)
    if network.random_weights:
        st.warning(RANDOM_WEIGHTS_EXPLAINED, icon=":material/casino:")
    picked = choose_image("explain")
    if picked is None:
        return
    steps = vgg.preprocess_steps(picked.image, mode="crop", size=FULL_SIDE)
    width, height = picked.image.size
    st.caption(f"Explaining {picked.label} ({width} × {height}): the maps are drawn over the 224 × 224 centre "
               "crop that the network sees.")
    predictions = service.predictions(network, picked.digest, model, steps.tensor)
    explained = Explained(network, model, steps.tensor, picked.digest,
                          {p.index: f"{p.index} {p.label} ({p.probability:.1%})" for p in predictions.top}, "explain")
    rows = _feature_rows(state.model.network, FULL_SIDE)
    attribution, dense_tab, units = _tabs()
    with attribution:
        convs = [row for row in rows if row.kind == "conv"]
        _maps(explained, {row.name: _label(row) for row in rows}, convs[-1].name, FULL_OCCLUSION,
              lambda result, opacity: (overlay(steps.cropped, result.heatmap, opacity=opacity), ""),
              "Bright = where the class's score depends most on the image. Grad-CAM is coarse (its layer's grid, "
              "14 × 14 at conv5_3) but class-specific; gradients are sharp but noisy; occlusion measures the score's "
              "drop when a grey patch hides each part. The 224 × 224 crop is what the network saw.")
    with dense_tab:
        _dense(explained, picked)
    with units:
        _units(explained, rows, FULL_UNIT_SIDE)


def _tabs() -> list:
    return st.tabs(["Where it looked", "Dense evaluation (paper, Sec. 3.2)", "What units want"])


def _maps(explained: Explained, layers: dict[str, str], default_layer: str, occlusion: OcclusionChoices,
          draw: Callable[[Explanation, float], tuple[Image.Image, str]], note: str) -> str | None:
    """The methods, Grad-CAM layer, class, opacity and occlusion controls, then the maps side by side,
    each drawn by ``draw`` (the picture and a caption's tail); the chosen layer, None without a method."""
    key = explained.key
    left, middle, right = st.columns([3, 2, 2])
    methods = left.multiselect("Methods", list(METHODS), default=DEFAULT_METHODS, format_func=METHOD_TITLES.get,
                               key=f"{key}_methods", help="Each map explains the same class; they appear side by "
                                                          "side. Occlusion runs the network once per window.")
    layer = middle.selectbox("Layer (Grad-CAM)", list(layers), index=list(layers).index(default_layer),
                             format_func=layers.__getitem__, key=f"{key}_layer",
                             help="Grad-CAM weighs this layer's maps; the last convolution is the usual choice.")
    classes = explained.classes
    target = right.selectbox("Class", list(classes), format_func=classes.__getitem__, key=f"{key}_class",
                             help="The network's top predictions; the first is its answer (the default).")
    opacity = st.slider("Heatmap opacity", 0.0, 1.0, 0.5, 0.05, key=f"{key}_opacity")
    window, stride = occlusion.window, occlusion.stride
    if "occlusion" in methods:
        first, second = st.columns(2)
        window = first.select_slider("Occlusion window (px)", occlusion.windows, window, key=f"{key}_window")
        stride = second.select_slider("Occlusion stride (px)", occlusion.strides, stride, key=f"{key}_stride")
        if occlusion.note:
            st.caption(occlusion.note)
    if not methods:
        st.info("Choose at least one method.")
        return None
    columns = st.columns(3)  # a fixed width, so that a map and its caption fit a projector's screen
    for index, method in enumerate(methods):
        options = (("window", window), ("stride", stride)) if method == "occlusion" else ()
        column = columns[index % len(columns)]
        try:
            with st.spinner(f"{METHOD_TITLES[method]}..."):
                result = service.explanation(explained.network, explained.digest, method,
                                             layer if method in LAYER_METHODS else None, target, options,
                                             explained.model, explained.x)
        except ExplainError as error:  # an occlusion stride longer than its window, in words
            column.warning(f"{METHOD_TITLES[method]}: {error}")
            continue
        picture, tail = draw(result, opacity)
        where = f" at {layers[result.layer]}" if result.layer else ""
        column.image(picture, width="stretch",
                     caption=f"{METHOD_TITLES[method]}{where}: class {classes[result.target]}{tail}")
    st.caption(note)
    return layer


def _dense(explained: Explained, picked: ChosenImage) -> None:
    st.markdown("The paper's test: fc6 becomes a 7 × 7 convolution and fc7, fc8 1 × 1 ones (the same weights, "
                "reshaped), so the whole uncropped image is scored at every position. Posteriors are averaged "
                "over positions, horizontal flips and test scales Q (the image's smallest side).")
    request = _dense_request(explained, [224, *PAPER_SCALES], [256, 384], flips=True, on_demand=True)
    if request is None:
        return
    with st.spinner("Scoring every position at each scale..."):
        result = service.dense(explained.network, explained.digest, *request, explained.model, picked.image)
    names = vgg.imagenet_classes()
    _show_dense(result, lambda scale: resize_smallest_side(picked.image, scale),
                lambda index: names[index] if len(result.posterior) == len(names) else f"class {index}",
                "torchvision: resize 256, crop 224", explained.model.avgpool.output_size)


def _dense_request(explained: Explained, scales: Sequence[int], default: Sequence[int], *, flips: bool,
                   on_demand: bool) -> tuple[tuple[int, ...], bool] | None:
    """The test scales and flips chosen, once there is something to compute: at once, or (``on_demand``,
    for the full networks' seconds per scale) after the button for this very request."""
    if explained.network.random_weights:
        st.warning(RANDOM_DENSE, icon=":material/casino:")
    left, right = st.columns([3, 1])
    chosen = left.multiselect("Test scales Q (px)", list(scales), default=list(default), key=f"{explained.key}_scales")
    flipped = right.toggle("With flips", value=flips, key=f"{explained.key}_flips",
                           help="Average each scale's posteriors with the image mirrored left to right.")
    request = (explained.network, explained.digest, tuple(sorted(chosen)), flipped)
    if not on_demand:
        if not chosen:
            st.info("Choose at least one test scale.")
            return None
        return request[2], flipped
    if st.button("Run dense evaluation", key=f"{explained.key}_dense_run", disabled=not chosen, type="primary"):
        st.session_state[_DENSE_KEY] = request
    if st.session_state.get(_DENSE_KEY) != request:
        st.caption("Runs the network over the whole image at each scale (and mirrored): seconds per scale on a CPU.")
        return None
    return request[2], flipped


def _show_dense(result: MultiScale, picture_at: Callable[[int], Image.Image], name: Callable[[int], str],
                reference: str, pooled: int | tuple[int, int]) -> None:
    """Each scale's map of the winning class over the picture at that scale, and the answers as a table
    (``reference``: the single-view answer's row, ``pooled``: the avgpool's output size)."""
    winner = result.top_class
    columns = st.columns(3)
    for index, scale in enumerate(result.scales):
        probabilities = torch.softmax(scale.scores, dim=0)[winner]  # (h, w): the winner's posterior per position
        spread = probabilities - probabilities.min()
        shown = spread / spread.max() if float(spread.max()) > 0 else spread
        height, width = scale.grid
        columns[index % len(columns)].image(
            overlay(picture_at(scale.scale), shown, opacity=0.55),
            caption=f"Q = {scale.scale}: {height} × {width} positions; this scale votes {name(scale.top_class)} "
                    f"({float(scale.posterior.max()):.1%})", width="stretch")
    frame = pd.DataFrame([{"Test": f"dense, Q = {scale.scale}", "Top class": name(scale.top_class),
                           "Probability": float(scale.posterior.max())} for scale in result.scales]
                         + [{"Test": f"adaptive pool, Q = {scale.scale}", "Top class":
                             name(int(scale.adaptive_posterior.argmax())),
                             "Probability": float(scale.adaptive_posterior.max())} for scale in result.scales]
                         + [{"Test": "multi-scale dense (the paper)", "Top class": name(winner),
                             "Probability": float(result.posterior.max())},
                            {"Test": reference, "Top class": name(int(result.crop_posterior.argmax())),
                             "Probability": float(result.crop_posterior.max())}])
    st.dataframe(frame, hide_index=True, key="explain_dense_table", column_config={
        "Probability": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)})
    rows, columns_pooled = (pooled, pooled) if isinstance(pooled, int) else pooled
    st.caption(f"The maps show, per position, the posterior of the class the multi-scale average votes for "
               f"({name(winner)}); brighter = more sure. The adaptive-pool rows are the ordinary forward "
               f"(torchvision's VGG) at the same sizes: it averages the features to {rows} × {columns_pooled} instead "
               "of sliding fc6.")


def _units(explained: Explained, rows: list[vgg.LayerRow], size: int) -> None:
    """The first convolution's filters, and a gallery of what the chosen layer's first channels want, each an
    image of ``size`` px optimised on demand (with progress) and kept in the server's store."""
    network, key = explained.network, explained.key
    if network.random_weights:
        st.warning(RANDOM_UNITS, icon=":material/casino:")
    st.subheader("The first layer's filters")
    st.image(first_conv_filters(explained.model), caption="conv1_1's 3 × 3 RGB kernels, enlarged; grey = 0, every "
                                                          "filter on one scale", width=360)
    st.subheader("What units want")
    relus = {row.name: row for row in rows if row.kind == "relu"}
    labels = {name: _label(row) for name, row in relus.items()}
    default = next((name for name, row in relus.items() if row.paper_name.startswith("relu4_")), list(relus)[-1])
    first, second, third = st.columns(3)
    layer = first.selectbox("Layer", list(labels), index=list(labels).index(default), format_func=labels.__getitem__,
                            key=f"{key}_unit_layer")
    count = second.slider("Channels", 1, 8, 4, key=f"{key}_unit_count")
    steps = third.select_slider("Optimisation steps", [32, 64, 128, 256], 64, key=f"{key}_unit_steps")
    channels_in_layer = relus[layer].output_shape[1]
    keys = [(network, layer, channel, steps, size, 0) for channel in range(min(count, channels_in_layer))]
    ready = all(service.cached_unit(key) is not None for key in keys)
    if st.button("Visualise", key=f"{key}_units_run", type="primary", disabled=ready):
        st.session_state[_GALLERY_KEY] = tuple(keys)
    if not ready and st.session_state.get(_GALLERY_KEY) != tuple(keys):
        st.caption(f"Optimises a {size} × {size} image for each of the first {len(keys)} channels of {labels[layer]} "
                   "(Fourier parameterised, decorrelated colour, jittered, scaled and rotated at every step, as Lucid "
                   "does). Results are kept for everyone using this server.")
        return
    bar = st.progress(0.0)
    results = []
    for index, unit_key in enumerate(keys):
        def on_progress(done: int, total: int, index: int = index) -> None:
            bar.progress((index + done / total) / len(keys), text=f"Channel {index + 1} of {len(keys)}: step {done}")

        results.append(service.unit(unit_key, explained.model, on_progress))
    bar.empty()
    columns = st.columns(4)
    for index, result in enumerate(results):
        columns[index % 4].image(result.image, caption=f"channel {result.channel}: mean activation "
                                                       f"{result.activation:.2f}", width="stretch")


def _render_trained(state: AppState) -> None:
    """Where a mini VGG trained here looks, on its dataset's test images (the shapes' with their object's
    box, and the pointing game over the whole split) or an upload; its dense evaluation; what its units want.
    The panels are the full networks', at the mini's input size."""
    entry = training.chosen_model(state.trained_model)
    if entry is None:
        return
    trained = entry.trained
    st.header(f"{trained.label}: where it looks, what its units want")
    picked = training.choose_trained_image(entry, "explain")
    if picked is None:
        return
    side = trained.input_size
    predictions = trained.predict(picked.pixels, k=min(5, len(trained.class_names)))
    x = trained.prepare_images(picked.pixels.unsqueeze(0))
    explained = Explained(service.trained_network(entry), trained.model, x, picked.digest,
                          {p.index: f"{p.label} ({p.probability:.1%})" for p in predictions.top}, "explain_trained")
    shown = training.enlarged(picked.pixels, side=TRAINED_DISPLAY_SIDE)
    attribution, dense_tab, units = _tabs()
    with attribution:
        _trained_attribution(entry, picked, explained, shown)
    with dense_tab:
        _trained_dense(entry, picked, explained, shown)
    with units:
        _units(explained, _feature_rows(trained.network.network, side), side)


def _trained_attribution(entry: vgg.train.TrainedEntry, picked: training.TrainedImage, explained: Explained,
                         shown: Image.Image) -> None:
    side = entry.trained.input_size
    convs = [layer for layer in named_layers(entry.trained.model) if layer.kind == "conv"]
    labels = {layer.path: layer.label for layer in convs}

    def draw(result: Explanation, opacity: float) -> tuple[Image.Image, str]:
        peak = peak_of(result.heatmap)
        picture = mark_box_and_peak(overlay(shown, result.heatmap, opacity=opacity), (side, side), peak, picked.box)
        verdict = ("" if picked.box is None else " · a flat map: no peak" if not has_peak(result.heatmap)
                   else " · peak inside the box" if inside(peak, picked.box) else " · peak outside the box")
        return picture, verdict

    layer = _maps(explained, labels, convs[-1].path, mini_occlusion(side), draw,
                  f"{picked.caption}, {side} × {side} pixels as the network sees them (enlarged). The cross marks "
                  "each map's peak" + ("; the white box is where the shape really is." if picked.box is not None
                                       else "."))
    if layer is not None and picked.box is not None:
        _trained_pointing_game(entry, layer, labels[layer])


def _trained_dense(entry: vgg.train.TrainedEntry, picked: training.TrainedImage, explained: Explained,
                   shown: Image.Image) -> None:
    trained = entry.trained
    side, pooled = trained.input_size, trained.network.pooled_size
    st.markdown(f"The paper's test on this mini: its avgpool keeps {pooled} × {pooled}, so fc6 becomes a {pooled} × "
                f"{pooled} convolution and fc7, fc8 1 × 1 ones (the same weights, reshaped), and a larger image is "
                f"scored at every position. At its own {side} px the map is as small as the network makes it; the "
                "image enlarged (bilinear) to 2× and more gives a grid of positions, whose posteriors are averaged "
                "as in the paper.")
    request = _dense_request(explained, [side * factor for factor in (1, 2, 3, 4)], [side, 2 * side], flips=False,
                             on_demand=False)
    if request is None:
        return
    result = service.trained_dense(explained.network, explained.digest, *request, trained.model, picked.pixels)
    _show_dense(result, lambda _: shown, trained.class_names.__getitem__,
                f"the ordinary forward at {side} px (as trained)", pooled)


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
