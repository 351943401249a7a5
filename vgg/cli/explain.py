"""``python -m vgg explain IMAGE``: where the network looked, as a heatmap over the image (PNG) and a
summary (text, or JSON with --json). Random weights are the default and are said loudly."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from vgg.arch.classes import imagenet_classes
from vgg.cli._config_args import network_arg
from vgg.cli.predict import _banner, _image, _model
from vgg.cli.trained import IMAGENET, RANDOM, trained_checkpoint
from vgg.errors import ImageError
from vgg.explain import (
    METHODS,
    RANDOM_WEIGHTS_EXPLAINED,
    ExplainError,
    Explanation,
    enlarged,
    explain,
    overlay,
    resolve_layer,
)
from vgg.files import replace_atomically, temporary_beside
from vgg.train import TrainedModel
from vgg.vision.devices import DEVICE_CHOICES
from vgg.vision.inference import prepare
from vgg.vision.preprocess import preprocess_steps

TRAINED_PNG_SIDE = 256  # px: a trained mini's 32 or 64 px input enlarged to about this for the PNG


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("explain", help="draw where the network looked (Grad-CAM and friends)",
                                   description="Explain a VGG's score for one class on an image: a heatmap laid "
                                               "over the 224 x 224 crop the network saw (or, with a checkpoint "
                                               "from 'train', its own input size), written as a PNG. With random "
                                               "weights (the default) the map explains noise, and it says so.")
    parser.add_argument("image", metavar="IMAGE", help="an image file, or a bundled sample's name (cat, ...)")
    parser.add_argument("--config", default="D", help="A, A-LRN, B, C, D, E, vgg16(_bn), or a spec (default: D)")
    parser.add_argument("--bn", action="store_true", help="with batch normalisation")
    parser.add_argument("--weights", default=RANDOM, metavar="random|imagenet|PATH",
                        help="random (default, seeded), imagenet (torchvision's, downloaded once), a .pth file, or "
                             "a checkpoint from 'python -m vgg train --out' (its network, size and classes)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights (default: 0)")
    parser.add_argument("--device", default="auto", metavar="|".join(DEVICE_CHOICES), help="where to run")
    parser.add_argument("--method", choices=METHODS, default="gradcam", help="attribution method (default: gradcam)")
    parser.add_argument("--layer", default=None,
                        help="gradcam/guided_gradcam: module path or paper name (default: the last conv, conv5_3)")
    parser.add_argument("--target", default=None, metavar="CLASS",
                        help="class index, ImageNet label, or a trained checkpoint's class name to explain "
                             "(default: the prediction)")
    parser.add_argument("--window", type=int, default=None,
                        help="occlusion: window side in px (default: 32; a trained mini's input side / 4)")
    parser.add_argument("--stride", type=int, default=None,
                        help="occlusion: stride in px (default: 16; a trained mini's input side / 8)")
    parser.add_argument("--opacity", type=float, default=0.5, help="heatmap opacity over the image (default: 0.5)")
    parser.add_argument("--out", type=Path, default=None, metavar="heat.png",
                        help="write the overlay PNG here (default: none)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class Subject:
    """What is explained: the model in eval mode, its input, the picture the heatmap is laid over, the
    class names (None: indices only), and how the network and its input are named in the output."""

    model: torch.nn.Module
    x: torch.Tensor  # (1, 3, S, S), normalised as the model was trained
    picture: Image.Image
    labels: tuple[str, ...] | None
    config: str
    seen: str  # "224 x 224 crop", "32 x 32 image"
    trained: TrainedModel | None = None


def run(args: argparse.Namespace) -> int:
    if args.out is not None and args.out.suffix.lower() != ".png":
        raise ImageError(f"--out writes a PNG: name it something.png, not {args.out.name!r}.")
    if not 0.0 <= args.opacity <= 1.0:
        raise ExplainError(f"--opacity is a fraction in [0, 1], got {args.opacity}.")
    image_name, image = _image(args.image)
    trained = trained_checkpoint(args.weights)
    subject = _trained_subject(trained, image, args.device) if trained is not None else _subject(args, image)
    options = _occlusion_options(args, subject) if args.method == "occlusion" else {}
    started = time.perf_counter()
    result = explain(subject.model, subject.x, args.method, layer=args.layer,
                     target=_target(args.target, subject), **options)
    seconds = time.perf_counter() - started
    if args.out is not None:
        write_png_atomically(overlay(subject.picture, result.heatmap, opacity=args.opacity), args.out)
    summary = to_json(image_name, args, subject, result, seconds)
    print(json.dumps(summary, indent=2) if args.json else render(summary))
    return 0


def _subject(args: argparse.Namespace, image: Image.Image) -> Subject:
    """--config with random, ImageNet or state_dict weights: torchvision's 224 x 224 crop."""
    model = prepare(_model(network_arg(args.config, args.bn), args.weights, args.seed), args.device)
    steps = preprocess_steps(image, mode="crop", size=224)
    classes = imagenet_classes()
    labels = tuple(classes) if model.classifier[-1].out_features == len(classes) else None
    return Subject(model, steps.tensor, steps.cropped, labels, args.config, "224 x 224 crop")


