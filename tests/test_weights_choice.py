"""The weights choice is a typed, hashable value: the sidebar's words become one, the model cache keys on it,
and loading reads its fields (a seed, a path) instead of parsing a string back."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import vgg
from explorer import resources
from explorer.weights_choice import CheckpointWeights, ImageNetWeights, RandomWeights

TINY = vgg.Network.resolve("8 M 16 M", num_classes=3, hidden_features=8, pooled_size=1)  # builds in milliseconds


@pytest.fixture
def server_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resources.SERVER_PATHS_ENV, "1")


def test_the_sidebars_words_become_typed_values(server_paths, tmp_path: Path) -> None:
    path = tmp_path / "weights.pth"
    torch.save(vgg.build(TINY).state_dict(), path)
    assert resources.weights_choice("random", 7, "") == RandomWeights(7)
    assert resources.weights_choice("imagenet", 7, "") == ImageNetWeights()
    chosen = resources.weights_choice("file", 7, str(path))
    assert isinstance(chosen, CheckpointWeights) and chosen.path == str(path.resolve())
    assert len({RandomWeights(7), RandomWeights(7), RandomWeights(8), ImageNetWeights(), chosen}) == 4  # hashable


def test_a_checkpoint_replaced_at_the_same_path_is_another_choice(server_paths, tmp_path: Path) -> None:
    path = tmp_path / "weights.pth"
    torch.save(vgg.build(TINY).state_dict(), path)
    first = resources.weights_choice("file", 0, str(path))
    assert resources.weights_choice("file", 0, str(path)) == first  # unchanged: the cache keeps the model
    torch.save({key: value + 1 for key, value in vgg.build(TINY).state_dict().items()}, path)
    replaced = resources.weights_choice("file", 0, str(path))
    assert replaced.path == first.path and replaced != first  # a new key: the model cache loads it again


@pytest.mark.parametrize(("weights", "says"), [("trained", "trained here"), ("file", "upload a .pth file")])
def test_choices_that_name_no_weights_here_are_refused_in_words(weights: str, says: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(resources.SERVER_PATHS_ENV, raising=False)
    with pytest.raises(vgg.WeightsError, match=says):
        resources.weights_choice(weights, 0, "")


def test_the_model_cache_keys_on_the_choice_and_loads_what_it_says(tmp_path: Path) -> None:
    seeded = resources.model(TINY, RandomWeights(3), "cpu")
    assert resources.model(TINY, RandomWeights(3), "cpu") is seeded  # the same choice: the cached model
    other = resources.model(TINY, RandomWeights(4), "cpu")
    assert not torch.equal(other.features[0].weight, seeded.features[0].weight)  # the seed is read, not ignored
    torch.manual_seed(3)
    assert torch.equal(vgg.build(TINY).features[0].weight, seeded.features[0].weight)
    saved = {key: torch.full_like(value, 0.5) if value.is_floating_point() else value
             for key, value in vgg.build(TINY).state_dict().items()}
    torch.save(saved, tmp_path / "half.pth")
    loaded = resources.model(TINY, CheckpointWeights(str(tmp_path / "half.pth"), "test"), "cpu")
    assert torch.all(loaded.features[0].weight == 0.5)  # the file at the choice's path
