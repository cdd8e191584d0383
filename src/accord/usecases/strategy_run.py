"""Run the daily strategy: decide every account's treatment and queue the contacts it allows.

A run is a record (:class:`~accord.storage.models.StrategyRun`). It is never back-dated and
never runs twice at once: the RUNNING row is created first in its own short transaction,
where the database's partial unique index refuses a second one. The work itself is
set-based (ADR 0008): the book is extracted to Arrow, the strategy engine computes every
decision with Ibis on DuckDB, and decisions plus outbox rows are loaded in bulk in one
transaction. Running the same as-of date again decides only accounts not yet decided that
day, so it never duplicates a decision or a contact. The same run settles promises whose
date has passed and active repayment plans (kept, broken or completed), one audit event
each, and releases the hold of a plan that broke.

Exceptions::

    RunRefused(reason)            nothing was started
    ├── RunAlreadyInProgress      another run is RUNNING (and not stale)
    ├── RunBackdated              a COMPLETED run has a later as-of date
    ├── RunFutureDated            the as-of date is after today (the operator's time zone)
    └── StrategyNotValid          the strategy file cannot be used
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accord.audit import events, log
from accord.domain import money
from accord.storage import extract, models, queue_rank
from accord.strategy import definition, engine, plans, promises
from accord.usecases import outbox

logger = logging.getLogger(__name__)

# A RUNNING row older than this was left by a process that died; the next run fails it.
STALE_RUN_AFTER = datetime.timedelta(hours=2)

Progress = Callable[[str, int, int], None]
Clock = Callable[[], datetime.datetime]


class RunRefused(Exception):
    """A strategy run was refused before it started; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RunAlreadyInProgress(RunRefused):
    """Another strategy run is in progress."""


class RunBackdated(RunRefused):
    """The as-of date is earlier than that of the latest completed run."""


class RunFutureDated(RunRefused):
    """The as-of date is later than today in the operator's time zone."""


class StrategyNotValid(RunRefused):
    """The strategy file is missing or breaks a rule."""


def start_run(
    *,
    as_of: datetime.date | None,
    actor: str,
    now: datetime.datetime,
    strategy_path: Path | None = None,
    progress: Progress | None = None,
    prefilter: engine.Prefilter | None = None,
    stale_after: datetime.timedelta = STALE_RUN_AFTER,
    clock: Clock | None = None,
) -> models.StrategyRun:
    """Decide every account's treatment as of ``as_of`` (default: ``now``'s local date).

    ``now`` is when the run starts; ``clock`` (the entrypoint passes
    ``django.utils.timezone.now``) says when it finished, for ``finished_at`` and its
    duration; without one the run is recorded as finishing at ``now``.

    Returns the COMPLETED run. Raises :class:`RunFutureDated`, :class:`RunAlreadyInProgress`,
    :class:`RunBackdated` and :class:`StrategyNotValid` before anything is written; any
    error after the run started marks it FAILED (audited) and is raised again.
    """
    report = progress or (lambda stage, done, total: None)
    finished = clock or (lambda: now)
    today = timezone.localdate(now)
    day = as_of or today
    if day > today:
        raise RunFutureDated(
            f"as-of date {day.isoformat()} is after today ({today.isoformat()}); "
            "a run decides on what is known now, so it cannot be dated in the future"
        )
    try:
        strategy = definition.load(strategy_path)
    except definition.InvalidStrategy as error:
        raise StrategyNotValid(str(error)) from None
    run = _begin(as_of=day, strategy=strategy, actor=actor, now=now, stale_after=stale_after)
    try:
        report("extracting the book", 1, 5)
        book = _extract(as_of=day, now=now, strategy=strategy)
        report("judging promises and plans", 2, 5)
        judged_promises = promises.evaluate(
            promises=book.promises_due, payments=book.inputs.payments, time_zone=settings.TIME_ZONE
        )
        judged_plans = plans.evaluate(
            plans=book.plans,
            instalments=book.instalments,
            payments=book.inputs.payments,
            as_of=day,
            grace_days=strategy.plan_grace_days,
            time_zone=settings.TIME_ZONE,
        )
        still_active = judged_plans.filter(
            pc.equal(judged_plans["status"], definition.PlanStatus.ACTIVE.value)
        )
        # A plan that broke or completed today no longer holds its account.
        inputs = dataclasses.replace(
            book.inputs,
            holds=engine.holds(
                promise_accounts=book.promise_holds["account_id"],
                plan_accounts=still_active["account_id"],
            ),
        )
        report("deciding treatments", 3, 5)
        outcome = engine.decide(
            inputs=inputs, strategy=strategy, as_of=day, now=now, prefilter=prefilter
        )
        report("loading decisions and contacts", 4, 5)
        _complete(
            run=run,
            strategy=strategy,
            outcome=outcome,
            judged_promises=judged_promises.join(book.promises_due, "promise_id"),
            judged_plans=judged_plans,
            already_decided=inputs.decided.num_rows,
            accounts=inputs.accounts.num_rows,
            actor=actor,
            now=now,
            clock=finished,
        )
        report("done", 5, 5)
    except Exception as error:
        logger.exception("Strategy run %s failed", run.pk)
        _fail(run=run, error=error, actor=actor, now=now, clock=finished)
        raise
    run.refresh_from_db()
    return run


