"""The pointing game (Zhang et al., 2016): an honest check of where a network looks. For each test
image with a known object box, explain the true class and count a hit when the map's peak falls
inside the box (the middle of the maximum where it is a plateau, see ``peak_of``; a flat map is a miss);
beside it, the chance that a point drawn uniformly over the image would (the mean share of the image
the boxes cover).

``play_on_test_split`` plays it on a dataset whose test split records boxes: the project's generated
shapes, with a mini VGG trained on them by ``SHAPES_RECIPE`` (benchmarks/bench_pointing.py measures it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vgg.explain.attribution import explain
from vgg.explain.images import has_peak, inside, peak_of
from vgg.explain.layers import ExplainError
from vgg.train import Dataset, Recipe

# The mini network the game is played with: D with batch norm, widths / 4, on 96 px shapes, 12 epochs. At 96 px
# its last convolution is a 6 x 6 grid; at the shapes' default 64 px it is 4 x 4, each cell a quarter of the image
# wide, and where the peak lands then varied with the training seed: 72.5%, 94.5% and 81.0% of the test images
# for seeds 0-2, against 97.5% for seed 0 at 96 px (docs/explain.md). No dropout (the shapes' default,
# ``vgg.train.DEFAULT_DROPOUT``). The last two epochs at a tenth of the rate, so that the network played with is a
# settled one, not one noisy last epoch.
SHAPES_RECIPE = Recipe("D", batch_norm=True, dataset="shapes", epochs=12, lr=0.01, dropout=0.0, width_divisor=4,
                       input_size=96, anneal_epochs=2)
# Where Grad-CAM is read: the last convolution (the usual choice: conv5_3, a 6 x 6 grid at 96 px) and the
# last of stage 4 (conv4_3, 12 x 12), a finer grid further from the class score.
SHAPES_LAYERS = (None, "conv4_3")


@dataclass(frozen=True)
class PointingGame:
    """How often the map's peak lands on the object, and how often chance would."""

    method: str
    layer: str | None
    hits: int
    total: int
    random_baseline: float  # mean box area / image area: a uniformly random point's hit rate
    peaks: tuple[tuple[int, int], ...]  # (row, column) of each image's peak
    flat: int = 0  # maps with no peak at all (every pixel equal): each a miss, wherever the object is

    @property
    def accuracy(self) -> float:
        return self.hits / self.total if self.total else 0.0


def pointing_game(model: nn.Module, images: torch.Tensor, boxes: torch.Tensor, labels: torch.Tensor, *,
                  method: str = "gradcam", layer: str | None = None, tolerance: int = 0) -> PointingGame:
    """Play on normalised ``images`` (N, 3, H, W) whose objects lie in ``boxes`` (N, 4) as
    (x0, y0, x1, y1) pixels (x1, y1 exclusive), explaining each image's true class ``labels[i]``.
    ``tolerance``: a peak this many pixels outside the box still counts (the paper's is 15 px at 224)."""
    if images.dim() != 4 or boxes.shape != (images.shape[0], 4) or labels.shape != (images.shape[0],):
        raise ExplainError(f"pointing_game takes (N, 3, H, W) images, (N, 4) boxes and (N,) labels; got "
                           f"{tuple(images.shape)}, {tuple(boxes.shape)} and {tuple(labels.shape)}.")
    height, width = images.shape[-2:]
    hits, flat, peaks, covered = 0, 0, [], 0.0
    for image, box, label in zip(images, boxes.tolist(), labels.tolist(), strict=True):
        result = explain(model, image[None], method, layer=layer, target=int(label))
        peak = peak_of(result.heatmap)
        peaks.append(peak)
        pointed = has_peak(result.heatmap)
        flat += not pointed
        hits += pointed and inside(peak, tuple(box), tolerance)
        x0, y0, x1, y1 = box
        covered += max(0.0, min(x1, width) - max(x0, 0)) * max(0.0, min(y1, height) - max(y0, 0)) / (height * width)
    total = int(images.shape[0])
    chosen_layer = result.layer if total else None
    return PointingGame(method, chosen_layer, hits, total, covered / total if total else 0.0, tuple(peaks), flat)


def play_on_test_split(model: nn.Module, dataset: Dataset, *, method: str = "gradcam", layer: str | None = None,
                       tolerance: int = 0) -> PointingGame:
    """The pointing game on ``dataset``'s test split (images the model never trained on), normalised as it
    was trained; the dataset must record boxes (the generated shapes do, the digits do not)."""
    test = dataset.test
    if test.boxes is None:
        raise ExplainError(f"The {dataset.name} dataset records no object boxes, so the pointing game cannot be "
                           "scored on it; use the shapes dataset, whose boxes are known.")
    return pointing_game(model, dataset.normalize(test.images), test.boxes, test.labels, method=method, layer=layer,
                         tolerance=tolerance)
