"""Work out what a customer owes, how late it is, and which aging bucket that puts them in.

Everything here is a pure function of the charges, the payments and an ``as_of`` date
supplied by the caller, so the same inputs always give the same answer; nothing reads
the clock.

Payments are pooled and applied oldest-due charge first (ties broken by reference), the
usual rule for consumer credit: money received clears the oldest debt before newer debt,
which is also what gives the customer the lowest days-past-due.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import enum
import itertools
from collections.abc import Iterable, Sequence

from accord.domain import money


def _require_date(value: object, *, field: str) -> None:
    # datetime is a subclass of date, but comparing one with a date raises TypeError deep
    # inside an allocation, so reject it where the mistake is made.
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise TypeError(f"{field} must be a datetime.date, not {type(value).__name__}")


@dataclasses.dataclass(frozen=True, slots=True)
class Charge:
    """Record an amount billed to the customer and the date it falls due."""

    reference: str
    due_date: datetime.date
    amount: money.Money

    def __post_init__(self) -> None:
        _require_date(self.due_date, field="due_date")
        if self.amount.is_negative():
            raise ValueError(f"charge {self.reference!r} has a negative amount {self.amount}")


@dataclasses.dataclass(frozen=True, slots=True)
class Payment:
    """Record an amount received from the customer and the date it was received."""

    reference: str
    received_date: datetime.date
    amount: money.Money

    def __post_init__(self) -> None:
        _require_date(self.received_date, field="received_date")
        if self.amount.is_negative():
            raise ValueError(f"payment {self.reference!r} has a negative amount {self.amount}")


def _single_currency(
    *, charges: Sequence[Charge], payments: Sequence[Payment], currency: str | None
) -> str | None:
    """Return the one currency of everything given, or None if nothing names one."""
    currencies = {charge.amount.currency for charge in charges}
    currencies |= {payment.amount.currency for payment in payments}
    if currency is not None:
        money.minor_units(currency)
        currencies.add(currency)
    if len(currencies) > 1:
        first, second, *_ = sorted(currencies)
        raise money.CurrencyMismatch(first, second)
    return currencies.pop() if currencies else None


def _currency_for_totals(
    *, charges: Sequence[Charge], payments: Sequence[Payment], currency: str | None
) -> str:
    code = _single_currency(charges=charges, payments=payments, currency=currency)
    if code is None:
        raise ValueError("pass currency= when there are no charges or payments to take it from")
    return code


def _paid_by(*, payments: Iterable[Payment], as_of: datetime.date, currency: str) -> money.Money:
    return money.sum_amounts(
        (payment.amount for payment in payments if payment.received_date <= as_of),
        currency=currency,
    )


def _allocate(
    *,
    charges: Sequence[Charge],
    payments: Sequence[Payment],
    as_of: datetime.date,
) -> list[tuple[Charge, money.Money]]:
    """Return every charge, oldest due first, with what payments by ``as_of`` leave unpaid."""
    _require_date(as_of, field="as_of")
    code = _single_currency(charges=charges, payments=payments, currency=None)
    if code is None:
        return []
    available = _paid_by(payments=payments, as_of=as_of, currency=code)
    remainders: list[tuple[Charge, money.Money]] = []
    for charge in sorted(charges, key=lambda charge: (charge.due_date, charge.reference)):
        applied = min(available, charge.amount)
        available = available - applied
        remainders.append((charge, charge.amount - applied))
    return remainders


def outstanding_charges(
    *,
    charges: Sequence[Charge],
    payments: Sequence[Payment],
    as_of: datetime.date,
) -> list[tuple[Charge, money.Money]]:
    """Return each charge that is not fully paid as of ``as_of``, with what remains unpaid.

    Payments received on or before ``as_of`` are applied oldest-due charge first (ties by
    reference); later payments are ignored. Charges due after ``as_of`` are included: they
    are billed, just not yet due. Results are ordered oldest due first. Any overpayment is
    credit and does not appear. Raises :class:`money.CurrencyMismatch` if the charges and
    payments are not all in one currency.
    """
    remainders = _allocate(charges=charges, payments=payments, as_of=as_of)
    return [(charge, unpaid) for charge, unpaid in remainders if unpaid.is_positive()]


def days_past_due(
    *,
    charges: Sequence[Charge],
    payments: Sequence[Payment],
    as_of: datetime.date,
) -> int:
    """Return how many days the oldest unpaid, already-due charge is late on ``as_of``.

    A charge is past due from the day after its due date: one due today gives 0, one due
    yesterday gives 1. Returns 0 when every charge due before ``as_of`` is fully paid.
    """
    outstanding = outstanding_charges(charges=charges, payments=payments, as_of=as_of)
    # Outstanding charges come oldest first, so only the first can set the count.
    if outstanding and outstanding[0][0].due_date < as_of:
        return (as_of - outstanding[0][0].due_date).days
    return 0


def days_until_next_due(
    *,
    charges: Sequence[Charge],
    payments: Sequence[Payment],
    as_of: datetime.date,
) -> int | None:
    """Return the days from ``as_of`` to the earliest unpaid charge due on or after it.

    Returns 0 when such a charge is due on ``as_of`` itself, and ``None`` when no charge
    due on or after ``as_of`` has anything left to pay.
    """
    for charge, _unpaid in outstanding_charges(charges=charges, payments=payments, as_of=as_of):
        if charge.due_date >= as_of:
            return (charge.due_date - as_of).days
    return None


def arrears(
    *,
    charges: Sequence[Charge],
    payments: Sequence[Payment],
    as_of: datetime.date,
    currency: str | None = None,
) -> money.Money:
    """Return the unpaid amount of charges that fell due before ``as_of``.

    ``currency`` is needed only when there are no charges and no payments to take it
    from; when given, everything must be in it.
    """
    code = _currency_for_totals(charges=charges, payments=payments, currency=currency)
    remainders = _allocate(charges=charges, payments=payments, as_of=as_of)
    return money.sum_amounts(
        (unpaid for charge, unpaid in remainders if charge.due_date < as_of), currency=code
    )


def balance(
    *,
    charges: Sequence[Charge],
    payments: Sequence[Payment],
    as_of: datetime.date,
    currency: str | None = None,
) -> money.Money:
    """Return all charges less the payments received on or before ``as_of``.

    Every charge counts, including those due after ``as_of``: they have been billed, so
    they are part of what the customer owes even though they are not yet late. The result
    is negative when the customer is in credit. ``currency`` is needed only when there are
    no charges and no payments to take it from.
    """
    _require_date(as_of, field="as_of")
    code = _currency_for_totals(charges=charges, payments=payments, currency=currency)
    billed = money.sum_amounts((charge.amount for charge in charges), currency=code)
    return billed - _paid_by(payments=payments, as_of=as_of, currency=code)


class InvalidBucketScheme(ValueError):
    """Signal aging buckets that do not cover every days-past-due value exactly once."""


@dataclasses.dataclass(frozen=True, slots=True)
class Bucket:
    """Name a range of days past due, ``min_days`` to ``max_days`` inclusive.

    ``max_days`` is ``None`` for the last, open-ended bucket.
    """

    code: str
    label: str
    min_days: int
    max_days: int | None

    def __post_init__(self) -> None:
        if not self.code:
            raise InvalidBucketScheme("a bucket needs a code")
        if self.min_days < 0:
            raise InvalidBucketScheme(f"bucket {self.code} starts below zero days")
        if self.max_days is not None and self.max_days < self.min_days:
            raise InvalidBucketScheme(f"bucket {self.code} ends before it starts")

    def contains(self, days_past_due: int) -> bool:
        """Return whether ``days_past_due`` falls in this bucket."""
        if days_past_due < self.min_days:
            return False
        return self.max_days is None or days_past_due <= self.max_days


def _range_label(low: int, high: int) -> str:
    return f"{low}\N{EN DASH}{high}"


@dataclasses.dataclass(frozen=True, slots=True)
class BucketScheme:
    """Hold aging buckets that together cover every days-past-due value exactly once.

    The buckets must start at 0, follow each other without gaps or overlaps, have
    distinct codes, and only the last may (and must) be open-ended.
    """

    buckets: tuple[Bucket, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.buckets, tuple):
            raise TypeError("buckets must be a tuple, so the scheme cannot change later")
        if not self.buckets:
            raise InvalidBucketScheme("a bucket scheme needs at least one bucket")
        if self.buckets[0].min_days != 0:
            raise InvalidBucketScheme("the first bucket must start at 0 days past due")
        codes = [bucket.code for bucket in self.buckets]
        if len(set(codes)) != len(codes):
            raise InvalidBucketScheme("bucket codes must be distinct")
        for previous, following in itertools.pairwise(self.buckets):
            if previous.max_days is None:
                raise InvalidBucketScheme(
                    f"only the last bucket may be open-ended, but {previous.code} is"
                )
            if following.min_days != previous.max_days + 1:
                raise InvalidBucketScheme(
                    f"bucket {following.code} must start at {previous.max_days + 1} days, "
                    f"straight after {previous.code}"
                )
        if self.buckets[-1].max_days is not None:
            raise InvalidBucketScheme(
                f"the last bucket, {self.buckets[-1].code}, must be open-ended"
            )

    @classmethod
    def from_edges(cls, edges: Sequence[int]) -> BucketScheme:
        """Build Current plus one bucket per edge plus an open-ended bucket past the last.

        ``(30, 60, 90)`` gives Current (0), 1-30, 31-60, 61-90 and 90+ (91 onwards).
        Edges must be positive and strictly increasing.
        """
        if not edges:
            raise InvalidBucketScheme("at least one edge is needed")
        if edges[0] < 1:
            raise InvalidBucketScheme("edges must be positive")
        if any(low >= high for low, high in itertools.pairwise(edges)):
            raise InvalidBucketScheme("edges must be strictly increasing")
        buckets = [Bucket(code="CURRENT", label="Current", min_days=0, max_days=0)]
        low = 1
        for edge in edges:
            buckets.append(
                Bucket(
                    code=f"DPD_{low}_{edge}",
                    label=_range_label(low, edge),
                    min_days=low,
                    max_days=edge,
                )
            )
            low = edge + 1
        last = edges[-1]
        buckets.append(
            Bucket(code=f"DPD_{last}_PLUS", label=f"{last}+", min_days=last + 1, max_days=None)
        )
        return cls(tuple(buckets))

    def classify(self, days_past_due: int) -> Bucket:
        """Return the bucket ``days_past_due`` falls in; negative values are a ValueError."""
        if days_past_due < 0:
            raise ValueError(f"days past due cannot be negative, got {days_past_due}")
        starts = [bucket.min_days for bucket in self.buckets]
        return self.buckets[bisect.bisect_right(starts, days_past_due) - 1]

    def by_code(self, code: str) -> Bucket:
        """Return the bucket with ``code``; unknown codes are a KeyError."""
        for bucket in self.buckets:
            if bucket.code == code:
                return bucket
        raise KeyError(code)


# Current, 1-30, 31-60, 61-90, 91-120, 121-180 and 180+ (181 onwards).
DEFAULT_BUCKETS = BucketScheme.from_edges((30, 60, 90, 120, 180))


class DelinquencyStage(enum.StrEnum):
    """Name where an account is in the collections life cycle."""

    PRE_DUE = "PRE_DUE"
    CURRENT = "CURRENT"
    EARLY = "EARLY"
    MID = "MID"
    LATE = "LATE"
    RECOVERY = "RECOVERY"


@dataclasses.dataclass(frozen=True, slots=True)
class StageThresholds:
    """Set where each delinquency stage ends, in days.

    ``pre_due_days`` is how close a due date must be for an up-to-date account to be
    PRE_DUE; EARLY runs to ``early_max`` days past due, MID to ``mid_max``, LATE to
    ``late_max``, and anything beyond is RECOVERY.
    """

    pre_due_days: int = 5
    early_max: int = 30
    mid_max: int = 90
    late_max: int = 180

    def __post_init__(self) -> None:
        if self.pre_due_days < 0:
            raise ValueError("pre_due_days cannot be negative")
        if not 1 <= self.early_max < self.mid_max < self.late_max:
            raise ValueError("thresholds must satisfy 1 <= early_max < mid_max < late_max")


DEFAULT_STAGE_THRESHOLDS = StageThresholds()


def delinquency_stage(
    *,
    days_past_due: int,
    days_until_next_due: int | None,
    thresholds: StageThresholds = DEFAULT_STAGE_THRESHOLDS,
) -> DelinquencyStage:
    """Return the stage for an account ``days_past_due`` late.

    An account with nothing past due is PRE_DUE when its next unpaid charge falls due
    within ``thresholds.pre_due_days`` days (today included) and CURRENT otherwise.
    """
    if days_past_due < 0:
        raise ValueError(f"days past due cannot be negative, got {days_past_due}")
    if days_until_next_due is not None and days_until_next_due < 0:
        raise ValueError(f"days until next due cannot be negative, got {days_until_next_due}")
    if days_past_due == 0:
        if days_until_next_due is not None and days_until_next_due <= thresholds.pre_due_days:
            return DelinquencyStage.PRE_DUE
        return DelinquencyStage.CURRENT
    if days_past_due <= thresholds.early_max:
        return DelinquencyStage.EARLY
    if days_past_due <= thresholds.mid_max:
        return DelinquencyStage.MID
    if days_past_due <= thresholds.late_max:
        return DelinquencyStage.LATE
    return DelinquencyStage.RECOVERY
