"""Endpoints for complaints and breathing-space moratoriums.

Both need ``work_accounts`` and go through their use cases (``usecases.complaints`` and
``usecases.circumstances``), so they are validated and audited exactly as when an agent
records them. Complaints count towards the customer-harm guardrails of experiments; a
breathing space in force holds the customer's accounts in every strategy path that stops
on ``BREATHING_SPACE``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from accord.analytics import customer_records
from accord.domain.access import Permission
from accord.storage import models
from accord.usecases import circumstances, complaints
from accord.web.api.auth import requires
from accord.web.api.errors import Invalid, Message, NotFound
from accord.web.api.refusals import Refused
from accord.web.api.schemas import MAX_ID, RecordId, Text

router = Router(tags=["complaints and breathing space"])
work = requires(Permission.WORK_ACCOUNTS)
# Far enough back for any complaint still handled; keeps time-zone arithmetic in range.
EARLIEST = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class ComplaintIn(Schema):
    """Record a complaint made by a customer (about an account, or about us in general)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: int = Field(ge=1, le=MAX_ID, description="The customer's id.", examples=[1])
    account_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The account it is about, if any.", examples=[1]
    )
    category: models.ComplaintCategory = Field(description="What the complaint is about.")
    summary: Text = Field(
        min_length=1,
        max_length=complaints.MAX_SUMMARY,
        description="What the customer is unhappy about, briefly (never put in the audit log).",
        examples=["Four texts in one day."],
    )
    received_via: models.Channel | None = Field(None, description="How the complaint came in.")
    received_at: datetime.datetime | None = Field(
        None,
        description="When it was received, with a UTC offset; default now. Not in the future.",
        examples=["2026-11-24T15:30:00+00:00"],
    )


class ComplaintOut(Schema):
    """Describe a complaint."""

    id: int
    customer_id: int
    account_id: int | None
    category: str = Field(description="CONTACT, CONDUCT, AMOUNT, PLAN or OTHER.")
    summary: str
    received_at: datetime.datetime
    received_via: str = Field(description="EMAIL, SMS, LETTER, CALL or empty.")
    recorded_by: str
    resolved_at: datetime.datetime | None

    @classmethod
    def of(cls, record: customer_records.ComplaintRecord) -> ComplaintOut:
        """Return the response for ``record``."""
        return cls(
            id=record.id,
            customer_id=record.customer_id,
            account_id=record.account_id,
            category=record.category,
            summary=record.summary,
            received_at=record.received_at,
            received_via=record.received_via,
            recorded_by=record.recorded_by,
            resolved_at=record.resolved_at,
        )


class BreathingSpaceIn(Schema):
    """Record a debt-respite moratorium for the customer."""

    model_config = ConfigDict(extra="forbid")

    kind: models.BreathingSpaceKind = Field(description="STANDARD or MENTAL_HEALTH_CRISIS.")
    starts_on: datetime.date = Field(
        description="The first day it is in force (at most a year ahead).",
        examples=["2026-11-25"],
    )
    ends_on: datetime.date | None = Field(
        None,
        description=(
            "The last day it is in force. Default: 60 days after the start for a standard "
            "breathing space; open-ended for a mental health crisis moratorium."
        ),
        examples=["2027-01-24"],
    )
    reference: Text = Field(
        "",
        max_length=circumstances.MAX_REFERENCE,
        description="The moratorium's reference on the official register, if any.",
        examples=["BS-12345"],
    )


class BreathingSpaceOut(Schema):
    """Describe a breathing-space moratorium."""

    id: int
    customer_id: int
    kind: str
    starts_on: datetime.date
    ends_on: datetime.date | None
    reference: str
    recorded_at: datetime.datetime
    recorded_by: str
    cancelled_at: datetime.datetime | None

    @classmethod
    def of(cls, record: customer_records.BreathingSpaceRecord) -> BreathingSpaceOut:
        """Return the response for ``record``."""
        return cls(
            id=record.id,
            customer_id=record.customer_id,
            kind=record.kind,
            starts_on=record.starts_on,
            ends_on=record.ends_on,
            reference=record.reference,
            recorded_at=record.recorded_at,
            recorded_by=record.recorded_by,
            cancelled_at=record.cancelled_at,
        )


def _actor(request: HttpRequest) -> str:
    return f"user:{request.auth.get_username()}"  # type: ignore[attr-defined]


def _received_at(value: datetime.datetime | None) -> datetime.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise Refused(422, field="received_at", reason="give a UTC offset, e.g. +00:00")
    try:
        utc = value.astimezone(datetime.UTC)
    except OverflowError:
        raise Refused(422, field="received_at", reason="the date is out of range") from None
    if utc < EARLIEST:
        raise Refused(422, field="received_at", reason="the date is out of range")
    return utc


@router.post(
    "/complaints",
    auth=work,
    response={201: ComplaintOut, 401: Message, 403: Message, 413: Message, 422: Invalid},
)
def create_complaint(request: HttpRequest, payload: ComplaintIn) -> Any:
    """Record a customer's complaint (audited without its summary)."""
    try:
        complaint = complaints.record_complaint(
            customer_id=payload.customer_id,
            account_id=payload.account_id,
            category=payload.category,
            summary=payload.summary,
            received_via=payload.received_via,
            recorded_by=_actor(request),
            now=timezone.now(),
            received_at=_received_at(payload.received_at),
        )
    except complaints.UnknownCustomer as error:
        raise Refused(422, field="customer_id", reason=str(error)) from None
    except complaints.AccountNotTheCustomers as error:
        raise Refused(422, field="account_id", reason=str(error)) from None
    except complaints.EmptySummary as error:
        raise Refused(422, field="summary", reason=str(error)) from None
    except complaints.ReceivedInFuture as error:
        raise Refused(422, field="received_at", reason=str(error)) from None
    record = customer_records.complaint(complaint.pk)
    if record is None:  # pragma: no cover - just created in this request
        raise NotFound("complaint", complaint.pk)
    return Status(201, ComplaintOut.of(record))


@router.post(
    "/customers/{customer_id}/breathing-spaces",
    auth=work,
    response={
        201: BreathingSpaceOut,
        401: Message,
        403: Message,
        404: Message,
        413: Message,
        422: Invalid,
    },
)
def create_breathing_space(
    request: HttpRequest, customer_id: RecordId, payload: BreathingSpaceIn
) -> Any:
    """Record a breathing-space moratorium: collection contact stops while it is in force."""
    try:
        space = circumstances.record_breathing_space(
            customer_id=customer_id,
            kind=payload.kind,
            starts_on=payload.starts_on,
            ends_on=payload.ends_on,
            reference=payload.reference,
            recorded_by=_actor(request),
            now=timezone.now(),
        )
    except circumstances.UnknownCustomer:
        raise NotFound("customer", customer_id) from None
    except circumstances.BreathingSpaceStartsTooLate as error:
        raise Refused(422, field="starts_on", reason=str(error)) from None
    except circumstances.BreathingSpaceEndsBeforeStart as error:
        raise Refused(422, field="ends_on", reason=str(error)) from None
    except circumstances.ReferenceTooLong as error:
        raise Refused(422, field="reference", reason=str(error)) from None
    record = customer_records.breathing_space(space.pk)
    if record is None:  # pragma: no cover - just created in this request
        raise NotFound("breathing space", space.pk)
    return Status(201, BreathingSpaceOut.of(record))
