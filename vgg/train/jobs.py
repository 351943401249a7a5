"""A server-wide queue of training jobs: one runs at a time in a background thread, the others wait
and know their place; any thread (a web app's sessions, a second browser tab) can read a job's live
progress by its id, or ask it to stop. Finished models are kept, newest first, for every session.

Pure Python and torch: the app polls ``snapshot(job_id)``; nothing here knows about Streamlit.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from vgg.train.checkpoint import TrainedModel, checkpoint_bytes, load_checkpoint
from vgg.train.experiments import ExperimentProgress, ExperimentResult, run_experiment
from vgg.train.trainer import EpochRecord, Progress, Recipe, fit

QUEUED, RUNNING, DONE, STOPPED, FAILED = "queued", "running", "done", "stopped", "failed"
FINISHED = (DONE, STOPPED, FAILED)
KEEP_MODELS = 8  # trained models kept in memory (a mini VGG is ~1 MB)
KEEP_JOBS = 50


@dataclass(frozen=True)
class Curve:
    """One run's epochs so far, for a chart: its label and records."""

    label: str
    records: tuple[EpochRecord, ...]


@dataclass(frozen=True)
class JobView:
    """A consistent copy of a job's state at one moment (safe to read from any thread)."""

    id: int
    title: str
    kind: str  # "train" or "experiment"
    status: str
    position: int  # 0 while running or finished; 1 = next in line
    fraction: float  # 0..1 of the whole job
    message: str  # the latest step, in words
    curves: tuple[Curve, ...]
    error: str | None = None
    model_id: int | None = None  # the trained model this job produced (train jobs)
    experiment: ExperimentResult | None = None
    seconds: float = 0.0
    recipe: Recipe | None = None  # what a train job trains (a second tab shows its form filled in)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


@dataclass
class _Job:
    id: int
    title: str
    kind: str
    work: Callable[[_Job], None]
    stop: threading.Event = field(default_factory=threading.Event)
    status: str = QUEUED
    fraction: float = 0.0
    message: str = "waiting"
    curves: dict[str, list[EpochRecord]] = field(default_factory=dict)
    error: str | None = None
    model_id: int | None = None
    experiment: ExperimentResult | None = None
    started: float = 0.0
    ended: float = 0.0
    recipe: Recipe | None = None


@dataclass(frozen=True)
class TrainedEntry:
    """A model trained here, offered to every view: its id, label and the loaded model."""

    id: int
    label: str
    trained: TrainedModel
    checkpoint: bytes


