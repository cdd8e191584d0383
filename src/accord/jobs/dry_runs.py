"""Work strategy dry runs in the background (``accord db_worker``).

:func:`accord.usecases.dry_runs.request` sends ``dry_run_requested`` once a dry run is
stored; :func:`dry_run_requested` answers by enqueueing :func:`execute_dry_run`, which
decides the book range by range and stores the result. The signal keeps the layers
pointing inward: the use case never imports the task. Without a worker the dry run stays
QUEUED: its page says so, and ``accord strategy dry-run`` works it in the foreground.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone
from django_tasks import task

from accord.usecases import dry_runs

logger = logging.getLogger(__name__)

DRY_RUN_ACTOR = "task:execute_dry_run"


@task()
def execute_dry_run(dry_run_id: int) -> dict[str, Any]:
    """Work one QUEUED dry run (see ``accord.usecases.dry_runs.execute``); return its state."""
    done = dry_runs.execute(
        dry_run_id=dry_run_id, now=timezone.now(), actor=DRY_RUN_ACTOR, clock=timezone.now
    )
    return {"dry_run": done.pk, "status": done.status, "ranges": done.ranges_total}


def dry_run_requested(sender: Any, *, dry_run_id: int, **kwargs: Any) -> None:
    """Enqueue :func:`execute_dry_run` for a dry run just requested."""
    execute_dry_run.enqueue(dry_run_id)
    logger.info("Dry run %s enqueued", dry_run_id)


def connect() -> None:
    """Connect :func:`dry_run_requested` to the use case's signal."""
    dry_runs.dry_run_requested.connect(
        dry_run_requested, dispatch_uid="accord.jobs.dry_runs.dry_run_requested"
    )
