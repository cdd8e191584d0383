"""Declare what the promise, contact-attempt, strategy-run and decision endpoints read and write.

Money goes out as a decimal string beside its currency (``schemas.MoneyOut``) and comes
in the same way: an amount is text, never a JSON number, so it never passes through a
binary float.
"""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from accord.analytics import activity_records as records
from accord.storage import models
from accord.web.api.schemas import MoneyOut, PageOut, PageQuery, Text

MAX_ID = 2**63 - 1

# Requests ----------------------------------------------------------------------------


class PromiseIn(Schema):
    """Take a promise to pay on an account (recorded with source ``API``)."""

    model_config = ConfigDict(extra="forbid")

    account_id: int = Field(ge=1, le=MAX_ID, description="The account's id.", examples=[1])
    amount: Text = Field(
        max_length=32, description="A decimal string, e.g. 50.00.", examples=["50.00"]
    )
    currency: Text = Field(
        max_length=3, description="The account's ISO 4217 currency.", examples=["EUR"]
    )
    promised_date: datetime.date = Field(
        description="Pay on or before this date: today up to 30 days ahead.",
        examples=["2026-12-05"],
    )


class PromiseQuery(PageQuery):
    """Filter promises; the date bounds are inclusive."""

    status: models.PromiseStatus | None = Field(None, description="Only promises in this state.")
    account_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only this account's.")
    source: models.Source | None = Field(None, description="Only promises taken this way.")
    due_from: datetime.date | None = Field(None, description="Promised on or after this date.")
    due_to: datetime.date | None = Field(None, description="Promised on or before this date.")


class ContactAttemptQuery(PageQuery):
    """Filter contact attempts."""

    status: models.ContactStatus | None = Field(None, description="Only attempts in this state.")
    channel: models.Channel | None = Field(None, description="Only attempts on this channel.")
    origin: models.ContactOrigin | None = Field(None, description="Only attempts from here.")
    customer_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only this customer's.")
    account_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only about this account.")
    run_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only planned by this run.")


class RunQuery(PageQuery):
    """Filter strategy runs."""

    status: models.RunStatus | None = Field(None, description="Only runs in this state.")


class RunIn(Schema):
    """Start a strategy run; without ``as_of`` it runs as of today."""

    model_config = ConfigDict(extra="forbid")

    as_of: datetime.date | None = Field(
        None,
        description=(
            "The date to decide as of; never before the latest completed run nor after today."
        ),
        examples=["2026-11-25"],
    )


# Responses ---------------------------------------------------------------------------


class PromiseOut(Schema):
    """Describe a promise to pay."""

    id: int
    account_id: int
    account_ref: str
    amount: MoneyOut
    promised_date: datetime.date
    status: str = Field(description="OPEN, KEPT, BROKEN or CANCELLED.")
    source: str = Field(description="AGENT, PORTAL or API.")
    contact_id: int | None = Field(description="The contact it was made in, if any.")
    created_at: datetime.datetime
    created_by: str
    resolved_at: datetime.datetime | None

    @classmethod
    def of(cls, record: records.PromiseRecord) -> PromiseOut:
        """Return the response for ``record``."""
        return cls(
            id=record.id,
            account_id=record.account_id,
            account_ref=record.account_ref,
            amount=MoneyOut.of(record.amount),
            promised_date=record.promised_date,
            status=record.status,
            source=record.source,
            contact_id=record.contact_id,
            created_at=record.created_at,
            created_by=record.created_by,
            resolved_at=record.resolved_at,
        )


