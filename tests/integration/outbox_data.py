"""Build intention-named customers, accounts and outbox rows for the channel tests."""

from __future__ import annotations

import contextlib
import datetime
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from accord.channels import mailbox
from accord.storage import models

# A Wednesday, 11:00 in Madrid and 05:00 in New York: inside Madrid's 08:00-21:00.
NOW = datetime.datetime(2026, 3, 18, 10, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


def stamp() -> dict[str, Any]:
    return {"created_at": NOW, "updated_at": NOW}


def customer(
    ref: str = "C-ANA",
    *,
    name: str = "Ana García",
    language: str = "es",
    email: str | None = "ana@example.com",
    phone: str | None = "+34612345678",
    address: bool = True,
    zone: str = "Europe/Madrid",
) -> models.Customer:
    row = models.Customer.objects.create(
        external_ref=ref,
        debtor_type=models.DebtorType.CONSUMER,
        name=name,
        country="ES",
        language=language,
        time_zone=zone,
        time_zones=[zone],
        time_zone_source=models.TimeZoneSource.GIVEN,
        address_line1="Calle Mayor 1" if address else "",
        city="Madrid" if address else "",
        postcode="28013" if address else "",
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


def account_owing(
    owner: models.Customer,
    ref: str = "A-ANA-1",
    *,
    minor: int = 25050,
    days_late: int = 12,
    currency: str = "EUR",
) -> models.Account:
    """Return an open account owing ``minor`` units, all of it ``days_late`` days overdue."""
    row = models.Account.objects.create(
        external_ref=ref,
        customer=owner,
        product_type=models.ProductType.CREDIT_CARD,
        currency=currency,
        opened_date=datetime.date(2024, 1, 10),
        status=models.AccountStatus.OPEN,
        **stamp(),
    )
    models.Charge.objects.create(
        external_ref=f"{ref}-CH1",
        account=row,
        kind=models.ChargeKind.INSTALMENT,
        amount_minor=minor,
        currency=currency,
        due_date=TODAY - datetime.timedelta(days=days_late),
        **stamp(),
    )
    return row


def planned(
    account: models.Account,
    *,
    channel: str = models.Channel.EMAIL,
    template: str = "late_notice",
    key: str | None = None,
    planned_at: datetime.datetime = NOW,
    destination: str = "",
) -> models.ContactAttempt:
    """Return a PLANNED outbox row about ``account`` (``destination``: as known when planned)."""
    return models.ContactAttempt.objects.create(
        customer=account.customer,
        account=account,
        channel=channel,
        template=template,
        language=account.customer.language,
        origin=models.ContactOrigin.STRATEGY,
        planned_at=planned_at,
        status=models.ContactStatus.PLANNED,
        idempotency_key=key or f"test:{account.external_ref}:{channel}:{template}",
        destination=destination,
        **stamp(),
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_sink(folder: Path) -> Iterator[int]:
    """Run the real SMTP sink on a free port; yield the port."""
    port = free_port()
    controller = mailbox.start_sink(host="127.0.0.1", port=port, folder=folder)
    try:
        yield port
    finally:
        controller.stop()
