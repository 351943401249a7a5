"""Forward pass: an image through the real network, every layer's output captured in one pass.

Shows the preprocessing steps, the predictions (with a prominent notice for random weights), the
feature-map grid and channel statistics of a chosen layer, sparsity and size through the network,
and per-layer timing.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import vgg
import vgg.perf
from explorer import charts, resources, training
from explorer.image_input import ChosenImage, choose_image
from explorer.services import (
    exported_bytes,
    load_model,
    precision_cost,
    run_forward,
    show_predictions,
    weights_are_random,
)
from explorer.state import AppState
from explorer.style import show_chart, side_by_side
from vgg import format
from vgg.analysis import LEADING_KINDS
from vgg.vision import ForwardResult, PreprocessSteps, channel_stats, feature_grid, layer_stats, preprocess_steps

TITLE = "Forward pass"
_KEPT_KINDS = frozenset({"relu", "lrn", "pool", "avgpool"})  # the maps kept, as the shared forward pass keeps
_TRAINED_RESULT_KEY = "_forward_trained_result"  # one result per session for a model trained here
EXPORT_LABELS = {"onnx": "ONNX (ONNX Runtime, Netron)", "torchscript": "TorchScript (libtorch)",
                 "pt2": "torch.export (.pt2)"}
MODES = {"crop": "Centre crop (as the published weights were evaluated)", "whole": "Whole image, squashed"}
def _preprocessing(picked: ChosenImage, state: AppState) -> PreprocessSteps:
    mode = st.radio("Preprocessing", list(MODES), format_func=MODES.__getitem__, horizontal=True,
                    key="forward_mode")
    size = state.input_size if mode == "whole" else 224
    if mode == "crop" and state.input_size != (224, 224):
        st.info(f"The sidebar's input size ({format.shape(state.input_size)}) has no effect here: centre-crop mode "
                "always feeds the network a 224 × 224 crop, as the published weights were evaluated. Choose "
                "\"Whole image, squashed\" to run at that size (the analysis views use it too).",
                icon=":material/crop:")
    steps = preprocess_steps(picked.image, mode=mode, size=size)
    columns = st.columns(4)
    width, height = steps.original.size
    columns[0].image(steps.original, caption=f"1. Original, {width} × {height}")
    columns[1].image(steps.resized, caption=f"2. Resized to {steps.resized.size[0]} × {steps.resized.size[1]}")
    verb = "Centre-cropped" if mode == "crop" else "Squashed"
    columns[2].image(steps.cropped, caption=f"3. {verb} to {steps.cropped.size[0]} × {steps.cropped.size[1]}")
    columns[3].image(vgg.to_display_image(steps.tensor),
                     caption="4. Normalised with ImageNet mean/std (shown un-normalised)")
    if picked.credit:
        st.caption(f"Photo: {picked.credit}")
    return steps


def _feature_maps(result: ForwardResult, report: vgg.Report, projector: bool) -> None:
    rows = [row for row in report.layers if row.name in result.features and len(row.output_shape) == 4]
    labels = {row.name: f"{row.paper_name} ({row.name}) {format.shape(row.output_shape[1:])}" for row in rows}
    default = next((row.name for row in rows if row.paper_name == "relu3_1"), rows[0].name)
    path = st.selectbox("Layer", list(labels), index=list(labels).index(default), format_func=labels.__getitem__,
                        key="forward_layer", help="The maps after each ReLU, LRN and pool: what the next layer sees.")
    output = result.features[path]
    count = st.slider("Channels shown", 1, min(64, output.shape[1]), min(16, output.shape[1]), key="forward_count",
                      help="The most active channels (highest mean activation), each scaled to its own range.")
    grid = feature_grid(output, n=count)
    left, right = st.columns([3, 2])
    left.image(grid.image, caption=f"{labels[path]}: channels {', '.join(map(str, grid.channels))} (brighter = "
                                   "stronger)", width="stretch")
    stats = channel_stats(output)
    table = pd.DataFrame({"Channel": list(grid.channels),
                          "Mean": [float(stats.mean[c]) for c in grid.channels],
                          "Max": [float(stats.max[c]) for c in grid.channels],
                          "Zeros": [float(stats.zero_fraction[c]) for c in grid.channels]})
    if projector:
        right.table(table.assign(Mean=table["Mean"].round(3), Max=table["Max"].round(3),
                                 Zeros=[f"{zeros:.0%}" for zeros in table["Zeros"]]), hide_index=True)
        return
    right.dataframe(table, hide_index=True, key="forward_channel_stats", column_config={
        "Mean": st.column_config.NumberColumn(format="%.3f", width="small"),
        "Max": st.column_config.NumberColumn(format="%.3f", width="small"),
        "Zeros": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)})


def _through_network(result: ForwardResult, report: vgg.Report, projector: bool) -> None:
    stats = {stat.path: stat for stat in layer_stats(result.features)}
    relus = [row for row in report.layers if row.name in stats and row.kind == "relu"]
    # One point per layer as the diagram draws them: BN, ReLU and dropout keep the size, and with them
    # VGG19-BN's 61 labels did not fit under a projector's chart.
    rows = [row for row in report.layers if row.kind in LEADING_KINDS]
    left, right = side_by_side(2, projector=projector)
    with left:
        show_chart(charts.line_through_network(
            relus, {"zeros after ReLU": [stats[row.name].sparsity for row in relus]},
            title="Activation sparsity (fraction of zeros after each ReLU)", y_title="fraction"),
            key="forward_sparsity", projector=projector)
    with right:
        show_chart(charts.line_through_network(
            rows, {"output elements": [row.activation_elements for row in rows]},
            title="Output size through the network", y_title="elements (log)", log_y=True), key="forward_sizes",
            projector=projector)


def _timings(result: ForwardResult, report: vgg.Report, projector: bool) -> None:
    rows = [row for row in report.layers if row.name in result.times]
    figure = charts.per_layer_bars(
        rows, [result.times[row.name] * 1e3 for row in rows],
        title=f"Time per layer on {result.device} (total {result.total_seconds * 1e3:.0f} ms)",
        y_title="ms", only_kinds=("conv", "fc", "pool", "relu", "bn", "lrn", "avgpool", "dropout"))
    show_chart(figure, key="forward_times", projector=projector)
    for note in result.notes:
        st.info(note)


def _render_trained(state: AppState) -> None:
    """The same page for a mini VGG trained in the Train view: its dataset's images and classes."""
    entry = training.chosen_model(state.trained_model)
    if entry is None:
        return
    trained = entry.trained
    st.header(f"{trained.label}: a forward pass")
    picked = training.choose_trained_image(entry, "forward")
    if picked is None:
        return
    pixels, caption, digest = picked.pixels, picked.caption, picked.digest
    side = trained.input_size
    st.image(training.enlarged(pixels), caption=f"{caption}: {side} × {side}, what the network sees (enlarged)")
    report = resources.analysis(trained.network.network, (side, side))
    key = ("trained", entry.id, digest)
    remembered = st.session_state.get(_TRAINED_RESULT_KEY)
    if remembered is None or remembered[0] != key:
        st.session_state.pop(_TRAINED_RESULT_KEY, None)
        layers = [row.name for row in report.layers if row.kind in _KEPT_KINDS]
        result = vgg.forward_with_features(trained.model, trained.prepare_images(pixels.unsqueeze(0)), layers=layers)
        st.session_state[_TRAINED_RESULT_KEY] = remembered = (key, result)
    result = remembered[1]
    st.subheader("Top predictions")
    show_predictions(result, False, k=min(5, len(trained.class_names)), labels=trained.class_names)
    st.subheader("Feature maps")
    _feature_maps(result, report, state.projector)
    _through_network(result, report, state.projector)


