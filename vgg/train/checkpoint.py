"""A trained mini VGG saved so that it describes itself, and read back without restating anything.

The file is a ``torch.save`` of plain data only (dicts, lists, strings, numbers, tensors), so it
loads with ``torch.load(..., weights_only=True)``, which runs no code from the file:

    {"format": "vgg-explorer/trained-mini", "version": 1,
     "network": {"config": "D", "spec": "8 8 M 16 16 M ...", "batch_norm": true, "width_divisor": 8,
                 "input_size": 32, "num_classes": 10, "hidden_features": 512, "pooled_size": 1,
                 "dropout": 0.5},
     "normalization": {"mean": [r, g, b], "std": [r, g, b]},
     "class_names": ["0", ..., "9"],
     "dataset": {"name": "digits", "input_size": 32, "seed": 0, "train_size": 1437, "test_size": 360},
     "recipe": {...every field of Recipe...}, "seed": 0, "test_accuracy": 0.989, "seconds": 41.2,
     "stopped": false, "history": [{"epoch": 1, "loss": ..., "test_accuracy": ..., ...}, ...],
     "state_dict": {"features.0.weight": tensor, ...}}
"""

from __future__ import annotations

import io
import math
import os
import pickle
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from vgg.files import replace_atomically, temporary_beside
from vgg.format import mib
from vgg.train.datasets import MAX_SIZE, normalize
from vgg.train.errors import CheckpointError
from vgg.train.mini import MiniVGG
from vgg.train.trainer import EpochRecord, Recipe, TrainResult
from vgg.vision import Predictions, top_k

