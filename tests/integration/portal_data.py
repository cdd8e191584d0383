"""Customers, accounts and contact points for the portal and plan tests, made directly."""

from __future__ import annotations

import contextlib
import datetime
import itertools
from collections.abc import Iterator

from django.test import TestCase

from accord.storage import models
from accord.usecases import portal_access

NOW = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)
_serial = itertools.count(1)


@contextlib.contextmanager
def codes_delivered() -> Iterator[None]:
    """Send the sign-in codes asked for inside the block, and wait until they are sent.

    Codes go out in a thread started when the transaction commits; integration tests run
    inside a transaction that never commits, so the block runs the on-commit work itself.
    """
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield
    portal_access.wait_for_sends()


def customer(
    *,
    name: str = "Ana García",
    email: str | None = None,
    phone: str | None = None,
    language: str = "en",
    country: str = "GB",
) -> models.Customer:
    """Create a customer with the given email and phone on file."""
    number = next(_serial)
    created = models.Customer.objects.create(
        external_ref=f"PC{number}",
        debtor_type=models.DebtorType.CONSUMER,
        name=name,
        country=country,
        language=language,
        address_line1=f"{number} High Street",
        city="Leeds",
        postcode="LS1 1AA",
        time_zones=["Europe/London"],
        time_zone_source=models.TimeZoneSource.ADDRESS,
        created_at=NOW,
        updated_at=NOW,
    )
    if email is not None:
        models.ContactPoint.objects.create(
            customer=created, kind=models.ContactPointKind.EMAIL, value=email
        )
    if phone is not None:
        models.ContactPoint.objects.create(
            customer=created, kind=models.ContactPointKind.PHONE, value=phone
        )
    return created


def account(
    owner: models.Customer,
    *,
    overdue_minor: int = 0,
    not_yet_due_minor: int = 0,
    paid_minor: int = 0,
    currency: str = "GBP",
    overdue_since: datetime.date = datetime.date(2026, 2, 1),
    not_yet_due_date: datetime.date | None = None,
    status: models.AccountStatus = models.AccountStatus.OPEN,
) -> models.Account:
    """Create an account with an overdue charge, a charge not yet due and a payment."""
    number = next(_serial)
    created = models.Account.objects.create(
        external_ref=f"PA{number}",
        customer=owner,
        product_type=models.ProductType.LOAN,
        currency=currency,
        opened_date=datetime.date(2025, 1, 1),
        status=status,
        created_at=NOW,
        updated_at=NOW,
    )
    if overdue_minor:
        models.Charge.objects.create(
            external_ref=f"PCH{number}a",
            account=created,
            kind=models.ChargeKind.INSTALMENT,
            amount_minor=overdue_minor + paid_minor,
            currency=currency,
            due_date=overdue_since,
            created_at=NOW,
            updated_at=NOW,
        )
    if not_yet_due_minor:
        models.Charge.objects.create(
            external_ref=f"PCH{number}b",
            account=created,
            kind=models.ChargeKind.INSTALMENT,
            amount_minor=not_yet_due_minor,
            currency=currency,
            due_date=not_yet_due_date or NOW.date() + datetime.timedelta(days=20),
            created_at=NOW,
            updated_at=NOW,
        )
    if paid_minor:
        models.Payment.objects.create(
            external_ref=f"PP{number}",
            account=created,
            amount_minor=paid_minor,
            currency=currency,
            received_date=overdue_since - datetime.timedelta(days=3),
            method=models.PaymentMethod.CARD,
            created_at=NOW,
            updated_at=NOW,
        )
    return created
