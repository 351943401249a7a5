"""What the user asked for, as small frozen values, and their round trip through the URL.

No Streamlit here: the sidebar turns widgets into an ``AppState``; views receive it; the URL's
query parameters are ``to_query(state)`` so that a shared link reproduces the view. Parsing a URL
never fails: a bad value falls back to its default and is reported in ``ParsedQuery.problems``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import vgg
from vgg.arch import CONFIGS

CUSTOM = "custom"
CONFIG_CHOICES: tuple[str, ...] = (*CONFIGS, CUSTOM)
WEIGHT_CHOICES: tuple[str, ...] = ("random", "imagenet", "file", "trained")  # trained: in the Train view
PRECISION_CHOICES: tuple[str, ...] = ("fp32", "bf16")  # exact, and fast where the hardware has native bf16
DEFAULT_CUSTOM_SPEC = "32 M 64 M 128 128 M 256 conv1-256 M"
MIN_SIZE, MAX_SIZE = vgg.arch.MIN_INPUT_SIZE, 1024  # beyond 1024 px the activations of conv1 pass 1 GB


@dataclass(frozen=True)
class ModelChoice:
    """Everything that defines a network's structure: a config name (or custom spec text) and BN."""

    config: str = "D"
    batch_norm: bool = False
    spec_text: str = DEFAULT_CUSTOM_SPEC  # used when config == CUSTOM

    @property
    def spec_source(self) -> str:
        """What vgg.resolve_config takes: the name, or the custom text."""
        return self.spec_text if self.config == CUSTOM else self.config

    def canonical(self) -> ModelChoice:
        """The same network with nothing that does not define it: a named config ignores the custom text,
        so caches keyed on the choice build "D" once, whatever was last typed in the spec box."""
        return self if self.config == CUSTOM else replace(self, spec_text="")

    @property
    def network(self) -> vgg.Network:
        """The network this choice names (raises vgg.SpecError for a custom spec that is not one)."""
        return vgg.Network.resolve(self.spec_source, batch_norm=self.batch_norm)

    @property
    def title(self) -> str:
        name = vgg.arch.CONFIG_TITLES.get(self.config, "Custom VGG")
        return f"{name}{' + BN' if self.batch_norm else ''}"


@dataclass(frozen=True)
class AppState:
    """The whole sidebar plus the Compare view's two choices."""

    model: ModelChoice = field(default_factory=ModelChoice)
    input_size: tuple[int, int] = (224, 224)
    weights: str = "random"  # one of WEIGHT_CHOICES
    seed: int = 0
    weights_path: str = ""  # a server-side path, when weights == "file" and nothing was uploaded
    device: str = "auto"
    trained_model: int | None = None  # a model trained in this server's Train view (weights == "trained")
    precision: str = "fp32"  # one of PRECISION_CHOICES; bf16 only where native (the sidebar checks)
    compare_a: ModelChoice = field(default_factory=lambda: ModelChoice("A"))
    compare_b: ModelChoice | None = None  # None: Compare's B is the sidebar's network, until chosen in Compare
    projector: bool = False

    @property
    def compare_b_or_model(self) -> ModelChoice:
        """Compare's B: chosen there, or else the sidebar's network (``?config=E&bn=true`` shows A vs E + BN)."""
        return self.model if self.compare_b is None else self.compare_b


@dataclass(frozen=True)
class ParsedQuery:
    state: AppState
    problems: tuple[str, ...] = ()


