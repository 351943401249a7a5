"""The analysis results: frozen dataclasses (safe to cache and share), with JSON and DataFrame views.

Collecting the numbers (``vgg.analysis.engine``) is kept apart from formatting them (here), as in
torchinfo. Every count is for the whole batch; shapes include the batch dimension.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from vgg.arch import LayerKind, Network, VGGSpec
from vgg.format import format_shape

if TYPE_CHECKING:  # pandas is imported where a frame is made: `import vgg` and the CLI stay light
    import pandas as pd

Shape = tuple[int, ...]
Pair = tuple[int, int]


@dataclass(frozen=True)
class LayerRow:
    """One module of ``features``, ``avgpool`` or ``classifier``.

    ``kernel_size``/``stride``/``padding`` are (h, w) for conv and max-pool, None elsewhere.
    ``jump``/``start`` are None where no single stride exists (adaptive avgpool on a side that is
    not a multiple of 7, and the fully connected head); see ``vgg.analysis.fields``.
    """

    name: str  # the torchvision module path, "features.0"
    paper_name: str  # "conv1_1", "pool5", "fc6"
    stage: int  # 1-based; the head (avgpool + classifier) is the stage after the last pool
    type: str  # the module's class name, "Conv2d"
    kind: LayerKind
    kernel_size: Pair | None
    stride: Pair | None
    padding: Pair | None
    input_shape: Shape
    output_shape: Shape
    params: int  # trainable parameters
    buffers: int  # elements of BN's running mean, variance and batch counter
    buffer_bytes: int
    macs: int  # multiply-accumulates, Conv2d and Linear only, no bias
    flops: int  # 2 * macs
    activation_elements: int  # elements of the output
    activation_bytes: int  # bytes of the output in the analysis dtype
    receptive_field: int  # side of the input square one output position sees, in pixels
    jump: int | None  # input pixels between neighbouring output positions
    start: float | None  # input coordinate of the centre of output position 0
    inplace: bool  # the output reuses the input's memory (ReLU(inplace=True))

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))


@dataclass(frozen=True)
class StageSummary:
    """One stage (convs up to and including their pool), or the head (avgpool + classifier)."""

    stage: int
    label: str  # "stage 3" or "head"
    is_head: bool
    paths: tuple[str, ...]
    paper_names: tuple[str, ...]
    convs: int
    weight_layers: int  # convs, or fully connected layers in the head: the stage's share of the paper's depth
    params: int
    macs: int
    activation_bytes: int  # sum of the stage's module outputs
    input_shape: Shape
    output_shape: Shape
    receptive_field: int  # at the stage's last layer
    jump: int | None

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))


@dataclass(frozen=True)
class TrainingMemory:
    """An estimate of the memory one training step of the batch needs; see ``Totals.assumptions``."""

    optimizer: str  # "sgd_momentum" or "adam"
    weights: int
    gradients: int
    optimizer_state: int
    buffers: int
    activations: int  # tensors autograd keeps for the backward pass

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer_state + self.buffers + self.activations

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "total": self.total}


@dataclass(frozen=True)
class Totals:
    """Whole-network totals for the batch. Each memory figure's meaning is in ``assumptions``."""

    params: int
    fc_params: int
    buffers: int
    buffer_bytes: int
    macs: int
    flops: int
    weight_bytes: int  # params in the analysis dtype (fp32 unless asked otherwise)
    weight_bytes_fp32: int
    weight_bytes_fp16: int
    weight_bytes_int8: int
    input_bytes: int
    activation_bytes: int  # inference: the sum of every module's output
    peak_activation_bytes: int  # inference: the largest input + output one layer holds at once
    training_sgd: TrainingMemory
    training_adam: TrainingMemory
    assumptions: tuple[str, ...]

    @property
    def fc_param_share(self) -> float:
        return self.fc_params / self.params if self.params else 0.0

    @property
    def weight_bytes_by_dtype(self) -> dict[str, int]:
        return {"float32": self.weight_bytes_fp32, "float16": self.weight_bytes_fp16, "int8": self.weight_bytes_int8}

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params, "macs": self.macs, "flops": self.flops, "weight_bytes": self.weight_bytes,
            "activation_bytes": self.activation_bytes, "peak_activation_bytes": self.peak_activation_bytes,
            "weight_bytes_by_dtype": self.weight_bytes_by_dtype, "fc_params": self.fc_params,
            "buffers": self.buffers, "buffer_bytes": self.buffer_bytes, "input_bytes": self.input_bytes,
            "training": {"sgd_momentum": self.training_sgd.to_dict(), "adam": self.training_adam.to_dict()},
            "assumptions": list(self.assumptions),
        }


