"""Receptive field: pick a layer and a position in its feature map, see the input region it sees.

The box comes from the analysis engine's receptive field, jump and start (the closed-form
recurrence), drawn on the current image at the network's input size; the chart shows how the field
grows layer by layer, and the table makes the paper's "two 3×3 = one 5×5, three = one 7×7, with
fewer weights" argument with numbers.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from PIL import Image, ImageDraw

import vgg
from explorer import charts, resources
from explorer.explain_service import effective_field_section
from explorer.image_input import choose_image
from explorer.state import AppState
from explorer.style import PALETTE, show_chart
from explorer.tables import show_table
from vgg import format
from vgg.analysis import InputBox, receptive_box, stacked_conv_equivalence

TITLE = "Receptive field"


def draw_box(image: Image.Image, box: InputBox) -> Image.Image:
    """The image with the field's visible part outlined, the part in the padding dashed off-image, and
    the centre marked."""
    canvas = image.convert("RGB").copy()
    draw = ImageDraw.Draw(canvas, "RGBA")
    width = max(2, round(min(canvas.size) / 112))
    draw.rectangle((box.clipped_left, box.clipped_top, box.clipped_right - 1, box.clipped_bottom - 1),
                   outline=PALETTE["added"], width=width, fill=(204, 121, 167, 50))
    radius = max(3, width * 2)
    draw.ellipse((box.center_x - radius, box.center_y - radius, box.center_x + radius, box.center_y + radius),
                 fill=(255, 255, 255, 255), outline=(0, 0, 0, 255))
    return canvas


def _rows_with_positions(report: vgg.Report) -> list[vgg.LayerRow]:
    return [row for row in report.layers if row.kind in ("conv", "pool") and row.jump is not None]


def render(state: AppState) -> None:
    report = resources.analysis(state.model, state.input_size)
    height, width = state.input_size
    st.header(f"{state.model.title}: what one position sees")
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
                        input_size=state.input_size)
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
        picked = choose_image("rf")
        if picked is not None:
            shown = picked.image.resize((width, height), Image.Resampling.BILINEAR)
            st.image(draw_box(shown, box), caption=f"The input at {height} × {width}, the field of {row.paper_name}"
                                                   f"[{y}, {x}] outlined", width=min(width * 2, 640))
    effective_field_section(state, row)
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
        st.markdown(f"In {state.model.title}: conv1_1 sees {conv_rows[0].receptive_field} px, "
                    f"{conv_rows[1].paper_name} {conv_rows[1].receptive_field} px. Three stacked 3×3 layers see as "
                    f"far as one 7×7 with {format.count(27 * 256 * 256)} instead of {format.count(49 * 256 * 256)} "
                    "weights (C = 256), and put three ReLUs where one would be: more non-linearity, fewer "
                    "parameters.")
