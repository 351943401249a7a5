"""The app's precision choice and export download, through AppTest on a small custom network: on this
CPU (no native bf16) only "exact (fp32)" is offered and the sidebar says why; with native bf16
detected (monkeypatched), "fast (bf16)" is offered and the Forward pass view shows its measured
accuracy cost on the current image."""

from __future__ import annotations

from tests.test_app import assert_clean, run_app
from vgg.vision import precision

SMALL = {"view": "Forward pass", "config": "custom", "spec": "16 M 32 M", "size": "64"}


def test_only_exact_where_bf16_is_not_native(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    at = run_app(**SMALL, device="cpu", precision="bf16")  # a shared link asking for bf16 falls back to fp32
    assert_clean(at)
    radio = at.radio(key="precision")
    assert list(radio.options) == ["exact (fp32)"] and radio.value == "fp32"
    assert any("offered only where the hardware computes bf16 natively" in c.value for c in at.sidebar.caption)
    assert "precision" not in at.query_params
    assert at.get("download_button"), "the export download is offered"


def test_fast_bf16_where_native_shows_its_accuracy_cost(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    at = run_app(**SMALL, device="cpu")
    assert_clean(at)
    assert list(at.radio(key="precision").options) == ["exact (fp32)", "fast (bf16)"]
    at.radio(key="precision").set_value("bf16").run()
    assert_clean(at)
    costs = [c.value for c in at.sidebar.caption if "on this image" in c.value]
    assert costs and "top-5 agreement" in costs[0] and "cosine similarity" in costs[0]
    assert at.query_params["precision"] in ("bf16", ["bf16"])
