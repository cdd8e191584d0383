"""Background tasks: each calls one idempotent use case (ADR 0005, ADR 0010)."""

from __future__ import annotations

import datetime
import logging

from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult, get_date_max

from accord.usecases import dispatch

logger = logging.getLogger(__name__)

DISPATCH_ACTOR = "task:dispatch_contacts"


@task()
def dispatch_contacts(limit: int | None = None) -> dict[str, int]:
    """Send the outbox's due messages (see ``accord.usecases.dispatch``); return the counts.

    Afterwards, when deferred rows remain, enqueue itself to run when the earliest of
    them falls due, so deferred messages go out without an operator.
    """
    report = dispatch.dispatch_due(clock=timezone.now, limit=limit, actor=DISPATCH_ACTOR)
    if limit is not None and report.picked >= limit:
        enqueue_dispatch()  # the limit left due rows behind: carry on at once
    else:
        wake_at = dispatch.next_planned_at(after=timezone.now())
        if wake_at is not None:
            enqueue_dispatch(run_after=wake_at)
    return report.as_dict()


def enqueue_dispatch(*, run_after: datetime.datetime | None = None) -> bool:
    """Enqueue ``dispatch_contacts`` to run at ``run_after`` (at once when None).

    Does nothing when a dispatch task is already waiting (READY) to run by then, so
    announcements and self-wake-ups never pile up tasks. Return whether one was enqueued.
    A task already RUNNING does not count: it may have picked its rows before the new
    ones were queued.
    """
    waiting = DBTaskResult.objects.filter(
        task_path=dispatch_contacts.module_path, status=TaskResultStatus.READY
    )
    now = timezone.now()
    by = now if run_after is None or run_after <= now else run_after
    if (
        waiting.filter(run_after__lte=by).exists()
        or waiting.filter(run_after=get_date_max()).exists()
    ):
        return False
    scheduled = (
        dispatch_contacts if run_after is None else dispatch_contacts.using(run_after=run_after)
    )
    scheduled.enqueue()
    logger.info("Dispatch task enqueued to run after %s", run_after or "now")
    return True
