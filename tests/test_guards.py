"""Resource guards: a network too large for the limits is refused from its meta-device estimates, with the
figures in the message, before anything is allocated; every named config fits the defaults."""

from __future__ import annotations

import pytest

import vgg
import vgg.cli.predict
from vgg.analysis.guards import (
    ACTIVATION_ENV,
    DEFAULT_MAX_ACTIVATION_MB,
    DEFAULT_MAX_WEIGHT_MB,
    WEIGHT_ENV,
    check_resources,
    resource_limits,
)
from vgg.arch.configs import CONFIGS
from vgg.cli import main

MIB = 2**20
DEFAULTS = {"max_weight_bytes": DEFAULT_MAX_WEIGHT_MB * MIB, "max_activation_bytes": DEFAULT_MAX_ACTIVATION_MB * MIB}
WIDE_HEAD = "8192 M"  # fc6 alone: 8192 x 7 x 7 x 4096 weights
WIDE_START = "1024 " * 12 + "M 64 M"  # 527 MiB of weights, but 24 feature maps of 1024 x 224 x 224


def refusal(spec: str, **limits: int) -> str:
    with pytest.raises(vgg.ResourceError) as caught:
        check_resources(vgg.analyze(spec), **limits)
    assert isinstance(caught.value, ValueError)  # the app and the CLI show ValueErrors as messages
    return str(caught.value)


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("batch_norm", [False, True])
def test_every_named_config_fits_the_defaults_up_to_the_apps_largest_input(config, batch_norm):
    for size in (224, 1024):
        check_resources(vgg.analyze(config, batch_norm=batch_norm, input_size=(size, size)), **DEFAULTS)


def test_too_many_weights_are_refused_with_the_estimate():
    message = refusal(WIDE_HEAD, **DEFAULTS)
    assert "custom network needs an estimated 6,353 MiB for its weights" in message
    assert "1,665,278,952 parameters in float32" in message
    assert "limit of 1,024 MiB" in message and WEIGHT_ENV in message


def test_too_many_activations_are_refused_with_the_estimate_and_the_input_size():
    message = refusal(WIDE_START, **DEFAULTS)
    assert "on a 224x224 input, needs an estimated 4,760 MiB for its feature maps" in message
    assert "limit of 4,096 MiB" in message and ACTIVATION_ENV in message


def test_a_pass_that_keeps_only_the_logits_is_judged_by_its_peak():
    report = vgg.analyze(WIDE_START)
    check_resources(report, keep_features=False, **DEFAULTS)  # the peak is one layer's input and output
    with pytest.raises(vgg.ResourceError, match="needs an estimated 392 MiB"):
        check_resources(report, keep_features=False, max_weight_bytes=DEFAULTS["max_weight_bytes"],
                        max_activation_bytes=300 * MIB)


def test_named_configs_are_named_in_the_message():
    with pytest.raises(vgg.ResourceError, match="VGG config E with batch norm needs an estimated 548 MiB"):
        check_resources(vgg.analyze("E", batch_norm=True), max_weight_bytes=100 * MIB)


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(WEIGHT_ENV, "100")
    monkeypatch.setenv(ACTIVATION_ENV, "2.5")
    assert resource_limits() == vgg.ResourceLimits(100 * MIB, int(2.5 * MIB))
    assert "limit of 100 MiB" in refusal("D")


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan"])
def test_a_bad_limit_in_the_environment_names_the_variable(monkeypatch, value):
    monkeypatch.setenv(WEIGHT_ENV, value)
    with pytest.raises(ValueError, match=f"{WEIGHT_ENV}='{value}' is not a positive number of megabytes"):
        resource_limits()


def test_defaults_are_capped_at_a_quarter_of_physical_memory(monkeypatch):
    monkeypatch.setattr("vgg.analysis.guards._physical_memory_bytes", lambda: 2 * 2**30)  # a 2 GiB machine
    assert resource_limits({}) == vgg.ResourceLimits(512 * MIB, 512 * MIB)
    monkeypatch.setattr("vgg.analysis.guards._physical_memory_bytes", lambda: 64 * 2**30)
    assert resource_limits({}) == vgg.ResourceLimits(**DEFAULTS)


def test_the_cli_refuses_before_building(monkeypatch, capsys):
    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was built before its size was checked")

    monkeypatch.setattr(vgg.cli.predict, "build", no_build)
    monkeypatch.delenv(WEIGHT_ENV, raising=False)
    status = main(["predict", "cat", "--config", WIDE_HEAD])
    error = capsys.readouterr().err
    assert status == 2 and error.startswith("error: This custom network needs an estimated 6,353 MiB")
