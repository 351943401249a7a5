"""Training a mini VGG: the paper's recipe scaled down, reproducible, observable and stoppable.

The paper's recipe (§3.1): mini-batch SGD with momentum 0.9, weight decay 5e-4, dropout 0.5 in
fc6 and fc7 (none on the generated shapes: ``DEFAULT_DROPOUT``), the learning rate divided by 10
when the accuracy on held-out data stops improving (the paper: three times, from 1e-2). Scaled for
two CPU cores: batches of 16 instead of 256, a few epochs over 1,437 digits instead of 74 over 1.3M
ImageNet photos, and no augmentation. A run whose loss becomes NaN ends at that epoch.

Reproducible bit for bit on CPU with the same seed (and the same thread count): the weights are
drawn, the batches shuffled and dropout's masks sampled from one ``torch.Generator`` of the run,
never from torch's global RNG, which other threads (a web app's other sessions) may use meanwhile.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn
from torch.nn import functional as F

from vgg.train.datasets import DEFAULT_DROPOUT, Dataset, dataset_key, load_dataset
from vgg.train.errors import TrainingError
from vgg.train.mini import INIT_SCHEMES, MiniVGG, initialize

MAX_EPOCHS = 500
# One thread by default: on a two-core machine shared with other work (a web app's sessions, other
# processes), two OpenMP threads that wait on each other at every op were measured ten times slower
# than one; one thread also leaves a core to the app, and fixes the reduction order (reproducibility).
DEFAULT_THREADS = 1
LR_DROPS = 3  # the paper divided its learning rate by 10 three times


@dataclass(frozen=True)
class Recipe:
    """Everything that defines a training run; two runs with equal recipes give equal histories on CPU."""

    config: str = "D"
    batch_norm: bool = True
    dataset: str = "digits"
    epochs: int = 10
    lr: float = 0.02
    momentum: float = 0.9
    weight_decay: float = 5e-4
    dropout: float | None = None  # None: the dataset's (DEFAULT_DROPOUT: 0.5 for digits, 0 for shapes)
    batch_size: int = 16
    seed: int = 0
    width_divisor: int = 8
    input_size: int | None = None  # None: the dataset's (32 for digits, 64 for shapes)
    patience: int = 2  # epochs without a better test accuracy before the learning rate is divided by 10
    # The last ``anneal_epochs`` epochs run at most at a tenth of ``lr`` (0: off), as the paper's training ended
    # at a divided rate: a run's final figure then comes from settled weights, not from one noisy epoch at the
    # initial rate. Ignored when the run is not longer than that.
    anneal_epochs: int = 0
    init: str = "torchvision"  # or "paper": N(0, 10^-2) everywhere, as the paper's §3.1
    dataset_seed: int = 0  # fixes the data and the split, not the run

    def __post_init__(self) -> None:
        if isinstance(self.epochs, bool) or not 1 <= self.epochs <= MAX_EPOCHS:
            raise TrainingError(f"Epochs must be from 1 to {MAX_EPOCHS}, got {self.epochs}.")
        if not (math.isfinite(self.lr) and 0 < self.lr <= 10):
            raise TrainingError(f"The learning rate must be a positive number up to 10, got {self.lr}.")
        if not 1 <= self.batch_size <= 4096:
            raise TrainingError(f"The batch size must be from 1 to 4096, got {self.batch_size}.")
        if not 0 <= self.momentum < 1 or self.weight_decay < 0:
            raise TrainingError("Momentum must be in [0, 1) and weight decay at least 0.")
        if self.init not in INIT_SCHEMES:
            raise TrainingError(f"Unknown initialisation {self.init!r}: use one of {', '.join(INIT_SCHEMES)}.")
        if isinstance(self.anneal_epochs, bool) or not 0 <= self.anneal_epochs <= MAX_EPOCHS:
            raise TrainingError(f"Annealing epochs must be from 0 to {MAX_EPOCHS}, got {self.anneal_epochs}.")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise TrainingError(f"Dropout must be a probability from 0 up to (not including) 1, got {self.dropout}.")
        if not 0 <= self.seed < 2**63:
            raise TrainingError(f"The seed must be a whole number from 0 to 2**63 - 1, got {self.seed}.")

    @property
    def dropout_rate(self) -> float:
        """The dropout this run uses: its own, or its dataset's default."""
        if self.dropout is not None:
            return self.dropout
        return DEFAULT_DROPOUT[dataset_key(self.dataset)]

    def load_dataset(self) -> Dataset:
        return load_dataset(self.dataset, input_size=self.input_size, seed=self.dataset_seed)

    def network(self, dataset: Dataset) -> MiniVGG:
        return MiniVGG(self.config, batch_norm=self.batch_norm, width_divisor=self.width_divisor,
                       input_size=dataset.input_size, num_classes=dataset.num_classes, dropout=self.dropout_rate)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class EpochRecord:
    """One finished epoch: its mean training loss, accuracies, learning rate and speed."""

    epoch: int  # 1-based
    loss: float
    train_accuracy: float  # on the epoch's training batches, as seen while training (dropout on)
    test_accuracy: float  # on the whole test split, in eval mode, after the epoch
    test_loss: float
    lr: float
    seconds: float  # wall time since the run started, at the end of this epoch
    images_per_second: float  # training images per second over this epoch's steps

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class Progress:
    """What the callback hears: after every step (``kind == "step"``) and every epoch (``"epoch"``)."""

    kind: str
    epoch: int  # 1-based
    epochs: int
    step: int  # 1-based within the epoch
    steps: int  # steps per epoch
    loss: float  # this step's loss, or the epoch's mean loss
    train_accuracy: float  # so far in this epoch
    images_per_second: float  # so far in this epoch
    lr: float
    seconds: float
    test_accuracy: float | None = None  # on "epoch" events
    record: EpochRecord | None = None  # on "epoch" events

    @property
    def fraction(self) -> float:
        """How much of the whole run is done, 0..1."""
        return ((self.epoch - 1) * self.steps + self.step) / (self.epochs * self.steps)


