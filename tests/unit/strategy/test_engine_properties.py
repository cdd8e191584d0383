"""The engine's scores, segments, arms and steps agree with a plain per-account evaluation."""

from __future__ import annotations

import decimal
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.domain import money
from accord.strategy import definition, delinquency, engine
from tests.unit.strategy.engine_book import AS_OF, Book, by_account, decide

# Every kind of segment condition, three paths, two experiments, no catch-all.
STRATEGY = definition.load(Path(__file__).with_name("every_condition.yaml"))
PAUSED = ("risky-test", "gentle_first")
MARKS = ("vulnerable", "breathing_space", "cease", "dispute", "promise", "plan")


@st.composite
def accounts(draw: st.DrawFn) -> dict[str, Any]:
    late = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=400)))
    return {
        "days_late": late,
        "due_in": draw(st.one_of(st.none(), st.integers(min_value=0, max_value=8))),
        "amount": draw(st.integers(min_value=1, max_value=300_000)),
        "currency": draw(st.sampled_from(["EUR", "USD", "JPY", "MXN", "BHD"])),
        "product": draw(st.sampled_from(["LOAN", "CREDIT_CARD", "BNPL"])),
        "status": draw(st.sampled_from(["OPEN", "OPEN", "OPEN", "CLOSED"])),
        "paid": tuple(
            draw(st.lists(st.tuples(st.integers(0, 120), st.integers(1, 200_000)), max_size=3))
        ),
        "email": draw(st.booleans()),
        "phone": draw(st.booleans()),
        "address": draw(st.booleans()),
        "preferred": draw(st.sampled_from(["", "SMS", "EMAIL"])),
        "language": draw(st.sampled_from(["en", "es"])),
        "debtor_type": draw(st.sampled_from(["CONSUMER", "BUSINESS"])),
        "region": draw(st.sampled_from(["", "Greater London"])),
        "country": draw(st.sampled_from(["GB", "MX"])),
        "marks": tuple(draw(st.lists(st.sampled_from(MARKS), max_size=2, unique=True))),
    }


STOP_CODES = {c.value for c in definition.StopCondition}
STOP_MARKS = {
    definition.StopCondition.PROMISE_OPEN: "promise",
    definition.StopCondition.PLAN_ACTIVE: "plan",
    definition.StopCondition.DISPUTE_OPEN: "dispute",
    definition.StopCondition.BREATHING_SPACE: "breathing_space",
    definition.StopCondition.CEASE_REQUESTED: "cease",
    definition.StopCondition.VULNERABLE: "vulnerable",
}


def stopped(condition: definition.StopCondition, facts: dict[str, Any]) -> bool:
    if condition is definition.StopCondition.PAYMENT_RECEIVED:
        return any(days_ago < STRATEGY.recent_payment_days for days_ago, _ in facts["paid"])
    return STOP_MARKS[condition] in facts["marks"]


def window_paid(facts: dict[str, Any]) -> int:
    return sum(amount for days_ago, amount in facts["paid"] if days_ago < 90)


def risk(row: dict[str, Any], paid: int) -> int:
    d, a, b = row["days_past_due"], row["arrears_minor"], row["balance_minor"]
    score = (40 * min(d, 180)) // 180
    score += (30 * (a - min(paid, a))) // a if a > 0 else 0
    score += (30 * min(max(a, 0), b)) // b if b > 0 else 0
    return score


def collectability(row: dict[str, Any], paid: int, facts: dict[str, Any]) -> int:
    d, a = row["days_past_due"], row["arrears_minor"]
    score = (50 * min(paid, a)) // a if a > 0 else 50
    score += 10 * (facts["email"] + facts["phone"] + facts["address"])
    return score + (20 * (365 - min(d, 365))) // 365


