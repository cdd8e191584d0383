"""Build the Regulation F validation notice (12 CFR 1006.34) from the facts, without rendering it.

The notice is a structure: who writes (the debt collector and the address where it
accepts disputes), to whom, about which debt (creditor, account number, itemization),
and until when the consumer may dispute it. Rendering it as a letter (model form B-1,
English or Spanish) is the letter channel's job; this module only decides what the
letter must say and refuses facts that would make it wrong:

- the itemization must reconcile to the cent (1006.34(c)(2)(vii)-(x)): the amount owed on
  the itemization date, plus interest and fees, less payments and credits since then, is
  the current amount of the debt;
- the validation period ends no earlier than 30 days after the consumer is assumed to
  receive the notice (1006.34(b)(5)). Accord assumes receipt on the fifth day after it
  mails the notice, not counting Saturdays, Sundays and the legal public holidays of
  5 U.S.C. 6103(a), the safe harbour of comment 34(b)(5)-1 (ADR 0021).

Nothing here reads the clock: the mailing date is passed in.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
from collections.abc import Iterable, Sequence

from accord.domain import money

RULE = "12 CFR 1006.34"
ASSUMED_RECEIPT_DAYS = 5
"""Days after mailing, not counting weekends and legal public holidays, when receipt is assumed."""
VALIDATION_PERIOD_DAYS = 30
"""Days after assumed receipt that the validation period lasts at least (1006.34(b)(5))."""
ACCOUNT_DIGITS_SHOWN = 4
"""How many trailing characters of the account number the notice shows (1006.34(c)(2)(v))."""


class InvalidNotice(ValueError):
    """Signal facts from which no lawful validation notice can be built; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ItemizationDoesNotReconcile(InvalidNotice):
    """The itemized amounts do not add up to the current amount of the debt."""


class ValidationPeriodTooShort(InvalidNotice):
    """The chosen end of the validation period is earlier than 1006.34(b)(5) allows."""


class NothingOwed(InvalidNotice):
    """The current amount of the debt is not positive, so there is nothing to validate."""


class MissingFact(InvalidNotice):
    """A name or address the notice must show (1006.34(c)(2)) is empty."""


# --- Days: legal public holidays, assumed receipt, validation period ---


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> datetime.date:
    """Return the ``nth`` ``weekday`` (0 = Monday) of the month; ``nth = -1`` for the last."""
    if nth > 0:
        first = datetime.date(year, month, 1)
        return first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    following = datetime.date(year + (month == 12), month % 12 + 1, 1)
    last = following - datetime.timedelta(days=1)
    return last - datetime.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: datetime.date) -> datetime.date:
    """Return the weekday a holiday on ``day`` is observed on (5 U.S.C. 6103(b); E.O. 11582)."""
    if day.weekday() == 5:
        return day - datetime.timedelta(days=1)
    if day.weekday() == 6:
        return day + datetime.timedelta(days=1)
    return day


