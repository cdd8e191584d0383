"""The vectorised pre-filter answers exactly as ``compliance.evaluate`` (ADR 0009)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.domain import compliance
from accord.strategy import contact_filter
from tests.unit.domain.compliance import strategies

UTC_US = pa.timestamp("us", tz="UTC")


def candidate_row(
    *,
    consumer: compliance.Consumer,
    debt: compliance.Debt,
    history: list[compliance.HistoryItem],
    attempt: compliance.Attempt,
    now: dt.datetime,
    account_id: int,
) -> dict[str, object]:
    """Turn pure inputs into one candidate row, counting calls with ``call_windows``."""
    zones = list(consumer.time_zones)
    calls = [
        item
        for item in history
        if not item.debt_ids or debt.id in item.debt_ids  # deny when unsure
    ]
    windows = contact_filter.call_windows(
        pa.table(
            {
                "account_id": pa.array([account_id] * len(calls), pa.int64()),
                "time_zones": pa.array([zones] * len(calls), pa.list_(pa.string())),
                "at": pa.array([item.at for item in calls], UTC_US),
                "channel": pa.array([item.channel.value for item in calls], pa.string()),
                "direction": pa.array([item.direction.value for item in calls], pa.string()),
                "connected": pa.array([item.connected for item in calls], pa.bool_()),
            }
        ),
        now=now,
    ).to_pylist()
    counted = windows[0] if windows else {"calls_in_window": 0, "calls_release_at": None}
    refused = consumer.opted_out_channels
    hours = consumer.contact_hours
    return {
        "account_id": account_id,
        "customer_id": 1,
        "channel": attempt.channel.value,
        "time_zones": zones,
        "contact_hours_start": hours[0].isoformat() if hours else None,
        "contact_hours_end": hours[1].isoformat() if hours else None,
        "opted_out": attempt.channel in refused
        or (attempt.channel is compliance.Channel.VOICEMAIL and compliance.Channel.CALL in refused),
        "cease_requested": consumer.cease_requested_at is not None
        and consumer.cease_requested_at <= now,
        "unverified_dispute": compliance.under_unverified_dispute(debt, now),
        "calls_in_window": counted["calls_in_window"],
        "calls_release_at": counted["calls_release_at"],
        "purpose": attempt.purpose.value,
    }


def table(rows: list[dict[str, object]]) -> pa.Table:
    schema = contact_filter.CANDIDATE_SCHEMA.append(pa.field("calls_release_at", UTC_US)).append(
        pa.field("purpose", pa.string())
    )
    return pa.Table.from_pylist(rows, schema=schema)


@st.composite
def batches(draw: st.DrawFn) -> tuple[dt.datetime, list[tuple[object, ...]]]:
    now = draw(strategies.nows)
    cases = draw(
        st.lists(
            st.tuples(
                strategies.consumers(now),
                strategies.debts(now),
                strategies.histories(now),
                strategies.attempts(single_debt=True),
            ),
            min_size=1,
            max_size=6,
        )
    )
    return now, cases


class TestPrefilterAgreesWithEvaluate:
    @settings(max_examples=80, deadline=None)
    @given(batches())
    def test_every_row_matches_evaluate(
        self, batch: tuple[dt.datetime, list[tuple[object, ...]]]
    ) -> None:
        now, cases = batch
        rows, expected = [], []
        for account_id, (consumer, debts, history, attempt) in enumerate(cases):
            assert isinstance(consumer, compliance.Consumer)
            assert isinstance(debts, list)
            assert isinstance(history, list)
            assert isinstance(attempt, compliance.Attempt)
            (debt_id,) = attempt.debt_ids
            debt = next(d for d in debts if d.id == debt_id)
            expected.append(
                compliance.evaluate(
                    consumer=consumer, debts=debts, history=history, attempt=attempt, now=now
                )
            )
            rows.append(
                candidate_row(
                    consumer=consumer,
                    debt=debt,
                    history=history,
                    attempt=attempt,
                    now=now,
                    account_id=account_id,
                )
            )
        result = contact_filter.prefilter(table(rows), now=now).to_pylist()
        for row, decision in zip(result, expected, strict=True):
            assert row["allowed"] == decision.allowed
            assert tuple(row["reason_codes"]) == decision.codes
            assert row["next_allowed_at"] == decision.next_allowed_at
            planned = now if decision.allowed else decision.next_allowed_at
            assert row["planned_at"] == planned


class TestPrefilter:
    NOW = dt.datetime(2026, 2, 6, 21, 0, tzinfo=dt.UTC)  # 15:00 in Chicago

    def row(self, **changes: object) -> dict[str, object]:
        base: dict[str, object] = {
            "account_id": 1,
            "customer_id": 1,
            "channel": "CALL",
            "time_zones": ["America/Chicago"],
            "contact_hours_start": None,
            "contact_hours_end": None,
            "opted_out": False,
            "cease_requested": False,
            "unverified_dispute": False,
            "calls_in_window": 0,
        }
        return {**base, **changes}

    def run(self, *rows: dict[str, object]) -> list[dict[str, object]]:
        candidates = pa.Table.from_pylist(list(rows), schema=contact_filter.CANDIDATE_SCHEMA)
        return contact_filter.prefilter(candidates, now=self.NOW).to_pylist()

    def test_keeps_the_input_columns_and_adds_the_answer(self) -> None:
        candidates = pa.Table.from_pylist([self.row()], schema=contact_filter.CANDIDATE_SCHEMA)
        result = contact_filter.prefilter(candidates, now=self.NOW)
        assert result.schema.names[: len(candidates.schema)] == candidates.schema.names
        assert result.schema.field("reason_codes").type == pa.list_(pa.string())
        assert result.schema.field("next_allowed_at").type == UTC_US
        assert result.schema.field("planned_at").type == UTC_US
        assert result.to_pylist()[0]["planned_at"] == self.NOW

    def test_a_capped_row_without_a_release_has_no_known_end(self) -> None:
        (row,) = self.run(self.row(calls_in_window=7))
        assert row["reason_codes"] == ["REG_F_CALL_FREQUENCY_7_IN_7"]
        assert row["planned_at"] is None

    def test_unknown_facts_are_read_protectively(self) -> None:
        (row,) = self.run(
            self.row(opted_out=None, cease_requested=None, unverified_dispute=None, time_zones=None)
        )
        assert row["reason_codes"] == [
            "REG_F_REFUSED_MEDIUM",
            "REG_F_CEASE_COMMUNICATION",
            "REG_F_DISPUTE_PAUSE",
        ]

    def test_an_opted_out_text_cites_the_electronic_opt_out(self) -> None:
        (row,) = self.run(self.row(channel="SMS", opted_out=True))
        assert row["reason_codes"] == ["REG_F_ELECTRONIC_OPT_OUT"]

    def test_rows_keep_their_order(self) -> None:
        rows = [
            self.row(account_id=n, time_zones=[z])
            for n, z in enumerate(
                ["Asia/Kolkata", "America/Chicago", "Asia/Kolkata", "America/New_York"]
            )
        ]
        result = self.run(*rows)
        assert [r["account_id"] for r in result] == [0, 1, 2, 3]
        assert [r["allowed"] for r in result] == [False, True, False, True]

    def test_an_empty_frame_gives_an_empty_answer(self) -> None:
        assert self.run() == []

    def test_a_naive_now_is_rejected(self) -> None:
        candidates = pa.Table.from_pylist([self.row()], schema=contact_filter.CANDIDATE_SCHEMA)
        with pytest.raises(compliance.NaiveDatetimeError):
            contact_filter.prefilter(candidates, now=dt.datetime(2026, 2, 6, 12))

    def test_missing_columns_are_named(self) -> None:
        with pytest.raises(ValueError, match="calls_in_window"):
            contact_filter.prefilter(pa.table({"account_id": [1]}), now=self.NOW)
