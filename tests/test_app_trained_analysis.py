"""The analysis views with weights trained here: Overview, Layers, Diagram, Receptive field and Performance show
the mini VGG itself (its parameters, MACs, shapes and receptive fields at its own input size), say which network
it is, and show the sidebar's network with a note while nothing has been trained yet."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import vgg
import vgg.train
from explorer import training
from tests.test_app_train import open_train
from vgg import format


@pytest.fixture(scope="module")
def mini(digits_checkpoint: bytes) -> vgg.Report:
    """The analysis of the checkpoint's network at its own input size, as the library gives it."""
    trained = vgg.train.load_checkpoint(digits_checkpoint)
    return vgg.analyze(trained.network.network, input_size=(trained.input_size, trained.input_size))


def open_view(view: str, checkpoint: bytes) -> AppTest:
    """The app with the checkpoint uploaded as a model trained here (the sidebar then chooses it), on ``view``."""
    at = open_train(weights="trained", view=view)
    at.sidebar.file_uploader(key="trained_upload").upload("a_bn.pth", checkpoint, "application/octet-stream").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def captions(at: AppTest) -> str:
    return "\n".join(caption.value for caption in at.caption)


def test_overview_counts_the_trained_minis_parameters_at_its_input_size(digits_checkpoint: bytes,
                                                                        mini: vgg.Report) -> None:
    at = open_view("Overview", digits_checkpoint)
    assert at.header[0].value == "A+BN mini (widths /16) on digits at 32 × 32"
    assert "The weights chosen in the sidebar were trained here: A+BN mini (widths /16) on digits" in captions(at)
    metrics = {metric.label: metric for metric in at.metric}
    assert metrics["Parameters"].value == format.count(mini.totals.params)
    assert metrics["Parameters"].proto.help.startswith(f"{mini.totals.params:,} trainable")
    assert metrics["MACs"].value == format.count(mini.totals.macs)
    assert metrics["Receptive field at pool5"].value == f"{mini.last_pool.receptive_field} px"
    assert any(f"to {mini.layer('classifier.0').output_shape[-1]:,} units" in m.value for m in at.markdown)


def test_layers_lists_the_trained_minis_rows(digits_checkpoint: bytes, mini: vgg.Report) -> None:
    at = open_view("Layers", digits_checkpoint)
    assert at.header[0].value == "A+BN mini (widths /16) on digits: layer by layer"
    table = next(frame.value for frame in at.dataframe if "Module" in frame.value.columns)
    expected = mini.to_frame()
    assert table["Module"].tolist() == expected["Module"].tolist()
    assert table["Params"].tolist() == expected["Params"].tolist()
    assert table["Output shape"].tolist() == expected["Output shape"].tolist()
    assert table["Output shape"].iloc[0] == expected["Output shape"].iloc[0] and "32" in table["Output shape"].iloc[0]


def test_diagram_and_receptive_field_show_the_trained_mini(digits_checkpoint: bytes, mini: vgg.Report) -> None:
    at = open_view("Diagram", digits_checkpoint)
    assert at.header[0].value == "A+BN mini (widths /16) on digits: diagram"
    at = open_view("Receptive field", digits_checkpoint)
    assert at.header[0].value == "A+BN mini (widths /16) on digits: what one position sees"
    layer = at.selectbox(key="rf_layer")
    assert layer.value == mini.layer("conv3_1").name
    assert layer.options == [f"{row.paper_name} ({row.name}), map {row.output_shape[2]} × {row.output_shape[3]}"
                             for row in mini.layers if row.kind in ("conv", "pool")]
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Receptive field"] == f"{mini.layer('conv3_1').receptive_field} × " \
                                         f"{mini.layer('conv3_1').receptive_field} px"
    pictures = [caption for image in at.image for caption in image.captions]
    # One of the dataset's test images at the network's 32 px, enlarged by whole pixels to be seen at all
    assert any(caption.startswith("Test image 0: a ") and "at 32 × 32, enlarged 14×" in caption
               for caption in pictures), pictures
    at.button(key="rf_erf_run").click().run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Theoretical field (analysis)"] == f"{mini.layer('conv3_1').receptive_field} px"
    assert metrics["Gradient outside the theoretical field"] == "0.0%"


def test_performance_estimates_and_measures_the_trained_mini(digits_checkpoint: bytes, mini: vgg.Report) -> None:
    at = open_view("Performance", digits_checkpoint)
    assert at.header[0].value == "A+BN mini (widths /16) on digits at 32 × 32: where the time and memory go"
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Weights"] == format.nbytes(mini.totals.weight_bytes)
    at.multiselect(key="perf_batches").set_value([1])
    at.slider(key="perf_repeats").set_value(1)
    at.checkbox(key="perf_plain").uncheck()
    at.button(key="perf_run").click().run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    layers = next(frame.value for frame in at.dataframe if "Of the probe" in frame.value.columns)
    assert set(layers["Module"]) <= {row.name for row in mini.layers}
    assert layers["Module"].iloc[0] == "features.0"


def test_with_nothing_trained_yet_the_views_show_the_sidebars_network_and_say_so() -> None:
    training.queue.clear()  # a server with no model trained (other tests' models live in the shared queue)
    for view, heading in (("Overview", "VGG16 (D) at 224 × 224"), ("Layers", "VGG16 (D): layer by layer"),
                          ("Receptive field", "VGG16 (D): what one position sees"),
                          ("Performance", "VGG16 (D) at 224 × 224: where the time and memory go")):
        at = open_train(weights="trained", view=view)
        assert not at.error, [e.value for e in at.error]
        assert at.header[0].value == heading
        assert "No model trained here yet, so this view shows the sidebar's network, VGG16 (D) at 224 × 224" \
            in captions(at)
