"""The forward pass with every layer kept: equal to running the layers by hand, safe to share
between threads, never clobbered by in-place ReLU; devices; top-k predictions."""

from __future__ import annotations

import threading
import types
from pathlib import Path

import pytest
import torch
from torch import nn

import vgg
import vgg.vision.inference as inference
from vgg.vision.devices import LayerClock, clock_for, cpu_has_native_bf16

SMALL_BN = "16 16 M 32 32 M 64 M"  # conv, bn, relu and pools at a fraction of VGG16's memory
TABBY = 281
needs_no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the messages of a machine without CUDA")


def randomise_bn_statistics(model: nn.Module) -> None:
    """Fresh BN layers are the identity; give them statistics so a skipped or misplaced BN shows."""
    generator = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)


@pytest.fixture(scope="module")
def vgg16() -> vgg.VGG:
    torch.manual_seed(0)
    return vgg.prepare(vgg.vgg16(), "cpu")


@pytest.fixture(scope="module")
def small_bn() -> vgg.VGG:
    torch.manual_seed(0)
    model = vgg.build(SMALL_BN, batch_norm=True, num_classes=10)
    randomise_bn_statistics(model)
    return vgg.prepare(model, "cpu", channels_last=False)


def image_batch(seed: int, size: int = 64) -> torch.Tensor:
    return torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(seed))


def by_hand(model: vgg.VGG, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every module's output from slicing the Sequentials: ``features[:i + 1](x)`` and so on."""
    outputs: dict[str, torch.Tensor] = {}
    with torch.inference_mode():
        for i in range(len(model.features)):
            outputs[f"features.{i}"] = model.features[: i + 1](x.clone())
        pooled = model.avgpool(outputs[f"features.{len(model.features) - 1}"].clone())
        outputs["avgpool"] = pooled
        for i in range(len(model.classifier)):
            outputs[f"classifier.{i}"] = model.classifier[: i + 1](torch.flatten(pooled, 1))
    return outputs


# --- the pass ---------------------------------------------------------------------------------------

def test_every_layer_equals_slicing_the_sequentials_by_hand(small_bn):
    x = image_batch(0)
    result = vgg.forward_with_features(small_bn, x)
    expected = by_hand(small_bn, x)
    assert list(result.features) == [info.path for info in small_bn.layer_infos]
    for path, output in expected.items():
        assert torch.equal(result.features[path], output), path  # same memory format: bit for bit
    assert torch.equal(result.logits, expected["classifier.6"])


def test_vgg16_channels_last_fast_path_matches_the_plain_forward(vgg16):
    x = image_batch(1, size=96)
    result = vgg.forward_with_features(vgg16, x)
    expected = by_hand(vgg16, x)
    for path, output in expected.items():
        assert torch.allclose(result.features[path], output, rtol=1e-4, atol=1e-5), path
    with torch.inference_mode():
        plain = vgg16(x)
    assert (result.logits - plain).abs().max().item() < 1e-5
    assert result.features["features.0"].is_contiguous(memory_format=torch.channels_last)


def test_in_place_relu_does_not_clobber_the_conv_output_it_follows(vgg16):
    x = image_batch(2)
    for layers in (None, ["features.0"], ["conv1_1", "classifier.3"]):
        result = vgg.forward_with_features(vgg16, x, layers=layers)
        conv = result.features["features.0"]
        assert conv.min().item() < 0  # a pre-activation keeps its negatives
        with torch.inference_mode():
            assert torch.allclose(conv, vgg16.features[0](x), atol=1e-5)
        if "classifier.3" in result.features:  # fc7, followed by an in-place ReLU too
            assert result.features["classifier.3"].min().item() < 0
        if layers is None:
            assert result.features["features.1"].min().item() >= 0
            assert torch.equal(result.features["features.1"], conv.clamp_min(0))


def test_batch_norm_output_is_not_clobbered_by_the_relu_after_it(small_bn):
    result = vgg.forward_with_features(small_bn, image_batch(3))
    bn, relu = result.features["features.1"], result.features["features.2"]
    assert bn.min().item() < 0 and torch.equal(relu, bn.clamp_min(0))


def test_a_subset_keeps_only_those_layers_but_times_all(vgg16):
    result = vgg.forward_with_features(vgg16, image_batch(4), layers=["features.0", "relu5_3", "fc8"])
    assert set(result.features) == {"features.0", "features.29", "classifier.6"}
    assert list(result.times) == [info.path for info in vgg16.layer_infos]
    assert all(seconds >= 0 for seconds in result.times.values())
    assert result.total_seconds >= max(result.times.values())
    assert result.device == torch.device("cpu")
    assert result.logits.shape == (1, 1000) and result.logits.dtype == torch.float32


def test_unknown_layer_names_are_refused(vgg16):
    with pytest.raises(ValueError, match="conv9_9"):
        vgg.forward_with_features(vgg16, image_batch(0), layers=["conv9_9"])


def test_the_model_is_not_touched(small_bn):
    state = {k: v.clone() for k, v in small_bn.state_dict().items()}
    vgg.forward_with_features(small_bn, image_batch(5))
    assert not small_bn.training
    assert all(torch.equal(v, state[k]) for k, v in small_bn.state_dict().items())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in small_bn.modules())