class TrainingQueue:
    """FIFO of jobs, one worker thread, started on the first submit. Thread-safe."""

    def __init__(self, *, threads: int | None = 1, keep_models: int = KEEP_MODELS) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._jobs: dict[int, _Job] = {}
        self._waiting: deque[int] = deque()
        self._models: dict[int, TrainedEntry] = {}
        self._ids = itertools.count(1)
        self._threads, self._keep_models = threads, keep_models
        self._worker: threading.Thread | None = None

    # --- submitting -------------------------------------------------------------------------------
    def submit_training(self, recipe: Recipe) -> int:
        """Queue one training run; returns its job id."""
        title = f"{recipe.config}{'+BN' if recipe.batch_norm else ''} mini on {recipe.dataset}"

        def work(job: _Job) -> None:
            def on_progress(progress: Progress) -> None:
                self._record(job, title, progress, progress.fraction)

            result = fit(recipe, callback=on_progress, stop=job.stop, threads=self._threads)
            if result.divergence:  # NaN weights: nothing to offer in the sidebar
                with self._lock:
                    job.status, job.error = FAILED, result.divergence
                return
            if result.history or result.stopped:
                entry = self._keep(load_checkpoint(checkpoint_bytes(result)), checkpoint_bytes(result))
                with self._lock:
                    job.model_id = entry.id
                    job.status = STOPPED if result.stopped else DONE

        return self._submit(title, "train", work, recipe)

    def submit_experiment(self, name: str, *, seeds: int = 1, epochs: int | None = None,
                          **overrides: object) -> int:
        """Queue one of ``EXPERIMENTS``; its arms' curves appear as they train."""
        from vgg.train.experiments import get_experiment

        experiment = get_experiment(name)

        def work(job: _Job) -> None:
            def on_progress(event: ExperimentProgress) -> None:
                label = event.arm if seeds == 1 else f"{event.arm} (seed {event.seed})"
                self._record(job, label, event.progress, event.fraction)

            result = run_experiment(experiment, seeds=seeds, epochs=epochs, callback=on_progress, stop=job.stop,
                                    threads=self._threads, **overrides)
            with self._lock:
                job.experiment = result
                job.status = STOPPED if result.stopped else DONE

        return self._submit(experiment.title, "experiment", work)

    def _submit(self, title: str, kind: str, work: Callable[[_Job], None], recipe: Recipe | None = None) -> int:
        with self._lock:
            job = _Job(next(self._ids), title, kind, work, recipe=recipe)
            self._jobs[job.id] = job
            self._waiting.append(job.id)
            self._forget_old_jobs()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run_forever, name="vgg-training", daemon=True)
                self._worker.start()
            self._wake.notify_all()
            return job.id

    # --- reading ----------------------------------------------------------------------------------
    def snapshot(self, job_id: int) -> JobView | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else self._view(job)

    def jobs(self) -> list[JobView]:
        """Every known job, the running and waiting ones first, then the finished, newest first."""
        with self._lock:
            views = [self._view(job) for job in self._jobs.values()]
        order = {RUNNING: 0, QUEUED: 1}
        return sorted(views, key=lambda view: (order.get(view.status, 2), view.position, -view.id))

    def models(self) -> list[TrainedEntry]:
        """Models trained here, newest first."""
        with self._lock:
            return sorted(self._models.values(), key=lambda entry: -entry.id)

    def model(self, model_id: int) -> TrainedEntry | None:
        with self._lock:
            return self._models.get(model_id)

    # --- controlling ------------------------------------------------------------------------------
    def stop(self, job_id: int) -> None:
        """Stop a running job at its next step, or take a waiting one out of the line."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status in FINISHED:
                return
            job.stop.set()
            if job.status == QUEUED:
                self._waiting.remove(job.id)
                job.status, job.message, job.ended = STOPPED, "taken out of the queue", time.perf_counter()

    def wait(self, job_id: int, timeout: float | None = None) -> JobView | None:
        """Block until the job has finished (for scripts and tests)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while (job := self._jobs.get(job_id)) is not None and job.status not in FINISHED:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._wake.wait(remaining)
            return None if job is None else self._view(job)

    # --- the worker -------------------------------------------------------------------------------
    def _run_forever(self) -> None:
        while True:
            with self._lock:
                while not self._waiting:
                    if not self._wake.wait(timeout=60):
                        self._worker = None  # idle for a minute: the next submit starts a fresh thread
                        return
                job = self._jobs[self._waiting.popleft()]
                job.status, job.started, job.message = RUNNING, time.perf_counter(), "starting"
            try:
                job.work(job)
            except Exception as error:
                with self._lock:
                    job.status, job.error = FAILED, f"{type(error).__name__}: {error}"
            with self._lock:
                if job.status == RUNNING:
                    job.status = STOPPED if job.stop.is_set() else DONE
                if job.status == DONE:
                    job.fraction = 1.0
                job.ended = time.perf_counter()
                job.message = {DONE: "finished", STOPPED: "stopped", FAILED: "failed"}[job.status]
                self._wake.notify_all()

    def _record(self, job: _Job, label: str, progress: Progress, fraction: float) -> None:
        with self._lock:
            job.fraction = fraction
            job.message = (f"{label}: epoch {progress.epoch}/{progress.epochs}, step {progress.step}/"
                           f"{progress.steps}, loss {progress.loss:.3f}, {progress.images_per_second:.0f} img/s")
            if progress.record is not None:
                job.curves.setdefault(label, []).append(progress.record)
            else:
                job.curves.setdefault(label, [])

    def _keep(self, trained: TrainedModel, checkpoint: bytes) -> TrainedEntry:
        with self._lock:
            entry = TrainedEntry(next(self._ids), trained.label, trained, checkpoint)
            self._models[entry.id] = entry
            for old in sorted(self._models)[:-self._keep_models]:
                del self._models[old]
            return entry

    def add_model(self, trained: TrainedModel, checkpoint: bytes) -> TrainedEntry:
        """Offer a model trained elsewhere (an uploaded checkpoint) like one trained here."""
        return self._keep(trained, checkpoint)

    def _forget_old_jobs(self) -> None:
        finished = [job_id for job_id, job in self._jobs.items() if job.status in FINISHED]
        for job_id in finished[:-KEEP_JOBS]:
            del self._jobs[job_id]

    def _view(self, job: _Job) -> JobView:
        position = list(self._waiting).index(job.id) + 1 if job.status == QUEUED else 0
        seconds = (job.ended or time.perf_counter()) - job.started if job.started else 0.0
        return JobView(job.id, job.title, job.kind, job.status, position, job.fraction, job.message,
                       tuple(Curve(label, tuple(records)) for label, records in job.curves.items()), job.error,
                       job.model_id, job.experiment, seconds, job.recipe)


def with_epochs(recipe: Recipe, epochs: int) -> Recipe:
    return replace(recipe, epochs=epochs)
