"""Training mini VGGs on data that ships offline, and the paper's experiments in miniature.

- datasets: ``digits_dataset`` (scikit-learn's bundled handwritten digits), ``shapes_dataset``
  (generated shapes with bounding boxes), ``load_dataset(name)``;
- drawings: ``digit_from_drawing`` turns a digit drawn with a mouse into the digits dataset's 8x8 scan
  and the network's input, as a test image is made;
- the network: ``MiniVGG`` (any configuration, widths divided by a factor, a small input);
- training: ``Recipe`` and ``fit`` (progress callback, stoppable, reproducible on CPU);
- checkpoints: ``save_checkpoint`` / ``load_checkpoint`` (self-describing, ``weights_only``);
- experiments: ``EXPERIMENTS`` and ``run_experiment`` (depth, 1x1, LRN, batch norm, the paper's
  initialisation, a miniature Table 3);
- ``TrainingQueue``: one job at a time in a background thread, the others queued, progress readable
  from any thread (what the app's Train view uses).
"""

from vgg.train.checkpoint import TrainedModel, checkpoint_bytes, is_trained_checkpoint, load_checkpoint, save_checkpoint
from vgg.train.datasets import (
    DATASETS,
    DEFAULT_DROPOUT,
    SHAPE_CLASSES,
    Dataset,
    Split,
    digits_dataset,
    load_dataset,
    scans_to_images,
    shapes_dataset,
)
from vgg.train.drawing import DrawnDigit, digit_from_drawing
from vgg.train.errors import CheckpointError, DatasetError, TrainingError
from vgg.train.experiments import (
    EXPERIMENTS,
    PAPER_TABLE3,
    Experiment,
    ExperimentProgress,
    ExperimentResult,
    Row,
    Run,
    get_experiment,
    run_experiment,
)
from vgg.train.jobs import FINISHED, Curve, JobView, TrainedEntry, TrainingQueue
from vgg.train.mini import PAPER_COPIED_LAYERS, MiniVGG, copy_layers, scale_spec, weight_layers
from vgg.train.trainer import EpochRecord, Progress, Recipe, TrainResult, evaluate, fit

__all__ = [  # noqa: RUF022 - grouped by topic
    # data
    "DATASETS", "DEFAULT_DROPOUT", "SHAPE_CLASSES", "Dataset", "Split", "digits_dataset", "load_dataset",
    "scans_to_images", "shapes_dataset",
    # drawings
    "DrawnDigit", "digit_from_drawing",
    # the mini network
    "MiniVGG", "PAPER_COPIED_LAYERS", "copy_layers", "scale_spec", "weight_layers",
    # training
    "EpochRecord", "Progress", "Recipe", "TrainResult", "evaluate", "fit",
    # checkpoints
    "TrainedModel", "checkpoint_bytes", "is_trained_checkpoint", "load_checkpoint", "save_checkpoint",
    # experiments
    "EXPERIMENTS", "PAPER_TABLE3", "Experiment", "ExperimentProgress", "ExperimentResult", "Row", "Run",
    "get_experiment", "run_experiment",
    # a server-wide queue of training jobs (the app's)
    "FINISHED", "Curve", "JobView", "TrainedEntry", "TrainingQueue",
    # errors
    "CheckpointError", "DatasetError", "TrainingError",
]
