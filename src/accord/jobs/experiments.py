"""Precompute experiment figures after each strategy run (ADR 0017).

When a strategy run completes (its row is saved COMPLETED), :func:`run_saved`

1. folds the run's experiment decisions into the experiment assignments
   (``accord.storage.experiment_assignments``) in the run's own transaction, inside a
   savepoint so that a failure is logged and never fails the run; the guardrails read
   the assignments when the next run starts;
2. once the run has committed, enqueues :func:`snapshot_experiments`, which counts each
   experiment's figures over its default window and stores them as a snapshot
   (``accord.analytics.experiments.record_snapshots``) for the experiment page. It runs
   under ``accord db_worker``; without a worker the page counts the figures itself.

The strategy runner knows nothing of this: the hook is Django's ``post_save`` signal for
``StrategyRun``, connected by :class:`accord.jobs.apps.JobsConfig`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models.signals import post_save
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from accord.analytics import experiments
from accord.storage import experiment_assignments, models

logger = logging.getLogger(__name__)


@task()
def snapshot_experiments() -> dict[str, Any]:
    """Store every experiment's figures as of the latest completed run; return what was done."""
    run = (
        models.StrategyRun.objects.filter(status=models.RunStatus.COMPLETED)
        .order_by("-as_of_date", "-id")
        .first()
    )
    if run is None:
        return {"snapshots": 0}
    with transaction.atomic():
        experiment_assignments.catch_up()
    saved = experiments.record_snapshots(as_of=run.as_of_date, now=timezone.now(), run_id=run.pk)
    logger.info("Stored %s experiment snapshots as of %s", len(saved), run.as_of_date)
    return {"run": run.pk, "as_of": run.as_of_date.isoformat(), "snapshots": len(saved)}


def enqueue_snapshots() -> bool:
    """Enqueue :func:`snapshot_experiments` unless one is already waiting; return whether."""
    waiting = DBTaskResult.objects.filter(
        task_path=snapshot_experiments.module_path, status=TaskResultStatus.READY
    )
    if waiting.exists():
        return False
    snapshot_experiments.enqueue()
    logger.info("Experiment snapshot task enqueued")
    return True


def run_saved(sender: Any, instance: models.StrategyRun, **kwargs: Any) -> None:
    """Fold a completed run's experiment decisions; snapshot the figures once it commits."""
    update_fields = kwargs.get("update_fields")
    if instance.status != models.RunStatus.COMPLETED or (
        update_fields is not None and "status" not in update_fields
    ):
        return
    try:
        with transaction.atomic():  # a savepoint: a failed fold leaves the run to complete
            experiment_assignments.fold_after_run(as_of=instance.as_of_date)
    except DatabaseError:
        # The next run's guardrail check catches the assignments up.
        logger.exception("Folding the experiment assignments of run %s failed", instance.pk)
    transaction.on_commit(enqueue_snapshots, robust=True)


def connect() -> None:
    """Connect :func:`run_saved` to the strategy run's ``post_save`` signal."""
    post_save.connect(
        run_saved, sender=models.StrategyRun, dispatch_uid="accord.jobs.experiments.run_saved"
    )
