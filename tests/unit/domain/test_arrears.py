from __future__ import annotations

import datetime
import decimal
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.domain import arrears, money

D = decimal.Decimal
date = datetime.date


def usd(text: str) -> money.Money:
    return money.Money(D(text), "USD")


def charge(reference: str, due: date, amount: str) -> arrears.Charge:
    return arrears.Charge(reference=reference, due_date=due, amount=usd(amount))


def payment(reference: str, received: date, amount: str) -> arrears.Payment:
    return arrears.Payment(reference=reference, received_date=received, amount=usd(amount))


MONTHLY = [
    charge("C1", date(2024, 1, 15), "100.00"),
    charge("C2", date(2024, 2, 15), "100.00"),
    charge("C3", date(2024, 3, 15), "100.00"),
]

# Dates within a couple of years, with month ends and a leap day inside the range.
dates = st.dates(min_value=date(2023, 1, 1), max_value=date(2025, 12, 31))
cents = st.integers(min_value=0, max_value=50_000)


@st.composite
def charge_lists(draw: st.DrawFn) -> list[arrears.Charge]:
    return [
        arrears.Charge(
            reference=f"C{index}",
            due_date=draw(dates),
            amount=money.Money.from_minor_units(draw(cents), "USD"),
        )
        for index in range(draw(st.integers(min_value=0, max_value=8)))
    ]


@st.composite
def payment_lists(draw: st.DrawFn) -> list[arrears.Payment]:
    return [
        arrears.Payment(
            reference=f"P{index}",
            received_date=draw(dates),
            amount=money.Money.from_minor_units(draw(cents), "USD"),
        )
        for index in range(draw(st.integers(min_value=0, max_value=6)))
    ]