Callback = Callable[[Progress], "bool | None"]  # return False to stop


@dataclass
class TrainResult:
    """A finished (or stopped) run: the trained model in eval mode and everything needed to describe it."""

    recipe: Recipe
    network: MiniVGG
    dataset: Dataset
    model: nn.Module
    history: list[EpochRecord] = field(default_factory=list)
    test_accuracy: float = 0.0
    seconds: float = 0.0
    stopped: bool = False
    threads: int = 1
    initialized_from: str | None = None
    diverged: bool = False  # its loss became NaN or infinite: the run ended at that epoch

    @property
    def epochs(self) -> int:
        return len(self.history)

    @property
    def divergence(self) -> str | None:
        """Why a diverged run's weights are of no use and what to try, in words; None when it did not diverge."""
        if not self.diverged:
            return None
        return (f"The loss became NaN at epoch {self.epochs}, so training ended there and its weights are of no "
                f"use: try a lower learning rate than {self.recipe.lr:g}"
                f"{'' if self.recipe.batch_norm else ', or batch norm'}.")

    def summary(self) -> dict[str, object]:
        return {"label": self.network.label, "dataset": self.dataset.name, "test_accuracy": self.test_accuracy,
                "epochs": self.epochs, "seconds": round(self.seconds, 3), "stopped": self.stopped,
                "seed": self.recipe.seed, "threads": self.threads, "diverged": self.diverged,
                "history": [record.to_dict() for record in self.history]}


