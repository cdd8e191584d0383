"""The manager's KPIs: collection rate and promise-kept rate, per currency, hand-computed."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accord.analytics import kpis
from accord.domain.money import Money
from accord.storage import models
from tests.integration import manager_data as data

START = datetime.date(2026, 11, 1)
END = datetime.date(2026, 11, 30)
KEPT, BROKEN = models.PromiseStatus.KEPT, models.PromiseStatus.BROKEN
OPEN, CANCELLED = models.PromiseStatus.OPEN, models.PromiseStatus.CANCELLED


def day(month: int, number: int) -> datetime.date:
    return datetime.date(2026, month, number)


def by_currency(rates: list[kpis.CollectionRate]) -> dict[str, kpis.CollectionRate]:
    return {rate.currency: rate for rate in rates}


@pytest.fixture
def book() -> None:
    """Five accounts in three currencies whose November figures are worked out below."""
    # EUR, in arrears and paying part: owes 100 + 50 - 30 = 120; pays 40 in the period.
    partial = data.account("EUR")
    data.charge(partial, "100.00", day(10, 1))
    data.charge(partial, "50.00", day(11, 15))
    data.charge(partial, "70.00", day(12, 15))  # due after the period: not counted
    data.payment(partial, "30.00", day(10, 20))  # before the period: reduces what is owed
    data.payment(partial, "40.00", day(11, 5))
    data.payment(partial, "10.00", day(12, 2))  # after the period: not counted
    # EUR, overpaying: owes 20, pays 50; only 20 counts as collected.
    overpaid = data.account("EUR")
    data.charge(overpaid, "20.00", day(11, 10))
    data.payment(overpaid, "50.00", day(11, 10))
    # EUR, in credit before the period: owes nothing, so it is not in the rate at all.
    in_credit = data.account("EUR")
    data.payment(in_credit, "100.00", day(9, 1))
    data.charge(in_credit, "60.00", day(11, 20))
    # USD, owes 300 and pays nothing.
    silent = data.account("USD")
    data.charge(silent, "300.00", day(10, 1))
    # GBP, pays 25 with nothing owed: received, but nothing to collect.
    ahead = data.account("GBP")
    data.payment(ahead, "25.00", day(11, 3))


@pytest.mark.usefixtures("book")
class TestCollectionRate:
    def test_eur_collects_60_of_140_capping_the_overpayment(self) -> None:
        eur = by_currency(kpis.collection_rate(start=START, end=END))["EUR"]
        assert eur.accounts == 2
        assert eur.to_collect == Money(Decimal("140.00"), "EUR")
        assert eur.collected == Money(Decimal("60.00"), "EUR")
        assert eur.received == Money(Decimal("90.00"), "EUR")
        assert eur.rate == Decimal(6000) / Decimal(14000)

    def test_a_currency_that_collected_nothing_has_a_zero_rate(self) -> None:
        usd = by_currency(kpis.collection_rate(start=START, end=END))["USD"]
        assert (usd.accounts, usd.rate) == (1, Decimal(0))
        assert usd.to_collect == Money(Decimal("300.00"), "USD")

    def test_nothing_to_collect_gives_no_rate_rather_than_zero(self) -> None:
        gbp = by_currency(kpis.collection_rate(start=START, end=END))["GBP"]
        assert gbp.rate is None
        assert gbp.to_collect == Money.zero("GBP")
        assert gbp.received == Money(Decimal("25.00"), "GBP")

    def test_currencies_come_in_order_and_are_never_mixed(self) -> None:
        rates = kpis.collection_rate(start=START, end=END)
        assert [rate.currency for rate in rates] == ["EUR", "GBP", "USD"]
        for rate in rates:
            assert {rate.to_collect.currency, rate.collected.currency} == {rate.currency}

    def test_a_period_before_any_activity_is_empty(self) -> None:
        assert kpis.collection_rate(start=day(1, 1), end=day(1, 31)) == []


class TestCollectionRateBoundaries:
    def test_both_days_of_the_period_are_included(self) -> None:
        owner = data.account("EUR")
        data.charge(owner, "10.00", START)
        data.charge(owner, "30.00", END)
        data.payment(owner, "5.00", START)
        data.payment(owner, "15.00", END)
        (eur,) = kpis.collection_rate(start=START, end=END)
        assert (eur.to_collect, eur.collected) == (
            Money(Decimal("40.00"), "EUR"),
            Money(Decimal("20.00"), "EUR"),
        )
        assert eur.rate == Decimal("0.5")

    def test_a_single_day_period_works(self) -> None:
        owner = data.account("EUR")
        data.charge(owner, "10.00", START)
        data.payment(owner, "10.00", START)
        (eur,) = kpis.collection_rate(start=START, end=START)
        assert eur.rate == Decimal(1)

    def test_a_period_ending_before_it_starts_is_refused(self) -> None:
        with pytest.raises(kpis.InvalidPeriod):
            kpis.collection_rate(start=END, end=START)


class TestPromiseKeptRate:
    def test_kept_over_kept_or_broken_leaving_out_cancelled_and_other_periods(self) -> None:
        owner = data.account("EUR")
        data.promise(owner, "10.00", day(11, 3), KEPT)
        data.promise(owner, "20.00", day(11, 30), KEPT)
        data.promise(owner, "5.00", day(11, 1), BROKEN)
        data.promise(owner, "99.00", day(11, 12), CANCELLED)
        data.promise(owner, "7.00", day(11, 28), OPEN)
        data.promise(owner, "50.00", day(10, 31), KEPT)  # the day before the period
        data.promise(owner, "50.00", day(12, 1), BROKEN)  # the day after
        (eur,) = kpis.promise_kept_rate(start=START, end=END)
        assert (eur.kept, eur.broken, eur.awaiting) == (2, 1, 1)
        assert eur.rate == Decimal(2) / Decimal(3)
        assert eur.kept_amount == Money(Decimal("30.00"), "EUR")
        assert eur.broken_amount == Money(Decimal("5.00"), "EUR")

    def test_only_open_promises_give_no_rate(self) -> None:
        owner = data.account("USD")
        data.promise(owner, "10.00", day(11, 20), OPEN)
        (usd,) = kpis.promise_kept_rate(start=START, end=END)
        assert (usd.rate, usd.awaiting) == (None, 1)

    def test_each_currency_has_its_own_rate(self) -> None:
        data.promise(data.account("EUR"), "10.00", day(11, 3), KEPT)
        data.promise(data.account("USD"), "10.00", day(11, 3), BROKEN)
        rates = {rate.currency: rate.rate for rate in kpis.promise_kept_rate(start=START, end=END)}
        assert rates == {"EUR": Decimal(1), "USD": Decimal(0)}

    def test_no_promises_give_an_empty_list(self) -> None:
        assert kpis.promise_kept_rate(start=START, end=END) == []


class TestCachedKpis:
    def test_the_cache_gives_the_same_figures_as_computing_them(self) -> None:
        owner = data.account("EUR")
        data.charge(owner, "10.00", START)
        data.payment(owner, "4.00", START)
        assert kpis.cached_kpis(start=START, end=END) == kpis.kpis(start=START, end=END)
