"""Errors of training: each a ``VGGError`` that says what was wrong and what to do."""

from vgg.errors import VGGError, WeightsError


class DatasetError(VGGError):
    """An unknown dataset, or a size or split it cannot give."""


class TrainingError(VGGError):
    """A training recipe that cannot run (an epoch count, learning rate or batch size out of range)."""


class CheckpointError(WeightsError):
    """A trained checkpoint that cannot be read: truncated, hostile, or not one this project wrote."""
