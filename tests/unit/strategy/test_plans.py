"""Active repayment plans are judged by the payments since they were agreed, with a grace."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from accord.strategy import plans

AS_OF = date(2026, 11, 25)
AGREED = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
# Two instalments of 50.00: one on 1 November, one on 1 December.
SCHEDULE = [(date(2026, 11, 1), 5_000), (date(2026, 12, 1), 5_000)]


def judge(
    paid: list[tuple[date, int]],
    *,
    schedule: list[tuple[date, int]] = SCHEDULE,
    as_of: date = AS_OF,
    grace_days: int = 5,
    agreed: datetime = AGREED,
    time_zone: str = "UTC",
) -> dict[str, object]:
    plan = pa.table(
        {
            "plan_id": [7],
            "account_id": [10],
            "created_at": pa.array([agreed], pa.timestamp("us", tz="UTC")),
        }
    )
    instalments = pa.table(
        {
            "plan_id": [7] * len(schedule),
            "due_date": pa.array([day for day, _ in schedule], pa.date32()),
            "amount_minor": pa.array([amount for _, amount in schedule], pa.int64()),
        }
    )
    payments = pa.table(
        {
            "account_id": pa.array([10] * len(paid), pa.int64()),
            "received_date": pa.array([day for day, _ in paid], pa.date32()),
            "amount_minor": pa.array([amount for _, amount in paid], pa.int64()),
        }
    )
    [row] = plans.evaluate(
        plans=plan,
        instalments=instalments,
        payments=payments,
        as_of=as_of,
        grace_days=grace_days,
        time_zone=time_zone,
    ).to_pylist()
    return row


class TestPlanEvaluation:
    def test_a_plan_paid_up_to_date_stays_active(self) -> None:
        row = judge([(date(2026, 10, 30), 5_000)])
        assert (row["status"], row["due_minor"], row["paid_minor"]) == ("ACTIVE", 5_000, 5_000)
        assert row["scheduled_minor"] == 10_000

    def test_a_shortfall_on_an_instalment_past_its_grace_breaks_it(self) -> None:
        row = judge([(date(2026, 11, 1), 4_999)])
        assert (row["status"], row["due_minor"], row["paid_minor"]) == ("BROKEN", 5_000, 4_999)

    def test_an_unpaid_instalment_breaks_the_plan_the_day_after_its_grace_ends(self) -> None:
        due = date(2026, 11, 1)
        assert judge([], as_of=due + timedelta(days=5))["status"] == "ACTIVE"
        assert judge([], as_of=due + timedelta(days=6))["status"] == "BROKEN"
        assert judge([], as_of=due + timedelta(days=1), grace_days=0)["status"] == "BROKEN"
        assert judge([], as_of=due, grace_days=0)["status"] == "ACTIVE"

    def test_paying_everything_early_completes_it(self) -> None:
        row = judge([(date(2026, 10, 2), 6_000), (date(2026, 11, 20), 4_000)])
        assert (row["status"], row["paid_minor"]) == ("COMPLETED", 10_000)

    def test_payments_before_it_was_agreed_or_after_the_as_of_date_do_not_count(self) -> None:
        outside = [(date(2026, 9, 30), 10_000), (date(2026, 11, 26), 10_000)]
        assert judge(outside)["status"] == "BROKEN"

    def test_the_day_it_was_agreed_is_the_operators_local_day(self) -> None:
        # 02:00 UTC on 1 October is still 30 September in New York.
        early = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
        paid = [(date(2026, 9, 30), 5_000)]
        assert judge(paid, agreed=early, time_zone="America/New_York")["status"] == "ACTIVE"
        assert judge(paid, agreed=early, time_zone="UTC")["status"] == "BROKEN"

    def test_payments_on_another_account_do_not_count(self) -> None:
        plan = pa.table(
            {
                "plan_id": [1, 2],
                "account_id": [10, 20],
                "created_at": pa.array([AGREED, AGREED], pa.timestamp("us", tz="UTC")),
            }
        )
        instalments = pa.table(
            {
                "plan_id": [1, 2],
                "due_date": pa.array([date(2026, 11, 1)] * 2, pa.date32()),
                "amount_minor": [5_000, 5_000],
            }
        )
        payments = pa.table(
            {
                "account_id": [20],
                "received_date": pa.array([date(2026, 11, 1)], pa.date32()),
                "amount_minor": [5_000],
            }
        )
        judged = plans.evaluate(
            plans=plan,
            instalments=instalments,
            payments=payments,
            as_of=AS_OF,
            grace_days=5,
            time_zone="UTC",
        )
        assert judged.select(["plan_id", "status"]).to_pylist() == [
            {"plan_id": 1, "status": "BROKEN"},
            {"plan_id": 2, "status": "COMPLETED"},
        ]

    def test_nothing_to_judge_gives_an_empty_table(self) -> None:
        empty = plans.evaluate(
            plans=plans.PLANS_SCHEMA.empty_table(),
            instalments=plans.INSTALMENTS_SCHEMA.empty_table(),
            payments=pa.table({"account_id": [], "received_date": [], "amount_minor": []}),
            as_of=AS_OF,
            grace_days=5,
            time_zone="UTC",
        )
        assert empty.schema == plans.RESULT_SCHEMA
        assert empty.num_rows == 0
