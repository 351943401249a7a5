"""Lesson: the real VGG builds itself in front of the class, notebook-like (prose, code, live output).

1. the configuration list; 2. ``make_layers`` reading it one entry at a time (the source line
that runs highlighted, the layer appended, ``in_channels``, shape, parameters and MACs so far, the
diagram growing); 3. the classifier and fc6's 25,088 inputs; 4. the initialisation; 5. the forward
pass on the current image. Every number comes from the analysis engine; the code shown is read
from the project's source at run time.
"""

from __future__ import annotations

import html
import math

import pandas as pd
import streamlit as st

import vgg
from explorer import resources, training
from explorer.services import run_forward, show_predictions, weights_are_random
from explorer.state import AppState
from explorer.tables import show_table
from vgg import format
from vgg.teaching import (
    BuildStep,
    SourceListing,
    build_steps,
    builder_listings,
    forward_listing,
    make_layers_listing,
    reset_parameters_listing,
    vgg_init_listing,
)

TITLE = "Lesson"
STEP_KEY = "lesson_step"


def code_block(source: SourceListing, highlighted: tuple[int, ...] = ()) -> str:
    """The listing as HTML with its real line numbers, the ``highlighted`` (0-based) lines marked."""
    marked = set(highlighted)
    lines = []
    for index, line in enumerate(source.lines):
        number = source.first_line + index
        css = "hl" if index in marked else ""
        lines.append(f"<span class='ln {css}'><span class=no>{number:4d}</span> "
                     f"{html.escape(line.rstrip())}</span>")
    # Long lines wrap under their own text (a hanging indent past the line number): a listing that scrolled
    # sideways cut the very line being taught.
    style = ("<style>.lesson-code{font-family:monospace;font-size:0.82em;background:#f6f8fa;padding:10px;"
             "border-radius:6px;line-height:1.45}.lesson-code .ln{display:block;white-space:pre-wrap;"
             "padding-left:9ch;text-indent:-9ch;overflow-wrap:anywhere}"
             ".lesson-code .hl{background:#FFE08A;font-weight:700}.lesson-code .no{color:#888}</style>")
    file_name = source.file.rsplit("/", 2)[-2:]
    caption = f"<div style='color:#666;font-size:0.8em'>{'/'.join(file_name)}, {source.name}</div>"
    return f"{style}{caption}<div class=lesson-code>{''.join(lines)}</div>"


def _entry_chips(steps: tuple[BuildStep, ...], current: int) -> str:
    chips = []
    for step in steps:
        done = step.index < current
        now = step.index == current - 1
        colour = "#CC79A7" if now else "#0072B2" if done else "#bbb"
        weight = "700" if now else "400"
        chips.append(f"<span style='border:2px solid {colour};color:{colour};border-radius:6px;padding:2px 7px;"
                     f"margin:2px;display:inline-block;font-family:monospace;font-weight:{weight}'>"
                     f"{html.escape(str(step.token))}</span>")
    return "<div>cfg = [ " + " ".join(chips) + " ]</div>"


def _stepper(count: int) -> int:
    """Slider plus previous/next buttons (keyboard: Left/Right arrows) over 0..count entries read."""
    st.session_state.setdefault(STEP_KEY, 0)
    st.session_state[STEP_KEY] = min(st.session_state[STEP_KEY], count)
    left, middle, right = st.columns([2, 5, 2], vertical_alignment="center")
    left.button("◀ Previous", on_click=_move, args=(-1, count), shortcut="Left", key="lesson_prev",
                disabled=st.session_state[STEP_KEY] == 0, width="stretch")
    right.button("Next ▶", on_click=_move, args=(1, count), shortcut="Right", key="lesson_next", type="primary",
                 disabled=st.session_state[STEP_KEY] == count, width="stretch")
    return middle.slider("Entries read", 0, count, key=STEP_KEY, label_visibility="collapsed")


def _move(delta: int, count: int) -> None:
    st.session_state[STEP_KEY] = max(0, min(count, st.session_state[STEP_KEY] + delta))


