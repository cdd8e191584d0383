"""Build intention-named accounts, payments, promises and strategy runs for the manager tests."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal
from typing import Any

from accord.domain.money import Money
from accord.storage import models

NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
_refs = itertools.count(1)


def stamp() -> dict[str, Any]:
    return {"created_at": NOW, "updated_at": NOW}


def minor(amount: str, currency: str) -> int:
    return Money(Decimal(amount), currency).to_minor_units()


def account(currency: str = "EUR", *, name: str = "Ana García") -> models.Account:
    n = next(_refs)
    owner = models.Customer.objects.create(
        external_ref=f"C-{n}",
        debtor_type=models.DebtorType.CONSUMER,
        name=name,
        country="ES",
        time_zones=["Europe/Madrid"],
        time_zone_source=models.TimeZoneSource.GIVEN,
        **stamp(),
    )
    return models.Account.objects.create(
        external_ref=f"A-{n}",
        customer=owner,
        product_type=models.ProductType.LOAN,
        currency=currency,
        opened_date=datetime.date(2024, 1, 10),
        status=models.AccountStatus.OPEN,
        **stamp(),
    )


def charge(owner: models.Account, amount: str, due: datetime.date) -> models.Charge:
    return models.Charge.objects.create(
        external_ref=f"CH-{next(_refs)}",
        account=owner,
        kind=models.ChargeKind.INSTALMENT,
        amount_minor=minor(amount, owner.currency),
        currency=owner.currency,
        due_date=due,
        **stamp(),
    )


def payment(owner: models.Account, amount: str, received: datetime.date) -> models.Payment:
    return models.Payment.objects.create(
        external_ref=f"P-{next(_refs)}",
        account=owner,
        amount_minor=minor(amount, owner.currency),
        currency=owner.currency,
        received_date=received,
        method=models.PaymentMethod.CARD,
        **stamp(),
    )


def promise(owner: models.Account, amount: str, due: datetime.date, status: str) -> models.Promise:
    return models.Promise.objects.create(
        account=owner,
        amount_minor=minor(amount, owner.currency),
        currency=owner.currency,
        promised_date=due,
        status=status,
        source=models.Source.AGENT,
        created_at=NOW,
        created_by="user:agent",
    )


def run(
    as_of: datetime.date,
    *,
    status: str = models.RunStatus.COMPLETED,
    seconds: int = 12,
    accounts: int = 0,
    contacts_planned: int = 0,
    contacts_blocked: int = 0,
) -> models.StrategyRun:
    started = datetime.datetime.combine(as_of, datetime.time(6), tzinfo=datetime.UTC)
    finished = (
        None
        if status == models.RunStatus.RUNNING
        else started + datetime.timedelta(seconds=seconds)
    )
    return models.StrategyRun.objects.create(
        as_of_date=as_of,
        strategy_name="default",
        strategy_version="v1-test",
        status=status,
        started_at=started,
        finished_at=finished,
        started_by="cli:ops",
        accounts=accounts,
        decisions=accounts,
        contacts_planned=contacts_planned,
        contacts_blocked=contacts_blocked,
    )


def decision(
    of: models.StrategyRun,
    owner: models.Account,
    *,
    bucket: str,
    dpd: int,
    arrears: str,
    balance: str,
    treatment: str = models.Treatment.NONE,
    reasons: list[str] | None = None,
) -> models.Decision:
    return models.Decision.objects.create(
        run=of,
        account=owner,
        as_of_date=of.as_of_date,
        days_past_due=dpd,
        bucket=bucket,
        stage="EARLY" if dpd else "CURRENT",
        arrears_minor=minor(arrears, owner.currency),
        balance_minor=minor(balance, owner.currency),
        currency=owner.currency,
        treatment=treatment,
        channel=models.Channel.EMAIL if treatment != models.Treatment.NONE else "",
        reason_codes=reasons or [],
        strategy_version=of.strategy_version,
        created_at=NOW,
    )


def contact(
    about: models.Decision, status: str, *, channel: str = models.Channel.EMAIL
) -> models.ContactAttempt:
    sent = NOW if status == models.ContactStatus.SENT else None
    return models.ContactAttempt.objects.create(
        customer=about.account.customer,
        account=about.account,
        channel=channel,
        template="late_notice",
        origin=models.ContactOrigin.STRATEGY,
        planned_at=NOW,
        status=status,
        idempotency_key=f"test:{next(_refs)}",
        run=about.run,
        decision=about,
        destination="ana@example.com",
        subject="Your account",
        body="Dear Ana, ...",
        sent_at=sent,
        **stamp(),
    )
