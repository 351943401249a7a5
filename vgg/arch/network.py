"""``Network``: one frozen, hashable value for "which network", used by builders, analysis, comparison,
the command line and the app's cache keys, so that no function takes ``(spec, batch_norm)`` loose.

A torchvision name means what it says: ``Network.resolve("vgg16_bn")`` has batch norm, and asking for
``vgg16_bn`` without it is a ``SpecError`` naming the contradiction, not a quiet VGG16.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vgg.arch.configs import BUILDER_OF, CONFIGS, DEPTH_NAMES, VARIANTS, find_named_config, resolve_config
from vgg.arch.spec import VGGSpec
from vgg.errors import SpecError

NUM_CLASSES = 1000  # ImageNet-1k, what torchvision's weights predict
HIDDEN_FEATURES = 4096  # fc6 and fc7 widths in the paper
POOLED_SIZE = 7  # AdaptiveAvgPool2d((7, 7)): fc6 sees C x 7 x 7 whatever the input size

ConfigLike = str | Sequence[int | str] | VGGSpec
_FIELDS = ("num_classes", "hidden_features", "pooled_size")


@dataclass(frozen=True)
class Network:
    """Which VGG: its feature spec, batch norm, and the head's sizes (a mini VGG shrinks the last two)."""

    spec: VGGSpec
    batch_norm: bool = False
    num_classes: int = NUM_CLASSES
    hidden_features: int = HIDDEN_FEATURES
    pooled_size: int = POOLED_SIZE

    def __post_init__(self) -> None:
        if not isinstance(self.spec, VGGSpec):
            raise SpecError(f"Network.spec must be a VGGSpec, got {type(self.spec).__name__}; "
                            "use Network.resolve('D') to make one from a name or a spec.")
        if not isinstance(self.batch_norm, bool):
            raise SpecError(f"batch_norm must be True or False, got {self.batch_norm!r}.")
        for field in _FIELDS:
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpecError(f"{field} must be a positive integer, got {value!r}.")

    @classmethod
    def resolve(cls, config: Network | ConfigLike, *, batch_norm: bool | None = None, **fields: Any) -> Network:
        """A Network from a letter ("D", "A-LRN"), a torchvision name ("vgg16_bn"), spec text ("64 M 128 M"),
        torchvision's list, a ``VGGSpec`` or a ``Network``; ``batch_norm`` and ``fields``
        (``num_classes``, ``hidden_features``, ``pooled_size``) override what it says, except that a
        torchvision name fixes batch norm: ``resolve("vgg16_bn", batch_norm=False)`` raises SpecError."""
        unknown = sorted(set(fields) - set(_FIELDS))
        if unknown:
            raise TypeError(f"Network.resolve() got unexpected fields {', '.join(unknown)}; "
                            f"it takes batch_norm, {', '.join(_FIELDS)}.")
        given = {key: value for key, value in fields.items() if value is not None}
        if isinstance(config, Network):
            changes = dict(given, **({} if batch_norm is None else {"batch_norm": bool(batch_norm)}))
            return dataclasses.replace(config, **changes) if changes else config
        named_bn = _builder_batch_norm(config)
        if named_bn is not None and batch_norm is not None and bool(batch_norm) != named_bn:
            name = config.strip()  # type: ignore[union-attr]  # a builder name is text
            has = "has" if named_bn else "has no"
            other = BUILDER_OF[(VARIANTS[name.lower()][0], not named_bn)]
            raise SpecError(f"{name!r} {has} batch norm by its name, but batch_norm={bool(batch_norm)} was asked "
                            f"for: use {other!r} for the network with{'out' if named_bn else ''} it, "
                            "or leave batch_norm unset.")
        bn = named_bn if named_bn is not None else bool(batch_norm)
        return cls(canonical_spec(resolve_config(config)), bn, **given)

    @property
    def config(self) -> str | None:
        """The paper's letter ("D", "A-LRN") when the spec is one of Table 1's, else None."""
        return find_named_config(self.spec)

    @property
    def variant(self) -> str | None:
        """torchvision's builder name ("vgg16_bn") for its eight networks with an ImageNet head, else None."""
        if (self.num_classes, self.hidden_features, self.pooled_size) != (NUM_CLASSES, HIDDEN_FEATURES,
                                                                           POOLED_SIZE):
            return None
        return BUILDER_OF.get((self.config, self.batch_norm)) if self.config else None

    @property
    def label(self) -> str:
        """A readable name: "VGG16-BN (D)", "VGG11-LRN (A-LRN)", "custom", "custom-BN"."""
        bn = "-BN" if self.batch_norm else ""
        letter = self.config
        return f"{DEPTH_NAMES[letter]}{bn} ({letter})" if letter else f"custom{bn}"

    @property
    def head(self) -> tuple[int, int, int]:
        """(num_classes, hidden_features, pooled_size): what the classifier is made of."""
        return self.num_classes, self.hidden_features, self.pooled_size

    @property
    def fc6_in_features(self) -> int:
        """The last conv's width times the pooled area: 512 * 7 * 7 = 25,088 for A..E."""
        return self.spec.out_channels * self.pooled_size * self.pooled_size

    def with_batch_norm(self, batch_norm: bool) -> Network:
        return dataclasses.replace(self, batch_norm=bool(batch_norm))


NetworkLike = Network | ConfigLike  # what every entry point accepts for "which network"


def canonical_spec(spec: VGGSpec) -> VGGSpec:
    """A spec whose layers are a named config's becomes that config, so "64 64 M ..." and "D" are one key."""
    named = find_named_config(spec)
    return CONFIGS[named] if named else spec


def _builder_batch_norm(config: object) -> bool | None:
    """True for "vgg16_bn", False for "vgg16", None for anything that is not a torchvision builder name."""
    if not isinstance(config, str):
        return None
    variant = VARIANTS.get(config.strip().lower())
    return None if variant is None else variant[1]


def variant_name(network: Network | ConfigLike, *, batch_norm: bool | None = None) -> str | None:
    """torchvision's builder name ("vgg16_bn") of a Network (or anything ``Network.resolve`` accepts),
    or None for the networks torchvision lacks."""
    return Network.resolve(network, batch_norm=batch_norm).variant
