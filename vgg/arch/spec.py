"""Typed, frozen layer specs for VGG's feature extractor, and the parser for user-written specs.

torchvision describes a VGG as a list like ``[64, "M", 128, "M"]``. Inside this project that
becomes a tuple of typed layers (``Conv``, ``MaxPool``, ``LRN``), so code never compares
strings against "M" and the paper's extra layer kinds (1x1 convs in C, LRN in A-LRN) have a home.

Text grammar (tokens separated by spaces and/or commas, case-insensitive):
    64          3x3 convolution with 64 output channels (also ``conv3-64``, the paper's notation)
    conv1-256   1x1 convolution with 256 output channels (configuration C)
    M           2x2 max pool, stride 2 (also ``pool`` or ``maxpool``)
    LRN         local response normalisation, AlexNet's constants (configuration A-LRN)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vgg.errors import SpecError

MAX_WIDTH = 8192  # wider than any published VGG by 16x; beyond it is a typo, not a design
REFERENCE_INPUT = 224  # specs are validated against the paper's training crop
MAX_SPEC_CHARS = 10_000  # a spec longer than this is pasted garbage, not a network
MAX_LAYERS = 256  # VGG19's spec has 21; 5,000 layers (what 10,000 characters allow) take seconds per view to analyse


@dataclass(frozen=True)
class Conv:
    """A convolution with 'same' padding, followed by (BatchNorm and) ReLU."""

    out_channels: int
    kernel_size: int = 3

    @property
    def padding(self) -> int:
        return self.kernel_size // 2

    def to_token(self) -> str:
        return str(self.out_channels) if self.kernel_size == 3 else f"conv{self.kernel_size}-{self.out_channels}"


@dataclass(frozen=True)
class MaxPool:
    """The 2x2, stride-2 max pool that ends every VGG stage."""

    kernel_size: int = 2
    stride: int = 2

    def to_token(self) -> str:
        return "M"


@dataclass(frozen=True)
class LRN:
    """Local response normalisation with AlexNet's constants, as the paper's A-LRN uses."""

    size: int = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 2.0

    def to_token(self) -> str:
        return "LRN"


LayerSpec = Conv | MaxPool | LRN


@dataclass(frozen=True)
class VGGSpec:
    """A whole feature extractor: the ordered layers, and the name of the config if it has one."""

    layers: tuple[LayerSpec, ...]
    name: str | None = None

    @property
    def convs(self) -> tuple[Conv, ...]:
        return tuple(layer for layer in self.layers if isinstance(layer, Conv))

    @property
    def num_pools(self) -> int:
        return sum(isinstance(layer, MaxPool) for layer in self.layers)

    @property
    def weight_layers(self) -> int:
        """The paper's depth: conv layers plus the three fully connected ones (VGG16 has 16)."""
        return len(self.convs) + 3

    @property
    def out_channels(self) -> int:
        return self.convs[-1].out_channels

    @property
    def min_input_size(self) -> int:
        """Smallest input side that survives every pool with at least one pixel (32 for D)."""
        return 2**self.num_pools

    @property
    def label(self) -> str:
        return self.name if self.name else "custom"

    def to_text(self) -> str:
        return " ".join(layer.to_token() for layer in self.layers)

    def to_list(self) -> list[int | str]:
        """torchvision's list format; 1x1 convs and LRN keep their text tokens."""
        return [layer.out_channels if isinstance(layer, Conv) and layer.kernel_size == 3 else layer.to_token()
                for layer in self.layers]


_CONV_TOKEN = re.compile(r"^conv(\d+)-(-?\d+)$")
_INT_TOKEN = re.compile(r"^[+-]?\d+$")
_POOL_TOKENS = {"m", "pool", "maxpool"}
_ALLOWED_KERNELS = (1, 3)
_MAX_DIGITS_SHOWN = 18  # a longer width is described by its length, not printed


def parse_spec(spec: str | Sequence[int | str] | VGGSpec) -> VGGSpec:
    """Parse text (``"64 M 128 M"``) or torchvision's list (``[64, "M"]``) into a validated spec.

    Raises ``SpecError`` (a ``ValueError``) naming the bad token and its 1-based position.
    """
    if isinstance(spec, VGGSpec):
        return spec
    tokens = _tokenize(spec)
    layers = tuple(_parse_token(token, position) for position, token in enumerate(tokens, start=1))
    result = VGGSpec(layers=layers)
    _validate(result, tokens)
    return result


