"""Whole-network totals: counts, weight memory per dtype, activation memory, training estimates.

Every memory figure is an estimate with stated assumptions (``ASSUMPTIONS``, shown by the app).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from vgg.analysis.report import LayerRow, Totals, TrainingMemory
from vgg.arch.spec import LRN

POOL_INDEX_BYTES = 8  # max_pool2d_with_indices keeps int64 indices for backward
DROPOUT_MASK_BYTES = 1  # CUDA's fused native_dropout keeps a bool mask (CPU's dropout keeps a float one)
BN_SAVED_STAT_BYTES = 2 * 4  # BN keeps its batch mean and inverse std per channel, in fp32
LRN_SAVED_OUTPUTS = 2  # LRN's composite code keeps two more tensors of its output's size...
LRN_PADDED_CHANNELS = LRN().size - 1  # ...and the squared input padded by size - 1 channels, for its avg_pool3d
OPTIMIZER_STATES = {"sgd_momentum": 1, "adam": 2}  # buffers per weight: momentum; exp_avg + exp_avg_sq

ASSUMPTIONS: tuple[str, ...] = (
    "MACs count multiply-accumulates of Conv2d and Linear only, without bias, BN, ReLU, LRN or pooling "
    "(torchvision's _ops convention); FLOPs = 2 × MACs (torch.utils.flop_counter's convention).",
    "weight_bytes: trainable parameters × bytes per element of the dtype (fp32 4, fp16 2, int8 1); "
    "BN running statistics are buffers, counted apart (buffer_bytes).",
    "activation_bytes (inference): the sum of every module's output for the batch, in-place ReLU outputs "
    "included; what keeping every feature map would take.",
    "peak_activation_bytes (inference): the largest input + output a single layer holds at once (an "
    "in-place layer counts once); a forward pass that frees each tensor after use needs about this "
    "much besides the weights.",
    "Training (one step of this batch): weights + gradients (one per weight) + optimizer state "
    "(SGD with momentum: one buffer per weight; Adam: two, exp_avg and exp_avg_sq) + BN buffers + "
    "activations kept for backward; all in the analysis dtype, no mixed precision, no gradient "
    "checkpointing; allocator overhead, cuDNN workspace and the loss's own tensors are not included.",
    "Activations kept for backward: the input batch and every module output not computed in place "
    "(autograd saves each: conv and linear their input, BN its input, ReLU its output, pooling its "
    "input), plus max-pool indices (int64 per pooled value), BN's batch mean and inverse std (fp32 per "
    "channel), dropout masks (1 byte per element, as CUDA's fused dropout; CPU keeps a 4-byte mask), and "
    "for LRN (a composite of torch ops) two more output-sized tensors and its padded squared input. "
    "The logits are counted: the caller holds them.",
)


def _input_bytes(row: LayerRow, itemsize: int) -> int:
    return math.prod(row.input_shape) * itemsize


def peak_activation_bytes(rows: Sequence[LayerRow], itemsize: int) -> int:
    return max(_input_bytes(row, itemsize) + (0 if row.inplace else row.activation_bytes) for row in rows)


def saved_for_backward_bytes(rows: Sequence[LayerRow], itemsize: int) -> int:
    """Bytes autograd keeps between forward and backward, under the last assumption above."""
    total = _input_bytes(rows[0], itemsize)
    for row in rows:
        total += 0 if row.inplace else row.activation_bytes
        total += _saved_extra_bytes(row, itemsize)
    return total


def _saved_extra_bytes(row: LayerRow, itemsize: int) -> int:
    """What a module keeps for backward besides its input and output."""
    if row.kind == "pool":
        return row.activation_elements * POOL_INDEX_BYTES
    if row.kind == "dropout":
        return row.activation_elements * DROPOUT_MASK_BYTES
    if row.kind == "bn":
        return row.output_shape[1] * BN_SAVED_STAT_BYTES
    if row.kind == "lrn":
        batch, channels, height, width = row.output_shape
        padded = batch * (channels + LRN_PADDED_CHANNELS) * height * width * itemsize
        return LRN_SAVED_OUTPUTS * row.activation_bytes + padded
    return 0


def training_memory(optimizer: str, params: int, buffer_bytes: int, activations: int,
                    itemsize: int) -> TrainingMemory:
    weight_bytes = params * itemsize
    return TrainingMemory(optimizer=optimizer, weights=weight_bytes, gradients=weight_bytes,
                          optimizer_state=OPTIMIZER_STATES[optimizer] * weight_bytes, buffers=buffer_bytes,
                          activations=activations)


def totals(rows: Sequence[LayerRow], itemsize: int) -> Totals:
    params = sum(row.params for row in rows)
    buffer_bytes = sum(row.buffer_bytes for row in rows)
    macs = sum(row.macs for row in rows)
    kept = saved_for_backward_bytes(rows, itemsize)
    return Totals(
        params=params, fc_params=sum(row.params for row in rows if row.kind == "fc"),
        buffers=sum(row.buffers for row in rows), buffer_bytes=buffer_bytes, macs=macs, flops=2 * macs,
        weight_bytes=params * itemsize, weight_bytes_fp32=params * 4, weight_bytes_fp16=params * 2,
        weight_bytes_int8=params, input_bytes=_input_bytes(rows[0], itemsize),
        activation_bytes=sum(row.activation_bytes for row in rows),
        peak_activation_bytes=peak_activation_bytes(rows, itemsize),
        training_sgd=training_memory("sgd_momentum", params, buffer_bytes, kept, itemsize),
        training_adam=training_memory("adam", params, buffer_bytes, kept, itemsize),
        assumptions=ASSUMPTIONS,
    )