class ContactAttemptOut(Schema):
    """Describe a contact attempt: planned, sent, failed, blocked or a logged call."""

    id: int
    customer_id: int
    account_id: int | None
    channel: str = Field(description="CALL, SMS, EMAIL, LETTER or VOICEMAIL.")
    template: str
    language: str
    purpose: str
    origin: str = Field(description="STRATEGY, AGENT, PORTAL, API or CUSTOMER (a text they sent).")
    direction: str = Field(description="OUTBOUND or INBOUND.")
    planned_at: datetime.datetime
    status: str = Field(
        description="PLANNED, SENDING, SENT, FAILED, BLOCKED, CANCELLED, COMPLETED or PARKED."
    )
    idempotency_key: str
    run_id: int | None
    decision_id: int | None
    destination: str = Field(description="The address or number it went to.")
    attempts: int
    sent_at: datetime.datetime | None
    failure_reason: str
    policy_reasons: list[Any] = Field(description="Why the contact policy blocked or deferred it.")
    provider_ref: str
    subject: str
    body: str = Field(description="Exactly what the customer received.")
    has_document: bool = Field(description="Whether a letter PDF was stored.")
    outcome: str = Field(description="A call's outcome, or empty.")
    connected: bool | None
    agent: str
    notes: str
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @classmethod
    def of(cls, record: records.ContactAttemptRecord) -> ContactAttemptOut:
        """Return the response for ``record``."""
        return cls(**{field: getattr(record, field) for field in cls.model_fields})


class RunOut(Schema):
    """Describe a strategy run and what it counted."""

    id: int
    as_of_date: datetime.date
    strategy_name: str
    strategy_version: str
    status: str = Field(description="RUNNING, COMPLETED or FAILED.")
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    started_by: str
    accounts: int
    decisions: int
    contacts_planned: int
    contacts_blocked: int
    counts: dict[str, Any] = Field(description="Counts per treatment, stage and bucket.")
    error: str

    @classmethod
    def of(cls, record: records.RunRecord) -> RunOut:
        """Return the response for ``record``."""
        return cls(**{field: getattr(record, field) for field in cls.model_fields})


class DecisionOut(Schema):
    """Describe what one strategy run decided for an account, and why."""

    id: int
    run_id: int
    account_id: int
    as_of_date: datetime.date
    days_past_due: int
    bucket: str
    stage: str
    arrears: MoneyOut
    balance: MoneyOut
    treatment: str = Field(
        description=(
            "NONE, PRE_DUE_REMINDER, LATE_NOTICE, PROMISE_REQUEST, PLAN_OFFER, "
            "HARDSHIP_REVIEW, CALL_TASK or ESCALATION."
        )
    )
    channel: str
    reason_codes: list[str]
    explanations: list[str] = Field(
        description="Each reason code in plain English, in the same order as reason_codes."
    )
    segment: str = Field(description="The strategy segment that took the account; empty if none.")
    path: str = Field(description="The treatment path it followed; empty if none.")
    experiment: str = Field(description="The champion/challenger experiment; empty if none.")
    arm: str = Field(description="The experiment arm the account is in; empty if none.")
    risk_score: int | None = Field(description="Risk of default, 0-100 (docs/strategy.md).")
    collectability_score: int | None = Field(description="Collectability, 0-100.")
    strategy_version: str
    created_at: datetime.datetime

    @classmethod
    def of(cls, record: records.DecisionRecord) -> DecisionOut:
        """Return the response for ``record``."""
        return cls(
            id=record.id,
            run_id=record.run_id,
            account_id=record.account_id,
            as_of_date=record.as_of_date,
            days_past_due=record.days_past_due,
            bucket=record.bucket,
            stage=record.stage,
            arrears=MoneyOut.of(record.arrears),
            balance=MoneyOut.of(record.balance),
            treatment=record.treatment,
            channel=record.channel,
            reason_codes=list(record.reason_codes),
            explanations=list(record.explanations),
            segment=record.segment,
            path=record.path,
            experiment=record.experiment,
            arm=record.arm,
            risk_score=record.risk_score,
            collectability_score=record.collectability_score,
            strategy_version=record.strategy_version,
            created_at=record.created_at,
        )


class PromisePage(PageOut):
    """One page of promises, ordered by id."""

    items: list[PromiseOut]


class ContactAttemptPage(PageOut):
    """One page of contact attempts, ordered by id."""

    items: list[ContactAttemptOut]


class RunPage(PageOut):
    """One page of strategy runs, ordered by id."""

    items: list[RunOut]


class DecisionPage(PageOut):
    """One page of an account's decisions, newest as-of date first."""

    items: list[DecisionOut]
