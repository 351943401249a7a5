"""Resource guards: refuse a network too large for this machine before any of its memory is allocated.

A custom spec may ask for 8192-channel layers: its fc6 alone would be 6 GiB of weights, and a
forward pass that keeps every feature map (as the app's does) gigabytes more. ``vgg.analyze``
estimates both on the meta device, where nothing is allocated; ``check_resources`` compares the
estimates with limits and raises ``ResourceError`` with the figures, so the caller never builds the
model. The limits come from the environment (megabytes, MiB), so whoever runs a shared server sets
them once for the machine:

    VGG_EXPLORER_MAX_WEIGHT_MB       parameters and buffers of one model (default 1024)
    VGG_EXPLORER_MAX_ACTIVATION_MB   every layer's output for one forward pass (default 4096)

Each default is capped at a quarter of the machine's physical memory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from vgg.analysis.report import Report
from vgg.errors import ResourceError
from vgg.format import mib

WEIGHT_ENV = "VGG_EXPLORER_MAX_WEIGHT_MB"
ACTIVATION_ENV = "VGG_EXPLORER_MAX_ACTIVATION_MB"
DEFAULT_MAX_WEIGHT_MB = 1024  # VGG19-BN's fp32 weights are 548 MiB; the app keeps two models cached
DEFAULT_MAX_ACTIVATION_MB = 4096  # VGG19-BN at 1024x1024, the app's largest input, keeps 3,674 MiB of outputs
_MIB = 2**20


@dataclass(frozen=True)
class ResourceLimits:
    max_weight_bytes: int
    max_activation_bytes: int


def resource_limits(environ: Mapping[str, str] | None = None) -> ResourceLimits:
    """The limits set in the environment, or the defaults capped for this machine."""
    environ = os.environ if environ is None else environ
    cap = _physical_memory_bytes() // 4
    return ResourceLimits(max_weight_bytes=_limit(environ, WEIGHT_ENV, DEFAULT_MAX_WEIGHT_MB, cap),
                          max_activation_bytes=_limit(environ, ACTIVATION_ENV, DEFAULT_MAX_ACTIVATION_MB, cap))


def _limit(environ: Mapping[str, str], name: str, default_mb: int, cap: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return min(default_mb * _MIB, cap)
    try:
        megabytes = float(text)
    except ValueError:
        megabytes = -1.0
    if not megabytes > 0:  # also refuses nan
        raise ResourceError(f"{name}={text!r} is not a positive number of megabytes (MiB); fix or unset it.")
    return int(megabytes * _MIB)  # set by hand: trusted, even above the cap


def _physical_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf: no cap
        return 2**62


def check_resources(report: Report, *, keep_features: bool = True, max_weight_bytes: int | None = None,
                    max_activation_bytes: int | None = None) -> None:
    """Raise ResourceError if the model of ``report`` needs more weight memory, or a forward pass at
    ``report.input_size`` more activation memory, than the limits (by default ``resource_limits()``).

    A pass that keeps every layer's output (``keep_features``, as the app's does) holds their sum; one
    that keeps only the logits holds about the largest input + output of a single layer.
    """
    limits = resource_limits()
    weight_limit = limits.max_weight_bytes if max_weight_bytes is None else max_weight_bytes
    activation_limit = limits.max_activation_bytes if max_activation_bytes is None else max_activation_bytes
    totals = report.totals
    weights = totals.weight_bytes + totals.buffer_bytes
    activations = totals.activation_bytes if keep_features else totals.peak_activation_bytes
    name = _name(report)
    if weights > weight_limit:
        raise ResourceError(
            f"{name} needs an estimated {_mib(weights)} for its weights ({totals.params:,} parameters in "
            f"{report.dtype}), more than the limit of {_mib(weight_limit)} (set with {WEIGHT_ENV}), so it was "
            "not built. Use fewer or narrower layers (VGG19 needs 548 MiB): a conv's weights grow with its input "
            "width times its output width, fc6's with the last conv's width.")
    if activations > activation_limit:
        height, width = report.input_size
        raise ResourceError(
            f"{name}, on a {height}x{width} input, needs an estimated {_mib(activations)} for its feature maps in "
            f"a forward pass, more than the limit of {_mib(activation_limit)} (set with {ACTIVATION_ENV}), so it "
            "was not run. Use a smaller input size, or fewer or narrower layers before the first pools.")


def _name(report: Report) -> str:
    named = report.network.config
    label = f"VGG config {named}" if named else "This custom network"
    return label + (" with batch norm" if report.batch_norm else "")


def _mib(value: int) -> str:
    return mib(value, digits=0)
