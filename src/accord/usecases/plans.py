"""Agree a repayment plan that splits an account's arrears into monthly instalments.

The total is always the account's arrears on the day the plan is agreed, worked out
by :mod:`accord.domain.arrears` from its charges and payments, so a plan shown to a
customer or an agent and the plan stored are the same numbers. A caller that showed a
schedule passes the total it showed, and the plan is refused (``ArrearsChanged``) if
the arrears moved in between, so nobody agrees to figures they did not see.

Agreeing a plan queues its confirmation message (``plan_confirmation``) in the outbox
in the same transaction.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accord.audit import events, log
from accord.domain import arrears, money, plans
from accord.storage import models
from accord.usecases import confirmations

# How far ahead a plan's first instalment may fall.
LATEST_START_DAYS = 31
CONFIRMATION_TEMPLATE = "plan_confirmation"


class UnknownAccount(Exception):
    """No account has that id."""


class AccountNotOpen(plans.PlanRefused):
    """Plans are only agreed on open accounts."""


class NoArrears(plans.PlanRefused):
    """There is nothing overdue to spread over a plan."""


class PlanAlreadyActive(plans.PlanRefused):
    """The account already has an active plan."""


class StartDateOutOfRange(plans.PlanRefused):
    """The first instalment must fall between today and ``LATEST_START_DAYS`` ahead."""


class ArrearsChanged(plans.PlanRefused):
    """The arrears are no longer the total the customer was shown; ``total`` is today's."""

    def __init__(self, reason: str, *, total: money.Money) -> None:
        super().__init__(reason)
        self.total = total


@dataclasses.dataclass(frozen=True, slots=True)
class PlanProposal:
    """Show what a plan would be before it is agreed: the total and its instalments."""

    account_id: int
    total: money.Money
    instalments: tuple[plans.Instalment, ...]


def current_arrears(*, account_id: int, as_of: date) -> money.Money:
    """Return the account's arrears on ``as_of``. Raises ``UnknownAccount``."""
    try:
        account = models.Account.objects.get(pk=account_id)
    except models.Account.DoesNotExist:
        raise UnknownAccount(f"no account with id {account_id}") from None
    return _arrears(account, as_of)


def _arrears(account: models.Account, as_of: date) -> money.Money:
    charges = [
        arrears.Charge(
            reference=row.external_ref,
            due_date=row.due_date,
            amount=money.Money.from_minor_units(row.amount_minor, row.currency),
        )
        for row in account.charges.all()
    ]
    payments = [
        arrears.Payment(
            reference=row.external_ref,
            received_date=row.received_date,
            amount=money.Money.from_minor_units(row.amount_minor, row.currency),
        )
        for row in account.payments.all()
    ]
    return arrears.arrears(
        charges=charges, payments=payments, as_of=as_of, currency=account.currency
    )


def _check(
    account: models.Account, *, instalment_count: int, start_date: date, now: datetime
) -> tuple[money.Money, tuple[plans.Instalment, ...]]:
    if account.status != models.AccountStatus.OPEN:
        raise AccountNotOpen(f"account {account.pk} is not open")
    # Judged in the operator's time zone, as promises are.
    today = timezone.localdate(now)
    if not today <= start_date <= today + timedelta(days=LATEST_START_DAYS):
        raise StartDateOutOfRange(
            f"the first instalment must fall within {LATEST_START_DAYS} days from today"
        )
    total = _arrears(account, today)
    if not total.is_positive():
        raise NoArrears(f"account {account.pk} has nothing overdue")
    if account.plans.filter(status=models.PlanStatus.ACTIVE).exists():
        raise PlanAlreadyActive(f"account {account.pk} already has an active plan")
    schedule = plans.instalments(total=total, count=instalment_count, start_date=start_date)
    return total, schedule


def propose_plan(
    *, account_id: int, instalment_count: int, start_date: date, now: datetime
) -> PlanProposal:
    """Return the plan :func:`agree_plan` would agree now, without writing anything.

    Raises what :func:`agree_plan` raises.
    """
    try:
        account = models.Account.objects.get(pk=account_id)
    except models.Account.DoesNotExist:
        raise UnknownAccount(f"no account with id {account_id}") from None
    total, schedule = _check(
        account, instalment_count=instalment_count, start_date=start_date, now=now
    )
    return PlanProposal(account_id=account.pk, total=total, instalments=schedule)


def agree_plan(
    *,
    account_id: int,
    instalment_count: int,
    start_date: date,
    source: models.Source,
    actor: str,
    now: datetime,
    expected_total: money.Money | None = None,
) -> models.RepaymentPlan:
    """Agree a plan of ``instalment_count`` monthly instalments for the account's arrears.

    ``expected_total`` is the total the customer was shown (see :func:`propose_plan`);
    ``None`` when no schedule was shown. Writes ``PLAN_AGREED`` and, when the customer
    has an email address or phone number to use, queues a ``plan_confirmation`` message
    in the outbox with the idempotency key ``plan:<id>``.

    Raises ``UnknownAccount``, and these subclasses of ``plans.PlanRefused``:
    ``AccountNotOpen``, ``StartDateOutOfRange``, ``NoArrears``, ``PlanAlreadyActive``,
    ``ArrearsChanged`` (the arrears are not ``expected_total``),
    ``plans.InvalidInstalmentCount`` and ``plans.InstalmentTooSmall`` (an instalment
    would be below one minor unit).
    """
    with transaction.atomic():
        try:
            account = (
                models.Account.objects.select_for_update()
                .select_related("customer")
                .get(pk=account_id)
            )
        except models.Account.DoesNotExist:
            raise UnknownAccount(f"no account with id {account_id}") from None
        total, schedule = _check(
            account, instalment_count=instalment_count, start_date=start_date, now=now
        )
        if expected_total is not None and expected_total != total:
            raise ArrearsChanged(
                f"the arrears are {total.amount} {total.currency} now, "
                f"not the {expected_total.amount} {expected_total.currency} shown",
                total=total,
            )
        try:
            # A savepoint, so that losing a race to the partial unique constraint
            # leaves the outer transaction usable for the refusal.
            with transaction.atomic():
                plan = models.RepaymentPlan.objects.create(
                    account=account,
                    total_minor=total.to_minor_units(),
                    currency=total.currency,
                    instalment_count=instalment_count,
                    start_date=start_date,
                    status=models.PlanStatus.ACTIVE,
                    source=source,
                    created_at=now,
                    created_by=actor,
                )
        except IntegrityError:
            raise PlanAlreadyActive(f"account {account.pk} already has an active plan") from None
        models.PlanInstalment.objects.bulk_create(
            models.PlanInstalment(
                plan=plan,
                sequence=item.sequence,
                due_date=item.due_date,
                amount_minor=item.amount.to_minor_units(),
            )
            for item in schedule
        )
        confirmation = confirmations.queue_confirmation(
            account=account,
            template=CONFIRMATION_TEMPLATE,
            idempotency_key=f"plan:{plan.pk}",
            source=source,
            now=now,
        )
        log.record(
            actor=actor,
            event_type=events.EventType.PLAN_AGREED,
            subject_type="account",
            subject_id=account.pk,
            parameters={
                "plan_id": plan.pk,
                "instalment_count": instalment_count,
                "total": str(total.amount),
                "currency": total.currency,
                "start_date": start_date.isoformat(),
                "source": str(source),
                "instalments": [
                    {"due_date": item.due_date.isoformat(), "amount": str(item.amount.amount)}
                    for item in schedule
                ],
                "confirmation_id": confirmation.pk if confirmation else None,
            },
            now=now,
        )
    return plan
