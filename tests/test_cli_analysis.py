"""``python -m vgg summary | compare | diagram``: output, JSON for the twelve named variants, and errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from vgg.arch.configs import CONFIGS
from vgg.arch.published import PUBLISHED
from vgg.cli import main

# C is B plus three 1x1 convs (conv3_3: 256 -> 256, conv4_3 and conv5_3: 512 -> 512), at 56, 28 and 14 px.
C_EXTRA_PARAMS = (256 * 256 + 256) + 2 * (512 * 512 + 512)
C_EXTRA_MACS = 256 * 256 * 56 * 56 + 512 * 512 * 28 * 28 + 512 * 512 * 14 * 14
C_EXTRA_BN_PARAMS = 2 * (256 + 512 + 512)  # with BN, each 1x1 conv brings its BN's weight and bias


def _published(config: str, batch_norm: bool) -> tuple[int, float]:
    variant = next(v for v in PUBLISHED.values() if (v.config, v.batch_norm) == (config, batch_norm))
    return variant.num_params, variant.gmacs


def _expected(config: str, batch_norm: bool) -> tuple[int, float | None]:
    """(params, GMACs to 3 decimals, or None when checked by difference below)."""
    if config == "A-LRN":
        return _published("A", batch_norm)
    if config == "C":
        params, _ = _published("B", batch_norm)
        return params + C_EXTRA_PARAMS + (C_EXTRA_BN_PARAMS if batch_norm else 0), None
    return _published(config, batch_norm)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_summary_json_for_the_twelve_named_variants(capsys: pytest.CaptureFixture[str], config: str,
                                                    batch_norm: bool) -> None:
    status, out, _ = _run(capsys, "summary", config, "--json", *(["--bn"] if batch_norm else []))
    assert status == 0
    data = json.loads(out)
    assert (data["config"], data["batch_norm"], data["input_size"]) == (config, batch_norm, [224, 224])
    params, gmacs = _expected(config, batch_norm)
    assert data["totals"]["params"] == params
    if gmacs is not None:
        assert round(data["totals"]["macs"] / 1e9, 3) == gmacs
    else:
        b_macs = _published("B", batch_norm)[1]
        assert round((data["totals"]["macs"] - C_EXTRA_MACS) / 1e9, 3) == b_macs
    assert data["totals"]["flops"] == 2 * data["totals"]["macs"]
    assert {"name", "paper_name", "type", "output_shape", "params", "macs", "receptive_field", "jump",
            "activation_bytes"} <= set(data["layers"][0])


def test_c_is_b_plus_its_one_by_ones_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    b = json.loads(_run(capsys, "summary", "B", "--json")[1])["totals"]
    c = json.loads(_run(capsys, "summary", "C", "--json")[1])["totals"]
    assert (c["params"] - b["params"], c["macs"] - b["macs"]) == (C_EXTRA_PARAMS, C_EXTRA_MACS)


def test_summary_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "summary", "D", "--input-size", "224", "320")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "VGG D at 224x320, batch 1, float32"
    assert lines[2].split() == ["Paper", "name", "Module", "Type", "Output", "shape", "Params", "MACs", "RF"]
    assert any(line.split()[:3] == ["conv5_3", "features.28", "Conv2d"] and line.split()[-1] == "196"
               for line in lines)
    assert "Params:      138,357,544" in out and "FLOPs:" in out and "Adam" in out


def test_builder_names_carry_batch_norm(capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(_run(capsys, "summary", "vgg16_bn", "--json")[1])
    assert data["batch_norm"] is True and data["totals"]["params"] == PUBLISHED["vgg16_bn"].num_params


def test_custom_spec_text(capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(_run(capsys, "summary", "64, M, 128, conv1-128, M", "--json", "--input-size", "8", "8")[1])
    assert data["config"] == "64 M 128 conv1-128 M"
    assert [layer["paper_name"] for layer in data["layers"][:7]] == [
        "conv1_1", "relu1_1", "pool1", "conv2_1", "relu2_1", "conv2_2", "relu2_2"]


@pytest.mark.parametrize(("argv", "message"), [
    (["summary", "F"], "Unknown configuration 'F'"),
    (["summary", "64 X M"], "Token 2 ('X') is not a layer"),
    (["summary", "D", "--input-size", "16", "16"], "Input 16x16 is too small"),
    (["compare", "A", "Z"], "Unknown configuration 'Z'"),
    (["diagram", "D", "--input-size", "0", "0"], "Input 0x0 is too small"),
])
def test_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    status, out, err = _run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_compare_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "compare", "A", "E")
    assert status == 0
    assert "A vs E (deltas are E - A)" in out
    assert any(line.split()[:4] == ["stage", "3", "conv3_3", "(conv3-256)"] for line in out.splitlines())
    data = json.loads(_run(capsys, "compare", "B", "C", "--json")[1])
    assert [stage["added"] for stage in data["stages"]] == [[], [], ["conv3_3"], ["conv4_3"], ["conv5_3"], []]
    data = json.loads(_run(capsys, "compare", "D", "D", "--bn-b", "--json")[1])
    assert data["b"]["batch_norm"] is True and data["totals"]["params"]["delta"] == 8448
    assert data["stages"][0]["batch_norm_added_after"] == ["conv1_1", "conv1_2"]


def test_compare_names_batch_norm_and_removals_from_bs_side(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, "compare", "A", "vgg11_bn")[1]
    assert "batch norm after conv3_1, conv3_2 added in A + BN" in out
    out = _run(capsys, "compare", "A-LRN", "A")[1]
    assert "lrn1 (LRN) removed in A" in out and "removed from" not in out


def test_compare_says_equal_values_are_equal(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, "compare", "A", "E")[1]
    assert "+0" not in out and "1.000" not in out  # the head is the same in A and E: no "+0", no "1.000"
    head = next(line for line in out.splitlines() if line.startswith("head"))
    assert head.split()[:5] == ["head", "same", "equal", "equal", "equal"]
    assert "+4,719,616" in out  # conv4_3 and conv4_4 added: exact digits, signed
    params = next(line for line in _run(capsys, "compare", "D", "D")[1].splitlines() if line.startswith("params"))
    assert params.split() == ["params", "138,357,544", "138,357,544", "equal", "same"]


def test_diagram_dot(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "diagram", "B", "--collapsed")
    assert status == 0 and out.startswith("digraph vgg_B {") and "cluster_" not in out
    assert _run(capsys, "diagram", "B", "--bn")[1].count("subgraph cluster_") == 6
    detailed = _run(capsys, "diagram", "B", "--layout", "detailed")[1]
    assert "newrank" not in detailed and '[label=" 64×224×224 "]' in detailed


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_diagram_svg(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["diagram", "A", "--format", "svg"]) == 0
    assert b"</svg>" in capsysbinary.readouterr().out


def test_diagram_svg_without_dot(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    status, out, err = _run(capsys, "diagram", "A", "--format", "svg")
    assert status == 2 and out == "" and "install Graphviz" in err and err.count("\n") == 1


def test_python_dash_m_vgg() -> None:
    """The real entry point, once, in a fresh interpreter."""
    result = subprocess.run([sys.executable, "-m", "vgg", "summary", "E", "--bn", "--json"], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["macs"] == 19632062464