class GeneratorDropout(nn.Module):
    """``nn.Dropout`` whose masks come from a given generator (used only while training).

    The masks are drawn on the generator's device (the run's generator is a CPU one) and then moved to
    the activations' device: a CPU generator cannot draw into a CUDA tensor, and drawing on the CPU
    keeps a run's random stream the same whatever device trains it. On CPU nothing moves, so the
    masks are bit for bit those of ``torch.empty_like(x).bernoulli_(1 - p, generator=generator)``.
    """

    def __init__(self, p: float, generator: torch.Generator) -> None:
        super().__init__()
        self.p, self.generator = p, generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return torch.zeros_like(x)
        keep = torch.empty(x.shape, dtype=x.dtype, device=self.generator.device)
        keep = keep.bernoulli_(1 - self.p, generator=self.generator).to(x.device)
        return x * keep / (1 - self.p)


@contextlib.contextmanager
def seeded_dropout(model: nn.Module, generator: torch.Generator) -> Iterator[None]:
    """Swap each ``nn.Dropout`` of ``model`` for a ``GeneratorDropout`` for the duration, then put it back."""
    swapped: list[tuple[nn.Module, str, nn.Module]] = []
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.Dropout):
                swapped.append((parent, name, child))
                setattr(parent, name, GeneratorDropout(child.p, generator))
    try:
        yield
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)


