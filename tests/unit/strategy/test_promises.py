"""Promises whose date has passed are judged kept or broken from the payments in their window."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa

from accord.strategy import promises


def judge(paid: list[tuple[date, int]], *, made_at: datetime, time_zone: str = "UTC") -> str:
    promise = pa.table(
        {
            "promise_id": [1],
            "account_id": [10],
            "amount_minor": [5_000],
            "created_at": pa.array([made_at], pa.timestamp("us", tz="UTC")),
            "promised_date": pa.array([date(2026, 11, 20)], pa.date32()),
        }
    )
    payments = pa.table(
        {
            "account_id": [10] * len(paid),
            "received_date": pa.array([day for day, _ in paid], pa.date32()),
            "amount_minor": pa.array([amount for _, amount in paid], pa.int64()),
        }
    )
    [row] = promises.evaluate(promises=promise, payments=payments, time_zone=time_zone).to_pylist()
    return str(row["status"])


MADE = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


class TestPromiseEvaluation:
    def test_payments_from_the_day_made_through_the_promised_date_keep_it(self) -> None:
        assert (
            judge([(date(2026, 11, 10), 2_000), (date(2026, 11, 20), 3_000)], made_at=MADE)
            == "KEPT"
        )

    def test_a_shortfall_breaks_it(self) -> None:
        assert judge([(date(2026, 11, 15), 4_999)], made_at=MADE) == "BROKEN"

    def test_payments_outside_the_window_do_not_count(self) -> None:
        outside = [(date(2026, 11, 9), 5_000), (date(2026, 11, 21), 5_000)]
        assert judge(outside, made_at=MADE) == "BROKEN"

    def test_no_payment_at_all_breaks_it(self) -> None:
        assert judge([], made_at=MADE) == "BROKEN"

    def test_the_day_made_is_the_operators_local_day(self) -> None:
        # 02:00 UTC on the 10th is still the 9th in New York, so a payment on the 9th counts.
        late_evening = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
        paid = [(date(2026, 11, 9), 5_000)]
        assert judge(paid, made_at=late_evening, time_zone="America/New_York") == "KEPT"
        assert judge(paid, made_at=late_evening, time_zone="UTC") == "BROKEN"

    def test_nothing_to_judge_gives_an_empty_table(self) -> None:
        empty = promises.evaluate(
            promises=promises.PROMISES_SCHEMA.empty_table(),
            payments=pa.table({"account_id": [], "received_date": [], "amount_minor": []}),
            time_zone="UTC",
        )
        assert empty.num_rows == 0