def test_a_model_in_training_mode_is_refused_not_toggled():
    model = vgg.build(SMALL_BN, num_classes=10)
    with pytest.raises(ValueError, match="prepare"):
        vgg.forward_with_features(model, image_batch(0))
    assert model.training


def test_too_small_an_input_is_refused_in_words(small_bn):
    with pytest.raises(vgg.InputSizeError):
        vgg.forward_with_features(small_bn, image_batch(0, size=4))


def test_threads_sharing_one_model_get_the_serial_results(small_bn):
    inputs = [image_batch(seed) for seed in range(6)]
    serial = [vgg.forward_with_features(small_bn, x) for x in inputs]
    results: dict[int, vgg.ForwardResult] = {}
    barrier = threading.Barrier(len(inputs))

    def work(index: int) -> None:
        barrier.wait()  # all start together, so the passes overlap
        for _ in range(3):
            results[index] = vgg.forward_with_features(small_bn, inputs[index])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, expected in enumerate(serial):
        got = results[index]
        assert torch.equal(got.logits, expected.logits)
        assert all(torch.equal(got.features[p], expected.features[p]) for p in expected.features)


def test_vgg16_threads_agree_with_serial(vgg16):
    inputs = [image_batch(seed, size=48) for seed in range(3)]
    serial = [vgg.forward_with_features(vgg16, x, layers=["relu5_3"]) for x in inputs]
    results: list[vgg.ForwardResult | None] = [None] * len(inputs)

    def work(index: int) -> None:
        results[index] = vgg.forward_with_features(vgg16, inputs[index], layers=["relu5_3"])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for got, expected in zip(results, serial, strict=True):
        assert got is not None
        assert torch.allclose(got.logits, expected.logits, rtol=0, atol=1e-6)
        assert torch.allclose(got.features["features.29"], expected.features["features.29"], rtol=0, atol=1e-6)


# --- CUDA out of memory: the control flow, with the pass replaced ----------------------------------

def test_out_of_memory_on_cuda_retries_with_outputs_moved_to_the_cpu(monkeypatch):
    calls: list[bool] = []

    def fake_run(model, x, wanted, offload):
        calls.append(offload)
        if not offload:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return torch.zeros(1, 10), {}, {}

    monkeypatch.setattr(inference, "_run", fake_run)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    on_cuda = types.SimpleNamespace(device=torch.device("cuda"), shape=(1, 3, 64, 64))
    _, notes = inference._run_with_fallback(None, on_cuda, frozenset())
    assert calls == [False, True] and notes == (inference.OFFLOAD_NOTE,)


def test_out_of_memory_twice_is_a_device_error_in_words(monkeypatch):
    def always_out_of_memory(model, x, wanted, offload):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(inference, "_run", always_out_of_memory)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    on_cuda = types.SimpleNamespace(device=torch.device("cuda"), shape=(1, 3, 512, 512))
    with pytest.raises(vgg.DeviceError, match="512x512"):
        inference._run_with_fallback(None, on_cuda, frozenset())
    on_cpu = types.SimpleNamespace(device=torch.device("cpu"), shape=(1, 3, 64, 64))
    with pytest.raises(torch.cuda.OutOfMemoryError):  # not a CUDA pass: nothing to fall back to
        inference._run_with_fallback(None, on_cpu, frozenset())


# --- prepare and devices ----------------------------------------------------------------------------