def _begin(
    *,
    as_of: datetime.date,
    strategy: definition.Strategy,
    actor: str,
    now: datetime.datetime,
    stale_after: datetime.timedelta,
) -> models.StrategyRun:
    """Create the RUNNING row in its own short transaction, or refuse."""
    with transaction.atomic():
        _fail_stale_runs(actor=actor, now=now, stale_after=stale_after)
        running = models.StrategyRun.objects.filter(status=models.RunStatus.RUNNING).first()
        if running is not None:
            raise RunAlreadyInProgress(
                f"strategy run {running.pk} (as of {running.as_of_date.isoformat()}) is in "
                f"progress since {running.started_at.isoformat(timespec='seconds')}"
            )
        latest = (
            models.StrategyRun.objects.filter(status=models.RunStatus.COMPLETED)
            .order_by("-as_of_date")
            .values_list("as_of_date", flat=True)
            .first()
        )
        if latest is not None and as_of < latest:
            raise RunBackdated(
                f"as-of date {as_of.isoformat()} is earlier than the latest completed run's "
                f"({latest.isoformat()}); runs are never back-dated"
            )
        try:
            with transaction.atomic():
                run = models.StrategyRun.objects.create(
                    as_of_date=as_of,
                    strategy_name=strategy.name,
                    strategy_version=strategy.version,
                    status=models.RunStatus.RUNNING,
                    started_at=now,
                    started_by=actor,
                )
        except IntegrityError:
            # Another process created its RUNNING row between our check and our insert.
            raise RunAlreadyInProgress("another strategy run has just started") from None
        log.record(
            actor=actor,
            event_type=events.EventType.STRATEGY_RUN_STARTED,
            subject_type="strategy_run",
            subject_id=run.pk,
            parameters={"as_of": as_of.isoformat(), "strategy": strategy.label},
            now=now,
        )
    return run


