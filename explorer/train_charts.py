"""Training curves as Plotly figures, from the queue's plain ``Curve`` values; no Streamlit here."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from explorer.style import style_figure
from vgg.train import Curve

# Okabe-Ito, in the order arms appear: distinct on a projector and for colour-blind readers.
ARM_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")


def loss_figure(curves: Sequence[Curve]) -> go.Figure:
    figure = go.Figure()
    for index, curve in enumerate(curves):
        epochs = [record.epoch for record in curve.records]
        colour = ARM_COLOURS[index % len(ARM_COLOURS)]
        figure.add_scatter(x=epochs, y=[record.loss for record in curve.records], mode="lines+markers",
                           name=f"{curve.label} train", line={"color": colour})
        figure.add_scatter(x=epochs, y=[record.test_loss for record in curve.records], mode="lines+markers",
                           name=f"{curve.label} test", line={"color": colour, "dash": "dot"})
    figure.update_layout(title="Loss (cross-entropy)", xaxis_title="epoch", yaxis_title="loss")
    return style_figure(figure, height=340)


def accuracy_figure(curves: Sequence[Curve]) -> go.Figure:
    figure = go.Figure()
    for index, curve in enumerate(curves):
        epochs = [record.epoch for record in curve.records]
        colour = ARM_COLOURS[index % len(ARM_COLOURS)]
        figure.add_scatter(x=epochs, y=[record.test_accuracy for record in curve.records], mode="lines+markers",
                           name=f"{curve.label} test", line={"color": colour})
        figure.add_scatter(x=epochs, y=[record.train_accuracy for record in curve.records], mode="lines",
                           name=f"{curve.label} train", line={"color": colour, "dash": "dot"})
    figure.update_layout(title="Accuracy", xaxis_title="epoch", yaxis_title="accuracy",
                         yaxis={"range": [0, 1.02], "tickformat": ".0%"})
    return style_figure(figure, height=340)
