"""Read a customer's complaints and breathing-space moratoriums, newest first."""

from __future__ import annotations

import dataclasses
import datetime

from accord.storage import models


@dataclasses.dataclass(frozen=True, kw_only=True)
class ComplaintRecord:
    """Describe a complaint as staff and the API read it."""

    id: int
    customer_id: int
    account_id: int | None
    account_ref: str
    category: str
    category_label: str
    summary: str
    received_at: datetime.datetime
    received_via: str
    recorded_by: str
    resolved_at: datetime.datetime | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class BreathingSpaceRecord:
    """Describe a breathing-space moratorium."""

    id: int
    customer_id: int
    kind: str
    kind_label: str
    starts_on: datetime.date
    ends_on: datetime.date | None
    reference: str
    recorded_at: datetime.datetime
    recorded_by: str
    cancelled_at: datetime.datetime | None

    def in_force(self, on: datetime.date) -> bool:
        """Return whether the moratorium holds on ``on`` (the engine's rule)."""
        return (
            self.cancelled_at is None
            and self.starts_on <= on
            and (self.ends_on is None or self.ends_on >= on)
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class CustomerRecords:
    """Hold a customer's complaints and breathing spaces, and which space is in force."""

    complaints: list[ComplaintRecord]
    breathing_spaces: list[BreathingSpaceRecord]
    in_force: BreathingSpaceRecord | None


def _complaint(row: models.Complaint) -> ComplaintRecord:
    return ComplaintRecord(
        id=row.pk,
        customer_id=row.customer_id,
        account_id=row.account_id,
        account_ref=row.account.external_ref if row.account else "",
        category=row.category,
        category_label=str(models.ComplaintCategory(row.category).label),
        summary=row.summary,
        received_at=row.received_at,
        received_via=row.received_via,
        recorded_by=row.recorded_by,
        resolved_at=row.resolved_at,
    )


def _breathing_space(row: models.BreathingSpace) -> BreathingSpaceRecord:
    return BreathingSpaceRecord(
        id=row.pk,
        customer_id=row.customer_id,
        kind=row.kind,
        kind_label=str(models.BreathingSpaceKind(row.kind).label),
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        reference=row.reference,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        cancelled_at=row.cancelled_at,
    )


def complaint(complaint_id: int) -> ComplaintRecord | None:
    """Return one complaint, or ``None``."""
    row = models.Complaint.objects.select_related("account").filter(pk=complaint_id).first()
    return None if row is None else _complaint(row)


def breathing_space(space_id: int) -> BreathingSpaceRecord | None:
    """Return one breathing space, or ``None``."""
    row = models.BreathingSpace.objects.filter(pk=space_id).first()
    return None if row is None else _breathing_space(row)


def for_customer(customer_id: int, *, today: datetime.date, limit: int = 20) -> CustomerRecords:
    """Return the customer's latest complaints and breathing spaces, newest first."""
    complaints = [
        _complaint(row)
        for row in models.Complaint.objects.filter(customer_id=customer_id)
        .select_related("account")
        .order_by("-received_at", "-id")[:limit]
    ]
    spaces = [
        _breathing_space(row)
        for row in models.BreathingSpace.objects.filter(customer_id=customer_id).order_by(
            "-starts_on", "-id"
        )[:limit]
    ]
    return CustomerRecords(
        complaints=complaints,
        breathing_spaces=spaces,
        in_force=next((space for space in spaces if space.in_force(today)), None),
    )