def _fail_stale_runs(
    *, actor: str, now: datetime.datetime, stale_after: datetime.timedelta
) -> None:
    stale = models.StrategyRun.objects.select_for_update().filter(
        status=models.RunStatus.RUNNING, started_at__lt=now - stale_after
    )
    for run in stale:  # at most one: the database allows a single RUNNING row
        run.status = models.RunStatus.FAILED
        run.finished_at = now
        run.error = f"abandoned: still RUNNING after {stale_after}; the process must have died"
        run.save(update_fields=["status", "finished_at", "error"])
        log.record(
            actor=actor,
            event_type=events.EventType.STRATEGY_RUN_FAILED,
            subject_type="strategy_run",
            subject_id=run.pk,
            parameters={"as_of": run.as_of_date.isoformat(), "error": run.error},
            now=now,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Book:
    """Hold what a run reads: the engine's inputs (holds still to come) and what it settles."""

    inputs: engine.Inputs
    promise_holds: pa.Table
    promises_due: pa.Table
    plans: pa.Table
    instalments: pa.Table


def _extract(
    *, as_of: datetime.date, now: datetime.datetime, strategy: definition.Strategy
) -> _Book:
    longest = max(rule.every_days for rule in strategy.rules)
    since = now - datetime.timedelta(days=max(longest, engine.HISTORY_DAYS) + 1)
    # One read transaction, so that every table is read from the same state of the book
    # where the database offers it (PostgreSQL: repeatable read is not needed for v0).
    with transaction.atomic():
        inputs = engine.Inputs(
            accounts=extract.accounts(),
            charges=extract.charges(),
            payments=extract.payments(as_of=as_of),
            customers=extract.customers(),
            contact_points=extract.contact_points(),
            opt_outs=extract.opt_outs(),
            cease_requests=extract.cease_requests(),
            unverified_disputes=extract.unverified_disputes(),
            holds=engine.HOLDS_SCHEMA.empty_table(),
            history=extract.contact_history(since=since),
            decided=extract.decided_accounts(as_of=as_of),
        )
        return _Book(
            inputs=inputs,
            promise_holds=extract.promise_holds(as_of=as_of),
            promises_due=extract.promises_due(as_of=as_of),
            plans=extract.active_plans(),
            instalments=extract.plan_instalments(),
        )


def _complete(
    *,
    run: models.StrategyRun,
    strategy: definition.Strategy,
    outcome: engine.Outcome,
    judged_promises: pa.Table,
    judged_plans: pa.Table,
    already_decided: int,
    accounts: int,
    actor: str,
    now: datetime.datetime,
    clock: Clock,
) -> None:
    """Load decisions and outbox rows, settle promises and plans, close the run: one transaction."""
    with transaction.atomic():
        decisions = _decision_rows(outcome.decisions, run=run, strategy=strategy, now=now)
        extract.insert(models.Decision, decisions)
        queued = _outbox_rows(outcome.outbox, run=run, now=now)
        extract.insert(models.ContactAttempt, queued)
        # The agents' work queue: the day's decisions ranked once, read by index (ADR 0013).
        in_queue = queue_rank.rank_decisions(as_of=run.as_of_date)
        settled = _settle_promises(judged_promises, run=run, actor=actor, now=now)
        plans_settled = _settle_plans(judged_plans, run=run, actor=actor, now=now)
        finished_at = clock()
        counts: dict[str, Any] = {
            **outcome.counts,
            "promises": settled,
            "plans": plans_settled,
            "already_decided": already_decided,
            "work_queue": in_queue,
            "duration_seconds": round((finished_at - now).total_seconds(), 3),
        }
        run.status = models.RunStatus.COMPLETED
        run.finished_at = finished_at
        run.accounts = accounts
        run.decisions = decisions.num_rows
        run.contacts_planned = queued.num_rows
        run.contacts_blocked = outcome.contacts_blocked
        run.counts = counts
        run.save()
        log.record(
            actor=actor,
            event_type=events.EventType.STRATEGY_RUN_COMPLETED,
            subject_type="strategy_run",
            subject_id=run.pk,
            parameters={
                "as_of": run.as_of_date.isoformat(),
                "strategy": strategy.label,
                "decisions": run.decisions,
                "contacts_planned": run.contacts_planned,
                "contacts_blocked": run.contacts_blocked,
                "treatments": outcome.counts.get("treatment", {}),
                "promises": settled,
                "plans": plans_settled,
            },
            now=now,
        )
        if queued.num_rows:
            # Once this commits, the dispatcher is asked to send what is due (ADR 0010).
            outbox.announce_queued()


def _fail(
    *, run: models.StrategyRun, error: Exception, actor: str, now: datetime.datetime, clock: Clock
) -> None:
    message = f"{type(error).__name__}: {error}"[:2000]
    with transaction.atomic():
        models.StrategyRun.objects.filter(pk=run.pk).update(
            status=models.RunStatus.FAILED, finished_at=clock(), error=message
        )
        log.record(
            actor=actor,
            event_type=events.EventType.STRATEGY_RUN_FAILED,
            subject_type="strategy_run",
            subject_id=run.pk,
            parameters={"as_of": run.as_of_date.isoformat(), "error": message},
            now=now,
        )


def _constant(value: Any, rows: int, kind: pa.DataType) -> pa.Array:
    return pa.array([value] * rows, kind) if rows else pa.array([], kind)


def _decision_rows(
    decisions: pa.Table,
    *,
    run: models.StrategyRun,
    strategy: definition.Strategy,
    now: datetime.datetime,
) -> pa.Table:
    rows = decisions.num_rows
    timestamp = pa.timestamp("us", tz="UTC")
    return pa.table(
        {
            "run_id": _constant(run.pk, rows, pa.int64()),
            "account_id": decisions["account_id"],
            "as_of_date": _constant(run.as_of_date, rows, pa.date32()),
            "days_past_due": decisions["days_past_due"],
            "bucket": decisions["bucket"],
            "stage": decisions["stage"],
            "arrears_minor": decisions["arrears_minor"],
            "balance_minor": decisions["balance_minor"],
            "currency": decisions["currency"],
            "treatment": decisions["treatment"],
            "channel": pc.fill_null(decisions["channel"], ""),
            "reason_codes": decisions["reason_codes"],
            "strategy_version": _constant(strategy.label, rows, pa.string()),
            "created_at": _constant(now, rows, timestamp),
        }
    )


def _outbox_rows(planned: pa.Table, *, run: models.StrategyRun, now: datetime.datetime) -> pa.Table:
    """Return the outbox rows to insert: new keys only, each linked to its decision."""
    prefix = engine.idempotency_prefix(run.as_of_date)
    existing = extract.fetch(
        f"SELECT idempotency_key FROM {extract.t(models.ContactAttempt)} "
        "WHERE idempotency_key LIKE %s",
        [prefix + "%"],
        {"idempotency_key": extract.Kind.TEXT},
    )
    fresh = planned.filter(
        pc.invert(pc.is_in(planned["idempotency_key"], value_set=existing["idempotency_key"]))
    )
    decided = extract.fetch(
        f"SELECT id, account_id FROM {extract.t(models.Decision)} WHERE run_id = %s",
        [run.pk],
        {"decision_id": extract.Kind.INT, "account_id": extract.Kind.INT},
    )
    # Each outbox row's decision: this run's decision about the same account.
    position = pc.index_in(fresh["account_id"], value_set=decided["account_id"])
    fresh = fresh.append_column("decision_id", pc.take(decided["decision_id"], position))
    rows = fresh.num_rows
    timestamp = pa.timestamp("us", tz="UTC")

    def text(value: str) -> pa.Array:
        return _constant(value, rows, pa.string())

    return pa.table(
        {
            "customer_id": fresh["customer_id"],
            "account_id": fresh["account_id"],
            "channel": fresh["channel"],
            "template": fresh["template"],
            "language": fresh["language"],
            "purpose": text(models.ContactPurpose.COLLECTION),
            "origin": text(models.ContactOrigin.STRATEGY),
            "direction": text(models.ContactDirection.OUTBOUND),
            "planned_at": fresh["planned_at"],
            "status": text(models.ContactStatus.PLANNED),
            "idempotency_key": fresh["idempotency_key"],
            "run_id": _constant(run.pk, rows, pa.int64()),
            "decision_id": fresh["decision_id"],
            "destination": fresh["destination"],
            "attempts": _constant(0, rows, pa.int64()),
            "failure_reason": text(""),
            "policy_reasons": fresh["policy_reasons"],
            "provider_ref": text(""),
            "subject": text(""),
            "body": text(""),
            "document": text(""),
            "outcome": text(""),
            "conversation": _constant(False, rows, pa.bool_()),
            "agent": text(""),
            "notes": text(""),
            "created_at": _constant(now, rows, timestamp),
            "updated_at": _constant(now, rows, timestamp),
        }
    )


def _mark(
    model: type[Any], *, ids: pa.ChunkedArray, status: str, was: str, **extra: Any
) -> set[int]:
    """Move the rows of ``ids`` still in status ``was`` to ``status``; return the ids moved.

    Rows changed since the run read them (cancelled, settled elsewhere) are left alone.
    """
    if not len(ids):
        return set()
    assignments = ", ".join(
        [f"{extract.q('status')} = %s", *(f"{extract.q(k)} = %s" for k in extra)]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {extract.t(model)} SET {assignments} "
            f"WHERE status = %s AND {extract.id_in('id')} RETURNING id",
            [status, *extra.values(), was, extract.ids_json(ids)],
        )
        return {int(row[0]) for row in cursor.fetchall()}


def _amount(minor: int, currency: str) -> str:
    return str(money.Money.from_minor_units(int(minor), currency).amount)


def _settle_promises(
    judged: pa.Table, *, run: models.StrategyRun, actor: str, now: datetime.datetime
) -> dict[str, int]:
    """Mark judged promises KEPT or BROKEN (only those still OPEN), one audit event each.

    ``judged`` is the promises' verdicts joined with the promises (``extract.promises_due``).
    Returns how many of each.
    """
    settled: dict[str, int] = {}
    kinds = {
        definition.PromiseStatus.KEPT: events.EventType.PROMISE_KEPT,
        definition.PromiseStatus.BROKEN: events.EventType.PROMISE_BROKEN,
    }
    for status, event_type in kinds.items():
        rows = judged.filter(pc.equal(judged["status"], status.value)).sort_by("promise_id")
        moved = _mark(
            models.Promise,
            ids=rows["promise_id"],
            status=status,
            was=definition.PromiseStatus.OPEN,
            resolved_at=now,
        )
        log.record_each(
            actor=actor,
            event_type=event_type,
            subject_type="promise",
            subjects=[
                (
                    row["promise_id"],
                    {
                        "account_id": row["account_id"],
                        "amount": _amount(row["amount_minor"], row["currency"]),
                        "currency": row["currency"],
                        "promised_date": row["promised_date"].isoformat(),
                        "paid": _amount(row["paid_minor"], row["currency"]),
                        "run_id": run.pk,
                    },
                )
                for row in rows.to_pylist()
                if row["promise_id"] in moved
            ],
            now=now,
        )
        settled[status.value] = len(moved)
    return settled


def _settle_plans(
    judged: pa.Table, *, run: models.StrategyRun, actor: str, now: datetime.datetime
) -> dict[str, int]:
    """Mark judged plans COMPLETED or BROKEN (only those still ACTIVE), one audit event each.

    Returns how many of each.
    """
    if judged.num_rows:
        details = extract.fetch(
            f"SELECT id, currency, {extract.as_text('start_date')}, instalment_count "
            f"FROM {extract.t(models.RepaymentPlan)} WHERE {extract.id_in('id')}",
            [extract.ids_json(judged["plan_id"])],
            {
                "plan_id": extract.Kind.INT,
                "currency": extract.Kind.TEXT,
                "start_date": extract.Kind.DATE,
                "instalment_count": extract.Kind.INT,
            },
        )
        judged = judged.join(details, "plan_id")
    settled: dict[str, int] = {}
    kinds = {
        definition.PlanStatus.COMPLETED: events.EventType.PLAN_COMPLETED,
        definition.PlanStatus.BROKEN: events.EventType.PLAN_BROKEN,
    }
    for status, event_type in kinds.items():
        rows = judged.filter(pc.equal(judged["status"], status.value)).sort_by("plan_id")
        moved = _mark(
            models.RepaymentPlan,
            ids=rows["plan_id"],
            status=status,
            was=definition.PlanStatus.ACTIVE,
        )
        log.record_each(
            actor=actor,
            event_type=event_type,
            subject_type="repayment_plan",
            subjects=[
                (
                    row["plan_id"],
                    {
                        "account_id": row["account_id"],
                        "currency": row["currency"],
                        "start_date": row["start_date"].isoformat(),
                        "instalment_count": row["instalment_count"],
                        "scheduled": _amount(row["scheduled_minor"], row["currency"]),
                        "due": _amount(row["due_minor"], row["currency"]),
                        "paid": _amount(row["paid_minor"], row["currency"]),
                        "run_id": run.pk,
                    },
                )
                for row in rows.to_pylist()
                if row["plan_id"] in moved
            ],
            now=now,
        )
        settled[status.value] = len(moved)
    return settled
