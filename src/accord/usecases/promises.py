"""Take a customer's promise to pay an amount by a date, and queue its confirmation.

One promise may be open per account at a time. The confirmation message goes into the
outbox (a ``ContactAttempt`` planned now, routed by :mod:`accord.usecases.confirmations`)
and is announced to the dispatcher once the transaction commits
(:func:`accord.usecases.outbox.announce_queued`); the dispatcher sends it, re-checking
the contact policy at send time like any other message.
"""

from __future__ import annotations

import datetime
import enum

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accord.audit import events, log
from accord.domain import money
from accord.storage import models
from accord.usecases import confirmations

# A promise further out than this is a plan in disguise: offer a repayment plan instead.
MAX_DAYS_AHEAD = 30
CONFIRMATION_TEMPLATE = "promise_confirmation"

_CLOSED_STATUSES = frozenset({models.AccountStatus.CLOSED, models.AccountStatus.SETTLED})


class Refusal(enum.StrEnum):
    """Name why a promise was refused."""

    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    ACCOUNT_CLOSED = "ACCOUNT_CLOSED"
    WRONG_CURRENCY = "WRONG_CURRENCY"
    AMOUNT_NOT_POSITIVE = "AMOUNT_NOT_POSITIVE"
    AMOUNT_NOT_WHOLE_MINOR_UNITS = "AMOUNT_NOT_WHOLE_MINOR_UNITS"
    AMOUNT_OVER_BALANCE = "AMOUNT_OVER_BALANCE"
    DATE_IN_PAST = "DATE_IN_PAST"
    DATE_TOO_FAR_AHEAD = "DATE_TOO_FAR_AHEAD"
    OPEN_PROMISE_EXISTS = "OPEN_PROMISE_EXISTS"


class PromiseRefused(Exception):
    """The promise cannot be taken; ``reason`` names why and the message explains it."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def record_promise(
    *,
    account_id: int,
    amount: money.Money,
    promised_date: datetime.date,
    source: models.Source,
    actor: str,
    now: datetime.datetime,
    contact_id: int | None = None,
) -> models.Promise:
    """Record a promise to pay ``amount`` on or before ``promised_date``.

    The date is judged against today in the operator's time zone (``now`` converted).
    Writes ``PROMISE_RECORDED`` and, when the customer has an email address or phone
    number, queues a ``promise_confirmation`` message in the outbox with the idempotency
    key ``promise:<id>`` and announces it (the dispatch task is scheduled on commit).

    Raises ``PromiseRefused`` when the account is unknown or closed, the currency is not
    the account's, the amount is not positive, has fractions of a minor unit or exceeds
    the balance, the date is in the past or more than ``MAX_DAYS_AHEAD`` days ahead, or a
    promise is already open on the account.
    """
    today = timezone.localdate(now)
    _check_date(promised_date, today=today)
    if not amount.is_positive():
        raise PromiseRefused(Refusal.AMOUNT_NOT_POSITIVE, "The amount must be more than zero.")
    with transaction.atomic():
        account = _locked_account(account_id)
        amount_minor = _check_amount(account, amount, today=today)
        if account.promises.filter(status=models.PromiseStatus.OPEN).exists():
            raise PromiseRefused(
                Refusal.OPEN_PROMISE_EXISTS,
                "This account already has an open promise to pay.",
            )
        promise = models.Promise.objects.create(
            account=account,
            amount_minor=amount_minor,
            currency=account.currency,
            promised_date=promised_date,
            status=models.PromiseStatus.OPEN,
            source=source,
            contact_id=contact_id,
            created_at=now,
            created_by=actor,
        )
        confirmation = confirmations.queue_confirmation(
            account=account,
            template=CONFIRMATION_TEMPLATE,
            idempotency_key=f"promise:{promise.pk}",
            source=source,
            now=now,
        )
        log.record(
            actor=actor,
            event_type=events.EventType.PROMISE_RECORDED,
            subject_type="account",
            subject_id=account.pk,
            parameters={
                "promise_id": promise.pk,
                "amount": str(amount.quantize().amount),
                "currency": account.currency,
                "promised_date": promised_date.isoformat(),
                "source": str(source),
                "contact_id": contact_id,
                "confirmation_id": confirmation.pk if confirmation else None,
            },
            now=now,
        )
    return promise


def _check_date(promised_date: datetime.date, *, today: datetime.date) -> None:
    if promised_date < today:
        raise PromiseRefused(
            Refusal.DATE_IN_PAST,
            f"The date {promised_date.isoformat()} is in the past.",
        )
    if promised_date > today + datetime.timedelta(days=MAX_DAYS_AHEAD):
        raise PromiseRefused(
            Refusal.DATE_TOO_FAR_AHEAD,
            f"The date must be within {MAX_DAYS_AHEAD} days; offer a repayment plan instead.",
        )


def _locked_account(account_id: int) -> models.Account:
    try:
        account = (
            models.Account.objects.select_for_update().select_related("customer").get(pk=account_id)
        )
    except models.Account.DoesNotExist:
        raise PromiseRefused(Refusal.UNKNOWN_ACCOUNT, "There is no such account.") from None
    if account.status in _CLOSED_STATUSES:
        raise PromiseRefused(
            Refusal.ACCOUNT_CLOSED,
            f"The account is {models.AccountStatus(account.status).label.lower()}.",
        )
    return account


def _check_amount(account: models.Account, amount: money.Money, *, today: datetime.date) -> int:
    if amount.currency != account.currency:
        raise PromiseRefused(
            Refusal.WRONG_CURRENCY,
            f"The account is in {account.currency}, not {amount.currency}.",
        )
    try:
        amount_minor = amount.to_minor_units()
    except money.PrecisionLoss:
        raise PromiseRefused(
            Refusal.AMOUNT_NOT_WHOLE_MINOR_UNITS,
            f"The amount has more decimal places than {account.currency} allows.",
        ) from None
    balance_minor = _balance_minor(account, today=today)
    if amount_minor > balance_minor:
        balance = money.Money.from_minor_units(max(balance_minor, 0), account.currency)
        raise PromiseRefused(
            Refusal.AMOUNT_OVER_BALANCE,
            f"The amount is more than the balance of {balance.amount} {account.currency}.",
        )
    return amount_minor


def _balance_minor(account: models.Account, *, today: datetime.date) -> int:
    # The balance as accord.domain.arrears.balance defines it: every charge billed, less
    # the payments received by today; two aggregate queries on indexed columns.
    billed = account.charges.aggregate(total=Sum("amount_minor"))["total"] or 0
    paid = (
        account.payments.filter(received_date__lte=today).aggregate(total=Sum("amount_minor"))[
            "total"
        ]
        or 0
    )
    return int(billed) - int(paid)
