"""Declare what the API reads and writes.

Request bodies carry exactly the columns of the CSV import (unknown properties
are refused); values stay text so the import use case validates them and
explains any problem in the same words as for a file. Responses give money as
a decimal string beside its currency.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from ninja import Schema
from ninja.params import P, PathEx
from pydantic import AfterValidator, ConfigDict, Field, field_validator

from accord.analytics import portfolio_records as records
from accord.audit.events import EventType
from accord.domain.money import Money
from accord.usecases.import_portfolio import columns as cols

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_OFFSET = 1_000_000_000
MAX_ID = 2**63 - 1  # the largest id either database can hold
CONTROL_CHARACTERS = "contains control characters"  # the import's own words


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store or even compare NUL; refuse it before any query runs.
    if "\x00" in value:
        raise ValueError(CONTROL_CHARACTERS)
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Ref = Annotated[str, AfterValidator(_no_nul), Field(max_length=64)]
TextList = list[Text]


def _describe(kind: cols.RecordKind, name: str) -> str:
    column = next(c for c in cols.COLUMNS[kind] if c.name == name)
    text = column.description
    if column.choices:
        text += f" One of {', '.join(column.choices)}."
    return text


def _required(kind: cols.RecordKind, name: str, example: str) -> Any:
    return Field(description=_describe(kind, name), examples=[example])


def _optional(kind: cols.RecordKind, name: str, example: str | None = None) -> Any:
    examples = None if example is None else [example]
    return Field(default=None, description=_describe(kind, name), examples=examples)


RecordId = PathEx[int, P(ge=1, le=MAX_ID, description="The record's id.")]

# Requests ----------------------------------------------------------------------------


class RecordIn(Schema):
    """Hold one record to create, as column name -> text."""

    model_config = ConfigDict(extra="forbid")

    def as_record(self) -> dict[str, str]:
        """Return the columns given, lists joined with ``;`` as in a CSV cell."""
        record: dict[str, str] = {}
        for name, value in self.model_dump(exclude_none=True).items():
            record[name] = ";".join(value) if isinstance(value, list) else value
        return record


_C = cols.RecordKind.CUSTOMERS
_A = cols.RecordKind.ACCOUNTS
_CH = cols.RecordKind.CHARGES
_P = cols.RecordKind.PAYMENTS


class CustomerIn(RecordIn):
    """Create a customer; phones and emails may be arrays or ``;``-separated text."""

    external_ref: Text = _required(_C, "external_ref", "C-1001")
    debtor_type: Text = _required(_C, "debtor_type", "CONSUMER")
    name: Text = _required(_C, "name", "Ana García")
    date_of_birth: Text | None = _optional(_C, "date_of_birth", "1980-02-29")
    address_line1: Text | None = _optional(_C, "address_line1")
    address_line2: Text | None = _optional(_C, "address_line2")
    city: Text | None = _optional(_C, "city")
    region: Text | None = _optional(_C, "region")
    postcode: Text | None = _optional(_C, "postcode")
    country: Text = _required(_C, "country", "ES")
    phones: TextList | Text | None = _optional(_C, "phones")
    emails: TextList | Text | None = _optional(_C, "emails")
    preferred_channel: Text | None = _optional(_C, "preferred_channel", "EMAIL")
    contact_hours_start: Text | None = _optional(_C, "contact_hours_start", "09:00")
    contact_hours_end: Text | None = _optional(_C, "contact_hours_end", "20:00")
    language: Text | None = _optional(_C, "language", "es")
    time_zone: Text | None = _optional(_C, "time_zone", "Europe/Madrid")


class AccountIn(RecordIn):
    """Create an account for an existing customer."""

    external_ref: Text = _required(_A, "external_ref", "A-2001")
    customer_ref: Text = _required(_A, "customer_ref", "C-1001")
    product_type: Text = _required(_A, "product_type", "CREDIT_CARD")
    currency: Text = _required(_A, "currency", "EUR")
    credit_limit: Text | None = _optional(_A, "credit_limit", "1500.00")
    opened_date: Text = _required(_A, "opened_date", "2024-01-10")
    status: Text | None = _optional(_A, "status", "OPEN")


class ChargeIn(RecordIn):
    """Create a charge (instalment, invoice, fee, interest) on an existing account."""

    external_ref: Text = _required(_CH, "external_ref", "CH-3001")
    account_ref: Text = _required(_CH, "account_ref", "A-2001")
    kind: Text = _required(_CH, "kind", "INVOICE")
    amount: Text = _required(_CH, "amount", "120.50")
    currency: Text = _required(_CH, "currency", "EUR")
    issued_date: Text | None = _optional(_CH, "issued_date", "2026-08-01")
    due_date: Text = _required(_CH, "due_date", "2026-09-01")
    description: Text | None = _optional(_CH, "description")


class PaymentIn(RecordIn):
    """Create a payment received on an existing account."""

    external_ref: Text = _required(_P, "external_ref", "P-4001")
    account_ref: Text = _required(_P, "account_ref", "A-2001")
    amount: Text = _required(_P, "amount", "50.00")
    currency: Text = _required(_P, "currency", "EUR")
    received_date: Text = _required(_P, "received_date", "2026-09-15")
    method: Text | None = _optional(_P, "method", "CARD")
    provider_reference: Text | None = _optional(_P, "provider_reference")


INPUTS: dict[cols.RecordKind, type[RecordIn]] = {
    cols.RecordKind.CUSTOMERS: CustomerIn,
    cols.RecordKind.ACCOUNTS: AccountIn,
    cols.RecordKind.CHARGES: ChargeIn,
    cols.RecordKind.PAYMENTS: PaymentIn,
}


class PageQuery(Schema):
    """Choose a page: at most ``limit`` items, skipping the first ``offset``."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page (1-500).")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")


