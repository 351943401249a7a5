"""Which network the analysis views (Overview, Layers, Diagram, Receptive field, Performance) analyse, decided
here once for all of them: the sidebar's configuration at the sidebar's input size, or, when the weights are a
mini VGG trained here, that mini network at its own input size. Views read the answer; none decides it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import streamlit as st

import vgg
from explorer import training
from explorer.guard import plain
from explorer.state import AppState
from vgg.train import TrainedEntry

NO_TRAINED_MODEL = ("No model trained here yet, so this view shows the sidebar's network, {title} at {size}. Train "
                    "one in the Train view and choose it under Weights to see the mini network it trained.")


@dataclass(frozen=True)
class Subject:
    """The network a view analyses, its input size, and how the page names it."""

    network: vgg.Network
    input_size: tuple[int, int]
    title: str  # "VGG16 (D) + BN", "A+BN mini (widths /16) on digits"
    file_stem: str  # downloads' file names: "vgg-d-bn", "vgg-a-bn-mini-w16-digits"
    note: str | None = None  # which network this is and why, under the heading
    trained: TrainedEntry | None = field(default=None, compare=False)  # the mini trained here, when it is that
    runnable: bool = True  # False: "Trained here" is chosen but nothing is trained, so no weights to run

    def runnable_note(self, what: str) -> str:
        """Why ``what`` (a measurement) is not shown when the subject has no weights to run."""
        return (f"Measuring {what} runs the network with weights: train a model in the Train view (or choose "
                "random, ImageNet or checkpoint weights) to measure it.")

    @property
    def size_text(self) -> str:
        height, width = self.input_size
        return f"{height} × {width}"


def subject_of(state: AppState) -> Subject:
    """The mini VGG trained here that the sidebar chose, else the sidebar's network (with a note saying why when
    the weights are "Trained here" but nothing has been trained yet)."""
    sidebars = _sidebars_network(state)
    if state.weights != "trained":
        return sidebars
    entry = training.model(state.trained_model)
    if entry is None:
        note = NO_TRAINED_MODEL.format(title=sidebars.title, size=sidebars.size_text)
        return Subject(sidebars.network, sidebars.input_size, sidebars.title, sidebars.file_stem, note,
                       runnable=False)
    return _trained_network(entry, sidebars)


def header(subject: Subject, text: str) -> None:
    """The view's heading, and under it which network it is when that is not plain from the sidebar."""
    st.header(text)
    if subject.note:
        st.caption(subject.note)


def _sidebars_network(state: AppState) -> Subject:
    choice = state.model
    stem = f"vgg-{choice.config.lower()}{'-bn' if choice.batch_norm else ''}"
    return Subject(choice.network, tuple(state.input_size), choice.title, stem)  # type: ignore[arg-type]


def _trained_network(entry: TrainedEntry, sidebars: Subject) -> Subject:
    trained = entry.trained
    mini, named = trained.network, str(trained.dataset.get("name", "?"))
    dataset = plain(named)  # an uploaded checkpoint's words, shown as markdown
    side = mini.input_size
    name = mini.config_name + ("+BN" if mini.batch_norm else "")
    note = (f"The weights chosen in the sidebar were trained here: {trained.label}. This is that network: "
            f"{name}'s layers with every convolution's width divided by {mini.width_divisor}, fc6 and fc7 "
            f"{mini.hidden_features:,} wide, fc8 one unit per class ({mini.num_classes}), at its own input of "
            f"{side} × {side} px. The sidebar's configuration ({sidebars.title}) and input size "
            f"({sidebars.size_text}) are for the other weights.")
    stem = (f"vgg-{mini.config_name.lower()}{'-bn' if mini.batch_norm else ''}-mini-w{mini.width_divisor}-"
            + re.sub(r"[^a-z0-9]+", "-", named.lower()).strip("-"))
    return Subject(mini.network, (side, side), f"{mini.label} on {dataset}", stem, note, entry)
