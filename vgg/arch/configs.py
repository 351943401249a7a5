"""The paper's six configurations (Table 1), torchvision's ``cfgs``, and the one function that turns any
config into a spec."""

from __future__ import annotations

from collections.abc import Sequence

from vgg.arch.spec import LRN, Conv, LayerSpec, MaxPool, VGGSpec, parse_spec
from vgg.errors import SpecError

# torchvision's ``cfgs``, exactly as in its models/vgg.py: a channel count is a 3x3 conv, "M" a max pool.
cfgs: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}

_M = MaxPool()


def _stage(*widths: int | Conv) -> tuple[LayerSpec, ...]:
    """One stage: its convs (ints are 3x3) and the pool that closes it."""
    return tuple(w if isinstance(w, Conv) else Conv(w) for w in widths) + (_M,)


_ONE_BY_ONE_256 = Conv(256, kernel_size=1)
_ONE_BY_ONE_512 = Conv(512, kernel_size=1)

# Table 1 of Simonyan & Zisserman (2014); A, B, D, E are torchvision's "A", "B", "D", "E".
CONFIGS: dict[str, VGGSpec] = {
    "A": VGGSpec(_stage(64) + _stage(128) + _stage(256, 256) + _stage(512, 512) + _stage(512, 512), "A"),
    "A-LRN": VGGSpec((Conv(64), LRN(), _M) + _stage(128) + _stage(256, 256) + _stage(512, 512)
                     + _stage(512, 512), "A-LRN"),
    "B": VGGSpec(_stage(64, 64) + _stage(128, 128) + _stage(256, 256) + _stage(512, 512) + _stage(512, 512), "B"),
    "C": VGGSpec(_stage(64, 64) + _stage(128, 128) + _stage(256, 256, _ONE_BY_ONE_256)
                 + _stage(512, 512, _ONE_BY_ONE_512) + _stage(512, 512, _ONE_BY_ONE_512), "C"),
    "D": VGGSpec(_stage(64, 64) + _stage(128, 128) + _stage(256, 256, 256) + _stage(512, 512, 512)
                 + _stage(512, 512, 512), "D"),
    "E": VGGSpec(_stage(64, 64) + _stage(128, 128) + _stage(256, 256, 256, 256) + _stage(512, 512, 512, 512)
                 + _stage(512, 512, 512, 512), "E"),
}

# torchvision's builder names, each a (config, batch_norm) pair.
VARIANTS: dict[str, tuple[str, bool]] = {
    "vgg11": ("A", False), "vgg11_bn": ("A", True),
    "vgg13": ("B", False), "vgg13_bn": ("B", True),
    "vgg16": ("D", False), "vgg16_bn": ("D", True),
    "vgg19": ("E", False), "vgg19_bn": ("E", True),
}

# The builder of each torchvision config, and the name of a network by its depth ("VGG16").
BUILDER_OF: dict[tuple[str, bool], str] = {value: name for name, value in VARIANTS.items()}
DEPTH_NAMES: dict[str, str] = {"A": "VGG11", "A-LRN": "VGG11-LRN", "B": "VGG13", "C": "VGG16-C", "D": "VGG16",
                               "E": "VGG19"}

# Depth in the paper's sense (weight layers), for labels like "VGG16 (D)".
CONFIG_TITLES: dict[str, str] = {
    "A": "VGG11 (A)", "A-LRN": "VGG11-LRN (A-LRN)", "B": "VGG13 (B)",
    "C": "VGG16-C (C, 1x1 convs)", "D": "VGG16 (D)", "E": "VGG19 (E)",
}


def resolve_config(config: str | Sequence[int | str] | VGGSpec) -> VGGSpec:
    """A named config ("D", "a-lrn"), a builder name ("vgg16"), text, a list, or a spec -> a spec."""
    if isinstance(config, VGGSpec):
        return config
    if isinstance(config, str):
        key = config.strip().upper()
        if key in CONFIGS:
            return CONFIGS[key]
        if config.strip().lower().removesuffix("_bn") in VARIANTS:
            return CONFIGS[VARIANTS[config.strip().lower().removesuffix("_bn")][0]]
        if _looks_like_a_name(config):
            names = ", ".join(CONFIGS)
            raise SpecError(f"Unknown configuration {config.strip()!r}. Use one of {names}, "
                            "a torchvision name like vgg16, or a spec like '64 M 128 M'.")
    return parse_spec(config)


def _looks_like_a_name(text: str) -> bool:
    """One word without digits that is no spec token: 'Z' is an unknown name, but '', 'M M' and 'LRN' are
    specs, whose own errors ("empty", "no convolution") say more than "unknown configuration"."""
    word = text.strip()
    return (bool(word) and not any(ch.isdigit() or ch in " \t\n,;" for ch in word)
            and word.lower() not in ("m", "pool", "maxpool", "lrn"))


def find_named_config(spec: VGGSpec) -> str | None:
    """The paper's name of a spec whose layers equal a named config (a custom spec may be D again)."""
    for name, named in CONFIGS.items():
        if named.layers == spec.layers:
            return name
    return None