def _trained_subject(trained: TrainedModel, image: Image.Image, device: str) -> Subject:
    """A checkpoint from ``train``: its network, its input size and normalisation, its dataset's classes;
    the PNG is its S x S input enlarged with hard pixel edges (a 32 px overlay would be a speck)."""
    pixels = trained.image_pixels(image)  # (3, S, S) in [0, 1]
    side = trained.input_size
    return Subject(prepare(trained.model, device), trained.prepare_images(pixels.unsqueeze(0)),
                   enlarged(pixels, side=side * max(1, TRAINED_PNG_SIDE // side)), trained.class_names,
                   trained.network.label, f"{side} x {side} image", trained)


def _occlusion_options(args: argparse.Namespace, subject: Subject) -> dict[str, int]:
    """32 px windows at a stride of 16 on the 224 crop; on a trained mini's small input, a quarter of its side
    at a stride of an eighth (a 32 px window would cover its whole 32 px image)."""
    side = subject.x.shape[-1]
    full = subject.trained is None
    window = args.window if args.window is not None else (32 if full else max(1, side // 4))
    stride = args.stride if args.stride is not None else (16 if full else max(1, side // 8))
    return {"window": window, "stride": stride}


def _target(text: str | None, subject: Subject) -> int | None:
    if text is None:
        return None
    # a label that appears twice ("crane") means its first class
    indices = {label.lower(): index for index, label in reversed(list(enumerate(subject.labels or ())))}
    if text.strip().lower() in indices:  # the class names first: a digits checkpoint's are "0" to "9"
        return indices[text.strip().lower()]
    if text.strip().lstrip("-").isdigit():
        return int(text)
    if subject.trained is not None:
        names = subject.trained.class_names
        raise ExplainError(f"--target {text!r} is neither a class index nor one of the checkpoint's classes "
                           f"({', '.join(names[:12])}{', ...' if len(names) > 12 else ''}).")
    raise ExplainError(f"--target {text!r} is neither a class index nor an ImageNet label (e.g. 281 or 'tabby').")


def write_png_atomically(picture: object, path: Path) -> None:
    """Save to a temporary file beside ``path`` and rename it: on any error nothing half-written remains."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise ImageError(f"Cannot write {path}: the folder {folder} does not exist.")
    with temporary_beside(path) as temporary:
        with open(temporary, "wb") as stream:
            picture.save(stream, format="PNG")  # type: ignore[attr-defined]
        replace_atomically(temporary, path)


def to_json(image_name: str, args: argparse.Namespace, subject: Subject, result: Explanation,
            seconds: float) -> dict[str, object]:
    peak = int(result.heatmap.argmax())
    width = result.heatmap.shape[1]
    layer = resolve_layer(subject.model, result.layer) if result.layer else None
    random_weights = args.weights == RANDOM
    trained = subject.trained
    labels = subject.labels
    return {
        "image": image_name, "config": subject.config, "batch_norm": bool(subject.model.network.batch_norm),
        "weights": args.weights,
        "seed": args.seed if random_weights else None, "random_weights": random_weights,
        "notice": RANDOM_WEIGHTS_EXPLAINED if random_weights else "",
        "trained": trained.label if trained is not None else None,
        "dataset": trained.dataset.get("name") if trained is not None else None,
        "method": result.method, "layer": layer.path if layer else None,
        "layer_paper_name": layer.paper_name if layer else None,
        "target": result.target, "label": labels[result.target] if labels else f"class {result.target}",
        "score": result.score,
        "options": {key: list(value) if isinstance(value, tuple) else value for key, value in result.options.items()},
        "heatmap_shape": list(result.heatmap.shape), "peak": [peak // width, peak % width], "seen": subject.seen,
        "seconds": round(seconds, 4), "out": str(args.out) if args.out is not None else None,
    }


def render(summary: dict[str, object]) -> str:
    lines = [_banner(str(summary["notice"]))] if summary["random_weights"] else []
    where = f" at {summary['layer_paper_name']} ({summary['layer']})" if summary["layer"] else ""
    weights = IMAGENET if summary["weights"] == IMAGENET else summary["weights"]
    trained = f" ({summary['trained']})" if summary["trained"] else ""
    lines.append(f"{summary['image']} · {summary['config']} · weights: {weights}{trained} · "
                 f"{summary['method']}{where} · {summary['seconds']:.2f} s")
    lines.append(f"class {summary['target']} ({summary['label']}), logit {summary['score']:.3f}; the map peaks at "
                 f"row {summary['peak'][0]}, column {summary['peak'][1]} of the {summary['seen']}")
    if summary["out"]:
        lines.append(f"wrote {summary['out']}")
    return "\n".join(lines)
