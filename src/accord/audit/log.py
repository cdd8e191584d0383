"""Write audit events into the current transaction and verify the hash chain.

Each event stores the SHA-256 of its predecessor's hash and its own canonical
content, so any edit made behind the application's back (which the database
triggers also refuse) breaks :func:`verify_chain`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from accord.audit import events, models

GENESIS_HASH = "0" * 64


class NotInTransaction(Exception):
    """An audit event must be written inside the transaction of the change it records."""


class NaiveTimestamp(Exception):
    """Audit timestamps must be timezone-aware."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class BrokenChain:
    event_id: int
    reason: str


def _canonical(
    *,
    previous_hash: str,
    occurred_at: datetime,
    actor: str,
    event_type: str,
    subject_type: str,
    subject_id: str,
    parameters: Mapping[str, Any],
) -> str:
    return json.dumps(
        {
            "previous_hash": previous_hash,
            "occurred_at": occurred_at.isoformat(timespec="microseconds"),
            "actor": actor,
            "event_type": event_type,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "parameters": parameters,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )


def _normalise(parameters: Mapping[str, Any]) -> dict[str, Any]:
    # Round-trip through JSON so what is hashed is exactly what the database stores.
    loaded: dict[str, Any] = json.loads(json.dumps(dict(parameters), default=str))
    return loaded


def _chained(
    *,
    previous_hash: str,
    occurred_at: datetime,
    actor: str,
    event_type: events.EventType,
    subject_type: str,
    subject_id: str | int,
    parameters: Mapping[str, Any],
) -> models.AuditEvent:
    """Build (unsaved) the event that follows ``previous_hash`` in the chain."""
    params = _normalise(parameters)
    digest = hashlib.sha256(
        _canonical(
            previous_hash=previous_hash,
            occurred_at=occurred_at,
            actor=actor,
            event_type=event_type.value,
            subject_type=subject_type,
            subject_id=str(subject_id),
            parameters=params,
        ).encode()
    ).hexdigest()
    return models.AuditEvent(
        occurred_at=occurred_at,
        actor=actor,
        event_type=event_type.value,
        subject_type=subject_type,
        subject_id=str(subject_id),
        parameters=params,
        previous_hash=previous_hash,
        hash=digest,
    )


def _check_context(*, now: datetime, function: str) -> None:
    if not connection.in_atomic_block:
        raise NotInTransaction(f"audit.{function} must be called inside transaction.atomic()")
    if now.tzinfo is None or now.utcoffset() is None:
        raise NaiveTimestamp("audit events need a timezone-aware time")


def record(
    *,
    actor: str,
    event_type: events.EventType,
    subject_type: str,
    subject_id: str | int,
    parameters: Mapping[str, Any],
    now: datetime,
) -> models.AuditEvent:
    """Append one event to the audit log, inside the caller's transaction.

    Raises ``NotInTransaction`` outside ``transaction.atomic`` and
    ``NaiveTimestamp`` for a naive ``now``.
    """
    _check_context(now=now, function="record")
    head = _locked_head()
    # Stored and hashed in UTC: both databases hand it back that way.
    event = _chained(
        previous_hash=head.latest_hash,
        occurred_at=now.astimezone(UTC),
        actor=actor,
        event_type=event_type,
        subject_type=subject_type,
        subject_id=subject_id,
        parameters=parameters,
    )
    event.save(force_insert=True)
    models.AuditChainHead.objects.filter(pk=head.pk).update(
        latest_hash=event.hash, length=head.length + 1
    )
    return event


def record_each(
    *,
    actor: str,
    event_type: events.EventType,
    subject_type: str,
    subjects: Sequence[tuple[str | int, Mapping[str, Any]]],
    now: datetime,
) -> int:
    """Append one event per ``(subject_id, parameters)`` in order, inside the caller's transaction.

    The events chain exactly as :func:`record` would chain them one by one; the chain's
    head is locked and moved once and the rows are inserted in bulk (a batch job's
    per-subject events). Returns how many were written. Raises what :func:`record` raises.
    """
    _check_context(now=now, function="record_each")
    if not subjects:
        return 0
    head = _locked_head()
    occurred_at = now.astimezone(UTC)
    previous = head.latest_hash
    rows: list[models.AuditEvent] = []
    for subject_id, parameters in subjects:
        event = _chained(
            previous_hash=previous,
            occurred_at=occurred_at,
            actor=actor,
            event_type=event_type,
            subject_type=subject_type,
            subject_id=subject_id,
            parameters=parameters,
        )
        rows.append(event)
        previous = event.hash
    models.AuditEvent.objects.bulk_create(rows, batch_size=1000)
    models.AuditChainHead.objects.filter(pk=head.pk).update(
        latest_hash=previous, length=head.length + len(rows)
    )
    return len(rows)


def _locked_head() -> models.AuditChainHead:
    # SELECT ... FOR UPDATE on PostgreSQL serialises concurrent writers; SQLite
    # already serialises writers (IMMEDIATE transactions) and ignores the lock.
    head = models.AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        models.AuditChainHead.objects.get_or_create(
            pk=1, defaults={"latest_hash": GENESIS_HASH, "length": 0}
        )
        head = models.AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def verify_chain(*, batch_size: int = 5000) -> list[BrokenChain]:
    """Recompute every hash in order; return the events whose hash does not match."""
    broken: list[BrokenChain] = []
    previous = GENESIS_HASH
    for event in _in_order(batch_size):
        expected = hashlib.sha256(
            _canonical(
                previous_hash=previous,
                occurred_at=event.occurred_at,
                actor=event.actor,
                event_type=event.event_type,
                subject_type=event.subject_type,
                subject_id=event.subject_id,
                parameters=event.parameters,
            ).encode()
        ).hexdigest()
        if event.previous_hash != previous:
            broken.append(BrokenChain(event_id=event.pk, reason="previous hash does not match"))
        elif event.hash != expected:
            broken.append(BrokenChain(event_id=event.pk, reason="content does not match hash"))
        previous = event.hash
    return broken


def _in_order(batch_size: int) -> Iterator[models.AuditEvent]:
    with transaction.atomic():
        yield from models.AuditEvent.objects.order_by("pk").iterator(chunk_size=batch_size)
