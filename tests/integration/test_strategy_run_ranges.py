"""A run in account ranges decides and queues exactly what a run of the whole book does."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from accord.domain import compliance
from accord.storage import models
from accord.strategy import backends, definition
from tests.integration.test_strategy_run import (
    NOW,
    TODAY,
    account,
    activate,
    customer,
    days_ago,
    past_call,
    pay,
    plain,
    run,
)

__all__ = ["plain"]  # the autouse fixture that activates the plain strategy

WHOLE_BOOK = 1_000_000
_DECISION_FIELDS = [
    f.attname for f in models.Decision._meta.concrete_fields if f.name not in ("id", "run")
]
_DECISION_FIELDS.remove("created_at")
_CONTACT_FIELDS = [
    f.attname
    for f in models.ContactAttempt._meta.concrete_fields
    if f.name not in ("id", "run", "decision", "created_at", "updated_at")
]


def a_mixed_book(seed: int = 11) -> models.Account:
    """Write 41 accounts of 14 customers, each customer's accounts scattered by id.

    Every circumstance the strategy reads appears: payments recent and old, promises due and
    holding, a plan, disputes, vulnerability, opt-outs, breathing space, a cease request,
    past contacts (about an account and about no account), a contact superseded by this
    run, an account already decided today and one not open. Returns an account due a call
    whose customer has had a week's worth of calls about no particular account (deferred).
    """
    rng = random.Random(seed)
    owners = [
        customer(
            email=None if n % 5 == 0 else f"c{n}@example.com",
            phone=None if n % 7 == 0 else f"+4477009001{n:02d}",
            preferred=models.Channel.SMS if n % 3 == 0 else "",
        )
        for n in range(14)
    ]
    lateness = [None, -2, -5, 1, 3, 12, 29, 31, 45, 75, 95, 120, 200, 400]
    book = []
    for n in range(40):
        dpd = rng.choice(lateness)
        due = None if dpd is None else days_ago(dpd)
        book.append(
            account(
                rng.choice(owners),
                due=due,
                amount_minor=rng.choice([5_000, 10_000, 250_000]),
                status=models.AccountStatus.CLOSED if n == 17 else models.AccountStatus.OPEN,
            )
        )
    for target in rng.sample(book, 8):
        pay(target, rng.choice([1_000, 4_000]), received=days_ago(rng.choice([2, 20, 60, 100])))
    first, second, third = owners[1], owners[2], owners[4]
    first.opt_outs.create(
        channel=models.Channel.EMAIL, opted_out_at=NOW, source="test", recorded_by="test"
    )
    second.cease_requests.create(received_at=NOW, recorded_by="test")
    third.vulnerabilities.create(
        category=models.VulnerabilityCategory.HEALTH,
        consent_to_record=False,
        review_date=TODAY,
        recorded_at=NOW,
        recorded_by="test",
    )
    models.BreathingSpace.objects.create(
        customer=owners[6],
        kind=models.BreathingSpaceKind.STANDARD,
        starts_on=days_ago(3),
        ends_on=None,
        recorded_at=NOW,
        recorded_by="test",
    )
    book[3].disputes.create(reason="not mine", received_at=NOW, recorded_by="test")
    book[9].disputes.create(reason="paid", received_at=NOW, verified_at=NOW, recorded_by="test")
    for target, promised, amount in (
        (book[5], days_ago(2), 1_000),  # due: judged by this run
        (book[6], TODAY + timedelta(days=3), 1_000),  # holds its account
        (book[11], days_ago(1), 999_999),  # due and broken
    ):
        models.Promise.objects.create(
            account=target,
            amount_minor=amount,
            currency="GBP",
            promised_date=promised,
            status=models.PromiseStatus.OPEN,
            source=models.Source.AGENT,
            created_at=NOW - timedelta(days=6),
            created_by="test",
        )
    plan = models.RepaymentPlan.objects.create(
        account=book[20],
        total_minor=2_000,
        currency="GBP",
        instalment_count=1,
        start_date=days_ago(10),
        status=models.PlanStatus.ACTIVE,
        source=models.Source.PORTAL,
        created_at=NOW - timedelta(days=12),
        created_by="test",
    )
    plan.instalments.create(sequence=1, due_date=days_ago(10), amount_minor=2_000)
    # Past contacts: a late notice two days ago (cadence), calls about an account and not.
    for target in book[12:16]:
        models.ContactAttempt.objects.create(
            customer=target.customer,
            account=target,
            channel=models.Channel.EMAIL,
            template="late_notice",
            origin=models.ContactOrigin.AGENT,
            direction=models.ContactDirection.OUTBOUND,
            planned_at=NOW - timedelta(days=2),
            sent_at=NOW - timedelta(days=2),
            status=models.ContactStatus.SENT,
            idempotency_key=f"manual:{target.pk}",
            created_at=NOW,
            updated_at=NOW,
        )
    called_enough = account(owners[8], due=days_ago(120))  # far from the customer's others
    for hours in range(compliance.CALLS_PER_WINDOW):
        past_call(owners[8], about=None, at=NOW - timedelta(hours=3 + hours))
    past_call(owners[9], about=book[30], at=NOW - timedelta(days=1))
    earlier = models.StrategyRun.objects.create(
        as_of_date=days_ago(2),
        strategy_name="default",
        strategy_version="x",
        status=models.RunStatus.COMPLETED,
        started_at=NOW - timedelta(days=2),
        started_by="test",
    )
    for target in (book[7], book[25]):  # superseded by today's run
        models.ContactAttempt.objects.create(
            customer=target.customer,
            account=target,
            channel=models.Channel.EMAIL,
            template="late_notice",
            origin=models.ContactOrigin.STRATEGY,
            direction=models.ContactDirection.OUTBOUND,
            planned_at=NOW - timedelta(days=2),
            status=models.ContactStatus.PLANNED,
            run=earlier,
            idempotency_key=f"strategy:{days_ago(2).isoformat()}:{target.pk}:late_notice:EMAIL",
            created_at=NOW,
            updated_at=NOW,
        )
    models.Decision.objects.create(  # decided earlier today: left alone
        run=earlier,
        account=book[33],
        as_of_date=TODAY,
        days_past_due=0,
        bucket="CURRENT",
        stage="CURRENT",
        arrears_minor=0,
        balance_minor=0,
        currency="GBP",
        treatment=models.Treatment.NONE,
        reason_codes=[],
        strategy_version="default@x",
        created_at=NOW,
    )
    return called_enough


def outcome_of(
    accounts_per_range: int, engine: backends.Engine = backends.Engine.DUCKDB
) -> dict[str, Any]:
    """Run the book in ranges of ``accounts_per_range``; return what it wrote, then undo it."""
    point = transaction.savepoint()
    try:
        made = run(accounts_per_range=accounts_per_range, engine=engine)
        counts = {k: v for k, v in made.counts.items() if k not in ("phases", "chunks")}
        counts["duration_seconds"] = None
        return {
            "run": (made.accounts, made.decisions, made.contacts_planned, made.contacts_blocked),
            "counts": counts,
            "decisions": list(
                models.Decision.objects.order_by("account_id", "as_of_date").values_list(
                    *_DECISION_FIELDS
                )
            ),
            "contacts": [
                tuple(
                    value.replace(f"run {made.pk} ", "run N ") if isinstance(value, str) else value
                    for value in row
                )
                for row in models.ContactAttempt.objects.order_by("idempotency_key").values_list(
                    "decision__account_id", *_CONTACT_FIELDS
                )
            ],
            "promises": list(models.Promise.objects.order_by("pk").values_list("status")),
            "plans": list(models.RepaymentPlan.objects.order_by("pk").values_list("status")),
            "chunks": made.counts["chunks"],
            "deferred": set(
                models.ContactAttempt.objects.exclude(policy_reasons=[]).values_list(
                    "account_id", flat=True
                )
            ),
        }
    finally:
        transaction.savepoint_rollback(point)


@pytest.mark.parametrize("strategy", ["plain", "default"])
def test_ranges_of_odd_sizes_decide_and_queue_exactly_what_one_range_does(
    strategy: str,
) -> None:
    if strategy == "default":  # the built-in strategy, with its 50/50 experiment
        activate(definition.default_source())
    called_enough = a_mixed_book()
    whole = outcome_of(WHOLE_BOOK)
    assert whole["chunks"] == 1
    assert len(whole["decisions"]) == 41
    assert called_enough.pk in whole["deferred"]  # by the calls about no particular account
    assert whole["run"][2] > 0  # contacts were queued
    assert whole["counts"]["contacts"]["superseded"] == 2
    assert whole["counts"]["already_decided"] == 1
    assert whole["promises"] != [("OPEN",)] * 3  # some were settled
    for size in (3, 7, 13):
        ranged = outcome_of(size)
        assert ranged["chunks"] > 1, size
        for key in ("run", "counts", "decisions", "contacts", "promises", "plans", "deferred"):
            assert ranged[key] == whole[key], (size, key)


@pytest.mark.postgres
def test_ranges_decided_inside_postgresql_match_one_range() -> None:
    a_mixed_book()
    whole = outcome_of(WHOLE_BOOK, backends.Engine.POSTGRES)
    ranged = outcome_of(7, backends.Engine.POSTGRES)
    assert ranged["chunks"] > 1
    for key in ("run", "counts", "decisions", "contacts", "promises", "plans", "deferred"):
        assert ranged[key] == whole[key], key