def resolve_device(device: str | torch.device | None) -> torch.device:
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *,
             batch_size: int = 256) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of ``model`` in eval mode on normalised ``images``."""
    was_training = model.training
    model.eval()
    correct, loss = 0, 0.0
    with torch.inference_mode():
        for start in range(0, len(labels), batch_size):
            logits = model(images[start:start + batch_size])
            target = labels[start:start + batch_size]
            loss += float(F.cross_entropy(logits, target, reduction="sum"))
            correct += int((logits.argmax(1) == target).sum())
    model.train(was_training)
    return correct / max(len(labels), 1), loss / max(len(labels), 1)


def fit(recipe: Recipe, *, callback: Callback | None = None, stop: threading.Event | None = None,
        device: str | torch.device | None = "cpu", init_from: nn.Module | None = None,
        copy_layers: tuple[str, ...] | None = None, dataset: Dataset | None = None,
        threads: int | None = DEFAULT_THREADS) -> TrainResult:
    """Train the recipe's mini VGG on its dataset and return the result (the model in eval mode).

    ``callback(progress)`` is called after every step and every epoch; returning False stops the run,
    as does setting ``stop``. A stopped run keeps its finished epochs and reports the test accuracy of
    the weights it stopped with. ``init_from`` (a trained mini of the same widths) with ``copy_layers``
    (paper names, e.g. ``PAPER_COPIED_LAYERS``) starts from those layers' weights, the rest drawn fresh.
    ``threads`` sets torch's intra-op threads for this call (the calling thread's, restored after);
    None leaves them as they are.
    """
    with _threads(threads):
        return _fit(recipe, callback, stop, device, init_from, copy_layers, dataset)


@contextlib.contextmanager
def _threads(count: int | None) -> Iterator[None]:
    previous = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(max(1, count))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _fit(recipe: Recipe, callback: Callback | None, stop: threading.Event | None, device: str | torch.device | None,
         init_from: nn.Module | None, copy_layers: tuple[str, ...] | None, dataset: Dataset | None) -> TrainResult:
    from vgg.train.mini import copy_layers as copy_weight_layers

    data = dataset if dataset is not None else recipe.load_dataset()
    network = recipe.network(data)
    target = resolve_device(device)
    generator = torch.Generator().manual_seed(recipe.seed)  # one stream for init, shuffling and dropout
    model = network.build(init_weights=False)
    initialize(model, generator, recipe.init)
    copied = None
    if init_from is not None:
        copied = ", ".join(copy_weight_layers(init_from, model, copy_layers or ()))
    model.to(target)
    train_x = data.normalize(data.train.images).to(target)
    train_y = data.train.labels.to(target)
    test_x, test_y = data.normalize(data.test.images).to(target), data.test.labels.to(target)
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                                weight_decay=recipe.weight_decay)
    result = TrainResult(recipe, network, data, model, threads=torch.get_num_threads(), initialized_from=copied)
    schedule = _Plateau(recipe.lr, recipe.patience)
    steps = math.ceil(len(train_y) / recipe.batch_size)
    anneal_from = recipe.epochs - recipe.anneal_epochs + 1 if 0 < recipe.anneal_epochs < recipe.epochs else None
    started = time.perf_counter()

    def halted(progress: Progress) -> bool:
        wants_stop = callback is not None and callback(progress) is False
        return wants_stop or (stop is not None and stop.is_set())

    mid_epoch = False  # stopped between two steps: the weights are not those the last test pass saw
    model.train()
    with seeded_dropout(model, generator):
        for epoch in range(1, recipe.epochs + 1):
            if epoch == anneal_from:
                for group in optimizer.param_groups:
                    group["lr"] = schedule.anneal(recipe.lr / 10)
            order = torch.randperm(len(train_y), generator=generator).to(target)
            epoch_started, seen, correct, loss_sum = time.perf_counter(), 0, 0, 0.0
            for step in range(1, steps + 1):
                index = order[(step - 1) * recipe.batch_size:step * recipe.batch_size]
                images, labels = train_x[index], train_y[index]  # (B, 3, S, S), (B,)
                logits = model(images)
                loss = F.cross_entropy(logits, labels)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step_loss = float(loss.detach())
                if not math.isfinite(step_loss):
                    step_loss = float("nan")
                seen += len(labels)
                correct += int((logits.detach().argmax(1) == labels).sum())
                loss_sum += step_loss * len(labels)
                rate = seen / max(time.perf_counter() - epoch_started, 1e-9)
                progress = Progress("step", epoch, recipe.epochs, step, steps, step_loss, correct / seen, rate,
                                    schedule.lr, time.perf_counter() - started)
                if halted(progress):
                    result.stopped = mid_epoch = True
                    break
            if result.stopped:
                break
            rate = seen / max(time.perf_counter() - epoch_started, 1e-9)
            test_accuracy, test_loss = evaluate(model, test_x, test_y)
            record = EpochRecord(epoch, loss_sum / seen, correct / seen, test_accuracy, test_loss, schedule.lr,
                                 time.perf_counter() - started, rate)
            result.history.append(record)
            new_lr = schedule.update(test_accuracy)
            for group in optimizer.param_groups:
                group["lr"] = new_lr
            progress = Progress("epoch", epoch, recipe.epochs, steps, steps, record.loss, record.train_accuracy,
                                rate, record.lr, record.seconds, test_accuracy, record)
            if halted(progress):
                result.stopped = epoch < recipe.epochs
                break
            if not (math.isfinite(record.loss) and math.isfinite(record.test_loss)):
                # NaN weights never recover: the remaining epochs would only spend minutes of CPU on them.
                result.diverged = True
                break
    model.eval()
    if mid_epoch or not result.history:
        result.test_accuracy = evaluate(model, test_x, test_y)[0]  # the weights it stopped with
    else:
        result.test_accuracy = result.history[-1].test_accuracy  # measured on these very weights after the epoch
    result.seconds = time.perf_counter() - started
    return result


class _Plateau:
    """The learning rate divided by 10 when the test accuracy has not improved for ``patience`` epochs."""

    def __init__(self, lr: float, patience: int) -> None:
        self.lr, self.patience = lr, max(patience, 1)
        self.best, self.waited, self.drops = -1.0, 0, 0

    def update(self, accuracy: float) -> float:
        if accuracy > self.best:
            self.best, self.waited = accuracy, 0
        else:
            self.waited += 1
            if self.waited >= self.patience and self.drops < LR_DROPS:
                self.lr, self.waited, self.drops = self.lr / 10, 0, self.drops + 1
        return self.lr

    def anneal(self, lr: float) -> float:
        """At most ``lr`` from now on (counted as a drop when it lowers the rate)."""
        if self.lr > lr:
            self.lr, self.waited, self.drops = lr, 0, self.drops + 1
        return self.lr


def with_seed(recipe: Recipe, seed: int) -> Recipe:
    return replace(recipe, seed=seed)