_SIZE = re.compile(r"^\s*(\d{1,5})\s*(?:[x,]\s*(\d{1,5}))?\s*$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_size(text: str) -> tuple[int, int]:
    """'224' or '224x320' -> (H, W), within [32, 1024]; ValueError with the allowed range otherwise."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"Input size {text!r} is not a size: write 224 or 224x320 (height x width).")
    height = int(match.group(1))
    width = int(match.group(2) or height)
    for side in (height, width):
        if not MIN_SIZE <= side <= MAX_SIZE:
            raise ValueError(f"Input size {height}x{width} is out of range: "
                             f"each side must be {MIN_SIZE} to {MAX_SIZE}.")
    return height, width


def format_size(size: tuple[int, int]) -> str:
    return str(size[0]) if size[0] == size[1] else f"{size[0]}x{size[1]}"


def _parse_bool(text: str, name: str, problems: list[str], default: bool = False) -> bool | None:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    problems.append(f"URL parameter {name}={text!r} is not true/false; using {str(default).lower()}.")
    return None


def _parse_choice(query: Mapping[str, str], prefix: str, default: ModelChoice, problems: list[str]) -> ModelChoice:
    choice = default
    config = query.get(f"{prefix}config")
    named_bn = None
    if config is not None:
        canonical = {name.upper(): name for name in CONFIG_CHOICES}.get(config.strip().upper())
        variant = vgg.VARIANTS.get(config.strip().lower())  # a torchvision name: vgg16_bn is D with batch norm
        if variant is not None:
            canonical, named_bn = variant
            choice = replace(choice, batch_norm=named_bn)
        if canonical is None:
            problems.append(f"URL parameter {prefix}config={config!r} is not one of {', '.join(CONFIG_CHOICES)}; "
                            f"using {default.config}.")
        else:
            choice = replace(choice, config=canonical)
    spec = query.get(f"{prefix}spec")
    if spec is not None:
        choice = replace(choice, spec_text=spec[: vgg.arch.MAX_SPEC_CHARS])
    bn = query.get(f"{prefix}bn")
    if bn is not None and (value := _parse_bool(bn, f"{prefix}bn", problems, default.batch_norm)) is not None:
        if named_bn is not None and value != named_bn:
            problems.append(f"URL parameter {prefix}bn={bn!r} contradicts {prefix}config={config!r}, which "
                            f"{'has' if named_bn else 'has no'} batch norm by its name; kept the name's.")
        else:
            choice = replace(choice, batch_norm=value)
    return choice


def _one_of(query: Mapping[str, str], key: str, choices: tuple[str, ...], default: str, problems: list[str]) -> str:
    """``query[key]`` if it is one of ``choices``; the default otherwise (a bad value is reported)."""
    value = query.get(key, default)
    if value in choices:
        return value
    problems.append(f"URL parameter {key}={value!r} is not one of {', '.join(choices)}; using {default}.")
    return default


def from_query(query: Mapping[str, str]) -> ParsedQuery:
    """URL query parameters -> state; unknown keys are ignored, bad values reported and defaulted."""
    problems: list[str] = []
    defaults = AppState()
    model = _parse_choice(query, "", defaults.model, problems)
    chose_b = any(f"b_{key}" in query for key in ("config", "spec", "bn"))  # else B follows the sidebar
    state = replace(defaults, model=model, compare_a=_parse_choice(query, "a_", defaults.compare_a, problems),
                    compare_b=_parse_choice(query, "b_", replace(model, spec_text=defaults.model.spec_text), problems)
                    if chose_b else None)
    if "size" in query:
        try:
            state = replace(state, input_size=parse_size(query["size"]))
        except ValueError as error:
            problems.append(f"URL parameter size: {error} Using 224.")
    state = replace(state, weights=_one_of(query, "weights", WEIGHT_CHOICES, defaults.weights, problems))
    if "seed" in query:
        if query["seed"].strip().isdigit():
            state = replace(state, seed=int(query["seed"]) % 2**32)
            if state.seed != int(query["seed"]):  # torch's seeds are 32-bit: say which one is used
                problems.append(f"URL parameter seed={query['seed']!r} is larger than 4,294,967,295; using "
                                f"{state.seed} (the value modulo 2**32).")
        else:
            problems.append(f"URL parameter seed={query['seed']!r} is not a non-negative integer; using "
                            f"{defaults.seed}.")
    state = replace(state, weights_path=query.get("weights_path", ""), device=query.get("device", "auto") or "auto")
    state = replace(state, precision=_one_of(query, "precision", PRECISION_CHOICES, defaults.precision, problems))
    if "projector" in query and (value := _parse_bool(query["projector"], "projector", problems,
                                                      defaults.projector)) is not None:
        state = replace(state, projector=value)
    return ParsedQuery(state, tuple(problems))


def _choice_to_query(choice: ModelChoice, default: ModelChoice, prefix: str) -> dict[str, str]:
    query: dict[str, str] = {}
    if choice.config != default.config:
        query[f"{prefix}config"] = choice.config
    if choice.config == CUSTOM:
        query[f"{prefix}spec"] = choice.spec_text
    if choice.batch_norm != default.batch_norm:
        query[f"{prefix}bn"] = "true" if choice.batch_norm else "false"
    return query


def to_query(state: AppState) -> dict[str, str]:
    """State -> query parameters, leaving out defaults so links stay short."""
    defaults = AppState()
    query = _choice_to_query(state.model, defaults.model, "")
    query |= _choice_to_query(state.compare_a, defaults.compare_a, "a_")
    if state.compare_b is not None:  # chosen in Compare: all of it, since a link's b_* override the sidebar's
        query |= {"b_config": state.compare_b.config, "b_bn": "true" if state.compare_b.batch_norm else "false"}
        if state.compare_b.config == CUSTOM:
            query["b_spec"] = state.compare_b.spec_text
    scalars = {
        "size": (format_size(state.input_size), format_size(defaults.input_size)),
        "weights": (state.weights, defaults.weights),
        "seed": (str(state.seed), str(defaults.seed)),
        "weights_path": (state.weights_path, defaults.weights_path),
        "device": (state.device, defaults.device),
        "precision": (state.precision, defaults.precision),
        "projector": ("true" if state.projector else "false", "false"),
    }
    query |= {key: value for key, (value, default) in scalars.items() if value != default}
    return query


QUERY_KEYS: tuple[str, ...] = ("config", "spec", "bn", "a_config", "a_spec", "a_bn", "b_config", "b_spec", "b_bn",
                               "size", "weights", "seed", "weights_path", "device", "precision",
                               "projector")
