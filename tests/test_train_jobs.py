"""vgg.train.TrainingQueue: one job at a time, the others see their place, stop works anywhere in the
line, finished models are offered with their labels."""

from __future__ import annotations

import time
from dataclasses import replace

from vgg.train import Recipe, TrainingQueue

TINY = Recipe("A", batch_norm=True, epochs=2, width_divisor=32, lr=0.02)


def test_jobs_run_one_at_a_time_and_report_progress() -> None:
    queue = TrainingQueue()
    first, second, third = (queue.submit_training(TINY) for _ in range(3))
    deadline = time.monotonic() + 60
    while (view := queue.snapshot(first)).status == "queued" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert view.status == "running"
    assert queue.snapshot(second).position == 1 and queue.snapshot(third).position == 2
    assert sum(job.status == "running" for job in queue.jobs()) == 1
    queue.stop(third)  # a waiting job leaves the line at once
    assert queue.snapshot(third).status == "stopped" and queue.snapshot(second).position == 1
    done = queue.wait(first, timeout=300)
    assert done is not None and done.status == "done" and done.fraction == 1.0
    assert len(done.curves) == 1 and len(done.curves[0].records) == 2
    entry = queue.model(done.model_id)
    assert entry is not None and entry.label.startswith("A+BN mini (widths /32) on digits, ")
    queue.stop(second)
    stopped = queue.wait(second, timeout=300)
    assert stopped is not None and stopped.status == "stopped"
    assert next(e.id for e in queue.models()) >= entry.id


def test_a_failing_job_is_reported_and_the_worker_goes_on() -> None:
    queue = TrainingQueue()
    bad = queue.submit_experiment("depth", epochs=1, width_divisor=0)  # refused by MiniVGG inside the job
    good = queue.submit_training(TINY)
    failed = queue.wait(bad, timeout=300)
    assert failed is not None and failed.status == "failed" and "width divisor" in (failed.error or "")
    assert queue.wait(good, timeout=300).status == "done"


def test_a_run_that_diverges_fails_with_what_to_try_and_offers_no_weights() -> None:
    queue = TrainingQueue()
    job = queue.submit_training(replace(TINY, batch_norm=False, epochs=3, lr=10.0, init="paper"))
    view = queue.wait(job, timeout=300)
    assert view is not None and view.status == "failed" and view.model_id is None
    assert (view.error or "").startswith("The loss became NaN at epoch 1") and "lower learning rate" in view.error
    assert queue.models() == []


def test_experiment_jobs_keep_one_curve_per_arm() -> None:
    queue = TrainingQueue()
    job = queue.submit_experiment("lrn", epochs=1, width_divisor=32)
    view = queue.wait(job, timeout=300)
    assert view is not None and view.status == "done"
    assert [curve.label for curve in view.curves] == ["A", "A-LRN"]
    assert view.experiment is not None and len(view.experiment.rows()) == 2
