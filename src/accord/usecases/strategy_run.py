"""Run the daily strategy: decide every account's treatment and queue the contacts it allows.

A run is a record (:class:`~accord.storage.models.StrategyRun`). It is never back-dated and
never runs twice at once: the RUNNING row is created first in its own short transaction,
where the database's partial unique index refuses a second one. The work itself is
set-based (ADR 0008): the book is extracted to Arrow, the strategy engine computes every
decision with Ibis on DuckDB, and decisions plus outbox rows are loaded in bulk in one
transaction. Running the same as-of date again decides only accounts not yet decided that
day, so it never duplicates a decision or a contact.

Exceptions::

    RunRefused(reason)            nothing was started
    ├── RunAlreadyInProgress      another run is RUNNING (and not stale)
    ├── RunBackdated              a COMPLETED run has a later as-of date
    └── StrategyNotValid          the strategy file cannot be used
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accord.audit import events, log
from accord.storage import extract, models
from accord.strategy import definition, engine, promises

logger = logging.getLogger(__name__)

# A RUNNING row older than this was left by a process that died; the next run fails it.
STALE_RUN_AFTER = datetime.timedelta(hours=2)

Progress = Callable[[str, int, int], None]


class RunRefused(Exception):
    """A strategy run was refused before it started; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RunAlreadyInProgress(RunRefused):
    """Another strategy run is in progress."""


class RunBackdated(RunRefused):
    """The as-of date is earlier than that of the latest completed run."""


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
) -> models.StrategyRun:
    """Decide every account's treatment as of ``as_of`` (default: ``now``'s local date).

    Returns the COMPLETED run. Raises :class:`RunAlreadyInProgress`, :class:`RunBackdated`
    and :class:`StrategyNotValid` before anything is written; any error after the run
    started marks it FAILED (audited) and is raised again.
    """
    report = progress or (lambda stage, done, total: None)
    try:
        strategy = definition.load(strategy_path)
    except definition.InvalidStrategy as error:
        raise StrategyNotValid(str(error)) from None
    day = as_of or timezone.localdate(now)
    run = _begin(as_of=day, strategy=strategy, actor=actor, now=now, stale_after=stale_after)
    started = time.perf_counter()
    try:
        report("extracting the book", 1, 5)
        inputs, due_promises = _extract(as_of=day, now=now, strategy=strategy)
        report("deciding treatments", 2, 5)
        outcome = engine.decide(
            inputs=inputs, strategy=strategy, as_of=day, now=now, prefilter=prefilter
        )
        report("judging promises", 3, 5)
        judged = promises.evaluate(
            promises=due_promises, payments=inputs.payments, time_zone=settings.TIME_ZONE
        )
        report("loading decisions and contacts", 4, 5)
        _complete(
            run=run,
            strategy=strategy,
            outcome=outcome,
            judged=judged,
            already_decided=inputs.decided.num_rows,
            accounts=inputs.accounts.num_rows,
            actor=actor,
            now=now,
            started=started,
        )
        report("done", 5, 5)
    except Exception as error:
        logger.exception("Strategy run %s failed", run.pk)
        _fail(run=run, error=error, actor=actor, now=now, started=started)
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


def _extract(
    *, as_of: datetime.date, now: datetime.datetime, strategy: definition.Strategy
) -> tuple[engine.Inputs, pa.Table]:
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
            holds=extract.holds(as_of=as_of),
            history=extract.contact_history(since=since),
            decided=extract.decided_accounts(as_of=as_of),
        )
        due = extract.promises_due(as_of=as_of)
    return inputs, due


def _complete(
    *,
    run: models.StrategyRun,
    strategy: definition.Strategy,
    outcome: engine.Outcome,
    judged: pa.Table,
    already_decided: int,
    accounts: int,
    actor: str,
    now: datetime.datetime,
    started: float,
) -> None:
    """Load decisions and outbox rows, settle promises and close the run: one transaction."""
    with transaction.atomic():
        decisions = _decision_rows(outcome.decisions, run=run, strategy=strategy, now=now)
        extract.insert(models.Decision, decisions)
        outbox = _outbox_rows(outcome.outbox, run=run, now=now)
        extract.insert(models.ContactAttempt, outbox)
        settled = _settle_promises(judged, now=now)
        elapsed = time.perf_counter() - started
        counts: dict[str, Any] = {
            **outcome.counts,
            "promises": settled,
            "already_decided": already_decided,
            "duration_seconds": round(elapsed, 3),
        }
        run.status = models.RunStatus.COMPLETED
        run.finished_at = now + datetime.timedelta(seconds=elapsed)
        run.accounts = accounts
        run.decisions = decisions.num_rows
        run.contacts_planned = outbox.num_rows
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
            },
            now=now,
        )


def _fail(
    *, run: models.StrategyRun, error: Exception, actor: str, now: datetime.datetime, started: float
) -> None:
    message = f"{type(error).__name__}: {error}"[:2000]
    with transaction.atomic():
        models.StrategyRun.objects.filter(pk=run.pk).update(
            status=models.RunStatus.FAILED,
            finished_at=now + datetime.timedelta(seconds=time.perf_counter() - started),
            error=message,
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


def _outbox_rows(outbox: pa.Table, *, run: models.StrategyRun, now: datetime.datetime) -> pa.Table:
    """Return the outbox rows to insert: new keys only, each linked to its decision."""
    prefix = f"strategy:{run.as_of_date.isoformat()}:"
    existing = extract.fetch(
        f"SELECT idempotency_key FROM {extract.t(models.ContactAttempt)} "
        "WHERE idempotency_key LIKE %s",
        [prefix + "%"],
        {"idempotency_key": extract.Kind.TEXT},
    )
    fresh = outbox.filter(
        pc.invert(pc.is_in(outbox["idempotency_key"], value_set=existing["idempotency_key"]))
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


def _settle_promises(judged: pa.Table, *, now: datetime.datetime) -> dict[str, int]:
    """Mark judged promises KEPT or BROKEN (only those still OPEN); return how many of each."""
    settled = {promises.KEPT: 0, promises.BROKEN: 0}
    table = extract.t(models.Promise)
    for status in settled:
        ids = judged.filter(pc.equal(judged["status"], status))["promise_id"]
        if not len(ids):
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = %s, resolved_at = %s "
                f"WHERE status = %s AND {extract.id_in('id')}",
                [status, now, models.PromiseStatus.OPEN, extract.ids_json(ids)],
            )
            settled[status] = cursor.rowcount
    return settled