class TestCharge:
    def test_refuses_a_negative_amount(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            charge("C1", date(2024, 1, 1), "-1.00")

    def test_refuses_a_datetime_due_date(self) -> None:
        with pytest.raises(TypeError, match="due_date"):
            arrears.Charge(
                reference="C1",
                due_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
                amount=usd("1"),
            )


class TestPayment:
    def test_refuses_a_negative_amount(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            payment("P1", date(2024, 1, 1), "-1.00")


class TestOutstandingCharges:
    def test_lists_every_unpaid_charge_including_those_not_yet_due(self) -> None:
        outstanding = arrears.outstanding_charges(
            charges=MONTHLY, payments=[], as_of=date(2024, 2, 1)
        )
        assert [(c.reference, unpaid) for c, unpaid in outstanding] == [
            ("C1", usd("100.00")),
            ("C2", usd("100.00")),
            ("C3", usd("100.00")),
        ]

    def test_applies_payments_to_the_oldest_charge_first(self) -> None:
        outstanding = arrears.outstanding_charges(
            charges=list(reversed(MONTHLY)),
            payments=[payment("P1", date(2024, 3, 1), "150.00")],
            as_of=date(2024, 3, 1),
        )
        assert [(c.reference, unpaid) for c, unpaid in outstanding] == [
            ("C2", usd("50.00")),
            ("C3", usd("100.00")),
        ]

    def test_breaks_due_date_ties_by_reference(self) -> None:
        same_day = date(2024, 1, 1)
        outstanding = arrears.outstanding_charges(
            charges=[charge("B", same_day, "10"), charge("A", same_day, "10")],
            payments=[payment("P1", same_day, "15")],
            as_of=same_day,
        )
        assert [(c.reference, unpaid) for c, unpaid in outstanding] == [("B", usd("5"))]

    def test_ignores_payments_received_after_as_of(self) -> None:
        outstanding = arrears.outstanding_charges(
            charges=MONTHLY[:1],
            payments=[payment("P1", date(2024, 2, 2), "100.00")],
            as_of=date(2024, 2, 1),
        )
        assert [c.reference for c, _ in outstanding] == ["C1"]

    def test_drops_overpayment_as_credit(self) -> None:
        outstanding = arrears.outstanding_charges(
            charges=MONTHLY,
            payments=[payment("P1", date(2024, 1, 1), "500.00")],
            as_of=date(2024, 6, 1),
        )
        assert outstanding == []

    def test_raises_currency_mismatch_for_mixed_currencies(self) -> None:
        euro_payment = arrears.Payment(
            reference="P1", received_date=date(2024, 1, 1), amount=money.Money(D("1"), "EUR")
        )
        with pytest.raises(money.CurrencyMismatch):
            arrears.outstanding_charges(
                charges=MONTHLY, payments=[euro_payment], as_of=date(2024, 2, 1)
            )

    def test_refuses_a_datetime_as_of(self) -> None:
        with pytest.raises(TypeError, match="as_of"):
            arrears.outstanding_charges(
                charges=MONTHLY,
                payments=[],
                as_of=datetime.datetime(2024, 2, 1, tzinfo=datetime.UTC),
            )


class TestDaysPastDue:
    def test_is_zero_when_there_are_no_charges(self) -> None:
        assert arrears.days_past_due(charges=[], payments=[], as_of=date(2024, 1, 1)) == 0

    def test_is_zero_when_the_only_charge_is_due_today(self) -> None:
        due = date(2024, 5, 10)
        assert arrears.days_past_due(charges=[charge("C1", due, "5")], payments=[], as_of=due) == 0

    def test_is_one_when_the_only_charge_was_due_yesterday(self) -> None:
        dpd = arrears.days_past_due(
            charges=[charge("C1", date(2024, 5, 9), "5")], payments=[], as_of=date(2024, 5, 10)
        )
        assert dpd == 1

    def test_counts_29_days_from_january_31_to_march_1_in_a_common_year(self) -> None:
        dpd = arrears.days_past_due(
            charges=[charge("C1", date(2023, 1, 31), "5")], payments=[], as_of=date(2023, 3, 1)
        )
        assert dpd == 29

    def test_counts_30_days_from_january_31_to_march_1_in_a_leap_year(self) -> None:
        dpd = arrears.days_past_due(
            charges=[charge("C1", date(2024, 1, 31), "5")], payments=[], as_of=date(2024, 3, 1)
        )
        assert dpd == 30

    def test_counts_from_a_leap_day_due_date(self) -> None:
        charges = [charge("C1", date(2024, 2, 29), "5")]
        assert arrears.days_past_due(charges=charges, payments=[], as_of=date(2024, 3, 1)) == 1
        assert arrears.days_past_due(charges=charges, payments=[], as_of=date(2025, 2, 28)) == 365
        assert arrears.days_past_due(charges=charges, payments=[], as_of=date(2025, 3, 1)) == 366

    def test_measures_from_the_oldest_unpaid_charge(self) -> None:
        assert arrears.days_past_due(charges=MONTHLY, payments=[], as_of=date(2024, 3, 20)) == 65

    def test_still_measures_from_the_same_charge_after_a_partial_payment(self) -> None:
        dpd = arrears.days_past_due(
            charges=MONTHLY,
            payments=[payment("P1", date(2024, 3, 1), "99.99")],
            as_of=date(2024, 3, 20),
        )
        assert dpd == 65

    def test_moves_to_the_next_charge_when_the_oldest_is_paid_in_full(self) -> None:
        dpd = arrears.days_past_due(
            charges=MONTHLY,
            payments=[payment("P1", date(2024, 3, 1), "100.00")],
            as_of=date(2024, 3, 20),
        )
        assert dpd == (date(2024, 3, 20) - date(2024, 2, 15)).days

    def test_ignores_payments_received_after_as_of(self) -> None:
        dpd = arrears.days_past_due(
            charges=MONTHLY[:1],
            payments=[payment("P1", date(2024, 1, 21), "100.00")],
            as_of=date(2024, 1, 20),
        )
        assert dpd == 5

    def test_counts_a_payment_received_on_as_of(self) -> None:
        dpd = arrears.days_past_due(
            charges=MONTHLY[:1],
            payments=[payment("P1", date(2024, 1, 20), "100.00")],
            as_of=date(2024, 1, 20),
        )
        assert dpd == 0

    def test_is_zero_when_only_charges_not_yet_due_are_unpaid(self) -> None:
        dpd = arrears.days_past_due(
            charges=MONTHLY,
            payments=[payment("P1", date(2024, 2, 1), "100.00")],
            as_of=date(2024, 2, 10),
        )
        assert dpd == 0

    @given(charges=charge_lists(), payments=payment_lists(), as_of=dates)
    def test_is_never_negative(
        self, charges: list[arrears.Charge], payments: list[arrears.Payment], as_of: date
    ) -> None:
        assert arrears.days_past_due(charges=charges, payments=payments, as_of=as_of) >= 0

    @given(charges=charge_lists(), payments=payment_lists(), as_of=dates)
    def test_is_zero_when_payments_cover_every_charge_already_due(
        self, charges: list[arrears.Charge], payments: list[arrears.Payment], as_of: date
    ) -> None:
        due = sum((c.amount.to_minor_units() for c in charges if c.due_date < as_of), 0)
        paid = sum((p.amount.to_minor_units() for p in payments if p.received_date <= as_of), 0)
        if paid >= due:
            assert arrears.days_past_due(charges=charges, payments=payments, as_of=as_of) == 0

    @given(
        charges=charge_lists(),
        payments=payment_lists(),
        first=dates,
        gap=st.integers(min_value=0, max_value=800),
    )
    def test_never_falls_while_no_payment_arrives(
        self,
        charges: list[arrears.Charge],
        payments: list[arrears.Payment],
        first: date,
        gap: int,
    ) -> None:
        later = first + datetime.timedelta(days=gap)
        earlier_payments = [p for p in payments if p.received_date <= first]
        before = arrears.days_past_due(charges=charges, payments=earlier_payments, as_of=first)
        after = arrears.days_past_due(charges=charges, payments=earlier_payments, as_of=later)
        assert after >= before

    @given(
        charges=charge_lists(),
        payments=payment_lists(),
        extra=payment_lists(),
        as_of=dates,
    )
    def test_never_rises_when_a_payment_is_added(
        self,
        charges: list[arrears.Charge],
        payments: list[arrears.Payment],
        extra: list[arrears.Payment],
        as_of: date,
    ) -> None:
        before = arrears.days_past_due(charges=charges, payments=payments, as_of=as_of)
        after = arrears.days_past_due(charges=charges, payments=payments + extra, as_of=as_of)
        assert after <= before


class TestDaysUntilNextDue:
    def test_is_none_without_charges(self) -> None:
        assert arrears.days_until_next_due(charges=[], payments=[], as_of=date(2024, 1, 1)) is None

    def test_is_zero_when_a_charge_is_due_today(self) -> None:
        result = arrears.days_until_next_due(charges=MONTHLY, payments=[], as_of=date(2024, 2, 15))
        assert result == 0

    def test_counts_to_the_next_unpaid_charge(self) -> None:
        result = arrears.days_until_next_due(charges=MONTHLY, payments=[], as_of=date(2024, 2, 10))
        assert result == 5

    def test_skips_a_future_charge_already_paid(self) -> None:
        result = arrears.days_until_next_due(
            charges=MONTHLY,
            payments=[payment("P1", date(2024, 1, 1), "200.00")],
            as_of=date(2024, 2, 10),
        )
        assert result == (date(2024, 3, 15) - date(2024, 2, 10)).days

    def test_is_none_once_every_remaining_charge_is_paid(self) -> None:
        result = arrears.days_until_next_due(
            charges=MONTHLY,
            payments=[payment("P1", date(2024, 1, 1), "300.00")],
            as_of=date(2024, 2, 10),
        )
        assert result is None


class TestArrearsAndBalance:
    def test_arrears_count_only_charges_due_before_as_of(self) -> None:
        total = arrears.arrears(charges=MONTHLY, payments=[], as_of=date(2024, 2, 15))
        assert total == usd("100.00")

    def test_balance_counts_charges_not_yet_due(self) -> None:
        total = arrears.balance(charges=MONTHLY, payments=[], as_of=date(2024, 2, 15))
        assert total == usd("300.00")

    def test_balance_is_negative_for_a_customer_in_credit(self) -> None:
        total = arrears.balance(
            charges=MONTHLY,
            payments=[payment("P1", date(2024, 1, 1), "350.00")],
            as_of=date(2024, 2, 1),
        )
        assert total == usd("-50.00")

    def test_arrears_ignore_payments_received_after_as_of(self) -> None:
        total = arrears.arrears(
            charges=MONTHLY,
            payments=[payment("P1", date(2024, 2, 2), "100.00")],
            as_of=date(2024, 2, 1),
        )
        assert total == usd("100.00")

    def test_need_a_currency_when_there_is_nothing_to_take_it_from(self) -> None:
        with pytest.raises(ValueError, match="currency"):
            arrears.arrears(charges=[], payments=[], as_of=date(2024, 1, 1))
        assert arrears.balance(
            charges=[], payments=[], as_of=date(2024, 1, 1), currency="EUR"
        ) == money.Money.zero("EUR")

    def test_refuse_a_currency_that_differs_from_the_charges(self) -> None:
        with pytest.raises(money.CurrencyMismatch):
            arrears.balance(charges=MONTHLY, payments=[], as_of=date(2024, 1, 1), currency="EUR")

    @given(charges=charge_lists(), payments=payment_lists(), as_of=dates)
    def test_add_up_to_the_balance_with_future_charges_and_credit(
        self, charges: list[arrears.Charge], payments: list[arrears.Payment], as_of: date
    ) -> None:
        overdue = arrears.arrears(charges=charges, payments=payments, as_of=as_of, currency="USD")
        balance = arrears.balance(charges=charges, payments=payments, as_of=as_of, currency="USD")
        not_yet_due = money.sum_amounts(
            (
                unpaid
                for c, unpaid in arrears.outstanding_charges(
                    charges=charges, payments=payments, as_of=as_of
                )
                if c.due_date >= as_of
            ),
            currency="USD",
        )
        zero = money.Money.zero("USD")
        # Credit exists only once every charge is paid, so it is whatever the balance
        # falls below zero by.
        credit = -balance if balance.is_negative() else zero
        assert overdue + not_yet_due - credit == balance
        assert zero <= overdue <= max(balance, zero)

    @given(charges=charge_lists(), payments=payment_lists(), as_of=dates)
    def test_arrears_are_positive_exactly_when_days_past_due_are(
        self, charges: list[arrears.Charge], payments: list[arrears.Payment], as_of: date
    ) -> None:
        overdue = arrears.arrears(charges=charges, payments=payments, as_of=as_of, currency="USD")
        dpd = arrears.days_past_due(charges=charges, payments=payments, as_of=as_of)
        assert overdue.is_positive() == (dpd > 0)


class TestBucketScheme:
    def test_default_runs_from_current_to_180_plus(self) -> None:
        assert [
            (b.code, b.label, b.min_days, b.max_days) for b in arrears.DEFAULT_BUCKETS.buckets
        ] == [
            ("CURRENT", "Current", 0, 0),
            ("DPD_1_30", "1\u201330", 1, 30),
            ("DPD_31_60", "31\u201360", 31, 60),
            ("DPD_61_90", "61\u201390", 61, 90),
            ("DPD_91_120", "91\u2013120", 91, 120),
            ("DPD_121_180", "121\u2013180", 121, 180),
            ("DPD_180_PLUS", "180+", 181, None),
        ]

    def test_builds_buckets_from_edges(self) -> None:
        scheme = arrears.BucketScheme.from_edges((30, 60, 90))
        assert [(b.code, b.label, b.min_days, b.max_days) for b in scheme.buckets] == [
            ("CURRENT", "Current", 0, 0),
            ("DPD_1_30", "1\u201330", 1, 30),
            ("DPD_31_60", "31\u201360", 31, 60),
            ("DPD_61_90", "61\u201390", 61, 90),
            ("DPD_90_PLUS", "90+", 91, None),
        ]

    @pytest.mark.parametrize(
        ("days", "code"),
        [
            (0, "CURRENT"),
            (1, "DPD_1_30"),
            (30, "DPD_1_30"),
            (31, "DPD_31_60"),
            (90, "DPD_61_90"),
            (91, "DPD_91_120"),
            (180, "DPD_121_180"),
            (181, "DPD_180_PLUS"),
            (10_000, "DPD_180_PLUS"),
        ],
    )
    def test_classifies_days_past_due_into_the_default_buckets(self, days: int, code: str) -> None:
        assert arrears.DEFAULT_BUCKETS.classify(days).code == code

    def test_refuses_to_classify_negative_days(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            arrears.DEFAULT_BUCKETS.classify(-1)

    def test_finds_a_bucket_by_code(self) -> None:
        assert arrears.DEFAULT_BUCKETS.by_code("DPD_31_60").min_days == 31
        with pytest.raises(KeyError):
            arrears.DEFAULT_BUCKETS.by_code("NOPE")

    @pytest.mark.parametrize(
        "buckets",
        [
            pytest.param((), id="empty"),
            pytest.param(
                (arrears.Bucket("A", "A", 1, None),),
                id="does-not-start-at-zero",
            ),
            pytest.param(
                (arrears.Bucket("A", "A", 0, 5), arrears.Bucket("B", "B", 7, None)),
                id="gap",
            ),
            pytest.param(
                (arrears.Bucket("A", "A", 0, 5), arrears.Bucket("B", "B", 5, None)),
                id="overlap",
            ),
            pytest.param(
                (arrears.Bucket("A", "A", 0, None), arrears.Bucket("B", "B", 1, None)),
                id="open-ended-before-the-end",
            ),
            pytest.param(
                (arrears.Bucket("A", "A", 0, 5), arrears.Bucket("B", "B", 6, 10)),
                id="last-is-closed",
            ),
            pytest.param(
                (arrears.Bucket("A", "A", 0, 5), arrears.Bucket("A", "B", 6, None)),
                id="duplicate-codes",
            ),
        ],
    )
    def test_refuses_buckets_that_do_not_cover_each_day_once(
        self, buckets: tuple[arrears.Bucket, ...]
    ) -> None:
        with pytest.raises(arrears.InvalidBucketScheme):
            arrears.BucketScheme(buckets)

    @pytest.mark.parametrize(
        "edges",
        [(), (0, 30), (30, 30), (60, 30), (-5,)],
    )
    def test_refuses_edges_that_are_not_positive_and_increasing(
        self, edges: tuple[int, ...]
    ) -> None:
        with pytest.raises(arrears.InvalidBucketScheme):
            arrears.BucketScheme.from_edges(edges)

    def test_refuses_a_bucket_that_ends_before_it_starts(self) -> None:
        with pytest.raises(arrears.InvalidBucketScheme):
            arrears.Bucket("A", "A", 10, 5)

    @given(
        edges=st.lists(
            st.integers(min_value=1, max_value=400), min_size=1, max_size=8, unique=True
        ),
        days=st.integers(min_value=0, max_value=100_000),
    )
    def test_puts_every_non_negative_day_count_in_exactly_one_bucket(
        self, edges: list[int], days: int
    ) -> None:
        scheme = arrears.BucketScheme.from_edges(sorted(edges))
        containing = [bucket for bucket in scheme.buckets if bucket.contains(days)]
        assert containing == [scheme.classify(days)]

    def test_covers_each_of_the_first_thousand_days_exactly_once(self) -> None:
        counts = {
            days: sum(bucket.contains(days) for bucket in arrears.DEFAULT_BUCKETS.buckets)
            for days in range(1000)
        }
        assert set(counts.values()) == {1}
        buckets = [arrears.DEFAULT_BUCKETS.classify(days) for days in range(1000)]
        # Classification walks through the buckets in order without skipping any.
        assert [bucket for bucket, _ in itertools.groupby(buckets)] == list(
            arrears.DEFAULT_BUCKETS.buckets
        )


class TestDelinquencyStage:
    @pytest.mark.parametrize(
        ("dpd", "until_next", "stage"),
        [
            (0, None, arrears.DelinquencyStage.CURRENT),
            (0, 6, arrears.DelinquencyStage.CURRENT),
            (0, 5, arrears.DelinquencyStage.PRE_DUE),
            (0, 0, arrears.DelinquencyStage.PRE_DUE),
            (1, 0, arrears.DelinquencyStage.EARLY),
            (30, None, arrears.DelinquencyStage.EARLY),
            (31, None, arrears.DelinquencyStage.MID),
            (90, None, arrears.DelinquencyStage.MID),
            (91, None, arrears.DelinquencyStage.LATE),
            (180, None, arrears.DelinquencyStage.LATE),
            (181, None, arrears.DelinquencyStage.RECOVERY),
        ],
    )
    def test_follows_the_default_thresholds(
        self, dpd: int, until_next: int | None, stage: arrears.DelinquencyStage
    ) -> None:
        assert arrears.delinquency_stage(days_past_due=dpd, days_until_next_due=until_next) is stage

    def test_uses_custom_thresholds(self) -> None:
        thresholds = arrears.StageThresholds(
            pre_due_days=10, early_max=15, mid_max=60, late_max=120
        )
        assert (
            arrears.delinquency_stage(
                days_past_due=0, days_until_next_due=10, thresholds=thresholds
            )
            is arrears.DelinquencyStage.PRE_DUE
        )
        assert (
            arrears.delinquency_stage(
                days_past_due=16, days_until_next_due=None, thresholds=thresholds
            )
            is arrears.DelinquencyStage.MID
        )
        assert (
            arrears.delinquency_stage(
                days_past_due=121, days_until_next_due=None, thresholds=thresholds
            )
            is arrears.DelinquencyStage.RECOVERY
        )

    def test_refuses_negative_days(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            arrears.delinquency_stage(days_past_due=-1, days_until_next_due=None)
        with pytest.raises(ValueError, match="negative"):
            arrears.delinquency_stage(days_past_due=0, days_until_next_due=-1)

    @pytest.mark.parametrize(
        "values",
        [
            {"pre_due_days": -1},
            {"early_max": 0},
            {"early_max": 90, "mid_max": 90},
            {"mid_max": 200, "late_max": 180},
        ],
    )
    def test_refuses_thresholds_out_of_order(self, values: dict[str, int]) -> None:
        with pytest.raises(ValueError, match=r"thresholds|pre_due_days"):
            arrears.StageThresholds(**values)

    def test_has_stable_upper_case_values(self) -> None:
        assert [stage.value for stage in arrears.DelinquencyStage] == [
            "PRE_DUE",
            "CURRENT",
            "EARLY",
            "MID",
            "LATE",
            "RECOVERY",
        ]

    def test_agrees_with_the_schedule_helpers(self) -> None:
        as_of = date(2024, 2, 12)
        stage = arrears.delinquency_stage(
            days_past_due=arrears.days_past_due(
                charges=MONTHLY,
                payments=[payment("P1", date(2024, 1, 10), "100.00")],
                as_of=as_of,
            ),
            days_until_next_due=arrears.days_until_next_due(
                charges=MONTHLY,
                payments=[payment("P1", date(2024, 1, 10), "100.00")],
                as_of=as_of,
            ),
        )
        assert stage is arrears.DelinquencyStage.PRE_DUE
