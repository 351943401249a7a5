"""Every case of the corpus (tests/corpus.py) through the Streamlit app, driven by AppTest: each bad input shows
the library's message in an st.error (no exception, no traceback), and the same session then renders a good
view. Downloads that go wrong are served from 127.0.0.1 and leave nothing in the (private) hub cache."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer import resources
from explorer.state import format_size
from tests.corpus import (
    CHECKPOINTS,
    FORWARD,
    IMAGES,
    SMALL_SPEC,
    SPECS,
    CheckpointCase,
    ImageCase,
    SpecCase,
)
from tests.test_app import assert_clean, run_app, texts
from tests.test_download import _serve_once

SMALL = {"config": "custom", "spec": SMALL_SPEC}  # the forward pass in a blink; checkpoints are made for it
VGG16_FILE = "vgg16-397923af.pth"  # what the app downloads for D with ImageNet weights


def imagenet_unavailable(at: AppTest) -> list[str]:
    """The warnings that say ImageNet weights could not be had (the view goes on with random weights)."""
    assert not at.exception, [e.value for e in at.exception]
    return [re.sub(r"\\(.)", r"\1", w.value) for w in at.warning if w.value.startswith("ImageNet weights are not")]


def errors(at: AppTest) -> list[str]:
    """The error messages as the user reads them (the app escapes markdown in them; see guard.plain)."""
    assert not at.exception, [e.value for e in at.exception]
    return [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]


def shows_predictions(at: AppTest) -> bool:
    return "Top-5 predictions" in [s.value for s in at.subheader]


def recovers(at: AppTest) -> None:
    """The same session, set back to random weights, a small custom network, the sample image and a valid
    input size, renders its view again (a forward pass, or the Overview's metrics)."""
    at.radio(key="weights").set_value("random")
    at.text_input(key="size").input("224")
    at.selectbox(key="config").select("custom").run()
    at.text_input(key="spec").input(SMALL_SPEC)
    if at.get("segmented_control"):
        at.get("segmented_control")[0].set_value("Sample")
    at.run()
    assert_clean(at)
    assert shows_predictions(at) or {m.label for m in at.metric} >= {"Parameters", "MACs"}


# --- images, uploaded in the Forward pass view -------------------------------------------------------------------

@pytest.mark.parametrize("case", IMAGES, ids=lambda case: case.name)
def test_each_image_upload_is_shown_or_refused_with_the_librarys_message(case: ImageCase):
    at = run_app(view="Forward pass", **SMALL)
    at.get("segmented_control")[0].set_value("Upload").run()
    at.get("file_uploader")[0].upload(case.name, case.data, case.mime).run()
    if case.refusal:
        shown = errors(at)
        assert len(shown) == 1 and case.refusal in shown[0]
        assert shown[0].startswith(case.name if case.data else f"{case.name} is empty")  # the file is named
        assert not shows_predictions(at)
        recovers(at)
        return
    assert_clean(at)
    width, height = case.size
    assert at.get("image")[0].proto.imgs[0].caption == f"1. Original, {width} × {height}"  # upright
    assert shows_predictions(at)


def test_the_uploader_names_the_accepted_formats_and_lets_every_type_through():
    at = run_app(view="Forward pass", **SMALL)
    at.get("segmented_control")[0].set_value("Upload").run()
    assert any("HEIC/HEIF, AVIF" in caption.value and "JPEG" in caption.value for caption in at.caption)
    assert not at.get("file_uploader")[0].proto.type  # no browser-side type list: the app's message instead


# --- specs, typed into the sidebar's custom spec box ---------------------------------------------------------------

@pytest.mark.parametrize("case", SPECS, ids=lambda case: case.name)
def test_each_bad_spec_typed_in_the_sidebar_is_refused_with_its_message(case: SpecCase):
    view = "Forward pass" if case.stage == FORWARD else "Overview"  # analysis views run on meta: nothing to refuse
    at = run_app(view=view, config="custom", size=format_size(case.input_size))
    at.text_input(key="spec").input(case.text).run()
    shown = [message for message in errors(at) if case.refusal in message]
    assert shown, f"no error containing {case.refusal!r}: {errors(at)}"
    if case.stage == "parse":  # the sidebar validates as the user types, and the view refuses too
        assert len(shown) == 2
    recovers(at)


def test_a_large_spec_that_fits_is_analysed_but_its_forward_pass_is_refused_before_building(monkeypatch):
    built: list[object] = []
    monkeypatch.setattr("vgg.build", lambda *args, **kwargs: built.append(args))  # what model() would call
    at = run_app(view="Overview", config="custom", spec="8192 M")
    assert_clean(at)
    assert {m.label: m.value for m in at.metric}["Parameters"] == "1.67 G"
    at = run_app(view="Forward pass", config="custom", spec="8192 M")
    assert any("6,353 MiB for its weights" in message for message in errors(at))
    assert built == []


def test_text_from_a_shared_link_is_shown_as_written_not_as_markdown():
    at = run_app(config="[Get the weights](http://example.invalid)", size="![](http://127.0.0.1:9/pixel.png)")
    warnings = [w.value for w in at.warning]
    assert any("config='\\[Get the weights\\](http://example.invalid)'" in w for w in warnings)
    assert any("size '!\\[\\](http://127.0.0.1:9/pixel.png)'" in w for w in warnings)
    assert {m.label: m.value for m in at.metric}["Parameters"] == "138.36 M"  # and the defaults are used


# --- checkpoints, by server path and by upload, in the Forward pass view ---------------------------------------

@pytest.mark.parametrize("case", CHECKPOINTS, ids=lambda case: case.name)
def test_each_checkpoint_on_the_server_loads_or_is_refused_with_its_message(case: CheckpointCase, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(resources.SERVER_PATHS_ENV, "1")  # the operator turned server paths on
    path = tmp_path / case.name
    case.write(path)
    at = run_app(view="Forward pass", weights="file", weights_path=str(path), **SMALL)
    if not case.refusal:
        assert_clean(at)
        assert shows_predictions(at) and not at.warning  # no random-weights notice: the file's weights ran
        return
    shown = errors(at)
    assert len(shown) == 1 and case.refusal in shown[0]
    assert not path.with_suffix(".pwned").exists(), "loading the checkpoint ran its code"
    recovers(at)


@pytest.mark.parametrize("name", ["good.pth", "runs-code.pth", "truncated.pth", "vgg11_bn.pth"])
def test_uploaded_checkpoints_go_through_the_same_checks(name, tmp_path, monkeypatch):
    monkeypatch.setenv("VGG_EXPLORER_UPLOAD_DIR", str(tmp_path / "uploads"))
    case = next(case for case in CHECKPOINTS if case.name == name)
    case.write(tmp_path / name)
    at = run_app(view="Forward pass", weights="file", **SMALL)
    assert any("Choose a checkpoint" in message for message in errors(at))
    at.sidebar.get("file_uploader")[0].upload(name, (tmp_path / name).read_bytes(), "application/octet-stream").run()
    if case.refusal:
        shown = errors(at)
        assert len(shown) == 1 and case.refusal in shown[0]
        assert name in shown[0] or "does not fit this model" in shown[0]  # the user's file name, not a digest
        recovers(at)
    else:
        assert_clean(at)
        assert shows_predictions(at)
    digest = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
    assert [p.name for p in (tmp_path / "uploads").iterdir() if p.name != ".lock"] == [f"{digest}.pth"]  # whole


def test_an_uploads_file_name_cannot_leave_the_upload_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("VGG_EXPLORER_UPLOAD_DIR", str(tmp_path / "uploads"))
    CHECKPOINTS[0].write(tmp_path / "good.pth")
    at = run_app(view="Forward pass", weights="file", **SMALL)
    at.sidebar.get("file_uploader")[0].upload("../../../escape.pth", (tmp_path / "good.pth").read_bytes(),
                                              "application/octet-stream").run()
    assert_clean(at)
    saved = [path for path in tmp_path.rglob("*.pth") if path.name != "good.pth"]
    assert len(saved) == 1 and saved[0].parent == tmp_path / "uploads"  # named by its digest, not by the browser
    assert not list(tmp_path.parent.glob("escape.pth"))


def test_server_paths_are_off_unless_the_operator_turns_them_on(tmp_path, monkeypatch):
    monkeypatch.delenv(resources.SERVER_PATHS_ENV, raising=False)
    path = tmp_path / "good.pth"
    CHECKPOINTS[0].write(path)
    at = run_app(view="Forward pass", weights="file", weights_path=str(path), **SMALL)
    assert any("by their path on the server is turned off" in message for message in errors(at))
    assert not [w for w in at.text_input if w.key == "weights_path"], "the path box is still offered"
    monkeypatch.setenv(resources.SERVER_PATHS_ENV, "1")
    at = run_app(view="Forward pass", weights="file", weights_path=str(path), **SMALL)
    assert_clean(at)
    assert shows_predictions(at)


def test_a_link_cannot_tell_whether_a_path_exists_on_the_server(tmp_path, monkeypatch):
    monkeypatch.delenv(resources.SERVER_PATHS_ENV, raising=False)
    replies = []
    for probed in ("/etc/passwd", str(tmp_path / "no-such-file.pth"), str(tmp_path)):
        at = run_app(view="Forward pass", weights="file", weights_path=probed, **SMALL)
        replies.append((errors(at), [w.value for w in at.warning], texts(at)))
    assert replies[0] == replies[1] == replies[2]
    assert "passwd" not in str(replies[0])


# --- downloads of the ImageNet weights that go wrong ---------------------------------------------------------------

def _forward_with_imagenet_weights() -> AppTest:
    return run_app(view="Forward pass", weights="imagenet")  # D: VGG16, whose weights torchvision publishes


def assert_nothing_cached(hub_dir: Path) -> None:
    checkpoints = hub_dir / "checkpoints"
    assert not checkpoints.exists() or not any(checkpoints.iterdir())


def test_a_download_whose_hash_does_not_match_is_refused_and_not_kept(file_server, hub_dir, monkeypatch):
    base, served = file_server
    torch.save({"features.0.weight": torch.zeros(1)}, served / VGG16_FILE)  # the right name, the wrong bytes
    monkeypatch.setattr("vgg.arch.published.WEIGHTS_BASE_URL", base)
    at = _forward_with_imagenet_weights()
    shown = imagenet_unavailable(at)
    assert len(shown) == 1 and f"The download of {VGG16_FILE} is incomplete or corrupt" in shown[0]
    assert shows_predictions(at)  # on random weights meanwhile
    assert_nothing_cached(hub_dir)
    recovers(at)


@pytest.mark.parametrize(("behaviour", "message"), [("stall", f"Could not download {VGG16_FILE}: timed out"),
                                                   ("drop", f"The download of {VGG16_FILE} is incomplete")])
def test_a_server_that_stalls_or_drops_the_connection_gives_a_message(behaviour, message, hub_dir, monkeypatch):
    monkeypatch.setattr("vgg.arch.weights.DOWNLOAD_TIMEOUT_SECONDS", 1.0)
    base, done, listener = _serve_once(behaviour)
    monkeypatch.setattr("vgg.arch.published.WEIGHTS_BASE_URL", base)
    try:
        at = _forward_with_imagenet_weights()
    finally:
        done.set()
        listener.close()
    shown = imagenet_unavailable(at)
    assert len(shown) == 1 and message in shown[0]
    assert shows_predictions(at)  # on random weights meanwhile
    assert_nothing_cached(hub_dir)
    recovers(at)
