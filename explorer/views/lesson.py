"""Lesson: the real VGG builds itself in front of the class, along the path torchvision's ``models/vgg.py``
takes: the builder (``vgg19_bn()``), ``_vgg``, ``cfgs["E"]``, ``make_layers`` one entry at a time,
``VGG.__init__``, the weight initialisation and ``forward``.

The steps, their numbers and their code come from ``vgg.teaching.lesson_of`` (the analysis and the project's
own source); this module only lays them out: the path, a stepper, the step's code with its lines highlighted,
the state after it, and the network drawn so far.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

import vgg
from explorer import resources, training
from explorer.image_input import choose_image
from explorer.services import run_forward, show_predictions, weights_are_random
from explorer.state import AppState
from explorer.tables import show_table
from vgg import format
from vgg.teaching import Code, Lesson, LessonStep, Stage

TITLE = "Lesson"
STEP_KEY = "lesson_step"
STAGE_KEY = "lesson_stage"

# Long lines wrap under their own text (a hanging indent past the line number): a listing that scrolled
# sideways cut the very line being taught.
_CODE_CSS = ("<style>.lesson-code{font-family:monospace;font-size:0.82em;background:#f6f8fa;padding:10px;"
             "border-radius:6px;line-height:1.45}.lesson-code .ln{display:block;white-space:pre-wrap;"
             "padding-left:6ch;text-indent:-6ch;overflow-wrap:anywhere}"
             ".lesson-code .hl{background:#FFE08A;font-weight:700}.lesson-code .no{color:#666}"
             ".lesson-code .gap{color:#666}</style>")
_GAP = "<span class='ln gap'>     ⋮</span>"


def code_block(code: Code, *, short: bool = False) -> str:
    """The listing as HTML with its real line numbers and its highlighted lines marked; ``short`` shows only
    the highlighted runs (a "⋮" where lines are left out), what fits a projector's screen."""
    source, marked = code.listing, set(code.highlighted)
    # A gap of a few lines is shown rather than cut: a "⋮" for every two lines left out reads as noise.
    ranges = code.runs(max_gap=3) if short and code.highlighted else ((0, len(source.lines)),)
    lines: list[str] = []
    for number, (first, end) in enumerate(ranges):
        if short and first > (ranges[number - 1][1] if number else 0):  # lines left out above this run
            lines.append(_GAP)
        for index in range(first, end):
            css = "hl" if index in marked else ""
            lines.append(f"<span class='ln {css}'><span class=no>{source.first_line + index:4d}</span> "
                         f"{html.escape(source.lines[index].rstrip())}</span>")
    if short and ranges[-1][1] < len(source.lines):
        lines.append(_GAP)
    file_name = "/".join(source.file.rsplit("/", 3)[-3:])
    caption = f"<div style='color:#555;font-size:0.8em'>{html.escape(file_name)}, {html.escape(source.name)}</div>"
    return f"{_CODE_CSS}{caption}<div class=lesson-code>{''.join(lines)}</div>"


def _stepper(walk: Lesson) -> int:
    """The path as pills (a click jumps to a function), then Previous / slider / Next (keys: Left, Right).
    The slider counts steps from 1, as the class does; the index returned is 0-based."""
    count = len(walk.steps)
    st.session_state.setdefault(STEP_KEY, 1)
    st.session_state[STEP_KEY] = min(st.session_state[STEP_KEY], count)  # another network may have fewer steps
    st.session_state[STAGE_KEY] = walk.steps[st.session_state[STEP_KEY] - 1].stage
    # Escaped: as Markdown, VGG.__init__ would read as a bold "init".
    st.pills("The path", walk.stages, key=STAGE_KEY, required=True, label_visibility="collapsed",
             format_func=lambda stage: walk.stage_label(stage).replace("_", "\\_"), on_change=_jump, args=(walk,))
    left, middle, right = st.columns([2, 5, 2], vertical_alignment="center")
    left.button("◀ Previous", on_click=_move, args=(-1, count), shortcut="Left", key="lesson_prev",
                disabled=st.session_state[STEP_KEY] == 1, width="stretch")
    right.button("Next ▶", on_click=_move, args=(1, count), shortcut="Right", key="lesson_next", type="primary",
                 disabled=st.session_state[STEP_KEY] == count, width="stretch")
    return middle.slider("Step", 1, count, key=STEP_KEY, label_visibility="collapsed",
                         format=f"step %d of {count}") - 1


