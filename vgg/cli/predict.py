"""``python -m vgg predict IMAGE``: classify an image (a path, or a bundled sample's name) and print
the top-k classes, or JSON with --json. Random weights are the default and are said loudly."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from vgg.analysis import analyze
from vgg.analysis.guards import check_resources
from vgg.arch.builders import build
from vgg.arch.configs import CONFIG_TITLES
from vgg.arch.model import VGG
from vgg.arch.network import Network
from vgg.arch.weights import load_into, load_state_dict
from vgg.cli._config_args import network_arg
from vgg.cli.trained import IMAGENET, RANDOM, predict_trained, trained_checkpoint
from vgg.errors import ImageError, WeightsError
from vgg.vision.devices import DEVICE_CHOICES
from vgg.vision.images import load_image
from vgg.vision.inference import ForwardResult, Predictions, forward_with_features, prepare, top_k
from vgg.vision.preprocess import MODES, preprocess
from vgg.vision.samples import load_sample, sample_images

_FC8_WEIGHT = "classifier.6.weight"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict", help="classify an image and print the top-k classes",
                                   description="Run a VGG on an image and print its top-k ImageNet classes. With "
                                               "random weights (the default) the classes are noise, and it says so.")
    parser.add_argument("image", metavar="IMAGE",
                        help=f"an image file, or a bundled sample: {', '.join(sample_images())}")
    parser.add_argument("--config", default="D", help="A, A-LRN, B, C, D, E, vgg16(_bn), or a spec (default: D)")
    parser.add_argument("--bn", action="store_true", help="with batch normalisation")
    parser.add_argument("--weights", default=RANDOM, metavar="random|imagenet|PATH",
                        help="random (default, seeded), imagenet (torchvision's, downloaded once), or a .pth file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights (default: 0)")
    parser.add_argument("--device", default="auto", metavar="|".join(DEVICE_CHOICES),
                        help="where to run (default: auto = cuda, then mps, then cpu); cuda:N also works")
    parser.add_argument("--mode", choices=MODES, default="crop",
                        help="crop: torchvision's resize 256 + centre crop 224 (default); whole: squash to a square")
    parser.add_argument("--size", type=int, default=224, help="network input side in pixels (default: 224)")
    parser.add_argument("--topk", type=int, default=5, help="how many classes to print (default: 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class Outcome:
    image: str
    title: str
    batch_norm: bool
    weights: str
    seed: int | None
    result: ForwardResult
    predictions: Predictions
    input_shape: tuple[int, ...]


def run(args: argparse.Namespace) -> int:
    image_name, image = _image(args.image)
    trained = trained_checkpoint(args.weights)
    if trained is not None:
        return predict_trained(args, image_name, image, trained)  # a mini VGG trained here: its own classes and size
    network = network_arg(args.config, args.bn)
    # Estimated on the meta device first: a spec too large for this machine is refused before it is built.
    check_resources(analyze(network, input_size=(args.size, args.size)),
                    keep_features=False)  # the pass below keeps only the logits
    model = prepare(_model(network, args.weights, args.seed), args.device)
    x = preprocess(image, mode=args.mode, size=args.size)  # (1, 3, size, size)
    result = forward_with_features(model, x, layers=())  # logits only: keep no feature maps
    predictions = top_k(result.logits, args.topk, weights_are_random=args.weights == RANDOM)
    title = CONFIG_TITLES.get(network.config or "", f"custom ({args.config.strip()})")
    outcome = Outcome(image_name, title, network.batch_norm, args.weights,
                      args.seed if args.weights == RANDOM else None, result, predictions, tuple(x.shape))
    print(json.dumps(to_json(outcome), indent=2) if args.json else render(outcome))
    return 0


def _image(argument: str) -> tuple[str, Image.Image]:
    """A path, or the name of a bundled sample when no such file exists."""
    if Path(argument).exists():
        return argument, load_image(argument)
    if argument in sample_images():
        return f"sample:{argument}", load_sample(argument)
    raise ImageError(f"No file at {argument}, and no bundled sample of that name ({', '.join(sample_images())}). "
                     "Check the path.")


def _model(network: Network, weights: str, seed: int) -> VGG:
    if weights == RANDOM:
        torch.manual_seed(seed)  # the same "random" network every run, so outputs can be compared
        return build(network)
    if weights == IMAGENET:
        name = network.variant
        if name is None:
            raise WeightsError(f"torchvision publishes ImageNet weights only for A, B, D and E (vgg11 to vgg19, with "
                               f"or without _bn), not for {network.label}. Use --weights random or a .pth file.")
    else:
        name = weights
    with contextlib.redirect_stdout(sys.stderr):  # torch.hub prints "Downloading: ..." on stdout; keep --json clean
        state = load_state_dict(name)
    fc8 = state.get(_FC8_WEIGHT)
    num_classes = fc8.shape[0] if fc8 is not None and fc8.dim() == 2 else 1000  # a fine-tuned head keeps its size
    return load_into(build(network, num_classes=num_classes, init_weights=False), state)


def to_json(outcome: Outcome) -> dict[str, object]:
    predictions = outcome.predictions
    return {
        "image": outcome.image, "config": outcome.title, "batch_norm": outcome.batch_norm,
        "weights": outcome.weights, "seed": outcome.seed, "random_weights": predictions.random_weights,
        "notice": predictions.notice, "device": str(outcome.result.device), "input_shape": list(outcome.input_shape),
        "seconds": round(outcome.result.total_seconds, 4),
        "predictions": [{"rank": rank, "index": p.index, "label": p.label, "probability": p.probability}
                        for rank, p in enumerate(predictions.top, start=1)],
    }


def render(outcome: Outcome) -> str:
    predictions = outcome.predictions
    weights = f"random weights (seed {outcome.seed})" if predictions.random_weights else f"weights: {outcome.weights}"
    height, width = outcome.input_shape[-2:]
    lines = [_banner(predictions.notice)] if predictions.random_weights else []
    lines += [f"{outcome.image} · {outcome.title}{' with BN' if outcome.batch_norm else ''} · {weights} · "
              f"{height}x{width} · {outcome.result.device} · {outcome.result.total_seconds:.2f} s", "",
              f"{'Rank':>4}  {'Class':>5}  {'Probability':>11}  Label"]
    lines += [f"{rank:>4}  {p.index:>5}  {p.probability:>11.2%}  {p.label}"
              for rank, p in enumerate(predictions.top, start=1)]
    return "\n".join(lines)


def _banner(notice: str) -> str:
    rule = "!" * 100
    return f"{rule}\n!! {notice}\n{rule}\n"