def _state_panel(step: BuildStep | None, input_size: tuple[int, int], projector: bool) -> None:
    if step is None:
        st.markdown("**Nothing read yet.** `in_channels = 3` (an RGB image), the output is the input: "
                    f"`{format.shape((1, 3, *input_size))}`.")
        return
    st.markdown(f"**Entry {step.index + 1}: `{step.token}`** ({'a conv' if step.kind == 'conv' else step.kind}) "
                f"appends {len(step.appended)} module{'s' if len(step.appended) > 1 else ''}:")
    show_table(pd.DataFrame([{"Module": row.name, "Paper name": row.paper_name, "Type": row.type,
                              "Output shape": format.shape(row.output_shape), "Params": row.params,
                              "MACs": row.macs} for row in step.appended]),
               key=f"lesson_appended_{step.index}", projector=projector)
    first, second, third, fourth = st.columns([2, 3, 2, 2])
    first.metric("in_channels", step.in_channels_after,
                 delta=step.in_channels_after - step.in_channels_before or None, delta_color="off")
    second.metric("Output shape", format.shape(step.output_shape[1:]))
    third.metric("Parameters so far", format.count(step.params_so_far), help=f"{step.params_so_far:,}")
    fourth.metric("MACs so far", format.count(step.macs_so_far), help=f"{step.macs_so_far:,}")


def _features_section(state: AppState, report: vgg.Report) -> None:
    spec = report.spec
    steps = build_steps(spec.layers, report.layers, batch_norm=report.batch_norm)
    builder, inner = builder_listings(report.network)
    st.subheader(f"0. `{builder.name}()` calls `{inner.name}`")
    st.markdown(f"The path torchvision's `models/vgg.py` takes, in this project's own source: `{builder.name}` "
                f"hands the configuration to `{inner.name}`, which builds the features with `make_layers` and gives "
                "them to `VGG`.")
    st.html(code_block(builder))
    st.html(code_block(inner))
    st.subheader("1. The configuration list")
    st.markdown(f"torchvision describes {state.model.title} as a list: a number is a 3×3 convolution with that many "
                "output channels, `M` a 2×2 max pool" + (", `conv1-N` a 1×1 convolution, `LRN` local response "
                "normalisation" if any(not isinstance(entry, int) and entry != "M" for entry in spec.to_list()) else "")
                + ".")
    st.code(f"cfg = {spec.to_list()!r}", language="python", wrap_lines=True)
    st.subheader("2. `make_layers` reads it, one entry at a time")
    current = _stepper(len(steps))
    st.html(_entry_chips(steps, current))
    step = steps[current - 1] if current else None
    # The listing takes the page's width: in a half-width column it cut the line being taught.
    st.html(code_block(make_layers_listing(), step.source_lines if step else ()))
    _state_panel(step, state.input_size, state.projector)
    if step is not None:  # the network so far ends with the last module this entry appended
        newest = {row.name for row in step.appended}
        graph = vgg.diagram(report, highlight=newest, until=step.appended[-1].name)
        # At its natural size it grows step by step at the scale of the Diagram view's whole network.
        st.graphviz_chart(graph.source, width="content")
        st.caption("The network so far, stage by stage as in the Diagram view; the layers this entry appended "
                   "are highlighted.")
    if current == len(steps):
        st.success(f"`features` is complete: {len(spec.convs)} convolutions and {spec.num_pools} pools, "
                   f"{format.count(steps[-1].params_so_far)} parameters, output "
                   f"{format.shape(steps[-1].output_shape)}.")


def _classifier_section(report: vgg.Report) -> None:
    st.subheader("3. The classifier, and why fc6 has so many inputs")
    fc6 = report.layer("fc6")
    avgpool = report.layer("avgpool")
    channels, height, width = avgpool.output_shape[1:]
    st.markdown(f"`AdaptiveAvgPool2d((7, 7))` turns the last feature map ({format.shape(avgpool.input_shape[1:])}) "
                f"into {channels} × {height} × {width}, whatever the input size; flattening gives "
                f"**{channels} × {height} × {width} = {fc6.input_shape[-1]:,}** numbers. fc6 connects each of them "
                f"to each of its 4,096 units: {fc6.input_shape[-1]:,} × 4,096 + 4,096 = **{fc6.params:,} "
                f"parameters**, {fc6.params / report.totals.params:.0%} of the whole network.")
    st.html(code_block(vgg_init_listing()))