def _holidays_of(year: int) -> list[datetime.date]:
    """Return the legal public holidays of 5 U.S.C. 6103(a) that fall in ``year``."""
    days = [
        datetime.date(year, 1, 1),  # New Year's Day
        _nth_weekday(year, 1, 0, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        datetime.date(year, 7, 4),  # Independence Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
        datetime.date(year, 11, 11),  # Veterans Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving Day
        datetime.date(year, 12, 25),  # Christmas Day
    ]
    if year >= 2021:  # Juneteenth National Independence Day Act, 17 June 2021
        days.append(datetime.date(year, 6, 19))
    return days


@functools.cache
def legal_public_holidays(year: int) -> frozenset[datetime.date]:
    """Return the days of ``year`` that are legal public holidays or observed as one.

    Both the holiday and the weekday it is observed on are excluded from the receipt
    count: counting fewer business days only moves assumed receipt later, which protects
    the consumer. A New Year's Day on a Saturday is observed on 31 December before it.
    """
    days: set[datetime.date] = set()
    for holiday in [*_holidays_of(year), *_holidays_of(year + 1)]:
        for day in (holiday, _observed(holiday)):
            if day.year == year:
                days.add(day)
    return frozenset(days)


def is_business_day(day: datetime.date) -> bool:
    """Return whether ``day`` counts toward assumed receipt: a weekday, not a legal holiday."""
    return day.weekday() < 5 and day not in legal_public_holidays(day.year)


def assumed_receipt_date(sent_on: datetime.date) -> datetime.date:
    """Return the day the consumer is assumed to receive a notice mailed on ``sent_on``.

    The fifth day after ``sent_on`` that is neither a Saturday, a Sunday nor a legal public
    holiday (5 U.S.C. 6103(a)), per comment 34(b)(5)-1 of 12 CFR 1006.
    """
    day = sent_on
    counted = 0
    while counted < ASSUMED_RECEIPT_DAYS:
        day += datetime.timedelta(days=1)
        if is_business_day(day):
            counted += 1
    return day


def earliest_validation_period_end(sent_on: datetime.date) -> datetime.date:
    """Return the earliest lawful end of the validation period for a notice mailed ``sent_on``.

    30 days after the consumer is assumed to receive it (12 CFR 1006.34(b)(5)).
    """
    return assumed_receipt_date(sent_on) + datetime.timedelta(days=VALIDATION_PERIOD_DAYS)


# --- The itemization ---


class ItemizationDateKind(enum.StrEnum):
    """Name the reference date the itemization runs from (12 CFR 1006.34(b)(3)(i)-(v))."""

    LAST_STATEMENT = "LAST_STATEMENT"
    CHARGE_OFF = "CHARGE_OFF"
    LAST_PAYMENT = "LAST_PAYMENT"
    TRANSACTION = "TRANSACTION"
    JUDGMENT = "JUDGMENT"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Itemization:
    """Hold the itemization of the debt (12 CFR 1006.34(c)(2)(vii)-(x)), reconciled.

    ``amount_on_itemization_date + interest + fees - payments - credits`` must equal
    ``current_amount`` exactly, every amount in one currency and none of the movements
    negative; otherwise ``ItemizationDoesNotReconcile`` is raised.
    """

    itemization_date: datetime.date
    kind: ItemizationDateKind
    amount_on_itemization_date: money.Money
    interest: money.Money
    fees: money.Money
    payments: money.Money
    credits: money.Money
    current_amount: money.Money

    def __post_init__(self) -> None:
        amounts = {
            "amount on the itemization date": self.amount_on_itemization_date,
            "interest": self.interest,
            "fees": self.fees,
            "payments": self.payments,
            "credits": self.credits,
            "current amount": self.current_amount,
        }
        currencies = {amount.currency for amount in amounts.values()}
        if len(currencies) > 1:
            raise ItemizationDoesNotReconcile(
                f"the itemization mixes currencies: {', '.join(sorted(currencies))}"
            )
        for label in ("interest", "fees", "payments", "credits"):
            if amounts[label].is_negative():
                raise ItemizationDoesNotReconcile(
                    f"the {label} since the itemization date are negative ({amounts[label]})"
                )
        expected = (
            self.amount_on_itemization_date
            + self.interest
            + self.fees
            - self.payments
            - self.credits
        )
        if expected != self.current_amount:
            raise ItemizationDoesNotReconcile(
                f"{self.amount_on_itemization_date} + interest {self.interest} + fees "
                f"{self.fees} - payments {self.payments} - credits {self.credits} is "
                f"{expected}, not the current amount {self.current_amount}"
            )

    @property
    def payments_and_credits(self) -> money.Money:
        """Return the payments and credits together (model form B-1 shows one line)."""
        return self.payments + self.credits


class EntryKind(enum.StrEnum):
    """Name a movement on the debt's ledger, for :func:`itemize`."""

    PRINCIPAL = "PRINCIPAL"  # an amount billed that is neither interest nor a fee
    INTEREST = "INTEREST"
    FEE = "FEE"
    PAYMENT = "PAYMENT"
    CREDIT = "CREDIT"


@dataclasses.dataclass(frozen=True, kw_only=True)
class LedgerEntry:
    """Record one movement on the debt: a positive amount, its kind, and the day it happened."""

    kind: EntryKind
    on: datetime.date
    amount: money.Money

    def __post_init__(self) -> None:
        if self.amount.is_negative():
            raise ValueError(f"a ledger entry's amount is never negative (got {self.amount})")


def itemize(
    *,
    entries: Iterable[LedgerEntry],
    itemization_date: datetime.date,
    kind: ItemizationDateKind,
    as_of: datetime.date,
    currency: str,
) -> Itemization:
    """Return the itemization of the debt on ``as_of`` from its ledger.

    Entries after ``as_of`` have not happened yet and are left out. Everything on or before
    ``itemization_date`` makes up the amount owed on it; interest, fees, payments and credits
    after it are itemized. A principal amount billed after the itemization date cannot be
    itemized (1006.34(c)(2)(ix) knows only interest, fees, payments and credits): raises
    ``InvalidNotice``, and the itemization date should be a later one.
    """
    if itemization_date > as_of:
        raise InvalidNotice(f"the itemization date {itemization_date} is after {as_of}")
    owed = money.Money.zero(currency)
    since = {entry_kind: money.Money.zero(currency) for entry_kind in EntryKind}
    for entry in entries:
        if entry.on > as_of:
            continue
        if entry.on <= itemization_date:
            reduces = entry.kind in (EntryKind.PAYMENT, EntryKind.CREDIT)
            owed = owed - entry.amount if reduces else owed + entry.amount
            continue
        if entry.kind is EntryKind.PRINCIPAL:
            raise InvalidNotice(
                f"{entry.amount} was billed on {entry.on}, after the itemization date "
                f"{itemization_date}; choose a later itemization date"
            )
        since[entry.kind] = since[entry.kind] + entry.amount
    return Itemization(
        itemization_date=itemization_date,
        kind=kind,
        amount_on_itemization_date=owed,
        interest=since[EntryKind.INTEREST],
        fees=since[EntryKind.FEE],
        payments=since[EntryKind.PAYMENT],
        credits=since[EntryKind.CREDIT],
        current_amount=(
            owed
            + since[EntryKind.INTEREST]
            + since[EntryKind.FEE]
            - since[EntryKind.PAYMENT]
            - since[EntryKind.CREDIT]
        ),
    )


# --- The notice ---


@dataclasses.dataclass(frozen=True, kw_only=True)
class Party:
    """Name a person or business and its mailing address (one line per element)."""

    name: str
    address: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Collector:
    """Describe the debt collector: the address where it accepts disputes, and how to reach it.

    ``email`` is where it accepts disputes and original-creditor requests electronically
    (1006.34(c)(3)(iv)); empty when it accepts them only by mail.
    """

    name: str
    address: tuple[str, ...]
    phone: str
    hours: str = ""
    email: str = ""
    website: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ValidationNotice:
    """Hold what a validation notice says (12 CFR 1006.34(c)); build it with :func:`build`."""

    collector: Collector
    consumer: Party
    creditor_on_itemization_date: str
    current_creditor: str
    account_number: str
    reference: str
    itemization: Itemization
    sent_on: datetime.date
    assumed_receipt_on: datetime.date
    validation_period_end: datetime.date

    @property
    def currency(self) -> str:
        """Return the currency of every amount on the notice."""
        return self.itemization.current_amount.currency


def mask_account_number(number: str, *, shown: int = ACCOUNT_DIGITS_SHOWN) -> str:
    """Return ``number`` truncated to its last ``shown`` characters ("****5678").

    1006.34(c)(2)(v) allows "a truncated version of that number"; a number no longer than
    ``shown`` is returned whole (hiding nothing would only make it unrecognisable).
    """
    cleaned = number.strip()
    if len(cleaned) <= shown:
        return cleaned
    return "*" * 4 + cleaned[-shown:]


def _require(value: str, label: str) -> str:
    if not value.strip():
        raise MissingFact(f"the notice needs {label} (12 CFR 1006.34(c)(2))")
    return value.strip()


def _require_address(lines: Sequence[str], label: str) -> tuple[str, ...]:
    kept = tuple(line.strip() for line in lines if line.strip())
    if not kept:
        raise MissingFact(f"the notice needs {label} (12 CFR 1006.34(c)(2))")
    return kept


def build(
    *,
    collector: Collector,
    consumer: Party,
    creditor_on_itemization_date: str,
    current_creditor: str = "",
    account_number: str,
    reference: str,
    itemization: Itemization,
    sent_on: datetime.date,
    validation_period_end: datetime.date | None = None,
) -> ValidationNotice:
    """Return the validation notice for a debt, mailed on ``sent_on``.

    ``validation_period_end`` defaults to the earliest lawful end (30 days after assumed
    receipt, 1006.34(b)(5)); a later one may be chosen, an earlier one raises
    ``ValidationPeriodTooShort``. ``account_number`` is shown truncated
    (:func:`mask_account_number`). ``current_creditor`` defaults to the creditor on the
    itemization date. Raises ``MissingFact`` for an empty name or address, ``NothingOwed``
    when the current amount is not positive.
    """
    earliest = earliest_validation_period_end(sent_on)
    end = earliest if validation_period_end is None else validation_period_end
    if end < earliest:
        raise ValidationPeriodTooShort(
            f"the validation period may not end before {earliest.isoformat()} "
            f"(30 days after assumed receipt on {assumed_receipt_date(sent_on).isoformat()}), "
            f"not {end.isoformat()}"
        )
    if not itemization.current_amount.is_positive():
        raise NothingOwed(f"the current amount of the debt is {itemization.current_amount}")
    if itemization.itemization_date > sent_on:
        raise InvalidNotice("the itemization date is after the day the notice is sent")
    creditor = _require(creditor_on_itemization_date, "the creditor on the itemization date")
    return ValidationNotice(
        collector=Collector(
            name=_require(collector.name, "the debt collector's name"),
            address=_require_address(collector.address, "the debt collector's mailing address"),
            phone=collector.phone.strip(),
            hours=collector.hours.strip(),
            email=collector.email.strip(),
            website=collector.website.strip(),
        ),
        consumer=Party(
            name=_require(consumer.name, "the consumer's name"),
            address=_require_address(consumer.address, "the consumer's mailing address"),
        ),
        creditor_on_itemization_date=creditor,
        current_creditor=current_creditor.strip() or creditor,
        account_number=mask_account_number(_require(account_number, "the account number")),
        reference=_require(reference, "a reference for the reply"),
        itemization=itemization,
        sent_on=sent_on,
        assumed_receipt_on=assumed_receipt_date(sent_on),
        validation_period_end=end,
    )
