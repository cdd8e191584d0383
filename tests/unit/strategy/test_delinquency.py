"""The set-based Ibis computation agrees with the domain's arrears rules, account by account."""

from __future__ import annotations

import dataclasses
import datetime

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.domain import arrears, money
from accord.strategy import delinquency

date = datetime.date
AS_OF = date(2026, 3, 31)
# Around the as-of date, so that charges fall due before, on and after it (and the same day).
dates = st.dates(min_value=date(2025, 9, 1), max_value=date(2026, 5, 31))
near = st.sampled_from(
    [AS_OF - datetime.timedelta(days=1), AS_OF, AS_OF + datetime.timedelta(days=3)]
)
cents = st.integers(min_value=0, max_value=30_000)


@dataclasses.dataclass(frozen=True)
class Book:
    charges: dict[int, list[arrears.Charge]]
    payments: dict[int, list[arrears.Payment]]


@st.composite
def books(draw: st.DrawFn) -> Book:
    charges: dict[int, list[arrears.Charge]] = {}
    payments: dict[int, list[arrears.Payment]] = {}
    for account_id in range(1, draw(st.integers(min_value=1, max_value=6)) + 1):
        shared_due = draw(dates)
        charges[account_id] = [
            arrears.Charge(
                reference=f"A{account_id}C{index}",
                # Some charges share a due date, some sit right at the as-of date.
                due_date=draw(st.one_of(dates, near, st.just(shared_due))),
                amount=money.Money.from_minor_units(draw(cents), "USD"),
            )
            for index in range(draw(st.integers(min_value=0, max_value=6)))
        ]
        payments[account_id] = [
            arrears.Payment(
                reference=f"A{account_id}P{index}",
                received_date=draw(st.one_of(dates, near)),
                amount=money.Money.from_minor_units(draw(st.integers(0, 60_000)), "USD"),
            )
            for index in range(draw(st.integers(min_value=0, max_value=4)))
        ]
    return Book(charges=charges, payments=payments)


def tables(book: Book) -> dict[str, pa.Table]:
    return {
        "accounts": pa.table(
            {
                "account_id": list(book.charges),
                "customer_id": list(book.charges),
                "currency": ["USD"] * len(book.charges),
                "status": ["OPEN"] * len(book.charges),
            }
        ),
        "charges": pa.table(
            {
                "account_id": [a for a, cs in book.charges.items() for _ in cs],
                "due_date": pa.array(
                    [c.due_date for cs in book.charges.values() for c in cs], pa.date32()
                ),
                "amount_minor": [
                    c.amount.to_minor_units() for cs in book.charges.values() for c in cs
                ],
            }
        ),
        "payments": pa.table(
            {
                "account_id": [a for a, ps in book.payments.items() for _ in ps],
                "received_date": pa.array(
                    [p.received_date for ps in book.payments.values() for p in ps], pa.date32()
                ),
                "amount_minor": [
                    p.amount.to_minor_units() for ps in book.payments.values() for p in ps
                ],
            }
        ),
    }


def expected(book: Book, account_id: int, as_of: date) -> dict[str, object]:
    charges, payments = book.charges[account_id], book.payments[account_id]
    dpd = arrears.days_past_due(charges=charges, payments=payments, as_of=as_of)
    until = arrears.days_until_next_due(charges=charges, payments=payments, as_of=as_of)
    return {
        "account_id": account_id,
        "days_past_due": dpd,
        "days_until_next_due": until,
        "arrears_minor": arrears.arrears(
            charges=charges, payments=payments, as_of=as_of, currency="USD"
        ).to_minor_units(),
        "balance_minor": arrears.balance(
            charges=charges, payments=payments, as_of=as_of, currency="USD"
        ).to_minor_units(),
        "bucket": arrears.DEFAULT_BUCKETS.classify(dpd).code,
        "stage": arrears.delinquency_stage(days_past_due=dpd, days_until_next_due=until).value,
    }


class TestAccountStates:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(book=books(), as_of=st.one_of(st.just(AS_OF), dates))
    def test_agree_with_the_domain_rules_for_random_portfolios(
        self, book: Book, as_of: date
    ) -> None:
        result = delinquency.compute_states(**tables(book), as_of=as_of)
        columns = [
            "account_id",
            "days_past_due",
            "days_until_next_due",
            "arrears_minor",
            "balance_minor",
            "bucket",
            "stage",
        ]
        assert result.select(columns).to_pylist() == [
            expected(book, account_id, as_of) for account_id in sorted(book.charges)
        ]

    def test_give_an_account_without_charges_its_credit_as_a_negative_balance(self) -> None:
        book = Book(
            charges={7: []},
            payments={7: [arrears.Payment("P", AS_OF, money.Money.from_minor_units(500, "USD"))]},
        )
        [row] = delinquency.compute_states(**tables(book), as_of=AS_OF).to_pylist()
        assert row["balance_minor"] == -500
        assert (row["days_past_due"], row["stage"], row["bucket"]) == (0, "CURRENT", "CURRENT")

    def test_ignore_payments_received_after_the_as_of_date(self) -> None:
        due = AS_OF - datetime.timedelta(days=40)
        book = Book(
            charges={1: [arrears.Charge("C", due, money.Money.from_minor_units(1000, "USD"))]},
            payments={
                1: [
                    arrears.Payment(
                        "P",
                        AS_OF + datetime.timedelta(days=1),
                        money.Money.from_minor_units(1000, "USD"),
                    )
                ]
            },
        )
        [row] = delinquency.compute_states(**tables(book), as_of=AS_OF).to_pylist()
        assert (row["days_past_due"], row["arrears_minor"], row["stage"]) == (40, 1000, "MID")
        assert row["bucket"] == "DPD_31_60"