def _move(delta: int, count: int) -> None:
    st.session_state[STEP_KEY] = max(1, min(count, st.session_state[STEP_KEY] + delta))


def _jump(walk: Lesson) -> None:
    st.session_state[STEP_KEY] = walk.first_step(Stage(st.session_state[STAGE_KEY])) + 1


def _state_panel(step: LessonStep, projector: bool) -> None:
    """What the step leaves behind: make_layers' ``in_channels``, the running shape, parameters and MACs."""
    if step.shape is None:
        return
    # Two rows of two (four side by side cut "MACs so far" in a 40 % column), filled in reading order.
    slots = iter([column for _ in range(2) for column in st.columns(2)])
    if step.in_channels is not None:
        changed = step.in_channels != step.in_channels_before
        next(slots).metric("in_channels", step.in_channels, delta=f"was {step.in_channels_before}" if changed
                           else None, delta_color="off", delta_arrow="off")
    next(slots).metric("Output shape", format.shape(step.shape[1:]), help=f"Batch left out: {format.shape(step.shape)}")
    next(slots).metric("Parameters so far", format.count(step.params_so_far), help=f"{step.params_so_far:,}")
    next(slots).metric("MACs so far", format.count(step.macs_so_far), help=f"{step.macs_so_far:,} multiply-accumulates")


def _appended(step: LessonStep, projector: bool) -> None:
    """The modules the step appended, across the page's width: five columns in the state's 40 % column scrolled
    sideways and hid the MACs."""
    if not step.appended:
        return
    st.markdown(f"**Appended** ({len(step.appended)} module{'s' if len(step.appended) > 1 else ''}):")
    show_table(pd.DataFrame([{"Module": module.path, "Paper name": module.paper_name,
                              "Output shape": format.shape(module.output_shape[1:]), "Params": module.params,
                              "MACs": module.macs} for module in step.appended]),
               key=f"lesson_appended_{step.title}", projector=projector)
    st.code("\n".join(f"{module.path}: {module.module}" for module in step.appended), language=None,
            wrap_lines=True)


def _entry_chips(walk: Lesson, step: LessonStep) -> str:
    """The list make_layers reads, the entries read so far in blue and the current one in pink."""
    read = -1 if step.entry is None else step.entry
    chips = []
    for index, token in enumerate(walk.cfg):
        colour = "#CC79A7" if index == read else "#0072B2" if index < read else "#888"
        weight = "700" if index == read else "400"
        chips.append(f"<span style='border:2px solid {colour};color:{colour};border-radius:6px;padding:2px 7px;"
                     f"margin:2px;display:inline-block;font-family:monospace;font-weight:{weight}'>"
                     f"{html.escape(repr(token))}</span>")
    return "<div style='line-height:2'>cfg = [ " + " ".join(chips) + " ]</div>"


def _network_so_far(report: vgg.Report, step: LessonStep) -> None:
    """While the network is being made: the diagram up to where this step left it (the whole network once the
    classifier is in), with what the step appended highlighted."""
    if step.built_until is None or step.stage not in (Stage.MAKE_LAYERS, Stage.VGG_INIT):
        return
    whole = step.built_until == report.layers[-1].name
    graph = vgg.diagram(report, highlight={module.path for module in step.appended},
                        until=None if whole else step.built_until)
    # At its natural size it grows step by step at the scale of the Diagram view's whole network.
    st.graphviz_chart(graph.source, width="content")
    st.caption("The network so far, stage by stage as in the Diagram view; what this step appended is highlighted.")