FORMAT, VERSION = "vgg-explorer/trained-mini", 1
_ZIP_MAGIC = b"PK\x03\x04"
MAX_CHECKPOINT_BYTES = 256 * 2**20  # a mini VGG at divisor 1 is ~ 150 MB; more is not one of ours


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A trained mini VGG read from a checkpoint: the model in eval mode and what it was trained on."""

    network: MiniVGG
    model: nn.Module
    class_names: tuple[str, ...]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    dataset: dict[str, Any]
    recipe: Recipe
    history: tuple[EpochRecord, ...]
    test_accuracy: float
    seconds: float = 0.0

    @property
    def label(self) -> str:
        """"D+BN mini on digits, 98.9%": what the app's sidebar offers."""
        return f"{self.network.label} on {self.dataset.get('name', '?')}, {self.test_accuracy:.1%}"

    @property
    def input_size(self) -> int:
        return self.network.input_size

    def prepare_images(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) in [0, 1] -> normalised as in training."""
        return normalize(images, self.mean, self.std)

    def image_pixels(self, image: Image.Image) -> torch.Tensor:
        """An image -> (3, S, S) in [0, 1], squashed to the network's S x S (not normalised)."""
        resized = image.convert("RGB").resize((self.input_size, self.input_size), Image.Resampling.BILINEAR)
        return torch.from_numpy(np.asarray(resized, dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous()

    def image_tensor(self, image: Image.Image) -> torch.Tensor:
        """An RGB image -> (1, 3, S, S) as the network was trained: squashed to S x S, normalised."""
        return self.prepare_images(self.image_pixels(image).unsqueeze(0))

    def predict(self, image: Image.Image | torch.Tensor, k: int = 5) -> Predictions:
        """Top-k of the dataset's classes for an image (or a (3, S, S) tensor in [0, 1])."""
        x = self.prepare_images(image.unsqueeze(0)) if isinstance(image, torch.Tensor) else self.image_tensor(image)
        with torch.inference_mode():
            logits = self.model(x.to(next(self.model.parameters()).device))
        return top_k(logits.cpu(), min(k, len(self.class_names)), weights_are_random=False, labels=self.class_names)


def checkpoint_dict(result: TrainResult) -> dict[str, Any]:
    """The plain-data description of a trained run (what ``save_checkpoint`` writes)."""
    data = result.dataset
    return {
        "format": FORMAT, "version": VERSION, "network": result.network.describe(),
        "normalization": {"mean": list(data.mean), "std": list(data.std)}, "class_names": list(data.class_names),
        "dataset": data.describe(), "recipe": result.recipe.to_dict(), "seed": result.recipe.seed,
        "test_accuracy": float(result.test_accuracy), "seconds": float(result.seconds), "stopped": result.stopped,
        "history": [record.to_dict() for record in result.history],
        "state_dict": {key: value.detach().cpu().clone() for key, value in result.model.state_dict().items()},
    }


def save_checkpoint(result: TrainResult, path: str | os.PathLike[str]) -> Path:
    """Write the checkpoint atomically (a temporary file renamed), so a crash leaves no half file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with temporary_beside(target) as temporary:
        torch.save(checkpoint_dict(result), temporary)
        replace_atomically(temporary, target)
    return target


def checkpoint_bytes(result: TrainResult) -> bytes:
    buffer = io.BytesIO()
    torch.save(checkpoint_dict(result), buffer)
    return buffer.getvalue()


def load_checkpoint(source: str | os.PathLike[str] | bytes, *, device: str | torch.device = "cpu") -> TrainedModel:
    """Read a checkpoint written by ``save_checkpoint`` and rebuild its model, weights loaded.

    Raises ``CheckpointError`` (a ``WeightsError``) in words for a missing, truncated, hostile or
    foreign file, and for one whose weights do not fit the network it describes.
    """
    raw = _read(source)
    if not raw.startswith(_ZIP_MAGIC):
        raise CheckpointError("This is not a readable torch checkpoint: files saved by torch.save (as "
                              "'python -m vgg train --out' does) are zip archives, and this one is not.")
    try:
        payload = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError("This file asks to run code or build objects while loading, which a trained "
                              "checkpoint never needs; it was refused unread. Use a file saved by "
                              "'python -m vgg train' or the app's Train view.") from error
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as error:
        raise CheckpointError(f"This is not a readable torch checkpoint (truncated or corrupt?): {_first_line(error)}. "
                              "Train again or copy the file again.") from error
    return rebuild(payload, device=device)


def is_trained_checkpoint(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a file this trainer wrote (read memory-mapped: a 500 MB state_dict costs nothing)."""
    file = Path(path)
    if not file.is_file() or file.stat().st_size > MAX_CHECKPOINT_BYTES:
        return False
    try:
        payload = torch.load(file, map_location="cpu", weights_only=True, mmap=True)
    except Exception:
        return False
    return isinstance(payload, dict) and payload.get("format") == FORMAT


def rebuild(payload: object, *, device: str | torch.device = "cpu") -> TrainedModel:
    """A ``TrainedModel`` from the plain data of a checkpoint (``checkpoint_dict``'s layout)."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError("This checkpoint was not written by VGG Explorer's trainer (no "
                              f"'format': '{FORMAT}'). For a plain state_dict, use the weights-file option.")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"Checkpoint version {payload.get('version')!r} is not one this version reads "
                              f"({VERSION}).")
    network = _network(_section(payload, "network", dict))
    class_names = tuple(str(name) for name in _section(payload, "class_names", list))
    if len(class_names) != network.num_classes:
        raise CheckpointError(f"The checkpoint names {len(class_names)} classes but its network has "
                              f"{network.num_classes} outputs.")
    normalization = _section(payload, "normalization", dict)
    mean, std = _triple(normalization.get("mean"), "mean"), _triple(normalization.get("std"), "std")
    if any(value <= 0 for value in std):
        raise CheckpointError("The checkpoint's normalisation has a standard deviation of zero or less.")
    state = _section(payload, "state_dict", dict)
    # The network the file describes is checked against the tensors it holds on the meta device (shapes,
    # no memory), and built for real only when they match: a small file cannot make the loader allocate
    # a large network it does not hold the weights of.
    _check_weights(network.build(init_weights=False, device="meta").state_dict(), state)
    model = network.build(init_weights=False)
    model.load_state_dict(state, strict=True)
    history = tuple(_record(item) for item in _section(payload, "history", list))
    recipe = _recipe(payload.get("recipe"))
    return TrainedModel(network, model.to(device).eval(), class_names, mean, std,
                        dict(_section(payload, "dataset", dict)), recipe, history,
                        _number(payload.get("test_accuracy", 0.0), "test_accuracy"),
                        _number(payload.get("seconds", 0.0), "seconds"))


def _read(source: str | os.PathLike[str] | bytes) -> bytes:
    if isinstance(source, bytes | bytearray):
        raw = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise CheckpointError(f"No checkpoint file at {path}. Train one first, e.g. "
                                  "'python -m vgg train D --bn --out d_bn.pth'.")
        if path.stat().st_size > MAX_CHECKPOINT_BYTES:
            raise CheckpointError(f"{path} is {mib(path.stat().st_size, digits=0)}, more than a trained mini "
                                  f"VGG can be ({mib(MAX_CHECKPOINT_BYTES, digits=0)}); refused.")
        raw = path.read_bytes()
    if len(raw) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"The checkpoint is over {mib(MAX_CHECKPOINT_BYTES, digits=0)}; refused.")
    if not raw:
        raise CheckpointError("The checkpoint file is empty. Train again, or copy the file again.")
    return raw


def _section(payload: dict[str, Any], key: str, kind: type) -> Any:
    value = payload.get(key)
    if not isinstance(value, kind):
        raise CheckpointError(f"The checkpoint has no valid {key!r} section; it is damaged or not from this trainer.")
    return value


def _network(section: dict[str, Any]) -> MiniVGG:
    try:
        network = MiniVGG(str(section["config"]), batch_norm=bool(section["batch_norm"]),
                          width_divisor=int(section["width_divisor"]), input_size=int(section["input_size"]),
                          num_classes=int(section["num_classes"]), dropout=float(section.get("dropout", 0.5)))
    except KeyError as error:
        raise CheckpointError(f"The checkpoint's network lacks {error.args[0]!r}.") from error
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"The checkpoint's network cannot be built: {error}") from error
    if network.input_size > MAX_SIZE:  # every image shown to it is resized to this side
        raise CheckpointError(f"The checkpoint's input size, {network.input_size} px, is more than a mini VGG is "
                              f"trained at here ({MAX_SIZE} px at most).")
    if "spec" in section and str(section["spec"]) != network.spec.to_text():
        raise CheckpointError("The checkpoint's scaled spec does not match its configuration and divisor.")
    return network


def _check_weights(expected: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
    """Every key and shape of the network's state_dict (``expected``, on any device) in ``state``, and no more."""
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"The checkpoint's weights do not fit the network it describes: missing {missing[:3]}, "
                              f"unexpected {unexpected[:3]}. Refused before building it.")
    for key, value in state.items():
        if not isinstance(value, torch.Tensor) or value.shape != expected[key].shape:
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise CheckpointError(f"Weight {key} has shape {shape}; the network the checkpoint describes needs "
                                  f"{tuple(expected[key].shape)}. Refused before building it.")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise CheckpointError(f"Weight {key} holds NaN or infinite values; the training diverged or the "
                                  "file is damaged.")


def _triple(value: object, name: str) -> tuple[float, float, float]:
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise CheckpointError(f"The checkpoint's normalisation {name} must be three numbers.")
    return tuple(_number(item, name) for item in value)  # type: ignore[return-value]


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CheckpointError(f"The checkpoint's {name} is not a finite number.")
    return float(value)


def _record(item: object) -> EpochRecord:
    names = [spec.name for spec in fields(EpochRecord)]
    if not isinstance(item, dict) or any(name not in item for name in names):
        raise CheckpointError("The checkpoint's history is damaged (an epoch lacks its figures).")
    return EpochRecord(**{name: item[name] for name in names})


def _recipe(item: object) -> Recipe:
    if not isinstance(item, dict):
        raise CheckpointError("The checkpoint has no recipe.")
    names = {spec.name for spec in fields(Recipe)}
    try:
        return Recipe(**{key: value for key, value in item.items() if key in names})
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"The checkpoint's recipe is invalid: {error}") from error


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
