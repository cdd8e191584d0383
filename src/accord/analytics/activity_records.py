"""Read promises, contact attempts, strategy runs and decisions one page at a time.

The API's issue-4 endpoints come here. Lists of promises, contact attempts and runs are
ordered by ``id`` so that limit/offset pages are stable; an account's decisions are
newest first. Money leaves this module as :class:`~accord.domain.money.Money`.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from django.db.models import QuerySet

from accord.analytics import why
from accord.analytics.portfolio_records import Page, find, paginate
from accord.domain.money import Money
from accord.storage import models


@dataclasses.dataclass(frozen=True, kw_only=True)
class PromiseRecord:
    """Describe a promise to pay and the account it is about."""

    id: int
    account_id: int
    account_ref: str
    amount: Money
    promised_date: datetime.date
    status: str
    source: str
    contact_id: int | None
    created_at: datetime.datetime
    created_by: str
    resolved_at: datetime.datetime | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ContactAttemptRecord:
    """Describe one contact attempt: an outbox row or a piece of contact history."""

    id: int
    customer_id: int
    account_id: int | None
    channel: str
    template: str
    language: str
    purpose: str
    origin: str
    direction: str
    planned_at: datetime.datetime
    status: str
    idempotency_key: str
    run_id: int | None
    decision_id: int | None
    destination: str
    attempts: int
    sent_at: datetime.datetime | None
    failure_reason: str
    policy_reasons: list[Any]
    provider_ref: str
    subject: str
    body: str
    has_document: bool
    outcome: str
    connected: bool | None
    agent: str
    notes: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunRecord:
    """Describe one strategy run and what it counted."""

    id: int
    as_of_date: datetime.date
    strategy_name: str
    strategy_version: str
    status: str
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    started_by: str
    accounts: int
    decisions: int
    contacts_planned: int
    contacts_blocked: int
    counts: dict[str, Any]
    error: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class DecisionRecord:
    """Describe what one run decided for one account, and why."""

    id: int
    run_id: int
    account_id: int
    as_of_date: datetime.date
    days_past_due: int
    bucket: str
    stage: str
    arrears: Money
    balance: Money
    treatment: str
    channel: str
    reason_codes: list[str]
    strategy_version: str
    created_at: datetime.datetime
    segment: str
    path: str
    experiment: str
    arm: str
    risk_score: int | None
    collectability_score: int | None
    explanations: list[str]


def _filtered(queryset: QuerySet[Any], **conditions: Any) -> QuerySet[Any]:
    given = {name: value for name, value in conditions.items() if value is not None}
    return queryset.filter(**given) if given else queryset


# Promises ----------------------------------------------------------------------------


def _promises() -> QuerySet[models.Promise]:
    return models.Promise.objects.select_related("account")


def _promise(row: models.Promise) -> PromiseRecord:
    return PromiseRecord(
        id=row.pk,
        account_id=row.account_id,
        account_ref=row.account.external_ref,
        amount=Money.from_minor_units(row.amount_minor, row.currency),
        promised_date=row.promised_date,
        status=row.status,
        source=row.source,
        contact_id=row.contact_id,
        created_at=row.created_at,
        created_by=row.created_by,
        resolved_at=row.resolved_at,
    )


def promises(
    *,
    limit: int,
    offset: int,
    status: str | None = None,
    account_id: int | None = None,
    source: str | None = None,
    due_from: datetime.date | None = None,
    due_to: datetime.date | None = None,
) -> Page[PromiseRecord]:
    """Return one page of promises, filtered by the conditions given (dates inclusive)."""
    queryset = _filtered(
        _promises(),
        status=status,
        account_id=account_id,
        source=source,
        promised_date__gte=due_from,
        promised_date__lte=due_to,
    )
    return paginate(queryset, _promise, limit=limit, offset=offset)


def promise(record_id: int) -> PromiseRecord | None:
    """Return the promise with id ``record_id``, or ``None``."""
    return find(_promises(), _promise, record_id)


# Contact attempts --------------------------------------------------------------------


def _contact(row: models.ContactAttempt) -> ContactAttemptRecord:
    return ContactAttemptRecord(
        id=row.pk,
        customer_id=row.customer_id,
        account_id=row.account_id,
        channel=row.channel,
        template=row.template,
        language=row.language,
        purpose=row.purpose,
        origin=row.origin,
        direction=row.direction,
        planned_at=row.planned_at,
        status=row.status,
        idempotency_key=row.idempotency_key,
        run_id=row.run_id,
        decision_id=row.decision_id,
        destination=row.destination,
        attempts=row.attempts,
        sent_at=row.sent_at,
        failure_reason=row.failure_reason,
        policy_reasons=list(row.policy_reasons or []),
        provider_ref=row.provider_ref,
        subject=row.subject,
        body=row.body,
        has_document=bool(row.document),
        outcome=row.outcome,
        connected=row.connected,
        agent=row.agent,
        notes=row.notes,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def contact_attempts(
    *,
    limit: int,
    offset: int,
    status: str | None = None,
    channel: str | None = None,
    origin: str | None = None,
    customer_id: int | None = None,
    account_id: int | None = None,
    run_id: int | None = None,
) -> Page[ContactAttemptRecord]:
    """Return one page of contact attempts, filtered by the conditions given."""
    queryset = _filtered(
        models.ContactAttempt.objects.all(),
        status=status,
        channel=channel,
        origin=origin,
        customer_id=customer_id,
        account_id=account_id,
        run_id=run_id,
    )
    return paginate(queryset, _contact, limit=limit, offset=offset)


def contact_attempt(record_id: int) -> ContactAttemptRecord | None:
    """Return the contact attempt with id ``record_id``, or ``None``."""
    return find(models.ContactAttempt.objects.all(), _contact, record_id)


# Strategy runs -----------------------------------------------------------------------


def run_record(row: models.StrategyRun) -> RunRecord:
    """Return the record of the run ``row``."""
    return RunRecord(
        id=row.pk,
        as_of_date=row.as_of_date,
        strategy_name=row.strategy_name,
        strategy_version=row.strategy_version,
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        started_by=row.started_by,
        accounts=row.accounts,
        decisions=row.decisions,
        contacts_planned=row.contacts_planned,
        contacts_blocked=row.contacts_blocked,
        counts=dict(row.counts or {}),
        error=row.error,
    )


def runs(*, limit: int, offset: int, status: str | None = None) -> Page[RunRecord]:
    """Return one page of strategy runs, optionally only those in ``status``."""
    queryset = _filtered(models.StrategyRun.objects.all(), status=status)
    return paginate(queryset, run_record, limit=limit, offset=offset)


def run(record_id: int) -> RunRecord | None:
    """Return the run with id ``record_id``, or ``None``."""
    return find(models.StrategyRun.objects.all(), run_record, record_id)


# Decisions ---------------------------------------------------------------------------


def _decision(row: models.Decision) -> DecisionRecord:
    return DecisionRecord(
        id=row.pk,
        run_id=row.run_id,
        account_id=row.account_id,
        as_of_date=row.as_of_date,
        days_past_due=row.days_past_due,
        bucket=row.bucket,
        stage=row.stage,
        arrears=Money.from_minor_units(row.arrears_minor, row.currency),
        balance=Money.from_minor_units(row.balance_minor, row.currency),
        treatment=row.treatment,
        channel=row.channel,
        reason_codes=[str(code) for code in row.reason_codes or []],
        strategy_version=row.strategy_version,
        created_at=row.created_at,
        segment=row.segment,
        path=row.path,
        experiment=row.experiment,
        arm=row.arm,
        risk_score=row.risk_score,
        collectability_score=row.collectability_score,
        explanations=why.explain([str(code) for code in row.reason_codes or []]),
    )


def account_exists(account_id: int) -> bool:
    """Return whether an account has id ``account_id``."""
    return models.Account.objects.filter(pk=account_id).exists()


def account_decisions(*, account_id: int, limit: int, offset: int) -> Page[DecisionRecord]:
    """Return one page of the account's decisions, newest as-of date first."""
    queryset = models.Decision.objects.filter(account_id=account_id)
    return paginate(queryset, _decision, limit=limit, offset=offset, order=("-as_of_date", "-id"))
