"""Many sessions at once on the app's shared resources: 16 threads ask explorer.resources for the same cached
VGG16 at the same moment, each runs its own image through it and an analysis of its own, and each result is
identical to the same work done serially; the model is built once and left as it was."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import torch

import vgg
from explorer import resources
from explorer.state import ModelChoice
from explorer.weights_choice import RandomWeights
from vgg.analysis.engine import clear_caches

THREADS = 16
VGG16 = ModelChoice("D")  # the app's default model
WEIGHTS = RandomWeights(0)
SIDE = 64  # VGG16 on 64x64 inputs: the same shared-model path as 224, at a twelfth of the work
CHOICES = [ModelChoice("A"), ModelChoice("C", True), ModelChoice("E"), ModelChoice("A-LRN", True)]
KEPT = ("features.29", "classifier.1")  # relu5_3 and fc6's ReLU: one late map, one vector


@dataclass(frozen=True)
class Outcome:
    model_id: int
    logits: torch.Tensor
    kept: dict[str, torch.Tensor]
    report: vgg.Report


def image(index: int) -> torch.Tensor:
    """A different input per thread, so that a result handed to the wrong thread is caught."""
    generator = torch.Generator().manual_seed(index)
    return torch.randn(1, 3, SIDE, SIDE, generator=generator)  # (1, 3, 64, 64)


def analysis_request(index: int) -> tuple[ModelChoice, tuple[int, int]]:
    """Eight different analyses among the sixteen threads: pairs of threads share a cache entry."""
    return CHOICES[index % len(CHOICES)], (SIDE + 32 * (index % 2), SIDE)


def work(index: int, start: threading.Barrier) -> Outcome:
    """What a session's Forward pass and an analysis view do, through the app's caches."""
    start.wait()  # every thread asks for the model at the same moment
    model = resources.model(VGG16, WEIGHTS, "cpu")
    result = vgg.forward_with_features(model, image(index), layers=KEPT)
    report = resources.analysis(*analysis_request(index))
    return Outcome(id(model), result.logits, {path: result.features[path].clone() for path in KEPT}, report)


def serial_work(index: int, model: torch.nn.Module) -> Outcome:
    """The same work alone, on the same model, with an analysis computed afresh (caches cleared)."""
    result = vgg.forward_with_features(model, image(index), layers=KEPT)
    choice, size = analysis_request(index)
    report = vgg.analyze(choice.spec_source, batch_norm=choice.batch_norm, input_size=size)
    return Outcome(id(model), result.logits, {path: result.features[path].clone() for path in KEPT}, report)


def clear_analysis_caches() -> None:
    resources._analysis.clear()
    clear_caches()  # vgg.analyze's own reports and meta models


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every real model the app builds, from cold caches."""
    resources._model.clear()
    clear_analysis_caches()
    built: list[str] = []
    original = vgg.build

    def counting_build(config, **kwargs):
        built.append(vgg.Network.resolve(config).label)
        return original(config, **kwargs)

    monkeypatch.setattr(vgg, "build", counting_build)
    yield built
    resources._model.clear()


@pytest.mark.slow
def test_sixteen_threads_share_one_model_and_each_gets_its_serial_result(builds):
    start = threading.Barrier(THREADS)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        concurrent = list(pool.map(lambda index: work(index, start), range(THREADS)))

    model = resources.model(VGG16, WEIGHTS, "cpu")
    assert builds == [vgg.Network.resolve("D").label], (
        "the shared model was built more than once (or not through the cache)")
    assert {outcome.model_id for outcome in concurrent} == {id(model)}
    parameters = {name: tensor.clone() for name, tensor in model.state_dict().items()}

    clear_analysis_caches()
    serial = [serial_work(index, model) for index in range(THREADS)]
    for index, (together, alone) in enumerate(zip(concurrent, serial, strict=True)):
        assert torch.equal(together.logits, alone.logits), f"thread {index}: logits differ from the serial run"
        for path in KEPT:
            assert torch.equal(together.kept[path], alone.kept[path]), f"thread {index}: {path} differs"
        assert together.report == alone.report, f"thread {index}: its analysis differs from the serial one"
        assert together.report.input_size == analysis_request(index)[1]
    distinct = {tuple(outcome.logits.flatten()[:5].tolist()) for outcome in concurrent}
    assert len(distinct) == THREADS, "two threads got the same logits: a result went to the wrong thread"

    # The shared model is as the cache made it: eval mode, no hooks, the same weights.
    assert not model.training
    assert not any(module._forward_hooks or module._forward_pre_hooks for module in model.modules())
    assert all(torch.equal(tensor, parameters[name]) for name, tensor in model.state_dict().items())
