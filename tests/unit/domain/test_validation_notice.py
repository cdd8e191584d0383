"""The validation notice's facts, dates and itemization (12 CFR 1006.34)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.domain import money
from accord.domain import validation_notice as vn

date = datetime.date
DAY = datetime.timedelta(days=1)


def usd(text: str) -> money.Money:
    return money.Money(decimal.Decimal(text), "USD")


def cents(units: int) -> money.Money:
    return money.Money.from_minor_units(units, "USD")


COLLECTOR = vn.Collector(
    name="Northwind Services LLC",
    address=("PO Box 1234", "Springfield, IL 62701"),
    phone="(555) 555-0100",
    email="disputes@northwind.invalid",
)
CONSUMER = vn.Party(name="Ana García", address=("1 Main Street", "Chicago, IL 60601"))
ITEMIZATION = vn.Itemization(
    itemization_date=date(2026, 1, 2),
    kind=vn.ItemizationDateKind.LAST_STATEMENT,
    amount_on_itemization_date=usd("2234.56"),
    interest=usd("75.00"),
    fees=usd("25.00"),
    payments=usd("50.00"),
    credits=usd("0"),
    current_amount=usd("2284.56"),
)


def build(**changes: object) -> vn.ValidationNotice:
    facts: dict[str, object] = {
        "collector": COLLECTOR,
        "consumer": CONSUMER,
        "creditor_on_itemization_date": "Example Bank",
        "account_number": "4111222233334444",
        "reference": "C-ANA-1",
        "itemization": ITEMIZATION,
        "sent_on": date(2026, 5, 4),
        **changes,
    }
    return vn.build(**facts)  # type: ignore[arg-type]


class TestLegalPublicHolidays:
    def test_lists_the_eleven_holidays_of_5_usc_6103a_and_their_observed_days(self) -> None:
        """12 CFR 1006.34(b)(5), comment 34(b)(5)-1: legal public holidays of 5 U.S.C. 6103(a)."""
        assert vn.legal_public_holidays(2026) == {
            date(2026, 1, 1),
            date(2026, 1, 19),
            date(2026, 2, 16),
            date(2026, 5, 25),
            date(2026, 6, 19),
            date(2026, 7, 3),  # Independence Day falls on a Saturday: observed Friday
            date(2026, 7, 4),
            date(2026, 9, 7),
            date(2026, 10, 12),
            date(2026, 11, 11),
            date(2026, 11, 26),
            date(2026, 12, 25),
        }

    def test_counts_a_saturday_new_year_as_observed_on_the_friday_before(self) -> None:
        assert date(2021, 12, 31) in vn.legal_public_holidays(2021)

    def test_has_no_juneteenth_before_the_2021_act(self) -> None:
        assert date(2020, 6, 19) not in vn.legal_public_holidays(2020)


class TestValidationPeriod:
    def test_ends_30_days_after_receipt_assumed_five_business_days_after_mailing(self) -> None:
        """12 CFR 1006.34(b)(5): mailed Mon 4 May 2026, assumed received Mon 11 May."""
        assert vn.assumed_receipt_date(date(2026, 5, 4)) == date(2026, 5, 11)
        assert vn.earliest_validation_period_end(date(2026, 5, 4)) == date(2026, 6, 10)

    def test_does_not_count_weekends_or_memorial_day_toward_receipt(self) -> None:
        """12 CFR 1006.34(b)(5): Fri 22 May 2026; Memorial Day is Mon 25 May."""
        assert vn.assumed_receipt_date(date(2026, 5, 22)) == date(2026, 6, 1)

    def test_does_not_count_christmas_toward_receipt(self) -> None:
        assert vn.assumed_receipt_date(date(2026, 12, 23)) == date(2026, 12, 31)

    def test_a_notice_may_name_a_later_end_date(self) -> None:
        """12 CFR 1006.34(b)(5): the collector may give the consumer more time, never less."""
        notice = build(validation_period_end=date(2026, 7, 1))
        assert notice.validation_period_end == date(2026, 7, 1)

    def test_a_notice_never_ends_the_period_before_30_days_after_assumed_receipt(self) -> None:
        """12 CFR 1006.34(b)(5)."""
        with pytest.raises(vn.ValidationPeriodTooShort, match="2026-06-10"):
            build(validation_period_end=date(2026, 6, 9))

    def test_worked_example_13_a_notice_sent_within_five_days_of_the_first_call(self) -> None:
        """COMPLIANCE.md example 13; 12 CFR 1006.34(a)(1)(i)(B): first call Mon 4 May 2026."""
        notice = build(sent_on=date(2026, 5, 9))
        assert notice.assumed_receipt_on == date(2026, 5, 15)
        assert notice.validation_period_end == date(2026, 6, 14)

    @given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
    def test_receipt_is_the_fifth_business_day_and_the_end_30_days_later(
        self, sent_on: date
    ) -> None:
        """12 CFR 1006.34(b)(5): never earlier than 30 days after assumed receipt."""
        receipt = vn.assumed_receipt_date(sent_on)
        counted = [
            sent_on + n * DAY
            for n in range(1, (receipt - sent_on).days + 1)
            if vn.is_business_day(sent_on + n * DAY)
        ]
        assert len(counted) == vn.ASSUMED_RECEIPT_DAYS
        assert counted[-1] == receipt
        assert receipt.weekday() < 5
        assert receipt not in vn.legal_public_holidays(receipt.year)
        assert (receipt - sent_on).days >= (7 if sent_on.weekday() < 5 else 5)
        end = vn.earliest_validation_period_end(sent_on)
        assert end == receipt + 30 * DAY
        assert end >= sent_on + 35 * DAY

    @given(
        st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
        st.integers(min_value=1, max_value=40),
    )
    def test_a_later_mailing_never_ends_the_period_earlier(self, sent_on: date, days: int) -> None:
        later = sent_on + days * DAY
        assert vn.earliest_validation_period_end(later) >= vn.earliest_validation_period_end(
            sent_on
        )


class TestItemization:
    def test_reconciles_model_form_b1_figures(self) -> None:
        """12 CFR 1006.34(c)(2)(viii)-(x): amount on the date + interest + fees - payments."""
        assert ITEMIZATION.payments_and_credits == usd("50.00")

    def test_refuses_figures_that_do_not_add_up(self) -> None:
        """12 CFR 1006.34(c)(2)(viii)-(x): the current amount must follow from the itemization."""
        with pytest.raises(vn.ItemizationDoesNotReconcile, match=r"2284\.56 USD, not"):
            dataclasses.replace(ITEMIZATION, current_amount=usd("2284.55"))

    def test_refuses_negative_interest(self) -> None:
        with pytest.raises(vn.ItemizationDoesNotReconcile, match="interest"):
            dataclasses.replace(ITEMIZATION, interest=usd("-1.00"), current_amount=usd("2208.56"))

    def test_refuses_mixed_currencies(self) -> None:
        with pytest.raises(vn.ItemizationDoesNotReconcile, match="currencies"):
            dataclasses.replace(ITEMIZATION, fees=money.Money(decimal.Decimal(25), "EUR"))

    @given(
        st.integers(0, 10**8),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
        st.integers(-(10**4), 10**4),
    )
    def test_accepts_exactly_the_current_amount_that_reconciles(
        self, owed: int, interest: int, fees: int, paid: int, credited: int, error: int
    ) -> None:
        """12 CFR 1006.34(c)(2)(ix), (x): off by any non-zero number of cents is refused."""
        current = owed + interest + fees - paid - credited + error
        facts = {
            "itemization_date": date(2026, 1, 2),
            "kind": vn.ItemizationDateKind.LAST_PAYMENT,
            "amount_on_itemization_date": cents(owed),
            "interest": cents(interest),
            "fees": cents(fees),
            "payments": cents(paid),
            "credits": cents(credited),
            "current_amount": cents(current),
        }
        if error:
            with pytest.raises(vn.ItemizationDoesNotReconcile):
                vn.Itemization(**facts)  # type: ignore[arg-type]
        else:
            assert vn.Itemization(**facts).current_amount == cents(current)  # type: ignore[arg-type]


def entry(kind: vn.EntryKind, on: date, amount: str) -> vn.LedgerEntry:
    return vn.LedgerEntry(kind=kind, on=on, amount=usd(amount))


class TestItemizeFromTheLedger:
    LEDGER = (
        entry(vn.EntryKind.PRINCIPAL, date(2026, 1, 1), "1000.00"),
        entry(vn.EntryKind.PAYMENT, date(2026, 1, 10), "100.00"),
        entry(vn.EntryKind.PRINCIPAL, date(2026, 2, 1), "500.00"),
        entry(vn.EntryKind.INTEREST, date(2026, 3, 1), "12.34"),
        entry(vn.EntryKind.FEE, date(2026, 3, 5), "25.00"),
        entry(vn.EntryKind.PAYMENT, date(2026, 3, 20), "50.00"),
        entry(vn.EntryKind.CREDIT, date(2026, 3, 21), "5.00"),
        entry(vn.EntryKind.FEE, date(2026, 6, 1), "25.00"),  # after as_of: not yet
    )

    def test_itemizes_interest_fees_payments_and_credits_since_the_date(self) -> None:
        """12 CFR 1006.34(c)(2)(ix)."""
        items = vn.itemize(
            entries=self.LEDGER,
            itemization_date=date(2026, 2, 1),
            kind=vn.ItemizationDateKind.LAST_STATEMENT,
            as_of=date(2026, 4, 1),
            currency="USD",
        )
        assert items.amount_on_itemization_date == usd("1400.00")
        assert (items.interest, items.fees, items.payments, items.credits) == (
            usd("12.34"),
            usd("25.00"),
            usd("50.00"),
            usd("5.00"),
        )
        assert items.current_amount == usd("1382.34")

    def test_refuses_a_principal_amount_billed_after_the_itemization_date(self) -> None:
        with pytest.raises(vn.InvalidNotice, match="choose a later itemization date"):
            vn.itemize(
                entries=self.LEDGER,
                itemization_date=date(2026, 1, 15),
                kind=vn.ItemizationDateKind.LAST_PAYMENT,
                as_of=date(2026, 4, 1),
                currency="USD",
            )

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(list(vn.EntryKind)),
                st.integers(0, 120),
                st.integers(0, 10**6),
            ),
            max_size=30,
        ),
        st.integers(0, 120),
    )
    def test_the_current_amount_is_what_was_billed_less_what_was_paid(
        self, raw: list[tuple[vn.EntryKind, int, int]], as_of_offset: int
    ) -> None:
        """12 CFR 1006.34(c)(2)(ix), (x): whatever date is chosen, the figures reconcile."""
        start = date(2026, 1, 1)
        entries = [vn.LedgerEntry(kind=k, on=start + d * DAY, amount=cents(c)) for k, d, c in raw]
        as_of = start + as_of_offset * DAY
        principal_days = [
            e.on for e in entries if e.kind is vn.EntryKind.PRINCIPAL and e.on <= as_of
        ]
        itemization_date = max(principal_days, default=start)
        items = vn.itemize(
            entries=entries,
            itemization_date=itemization_date,
            kind=vn.ItemizationDateKind.LAST_STATEMENT,
            as_of=as_of,
            currency="USD",
        )
        billed = sum(
            (
                e.amount.to_minor_units()
                for e in entries
                if e.on <= as_of
                and e.kind in (vn.EntryKind.PRINCIPAL, vn.EntryKind.INTEREST, vn.EntryKind.FEE)
            ),
            0,
        )
        paid = sum(
            (
                e.amount.to_minor_units()
                for e in entries
                if e.on <= as_of and e.kind in (vn.EntryKind.PAYMENT, vn.EntryKind.CREDIT)
            ),
            0,
        )
        assert items.current_amount == cents(billed - paid)


class TestBuild:
    def test_carries_every_fact_of_1006_34_c_2(self) -> None:
        """12 CFR 1006.34(c)(2)(i)-(x): collector, consumer, creditor, account, itemization."""
        notice = build()
        assert notice.collector.name == "Northwind Services LLC"
        assert notice.collector.address == ("PO Box 1234", "Springfield, IL 62701")
        assert notice.consumer == CONSUMER
        assert notice.creditor_on_itemization_date == "Example Bank"
        assert notice.current_creditor == "Example Bank"
        assert notice.itemization is ITEMIZATION
        assert notice.currency == "USD"

    def test_shows_the_account_number_truncated(self) -> None:
        """12 CFR 1006.34(c)(2)(v): the account number or a truncated version of it."""
        assert build().account_number == "****4444"

    def test_keeps_a_short_account_number_whole(self) -> None:
        assert vn.mask_account_number("A-1") == "A-1"

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("collector", dataclasses.replace(COLLECTOR, name=" ")),
            ("collector", dataclasses.replace(COLLECTOR, address=("", " "))),
            ("consumer", dataclasses.replace(CONSUMER, address=())),
            ("creditor_on_itemization_date", ""),
            ("account_number", ""),
        ],
    )
    def test_refuses_a_missing_name_or_address(self, field: str, value: object) -> None:
        """12 CFR 1006.34(c)(2)(ii)-(v)."""
        with pytest.raises(vn.MissingFact):
            build(**{field: value})

    def test_refuses_a_debt_with_nothing_owed(self) -> None:
        paid_off = dataclasses.replace(
            ITEMIZATION, payments=usd("2334.56"), current_amount=usd("0")
        )
        with pytest.raises(vn.NothingOwed):
            build(itemization=paid_off)

    def test_refuses_an_itemization_date_after_mailing(self) -> None:
        with pytest.raises(vn.InvalidNotice, match="itemization date"):
            build(sent_on=date(2025, 12, 31))
