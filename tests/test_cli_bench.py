"""``python -m vgg bench``: the JSON schema (keys and types) for a tiny spec, the text table, and every
error as one line on stderr with exit status 2."""

from __future__ import annotations

import json

import pytest

from vgg.cli import main

TINY = ["8 M 16 M", "--input-size", "32", "32", "--repeats", "1", "--probe-size", "64", "--device", "cpu"]
Number = (int, float)
OPTIONAL_NUMBER = (int, float, type(None))

SCHEMA = {  # key -> type(s) of the top-level object
    "config": str, "batch_norm": bool, "input_size": list, "device": dict, "probes": list, "profiles": list,
    "sweep": dict, "memory_estimates": dict, "memory_probe": dict, "rooflines": list,
}
MEMORY_PROBE = {"device": str, "array_bytes": int, "copy_seconds": Number, "triad_seconds": Number,
                "copy_gbs": Number, "triad_gbs": Number, "gbs": Number}
ROOFLINE = {"roof": dict, "batch_size": int, "measured_seconds": Number, "bound_seconds": Number, "fraction": Number,
            "layers": list, "sentence": str}
ROOF = {"precision": str, "peak_gflops": Number, "bandwidth_gbs": Number, "ridge": Number}
ROOF_LAYER = {"name": str, "paper_name": str, "kind": str, "flops": int, "bytes": int, "bound_seconds": Number,
              "measured_seconds": Number, "limit": str, "intensity": OPTIONAL_NUMBER,
              "achieved_gflops": OPTIONAL_NUMBER, "fraction": OPTIONAL_NUMBER}
DEVICE = {"device": str, "name": str, "threads": int, "precisions": list, "total_memory": (int, type(None)),
          "sm_count": (int, type(None)), "compute_capability": (str, type(None)), "datasheet_tflops": OPTIONAL_NUMBER,
          "notes": list}
PROBE = {"device": str, "precision": str, "size": int, "seconds": Number, "gflops": Number}
PROFILE = {"device": str, "precision": str, "layout": str, "input_shape": list, "repeats": int,
           "timed_seconds": Number, "plain_seconds": Number, "overhead": Number, "macs": int, "gflops": Number,
           "shares": dict, "layers": list, "fraction_of_probe": Number}
LAYER = {"name": str, "paper_name": str, "kind": str, "macs": int, "seconds": Number, "gflops": OPTIONAL_NUMBER,
         "fraction_of_probe": OPTIONAL_NUMBER}
POINT = {"precision": str, "layout": str, "batch_size": int, "seconds": Number, "macs": int, "estimated_bytes": int,
         "measured_bytes": (int, type(None)), "memory_method": str, "images_per_second": Number, "gflops": Number}
TRAINING = {"optimizer": str, "weights": int, "gradients": int, "optimizer_state": int, "buffers": int,
            "activations": int, "total": int}


def bench(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["bench", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_schema(value: dict, schema: dict) -> None:
    assert set(value) == set(schema), set(value) ^ set(schema)
    for key, kind in schema.items():
        assert isinstance(value[key], kind), (key, value[key])
        assert not (kind is int and isinstance(value[key], bool)), key  # bool is an int subclass


def test_json_schema(capsys):
    status, out, err = bench(capsys, *TINY, "--batch-sizes", "1,2", "--json")
    assert status == 0 and err == ""
    data = json.loads(out)
    assert_schema(data, SCHEMA)
    assert data["config"] == "8 M 16 M" and data["input_size"] == [32, 32] and data["batch_norm"] is False
    assert_schema(data["device"], DEVICE)
    assert data["device"]["device"] == "cpu" and data["device"]["precisions"][0] == "fp32"
    for probe in data["probes"]:
        assert_schema(probe, PROBE)
    assert [p["precision"] for p in data["profiles"]] == data["device"]["precisions"]
    for profile in data["profiles"]:
        assert_schema(profile, PROFILE)
        assert set(profile["shares"]) == {"conv", "fc", "other"}
        assert profile["input_shape"] == [1, 3, 32, 32]
        for layer in profile["layers"]:
            assert_schema(layer, LAYER)
        assert [layer["paper_name"] for layer in profile["layers"]][:3] == ["conv1_1", "relu1_1", "pool1"]
    assert set(data["sweep"]) == {"points", "stops"} and data["sweep"]["stops"] == []
    for point in data["sweep"]["points"]:
        assert_schema(point, POINT)
    assert {(p["layout"], p["batch_size"]) for p in data["sweep"]["points"]} >= {
        ("channels_last", 1), ("channels_last", 2), ("nchw", 1), ("nchw", 2)}
    assert_schema(data["memory_probe"], MEMORY_PROBE)
    assert [r["roof"]["precision"] for r in data["rooflines"]] == data["device"]["precisions"]
    for line in data["rooflines"]:
        assert_schema(line, ROOFLINE)
        assert_schema(line["roof"], ROOF)
        for layer in line["layers"]:
            assert_schema(layer, ROOF_LAYER)
            assert layer["limit"] in ("compute", "memory")
    estimates = data["memory_estimates"]
    assert {"batch_size", "weight_bytes", "activation_bytes", "peak_activation_bytes"} <= set(estimates)
    assert_schema(estimates["training_sgd"], TRAINING)
    assert_schema(estimates["training_adam"], TRAINING)


def test_text_output_has_the_tables(capsys):
    status, out, _ = bench(capsys, *TINY, "--batch-sizes", "2", "--fast-only")
    assert status == 0
    assert "Matmul probe, fp32: 64x64" in out
    assert "conv2_1" in out and "Per-layer timing overhead" in out and "Time in: conv" in out
    assert "channels_last" in out and "nchw" not in out.split("Throughput", 1)[1]  # --fast-only
    assert "Memory estimates (analysis, batch 1, fp32)" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--batch-sizes", "1,x"], "whole numbers"),
    (["--batch-sizes", ","], "is empty"),
    (["--batch-sizes", "0"], "at least 1"),
    (["--precisions", "int8"], "Precisions 'int8'"),
    (["--precisions", "fp16"], "fp16 is refused on cpu"),
    (["--repeats", "0"], "repeats must be at least 1"),
])
def test_errors_are_one_line_and_exit_2(capsys, args, message):
    status, out, err = bench(capsys, *TINY, *args)
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and message in err, err


@pytest.mark.parametrize(("config", "message"), [("64 Q", "is not a layer"), ("8192 8192 M", "not built")])
def test_a_bad_or_oversized_config_is_one_line(capsys, config, message):
    status, _, err = bench(capsys, config, "--device", "cpu")  # the oversized one is refused before it is built
    assert status == 2 and len(err.splitlines()) == 1 and message in err, err
