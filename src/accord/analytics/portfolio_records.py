"""Read customers, accounts, charges, payments and audit events one page at a time.

The API's list and detail endpoints come here. Every list is ordered by ``id``
so that limit/offset pages are stable; money leaves this module as
:class:`~accord.domain.money.Money`, converted from the stored minor units.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db.models import F, Prefetch, QuerySet

from accord.audit import models as audit_models
from accord.domain.money import Money
from accord.storage import models

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Page(Generic[T]):
    """Hold one page of a list and how many items the whole list has."""

    items: list[T]
    count: int
    limit: int
    offset: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class CustomerRecord:
    """Describe a customer with its contact points and time zones."""

    id: int
    external_ref: str
    debtor_type: str
    name: str
    date_of_birth: datetime.date | None
    address_line1: str
    address_line2: str
    city: str
    region: str
    postcode: str
    country: str
    language: str
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    preferred_channel: str | None
    contact_hours_start: datetime.time | None
    contact_hours_end: datetime.time | None
    time_zone: str | None
    time_zones: tuple[str, ...]
    time_zone_source: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class AccountRecord:
    """Describe an account and the customer it belongs to."""

    id: int
    external_ref: str
    customer_id: int
    customer_ref: str
    product_type: str
    currency: str
    credit_limit: Money | None
    opened_date: datetime.date
    status: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChargeRecord:
    """Describe an amount billed to an account."""

    id: int
    external_ref: str
    account_id: int
    account_ref: str
    kind: str
    amount: Money
    issued_date: datetime.date | None
    due_date: datetime.date
    description: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentRecord:
    """Describe a payment received on an account."""

    id: int
    external_ref: str
    account_id: int
    account_ref: str
    amount: Money
    received_date: datetime.date
    method: str
    provider_reference: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class AuditEventRecord:
    """Describe one event of the audit log, with its place in the hash chain."""

    id: int
    occurred_at: datetime.datetime
    actor: str
    event_type: str
    subject_type: str
    subject_id: str
    parameters: dict[str, Any]
    previous_hash: str
    hash: str


def paginate(
    queryset: QuerySet[Any],
    convert: Callable[[Any], T],
    *,
    limit: int,
    offset: int,
    order: tuple[str, ...] = ("id",),
) -> Page[T]:
    """Return one page of ``queryset`` in ``order``, each row converted, with the total."""
    ordered = queryset.order_by(*order)
    rows = ordered[offset : offset + limit]
    return Page(
        items=[convert(row) for row in rows], count=ordered.count(), limit=limit, offset=offset
    )


def find(queryset: QuerySet[Any], convert: Callable[[Any], T], record_id: int) -> T | None:
    """Return the converted row with primary key ``record_id``, or None."""
    row = queryset.filter(pk=record_id).first()
    return None if row is None else convert(row)


# Customers ---------------------------------------------------------------------------


def _customers() -> QuerySet[models.Customer]:
    points = models.ContactPoint.objects.order_by("position", "id")
    return models.Customer.objects.prefetch_related(Prefetch("contact_points", queryset=points))


def _customer(row: models.Customer) -> CustomerRecord:
    points = list(row.contact_points.all())
    return CustomerRecord(
        id=row.pk,
        external_ref=row.external_ref,
        debtor_type=row.debtor_type,
        name=row.name,
        date_of_birth=row.date_of_birth,
        address_line1=row.address_line1,
        address_line2=row.address_line2,
        city=row.city,
        region=row.region,
        postcode=row.postcode,
        country=row.country,
        language=row.language,
        phones=tuple(p.value for p in points if p.kind == models.ContactPointKind.PHONE),
        emails=tuple(p.value for p in points if p.kind == models.ContactPointKind.EMAIL),
        preferred_channel=row.preferred_channel or None,
        contact_hours_start=row.contact_hours_start,
        contact_hours_end=row.contact_hours_end,
        time_zone=row.time_zone or None,
        time_zones=tuple(row.time_zones or ()),
        time_zone_source=row.time_zone_source,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def customers(*, limit: int, offset: int, external_ref: str | None = None) -> Page[CustomerRecord]:
    """Return one page of customers, optionally only the one with ``external_ref``."""
    queryset = _customers()
    if external_ref is not None:
        queryset = queryset.filter(external_ref=external_ref)
    return paginate(queryset, _customer, limit=limit, offset=offset)


def customer(record_id: int) -> CustomerRecord | None:
    """Return the customer with id ``record_id``, or ``None``."""
    return find(_customers(), _customer, record_id)


# Accounts ----------------------------------------------------------------------------


def _accounts() -> QuerySet[models.Account]:
    return models.Account.objects.annotate(customer_ref=F("customer__external_ref"))


def _account(row: Any) -> AccountRecord:
    limit = row.credit_limit_minor
    return AccountRecord(
        id=row.pk,
        external_ref=row.external_ref,
        customer_id=row.customer_id,
        customer_ref=row.customer_ref,
        product_type=row.product_type,
        currency=row.currency,
        credit_limit=None if limit is None else Money.from_minor_units(limit, row.currency),
        opened_date=row.opened_date,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def accounts(
    *,
    limit: int,
    offset: int,
    external_ref: str | None = None,
    customer_ref: str | None = None,
) -> Page[AccountRecord]:
    """Return one page of accounts, optionally filtered by their or their customer's ref."""
    queryset = _accounts()
    if external_ref is not None:
        queryset = queryset.filter(external_ref=external_ref)
    if customer_ref is not None:
        queryset = queryset.filter(customer__external_ref=customer_ref)
    return paginate(queryset, _account, limit=limit, offset=offset)


