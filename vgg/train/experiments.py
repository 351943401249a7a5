"""The paper's experiments in miniature (its §4 and §3.1), each a few mini VGGs trained side by side.

Each experiment is a tuple of arms (a label and a ``Recipe``); an arm may start from the layers of an
earlier arm's trained model, as the paper started its deeper nets from net A. ``run_experiment``
trains every arm for every seed and returns the histories (for overlaid curves), a table of test
error as mean ± std over seeds, and a sentence saying what the run showed, measured, not assumed:
an arm whose loss became NaN (diverged) or whose accuracy stayed at chance is named as such, never
ranked among the arms that learned.

Each experiment carries its own recipe (learning rate, epochs, initialisation), chosen so that at its
defaults it runs in minutes on two CPU cores and its arms learn where the paper's did; the recipe is
stated in words with every result (``ExperimentResult.recipe_text``).
"""

from __future__ import annotations

import math
import statistics
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from torch import nn

from vgg.train.datasets import DIGITS, SHAPES
from vgg.train.errors import TrainingError
from vgg.train.mini import PAPER_COPIED_LAYERS
from vgg.train.trainer import DEFAULT_THREADS, EpochRecord, Progress, Recipe, fit

# The paper's Table 3 (ConvNet performance at a single test scale, training scale S = 256):
# top-1 and top-5 validation error on ImageNet, in percent.
PAPER_TABLE3: dict[str, tuple[float, float]] = {
    "A": (29.6, 10.4), "A-LRN": (29.7, 10.5), "B": (28.7, 9.9), "C": (28.1, 9.4), "D": (27.0, 8.8), "E": (27.3, 9.0),
}
# The paper's initial learning rate (§3.1). The mini VGGs without batch norm learn at it; at 0.02 (the
# trainer's default, for batch norm) the deeper ones diverge or stall (measured: D at 45% after six
# epochs, E from N(0, 10^-2) to a NaN loss).
PAPER_LR = 0.01
# An accuracy below 1.5 times chance (15% for ten digits) is "at chance": the arm did not learn.
CHANCE_FACTOR = 1.5
# The comparisons end with two epochs at a tenth of the rate, as the paper's runs ended at a divided rate:
# without it, an arm's final figure was that of one noisy epoch at 0.01 (measured, the lrn experiment's A at
# seed 0: 97.2% after epoch 9, 89.2% after epoch 10; 98.3% with the last two annealed).
ANNEAL_EPOCHS = 2
RECIPE_FIELDS = frozenset({"epochs", "lr", "init", "batch_norm", "batch_size", "patience", "anneal_epochs"})


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
    why: str = ""  # why this experiment's recipe (learning rate, epochs) is what it is, measured

    @property
    def epochs(self) -> int:
        """Epochs per run at the defaults (the longest arm's)."""
        return max(arm.recipe.epochs for arm in self.arms)

    @property
    def lr(self) -> float:
        """The initial learning rate at the defaults (the first arm's; the arms share one)."""
        return self.arms[0].recipe.lr

    @property
    def dataset(self) -> str:
        """The dataset it trains on at the defaults (the arms share one)."""
        return self.arms[0].recipe.dataset


def _arm(label: str, config: str | None = None, *, epochs: int, lr: float = PAPER_LR, batch_norm: bool = False,
         init: str = "torchvision", init_from: str | None = None, anneal_epochs: int = ANNEAL_EPOCHS,
         dataset: str = DIGITS) -> Arm:
    recipe = Recipe(config or label, batch_norm=batch_norm, epochs=epochs, lr=lr, init=init,
                    anneal_epochs=anneal_epochs, dataset=dataset)
    return Arm(label, recipe, init_from, PAPER_COPIED_LAYERS if init_from else ())


def _from_a(configs: tuple[str, ...], *, epochs: int, dataset: str = DIGITS) -> tuple[Arm, ...]:
    """Deeper nets, each started from the trained A's first four convs and three FC layers (§3.1); A's own arm
    must come before them."""
    return tuple(_arm(name, epochs=epochs, init_from="A", dataset=dataset) for name in configs)


# The initialisation experiment trains on the generated shapes for 20 epochs: on the digits every arm that learns
# reaches 97-98% and a deeper net has nothing left to show, and on the shapes after 12 epochs E started from A
# was still behind A at one seed of three (89.5% against 91.5%; 20 epochs: 98.0% and 96.0% against A's 96.8%
# and 95.8%, measured).
_INIT_EPOCHS = 20
_FROM_A = "Starting the deeper nets from A's layers is the paper's way (§3.1)."

EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment for experiment in (
        Experiment("depth", "Depth: A vs B vs D vs E",
                   "Does a deeper network (11, 13, 16, 19 weight layers) do better?",
                   "Error fell with depth from A (29.6% top-1) to D (27.0%); E (27.3%) saturated at that scale.",
                   (_arm("A", epochs=12, dataset=SHAPES), *_from_a(("B", "D", "E"), epochs=12, dataset=SHAPES)),
                   why=f"The paper's learning rate. {_FROM_A} On the generated shapes: on the digits every network "
                       "saturates (A ended at 2.5% error, B, D and E at 4.2%, measured). At lr 0.02 without batch "
                       "norm D reached only 45% after six epochs (measured)."),
        Experiment("1x1", "1x1 vs 3x3 convolutions: C vs D", "C adds three 1x1 convs where D has 3x3 ones: "
                   "is the extra non-linearity enough, or does spatial context matter?",
                   "C (28.1%) beat B (28.7%) but lost to D (27.0%): 3x3 context matters beyond the added "
                   "non-linearity.", (_arm("C", epochs=12), _arm("D", epochs=12)),
                   why="The paper's learning rate; both from torchvision's initialisation (the paper noted "
                       "that Glorot's random initialisation trains deep nets without starting from A)."),
        Experiment("lrn", "Local response normalisation: A vs A-LRN", "Does AlexNet's LRN help?",
                   "It does not: A-LRN 29.7% vs A 29.6%, for more memory and time.",
                   (_arm("A", epochs=10), _arm("A-LRN", epochs=10)), why="The paper's learning rate."),
        Experiment("bn", "Batch norm on and off: E", "How much does batch normalisation (not in the paper, added "
                   "by torchvision's _bn variants) change training of the deepest net?",
                   "The paper predates batch norm; torchvision's VGG19-BN reaches 25.8% top-1 against 27.6% "
                   "without.",
                   (_arm("E", epochs=10), _arm("E+BN", "E", epochs=10, batch_norm=True)),
                   why="One learning rate for both arms, the paper's, at which E without batch norm still "
                       "learns; with batch norm E also learns at 0.02, the trainer's default."),
        Experiment("init", "The paper's initialisation: E from random weights vs E from A",
                   "Can the 19-layer E without batch norm learn from random weights, or does it need the first "
                   "layers of a trained A, as the paper's deeper nets did? And does it then beat A?",
                   "The paper trained A from random N(0, 10^-2) weights, then started deeper nets with A's first four "
                   "conv layers and three FC layers, 'as bad initialisation can stall learning'; E (27.3% top-1) "
                   "then beat A (29.6%). It also noted that Glorot's random initialisation trains them without A.",
                   (_arm("A", epochs=_INIT_EPOCHS, dataset=SHAPES),
                    _arm("E (N(0, 10^-2))", "E", epochs=_INIT_EPOCHS, init="paper", dataset=SHAPES),
                    _arm("E (Kaiming)", "E", epochs=_INIT_EPOCHS, dataset=SHAPES),
                    _arm("E (from A)", "E", epochs=_INIT_EPOCHS, init_from="A", dataset=SHAPES)),
                   why="On the generated shapes, where a deeper net has room to do better (on the digits every arm "
                       "that learns reaches 97-98%), for 20 epochs, at the paper's learning rate. Without a trick, E "
                       "starts from the paper's N(0, 10^-2); with torchvision's Kaiming initialisation, the modern "
                       "form of the Glorot initialisation the paper mentions; or, the paper's way, from A's layers "
                       "with the rest from Kaiming. A and the rest of E from A start from Kaiming rather than "
                       "N(0, 10^-2) because at this mini's widths N(0, 10^-2) left A at chance at lr 0.01 and E "
                       "started from such an A at chance at 0.003 (measured). A run whose loss becomes NaN ends at "
                       "that epoch."),
        Experiment("table3", "A miniature Table 3", "Final test error of every configuration, over several seeds, "
                   "beside the paper's ImageNet numbers.",
                   "Top-1 error fell from A (29.6%) to D (27.0%) and E (27.3%); LRN did not help; C sat between "
                   "B and D.",
                   (_arm("A", epochs=12), _arm("A-LRN", epochs=12), *_from_a(("B", "C", "D", "E"), epochs=12)),
                   why=f"The paper's learning rate. {_FROM_A} A-LRN, as shallow as A, starts from its own random "
                       "weights."),
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
    classes: int = 10  # the dataset's: chance is 1 / classes

    @property
    def test_error(self) -> float:
        return 1 - self.test_accuracy

    @property
    def chance(self) -> float:
        return 1 / max(self.classes, 1)

    @property
    def diverged(self) -> bool:
        """Its loss became NaN or infinite (on the training batches or the test split) at some epoch."""
        return any(not (math.isfinite(record.loss) and math.isfinite(record.test_loss)) for record in self.history)

    @property
    def at_chance(self) -> bool:
        """It did not learn: its final test accuracy is below ``CHANCE_FACTOR`` times chance."""
        return self.test_accuracy < CHANCE_FACTOR * self.chance


@dataclass(frozen=True)
class Row:
    """One arm's final test error over seeds, beside the paper's where it has one, and how many of its runs
    diverged (NaN loss) or stayed at chance."""

    arm: str
    runs: int
    mean_error: float
    std_error: float  # 0 for one seed
    paper_top1: float | None = None
    paper_top5: float | None = None
    diverged: int = 0  # runs whose loss became NaN
    at_chance: int = 0  # runs (not diverged) that ended at chance
    chance: float = 0.1

    @property
    def learned(self) -> bool:
        """Every run of this arm learned: none diverged, none stayed at chance."""
        return self.diverged == 0 and self.at_chance == 0

    @property
    def status(self) -> str:
        """``learned``, ``diverged`` or ``at chance`` (diverged wins when both occur)."""
        return "diverged" if self.diverged else "at chance" if self.at_chance else "learned"

    @property
    def note(self) -> str:
        """The status in words for a table: empty for an arm that learned."""
        if self.learned:
            return ""
        of = f" in {self.diverged if self.diverged else self.at_chance} of {self.runs} runs" if self.runs > 1 else ""
        return f"diverged (NaN loss){of}" if self.diverged else f"stayed at chance ({self.chance:.0%}){of}"

    def to_dict(self) -> dict[str, object]:
        return {**self.__dict__, "status": self.status}


@dataclass
class ExperimentResult:
    experiment: Experiment
    seeds: tuple[int, ...]
    runs: list[Run] = field(default_factory=list)
    stopped: bool = False
    overrides: dict[str, object] = field(default_factory=dict)  # recipe fields the caller changed (epochs, lr...)

    def recipe(self, arm: Arm) -> Recipe:
        """The recipe this result trained ``arm`` with (the experiment's, with the caller's changes)."""
        return replace(arm.recipe, **self.overrides)  # type: ignore[arg-type]

    def rows(self) -> list[Row]:
        rows = []
        for arm in self.experiment.arms:
            runs = [run for run in self.runs if run.arm == arm.label and not run.stopped]
            if not runs:
                continue
            errors = [run.test_error for run in runs]
            diverged = sum(run.diverged for run in runs)
            paper = PAPER_TABLE3.get(arm.label)
            rows.append(Row(arm.label, len(errors), statistics.fmean(errors),
                            statistics.stdev(errors) if len(errors) > 1 else 0.0,
                            paper[0] if paper else None, paper[1] if paper else None,
                            diverged=diverged, at_chance=sum(run.at_chance and not run.diverged for run in runs),
                            chance=runs[0].chance))
        return rows

    def recipe_text(self) -> str:
        """The recipe of this run in words: what every arm shared, then what set arms apart."""
        arms = self.experiment.arms
        recipes = [self.recipe(arm) for arm in arms]
        first = recipes[0]
        traits = [[f"{recipe.epochs} epoch{'' if recipe.epochs == 1 else 's'} per run", f"learning rate {recipe.lr:g}",
                   "batch norm" if recipe.batch_norm else "no batch norm",
                   "N(0, 10^-2) initial weights" if recipe.init == "paper" else "torchvision's initialisation",
                   f"the last {recipe.anneal_epochs} epochs at a tenth of the rate at most"
                   if 0 < recipe.anneal_epochs < recipe.epochs else ""]
                  for recipe in recipes]
        common = [trait for trait in traits[0] if trait and all(trait in own for own in traits)]
        text = ("Recipe: " + ", ".join(common) + f" (every arm); the learning rate divided by 10 after "
                f"{first.patience} epochs without a better test accuracy; batches of {first.batch_size}, SGD with "
                f"momentum {first.momentum:g}, weight decay {first.weight_decay:g}, dropout {first.dropout_rate:g}; "
                f"{first.dataset}, widths divided by {first.width_divisor}.")
        notes: dict[str, list[str]] = {}  # what sets arms apart -> the arms it applies to
        for arm, own in zip(arms, traits, strict=True):
            apart = [trait for trait in own if trait and trait not in common]
            if arm.init_from:
                apart.append(f"then {', '.join(arm.copy_layers)} copied from the trained {arm.init_from}")
            if apart:
                notes.setdefault("; ".join(apart), []).append(arm.label)
        if notes:
            text += " " + " ".join(f"{', '.join(labels)}: {note}." for note, labels in notes.items())
        if self.experiment.why and not RECIPE_FIELDS & self.overrides.keys():  # the why speaks of the defaults
            text += " " + self.experiment.why
        return text

    def conclusion(self) -> str:
        """What this run showed, in one or two sentences, from its own numbers. An arm that diverged or stayed
        at chance is said to have done so, and the best and worst are named only among the arms that learned."""
        rows = self.rows()
        if not rows:
            return "No run finished."
        failed = [row for row in rows if not row.learned]
        learned = [row for row in rows if row.learned]
        sentences = []
        if failed:
            sentences.append("Did not learn: " + "; ".join(f"{row.arm} {row.note}" for row in failed) + ".")
        if len(learned) >= 2:
            sentences.append(self._ranking(learned, among_learned=bool(failed)))
        elif len(learned) == 1:
            sentences.append(f"Only {learned[0].arm} learned ({learned[0].mean_error:.1%} test error).")
        elif len(rows) > 1 or failed:
            sentences.append("No arm learned at these settings: try a lower learning rate or more epochs.")
        if len(rows) < 2:
            sentences.append("Too few arms finished to compare.")
        return f"{' '.join(sentences)} The paper: {self.experiment.paper}"

    def _ranking(self, rows: list[Row], *, among_learned: bool) -> str:
        best, worst = min(rows, key=lambda row: row.mean_error), max(rows, key=lambda row: row.mean_error)
        gap = worst.mean_error - best.mean_error
        spread = max(row.std_error for row in rows)
        among = " of the arms that learned" if among_learned else ""
        measured = (f"Here {_names(rows, best.mean_error)} ended with the lowest test error{among} "
                    f"({best.mean_error:.1%}) and {_names(rows, worst.mean_error)} the highest "
                    f"({worst.mean_error:.1%}), {gap * 100:.1f} points apart")
        if len(self.seeds) > 1 and gap <= 2 * spread:
            measured += (f", within twice the spread between seeds ({spread * 100:.1f} points): "
                         "no reliable difference at this size.")
        elif len(self.seeds) == 1:
            measured += "; with one seed, run more seeds before trusting a gap this small." if gap < 0.01 else "."
        else:
            measured += f", more than twice the spread between seeds ({spread * 100:.1f} points)."
        return measured

    def caveat(self) -> str:
        """What the miniature's scale means for the comparison, for the data and widths this result trained on."""
        recipe = self.recipe(self.experiment.arms[0])
        scale = f"with widths divided by {recipe.width_divisor}"
        if recipe.dataset == "shapes":
            return (f"On the project's generated shapes (8 classes on textured backgrounds) {scale}, the task is "
                    "harder than the digits, so depth has room to show, but far easier than "
                    "ImageNet's 1.3M photos of 1,000 classes; a gap of a few points needs more seeds to trust.")
        return (f"On 1,437 handwritten digits at 32 px {scale}, every network can reach high accuracy in a few "
                "epochs, so differences of a fraction of a point are within the spread between seeds; ImageNet's "
                "1.3M photos of 1,000 classes are a far harder task (try --dataset shapes for depth).")

    def to_dict(self) -> dict[str, object]:
        return {
            "experiment": self.experiment.name, "title": self.experiment.title, "seeds": list(self.seeds),
            "stopped": self.stopped, "recipe": self.recipe_text(),
            "rows": [row.to_dict() for row in self.rows()],
            "runs": [{"arm": run.arm, "seed": run.seed, "test_accuracy": run.test_accuracy,
                      "seconds": round(run.seconds, 3), "stopped": run.stopped, "diverged": run.diverged,
                      "at_chance": run.at_chance,
                      "history": [record.to_dict() for record in run.history]} for run in self.runs],
            "conclusion": self.conclusion(), "caveat": self.caveat(),
        }


def _names(rows: list[Row], error: float) -> str:
    """The arms with this mean error (ties named together): "A", "B and D", "B, D and E"."""
    names = [row.arm for row in rows if abs(row.mean_error - error) < 1e-12]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


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
    """Train every arm for seeds 0..seeds-1; ``epochs`` and ``overrides`` (e.g. ``lr``, ``width_divisor``,
    ``dataset``) replace every arm's recipe field, the experiment's own recipe otherwise. Stoppable like
    ``fit``: the finished runs are kept."""
    experiment = name if isinstance(name, Experiment) else get_experiment(name)
    if not 1 <= seeds <= 20:
        raise TrainingError(f"Seeds must be from 1 to 20, got {seeds}.")
    changes = {**overrides, **({"epochs": epochs} if epochs is not None else {})}
    result = ExperimentResult(experiment, tuple(range(seeds)), overrides=changes)
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
                                   outcome.stopped, outcome.dataset.num_classes))
            if outcome.stopped:
                result.stopped = True
                return result
    return result