def render(state: AppState) -> None:
    if state.weights == "trained":
        _render_trained(state)
        return
    st.header(f"{state.model.title}: a forward pass")
    picked = choose_image("forward")
    if picked is None:
        return
    steps = _preprocessing(picked, state)
    result = run_forward(state, state.model, picked, steps)
    report = resources.analysis(state.model, tuple(steps.tensor.shape[-2:]))
    st.subheader("Top-5 predictions")
    show_predictions(result, weights_are_random(state), projector=state.projector)
    _show_precision_cost(state)
    st.subheader("Feature maps")
    _feature_maps(result, report, state.projector)
    _through_network(result, report, state.projector)
    st.subheader("Timing")
    _timings(result, report, state.projector)
    _export(state)


def _show_precision_cost(state: AppState) -> None:
    cost = precision_cost()
    if cost is None:
        return
    text = (f"**{state.precision} on this image**, against exact fp32: largest logit difference "
            f"{cost.max_abs_diff:.2e} ({cost.relative_diff:.2%} of the largest logit), top-5 agreement "
            f"{cost.top5_agreement:.0%}, cosine similarity {cost.cosine:.6f}.")
    st.sidebar.caption(text)
    st.caption(text)


def _export(state: AppState) -> None:
    """A download of this network (fp32, the sidebar's weights) in a format other tools open."""
    st.subheader("Export")
    left, right = st.columns([1, 2])
    formats = vgg.perf.available_export_formats()
    fmt = left.selectbox("Format", formats, key="forward_export_format", format_func=EXPORT_LABELS.__getitem__)
    network = load_model(state, state.model)
    stem = vgg.variant_name(state.model.spec_source, batch_norm=state.model.batch_norm) or "vgg_custom"
    name = f"{stem}{vgg.perf.EXPORT_SUFFIXES[fmt]}"
    right.download_button(f"Download {name}", data=lambda: exported_bytes(network, fmt),
                          file_name=name, mime="application/octet-stream", on_click="ignore",
                          icon=":material/download:", key="forward_export")
    st.caption("The exported file is run once, through ONNX Runtime for ONNX and torch otherwise, and must give "
               "the same logits within 1e-4, or nothing is offered. Exporting VGG16 takes from seconds "
               "(TorchScript) to a few minutes (ONNX, on a busy 2-core CPU) after the click. ONNX files open in "
               "Netron (netron.app); batch, height and width are left free.")
    if "onnx" not in formats:
        st.caption("ONNX is not offered: this server lacks its packages (pip install 'vgg-explorer[export]').")
