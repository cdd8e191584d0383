"""Tell whoever sends the outbox that new messages are waiting (ADR 0010).

Use cases that queue ``ContactAttempt`` rows call :func:`announce_queued` inside their
transaction. Once that transaction commits, the ``contacts_queued`` signal is sent; the
jobs layer (``accord.jobs.apps``) answers it by enqueueing the dispatch task. The signal
keeps the layers pointing inward: use cases never import the task.
"""

from __future__ import annotations

import django.dispatch
from django.db import transaction

contacts_queued = django.dispatch.Signal()
"""Sent (with ``sender=None``) after a transaction that queued outbox rows commits."""


def announce_queued() -> None:
    """Send ``contacts_queued`` when the current transaction commits (at once outside one)."""
    transaction.on_commit(_send, robust=True)


def _send() -> None:
    contacts_queued.send(sender=None)
