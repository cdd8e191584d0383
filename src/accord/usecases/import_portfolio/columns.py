"""Declare the columns of each import file kind (documented in docs/import-format.md)."""

from __future__ import annotations

import dataclasses
import enum


class RecordKind(enum.StrEnum):
    CUSTOMERS = "customers"
    ACCOUNTS = "accounts"
    CHARGES = "charges"
    PAYMENTS = "payments"


class ColumnType(enum.StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    DATE = "date"
    TIME = "time"
    AMOUNT = "amount"
    CURRENCY = "currency"
    COUNTRY = "country"
    LANGUAGE = "language"
    TIME_ZONE = "time_zone"
    PHONES = "phones"
    EMAILS = "emails"
    REFERENCE = "reference"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    max_length: int = 200
    choices: tuple[str, ...] = ()
    default: str = ""
    description: str = ""


def _ref(name: str, description: str, *, required: bool = True) -> Column:
    return Column(
        name=name,
        type=ColumnType.REFERENCE,
        required=required,
        max_length=64,
        description=description,
    )


DEBTOR_TYPES = ("CONSUMER", "BUSINESS")
CHANNELS = ("SMS", "EMAIL", "LETTER", "CALL", "CHAT")
PRODUCT_TYPES = ("CREDIT_CARD", "LOAN", "UTILITY", "TELCO", "BNPL")
ACCOUNT_STATUSES = ("OPEN", "CLOSED", "CHARGED_OFF", "SETTLED")
CHARGE_KINDS = ("INSTALMENT", "INVOICE", "FEE", "INTEREST")
PAYMENT_METHODS = ("CARD", "BANK_TRANSFER", "DIRECT_DEBIT", "CASH", "CHEQUE", "OTHER")

COLUMNS: dict[RecordKind, tuple[Column, ...]] = {
    RecordKind.CUSTOMERS: (
        _ref("external_ref", "Your unique reference for the customer."),
        Column(
            name="debtor_type",
            type=ColumnType.CHOICE,
            required=True,
            choices=DEBTOR_TYPES,
            description="Consumer or business debtor.",
        ),
        Column(name="name", type=ColumnType.TEXT, required=True, description="Full name."),
        Column(name="date_of_birth", type=ColumnType.DATE, description="YYYY-MM-DD."),
        Column(name="address_line1", type=ColumnType.TEXT, description="First address line."),
        Column(name="address_line2", type=ColumnType.TEXT, description="Second address line."),
        Column(name="city", type=ColumnType.TEXT, max_length=100, description="City or town."),
        Column(
            name="region",
            type=ColumnType.TEXT,
            max_length=100,
            description="State, province or county; for US/CA/AU the postal code, e.g. TX.",
        ),
        Column(name="postcode", type=ColumnType.TEXT, max_length=20, description="Postcode."),
        Column(
            name="country",
            type=ColumnType.COUNTRY,
            required=True,
            max_length=2,
            description="ISO 3166-1 alpha-2 code, e.g. GB.",
        ),
        Column(
            name="phones",
            type=ColumnType.PHONES,
            max_length=500,
            description="Phone numbers separated by ';', first is primary.",
        ),
        Column(
            name="emails",
            type=ColumnType.EMAILS,
            max_length=1000,
            description="Email addresses separated by ';', first is primary.",
        ),
        Column(
            name="preferred_channel",
            type=ColumnType.CHOICE,
            choices=CHANNELS,
            description="Channel the customer prefers.",
        ),
        Column(
            name="contact_hours_start",
            type=ColumnType.TIME,
            description="HH:MM, customer's local time; with contact_hours_end.",
        ),
        Column(
            name="contact_hours_end",
            type=ColumnType.TIME,
            description="HH:MM, customer's local time; with contact_hours_start.",
        ),
        Column(
            name="language",
            type=ColumnType.LANGUAGE,
            max_length=8,
            default="en",
            description="ISO 639-1 code, e.g. en or es (default en).",
        ),
        Column(
            name="time_zone",
            type=ColumnType.TIME_ZONE,
            max_length=64,
            description="IANA zone; derived from address, else phone, when empty.",
        ),
    ),
    RecordKind.ACCOUNTS: (
        _ref("external_ref", "Your unique reference for the account."),
        _ref("customer_ref", "external_ref of an imported customer."),
        Column(
            name="product_type",
            type=ColumnType.CHOICE,
            required=True,
            choices=PRODUCT_TYPES,
            description="Product.",
        ),
        Column(
            name="currency",
            type=ColumnType.CURRENCY,
            required=True,
            max_length=3,
            description="ISO 4217 code.",
        ),
        Column(
            name="credit_limit",
            type=ColumnType.AMOUNT,
            description="Decimal amount in the account's currency, e.g. 1500.00.",
        ),
        Column(name="opened_date", type=ColumnType.DATE, required=True, description="YYYY-MM-DD."),
        Column(
            name="status",
            type=ColumnType.CHOICE,
            choices=ACCOUNT_STATUSES,
            default="OPEN",
            description="Account status (default OPEN).",
        ),
    ),
    RecordKind.CHARGES: (
        _ref("external_ref", "Your unique reference for the charge (invoice, instalment, fee)."),
        _ref("account_ref", "external_ref of an imported account."),
        Column(
            name="kind",
            type=ColumnType.CHOICE,
            required=True,
            choices=CHARGE_KINDS,
            description="What was billed.",
        ),
        Column(
            name="amount",
            type=ColumnType.AMOUNT,
            required=True,
            description="Positive decimal amount, e.g. 120.50.",
        ),
        Column(
            name="currency",
            type=ColumnType.CURRENCY,
            required=True,
            max_length=3,
            description="ISO 4217 code; must be the account's currency.",
        ),
        Column(name="issued_date", type=ColumnType.DATE, description="YYYY-MM-DD, not after due."),
        Column(name="due_date", type=ColumnType.DATE, required=True, description="YYYY-MM-DD."),
        Column(name="description", type=ColumnType.TEXT, description="Free text."),
    ),
    RecordKind.PAYMENTS: (
        _ref("external_ref", "Your unique reference for the payment (idempotency key)."),
        _ref("account_ref", "external_ref of an imported account."),
        Column(
            name="amount",
            type=ColumnType.AMOUNT,
            required=True,
            description="Positive decimal amount.",
        ),
        Column(
            name="currency",
            type=ColumnType.CURRENCY,
            required=True,
            max_length=3,
            description="ISO 4217 code; must be the account's currency.",
        ),
        Column(
            name="received_date", type=ColumnType.DATE, required=True, description="YYYY-MM-DD."
        ),
        Column(
            name="method",
            type=ColumnType.CHOICE,
            choices=PAYMENT_METHODS,
            default="OTHER",
            description="How it was paid (default OTHER).",
        ),
        Column(
            name="provider_reference",
            type=ColumnType.TEXT,
            max_length=100,
            description="The payment provider's reference. Never a card number.",
        ),
    ),
}


def column_names(kind: RecordKind) -> tuple[str, ...]:
    """Return the column names of ``kind`` in their documented order."""
    return tuple(c.name for c in COLUMNS[kind])
