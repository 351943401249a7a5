"""Receptive field: pick a layer and a position in its feature map, see the input region it sees.

The box comes from the analysis engine's receptive field, jump and start (the closed-form
recurrence), drawn on the current image at the network's input size (enlarged by whole pixels when that is
small: a trained mini's 32 px); the chart shows how the field grows layer by layer, and the table makes the
paper's "two 3×3 = one 5×5, three = one 7×7, with fewer weights" argument with numbers. The network is the
sidebar's, or the mini VGG trained here whose weights the sidebar chose (explorer/subject.py), with its
dataset's test images.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from PIL import Image, ImageDraw

import vgg
from explorer import charts, resources, training
from explorer.explain_service import effective_field_section
from explorer.image_input import choose_image
from explorer.state import AppState
from explorer.style import PALETTE, display_scale, show_chart
from explorer.subject import Subject, header, subject_of
from explorer.tables import show_table
from vgg import format
from vgg.analysis import InputBox, receptive_box, stacked_conv_equivalence

TITLE = "Receptive field"


def draw_box(image: Image.Image, box: InputBox, scale: int = 1) -> Image.Image:
    """The image (the input enlarged ``scale`` times) with the field's visible part outlined and tinted, and
    the centre marked."""
    canvas = image.convert("RGB").copy()
    draw = ImageDraw.Draw(canvas, "RGBA")
    width = max(2, round(min(canvas.size) / 112))
    draw.rectangle((box.clipped_left * scale, box.clipped_top * scale, box.clipped_right * scale - 1,
                    box.clipped_bottom * scale - 1), outline=PALETTE["added"], width=width, fill=(204, 121, 167, 50))
    radius, x, y = max(3, width * 2), (box.center_x + 0.5) * scale - 0.5, (box.center_y + 0.5) * scale - 0.5
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(255, 255, 255, 255), outline=(0, 0, 0, 255))
    return canvas


def _input_picture(subject: Subject) -> tuple[Image.Image, str] | None:
    """The input at the network's size, enlarged by whole pixels (``display_scale``), and where it came from: one
    of a trained mini's test images (or an upload, a drawing), else a photo as the other views pick it."""
    height, width = subject.input_size
    scale = display_scale(subject.input_size)
    if subject.trained is not None:
        picked = training.choose_trained_image(subject.trained, "rf")
        return None if picked is None else (training.enlarged(picked.pixels, side=width * scale), picked.caption)
    photo = choose_image("rf")
    if photo is None:
        return None
    shown = photo.image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    return shown.resize((width * scale, height * scale), Image.Resampling.NEAREST), "the input"


def _rows_with_positions(report: vgg.Report) -> list[vgg.LayerRow]:
    return [row for row in report.layers if row.kind in ("conv", "pool") and row.jump is not None]


def render(state: AppState) -> None:
    subject = subject_of(state)
    report = resources.analysis(subject.network, subject.input_size)
    height, width = subject.input_size
    header(subject, f"{subject.title}: what one position sees")
    rows = _rows_with_positions(report)
    labels = {row.name: f"{row.paper_name} ({row.name}), map {row.output_shape[2]} × {row.output_shape[3]}"
              for row in rows}
    default = next((row.name for row in rows if row.paper_name == "conv3_1"), rows[0].name)
    path = st.selectbox("Layer", list(labels), index=list(labels).index(default), format_func=labels.__getitem__,
                        key="rf_layer")
    row = report.layer(path)
    map_height, map_width = row.output_shape[2], row.output_shape[3]
    left, right = st.columns(2)
    y = left.slider("Row in the feature map", 0, map_height - 1, map_height // 2, key=f"rf_row_{map_height}")
    x = right.slider("Column in the feature map", 0, map_width - 1, map_width // 2, key=f"rf_col_{map_width}")
    box = receptive_box(receptive_field=row.receptive_field, jump=row.jump, start=row.start, position=(y, x),
                        input_size=subject.input_size)
    picture, numbers = st.columns([3, 2])
    with numbers:
        st.metric("Receptive field", f"{box.size} × {box.size} px")
        st.metric("Centre in the input", f"({box.center_y:g}, {box.center_x:g})")
        st.markdown(f"centre = start + position × jump = {row.start:g} + ({y}, {x}) × {row.jump} "
                    f"= **({box.center_y:g}, {box.center_x:g})**; the field spans rows "
                    f"{box.top:g} to {box.bottom - 1:g} and columns {box.left:g} to {box.right - 1:g}.")
        st.markdown(f"Neighbouring positions are **{row.jump} px** apart in the input (the jump); "
                    f"{box.visible_fraction:.0%} of this field lies on the image, the rest on zero padding.")
    with picture:
        shown = _input_picture(subject)
        if shown is not None:
            image, source = shown
            scale = display_scale(subject.input_size)
            enlarged = f", enlarged {scale}×" if scale > 1 else ""
            st.image(draw_box(image, box, scale), caption=f"{source.capitalize()} at {height} × {width}{enlarged}, the "
                                                          f"field of {row.paper_name}[{y}, {x}] outlined",
                     width=min(width * scale, 640))
    effective_field_section(state, subject, row)
    st.subheader("How the field grows")
    growth = [r for r in report.layers if r.name.startswith("features.") and r.kind in ("conv", "pool")]
    show_chart(charts.line_through_network(
        growth, {"receptive field (px)": [r.receptive_field for r in growth],
                 "jump (px)": [r.jump or 0 for r in growth]},
        title="Receptive field and jump after each conv and pool", y_title="pixels"),
        key="rf_growth", projector=state.projector)
    st.caption("Each 3×3 conv adds 2 × jump pixels to the field; each pool doubles the jump, so later convs grow "
               "it faster.")
    st.subheader("Why stack 3×3 convolutions (the paper, Sec. 2.3)")
    table = pd.DataFrame(stacked_conv_equivalence(channels=256)).rename(columns={
        "layers": "Stacked 3×3 convs", "receptive_field": "Sees as far as one", "stacked_weights":
        "Weights, stacked (C=256)", "single_conv_weights": "Weights, one big conv", "saving_percent": "Saving %"})
    table["Sees as far as one"] = table["Sees as far as one"].map(lambda side: f"{side}×{side} conv")
    show_table(table, key="rf_stacking", projector=state.projector)
    conv_rows = [r for r in report.layers if r.kind == "conv"]
    if len(conv_rows) >= 2:
        st.markdown(f"In {subject.title}: conv1_1 sees {conv_rows[0].receptive_field} px, "
                    f"{conv_rows[1].paper_name} {conv_rows[1].receptive_field} px. Three stacked 3×3 layers see as "
                    f"far as one 7×7 with {format.count(27 * 256 * 256)} instead of {format.count(49 * 256 * 256)} "
                    "weights (C = 256), and put three ReLUs where one would be: more non-linearity, fewer "
                    "parameters.")