def test_prepare_sets_eval_once_and_uses_channels_last():
    model = vgg.build(SMALL_BN, num_classes=10)
    assert model.training
    prepared = vgg.prepare(model, "cpu")
    assert prepared is model and not model.training
    assert model.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert not vgg.prepare(vgg.build(SMALL_BN), "cpu", channels_last=False).features[0].weight.is_contiguous(
        memory_format=torch.channels_last)


def test_cpu_is_always_selectable_and_listed():
    assert vgg.select_device("cpu") == torch.device("cpu")
    assert vgg.select_device(torch.device("cpu")) == torch.device("cpu")
    devices = vgg.available_devices()
    assert devices[-1][0] == "cpu" and devices[-1][1]
    assert vgg.select_device("auto") == torch.device(devices[0][0])
    assert isinstance(cpu_has_native_bf16(), bool)


@needs_no_cuda
def test_absent_devices_are_refused_in_words():
    with pytest.raises(vgg.DeviceError, match="CUDA was requested"):
        vgg.select_device("cuda")
    with pytest.raises(vgg.DeviceError, match="CUDA was requested"):
        vgg.prepare(vgg.build(SMALL_BN), "cuda:0")
    assert vgg.select_device("auto") == torch.device("cpu") or torch.backends.mps.is_available()
    if not torch.backends.mps.is_available():
        with pytest.raises(vgg.DeviceError, match="MPS"):
            vgg.select_device("mps")


def test_unknown_device_names_are_refused():
    with pytest.raises(vgg.DeviceError, match="Unknown device 'tpu'"):
        vgg.select_device("tpu")
    assert issubclass(vgg.DeviceError, ValueError)


def test_wall_clock_records_each_mark_in_order():
    clock = clock_for(torch.device("cpu"))
    assert type(clock) is LayerClock
    clock.start()
    clock.mark("a")
    clock.mark("b")
    assert list(clock.seconds()) == ["a", "b"] and min(clock.seconds().values()) >= 0


# --- predictions ------------------------------------------------------------------------------------

def tabby_checkpoint(folder: Path) -> Path:
    """A small network whose fc8 bias makes class 281 ("tabby") win whatever the image."""
    torch.manual_seed(0)
    model = vgg.build("16 M", num_classes=1000)
    with torch.no_grad():
        model.classifier[6].bias[TABBY] = 30.0
    path = folder / "tabby.pth"
    torch.save(model.state_dict(), path)
    return path


def test_crafted_checkpoint_predicts_tabby(tmp_path: Path):
    model = vgg.load_into(vgg.build("16 M"), vgg.load_state_dict(tabby_checkpoint(tmp_path)))
    vgg.prepare(model, "cpu")
    image = vgg.load_image(vgg.sample_images()["coffee"])
    result = vgg.forward_with_features(model, vgg.preprocess(image), layers=[])
    predictions = vgg.top_k(result.logits, k=3, weights_are_random=False)
    assert predictions.top[0].index == TABBY and predictions.top[0].label == "tabby"
    assert predictions.top[0].probability > 0.99
    assert len(predictions.top) == 3 and not predictions.random_weights and predictions.notice == ""
    assert predictions.top[0] == (TABBY, "tabby", predictions.top[0].probability)  # a plain tuple too


def test_random_weights_carry_the_notice():
    predictions = vgg.top_k(torch.randn(1000), weights_are_random=True)
    assert predictions.random_weights and "Random weights" in predictions.notice
    assert predictions.notice == vgg.RANDOM_WEIGHTS_NOTICE
    probabilities = [p.probability for p in predictions.top]
    assert probabilities == sorted(probabilities, reverse=True) and len(probabilities) == 5


def test_top_k_for_other_class_counts_and_bad_input():
    predictions = vgg.top_k(torch.tensor([[0.0, 3.0, 1.0]]), k=10, weights_are_random=False)
    assert [p.index for p in predictions.top] == [1, 2, 0] and predictions.top[0].label == "class 1"
    labelled = vgg.top_k(torch.tensor([0.0, 1.0]), k=1, weights_are_random=False, labels=["no", "yes"])
    assert labelled.top[0].label == "yes"
    with pytest.raises(ValueError, match="one image"):
        vgg.top_k(torch.zeros(2, 1000), weights_are_random=True)
    with pytest.raises(ValueError, match="at least 1"):
        vgg.top_k(torch.zeros(1000), k=0, weights_are_random=True)
