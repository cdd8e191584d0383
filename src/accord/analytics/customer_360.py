"""Gather everything an agent needs about one customer, in a bounded number of queries.

The page reads: the customer and their contact points, preferences and time zones;
each account's state (balance, arrears, days past due, bucket, stage from
:mod:`accord.analytics.account_state`) with its latest strategy decision; payments,
the contact timeline, promises, plans, vulnerability flags, disputes, cease requests
and opt-outs. Each list is one query (plans prefetch their instalments), and long
histories are cut to their most recent rows.
"""

from __future__ import annotations

import dataclasses
import datetime
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import OuterRef, Prefetch, Subquery, TextChoices

from accord.analytics import account_state, why, work_queue
from accord.domain.money import Money
from accord.storage import models

MAX_PAYMENTS = 24
MAX_CONTACTS = 60
MAX_PROMISES = 20
# How the customer 360 names a call an agent started and has not yet recorded.
CALL_IN_PROGRESS = "In progress"

# Reason codes read in words (the strategy's and the contact policy's): accord.analytics.why.
reason_label = why.reason_label


@dataclasses.dataclass(frozen=True, kw_only=True)
class LabelledCode:
    """A code beside its human-readable label."""

    code: str
    label: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class LocalTime:
    """The customer's time now in one candidate zone."""

    zone: str
    now: datetime.datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class DecisionView:
    """The latest strategy decision for an account, with its reasons in words."""

    as_of_date: datetime.date
    treatment: str
    treatment_label: str
    channel: str
    reasons: tuple[LabelledCode, ...]
    strategy_version: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class AccountView:
    """One account with its state today and the latest decision about it."""

    id: int
    ref: str
    product_label: str
    status: str
    status_label: str
    currency: str
    opened_date: datetime.date
    credit_limit: Money | None
    balance: Money
    arrears: Money
    days_past_due: int
    bucket: str
    stage: str
    decision: DecisionView | None
    open_disputes: int

    @property
    def stage_label(self) -> str:
        """Return the stage in words."""
        return work_queue.stage_label(self.stage)

    @property
    def in_arrears(self) -> bool:
        """Return whether anything is overdue on the account."""
        return self.arrears.is_positive()


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentView:
    account_ref: str
    received_date: datetime.date
    amount: Money
    method_label: str
    reference: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ContactView:
    """One contact attempt as the timeline shows it."""

    id: int
    at: datetime.datetime
    account_id: int | None
    account_ref: str
    channel: str
    channel_label: str
    direction: str
    direction_label: str
    origin_label: str
    status: str
    status_label: str
    template: str
    subject: str
    body: str
    destination: str
    outcome: str
    outcome_label: str
    agent: str
    notes: str
    failure_reason: str
    policy_reasons: tuple[LabelledCode, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class PromiseView:
    id: int
    account_ref: str
    amount: Money
    promised_date: datetime.date
    status: str
    status_label: str
    source_label: str
    created_at: datetime.datetime
    created_by: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class InstalmentView:
    sequence: int
    due_date: datetime.date
    amount: Money


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlanView:
    id: int
    account_ref: str
    total: Money
    status: str
    status_label: str
    source_label: str
    start_date: datetime.date
    instalments: tuple[InstalmentView, ...]
    created_at: datetime.datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class VulnerabilityView:
    """A vulnerability flag; ``detail`` is empty unless the customer consented to it."""

    category_label: str
    consent_to_record: bool
    detail: str
    review_date: datetime.date
    recorded_at: datetime.datetime
    recorded_by: str
    resolved: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class DisputeView:
    account_ref: str
    reason: str
    received_at: datetime.datetime
    verified_at: datetime.datetime | None
    resolved_at: datetime.datetime | None

    @property
    def open(self) -> bool:
        """Return whether the dispute still pauses collection (not verified or resolved)."""
        return self.verified_at is None and self.resolved_at is None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Customer360:
    """Everything about one customer that the agent's single screen shows."""

    id: int
    ref: str
    name: str
    debtor_type_label: str
    date_of_birth: datetime.date | None
    address_lines: tuple[str, ...]
    country: str
    language: str
    preferred_channel_label: str
    contact_hours: tuple[datetime.time, datetime.time] | None
    time_zone_source_label: str
    local_times: tuple[LocalTime, ...]
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    accounts: tuple[AccountView, ...]
    payments: tuple[PaymentView, ...]
    contacts: tuple[ContactView, ...]
    calls_in_progress: tuple[ContactView, ...]
    promises: tuple[PromiseView, ...]
    plans: tuple[PlanView, ...]
    vulnerabilities: tuple[VulnerabilityView, ...]
    disputes: tuple[DisputeView, ...]
    cease_requested_at: datetime.datetime | None
    opted_out_channels: tuple[LabelledCode, ...]

    @property
    def open_account_ids(self) -> list[int]:
        """Return the accounts still being collected (not closed or settled)."""
        return [
            account.id
            for account in self.accounts
            if account.status not in (models.AccountStatus.CLOSED, models.AccountStatus.SETTLED)
        ]

    @property
    def active_vulnerabilities(self) -> list[VulnerabilityView]:
        """Return the vulnerability flags not yet resolved."""
        return [flag for flag in self.vulnerabilities if not flag.resolved]

    @property
    def open_disputes(self) -> list[DisputeView]:
        """Return the disputes still pausing collection."""
        return [dispute for dispute in self.disputes if dispute.open]

    @property
    def open_promise(self) -> PromiseView | None:
        """Return the most recent open promise, if any."""
        return next(
            (p for p in self.promises if p.status == models.PromiseStatus.OPEN),
            None,
        )


def customer_360(
    *, customer_id: int, today: datetime.date, now: datetime.datetime
) -> Customer360 | None:
    """Return the customer 360 as of ``today`` (local times at ``now``), or None if unknown."""
    customer = models.Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return None
    points = list(customer.contact_points.order_by("kind", "position", "pk"))
    account_rows = list(
        customer.accounts.order_by("opened_date", "pk").annotate(
            latest_decision_id=Subquery(
                models.Decision.objects.filter(account=OuterRef("pk"))
                .order_by("-as_of_date", "-pk")
                .values("pk")[:1]
            )
        )
    )
    refs = {row.pk: row.external_ref for row in account_rows}
    disputes = [
        DisputeView(
            account_ref=refs.get(row.account_id, ""),
            reason=row.reason,
            received_at=row.received_at,
            verified_at=row.verified_at,
            resolved_at=row.resolved_at,
        )
        for row in models.Dispute.objects.filter(account__customer=customer).order_by(
            "-received_at", "-pk"
        )
    ]
    accounts = _accounts(account_rows, today=today, disputes=disputes)
    return Customer360(
        id=customer.pk,
        ref=customer.external_ref,
        name=customer.name,
        debtor_type_label=models.DebtorType(customer.debtor_type).label,
        date_of_birth=customer.date_of_birth,
        address_lines=tuple(
            line
            for line in (
                customer.address_line1,
                customer.address_line2,
                " ".join(part for part in (customer.postcode, customer.city) if part),
                customer.region,
            )
            if line
        ),
        country=customer.country,
        language=customer.language,
        preferred_channel_label=_label(models.Channel, customer.preferred_channel),
        contact_hours=(
            (customer.contact_hours_start, customer.contact_hours_end)
            if customer.contact_hours_start and customer.contact_hours_end
            else None
        ),
        time_zone_source_label=_label(models.TimeZoneSource, customer.time_zone_source),
        local_times=_local_times(customer.time_zones, now=now),
        phones=tuple(p.value for p in points if p.kind == models.ContactPointKind.PHONE),
        emails=tuple(p.value for p in points if p.kind == models.ContactPointKind.EMAIL),
        accounts=accounts,
        payments=_payments(customer, refs),
        contacts=_contacts(customer, refs),
        calls_in_progress=_calls_in_progress(customer, refs),
        promises=_promises(customer, refs),
        plans=_plans(customer, refs),
        vulnerabilities=_vulnerabilities(customer),
        disputes=tuple(disputes),
        cease_requested_at=customer.cease_requests.filter(withdrawn_at__isnull=True)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
        .first(),
        opted_out_channels=tuple(
            LabelledCode(code=channel, label=_label(models.Channel, channel))
            for channel in customer.opt_outs.filter(withdrawn_at__isnull=True)
            .order_by("channel")
            .values_list("channel", flat=True)
        ),
    )


def _label(choices: type[TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _labelled(codes: Iterable[object]) -> tuple[LabelledCode, ...]:
    labelled = []
    for code in codes:
        # Policy reasons may be stored as {"code": ..., "message": ...} or as bare codes.
        if isinstance(code, dict):
            text = str(code.get("code", ""))
            label = str(code.get("message") or reason_label(text))
        else:
            text = str(code)
            label = reason_label(text)
        labelled.append(LabelledCode(code=text, label=label))
    return tuple(labelled)


def _local_times(zones: Iterable[str], *, now: datetime.datetime) -> tuple[LocalTime, ...]:
    times = []
    for zone in sorted(set(zones)):
        try:
            times.append(LocalTime(zone=zone, now=now.astimezone(zoneinfo.ZoneInfo(zone))))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return tuple(times)


def _accounts(
    rows: Sequence[Any], *, today: datetime.date, disputes: list[DisputeView]
) -> tuple[AccountView, ...]:
    if not rows:
        return ()
    states = {
        state.account_id: state
        for state in account_state.account_states(as_of=today, account_ids=[r.pk for r in rows])
    }
    decision_ids = [row.latest_decision_id for row in rows if row.latest_decision_id]
    decisions = {d.account_id: d for d in models.Decision.objects.filter(pk__in=decision_ids)}
    views = []
    for row in rows:
        state = states.get(row.pk)
        decision = decisions.get(row.pk)
        zero = Money.zero(row.currency)
        views.append(
            AccountView(
                id=row.pk,
                ref=row.external_ref,
                product_label=_label(models.ProductType, row.product_type),
                status=row.status,
                status_label=_label(models.AccountStatus, row.status),
                currency=row.currency,
                opened_date=row.opened_date,
                credit_limit=(
                    Money.from_minor_units(row.credit_limit_minor, row.currency)
                    if row.credit_limit_minor is not None
                    else None
                ),
                balance=state.balance if state else zero,
                arrears=state.arrears if state else zero,
                days_past_due=state.days_past_due if state else 0,
                bucket=state.bucket_label if state else "",
                stage=str(state.stage) if state else "",
                decision=_decision(decision) if decision else None,
                open_disputes=sum(
                    1 for d in disputes if d.account_ref == row.external_ref and d.open
                ),
            )
        )
    return tuple(views)


def _decision(row: models.Decision) -> DecisionView:
    return DecisionView(
        as_of_date=row.as_of_date,
        treatment=row.treatment,
        treatment_label=_label(models.Treatment, row.treatment),
        channel=_label(models.Channel, row.channel) if row.channel else "",
        reasons=_labelled(row.reason_codes or []),
        strategy_version=row.strategy_version,
    )


def _payments(customer: models.Customer, refs: dict[int, str]) -> tuple[PaymentView, ...]:
    rows = models.Payment.objects.filter(account__customer=customer).order_by(
        "-received_date", "-pk"
    )[:MAX_PAYMENTS]
    return tuple(
        PaymentView(
            account_ref=refs.get(row.account_id, ""),
            received_date=row.received_date,
            amount=Money.from_minor_units(row.amount_minor, row.currency),
            method_label=_label(models.PaymentMethod, row.method),
            reference=row.provider_reference or row.external_ref,
        )
        for row in rows
    )


def _contacts(customer: models.Customer, refs: dict[int, str]) -> tuple[ContactView, ...]:
    rows = customer.contacts.order_by("-planned_at", "-pk")[:MAX_CONTACTS]
    return tuple(_contact(row, refs) for row in rows)


def _calls_in_progress(customer: models.Customer, refs: dict[int, str]) -> tuple[ContactView, ...]:
    rows = customer.contacts.filter(
        channel=models.Channel.CALL, status=models.ContactStatus.SENDING
    )
    # Latest first, sorted here: a customer has few calls in progress, and an ORDER BY
    # sent_at lets SQLite walk every call ever made by (channel, sent_at) instead.
    latest_first = sorted(
        rows, key=lambda row: (row.sent_at or row.planned_at, row.pk), reverse=True
    )
    return tuple(_contact(row, refs) for row in latest_first)


def _contact_status_label(row: models.ContactAttempt) -> str:
    # A call being SENDING means an agent started it and has not recorded its outcome.
    if row.channel == models.Channel.CALL and row.status == models.ContactStatus.SENDING:
        return CALL_IN_PROGRESS
    return _label(models.ContactStatus, row.status)


def _contact(row: models.ContactAttempt, refs: dict[int, str]) -> ContactView:
    return ContactView(
        id=row.pk,
        at=row.sent_at or row.planned_at,
        account_id=row.account_id,
        account_ref=refs.get(row.account_id, "") if row.account_id else "",
        channel=row.channel,
        channel_label=_label(models.Channel, row.channel),
        direction=row.direction,
        direction_label=_label(models.ContactDirection, row.direction),
        origin_label=_label(models.ContactOrigin, row.origin),
        status=row.status,
        status_label=_contact_status_label(row),
        template=row.template,
        subject=row.subject,
        body=row.body,
        destination=row.destination,
        outcome=row.outcome,
        outcome_label=_label(models.CallOutcome, row.outcome) if row.outcome else "",
        agent=row.agent,
        notes=row.notes,
        failure_reason=row.failure_reason,
        policy_reasons=_labelled(row.policy_reasons or []),
    )


def _promises(customer: models.Customer, refs: dict[int, str]) -> tuple[PromiseView, ...]:
    rows = models.Promise.objects.filter(account__customer=customer).order_by("-created_at", "-pk")[
        :MAX_PROMISES
    ]
    return tuple(
        PromiseView(
            id=row.pk,
            account_ref=refs.get(row.account_id, ""),
            amount=Money.from_minor_units(row.amount_minor, row.currency),
            promised_date=row.promised_date,
            status=row.status,
            status_label=_label(models.PromiseStatus, row.status),
            source_label=_label(models.Source, row.source),
            created_at=row.created_at,
            created_by=row.created_by,
        )
        for row in rows
    )


def _plans(customer: models.Customer, refs: dict[int, str]) -> tuple[PlanView, ...]:
    rows = (
        models.RepaymentPlan.objects.filter(account__customer=customer)
        .order_by("-created_at", "-pk")
        .prefetch_related(
            Prefetch(
                "instalments",
                queryset=models.PlanInstalment.objects.order_by("sequence"),
            )
        )
    )
    return tuple(
        PlanView(
            id=row.pk,
            account_ref=refs.get(row.account_id, ""),
            total=Money.from_minor_units(row.total_minor, row.currency),
            status=row.status,
            status_label=_label(models.PlanStatus, row.status),
            source_label=_label(models.Source, row.source),
            start_date=row.start_date,
            instalments=tuple(
                InstalmentView(
                    sequence=item.sequence,
                    due_date=item.due_date,
                    amount=Money.from_minor_units(item.amount_minor, row.currency),
                )
                for item in row.instalments.all()
            ),
            created_at=row.created_at,
        )
        for row in rows
    )


def _vulnerabilities(customer: models.Customer) -> tuple[VulnerabilityView, ...]:
    return tuple(
        VulnerabilityView(
            category_label=_label(models.VulnerabilityCategory, row.category),
            consent_to_record=row.consent_to_record,
            # Belt and braces: the table already refuses detail without consent.
            detail=row.detail if row.consent_to_record else "",
            review_date=row.review_date,
            recorded_at=row.recorded_at,
            recorded_by=row.recorded_by,
            resolved=row.resolved_at is not None,
        )
        for row in customer.vulnerabilities.order_by("resolved_at", "-recorded_at", "-pk")
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class PolicySubjects:
    """What the pre-call policy check needs: the customer's zones and open accounts."""

    customer_id: int
    time_zones: tuple[str, ...]
    accounts: tuple[LabelledCode, ...]


def policy_subjects(*, customer_id: int) -> PolicySubjects | None:
    """Return the customer's candidate time zones and open accounts (id and reference)."""
    customer = models.Customer.objects.filter(pk=customer_id).only("time_zones").first()
    if customer is None:
        return None
    accounts = (
        models.Account.objects.filter(customer_id=customer_id)
        .exclude(status__in=[models.AccountStatus.CLOSED, models.AccountStatus.SETTLED])
        .order_by("opened_date", "pk")
        .values_list("pk", "external_ref")
    )
    zones = customer.time_zones if isinstance(customer.time_zones, list) else []
    return PolicySubjects(
        customer_id=customer_id,
        time_zones=tuple(sorted({str(zone) for zone in zones})),
        accounts=tuple(LabelledCode(code=str(pk), label=ref) for pk, ref in accounts),
    )
