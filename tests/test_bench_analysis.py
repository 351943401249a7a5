"""benchmarks/bench_analysis.py: one variant's row (its name from torchvision's builders, its timings) and the
markdown built from rows. No timed assertions: the numbers are only checked to be positive."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_analysis.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_analysis", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("config", "batch_norm", "name"), [("A", False, "vgg11"), ("A", True, "vgg11_bn"),
                                                            ("C", False, "C")])
def test_a_row_is_named_as_torchvision_names_the_variant(bench, config: str, batch_norm: bool, name: str) -> None:
    row = bench.bench_variant(config, batch_norm, 1, 1)
    assert row["variant"] == name and row["config"] == config and row["batch_norm"] is batch_norm
    assert row["analyze_cold_ms"] > 0 and row["analyze_warm_ms"] > 0 and row["build_torchinfo_ms"] > 0
    assert row["speedup"] > 0
