"""Training curves as Plotly figures, from the queue's plain ``Curve`` values; no Streamlit here."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import plotly.graph_objects as go

from explorer.style import style_figure
from vgg.train import Curve, EpochRecord

# Okabe-Ito, in the order arms appear: distinct on a projector and for colour-blind readers.
ARM_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")
Field = Callable[[EpochRecord], float]


def _curves(curves: Sequence[Curve], solid: tuple[str, Field], dotted: tuple[str, Field], *, title: str,
            y_title: str) -> go.Figure:
    """Two lines per run in the run's colour: ``solid`` and ``dotted``, each (suffix, field of a record)."""
    figure = go.Figure()
    for index, curve in enumerate(curves):
        epochs = [record.epoch for record in curve.records]
        colour = ARM_COLOURS[index % len(ARM_COLOURS)]
        for (suffix, field), dash in ((solid, "solid"), (dotted, "dot")):
            figure.add_scatter(x=epochs, y=[field(record) for record in curve.records], mode="lines+markers",
                               name=f"{curve.label} {suffix}", line={"color": colour, "dash": dash})
    figure.update_layout(title=title, xaxis_title="epoch", yaxis_title=y_title)
    return style_figure(figure, height=340)


def loss_figure(curves: Sequence[Curve]) -> go.Figure:
    return _curves(curves, ("train", lambda r: r.loss), ("test", lambda r: r.test_loss),
                   title="Loss (cross-entropy)", y_title="loss")


def accuracy_figure(curves: Sequence[Curve]) -> go.Figure:
    figure = _curves(curves, ("test", lambda r: r.test_accuracy), ("train", lambda r: r.train_accuracy),
                     title="Accuracy", y_title="accuracy")
    return figure.update_layout(yaxis={"range": [0, 1.02], "tickformat": ".0%"})
