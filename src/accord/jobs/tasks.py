"""Background tasks: each calls one idempotent use case (ADR 0005)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from accord.usecases import dispatch

DISPATCH_ACTOR = "task:dispatch_contacts"


@task()
def dispatch_contacts(limit: int | None = None) -> dict[str, int]:
    """Send the outbox's due messages (see ``accord.usecases.dispatch``); return the counts."""
    report = dispatch.dispatch_due(now=timezone.now(), limit=limit, actor=DISPATCH_ACTOR)
    return report.as_dict()
