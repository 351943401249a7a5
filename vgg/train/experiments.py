"""The paper's experiments in miniature (its §4 and §3.1), each a few mini VGGs trained side by side.

Each experiment is a tuple of arms (a label and a ``Recipe``); an arm may start from the layers of an
earlier arm's trained model, as the paper started its deeper nets from net A. ``run_experiment``
trains every arm for every seed and returns the histories (for overlaid curves), a table of test
error as mean ± std over seeds, and a sentence saying what the run showed, measured, not assumed.
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from torch import nn

from vgg.train.errors import TrainingError
from vgg.train.mini import PAPER_COPIED_LAYERS
from vgg.train.trainer import DEFAULT_THREADS, EpochRecord, Progress, Recipe, fit

# The paper's Table 3 (ConvNet performance at a single test scale, training scale S = 256):
# top-1 and top-5 validation error on ImageNet, in percent.
PAPER_TABLE3: dict[str, tuple[float, float]] = {
    "A": (29.6, 10.4), "A-LRN": (29.7, 10.5), "B": (28.7, 9.9), "C": (28.1, 9.4), "D": (27.0, 8.8), "E": (27.3, 9.0),
}
EXPERIMENT_EPOCHS = 6


@dataclass(frozen=True)
class Arm:
    """One line of an experiment: a label, a recipe, and optionally the layers it takes from an earlier arm."""

    label: str
    recipe: Recipe
    init_from: str | None = None
    copy_layers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    question: str
    paper: str  # what the paper found, in one sentence
    arms: tuple[Arm, ...]
    caveat: str = ("On 1,437 handwritten digits at 32 px with widths divided by 8, every network can reach "
                   "high accuracy in a few epochs, so differences of a fraction of a point are within the "
                   "spread between seeds; ImageNet's 1.3M photos of 1,000 classes are a far harder task.")


def _arms(configs: tuple[str, ...], **fields: object) -> tuple[Arm, ...]:
    return tuple(Arm(name, Recipe(name, epochs=EXPERIMENT_EPOCHS, **fields)) for name in configs)  # type: ignore[arg-type]


_NO_BN = {"batch_norm": False}
_PAPER_INIT = {"batch_norm": False, "init": "paper"}

EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment for experiment in (
        Experiment("depth", "Depth: A vs B vs D vs E",
                   "Does a deeper network (11, 13, 16, 19 weight layers) do better?",
                   "Error fell with depth from A (29.6% top-1) to D (27.0%); E (27.3%) saturated at that scale.",
                   _arms(("A", "B", "D", "E"), **_NO_BN)),
        Experiment("1x1", "1x1 vs 3x3 convolutions: C vs D", "C adds three 1x1 convs where D has 3x3 ones: "
                   "is the extra non-linearity enough, or does spatial context matter?",
                   "C (28.1%) beat B (28.7%) but lost to D (27.0%): 3x3 context matters beyond the added "
                   "non-linearity.", _arms(("C", "D"), **_NO_BN)),
        Experiment("lrn", "Local response normalisation: A vs A-LRN", "Does AlexNet's LRN help?",
                   "It does not: A-LRN 29.7% vs A 29.6%, for more memory and time.",
                   _arms(("A", "A-LRN"), **_NO_BN)),
        Experiment("bn", "Batch norm on and off: E", "How much does batch normalisation (not in the paper, added "
                   "by torchvision's _bn variants) change training of the deepest net?",
                   "The paper predates batch norm; torchvision's VGG19-BN reaches 25.8% top-1 against 27.6% "
                   "without.",
                   (Arm("E", Recipe("E", batch_norm=False, epochs=EXPERIMENT_EPOCHS)),
                    Arm("E+BN", Recipe("E", batch_norm=True, epochs=EXPERIMENT_EPOCHS)))),
        Experiment("init", "The paper's initialisation: E from N(0, 10^-2) vs E from A",
                   "Can the deep E without batch norm learn from plain random weights, or does it need the "
                   "first layers of a trained A?",
                   "The paper trained A from N(0, 10^-2) weights, then started deeper nets with A's first four "
                   "conv layers and three FC layers, 'as bad initialisation can stall learning'.",
                   (Arm("A (N(0, 10^-2))", Recipe("A", epochs=EXPERIMENT_EPOCHS, **_PAPER_INIT)),  # type: ignore[arg-type]
                    Arm("E (N(0, 10^-2))", Recipe("E", epochs=EXPERIMENT_EPOCHS, **_PAPER_INIT)),  # type: ignore[arg-type]
                    Arm("E (from A)", Recipe("E", epochs=EXPERIMENT_EPOCHS, **_PAPER_INIT),  # type: ignore[arg-type]
                        init_from="A (N(0, 10^-2))", copy_layers=PAPER_COPIED_LAYERS))),
        Experiment("table3", "A miniature Table 3", "Final test error of every configuration, over several seeds, "
                   "beside the paper's ImageNet numbers.",
                   "Top-1 error fell from A (29.6%) to D (27.0%) and E (27.3%); LRN did not help; C sat between "
                   "B and D.", _arms(("A", "A-LRN", "B", "C", "D", "E"), **_NO_BN)),
    )
}


@dataclass(frozen=True)
class Run:
    """One trained arm at one seed."""

    arm: str
    seed: int
    history: tuple[EpochRecord, ...]
    test_accuracy: float
    seconds: float
    stopped: bool

    @property
    def test_error(self) -> float:
        return 1 - self.test_accuracy


@dataclass(frozen=True)
class Row:
    """One arm's final test error over seeds, beside the paper's where it has one."""

    arm: str
    runs: int
    mean_error: float
    std_error: float  # 0 for one seed
    paper_top1: float | None = None
    paper_top5: float | None = None


@dataclass
class ExperimentResult:
    experiment: Experiment
    seeds: tuple[int, ...]
    runs: list[Run] = field(default_factory=list)
    stopped: bool = False

    def rows(self) -> list[Row]:
        rows = []
        for arm in self.experiment.arms:
            errors = [run.test_error for run in self.runs if run.arm == arm.label and not run.stopped]
            if not errors:
                continue
            paper = PAPER_TABLE3.get(arm.label)
            rows.append(Row(arm.label, len(errors), statistics.fmean(errors),
                            statistics.stdev(errors) if len(errors) > 1 else 0.0,
                            paper[0] if paper else None, paper[1] if paper else None))
        return rows

    def conclusion(self) -> str:
        """What this run showed, in one or two sentences, from its own numbers."""
        rows = self.rows()
        if len(rows) < 2:
            return "Too few arms finished to compare."
        best, worst = min(rows, key=lambda row: row.mean_error), max(rows, key=lambda row: row.mean_error)
        gap = worst.mean_error - best.mean_error
        spread = max(row.std_error for row in rows)
        seeds = len(self.seeds)
        measured = (f"Here {best.arm} ended with the lowest test error ({best.mean_error:.1%}) and {worst.arm} "
                    f"the highest ({worst.mean_error:.1%}), {gap * 100:.1f} points apart")
        if seeds > 1 and gap <= 2 * spread:
            measured += (f", within twice the spread between seeds ({spread * 100:.1f} points): "
                         "no reliable difference at this size.")
        elif seeds == 1:
            measured += "; with one seed, run more seeds before trusting a gap this small." if gap < 0.01 else "."
        else:
            measured += f", more than twice the spread between seeds ({spread * 100:.1f} points)."
        return f"{measured} The paper: {self.experiment.paper}"

    def to_dict(self) -> dict[str, object]:
        return {
            "experiment": self.experiment.name, "title": self.experiment.title, "seeds": list(self.seeds),
            "stopped": self.stopped,
            "rows": [row.__dict__ for row in self.rows()],
            "runs": [{"arm": run.arm, "seed": run.seed, "test_accuracy": run.test_accuracy,
                      "seconds": round(run.seconds, 3), "stopped": run.stopped,
                      "history": [record.to_dict() for record in run.history]} for run in self.runs],
            "conclusion": self.conclusion(), "caveat": self.experiment.caveat,
        }


@dataclass(frozen=True)
class ExperimentProgress:
    """A training step or epoch of one run of an experiment."""

    arm: str
    seed: int
    run: int  # 1-based index of this run
    runs: int
    progress: Progress

    @property
    def fraction(self) -> float:
        return ((self.run - 1) + self.progress.fraction) / self.runs


def experiment_names() -> tuple[str, ...]:
    return tuple(EXPERIMENTS)


def get_experiment(name: str) -> Experiment:
    key = name.strip().lower()
    if key not in EXPERIMENTS:
        raise TrainingError(f"Unknown experiment {name!r}: use one of {', '.join(EXPERIMENTS)}.")
    return EXPERIMENTS[key]


def run_experiment(name: str | Experiment, *, seeds: int = 1, epochs: int | None = None,
                   callback: Callable[[ExperimentProgress], bool | None] | None = None,
                   stop: threading.Event | None = None, device: str = "cpu", threads: int | None = DEFAULT_THREADS,
                   **overrides: object) -> ExperimentResult:
    """Train every arm for seeds 0..seeds-1; ``epochs`` and ``overrides`` (e.g. ``width_divisor``,
    ``dataset``) replace the arms' recipe fields. Stoppable like ``fit``: the finished runs are kept."""
    experiment = name if isinstance(name, Experiment) else get_experiment(name)
    if not 1 <= seeds <= 20:
        raise TrainingError(f"Seeds must be from 1 to 20, got {seeds}.")
    changes = {**overrides, **({"epochs": epochs} if epochs is not None else {})}
    result = ExperimentResult(experiment, tuple(range(seeds)))
    total = seeds * len(experiment.arms)
    for seed in range(seeds):
        trained: dict[str, nn.Module] = {}
        for arm in experiment.arms:
            index = len(result.runs) + 1
            recipe = replace(arm.recipe, seed=seed, **changes)  # type: ignore[arg-type]

            def relay(progress: Progress, arm: Arm = arm, index: int = index, seed: int = seed) -> bool | None:
                return None if callback is None else callback(ExperimentProgress(arm.label, seed, index, total,
                                                                                 progress))

            source = trained.get(arm.init_from) if arm.init_from else None
            outcome = fit(recipe, callback=relay, stop=stop, device=device, init_from=source, threads=threads,
                          copy_layers=arm.copy_layers if source is not None else None)
            trained[arm.label] = outcome.model
            result.runs.append(Run(arm.label, seed, tuple(outcome.history), outcome.test_accuracy, outcome.seconds,
                                   outcome.stopped))
            if outcome.stopped:
                result.stopped = True
                return result
    return result