def _init_table(step: LessonStep, projector: bool) -> None:
    def names(paper_names: tuple[str, ...]) -> str:
        return ", ".join(paper_names) if len(paper_names) <= 4 else (
            f"{paper_names[0]} … {paper_names[-1]} ({len(paper_names)})")

    show_table(pd.DataFrame([{"Layers": names(group.paper_names), "Initialisation": group.rule,
                              "fan_out": group.fan_out, "std": None if group.std is None else round(group.std, 4)}
                             for group in step.init]), key="lesson_init", projector=projector)


def _run_on_image(state: AppState) -> None:
    if state.weights == "trained":  # the sidebar's weights belong to a mini VGG trained here, not to this network
        _run_trained(state)
        return
    if not st.toggle("Run it on the current image", key="lesson_run",
                     help="Builds the real model with the sidebar's weights (hundreds of MB)."):
        return
    picked = choose_image("lesson")
    if picked is not None:
        steps = vgg.preprocess_steps(picked.image, mode="crop", size=224)
        result = run_forward(state, state.model, picked, steps)
        st.image(steps.cropped, caption="The input after preprocessing", width=224)
        show_predictions(result, weights_are_random(state), projector=state.projector)


def _run_trained(state: AppState) -> None:
    """The same ``forward`` through the mini VGG trained here that the sidebar chose: a network that has learned,
    on one of its dataset's images (or a drawing), with its own shapes and classes."""
    entry = training.chosen_model(state.trained_model)
    if entry is None:
        return
    trained = entry.trained
    side = trained.input_size
    st.markdown(f"The sidebar's weights are a network trained here, **{trained.label}**: built by this same code "
                f"with every width divided by {trained.network.width_divisor}, at {side} × {side} px, so the same "
                "`forward` runs through it:")
    walk = resources.lesson(trained.network.network, (side, side))
    _flow_table(walk.steps[walk.first_step(Stage.FORWARD)].flow, "lesson_trained_flow", state.projector)
    picked = training.choose_trained_image(entry, "lesson")
    if picked is None:
        return
    st.image(training.enlarged(picked.pixels, side=160), caption=f"{picked.caption}: what the network sees")
    x = trained.prepare_images(picked.pixels.unsqueeze(0))  # normalised as in training
    result = vgg.forward_with_features(trained.model, x, layers=())
    show_predictions(result, False, k=min(5, len(trained.class_names)), labels=trained.class_names,
                     projector=state.projector)


def _flow_table(flow: tuple[tuple[str, tuple[int, ...]], ...], key: str, projector: bool) -> None:
    show_table(pd.DataFrame([{"Call": call, "Output shape": format.shape(shape[1:])} for call, shape in flow]),
               key=key, projector=projector)


def _step(state: AppState, walk: Lesson, step: LessonStep, report: vgg.Report) -> None:
    st.subheader(f"`{step.title}`")
    st.markdown(step.text)
    # On a projector's 1280 px the code and the state are one column each below the other: side by side the
    # listing would wrap every other line.
    code_side, state_side = (st.container(), st.container()) if state.projector else st.columns([3, 2])
    with code_side:
        for code in step.code:
            st.html(code_block(code, short=state.projector))
    with state_side:
        _state_panel(step, state.projector)
        if step.stage is Stage.INIT:
            _init_table(step, state.projector)
    _appended(step, state.projector)
    if step.stage is Stage.MAKE_LAYERS:
        st.html(_entry_chips(walk, step))
    _network_so_far(report, step)
    if step.stage is Stage.FORWARD:
        _flow_table(step.flow, "lesson_flow", state.projector)
        _run_on_image(state)


def render(state: AppState) -> None:
    report = resources.analysis(state.model, state.input_size)
    walk = resources.lesson(state.model, state.input_size)
    st.header(f"How {state.model.title} is built, and how it sees")
    st.caption("The path torchvision's models/vgg.py takes, in this project's own source, read as it runs. Step "
               "with the buttons, the slider, or the ← → keys; every number agrees with the Layers view.")
    index = _stepper(walk)
    _step(state, walk, walk.steps[index], report)
