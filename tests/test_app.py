"""The Streamlit app driven through AppTest: every view, the URL round trip, bad input, downloads."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from explorer.views import VIEWS
from vgg.arch.configs import CONFIGS
from vgg.arch.published import PUBLISHED

APP = str(Path(__file__).resolve().parents[1] / "explorer" / "app.py")
VIEW_TITLES = [view.title for view in VIEWS]
CHEAP_VIEWS = [title for title in VIEW_TITLES if title not in ("Forward pass", "Explain")]  # no real model needed


def run_app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [h.value for h in at.header] + [h.value for h in at.subheader]
    parts += [c.value for c in at.caption]
    return "\n".join(parts)


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("bn", ["false", "true"])
def test_every_analysis_view_renders_for_every_named_config(config, bn):
    for view in CHEAP_VIEWS:
        at = run_app(view=view, config=config, bn=bn)
        assert_clean(at)


@pytest.mark.slow
@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("bn", ["false", "true"])
def test_forward_view_renders_for_every_named_config(config, bn):
    at = run_app(view="Forward pass", config=config, bn=bn)
    assert_clean(at)
    assert any("untrained" in warning.value for warning in at.warning), "random-weights notice missing"
    assert len(at.get("image")) == 5, "the four preprocessing steps and the feature grid"


def test_default_start_shows_vgg16_key_numbers():
    at = run_app()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Parameters"] == "138.36 M"
    assert metrics["MACs"] == "15.47 G"
    assert metrics["Receptive field at pool5"] == "212 px"
    assert "VGG16 (D) at 224 × 224" in texts(at)


def test_query_parameters_set_the_state_and_are_written_back():
    at = run_app(config="E", bn="true", size="160x192", seed="3", view="Overview")
    assert_clean(at)
    assert at.selectbox(key="config").value == "E"
    assert at.toggle(key="bn").value is True
    assert "VGG19 (E) + BN at 160 × 192" in texts(at)
    at.selectbox(key="config").select("B").run()
    assert at.query_params["config"] == ["B"] or at.query_params["config"] == "B"
    at.toggle(key="bn").set_value(False).run()
    assert "bn" not in at.query_params  # defaults are left out of the URL


def test_bad_url_values_warn_and_fall_back():
    at = run_app(config="Z", size="9")
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "config='Z'" in warnings and "Input size" in warnings
    assert {m.label: m.value for m in at.metric}["Parameters"] == "138.36 M"


def test_custom_spec_is_validated_live_and_every_view_survives_a_bad_one():
    at = run_app(config="custom", spec="64 M 128 banana")
    assert not at.exception
    assert any("Token 4 ('banana')" in e.value for e in at.error)
    good = run_app(config="custom", spec="32 M 64 M conv1-64 M")
    assert_clean(good)
    assert any("Valid: 3 convs, 3 pools" in c.value for c in good.caption)


def test_compare_highlights_the_layers_e_adds_to_a():
    at = run_app(view="Compare", config="E")
    assert_clean(at)
    layers = at.dataframe[0].value
    added = layers[layers["Change"] == "added in E"]["E"].tolist()
    assert [entry.split()[0] for entry in added] == ["conv1_2", "conv2_2", "conv3_3", "conv3_4", "conv4_3",
                                                      "conv4_4", "conv5_3", "conv5_4"]
    assert (layers["Change"] == "added in A").sum() == 0


def test_paper_view_tables_match_published_numbers():
    at = run_app(view="Paper")
    assert_clean(at)
    published = at.dataframe[1].value
    assert (published["Params (published)"] == published["Params (this code)"]).all()
    assert (published["GMACs (published _ops)"] == published["GMACs (this code)"]).all()


@pytest.fixture
def captured_downloads(monkeypatch):
    """Media file id -> bytes of everything the app offers for download."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        data = path_or_data.encode() if isinstance(path_or_data, str) else path_or_data
        files[file_id] = data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return files


def _download(at: AppTest, label: str, files: dict[str, bytes]) -> bytes:
    button = next(b for b in at.get("download_button") if b.proto.label == label)
    file_id = button.proto.url.rsplit("/", 1)[-1].split(".")[0]
    return files[file_id]


@pytest.mark.parametrize("name", ["vgg16", "vgg19_bn"])
def test_downloads_carry_the_right_data(name, captured_downloads):
    config, bn = PUBLISHED[name].config, PUBLISHED[name].batch_norm
    at = run_app(view="Layers", config=config, bn=str(bn).lower())
    assert_clean(at)
    csv = pd.read_csv(io.BytesIO(_download(at, "Download CSV", captured_downloads)))
    assert csv["Params"].sum() == PUBLISHED[name].num_params
    document = json.loads(_download(at, "Download JSON", captured_downloads))
    assert document["totals"]["params"] == PUBLISHED[name].num_params
    assert document["config"] == config and document["batch_norm"] is bn


def test_diagram_view_offers_dot():
    at = run_app(view="Diagram", config="A")
    assert_clean(at)
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "cluster_" in dot and "conv5_2" in dot
