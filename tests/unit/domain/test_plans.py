from __future__ import annotations

import datetime
import decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.domain import money, plans

D = decimal.Decimal

currencies = st.sampled_from(sorted(money.known_currencies()))
counts = st.integers(min_value=1, max_value=60)
start_dates = st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2100, 12, 31))


@st.composite
def plannable(draw: st.DrawFn) -> tuple[money.Money, int]:
    """Draw a total and a count for which every instalment is at least one minor unit."""
    currency = draw(currencies)
    count = draw(counts)
    units = draw(st.integers(min_value=count, max_value=10**12))
    return money.Money.from_minor_units(units, currency), count


class TestInstalments:
    @given(plannable(), start_dates)
    def test_sum_exactly_to_the_total_in_any_currency(
        self, total_and_count: tuple[money.Money, int], start: datetime.date
    ) -> None:
        total, count = total_and_count
        schedule = plans.instalments(total=total, count=count, start_date=start)
        assert len(schedule) == count
        assert money.sum_amounts((i.amount for i in schedule), currency=total.currency) == total

    @given(plannable(), start_dates)
    def test_are_whole_positive_minor_units_differing_by_at_most_one(
        self, total_and_count: tuple[money.Money, int], start: datetime.date
    ) -> None:
        total, count = total_and_count
        units = [
            i.amount.to_minor_units()
            for i in plans.instalments(total=total, count=count, start_date=start)
        ]
        assert all(unit > 0 for unit in units)
        assert max(units) - min(units) <= 1
        # Earlier instalments carry the remainder.
        assert units == sorted(units, reverse=True)

    @given(plannable(), start_dates)
    def test_fall_due_monthly_from_the_start_date_in_order(
        self, total_and_count: tuple[money.Money, int], start: datetime.date
    ) -> None:
        total, count = total_and_count
        schedule = plans.instalments(total=total, count=count, start_date=start)
        assert schedule[0].due_date == start
        assert [i.sequence for i in schedule] == list(range(1, count + 1))
        for index, item in enumerate(schedule):
            months = (item.due_date.year - start.year) * 12 + item.due_date.month - start.month
            assert months == index
            assert item.due_date.day == min(start.day, item.due_date.day) <= start.day

    def test_in_yen_have_no_decimal_places(self) -> None:
        schedule = plans.instalments(
            total=money.Money(D(10_000), "JPY"), count=3, start_date=datetime.date(2026, 1, 1)
        )
        assert [i.amount.amount for i in schedule] == [D(3334), D(3333), D(3333)]

    def test_in_dinars_keep_three_decimal_places(self) -> None:
        schedule = plans.instalments(
            total=money.Money(D("10.000"), "KWD"), count=3, start_date=datetime.date(2026, 1, 1)
        )
        assert [i.amount.to_minor_units() for i in schedule] == [3334, 3333, 3333]

    def test_from_january_31_fall_on_each_month_end(self) -> None:
        schedule = plans.instalments(
            total=money.Money(D("120.00"), "EUR"), count=4, start_date=datetime.date(2026, 1, 31)
        )
        assert [i.due_date for i in schedule] == [
            datetime.date(2026, 1, 31),
            datetime.date(2026, 2, 28),
            datetime.date(2026, 3, 31),
            datetime.date(2026, 4, 30),
        ]

    def test_from_january_31_of_a_leap_year_fall_on_february_29(self) -> None:
        schedule = plans.instalments(
            total=money.Money(D("30.00"), "USD"), count=2, start_date=datetime.date(2028, 1, 31)
        )
        assert schedule[1].due_date == datetime.date(2028, 2, 29)

    def test_across_new_year_roll_into_the_next_year(self) -> None:
        schedule = plans.instalments(
            total=money.Money(D("30.00"), "USD"), count=3, start_date=datetime.date(2026, 11, 30)
        )
        assert [i.due_date for i in schedule] == [
            datetime.date(2026, 11, 30),
            datetime.date(2026, 12, 30),
            datetime.date(2027, 1, 30),
        ]

    def test_of_a_single_instalment_is_the_whole_total(self) -> None:
        total = money.Money(D("99.99"), "GBP")
        (only,) = plans.instalments(total=total, count=1, start_date=datetime.date(2026, 5, 5))
        assert only.amount == total

    @pytest.mark.parametrize("count", [0, -1])
    def test_refuse_fewer_than_one_instalment(self, count: int) -> None:
        with pytest.raises(plans.InvalidInstalmentCount):
            plans.instalments(
                total=money.Money(D(10), "USD"), count=count, start_date=datetime.date(2026, 1, 1)
            )

    @pytest.mark.parametrize("amount", [D(0), D("-5.00")])
    def test_refuse_a_total_that_is_not_positive(self, amount: decimal.Decimal) -> None:
        with pytest.raises(plans.NothingToPlan):
            plans.instalments(
                total=money.Money(amount, "USD"), count=3, start_date=datetime.date(2026, 1, 1)
            )

    @given(currencies, st.integers(min_value=2, max_value=60), st.data())
    def test_refuse_any_instalment_below_one_minor_unit(
        self, currency: str, count: int, data: st.DataObject
    ) -> None:
        units = data.draw(st.integers(min_value=1, max_value=count - 1))
        with pytest.raises(plans.InstalmentTooSmall):
            plans.instalments(
                total=money.Money.from_minor_units(units, currency),
                count=count,
                start_date=datetime.date(2026, 1, 1),
            )

    def test_refuse_two_yen_in_three_instalments(self) -> None:
        with pytest.raises(plans.InstalmentTooSmall):
            plans.instalments(
                total=money.Money(D(2), "JPY"), count=3, start_date=datetime.date(2026, 1, 1)
            )

    def test_refuse_a_fraction_of_a_minor_unit(self) -> None:
        with pytest.raises(money.PrecisionLoss):
            plans.instalments(
                total=money.Money(D("10.005"), "USD"), count=3, start_date=datetime.date(2026, 1, 1)
            )

    def test_refuse_a_datetime_as_start_date(self) -> None:
        with pytest.raises(TypeError):
            plans.instalments(
                total=money.Money(D(10), "USD"),
                count=3,
                start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
            )

    def test_are_offered_in_three_six_and_twelve_months(self) -> None:
        assert plans.OFFERED_COUNTS == (3, 6, 12)


class TestAddMonths:
    @pytest.mark.parametrize(
        ("start", "months", "expected"),
        [
            (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
            (datetime.date(2024, 1, 31), 1, datetime.date(2024, 2, 29)),
            (datetime.date(2024, 2, 29), 12, datetime.date(2025, 2, 28)),
            (datetime.date(2026, 3, 31), 1, datetime.date(2026, 4, 30)),
            (datetime.date(2026, 12, 15), 1, datetime.date(2027, 1, 15)),
            (datetime.date(2026, 5, 10), 0, datetime.date(2026, 5, 10)),
        ],
    )
    def test_clamps_to_the_end_of_shorter_months(
        self, start: datetime.date, months: int, expected: datetime.date
    ) -> None:
        assert plans.add_months(start, months) == expected

    def test_refuses_negative_months(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            plans.add_months(datetime.date(2026, 1, 1), -1)