def holds(name: str, value: Any, row: dict[str, Any], facts: dict[str, Any]) -> bool:
    """Evaluate one condition the plain way: Money in major units, sets, ranges."""
    major = {
        column: money.Money.from_minor_units(row[f"{column}_minor"], row["currency"]).amount
        for column in ("balance", "arrears")
    }
    plain: dict[str, Any] = {
        "stages": row["stage"],
        "buckets": row["bucket"],
        "products": facts["product"],
        "debtor_types": facts["debtor_type"],
        "currencies": row["currency"],
        "languages": facts["language"],
        "regions": facts["region"],
        "countries": facts["country"],
        "preferred_channels": facts["preferred"] or definition.NO_PREFERENCE,
        "vulnerable": "vulnerable" in facts["marks"],
        "dispute_open": "dispute" in facts["marks"],
        "cease_requested": "cease" in facts["marks"],
        "breathing_space": "breathing_space" in facts["marks"],
    }
    if name in ("dpd", "risk", "collectability"):
        column = {"dpd": "days_past_due", "risk": "risk_score"}.get(name, f"{name}_score")
        return bool(value.contains(row[column]))
    if name in ("balance", "arrears"):
        return bool(value.contains(decimal.Decimal(major[name])))
    if isinstance(value, bool):
        return bool(plain[name] == value)
    return plain[name] in value


class TestAgainstAPlainEvaluation:
    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(accounts(), min_size=1, max_size=25))
    def test_scores_segment_arm_path_and_step_match_per_account(
        self, book_facts: list[dict[str, Any]]
    ) -> None:
        book = Book()
        book.paused.append(PAUSED)
        for account_id, facts in enumerate(book_facts, start=1):
            book.account(account_id, **facts)
        rows = by_account(decide(book, STRATEGY))
        inputs = book.inputs()
        states = delinquency.compute_states(
            accounts=inputs.accounts,
            charges=inputs.charges,
            payments=inputs.payments,
            as_of=AS_OF,
        )
        until = dict(
            zip(
                states["account_id"].to_pylist(),
                states["days_until_next_due"].to_pylist(),
                strict=True,
            )
        )
        for account_id, facts in enumerate(book_facts, start=1):
            row = rows[account_id]
            paid = window_paid(facts)
            assert row["risk_score"] == risk(row, paid)
            assert row["collectability_score"] == collectability(row, paid, facts)
            segment = next(
                (
                    s
                    for s in STRATEGY.segments
                    if all(holds(n, v, row, facts) for n, v in s.when.given.items())
                ),
                None,
            )
            assert row["segment"] == (segment.name if segment else "")
            if segment is None:
                assert (row["path"], row["treatment"]) == ("", "NONE")
                continue
            path = segment.path
            if segment.experiment is not None:
                arm = segment.experiment.arm_for(
                    definition.arm_bucket(account_id, segment.experiment.name)
                )
                assert (row["experiment"], row["arm"]) == (segment.experiment.name, arm.name)
                paused = (segment.experiment.name, arm.name) == PAUSED
                path = segment.path if paused else arm.path
                assert ("ARM_PAUSED" in row["reason_codes"]) == paused
            assert row["path"] == path
            step = STRATEGY.paths[path].step_for(
                days_past_due=row["days_past_due"],
                days_until_next_due=until[account_id],
            )
            open_ = facts["status"] == "OPEN"
            stops = [c.value for c in STRATEGY.paths[path].stop_when if open_ and stopped(c, facts)]
            codes = [c for c in row["reason_codes"] if c in STOP_CODES]
            assert codes == stops
            expected = step.treatment.value if open_ and not stops and step else "NONE"
            assert row["treatment"] == expected


class TestArmBucket:
    @settings(max_examples=10, deadline=None)
    @given(
        st.lists(st.integers(min_value=1, max_value=2**53), min_size=1, max_size=200),
        st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True),
    )
    def test_the_engines_expression_is_pythons_arm_bucket(
        self, account_ids: list[int], experiment: str
    ) -> None:
        table = ibis.memtable(pa.table({"account_id": pa.array(account_ids, pa.int64())}))
        expression = table.select(
            "account_id", bucket=engine.arm_bucket_expression(table.account_id, experiment)
        )
        result = ibis.duckdb.connect().to_pyarrow(expression).to_pylist()
        assert [row["bucket"] for row in result] == [
            definition.arm_bucket(account_id, experiment) for account_id in account_ids
        ]
