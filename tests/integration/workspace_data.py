"""Build intention-named customers, accounts and history for the agent-workspace tests."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from accord.storage import models

# A Wednesday, 15:00 in Madrid (CET): inside everyone's calling hours.
NOW = datetime.datetime(2026, 3, 18, 14, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


def stamp(now: datetime.datetime = NOW) -> dict[str, Any]:
    return {"created_at": now, "updated_at": now}


def customer(
    ref: str = "C-ANA",
    *,
    name: str = "Ana García",
    email: str | None = "ana@example.com",
    phone: str | None = "+34612345678",
    preferred_channel: str = "",
    language: str = "es",
    time_zones: list[str] | None = None,
) -> models.Customer:
    row = models.Customer.objects.create(
        external_ref=ref,
        debtor_type=models.DebtorType.CONSUMER,
        name=name,
        country="ES",
        language=language,
        preferred_channel=preferred_channel,
        time_zone="Europe/Madrid",
        time_zones=time_zones if time_zones is not None else ["Europe/Madrid"],
        time_zone_source=models.TimeZoneSource.GIVEN,
        city="Madrid",
        address_line1="Calle Mayor 1",
        postcode="28013",
        **stamp(),
    )
    if email:
        models.ContactPoint.objects.create(
            customer=row, kind=models.ContactPointKind.EMAIL, value=email
        )
    if phone:
        models.ContactPoint.objects.create(
            customer=row, kind=models.ContactPointKind.PHONE, value=phone
        )
    return row


def account(
    owner: models.Customer,
    ref: str = "A-ANA-1",
    *,
    currency: str = "EUR",
    status: str = models.AccountStatus.OPEN,
    product: str = models.ProductType.CREDIT_CARD,
) -> models.Account:
    return models.Account.objects.create(
        external_ref=ref,
        customer=owner,
        product_type=product,
        currency=currency,
        opened_date=datetime.date(2024, 1, 10),
        status=status,
        **stamp(),
    )


def charge(
    owner: models.Account, amount: str, due_date: datetime.date, ref: str | None = None
) -> models.Charge:
    return models.Charge.objects.create(
        external_ref=ref or f"{owner.external_ref}-CH-{due_date.isoformat()}-{amount}",
        account=owner,
        kind=models.ChargeKind.INSTALMENT,
        amount_minor=int(Decimal(amount) * 100),
        currency=owner.currency,
        due_date=due_date,
        **stamp(),
    )


def payment(
    owner: models.Account, amount: str, received_date: datetime.date, ref: str | None = None
) -> models.Payment:
    return models.Payment.objects.create(
        external_ref=ref or f"{owner.external_ref}-P-{received_date.isoformat()}-{amount}",
        account=owner,
        amount_minor=int(Decimal(amount) * 100),
        currency=owner.currency,
        received_date=received_date,
        method=models.PaymentMethod.CARD,
        **stamp(),
    )


def account_in_arrears(
    owner: models.Customer, ref: str = "A-ANA-1", *, arrears: str = "250.00", days_late: int = 40
) -> models.Account:
    """Return an open account owing ``arrears``, all of it ``days_late`` days overdue."""
    row = account(owner, ref)
    charge(row, arrears, TODAY - datetime.timedelta(days=days_late))
    return row


def promise(
    owner: models.Account,
    *,
    amount: str = "50.00",
    promised_date: datetime.date = TODAY,
    status: str = models.PromiseStatus.OPEN,
) -> models.Promise:
    return models.Promise.objects.create(
        account=owner,
        amount_minor=int(Decimal(amount) * 100),
        currency=owner.currency,
        promised_date=promised_date,
        status=status,
        source=models.Source.AGENT,
        created_at=NOW - datetime.timedelta(days=5),
        created_by="agent-ana",
    )


def outbound_call(
    owner: models.Account,
    *,
    at: datetime.datetime,
    key: str,
    status: str = models.ContactStatus.COMPLETED,
    outcome: str = models.CallOutcome.NO_ANSWER,
    conversation: bool = False,
) -> models.ContactAttempt:
    return models.ContactAttempt.objects.create(
        customer=owner.customer,
        account=owner,
        channel=models.Channel.CALL,
        origin=models.ContactOrigin.AGENT,
        direction=models.ContactDirection.OUTBOUND,
        planned_at=at,
        status=status,
        idempotency_key=key,
        outcome=outcome if status == models.ContactStatus.COMPLETED else "",
        connected=True if status == models.ContactStatus.COMPLETED else None,
        conversation=conversation,
        **stamp(at),
    )
