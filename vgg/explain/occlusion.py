"""Occlusion (Zeiler & Fergus, 2014), defined as captum's ``Occlusion`` with a window over all
channels: slide a ``window`` x ``window`` patch of ``baseline`` over the image with ``stride``
(captum's positions: ``ceil((side - window) / stride) + 1`` per axis, the last one clipped at the
border), record how much the target's logit drops for each position, and give every pixel the mean
drop over the windows that covered it. captum returns that value on each of the 3 channels;
``.raw`` is their sum, so it equals captum's attribution summed over channels.

Every occluded copy changes only a patch of the image, and a VGG layer changes only a slightly
larger patch of the map it reads (a 3x3 conv grows it by one position a side, a pool halves it).
So each copy carries just its patch through the network and pastes it onto the unoccluded image's
maps, until the patch covers a whole map: the same numbers as running every copy whole, at a
fraction of the convolutions (VGG16, 32 px window, stride 16: about a quarter). Copies run in
batches, under ``torch.inference_mode``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from vgg.explain.layers import ExplainError, Layer, apply, named_layers, resolve_target, run
from vgg.explain.result import Explanation, normalise

DEFAULT_WINDOW, DEFAULT_STRIDE, DEFAULT_BATCH = 32, 16, 16


def occlusion(model: nn.Module, x: torch.Tensor, *, target: int | None = None, window: int | Sequence[int] = 32,
              stride: int | Sequence[int] = 16, baseline: float | torch.Tensor = 0.0,
              batch_size: int = DEFAULT_BATCH) -> Explanation:
    """Occlusion of a prepared (1, 3, H, W) input; see the module docstring."""
    height, width = x.shape[-2:]
    window_hw, stride_hw = _pair(window, "window"), _pair(stride, "stride")
    _check_geometry((height, width), window_hw, stride_hw)
    if batch_size < 1:
        raise ExplainError(f"batch_size must be at least 1, got {batch_size}.")
    fill = _baseline(baseline, x)
    rows = _positions(height, window_hw[0], stride_hw[0])
    columns = _positions(width, window_hw[1], stride_hw[1])
    boxes = [(top, left) for top in rows for left in columns]
    with torch.inference_mode():
        logits, _ = run(model, x)
        chosen = resolve_target(logits, target)
        base = logits[0, chosen]
        scores = _occluded_scores(model, x, fill, boxes, window_hw, chosen, batch_size)  # (len(boxes),)
        drops = (base - scores).view(len(rows), len(columns)).to(torch.float64)
        row_masks = _masks(rows, window_hw[0], height)  # (rows, H)
        column_masks = _masks(columns, window_hw[1], width)  # (columns, W)
        total = row_masks.T @ drops @ column_masks  # (H, W): sum of drops over the windows covering each pixel
        count = row_masks.sum(dim=0)[:, None] * column_masks.sum(dim=0)[None, :]  # windows covering each pixel
        raw = (total / count * x.shape[1]).to("cpu", torch.float32)  # summed over the 3 channels, as captum's
    options = {"window": window_hw, "stride": stride_hw,
               "baseline": float(baseline) if not isinstance(baseline, torch.Tensor) else "tensor"}
    return Explanation(normalise(raw), raw, chosen, "occlusion", None, float(base), options)


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(side, int) and not isinstance(side, bool) and side >= 1 for side in pair):
        raise ExplainError(f"{name} must be a positive integer or a (height, width) pair of them; got {value!r}.")
    return pair  # type: ignore[return-value]


def _check_geometry(size: tuple[int, int], window: tuple[int, int], stride: tuple[int, int]) -> None:
    for side, win, step in zip(size, window, stride, strict=True):
        if win > side:
            raise ExplainError(f"The occlusion window ({win} px) is larger than the image ({side} px).")
        if step > win and win < side:
            raise ExplainError(f"The stride ({step} px) is larger than the window ({win} px): pixels between "
                               "windows would never be occluded.")


def _baseline(baseline: float | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """What fills the window, as a (1, 3, H, W) tensor (0: ImageNet's mean colour after normalisation)."""
    if isinstance(baseline, torch.Tensor):
        try:
            return baseline.to(device=x.device, dtype=x.dtype).expand_as(x)
        except RuntimeError as error:
            raise ExplainError(f"A baseline tensor must broadcast to the image's shape {tuple(x.shape)}; got "
                               f"{tuple(baseline.shape)}.") from error
    if isinstance(baseline, bool) or not isinstance(baseline, int | float):
        raise ExplainError(f"baseline must be a number or a tensor; got {baseline!r}.")
    return torch.full_like(x, float(baseline))


def _positions(side: int, window: int, stride: int) -> list[int]:
    return [k * stride for k in range(math.ceil((side - window) / stride) + 1)]


def _masks(starts: list[int], window: int, side: int) -> torch.Tensor:
    masks = torch.zeros(len(starts), side, dtype=torch.float64)
    for index, start in enumerate(starts):
        masks[index, start:start + window] = 1.0  # the last window is clipped at the border, as captum's
    return masks


def _occluded_scores(model: nn.Module, x: torch.Tensor, fill: torch.Tensor, boxes: list[tuple[int, int]],
                     window: tuple[int, int], target: int, batch_size: int) -> torch.Tensor:
    layers = named_layers(model)
    plan = _plan(layers, x.shape[-2:])
    if plan is None:  # a layer the patch rule does not know: run every copy whole
        return torch.cat([_whole_scores(model, x, fill, chunk, window, target)
                          for chunk in _chunks(boxes, batch_size)])
    maps = _base_maps(layers, x, plan.until)
    return torch.cat([_patch_scores(layers, plan, maps, x, fill, chunk, window, target)
                      for chunk in _chunks(boxes, batch_size)])


def _chunks(boxes: list[tuple[int, int]], size: int) -> list[list[tuple[int, int]]]:
    return [boxes[i:i + size] for i in range(0, len(boxes), size)]


def _occluded_copies(x: torch.Tensor, fill: torch.Tensor, boxes: list[tuple[int, int]],
                     window: tuple[int, int]) -> torch.Tensor:
    copies = x.repeat(len(boxes), 1, 1, 1)  # (k, 3, H, W)
    for index, (top, left) in enumerate(boxes):
        region = (slice(None), slice(top, top + window[0]), slice(left, left + window[1]))
        copies[index][region] = fill[0][region]
    return copies


def _whole_scores(model: nn.Module, x: torch.Tensor, fill: torch.Tensor, boxes: list[tuple[int, int]],
                  window: tuple[int, int], target: int) -> torch.Tensor:
    logits, _ = run(model, _occluded_copies(x, fill, boxes, window))
    return logits[:, target]


@dataclass(frozen=True)
class _Plan:
    """How a patch travels: per layer of features up to ``until``, how far it grows (halo) or shrinks."""

    until: int  # index into the layers after which the patch covers the whole map: run the rest whole
    steps: tuple[str, ...]  # per layer before ``until``: "same" (elementwise), "conv", "pool"


def _plan(layers: Sequence[Layer], size: torch.Size) -> _Plan | None:
    """Which layers a patch can pass; None if one of them is not a same-padded conv, 2x2 pool or elementwise."""
    steps = []
    for index, layer in enumerate(layers):
        if not layer.path.startswith("features."):
            return _Plan(index, tuple(steps))
        module = layer.module
        if layer.kind in ("bn", "relu", "lrn"):  # LRN mixes channels, not positions
            steps.append("same")
        elif layer.kind == "conv" and _same_padded(module):
            steps.append("conv")
        elif layer.kind == "pool" and _plain_pool(module):
            steps.append("pool")
        else:
            return None
    return _Plan(len(layers), tuple(steps))


def _same_padded(conv: nn.Module) -> bool:
    k = conv.kernel_size
    return (conv.stride == (1, 1) and conv.dilation == (1, 1) and k[0] == k[1] and k[0] % 2 == 1
            and conv.padding == (k[0] // 2, k[1] // 2) and conv.padding_mode == "zeros" and conv.groups == 1)


def _plain_pool(pool: nn.Module) -> bool:
    return pool.kernel_size in (2, (2, 2)) and pool.stride in (2, (2, 2)) and pool.padding in (0, (0, 0)) \
        and pool.dilation in (1, (1, 1)) and not pool.ceil_mode


def _base_maps(layers: Sequence[Layer], x: torch.Tensor, until: int) -> list[torch.Tensor]:
    """The unoccluded image's input to every layer of features (maps[i] enters layer i)."""
    maps = [x]
    for layer in layers[:until]:
        maps.append(apply(layer, maps[-1]))
    return maps


def _patch_scores(layers: Sequence[Layer], plan: _Plan, maps: list[torch.Tensor], x: torch.Tensor,
                  fill: torch.Tensor, boxes: list[tuple[int, int]], window: tuple[int, int],
                  target: int) -> torch.Tensor:
    """The target's logit for each occluded copy, carrying only its patch through features."""
    height, width = x.shape[-2:]
    size = window  # (h, w) of every copy's patch: the same for all, so they batch
    # (top, left) of each copy's patch in the current map: a window clipped at the border moves inwards
    origins = [(min(top, height - size[0]), min(left, width - size[1])) for top, left in boxes]
    patches = torch.stack([_occluded_patch(x[0], fill[0], box, origin, size)
                           for box, origin in zip(boxes, origins, strict=True)])  # (k, 3, h, w)
    for index, step in enumerate(plan.steps):
        layer, before = layers[index], maps[index]
        map_size = tuple(before.shape[-2:])
        if size == map_size:  # the patch is the whole map: the rest runs whole
            return _finish(layers, index, patches, target)
        if step == "same":
            patches = apply(layer, patches)
            continue
        grow = layer.module.kernel_size[0] // 2 if step == "conv" else 0
        new_size, new_origins = _next_box(origins, size, map_size, step, grow)
        patches = _run_on_canvas(layer, before, patches, origins, size, new_origins, new_size, step, grow)
        origins, size = new_origins, new_size
    full = maps[plan.until].repeat(len(boxes), 1, 1, 1)
    for index, (top, left) in enumerate(origins):
        full[index, :, top:top + size[0], left:left + size[1]] = patches[index]
    return _finish(layers, plan.until, full, target)


def _occluded_patch(image: torch.Tensor, fill: torch.Tensor, box: tuple[int, int], origin: tuple[int, int],
                    size: tuple[int, int]) -> torch.Tensor:
    """The occluded image over [origin, origin + size): the window's part of it is ``fill`` (a window
    clipped at the border covers less than ``size``; the rest of its patch is the image)."""
    (top, left), (origin_top, origin_left) = box, origin
    patch = image[:, origin_top:origin_top + size[0], origin_left:origin_left + size[1]].clone()
    patch[:, top - origin_top:, left - origin_left:] = fill[:, top:origin_top + size[0], left:origin_left + size[1]]
    return patch


def _paste(canvas: torch.Tensor, patch: torch.Tensor, top: int, left: int) -> None:
    """``patch`` into ``canvas`` (C, H, W) with its corner at (top, left); what falls outside is dropped
    (the last row of an odd-sized map, which a 2x2 pool never reads)."""
    height, width = canvas.shape[-2:]
    rows = slice(max(top, 0), min(top + patch.shape[-2], height))
    columns = slice(max(left, 0), min(left + patch.shape[-1], width))
    canvas[:, rows, columns] = patch[:, rows.start - top:rows.stop - top, columns.start - left:columns.stop - left]


def _next_box(origins: list[tuple[int, int]], size: tuple[int, ...], map_size: tuple[int, ...], step: str,
              grow: int) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """The patch after a layer: a conv grows it by ``grow`` a side, a 2x2 pool halves it (one more
    position when it straddles a pair); clamped inside the output map, every copy the same size."""
    if step == "conv":
        out_map = map_size
        new_size = tuple(min(side + 2 * grow, limit) for side, limit in zip(size, out_map, strict=True))
        corners = [(top - grow, left - grow) for top, left in origins]
    else:
        out_map = tuple(side // 2 for side in map_size)
        new_size = tuple(min(side // 2 + 1, limit) for side, limit in zip(size, out_map, strict=True))
        corners = [(top // 2, left // 2) for top, left in origins]
    new_origins = [(min(max(top, 0), out_map[0] - new_size[0]), min(max(left, 0), out_map[1] - new_size[1]))
                   for top, left in corners]
    return new_size, new_origins  # type: ignore[return-value]


def _run_on_canvas(layer: Layer, before: torch.Tensor, patches: torch.Tensor, origins: list[tuple[int, int]],
                   size: tuple[int, ...], new_origins: list[tuple[int, int]], new_size: tuple[int, int], step: str,
                   grow: int) -> torch.Tensor:
    """Each copy's layer output over its new box: the unoccluded input around it (zero-padded as the
    conv pads), with the copy's patch pasted in, through the layer without padding."""
    padded = F.pad(before, (grow, grow, grow, grow)) if grow else before  # (1, C, H + 2g, W + 2g)
    scale = 1 if step == "conv" else 2
    need = (new_size[0] * scale + 2 * grow, new_size[1] * scale + 2 * grow)
    corners = [(top * scale, left * scale) for top, left in new_origins]  # in padded coordinates, halo included
    batch = torch.stack([padded[0, :, top:top + need[0], left:left + need[1]] for top, left in corners])
    for canvas, (top, left), (in_top, in_left), patch in zip(batch, origins, corners, patches, strict=True):
        _paste(canvas, patch, top + grow - in_top, left + grow - in_left)  # (C, need_h, need_w) each
    if step == "conv":
        conv = layer.module
        return F.conv2d(batch, conv.weight, conv.bias)  # (k, C', new_h, new_w): padding came from the canvas
    return layer.module(batch)  # (k, C, new_h, new_w)


def _finish(layers: Sequence[Layer], start: int, x: torch.Tensor, target: int) -> torch.Tensor:
    for layer in layers[start:]:
        x = apply(layer, x)
    return x[:, target]