class CustomerQuery(PageQuery):
    """Filter customers."""

    external_ref: Ref | None = Field(None, description="Only the customer with this reference.")


class AccountQuery(PageQuery):
    """Filter accounts."""

    external_ref: Ref | None = Field(None, description="Only the account with this reference.")
    customer_ref: Ref | None = Field(None, description="Only accounts of this customer.")


class AccountLinkedQuery(PageQuery):
    """Filter charges or payments."""

    external_ref: Ref | None = Field(None, description="Only the record with this reference.")
    account_ref: Ref | None = Field(None, description="Only records of this account.")


class AuditQuery(PageQuery):
    """Filter audit events; times without an offset are read as UTC."""

    event_type: EventType | None = Field(None, description="Only events of this type.")
    subject_type: Ref | None = Field(None, description="e.g. customer, account, user.")
    subject_id: Ref | None = Field(None, description="Only events about this subject.")
    occurred_after: datetime.datetime | None = Field(
        None, description="Only events at or after this time (ISO 8601)."
    )
    occurred_before: datetime.datetime | None = Field(
        None, description="Only events before this time (ISO 8601)."
    )

    @field_validator("occurred_after", "occurred_before")
    @classmethod
    def _aware(cls, value: datetime.datetime | None) -> datetime.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=datetime.UTC)
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:
            raise ValueError("is out of range") from None


# Responses ---------------------------------------------------------------------------


class MoneyOut(Schema):
    """Give an exact amount as a decimal string in its currency's minor units."""

    amount: str = Field(examples=["120.50"], pattern=r"^-?[0-9]+(\.[0-9]+)?$")
    currency: str = Field(examples=["EUR"], description="ISO 4217 code.")

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        """Return ``money`` as a decimal string, never in exponent notation."""
        return cls(amount=f"{money.amount:f}", currency=money.currency)


class ContactHours(Schema):
    """Say when the customer may be contacted, in their local time (HH:MM)."""

    start: str = Field(examples=["09:00"])
    end: str = Field(examples=["20:00"])