def _init_section(report: vgg.Report, projector: bool) -> None:
    st.subheader("4. Initialisation")
    st.markdown("Before any training, weights are random but not arbitrary: Kaiming normal with `fan_out` for the "
                "convolutions (std = √(2 / (k² · C_out)), so signals neither vanish nor explode through ReLUs), "
                "N(0, 0.01) for the linear layers, BN at weight 1 / bias 0, every bias 0.")
    st.html(code_block(reset_parameters_listing()))
    rows = [{"Layer": row.paper_name, "Kernel": f"{row.kernel_size[0]}×{row.kernel_size[1]}",
             "C_out": row.output_shape[1],
             "std of the weights": round(math.sqrt(2 / (row.kernel_size[0] * row.kernel_size[1]
                                                        * row.output_shape[1])), 4)}
            for row in report.layers if row.kind == "conv"]
    show_table(pd.DataFrame(rows), key="lesson_init", projector=projector)


def _flow(report: vgg.Report) -> str:
    """x -> features(x) -> avgpool -> flatten -> classifier, each with its shape."""
    last_feature = next(row for row in reversed(report.layers) if row.name.startswith("features."))
    flow = [("x", (1, 3, *report.input_size)), ("features(x)", last_feature.output_shape),
            ("avgpool", report.layer("avgpool").output_shape), ("flatten", report.layer("fc6").input_shape),
            ("classifier", report.layers[-1].output_shape)]
    return " → ".join(f"`{name}` {format.shape(shape)}" for name, shape in flow)


def _forward_section(state: AppState, report: vgg.Report) -> None:
    st.subheader("5. The forward pass")
    st.html(code_block(forward_listing()))
    st.markdown(_flow(report))
    if state.weights == "trained":  # the sidebar's weights belong to a mini VGG trained here, not to this network
        _trained_forward(state)
        return
    if st.toggle("Run it on the current image", key="lesson_run",
                 help="Builds the real model with the sidebar's weights (hundreds of MB)."):
        from explorer.image_input import choose_image

        picked = choose_image("lesson")
        if picked is not None:
            steps = vgg.preprocess_steps(picked.image, mode="crop", size=224)
            result = run_forward(state, state.model, picked, steps)
            st.image(steps.cropped, caption="The input after preprocessing", width=224)
            show_predictions(result, weights_are_random(state))


def _trained_forward(state: AppState) -> None:
    """The same forward() through the mini VGG trained here that the sidebar chose: a network that has learned,
    on one of its dataset's images (or a drawing), with its own classes."""
    entry = training.chosen_model(state.trained_model)
    if entry is None:
        return
    trained = entry.trained
    side = trained.input_size
    st.markdown(f"The sidebar's weights are a network trained here, **{trained.label}**: "
                f"{trained.network.label} is built by this same code with its widths divided by "
                f"{trained.network.width_divisor}, at {side} × {side} px, so the same `forward` runs through it:")
    st.markdown(_flow(resources.analysis(trained.network.network, (side, side))))
    picked = training.choose_trained_image(entry, "lesson")
    if picked is None:
        return
    st.image(training.enlarged(picked.pixels, side=160), caption=f"{picked.caption}: what the network sees")
    x = trained.prepare_images(picked.pixels.unsqueeze(0))  # normalised as in training
    result = vgg.forward_with_features(trained.model, x, layers=())
    show_predictions(result, False, k=min(5, len(trained.class_names)), labels=trained.class_names,
                     projector=state.projector)


def render(state: AppState) -> None:
    report = resources.analysis(state.model, state.input_size)
    st.header(f"How {state.model.title} is built, and how it sees")
    st.caption("Step with the buttons, the slider, or the ← → keys. Every number agrees with the Layers view; "
               "the code is this project's own, read from its source as it runs.")
    _features_section(state, report)
    _classifier_section(report)
    _init_section(report, state.projector)
    _forward_section(state, report)