# Column name -> LayerRow attribute, in display order; shapes and kernels are shown as "3×3".
FRAME_COLUMNS: dict[str, str] = {
    "Paper name": "paper_name", "Module": "name", "Stage": "stage", "Type": "type", "Kind": "kind",
    "Kernel": "kernel_size", "Stride": "stride", "Padding": "padding", "Input shape": "input_shape",
    "Output shape": "output_shape", "Params": "params", "Buffers": "buffers", "MACs": "macs", "FLOPs": "flops",
    "Activations": "activation_elements", "Activation bytes": "activation_bytes",
    "Receptive field": "receptive_field", "Jump": "jump", "Start": "start",
}

STAGE_COLUMNS: dict[str, str] = {
    "Stage": "label", "Layers": "paper_names", "Convs": "convs", "Weight layers": "weight_layers",
    "Params": "params", "MACs": "macs", "Activation bytes": "activation_bytes", "Output shape": "output_shape",
    "Receptive field": "receptive_field", "Jump": "jump",
}


@dataclass(frozen=True)
class Report:
    """Everything ``vgg.analyze`` found about one network at one input size, batch size and dtype."""

    network: Network
    spec: VGGSpec
    config: str  # the paper's name ("E"), or the spec's text for a custom one
    batch_norm: bool
    input_size: Pair  # (H, W)
    batch_size: int
    dtype: str  # "float32"
    layers: tuple[LayerRow, ...]
    stages: tuple[StageSummary, ...]
    totals: Totals

    @property
    def label(self) -> str:
        return f"{self.config} + BN" if self.batch_norm else self.config

    @property
    def last_pool(self) -> LayerRow | None:
        """The last max-pool (pool5 in A..E): where the receptive field of the features ends."""
        return next((row for row in reversed(self.layers) if row.kind == "pool"), None)

    def layer(self, name: str) -> LayerRow:
        """The row of a module path ("features.28") or paper name ("conv5_3")."""
        for row in self.layers:
            if name in (row.name, row.paper_name):
                return row
        raise KeyError(f"No layer {name!r} in {self.label}.")

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``summary --json`` (see docs/architecture.md): layers, totals, stages, the spec's text."""
        return {
            "config": self.config, "batch_norm": self.batch_norm, "input_size": list(self.input_size),
            "batch_size": self.batch_size, "dtype": self.dtype, "spec": self.spec.to_text(),
            "layers": [row.to_dict() for row in self.layers],
            "totals": self.totals.to_dict(),
            "stages": [stage.to_dict() for stage in self.stages],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per module, readable column names (``FRAME_COLUMNS``), ready to show or save as CSV."""
        return _frame(self.layers, FRAME_COLUMNS)

    def stage_frame(self) -> pd.DataFrame:
        """One row per stage (``STAGE_COLUMNS``): params, MACs, output shape, RF at the stage's end."""
        return _frame(self.stages, STAGE_COLUMNS)


_TEXT_FIELDS = frozenset({"kernel_size", "stride", "padding"})  # None shows as an empty cell


def _cell(field: str, value: Any) -> Any:
    if value is None and field in _TEXT_FIELDS:
        return ""
    if isinstance(value, tuple):
        return ", ".join(value) if value and isinstance(value[0], str) else format_shape(value)
    return value


def _frame(items: tuple[Any, ...], columns: dict[str, str]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame([{column: _cell(field, getattr(item, field)) for column, field in columns.items()}
                          for item in items], columns=list(columns))
    if "Jump" in frame:
        frame["Jump"] = frame["Jump"].astype("Int64")  # None stays missing instead of turning the column float
    return frame


def _jsonable(value: Any) -> Any:
    """Tuples become lists, so ``to_dict()`` equals what ``json.loads(json.dumps(...))`` gives back."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Enum):
        return value.value  # a LayerKind is written as its text, "conv"
    return value
