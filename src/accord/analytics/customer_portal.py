"""Read what one customer may see in the portal, and nothing of anyone else's.

Every function takes the signed-in ``customer_id`` and filters every query by it, so a
portal view cannot reach another customer's rows even when given their ids: an
account or letter that is not the customer's is simply not found (``None``).
Balances and arrears come from :mod:`accord.domain.arrears`, the same rules the
strategy run and the plan use case apply.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from pathlib import Path

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce

from accord.domain import arrears, money
from accord.storage import models

OPT_OUT_CHANNELS = (
    models.Channel.EMAIL,
    models.Channel.SMS,
    models.Channel.LETTER,
    models.Channel.CALL,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Instalment:
    sequence: int
    due_date: date
    amount: money.Money


@dataclasses.dataclass(frozen=True, kw_only=True)
class Plan:
    instalment_count: int
    total: money.Money
    start_date: date
    instalments: tuple[Instalment, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class OpenPromise:
    amount: money.Money
    promised_date: date


@dataclasses.dataclass(frozen=True, kw_only=True)
class Payment:
    account_id: int
    account_reference: str
    received_date: date
    amount: money.Money
    method: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class AccountSummary:
    """Say where one account stands today, in the customer's terms."""

    id: int
    reference: str
    product: str
    status: str
    is_open: bool
    balance: money.Money
    arrears: money.Money
    overdue_payments: int
    overdue_since: date | None
    next_due_date: date | None
    next_due_amount: money.Money | None
    plan: Plan | None
    next_plan_instalment: Instalment | None
    promise: OpenPromise | None

    @property
    def is_overdue(self) -> bool:
        """Return whether anything on the account is overdue."""
        return self.arrears.is_positive()


