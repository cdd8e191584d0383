"""The per-account reference implementation decides exactly what the engine decides."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from accord.strategy import definition, engine, reference

AS_OF = date(2026, 11, 25)
# 15:00 UTC: convenient in Madrid and New York, not in Tokyo nor in every default US zone.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
UTC_US = pa.timestamp("us", tz="UTC")

# Every kind of segment condition, three paths with different stop conditions, waits and an
# escalation, two experiments (one with a paused arm), and no catch-all segment.
EVERY_CONDITION = Path(__file__).with_name("every_condition.yaml")


CURRENCIES = ("EUR", "USD", "MXN", "JPY", "GBP")
ZONES = ((), ("Europe/Madrid",), ("America/New_York", "America/Chicago"), ("Asia/Tokyo",))
HOURS = ((None, None), ("09:00", "17:00"), ("20:00", "08:00"), ("10:00", "10:00"))
CHANNELS = (None, "", "EMAIL", "SMS", "LETTER", "CALL", "CHAT")
TEMPLATES = ("late_notice", "pre_due_reminder", "promise_request", "call_task", "")
STATUSES = ("PLANNED", "SENDING", "SENT", "FAILED", "BLOCKED", "CANCELLED", "COMPLETED")
REGIONS = ("Greater London", "CMX", "Madrid", "NY", "")


def portfolio(*, seed: int, accounts: int) -> dict[str, pa.Table]:
    """Return a random book with every fact the strategy reads, as the engine's inputs."""
    rng = random.Random(seed)
    customers = max(1, accounts * 4 // 5)
    owners = [rng.randint(1, customers) for _ in range(accounts)]
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for customer_id in range(1, customers + 1):
        start, end = rng.choice(HOURS)
        rows["customers"].append(
            {
                "customer_id": customer_id,
                "language": rng.choice(("en", "es", "de", None)),
                "preferred_channel": rng.choice(CHANNELS),
                "time_zones": list(rng.choice(ZONES)),
                "contact_hours_start": start,
                "contact_hours_end": end,
                "has_address": rng.random() < 0.8,
                "debtor_type": rng.choice(("CONSUMER", "CONSUMER", "BUSINESS")),
                "region": rng.choice(REGIONS),
                "country": rng.choice(("GB", "MX", "ES", "US")),
            }
        )
        for kind, share in (("EMAIL", 0.7), ("PHONE", 0.7)):
            for position in range(rng.choice((0, 1, 1, 2)) if rng.random() < share else 0):
                rows["contact_points"].append(
                    {
                        "customer_id": customer_id,
                        "kind": kind,
                        "value": f"{kind.lower()}-{customer_id}-{rng.randint(0, 9)}{position}",
                        "position": rng.choice((0, position)),
                    }
                )
        for table, share in (
            ("cease_requests", 0.04),
            ("vulnerable_customers", 0.05),
            ("breathing_spaces", 0.03),
        ):
            if rng.random() < share:
                rows[table].append({"customer_id": customer_id})
        if rng.random() < 0.08:
            rows["opt_outs"].append(
                {"customer_id": customer_id, "channel": rng.choice(("EMAIL", "SMS", "CALL"))}
            )
        if rng.random() < 0.03:
            _calls(rows, rng, account_id=None, customer_id=customer_id)
    for account_id, customer_id in enumerate(owners, start=1):
        _account(rows, rng, account_id=account_id, customer_id=customer_id)
    rows["paused_arms"].append({"experiment": "risky-test", "arm": "gentle_first"})
    return {
        name: pa.Table.from_pylist(rows[name], schema=schema) for name, schema in TABLES.items()
    }


def _account(
    rows: dict[str, list[dict[str, Any]]], rng: random.Random, *, account_id: int, customer_id: int
) -> None:
    currency = rng.choice(CURRENCIES)
    rows["accounts"].append(
        {
            "account_id": account_id,
            "customer_id": customer_id,
            "currency": currency,
            "status": rng.choice(("OPEN",) * 9 + ("CLOSED", "CHARGED_OFF", "SETTLED")),
            "product_type": rng.choice(("CREDIT_CARD", "LOAN", "UTILITY", "TELCO", "BNPL")),
        }
    )
    first_due = AS_OF - timedelta(days=rng.choice((-20, 3, 10, 40, 75, 130, 200, 400)))
    amount = rng.choice((1, 990, 5_000, 25_000, 180_000))
    for month in range(rng.randint(0, 7)):
        rows["charges"].append(
            {
                "account_id": account_id,
                "due_date": first_due + timedelta(days=30 * month),
                "amount_minor": amount + rng.randint(0, 500),
            }
        )
    for _ in range(rng.choice((0, 0, 1, 2, 4))):
        rows["payments"].append(
            {
                "account_id": account_id,
                "received_date": AS_OF - timedelta(days=rng.randint(0, 150)),
                "amount_minor": rng.randint(1, 2 * amount),
            }
        )
    for table, share in (("unverified_disputes", 0.03), ("decided", 0.02)):
        if rng.random() < share:
            rows[table].append({"account_id": account_id})
    if rng.random() < 0.06:
        rows["open_disputes"].append({"account_id": account_id})
    if rng.random() < 0.08:
        rows["holds"].append(
            {"account_id": account_id, "hold": rng.choice(("PROMISE_OPEN", "PLAN_ACTIVE"))}
        )
    if rng.random() < 0.25:
        _contacts(rows, rng, account_id=account_id, customer_id=customer_id)
    if rng.random() < 0.12:
        _calls(rows, rng, account_id=account_id, customer_id=customer_id)


def _contacts(
    rows: dict[str, list[dict[str, Any]]], rng: random.Random, *, account_id: int, customer_id: int
) -> None:
    for _ in range(rng.randint(1, 3)):
        at = NOW - timedelta(days=rng.randint(-1, 14), hours=rng.randint(0, 23))
        rows["history"].append(
            {
                "account_id": account_id,
                "customer_id": customer_id,
                "template": rng.choice(TEMPLATES),
                "channel": rng.choice(("EMAIL", "SMS", "LETTER")),
                "status": rng.choice(STATUSES),
                "direction": rng.choice(("OUTBOUND", "OUTBOUND", "INBOUND")),
                "connected": None,
                "planned_at": at,
                "sent_at": at + timedelta(minutes=5) if rng.random() < 0.5 else None,
            }
        )


def _calls(
    rows: dict[str, list[dict[str, Any]]],
    rng: random.Random,
    *,
    account_id: int | None,
    customer_id: int,
) -> None:
    """Add enough recent calls that the seven-in-seven cap may bite."""
    for _ in range(rng.randint(6, 10)):
        at = NOW - timedelta(hours=rng.randint(1, 24 * 5))
        rows["history"].append(
            {
                "account_id": account_id,
                "customer_id": customer_id,
                "template": "call_task",
                "channel": "CALL",
                "status": rng.choice(("COMPLETED", "COMPLETED", "SENT", "SENDING", "FAILED")),
                "direction": "OUTBOUND",
                "connected": rng.choice((None, True, True, False)),
                "planned_at": at,
                "sent_at": None,
            }
        )


ID = pa.int64()
TEXT = pa.string()
TABLES: dict[str, pa.Schema] = {
    "accounts": pa.schema(
        [
            ("account_id", ID),
            ("customer_id", ID),
            ("currency", TEXT),
            ("status", TEXT),
            ("product_type", TEXT),
        ]
    ),
    "charges": pa.schema([("account_id", ID), ("due_date", pa.date32()), ("amount_minor", ID)]),
    "payments": pa.schema(
        [("account_id", ID), ("received_date", pa.date32()), ("amount_minor", ID)]
    ),
    "customers": pa.schema(
        [
            ("customer_id", ID),
            ("language", TEXT),
            ("preferred_channel", TEXT),
            ("time_zones", pa.list_(TEXT)),
            ("contact_hours_start", TEXT),
            ("contact_hours_end", TEXT),
            ("has_address", pa.bool_()),
            ("debtor_type", TEXT),
            ("region", TEXT),
            ("country", TEXT),
        ]
    ),
    "contact_points": pa.schema(
        [("customer_id", ID), ("kind", TEXT), ("value", TEXT), ("position", ID)]
    ),
    "opt_outs": pa.schema([("customer_id", ID), ("channel", TEXT)]),
    "cease_requests": pa.schema([("customer_id", ID)]),
    "unverified_disputes": pa.schema([("account_id", ID)]),
    "open_disputes": pa.schema([("account_id", ID)]),
    "vulnerable_customers": pa.schema([("customer_id", ID)]),
    "breathing_spaces": pa.schema([("customer_id", ID)]),
    "paused_arms": pa.schema([("experiment", TEXT), ("arm", TEXT)]),
    "holds": pa.schema([("account_id", ID), ("hold", TEXT)]),
    "history": pa.schema(
        [
            ("account_id", ID),
            ("customer_id", ID),
            ("template", TEXT),
            ("channel", TEXT),
            ("status", TEXT),
            ("direction", TEXT),
            ("connected", pa.bool_()),
            ("planned_at", UTC_US),
            ("sent_at", UTC_US),
        ]
    ),
    "decided": pa.schema([("account_id", ID)]),
}


def inputs(*, seed: int, accounts: int) -> engine.Inputs:
    return engine.Inputs(**portfolio(seed=seed, accounts=accounts))


def differences(expected: pa.Table, actual: pa.Table, *, key: str = "account_id") -> list[str]:
    """Describe the first rows where two tables with the same columns disagree."""
    assert actual.column_names == expected.column_names
    found = []
    for want, got in zip(expected.to_pylist(), actual.to_pylist(), strict=False):
        wrong = {name: (want[name], got[name]) for name in want if want[name] != got[name]}
        if wrong:
            found.append(f"{key} {want[key]}: (engine, reference) {wrong}")
    if expected.num_rows != actual.num_rows:
        found.append(f"rows: engine {expected.num_rows}, reference {actual.num_rows}")
    return found[:10]


STRATEGIES = {
    "default": definition.load,
    "every_condition": lambda: definition.load(EVERY_CONDITION),
}


class TestReferenceAgreesWithTheEngine:
    @pytest.mark.parametrize(
        ("strategy_name", "seed"), [("default", 1), ("every_condition", 2), ("every_condition", 3)]
    )
    def test_on_a_generated_portfolio_every_decision_and_contact_is_identical(
        self, strategy_name: str, seed: int
    ) -> None:
        book = inputs(seed=seed, accounts=1500)
        strategy = STRATEGIES[strategy_name]()
        outcome = engine.decide(inputs=book, strategy=strategy, as_of=AS_OF, now=NOW)
        mine = reference.decide(inputs=book, strategy=strategy, as_of=AS_OF, now=NOW)
        decisions = outcome.decisions.select(reference.DECISION_SCHEMA.names)
        assert differences(decisions, mine.decisions) == []
        outbox = outcome.outbox.select(reference.OUTBOX_SCHEMA.names)
        assert differences(outbox, mine.outbox) == []
