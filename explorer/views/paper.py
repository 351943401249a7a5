"""Paper view: Table 1 and Table 2 of Simonyan & Zisserman, generated from the code, beside
torchvision's published numbers for its checkpoints."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from explorer import resources
from explorer.state import AppState, ModelChoice
from explorer.tables import show_table
from vgg.arch import PAPER_PARAMS_MILLIONS, PUBLISHED
from vgg.teaching import table1

TITLE = "Paper"


def _table1_html() -> str:
    table = table1()
    head = "".join(f"<th>{name}<br><small>{table.weight_layers[name]} weight layers</small></th>"
                   for name in table.columns)
    span = len(table.columns)
    rows = [f"<tr><td colspan={span} class=full>input (224 × 224 RGB image)</td></tr>"]
    for stage in table.stages:
        cells = "".join(
            "<td>" + "<br>".join(f"<b>{html.escape(e.text)}</b>" if e.added else html.escape(e.text)
                                 for e in stage[name]) + "</td>" for name in table.columns)
        rows += [f"<tr>{cells}</tr>", f"<tr><td colspan={span} class=full>maxpool</td></tr>"]
    rows += [f"<tr><td colspan={span} class=full>{layer}</td></tr>" for layer in table.head]
    style = ("<style>.t1{border-collapse:collapse;width:100%;text-align:center;font-family:monospace}"
             ".t1 td,.t1 th{border:1px solid #888;padding:6px 10px}.t1 .full{background:rgba(128,128,128,.12)}"
             ".t1 b{color:#CC79A7}</style>")
    return f"{style}<table class=t1><tr>{head}</tr>{''.join(rows)}</table>"


def _table2() -> pd.DataFrame:
    rows = []
    for name, millions in PAPER_PARAMS_MILLIONS.items():
        params = resources.analysis(ModelChoice(name), (224, 224)).totals.params
        rows.append({"Config": name, "Paper (millions)": millions, "This code": params,
                     "This code (millions)": round(params / 1e6, 2)})
    return pd.DataFrame(rows)


def _published() -> pd.DataFrame:
    rows = []
    for variant in PUBLISHED.values():
        totals = resources.analysis(ModelChoice(variant.config, variant.batch_norm), (224, 224)).totals
        rows.append({"torchvision": variant.name, "Config": variant.config, "acc@1": variant.acc1,
                     "acc@5": variant.acc5, "Params (published)": variant.num_params, "Params (this code)":
                     totals.params, "GMACs (published _ops)": variant.gmacs,
                     "GMACs (this code)": round(totals.macs / 1e9, 3), "File (MB)": variant.file_size_mb})
    return pd.DataFrame(rows)


def render(state: AppState) -> None:
    st.header("The paper, generated from the code")
    st.markdown("Simonyan & Zisserman, *Very Deep Convolutional Networks for Large-Scale Image Recognition* "
                "(ICLR 2015). Every cell below is computed from this project's configuration specs, so it "
                "cannot drift from the models the other views build.")
    st.subheader("Table 1: ConvNet configurations")
    st.caption("Columns left to right get deeper; **bold** (pink) marks the layers a column adds to its left "
               "neighbour or puts in place of one of its layers, as in the paper. conv⟨k⟩-⟨c⟩ is a k×k "
               "convolution with c channels; every conv is followed by ReLU (not shown, as in the paper).")
    st.html(_table1_html())
    st.subheader("Table 2: number of parameters")
    show_table(_table2(), key="paper_table2", projector=state.projector)
    st.subheader("torchvision's published checkpoints")
    show_table(_published(), key="paper_published", projector=state.projector,  # the file size off a projector
               static_columns=["torchvision", "Config", "acc@1", "acc@5", "Params (published)", "Params (this code)",
                               "GMACs (published _ops)", "GMACs (this code)"])
    st.caption("acc@1 / acc@5: ImageNet-1K validation, single 224 crop, from torchvision. GMACs are "
               "multiply-accumulates of the convolutions and linear layers at 224 × 224 (torchvision's "
               "`_ops`, which its docs label GFLOPS; FLOPs are twice that).")
