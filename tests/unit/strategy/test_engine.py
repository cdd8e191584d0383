"""The engine turns Arrow frames into decisions and outbox rows, with no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from accord.domain import compliance
from accord.strategy import contact_filter, definition, engine

AS_OF = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def inputs(*, history: pa.Table | None = None, days_late: int = 12) -> engine.Inputs:
    """Two open accounts ``days_late`` (customers 1 and 2) and a closed one (customer 3)."""
    return engine.Inputs(
        accounts=pa.table(
            {
                "account_id": [1, 2, 3],
                "customer_id": [1, 2, 3],
                "currency": ["EUR"] * 3,
                "status": ["OPEN", "OPEN", "CLOSED"],
            }
        ),
        charges=pa.table(
            {
                "account_id": [1, 2, 3],
                "reference": ["C1", "C2", "C3"],
                "due_date": pa.array([AS_OF - timedelta(days=days_late)] * 3, pa.date32()),
                "amount_minor": [1_000, 1_000, 1_000],
            }
        ),
        payments=engine_empty(["account_id", "received_date", "amount_minor"]),
        customers=pa.table(
            {
                "customer_id": [1, 2, 3],
                "language": ["en", "es", "en"],
                "preferred_channel": [None, "SMS", None],
                "time_zones": [["Europe/Madrid"]] * 3,
                "contact_hours_start": pa.array([None] * 3, pa.string()),
                "contact_hours_end": pa.array([None] * 3, pa.string()),
                "has_address": [True, True, True],
            }
        ),
        contact_points=pa.table(
            {
                "customer_id": [1, 1, 2, 2],
                "kind": ["EMAIL", "EMAIL", "EMAIL", "PHONE"],
                "value": ["second@example.com", "first@example.com", "b@example.com", "+34600"],
                "position": [1, 0, 0, 0],
            }
        ),
        opt_outs=engine.OPT_OUTS_SCHEMA.empty_table(),
        cease_requests=engine.CEASE_SCHEMA.empty_table(),
        unverified_disputes=engine.DISPUTES_SCHEMA.empty_table(),
        holds=engine.HOLDS_SCHEMA.empty_table(),
        history=history if history is not None else engine.HISTORY_SCHEMA.empty_table(),
        decided=engine.DECIDED_SCHEMA.empty_table(),
    )


def engine_empty(names: list[str]) -> pa.Table:
    types = {"account_id": pa.int64(), "received_date": pa.date32(), "amount_minor": pa.int64()}
    return pa.schema([(name, types[name]) for name in names]).empty_table()


def allow_all(candidates: pa.Table, *, now: datetime) -> pa.Table:
    rows = candidates.num_rows
    return (
        candidates.append_column("allowed", pa.array([True] * rows))
        .append_column("reason_codes", pa.array([[]] * rows, pa.list_(pa.string())))
        .append_column("next_allowed_at", pa.array([None] * rows, pa.timestamp("us", tz="UTC")))
        .append_column("planned_at", pa.array([now] * rows, pa.timestamp("us", tz="UTC")))
    )


def block_customer_two(candidates: pa.Table, *, now: datetime) -> pa.Table:
    answered = allow_all(candidates, now=now)
    blocked = pc.equal(candidates["customer_id"], 2).to_pylist()
    replacements = {
        "allowed": pa.array([not b for b in blocked]),
        "reason_codes": pa.array(
            [["REG_F_CEASE_COMMUNICATION"] if b else [] for b in blocked], pa.list_(pa.string())
        ),
        "planned_at": pa.array([None if b else now for b in blocked], pa.timestamp("us", tz="UTC")),
    }
    for name, values in replacements.items():
        answered = answered.set_column(answered.schema.get_field_index(name), name, values)
    return answered


def decide(prefilter: engine.Prefilter, **options: Any) -> engine.Outcome:
    return engine.decide(
        inputs=inputs(**options),
        strategy=definition.load(),
        as_of=AS_OF,
        now=NOW,
        prefilter=prefilter,
    )


class TestDecide:
    def test_queue_late_notices_on_each_customers_channel(self) -> None:
        outcome = decide(allow_all)
        rows = outcome.decisions.to_pylist()
        assert [(r["treatment"], r["channel"]) for r in rows] == [
            ("LATE_NOTICE", "EMAIL"),
            ("LATE_NOTICE", "SMS"),
            ("NONE", None),
        ]
        assert rows[2]["reason_codes"] == ["STAGE_EARLY", "DPD_12", "ACCOUNT_CLOSED"]
        outbox = outcome.outbox.to_pylist()
        assert [(o["destination"], o["language"]) for o in outbox] == [
            ("first@example.com", "en"),
            ("+34600", "es"),
        ]
        assert outbox[0]["idempotency_key"] == "strategy:2026-11-25:1:late_notice:EMAIL"
        assert outcome.counts["treatment"] == {"LATE_NOTICE": 2, "NONE": 1}

    def test_a_blocked_contact_is_not_queued_and_its_reasons_go_on_the_decision(self) -> None:
        outcome = decide(block_customer_two)
        assert outcome.contacts_blocked == 1
        assert outcome.outbox["account_id"].to_pylist() == [1]
        assert outcome.decisions.to_pylist()[1]["reason_codes"] == [
            "STAGE_EARLY",
            "DPD_12",
            "REG_F_CEASE_COMMUNICATION",
            "POLICY_BLOCKED",
        ]

    def test_a_recent_contact_with_the_same_template_makes_the_account_wait(self) -> None:
        history = pa.table(
            {
                "account_id": [1],
                "customer_id": [1],
                "template": ["late_notice"],
                "channel": ["EMAIL"],
                "status": ["SENT"],
                "direction": ["OUTBOUND"],
                "connected": pa.array([None], pa.bool_()),
                "planned_at": pa.array([NOW - timedelta(days=6)], pa.timestamp("us", tz="UTC")),
                "sent_at": pa.array([NOW - timedelta(days=6)], pa.timestamp("us", tz="UTC")),
            }
        )
        outcome = decide(allow_all, history=history)
        assert outcome.outbox["account_id"].to_pylist() == [2]
        assert "CADENCE_WAIT" in outcome.decisions.to_pylist()[0]["reason_codes"]

    def test_calls_about_no_account_count_against_each_account_of_the_customer(self) -> None:
        calls = compliance.CALLS_PER_WINDOW
        at = [NOW - timedelta(hours=hours) for hours in range(1, calls + 1)]
        history = pa.table(
            {
                "account_id": pa.array([None] * calls, pa.int64()),
                "customer_id": [2] * calls,
                "template": [""] * calls,
                "channel": ["CALL"] * calls,
                "status": ["COMPLETED"] * (calls - 1) + ["SENDING"],
                "direction": ["OUTBOUND"] * calls,
                "connected": pa.array([None] * calls, pa.bool_()),
                "planned_at": pa.array(at, pa.timestamp("us", tz="UTC")),
                "sent_at": pa.array([None] * calls, pa.timestamp("us", tz="UTC")),
            }
        )
        outcome = decide(contact_filter.prefilter, history=history, days_late=120)
        [call_task] = outcome.outbox.to_pylist()
        assert (call_task["account_id"], call_task["channel"]) == (2, "CALL")
        assert call_task["policy_reasons"] == ["REG_F_CALL_FREQUENCY_7_IN_7"]
        assert call_task["planned_at"] > NOW
        uncapped = decide(contact_filter.prefilter, days_late=120).outbox.to_pylist()
        assert [row["planned_at"] for row in uncapped] == [NOW]


class TestHolds:
    def test_label_accounts_held_by_a_promise_or_a_plan(self) -> None:
        held = engine.holds(
            promise_accounts=pa.array([3, 1], pa.int64()),
            plan_accounts=pa.chunked_array([[2]], pa.int64()),
        )
        assert held.schema == engine.HOLDS_SCHEMA
        assert held.to_pylist() == [
            {"account_id": 3, "hold": "PROMISE_OPEN"},
            {"account_id": 1, "hold": "PROMISE_OPEN"},
            {"account_id": 2, "hold": "PLAN_ACTIVE"},
        ]