class CustomerOut(Schema):
    """Describe a customer, its contact points and where its time zone comes from."""

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
    phones: list[str] = Field(description="E.164 numbers, primary first.")
    emails: list[str] = Field(description="Addresses, primary first.")
    preferred_channel: str | None
    contact_hours: ContactHours | None
    time_zone: str | None = Field(description="The zone the source gave, if any.")
    time_zones: list[str] = Field(description="Candidate IANA zones.")
    time_zone_source: str = Field(
        description="GIVEN, ADDRESS, PHONE, ADDRESS_AND_PHONE or UNKNOWN."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @classmethod
    def of(cls, record: records.CustomerRecord) -> CustomerOut:
        """Return the response for ``record``."""
        start, end = record.contact_hours_start, record.contact_hours_end
        hours = (
            None
            if start is None or end is None
            else ContactHours(start=start.strftime("%H:%M"), end=end.strftime("%H:%M"))
        )
        return cls(
            id=record.id,
            external_ref=record.external_ref,
            debtor_type=record.debtor_type,
            name=record.name,
            date_of_birth=record.date_of_birth,
            address_line1=record.address_line1,
            address_line2=record.address_line2,
            city=record.city,
            region=record.region,
            postcode=record.postcode,
            country=record.country,
            language=record.language,
            phones=list(record.phones),
            emails=list(record.emails),
            preferred_channel=record.preferred_channel,
            contact_hours=hours,
            time_zone=record.time_zone,
            time_zones=list(record.time_zones),
            time_zone_source=record.time_zone_source,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class AccountOut(Schema):
    """Describe an account and its customer's reference."""

    id: int
    external_ref: str
    customer_id: int
    customer_ref: str
    product_type: str
    currency: str
    credit_limit: MoneyOut | None
    opened_date: datetime.date
    status: str
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @classmethod
    def of(cls, record: records.AccountRecord) -> AccountOut:
        """Return the response for ``record``."""
        limit = record.credit_limit
        return cls(
            id=record.id,
            external_ref=record.external_ref,
            customer_id=record.customer_id,
            customer_ref=record.customer_ref,
            product_type=record.product_type,
            currency=record.currency,
            credit_limit=None if limit is None else MoneyOut.of(limit),
            opened_date=record.opened_date,
            status=record.status,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class ChargeOut(Schema):
    """Describe a charge and its account's reference."""

    id: int
    external_ref: str
    account_id: int
    account_ref: str
    kind: str
    amount: MoneyOut
    issued_date: datetime.date | None
    due_date: datetime.date
    description: str
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @classmethod
    def of(cls, record: records.ChargeRecord) -> ChargeOut:
        """Return the response for ``record``."""
        return cls(
            id=record.id,
            external_ref=record.external_ref,
            account_id=record.account_id,
            account_ref=record.account_ref,
            kind=record.kind,
            amount=MoneyOut.of(record.amount),
            issued_date=record.issued_date,
            due_date=record.due_date,
            description=record.description,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class PaymentOut(Schema):
    """Describe a payment and its account's reference."""

    id: int
    external_ref: str
    account_id: int
    account_ref: str
    amount: MoneyOut
    received_date: datetime.date
    method: str
    provider_reference: str
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @classmethod
    def of(cls, record: records.PaymentRecord) -> PaymentOut:
        """Return the response for ``record``."""
        return cls(
            id=record.id,
            external_ref=record.external_ref,
            account_id=record.account_id,
            account_ref=record.account_ref,
            amount=MoneyOut.of(record.amount),
            received_date=record.received_date,
            method=record.method,
            provider_reference=record.provider_reference,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class AuditEventOut(Schema):
    """Describe one audit event and its links in the hash chain."""

    id: int
    occurred_at: datetime.datetime
    actor: str = Field(description="user:<name>, cli:<os user> or system.")
    event_type: str
    subject_type: str
    subject_id: str
    parameters: dict[str, Any]
    previous_hash: str
    hash: str

    @classmethod
    def of(cls, record: records.AuditEventRecord) -> AuditEventOut:
        """Return the response for ``record``."""
        return cls(
            id=record.id,
            occurred_at=record.occurred_at,
            actor=record.actor,
            event_type=record.event_type,
            subject_type=record.subject_type,
            subject_id=record.subject_id,
            parameters=record.parameters,
            previous_hash=record.previous_hash,
            hash=record.hash,
        )


class PageOut(Schema):
    """Say where a page sits in the whole list."""

    count: int = Field(description="Items in the whole (filtered) list.")
    limit: int
    offset: int


class CustomerPage(PageOut):
    """One page of customers, ordered by id."""

    items: list[CustomerOut]


class AccountPage(PageOut):
    """One page of accounts, ordered by id."""

    items: list[AccountOut]


class ChargePage(PageOut):
    """One page of charges, ordered by id."""

    items: list[ChargeOut]


class PaymentPage(PageOut):
    """One page of payments, ordered by id."""

    items: list[PaymentOut]


class AuditEventPage(PageOut):
    """One page of audit events, ordered by id (the order they were written)."""

    items: list[AuditEventOut]


Item = TypeVar("Item")
Out = TypeVar("Out")


def page_of(page: records.Page[Item], convert: Callable[[Item], Out]) -> dict[str, Any]:
    """Return ``page`` with each item converted to its response schema."""
    return {
        "items": [convert(item) for item in page.items],
        "count": page.count,
        "limit": page.limit,
        "offset": page.offset,
    }