@dataclasses.dataclass(frozen=True, kw_only=True)
class AccountDetail:
    summary: AccountSummary
    payments: tuple[Payment, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class MessageDecision:
    """What the strategy knew about the account when it decided to send a message."""

    days_past_due: int
    arrears: money.Money
    reason_codes: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Message:
    """One message sent to (or call placed with) the customer, and why it went when it did.

    ``policy_codes`` are the contact policy's rule IDs that held the message back before
    it went; ``decision`` is ``None`` for a message no strategy decision queued.
    """

    id: int
    sent_at: datetime
    channel: str
    subject: str
    body: str
    has_letter: bool
    status: str = models.ContactStatus.SENT
    provider_status: str = ""
    purpose: str = models.ContactPurpose.COLLECTION
    origin: str = models.ContactOrigin.STRATEGY
    decision: MessageDecision | None = None
    policy_codes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class MessagePage:
    """One page of the customer's messages, newest first, and how many there are in all."""

    messages: tuple[Message, ...]
    total: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Preferences:
    name: str
    language: str
    preferred_channel: str
    contact_hours_start: time | None
    contact_hours_end: time | None
    opted_out: frozenset[str]
    emails: tuple[str, ...]
    phones: tuple[str, ...]


def customer_name(*, customer_id: int) -> str | None:
    """Return the customer's name, or ``None`` if there is no such customer."""
    return models.Customer.objects.filter(pk=customer_id).values_list("name", flat=True).first()


def customer_language(*, customer_id: int) -> str | None:
    """Return the customer's language code, or ``None`` if there is no such customer."""
    return models.Customer.objects.filter(pk=customer_id).values_list("language", flat=True).first()


def accounts(*, customer_id: int, as_of: date) -> list[AccountSummary]:
    """Return a summary of each of the customer's accounts, overdue ones first."""
    rows = list(
        models.Account.objects.filter(customer_id=customer_id).order_by("external_ref", "pk")
    )
    summaries = _summaries(rows, as_of=as_of)
    return sorted(summaries, key=lambda summary: (not summary.is_overdue, summary.reference))


def account(*, customer_id: int, account_id: int, as_of: date) -> AccountDetail | None:
    """Return one of the customer's accounts with its payments; ``None`` if not theirs."""
    row = models.Account.objects.filter(customer_id=customer_id, pk=account_id).first()
    if row is None:
        return None
    (summary,) = _summaries([row], as_of=as_of)
    return AccountDetail(
        summary=summary,
        payments=tuple(
            payment for payment in payments(customer_id=customer_id) if payment.account_id == row.pk
        ),
    )


def payments(*, customer_id: int) -> list[Payment]:
    """Return every payment received on the customer's accounts, newest first."""
    rows = (
        models.Payment.objects.filter(account__customer_id=customer_id)
        .select_related("account")
        .order_by("-received_date", "-pk")
    )
    return [
        Payment(
            account_id=row.account_id,
            account_reference=row.account.external_ref,
            received_date=row.received_date,
            amount=money.Money.from_minor_units(row.amount_minor, row.currency),
            method=models.PaymentMethod(row.method).label,
        )
        for row in rows
    ]


def _message_rows(customer_id: int) -> QuerySet[models.ContactAttempt]:
    # What the customer received: sent messages, calls placed, and sends that failed
    # after the message was written (a row that never got that far is not theirs to see).
    return models.ContactAttempt.objects.filter(
        customer_id=customer_id,
        direction=models.ContactDirection.OUTBOUND,
        channel__in=OPT_OUT_CHANNELS,
    ).filter(
        Q(status=models.ContactStatus.SENT)
        | Q(status=models.ContactStatus.COMPLETED, channel=models.Channel.CALL)
        | (Q(status=models.ContactStatus.FAILED) & ~Q(body=""))
    )


def _newest_first(rows: QuerySet[models.ContactAttempt]) -> QuerySet[models.ContactAttempt]:
    return rows.select_related("decision").order_by(Coalesce("sent_at", "planned_at").desc(), "-pk")


def _message(row: models.ContactAttempt) -> Message:
    decision = row.decision
    return Message(
        id=row.pk,
        sent_at=row.sent_at or row.planned_at,
        channel=row.channel,
        subject=row.subject,
        body=row.body,
        has_letter=bool(row.document) and row.status == models.ContactStatus.SENT,
        status=row.status,
        provider_status=row.provider_status,
        purpose=row.purpose,
        origin=row.origin,
        decision=None
        if decision is None
        else MessageDecision(
            days_past_due=decision.days_past_due,
            arrears=money.Money.from_minor_units(decision.arrears_minor, decision.currency),
            reason_codes=tuple(str(code) for code in decision.reason_codes or ()),
        ),
        policy_codes=tuple(
            str(item.get("code", "")) if isinstance(item, dict) else str(item)
            for item in row.policy_reasons or ()
        ),
    )


def messages(*, customer_id: int) -> list[Message]:
    """Return every message Accord sent the customer, newest first."""
    rows = _newest_first(_message_rows(customer_id))
    return [_message(row) for row in rows]


def message_page(*, customer_id: int, page: int, per_page: int) -> MessagePage:
    """Return page ``page`` (from 1) of the customer's messages, newest first."""
    rows = _message_rows(customer_id)
    start = (max(page, 1) - 1) * per_page
    chosen = _newest_first(rows)[start : start + per_page]
    return MessagePage(messages=tuple(_message(row) for row in chosen), total=rows.count())


def letter_document(*, customer_id: int, contact_id: int, media_root: Path) -> Path | None:
    """Return the PDF of a letter sent to the customer, or ``None`` if it is not theirs.

    The stored path must lie inside ``media_root``; anything else is treated as missing.
    """
    document = (
        models.ContactAttempt.objects.filter(
            customer_id=customer_id,
            pk=contact_id,
            status=models.ContactStatus.SENT,
            channel=models.Channel.LETTER,
        )
        .exclude(document="")
        .values_list("document", flat=True)
        .first()
    )
    if document is None:
        return None
    root = media_root.resolve()
    path = (root / document).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def preferences(*, customer_id: int) -> Preferences | None:
    """Return the customer's contact preferences and opt-outs, or ``None`` if unknown."""
    customer = models.Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return None
    points = list(customer.contact_points.order_by("position", "pk").values_list("kind", "value"))
    return Preferences(
        name=customer.name,
        language=customer.language,
        preferred_channel=customer.preferred_channel,
        contact_hours_start=customer.contact_hours_start,
        contact_hours_end=customer.contact_hours_end,
        opted_out=frozenset(
            customer.opt_outs.filter(withdrawn_at__isnull=True).values_list("channel", flat=True)
        ),
        emails=tuple(v for k, v in points if k == models.ContactPointKind.EMAIL),
        phones=tuple(v for k, v in points if k == models.ContactPointKind.PHONE),
    )


def _summaries(rows: list[models.Account], *, as_of: date) -> list[AccountSummary]:
    ids = [row.pk for row in rows]
    charges: dict[int, list[arrears.Charge]] = {pk: [] for pk in ids}
    for charge in models.Charge.objects.filter(account_id__in=ids):
        charges[charge.account_id].append(
            arrears.Charge(
                reference=charge.external_ref,
                due_date=charge.due_date,
                amount=money.Money.from_minor_units(charge.amount_minor, charge.currency),
            )
        )
    paid: dict[int, list[arrears.Payment]] = {pk: [] for pk in ids}
    for payment in models.Payment.objects.filter(account_id__in=ids):
        paid[payment.account_id].append(
            arrears.Payment(
                reference=payment.external_ref,
                received_date=payment.received_date,
                amount=money.Money.from_minor_units(payment.amount_minor, payment.currency),
            )
        )
    plans = _active_plans(ids)
    promises = {
        row.account_id: OpenPromise(
            amount=money.Money.from_minor_units(row.amount_minor, row.currency),
            promised_date=row.promised_date,
        )
        for row in models.Promise.objects.filter(
            account_id__in=ids, status=models.PromiseStatus.OPEN
        )
    }
    return [
        _summary(row, charges[row.pk], paid[row.pk], plans.get(row.pk), promises.get(row.pk), as_of)
        for row in rows
    ]


def _summary(
    row: models.Account,
    charges: list[arrears.Charge],
    paid: list[arrears.Payment],
    plan: Plan | None,
    promise: OpenPromise | None,
    as_of: date,
) -> AccountSummary:
    outstanding = arrears.outstanding_charges(charges=charges, payments=paid, as_of=as_of)
    overdue = [(charge, unpaid) for charge, unpaid in outstanding if charge.due_date < as_of]
    upcoming = [(charge, unpaid) for charge, unpaid in outstanding if charge.due_date >= as_of]
    return AccountSummary(
        id=row.pk,
        reference=row.external_ref,
        product=models.ProductType(row.product_type).label,
        status=row.status,
        is_open=row.status == models.AccountStatus.OPEN,
        balance=arrears.balance(charges=charges, payments=paid, as_of=as_of, currency=row.currency),
        arrears=arrears.arrears(charges=charges, payments=paid, as_of=as_of, currency=row.currency),
        overdue_payments=len(overdue),
        overdue_since=overdue[0][0].due_date if overdue else None,
        next_due_date=upcoming[0][0].due_date if upcoming else None,
        next_due_amount=upcoming[0][1] if upcoming else None,
        plan=plan,
        next_plan_instalment=next(
            (item for item in plan.instalments if item.due_date >= as_of), None
        )
        if plan
        else None,
        promise=promise,
    )


def _active_plans(account_ids: list[int]) -> dict[int, Plan]:
    plans: dict[int, Plan] = {}
    for row in models.RepaymentPlan.objects.filter(
        account_id__in=account_ids, status=models.PlanStatus.ACTIVE
    ).prefetch_related("instalments"):
        plans[row.account_id] = Plan(
            instalment_count=row.instalment_count,
            total=money.Money.from_minor_units(row.total_minor, row.currency),
            start_date=row.start_date,
            instalments=tuple(
                Instalment(
                    sequence=item.sequence,
                    due_date=item.due_date,
                    amount=money.Money.from_minor_units(item.amount_minor, row.currency),
                )
                for item in sorted(row.instalments.all(), key=lambda item: item.sequence)
            ),
        )
    return plans


def sample_sign_in_email(*, as_of: date, candidates: int = 50) -> str | None:
    """Return an email address on file for exactly one customer, for demos.

    Prefers a customer with something overdue, so the portal has a plan to offer;
    ``None`` when no email address belongs to exactly one customer.
    """
    unique = (
        models.ContactPoint.objects.filter(kind=models.ContactPointKind.EMAIL)
        .values("value")
        .annotate(owners=Count("customer", distinct=True))
        .filter(owners=1)
        .values("value")
    )
    points = list(
        models.ContactPoint.objects.filter(
            kind=models.ContactPointKind.EMAIL,
            value__in=unique,
            customer__accounts__charges__due_date__lt=as_of,
            customer__accounts__status=models.AccountStatus.OPEN,
        )
        .order_by("customer_id")
        .values_list("customer_id", "value")
        .distinct()[:candidates]
    )
    for customer_id, value in points:
        if any(summary.is_overdue for summary in accounts(customer_id=customer_id, as_of=as_of)):
            return str(value)
    fallback = models.ContactPoint.objects.filter(
        kind=models.ContactPointKind.EMAIL, value__in=unique
    ).order_by("customer_id")
    return fallback.values_list("value", flat=True).first()
