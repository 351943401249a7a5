"""benchmarks/bench_forward.py: the JSON report's schema (keys and types) on a tiny network, one round,
without the slow peers; and its markdown. No timed assertions."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

Number = (int, float)
OPTIONAL_NUMBER = (int, float, type(None))
SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_forward.py"

REPORT = {"hardware": dict, "hardware_line": str, "rounds": int, "size": int, "results": dict, "goals": dict}
HARDWARE = {"device": str, "device_name": str, "cpu": str, "cores": int, "threads": int, "isa": str, "cpu_flags": list,
            "native_precisions": list, "torch": str, "onnxruntime": (str, type(None)), "python": str,
            "load_average_at_start": (list, type(None))}
RESULT = {"gflop_per_forward": Number, "roofline": dict, "peers": dict, "notes": dict, "fastest_exact": str}
PEER = {"ms": Number, "min_ms": Number, "speedup_over_eager": Number, "speedup_over_onnxruntime": OPTIONAL_NUMBER,
        "gflops": Number, "fraction_of_bound": Number, "precision": str, "accuracy_vs_eager": dict}
ACCURACY = {"max_abs_diff": Number, "max_abs_reference": Number, "top5_agreement": Number, "top1_same": Number,
            "cosine": Number, "relative_diff": Number}
BOUND = {"roof": dict, "bound_ms": Number, "compute_bound": list, "memory_bound": list}
GOAL_KEYS = {"bf16_speedup_over_eager", "bf16_cosine", "bf16_fraction_of_bound", "fastest_exact_over_onnxruntime",
             "fastest_exact_fraction_of_bound"}


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_forward", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_schema(value: dict, schema: dict) -> None:
    assert set(value) == set(schema), set(value) ^ set(schema)
    for key, kind in schema.items():
        assert isinstance(value[key], kind), (key, value[key])


def test_report_schema_and_markdown(bench):
    args = bench.parse(["--variants", "8 M", "--size", "32", "--rounds", "1", "--warmup", "1", "--no-compile",
                        "--no-onnxruntime"])
    report = json.loads(json.dumps(bench.run(args)))
    assert_schema(report, REPORT)
    assert_schema(report["hardware"], HARDWARE)
    assert report["hardware"]["native_precisions"][0] == "fp32"
    result = report["results"]["8 M"]
    assert_schema(result, RESULT)
    assert set(result["peers"]) >= {"eager", "project_fp32", "project_fp32_features"}
    for peer in result["peers"].values():
        assert_schema(peer, PEER)
        assert_schema(peer["accuracy_vs_eager"], ACCURACY)
        if peer["precision"] == "fp32":
            assert peer["accuracy_vs_eager"]["max_abs_diff"] <= 1e-4  # fp32 paths agree
        else:  # bf16 keeps 8 bits of mantissa: close in direction, not in the last digits
            assert peer["accuracy_vs_eager"]["cosine"] >= 0.999 and peer["accuracy_vs_eager"]["top1_same"] == 1.0
    assert result["peers"]["eager"]["speedup_over_eager"] == 1.0
    assert_schema(result["roofline"]["fp32"], BOUND)
    assert "fc6" in result["roofline"]["fp32"]["memory_bound"]
    assert set(report["goals"]) == GOAL_KEYS
    if "bf16" not in report["hardware"]["native_precisions"]:
        assert report["goals"]["bf16_speedup_over_eager"]["met"] is None
        assert result["notes"]["project_bf16"].startswith("refused: ")
    else:  # a CPU with AVX512-BF16 or AMX, or a GPU: the bf16 path is measured, not refused
        assert result["peers"]["project_bf16"]["precision"] == "bf16"
    markdown = bench.to_markdown(report)
    assert "| eager (NCHW, as built) |" in markdown and "Hardware: " in markdown
