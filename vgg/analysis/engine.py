"""``vgg.analyze``: per-layer and total numbers of a VGG, from its meta model, in milliseconds."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from itertools import groupby

import torch

from vgg.analysis import counts
from vgg.analysis.fields import Field, kernel_geometry, receptive_fields
from vgg.analysis.memory import totals
from vgg.analysis.report import LayerRow, Report, StageSummary
from vgg.analysis.trace import Traced, check_input_size, meta_model, trace
from vgg.arch import ConfigLike, Network, NetworkLike, find_named_config
from vgg.errors import VGGError

__all__ = ["ConfigLike", "analyze", "clear_caches", "stage_summaries"]


def analyze(config: NetworkLike, *, batch_norm: bool | None = None, num_classes: int | None = None,
            hidden_features: int | None = None, pooled_size: int | None = None,
            input_size: tuple[int, int] = (224, 224), batch_size: int = 1,
            dtype: torch.dtype = torch.float32) -> Report:
    """Every module's shapes, params, MACs, memory and receptive field, and the totals, as a frozen Report.

    ``config`` is a ``Network`` or anything ``Network.resolve`` accepts ("D", "vgg16_bn", "64 M 128 M", a
    list, a spec); ``batch_norm`` and the head's sizes override it. Raises ``SpecError`` for a bad config
    and ``InputSizeError`` for an input too small for the pools.
    Results are cached: the Report is immutable, so callers may share it.
    """
    network = Network.resolve(config, batch_norm=batch_norm, num_classes=num_classes,
                              hidden_features=hidden_features, pooled_size=pooled_size)
    size = check_input_size(tuple(input_size), batch_size)
    if not isinstance(dtype, torch.dtype):
        raise VGGError(f"dtype must be a torch.dtype such as torch.float16, got {dtype!r}.")
    return _analyze(network, size, int(batch_size), dtype)


def clear_caches(*, models: bool = True) -> None:
    """Forget cached reports, and the meta models unless ``models=False`` (benchmarks time both costs)."""
    _analyze.cache_clear()
    if models:
        meta_model.cache_clear()


@functools.lru_cache(maxsize=128)
def _analyze(network: Network, input_size: tuple[int, int], batch_size: int, dtype: torch.dtype) -> Report:
    traced = trace(network, input_size, batch_size)
    itemsize = dtype.itemsize
    rows = tuple(_row(layer, field, itemsize) for layer, field in zip(traced, receptive_fields(traced), strict=True))
    spec = network.spec
    return Report(network=network, spec=spec, config=find_named_config(spec) or spec.to_text(),
                  batch_norm=network.batch_norm,
                  input_size=input_size, batch_size=batch_size, dtype=str(dtype).removeprefix("torch."),
                  layers=rows, stages=stage_summaries(rows), totals=totals(rows, itemsize))


def _row(layer: Traced, field: Field, itemsize: int) -> LayerRow:
    module, info = layer.module, layer.info
    geometry = kernel_geometry(module)
    kernel, stride, padding = geometry if geometry is not None else (None, None, None)
    macs = counts.macs(module, layer.output_shape)
    elements = math.prod(layer.output_shape)
    return LayerRow(
        name=info.path, paper_name=info.paper_name, stage=info.stage, type=type(module).__name__, kind=info.kind,
        kernel_size=kernel, stride=stride, padding=padding, input_shape=layer.input_shape,
        output_shape=layer.output_shape, params=counts.trainable_params(module),
        buffers=counts.buffer_elements(module), buffer_bytes=counts.buffer_bytes(module, itemsize),
        macs=macs, flops=2 * macs, activation_elements=elements, activation_bytes=elements * itemsize,
        receptive_field=field.receptive_field, jump=field.jump, start=field.start,
        inplace=bool(getattr(module, "inplace", False)),
    )


def stage_summaries(rows: Sequence[LayerRow]) -> tuple[StageSummary, ...]:
    """Per-stage sums, and the shape and receptive field where each stage ends."""
    head_stage = max(row.stage for row in rows)
    summaries = []
    for stage, members in groupby(rows, key=lambda row: row.stage):
        members = tuple(members)
        last = members[-1]
        summaries.append(StageSummary(
            stage=stage, label="head" if stage == head_stage else f"stage {stage}", is_head=stage == head_stage,
            paths=tuple(row.name for row in members),
            paper_names=tuple(row.paper_name for row in members if row.kind in ("conv", "lrn", "pool", "fc")),
            convs=sum(row.kind == "conv" for row in members),
            weight_layers=sum(row.kind in ("conv", "fc") for row in members),
            params=sum(row.params for row in members), macs=sum(row.macs for row in members),
            activation_bytes=sum(row.activation_bytes for row in members),
            input_shape=members[0].input_shape, output_shape=last.output_shape,
            receptive_field=last.receptive_field, jump=last.jump,
        ))
    return tuple(summaries)
