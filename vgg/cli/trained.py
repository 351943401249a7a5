"""``predict --weights PATH`` and ``explain --weights PATH`` with a checkpoint from ``train``: the network
it describes, its input size and normalisation, and the dataset's class names; no --config needed."""

from __future__ import annotations

import argparse
import json
import time

from PIL import Image

from vgg.train import TrainedModel, is_trained_checkpoint, load_checkpoint

__all__ = ["IMAGENET", "RANDOM", "is_trained_checkpoint", "predict_trained", "trained_checkpoint"]

RANDOM, IMAGENET = "random", "imagenet"  # --weights' two names; anything else is a file


def trained_checkpoint(weights: str) -> TrainedModel | None:
    """The model of ``--weights`` when it is a checkpoint that ``train`` wrote; None for random, imagenet
    or a plain state_dict (which --config describes)."""
    if weights in (RANDOM, IMAGENET) or not is_trained_checkpoint(weights):
        return None
    return load_checkpoint(weights)


def predict_trained(args: argparse.Namespace, image_name: str, image: Image.Image, trained: TrainedModel) -> int:
    started = time.perf_counter()
    predictions = trained.predict(image, k=args.topk)
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps({
            "image": image_name, "config": trained.network.label, "batch_norm": trained.network.batch_norm,
            "weights": str(args.weights), "trained": trained.label, "dataset": trained.dataset.get("name"),
            "random_weights": False, "input_shape": [1, 3, trained.input_size, trained.input_size],
            "seconds": round(seconds, 4), "device": "cpu",
            "predictions": [{"rank": rank, "index": p.index, "label": p.label, "probability": p.probability}
                            for rank, p in enumerate(predictions.top, start=1)]}, indent=2))
        return 0
    lines = [f"{image_name} · {trained.label} · {trained.input_size}x{trained.input_size} · {seconds:.3f} s", "",
             f"{'Rank':>4}  {'Class':>5}  {'Probability':>11}  Label"]
    lines += [f"{rank:>4}  {p.index:>5}  {p.probability:>11.2%}  {p.label}"
              for rank, p in enumerate(predictions.top, start=1)]
    print("\n".join(lines))
    return 0
