"""``python -m vgg explain IMAGE``: where the network looked, as a heatmap over the image (PNG) and a
summary (text, or JSON with --json). Random weights are the default and are said loudly."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from vgg.arch.classes import imagenet_classes
from vgg.cli._config_args import network_arg
from vgg.cli.predict import IMAGENET, RANDOM, _banner, _image, _model
from vgg.errors import ImageError
from vgg.explain import METHODS, RANDOM_WEIGHTS_EXPLAINED, ExplainError, Explanation, explain, overlay, resolve_layer
from vgg.files import replace_atomically, temporary_beside
from vgg.vision.devices import DEVICE_CHOICES
from vgg.vision.inference import prepare
from vgg.vision.preprocess import preprocess_steps


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("explain", help="draw where the network looked (Grad-CAM and friends)",
                                   description="Explain a VGG's score for one class on an image: a heatmap laid "
                                               "over the 224 x 224 crop the network saw, written as a PNG. With "
                                               "random weights (the default) the map explains noise, and it says so.")
    parser.add_argument("image", metavar="IMAGE", help="an image file, or a bundled sample's name (cat, ...)")
    parser.add_argument("--config", default="D", help="A, A-LRN, B, C, D, E, vgg16(_bn), or a spec (default: D)")
    parser.add_argument("--bn", action="store_true", help="with batch normalisation")
    parser.add_argument("--weights", default=RANDOM, metavar="random|imagenet|PATH",
                        help="random (default, seeded), imagenet (torchvision's, downloaded once), or a .pth file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights (default: 0)")
    parser.add_argument("--device", default="auto", metavar="|".join(DEVICE_CHOICES), help="where to run")
    parser.add_argument("--method", choices=METHODS, default="gradcam", help="attribution method (default: gradcam)")
    parser.add_argument("--layer", default=None,
                        help="gradcam/guided_gradcam: module path or paper name (default: the last conv, conv5_3)")
    parser.add_argument("--target", default=None, metavar="CLASS",
                        help="class index or ImageNet label to explain (default: the prediction)")
    parser.add_argument("--window", type=int, default=32, help="occlusion: window side in px (default: 32)")
    parser.add_argument("--stride", type=int, default=16, help="occlusion: stride in px (default: 16)")
    parser.add_argument("--opacity", type=float, default=0.5, help="heatmap opacity over the image (default: 0.5)")
    parser.add_argument("--out", type=Path, default=None, metavar="heat.png",
                        help="write the overlay PNG here (default: none)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.out is not None and args.out.suffix.lower() != ".png":
        raise ImageError(f"--out writes a PNG: name it something.png, not {args.out.name!r}.")
    if not 0.0 <= args.opacity <= 1.0:
        raise ExplainError(f"--opacity is a fraction in [0, 1], got {args.opacity}.")
    image_name, image = _image(args.image)
    network = network_arg(args.config, args.bn)
    model = prepare(_model(network, args.weights, args.seed), args.device)
    steps = preprocess_steps(image, mode="crop", size=224)
    options = {"window": args.window, "stride": args.stride} if args.method == "occlusion" else {}
    started = time.perf_counter()
    result = explain(model, steps.tensor, args.method, layer=args.layer, target=_target(args.target, model),
                     **options)
    seconds = time.perf_counter() - started
    if args.out is not None:
        write_png_atomically(overlay(steps.cropped, result.heatmap, opacity=args.opacity), args.out)
    summary = to_json(image_name, args, model, result, seconds)
    print(json.dumps(summary, indent=2) if args.json else render(summary))
    return 0


def _target(text: str | None, model: torch.nn.Module) -> int | None:
    if text is None:
        return None
    if text.strip().lstrip("-").isdigit():
        return int(text)
    classes = imagenet_classes()
    # a label that appears twice ("crane") means its first class
    labels = {label.lower(): index for index, label in reversed(list(enumerate(classes)))}
    if model.classifier[-1].out_features == len(classes) and text.strip().lower() in labels:
        return labels[text.strip().lower()]
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


def _label(model: torch.nn.Module, index: int) -> str:
    classes = imagenet_classes()
    return classes[index] if model.classifier[-1].out_features == len(classes) else f"class {index}"


def to_json(image_name: str, args: argparse.Namespace, model: torch.nn.Module, result: Explanation,
            seconds: float) -> dict[str, object]:
    peak = int(result.heatmap.argmax())
    width = result.heatmap.shape[1]
    layer = resolve_layer(model, result.layer) if result.layer else None
    random_weights = args.weights == RANDOM
    return {
        "image": image_name, "config": args.config, "batch_norm": bool(model.network.batch_norm),
        "weights": args.weights,
        "seed": args.seed if random_weights else None, "random_weights": random_weights,
        "notice": RANDOM_WEIGHTS_EXPLAINED if random_weights else "",
        "method": result.method, "layer": layer.path if layer else None,
        "layer_paper_name": layer.paper_name if layer else None,
        "target": result.target, "label": _label(model, result.target), "score": result.score,
        "options": {key: list(value) if isinstance(value, tuple) else value for key, value in result.options.items()},
        "heatmap_shape": list(result.heatmap.shape), "peak": [peak // width, peak % width],
        "seconds": round(seconds, 4), "out": str(args.out) if args.out is not None else None,
    }


def render(summary: dict[str, object]) -> str:
    lines = [_banner(str(summary["notice"]))] if summary["random_weights"] else []
    where = f" at {summary['layer_paper_name']} ({summary['layer']})" if summary["layer"] else ""
    weights = IMAGENET if summary["weights"] == IMAGENET else summary["weights"]
    lines.append(f"{summary['image']} · {summary['config']} · weights: {weights} · {summary['method']}{where} · "
                 f"{summary['seconds']:.2f} s")
    lines.append(f"class {summary['target']} ({summary['label']}), logit {summary['score']:.3f}; the map peaks at "
                 f"row {summary['peak'][0]}, column {summary['peak'][1]} of the 224 x 224 crop")
    if summary["out"]:
        lines.append(f"wrote {summary['out']}")
    return "\n".join(lines)
