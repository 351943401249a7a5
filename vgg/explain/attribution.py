"""Where the network looked: Grad-CAM, guided backprop, guided Grad-CAM, saliency and occlusion,
behind one call, ``explain(model, x, method)``.

Definitions, so that the maps equal the libraries people know:

- Grad-CAM (Selvaraju et al., 2017), as pytorch-grad-cam's ``GradCAM``: the layer's output A
  (N, C, h, w) and the gradient of the target's logit with respect to it; weights = the spatial
  mean of the gradient per channel; map = ReLU(sum_c weight_c * A_c); bilinear upsampling to the
  input's size (``align_corners=False``, as OpenCV's resize); min-max normalisation.
- Guided backprop (Springenberg et al., 2015): the input gradient with every ReLU's backward
  letting through only positive gradients at positive inputs. Guided Grad-CAM is its product with
  the Grad-CAM map.
- Saliency (Simonyan et al., 2013): the input gradient; shown as its largest absolute value over
  the colour channels.
- Occlusion (Zeiler & Fergus, 2014), as captum's ``Occlusion``: see ``vgg.explain.occlusion``.

The part of the network before Grad-CAM's layer runs under ``torch.inference_mode`` (no graph
is needed there), so a Grad-CAM costs about one forward pass.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vgg.explain.layers import (
    ExplainError,
    Layer,
    check_eval,
    last_conv,
    model_input,
    resolve_layer,
    resolve_target,
    run,
    run_until,
)
from vgg.explain.occlusion import occlusion
from vgg.explain.result import Explanation, normalise

METHODS: tuple[str, ...] = ("gradcam", "guided_backprop", "guided_gradcam", "saliency", "occlusion")
METHOD_TITLES: dict[str, str] = {
    "gradcam": "Grad-CAM", "guided_backprop": "Guided backprop", "guided_gradcam": "Guided Grad-CAM",
    "saliency": "Saliency (input gradient)", "occlusion": "Occlusion",
}
RANDOM_WEIGHTS_EXPLAINED = ("Random weights: this network is untrained, so the map shows where an untrained network's "
                            "score happens to depend on the image, not where VGG looks. Load the ImageNet weights "
                            "(or a trained checkpoint) to see that.")
LAYER_METHODS = frozenset({"gradcam", "guided_gradcam"})  # the methods that read a layer


def explain(model: nn.Module, x: torch.Tensor, method: str = "gradcam", *, layer: str | None = None,
            target: int | None = None, **options: Any) -> Explanation:
    """Explain ``model``'s score for class ``target`` (None: its prediction) on one image ``x``
    ((1, 3, H, W) or (3, H, W), normalised as for the model).

    ``layer`` (module path or paper name) is read by gradcam and guided_gradcam; the default is the
    last convolution. Occlusion takes ``window`` (32), ``stride`` (16) and ``baseline`` (0.0) options.
    ``model`` must be in eval mode (``vgg.prepare``); nothing is written to it.
    """
    if method not in METHODS:
        raise ExplainError(f"Unknown method {method!r}: use one of {', '.join(METHODS)}.")
    if layer is not None and method not in LAYER_METHODS:
        raise ExplainError(f"{method} reads no layer (only {' and '.join(sorted(LAYER_METHODS))} do); leave layer out.")
    allowed = {"window", "stride", "baseline", "batch_size"} if method == "occlusion" else set()
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ExplainError(f"{method} takes no option {', '.join(unknown)}"
                           + (f" (it takes {', '.join(sorted(allowed))})." if allowed else "."))
    check_eval(model)
    x = model_input(model, x)
    if method == "occlusion":
        return occlusion(model, x, target=target, **options)
    if method == "gradcam":
        return gradcam(model, x, _cam_layer(model, layer), target)
    if method == "guided_gradcam":
        cam = gradcam(model, x, _cam_layer(model, layer), target)
        guided = input_gradient(model, x, cam.target, guided=True)
        raw = guided.raw * cam.heatmap  # (3, H, W) * (H, W)
        return Explanation(normalise(raw.abs().amax(dim=0)), raw, cam.target, method, cam.layer, cam.score)
    return input_gradient(model, x, target, guided=method == "guided_backprop")


def _cam_layer(model: nn.Module, name: str | None) -> Layer:
    chosen = last_conv(model) if name is None else resolve_layer(model, name)
    if not chosen.path.startswith("features."):
        raise ExplainError(f"Grad-CAM needs a layer with a spatial map: {chosen.label} is in the head. Use a "
                           "layer of features (conv5_3, relu5_3, pool5, ...).")
    return chosen


def gradcam(model: nn.Module, x: torch.Tensor, layer: Layer, target: int | None) -> Explanation:
    """Grad-CAM at ``layer`` for a prepared (1, 3, H, W) input."""
    with torch.inference_mode():
        prefix = run_until(model, x, layer.path)  # (1, C, h, w), no graph
    activation = prefix.clone().requires_grad_(True)  # a normal tensor: autograd can save it
    logits, _ = run(model, activation, start_after=layer.path)
    chosen = resolve_target(logits, target)
    (gradient,) = torch.autograd.grad(logits[0, chosen], activation)  # writes no parameter's .grad
    with torch.no_grad():
        weights = gradient.mean(dim=(2, 3), keepdim=True)  # (1, C, 1, 1)
        cam = torch.relu((weights * activation).sum(dim=1, keepdim=True))  # (1, 1, h, w)
        raw = _upsample(cam, x.shape[-2:]).to("cpu", torch.float32)  # (H, W)
        # pytorch-grad-cam's order: min-max at the layer's resolution, upsample, min-max again (its epsilon
        # makes the two orders differ for the tiny maps of an untrained network).
        heatmap = normalise(_upsample(normalise(cam), x.shape[-2:])).to("cpu", torch.float32)
    return Explanation(heatmap, raw, chosen, "gradcam", layer.path, float(logits[0, chosen].detach()))


def _upsample(cam: torch.Tensor, size: torch.Size) -> torch.Tensor:
    """(1, 1, h, w) -> (H, W), bilinear with half-pixel centres (OpenCV's resize, as pytorch-grad-cam uses)."""
    return F.interpolate(cam, size=size, mode="bilinear", align_corners=False)[0, 0]


def input_gradient(model: nn.Module, x: torch.Tensor, target: int | None, *, guided: bool) -> Explanation:
    """Saliency (plain ReLU backward) or guided backprop for a prepared (1, 3, H, W) input."""
    leaf = x.detach().clone().requires_grad_(True)
    logits, _ = run(model, leaf, guided=guided)
    chosen = resolve_target(logits, target)
    (gradient,) = torch.autograd.grad(logits[0, chosen], leaf)  # (1, 3, H, W)
    raw = gradient[0].detach().to("cpu", torch.float32)
    method = "guided_backprop" if guided else "saliency"
    return Explanation(normalise(raw.abs().amax(dim=0)), raw, chosen, method, None, float(logits[0, chosen].detach()))
