"""Overview: the key numbers of the chosen network (the sidebar's, or the mini VGG trained here whose weights it
chose), and where its parameters and compute live."""

from __future__ import annotations

import streamlit as st

from explorer import charts, resources
from explorer.state import AppState
from explorer.style import show_chart, side_by_side
from explorer.subject import header, subject_of
from vgg import format

TITLE = "Overview"


def render(state: AppState) -> None:
    subject = subject_of(state)
    report = resources.analysis(subject.network, subject.input_size)
    totals = report.totals
    header(subject, f"{subject.title} at {subject.size_text}")
    first, second, third, fourth = st.columns(4)
    first.metric("Parameters", format.count(totals.params), help=f"{totals.params:,} trainable parameters")
    second.metric("MACs", format.count(totals.macs),
                  help=f"{totals.macs:,} multiply-accumulates of the convs and linear layers (torchvision's _ops)")
    third.metric("FLOPs", format.count(totals.flops), help="2 × MACs: one multiply and one add each")
    fourth.metric("Depth (weight layers)", report.spec.weight_layers,
                  help=f"{len(report.spec.convs)} convs + 3 fully connected, the paper's count")
    first, second, third, fourth = st.columns(4)
    first.metric("Weights (fp32)", format.nbytes(totals.weight_bytes))
    second.metric("Activations (inference)", format.nbytes(totals.activation_bytes),
                  help="Sum of every layer's output for one forward pass of this batch")
    pool = report.last_pool
    third.metric(f"Receptive field at {pool.paper_name}" if pool else "Receptive field",
                 f"{(pool or report.layers[-1]).receptive_field} px",
                 help="The side of the input square one output position sees")
    fourth.metric("Share of parameters in FC layers", f"{totals.fc_param_share:.0%}")
    st.caption("MACs count multiply-accumulates of Conv2d and Linear without bias, BN, ReLU or pooling, as "
               "torchvision's published `_ops`; FLOPs = 2 × MACs, as `torch.utils.flop_counter`.")
    left, right = side_by_side(2, projector=state.projector)
    with left:
        params = charts.per_layer_bars(report.layers, [row.params for row in report.layers],
                                       title="Where the parameters live", y_title="parameters",
                                       only_kinds=("conv", "fc", "bn"))
        show_chart(params, key="overview_params", projector=state.projector)
        fc6 = next((row for row in report.layers if row.paper_name == "fc6"), None)
        if fc6:
            st.markdown(f"**fc6 alone holds {format.count(fc6.params)} of {format.count(totals.params)} "
                        f"parameters ({fc6.params / totals.params:.0%})**: it connects every one of the "
                        f"{fc6.input_shape[-1]:,} values of the last feature map to {fc6.output_shape[-1]:,} units.")
    with right:
        macs = charts.per_layer_bars(report.layers, [row.macs for row in report.layers],
                                     title="Where the compute goes", y_title="MACs", only_kinds=("conv", "fc"))
        show_chart(macs, key="overview_macs", projector=state.projector)
        conv_share = sum(row.macs for row in report.layers if row.kind == "conv") / max(totals.macs, 1)
        st.markdown(f"**The convolutions do {conv_share:.1%} of the multiply-accumulates**: each 3×3 filter "
                    "slides over every position of a large feature map, while an FC layer runs once.")
