"""Split arrears into a repayment plan of monthly instalments that sum to it exactly.

A plan's instalments are whole minor units of the currency; the parts differ by at
most one minor unit and the earlier instalments carry the remainder, so a customer
never pays a fraction of a cent and the last payment is never the surprising one.
Monthly due dates are anchored on the start date's day of the month and clamped to
the end of shorter months: a plan starting on 31 January falls due on 28 (or 29)
February, 31 March, 30 April and so on, never drifting to the 28th for good.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime

from accord.domain import money

# The plan lengths the customer portal offers, in months.
OFFERED_COUNTS: tuple[int, ...] = (3, 6, 12)


class PlanRefused(ValueError):
    """Signal a plan that cannot be made; ``reason`` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidInstalmentCount(PlanRefused):
    """A plan needs at least one instalment."""


class NothingToPlan(PlanRefused):
    """The total to split is zero or negative."""


class InstalmentTooSmall(PlanRefused):
    """An instalment would be below one minor unit of the currency."""


@dataclasses.dataclass(frozen=True, slots=True)
class Instalment:
    """Hold one payment of a plan: its position (from 1), due date and amount."""

    sequence: int
    due_date: datetime.date
    amount: money.Money


def add_months(start: datetime.date, months: int) -> datetime.date:
    """Return ``start`` moved ``months`` calendar months on, clamped to the month's end.

    ``add_months(date(2024, 1, 31), 1)`` is 29 February 2024; ``months`` may be 0 but
    not negative.
    """
    if months < 0:
        raise ValueError(f"months cannot be negative, got {months}")
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return datetime.date(year, month, day)


def instalments(
    *, total: money.Money, count: int, start_date: datetime.date
) -> tuple[Instalment, ...]:
    """Return ``count`` monthly instalments from ``start_date`` that sum exactly to ``total``.

    Raises :class:`InvalidInstalmentCount` when ``count`` is below 1,
    :class:`NothingToPlan` when ``total`` is not positive, :class:`InstalmentTooSmall`
    when an instalment would be below one minor unit, and
    :class:`accord.domain.money.PrecisionLoss` when ``total`` has a fraction of a minor
    unit.
    """
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"count must be int, not {type(count).__name__}")
    if isinstance(start_date, datetime.datetime) or not isinstance(start_date, datetime.date):
        raise TypeError(f"start_date must be a datetime.date, not {type(start_date).__name__}")
    if count < 1:
        raise InvalidInstalmentCount(f"a plan needs at least one instalment, not {count}")
    if not total.is_positive():
        raise NothingToPlan(f"there is nothing to split: the total is {total}")
    if total.to_minor_units() < count:
        raise InstalmentTooSmall(
            f"{total} cannot be split into {count} instalments of at least one minor unit"
        )
    amounts = money.allocate(total, parts=count)
    return tuple(
        Instalment(sequence=index + 1, due_date=add_months(start_date, index), amount=amount)
        for index, amount in enumerate(amounts)
    )
