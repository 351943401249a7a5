"""Which weights a model runs with, as a typed value: the key of the model caches and what loading reads.

The sidebar's radio says "random", "imagenet" or "file"; ``explorer.resources.weights_choice`` turns
that (with the seed, the upload or the server path) into one of these frozen values, so no one builds a
string like ``"file:/path|digest"`` and parses it back. No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RandomWeights:
    """torchvision's initialisation, drawn after ``torch.manual_seed(seed)``: the same seed, the same weights."""

    seed: int

    @property
    def label(self) -> str:
        return f"random (seed {self.seed})"


@dataclass(frozen=True)
class ImageNetWeights:
    """torchvision's published ImageNet weights for the network (only A, B, D and E have them)."""

    @property
    def label(self) -> str:
        return "ImageNet"


@dataclass(frozen=True)
class CheckpointWeights:
    """A state_dict file; ``digest`` (the first 16 hex digits of its SHA-256) is part of the key, so a file
    replaced at the same path is a different choice and its model is loaded again."""

    path: str
    digest: str

    @property
    def label(self) -> str:
        return "checkpoint"


WeightsChoice = RandomWeights | ImageNetWeights | CheckpointWeights