def account(record_id: int) -> AccountRecord | None:
    """Return the account with id ``record_id``, or ``None``."""
    return find(_accounts(), _account, record_id)


# Charges -----------------------------------------------------------------------------


def _charges() -> QuerySet[models.Charge]:
    return models.Charge.objects.annotate(account_ref=F("account__external_ref"))


def _charge(row: Any) -> ChargeRecord:
    return ChargeRecord(
        id=row.pk,
        external_ref=row.external_ref,
        account_id=row.account_id,
        account_ref=row.account_ref,
        kind=row.kind,
        amount=Money.from_minor_units(row.amount_minor, row.currency),
        issued_date=row.issued_date,
        due_date=row.due_date,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def charges(
    *,
    limit: int,
    offset: int,
    external_ref: str | None = None,
    account_ref: str | None = None,
) -> Page[ChargeRecord]:
    """Return one page of charges, optionally filtered by their or their account's ref."""
    queryset = _charges()
    if external_ref is not None:
        queryset = queryset.filter(external_ref=external_ref)
    if account_ref is not None:
        queryset = queryset.filter(account__external_ref=account_ref)
    return paginate(queryset, _charge, limit=limit, offset=offset)


def charge(record_id: int) -> ChargeRecord | None:
    """Return the charge with id ``record_id``, or ``None``."""
    return find(_charges(), _charge, record_id)


# Payments ----------------------------------------------------------------------------


def _payments() -> QuerySet[models.Payment]:
    return models.Payment.objects.annotate(account_ref=F("account__external_ref"))


def _payment(row: Any) -> PaymentRecord:
    return PaymentRecord(
        id=row.pk,
        external_ref=row.external_ref,
        account_id=row.account_id,
        account_ref=row.account_ref,
        amount=Money.from_minor_units(row.amount_minor, row.currency),
        received_date=row.received_date,
        method=row.method,
        provider_reference=row.provider_reference,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def payments(
    *,
    limit: int,
    offset: int,
    external_ref: str | None = None,
    account_ref: str | None = None,
) -> Page[PaymentRecord]:
    """Return one page of payments, optionally filtered by their or their account's ref."""
    queryset = _payments()
    if external_ref is not None:
        queryset = queryset.filter(external_ref=external_ref)
    if account_ref is not None:
        queryset = queryset.filter(account__external_ref=account_ref)
    return paginate(queryset, _payment, limit=limit, offset=offset)


def payment(record_id: int) -> PaymentRecord | None:
    """Return the payment with id ``record_id``, or ``None``."""
    return find(_payments(), _payment, record_id)


# Audit events ------------------------------------------------------------------------


def _audit_event(row: audit_models.AuditEvent) -> AuditEventRecord:
    return AuditEventRecord(
        id=row.pk,
        occurred_at=row.occurred_at,
        actor=row.actor,
        event_type=row.event_type,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        parameters=dict(row.parameters or {}),
        previous_hash=row.previous_hash,
        hash=row.hash,
    )


def audit_events(
    *,
    limit: int,
    offset: int,
    event_type: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    occurred_after: datetime.datetime | None = None,
    occurred_before: datetime.datetime | None = None,
) -> Page[AuditEventRecord]:
    """Return one page of audit events, oldest first, matching every filter given.

    ``occurred_after`` is inclusive and ``occurred_before`` exclusive, so
    consecutive windows neither overlap nor leave gaps.
    """
    queryset = audit_models.AuditEvent.objects.all()
    if event_type is not None:
        queryset = queryset.filter(event_type=event_type)
    if subject_type is not None:
        queryset = queryset.filter(subject_type=subject_type)
    if subject_id is not None:
        queryset = queryset.filter(subject_id=subject_id)
    if occurred_after is not None:
        queryset = queryset.filter(occurred_at__gte=occurred_after)
    if occurred_before is not None:
        queryset = queryset.filter(occurred_at__lt=occurred_before)
    return paginate(queryset, _audit_event, limit=limit, offset=offset)


def audit_event(record_id: int) -> AuditEventRecord | None:
    """Return the audit event with id ``record_id``, or ``None``."""
    return find(audit_models.AuditEvent.objects.all(), _audit_event, record_id)