def _tokenize(spec: str | Sequence[int | str]) -> list[str]:
    if isinstance(spec, str):
        if len(spec) > MAX_SPEC_CHARS:
            raise SpecError(f"The spec is {len(spec):,} characters long; the limit is {MAX_SPEC_CHARS:,}. "
                            "Write one token per layer, like '64 M 128 M'.")
        tokens = [token for token in re.split(r"[\s,;]+", spec.strip()) if token]
    elif isinstance(spec, Iterable) and not isinstance(spec, bytes | bytearray):
        tokens = [_list_item_to_token(item, position) for position, item in enumerate(spec, start=1)]
    else:
        raise SpecError(f"A spec must be text like '64 M 128 M' or a list like [64, 'M'], not {type(spec).__name__}.")
    if not tokens:
        raise SpecError("The spec is empty. Write the layers, e.g. '64 M 128 M 256 256 M' "
                        "(a number is a 3x3 conv, M a pool).")
    if len(tokens) > MAX_LAYERS:
        raise SpecError(f"The spec has {len(tokens):,} layers; the limit is {MAX_LAYERS} (VGG19's has 21). "
                        "Write one token per layer, like '64 M 128 M'.")
    return tokens


def _list_item_to_token(item: object, position: int) -> str:
    if isinstance(item, bool) or not isinstance(item, int | str):
        raise SpecError(f"Token {position} ({_shorten(repr(item))}) is not a layer: list items are channel counts "
                        "(int) or 'M'.")
    if isinstance(item, int) and item.bit_length() > 64:  # refused here: str() of an int over 4,300 digits raises
        if item < 0:
            raise SpecError(_not_positive(position, "a negative number"))
        raise SpecError(_too_wide(position, "a number", f"a {item.bit_length():,}-bit channel count"))
    return str(item).strip()


def _parse_token(token: str, position: int) -> LayerSpec:
    lowered = token.lower()
    if lowered in _POOL_TOKENS:
        return MaxPool()
    if lowered == "lrn":
        return LRN()
    if _INT_TOKEN.match(lowered):
        return Conv(_check_width(lowered, token, position))
    match = _CONV_TOKEN.match(lowered)
    if match:
        kernel = int(match.group(1))
        if kernel not in _ALLOWED_KERNELS:
            raise SpecError(f"Token {position} ({token!r}): kernel size {kernel} is not a VGG conv; "
                            "use conv3-N or conv1-N.")
        return Conv(_check_width(match.group(2), token, position), kernel_size=kernel)
    raise SpecError(f"Token {position} ({_shorten(token)!r}) is not a layer. Use a channel count like 64, "
                    "conv1-256 for a 1x1 conv, M for a max pool, or LRN.")


def _check_width(digits: str, token: str, position: int) -> int:
    """The width written as ``digits`` (an optionally signed integer), checked as text before ``int()``:
    ``int()`` refuses more than 4,300 digits with its own message about ``sys.set_int_max_str_digits``."""
    magnitude = digits.lstrip("+-").lstrip("0")
    if not magnitude or digits.startswith("-"):
        raise SpecError(_not_positive(position, repr(_shorten(token))))
    if len(magnitude) > _MAX_DIGITS_SHOWN:
        raise SpecError(_too_wide(position, repr(_shorten(token)), f"a {len(magnitude):,}-digit channel count"))
    width = int(magnitude)
    if width > MAX_WIDTH:
        raise SpecError(_too_wide(position, repr(token), f"{width:,} channels"))
    return width


def _not_positive(position: int, shown: str) -> str:
    return f"Token {position} ({shown}): a conv needs a positive number of channels."


def _too_wide(position: int, shown: str, amount: str) -> str:
    return f"Token {position} ({shown}): {amount} is more than the limit of {MAX_WIDTH:,}; VGG's widest layer has 512."


def _validate(spec: VGGSpec, tokens: list[str]) -> None:
    if not spec.convs:
        raise SpecError("The spec has no convolution; add at least one channel count, e.g. '64 M'.")
    side = REFERENCE_INPUT
    for position, (layer, token) in enumerate(zip(spec.layers, tokens, strict=True), start=1):
        if isinstance(layer, MaxPool):
            side //= layer.stride
            if side < 1:
                raise SpecError(f"Token {position} ({token!r}) is one pool too many: {spec.num_pools} pools "
                                f"shrink a {REFERENCE_INPUT}x{REFERENCE_INPUT} input below 1 px "
                                f"(at most {REFERENCE_INPUT.bit_length() - 1} fit).")


def _shorten(token: str, limit: int = 24) -> str:
    return token if len(token) <= limit else token[:limit] + "..."
