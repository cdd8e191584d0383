"""Run the daily strategy: decide every account's treatment and queue the contacts it allows.

A run is a record (:class:`~accord.storage.models.StrategyRun`) of which strategy version it
ran (``version``; a file given on the command line leaves it empty), on which engine and in
which process (``host:pid``). It is never back-dated and never runs twice at once: the
RUNNING row is created first in its own short transaction, where the database's partial
unique index refuses a second one.

The work is set-based (ADR 0008, ADR 0016):

1. the experiment guardrails are checked (:func:`accord.usecases.guardrails.check_guardrails`),
   so that an arm paused now is paused for this run;
2. the accounts are split into ranges of about ``accounts_per_range`` ids
   (:func:`accord.storage.extract.account_ranges`); for each range in turn, its rows (the
   accounts, their charges, payments, holds, history and decisions already made, and their
   customers with what is recorded about them) are read in one consistent snapshot straight
   into Arrow (:func:`accord.storage.extract.snapshot`, ADBC where it can), and then:
3. its promises whose date has passed and its active plans are judged in memory;
4. the strategy engine decides every account of the range not yet decided that day, on
   DuckDB, inside PostgreSQL or on Spark (:mod:`accord.strategy.backends`);
5. its decisions and outbox rows are loaded in one transaction, so that a crash keeps the
   ranges loaded; the range is then dropped before the next is read. The load also cancels
   the range's **superseded** contacts: strategy contacts still PLANNED from a run with an
   earlier as-of date (catch-up: after downtime a run acts on today's state and never sends
   a burst of stale reminders; the extract already ignores them for cadence);
6. one last transaction ranks the work queue, settles the promises and plans judged in
   every range (one audit event each), records the report (``StrategyRun.counts``, summed
   over the ranges) and completes the run.

**Consistency.** Each range is read in its own snapshot, not the whole book in one. That
decides every account as a single snapshot would: the engine decides an account from its
own rows and its customer's only (no decision depends on another account), and all of
them are read together. Rows the run itself writes (decisions, outbox rows) belong to the
accounts of ranges already done, which later ranges do not read. A customer whose accounts
fall in two ranges may be read twice, each time as it then stood.

**Resume.** A run that crashed leaves its ranges loaded. The next run fails it (audited):
at once when its process is gone (same host, pid not running), otherwise once it is older
than ``stale_after``. The next run as of the same date then decides only the accounts not
yet decided that day (a decision is unique per account and day; outbox rows carry
idempotency keys), so nothing is decided or contacted twice.

Dry runs read the book the same way, range by range (:mod:`accord.usecases.dry_runs`).

Exceptions::

    RunRefused(reason)            nothing was started
    ├── RunAlreadyInProgress      another run is RUNNING (and its process is alive)
    ├── RunBackdated              a COMPLETED run has a later as-of date
    ├── RunFutureDated            the as-of date is after today (the operator's time zone)
    ├── StrategyNotValid          the strategy file (or stored version) cannot be used
    └── EngineNotAvailable        the engine cannot run here (postgres without PostgreSQL)
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import logging
import os
import socket
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
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
from accord.strategy import backends, definition, plans, promises
from accord.strategy import engine as strategy_engine
from accord.usecases import guardrails, outbox, strategies

logger = logging.getLogger(__name__)

# A RUNNING row older than this was left by a process that died; the next run fails it.
STALE_RUN_AFTER = datetime.timedelta(hours=2)
# Accounts read, decided and loaded at a time (one range, one load transaction): the run
# holds one range of the book in memory, and a crash keeps every range already loaded.
ACCOUNTS_PER_RANGE = 1_000_000

Progress = Callable[[str, int, int], None]
Clock = Callable[[], datetime.datetime]
# Called after each range has committed with (range number from 1, decisions loaded so far).
AfterRange = Callable[[int, int], None]


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


class EngineNotAvailable(RunRefused):
    """The engine cannot run against this installation."""


def process_name() -> str:
    """Return ``host:pid`` of this process, as recorded on the runs it starts."""
    return f"{socket.gethostname()}:{os.getpid()}"


def start_run(
    *,
    as_of: datetime.date | None,
    actor: str,
    now: datetime.datetime,
    engine: backends.Engine | str = backends.Engine.DUCKDB,
    strategy_path: Path | None = None,
    progress: Progress | None = None,
    prefilter: strategy_engine.Prefilter | None = None,
    stale_after: datetime.timedelta = STALE_RUN_AFTER,
    clock: Clock | None = None,
    accounts_per_range: int = ACCOUNTS_PER_RANGE,
    after_range: AfterRange | None = None,
) -> models.StrategyRun:
    """Decide every account's treatment as of ``as_of`` (default: ``now``'s local date).

    Runs the ACTIVE strategy version (storing the built-in default as the first one when
    none exists) unless ``strategy_path`` names a YAML file. ``engine`` picks the
    engine that decides. ``now`` is when the run starts; ``clock`` (the entrypoint passes
    ``django.utils.timezone.now``) times the phases and says when it finished; without one
    the run is recorded as finishing at ``now``. The book is processed in ranges of about
    ``accounts_per_range`` accounts by id (read, decided and loaded one at a time);
    ``after_range`` is called after each range's load commits (tests use it to crash a run
    half-way).

    Returns the COMPLETED run. Raises :class:`RunFutureDated`, :class:`StrategyNotValid`,
    :class:`EngineNotAvailable`, :class:`RunAlreadyInProgress` and :class:`RunBackdated`
    before anything is written; any error after the run started marks it FAILED (audited)
    and is raised again.
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
    chosen = _engine(engine)
    strategy, version = _strategy(strategy_path, now=now)
    backend = _connect(chosen)
    try:
        run = _begin(
            as_of=day,
            strategy=strategy,
            version=version,
            chosen=chosen,
            actor=actor,
            now=now,
            stale_after=stale_after,
        )
        return _work(
            run=run,
            strategy=strategy,
            backend=backend,
            chosen=chosen,
            actor=actor,
            now=now,
            report=report,
            finished=finished,
            prefilter=prefilter,
            accounts_per_range=accounts_per_range,
            after_range=after_range,
        )
    finally:
        disconnect = getattr(backend, "disconnect", None)
        if disconnect is not None:
            disconnect()


def _work(
    *,
    run: models.StrategyRun,
    strategy: definition.Strategy,
    backend: Any,
    chosen: backends.Engine,
    actor: str,
    now: datetime.datetime,
    report: Progress,
    finished: Clock,
    prefilter: strategy_engine.Prefilter | None,
    accounts_per_range: int,
    after_range: AfterRange | None,
) -> models.StrategyRun:
    """Do the run's work after its RUNNING row exists; fail it (audited) on any error.

    The book is read, judged, decided and loaded one range of account ids at a time, each
    range in its own snapshot and its own load transaction; only one range is held at a
    time. What spans ranges (the report, the promises and plans to settle) is summed.
    """
    day = run.as_of_date
    phases = _Phases(clock=finished)
    load = _Load(run=run, now=now)
    tally = _Tally()
    reading: Generator[Book, None, None] | None = None
    try:
        report("checking experiment guardrails", 0, 1)
        with phases.timed("guardrails"):
            errors = _check_guardrails(strategy=strategy, now=now)
        with phases.timed("extract"):
            ranges = extract.account_ranges(size=accounts_per_range)
        per_range = 4
        total = 1 + per_range * len(ranges) + 1

        def read(within: extract.AccountRange) -> Book:
            return read_book(
                as_of=day, now=now, strategies_read=(strategy,), undecided=True, within=within
            )

        reading = _read_ahead(read, ranges, ahead=not extract.adbc_reason())
        for number in range(1, len(ranges) + 1):
            done = 1 + per_range * (number - 1)
            where = f"range {number} of {len(ranges)}" if len(ranges) > 1 else "the book"
            report(f"extracting {where}", done, total)
            with phases.timed("extract"):  # waiting for it: the rest was read meanwhile
                book = next(reading)
            report(f"judging promises and plans ({where})", done + 1, total)
            with phases.timed("judge"):
                judged = _judge(book, strategy=strategy, as_of=day)
            report(f"deciding treatments ({where})", done + 2, total)
            with phases.timed("decide"), _range_backend(chosen, backend) as deciding:
                outcome = strategy_engine.decide(
                    inputs=judged.inputs,
                    strategy=strategy,
                    as_of=day,
                    now=now,
                    prefilter=prefilter,
                    backend=deciding,
                )
            report(f"loading decisions and contacts ({where})", done + 3, total)
            with phases.timed("load"):
                load.chunk(
                    outcome.decisions.sort_by("account_id"),
                    planned=_fresh(outcome.outbox, existing=book.planned_keys),
                    superseded=book.superseded,
                    strategy=strategy,
                )
            tally.add(book=book, judged=judged, outcome=outcome)
            del book, judged, outcome  # hold this range and the next one read ahead only
            if after_range is not None:
                after_range(number, load.decisions)
        reading.close()
        report("settling promises and plans", total - 1, total)
        _complete(
            run=run,
            strategy=strategy,
            tally=tally,
            load=load,
            errors=errors,
            phases=phases,
            chosen=chosen,
            actor=actor,
            now=now,
            clock=finished,
        )
        report("done", total, total)
    except Exception as error:
        logger.exception("Strategy run %s failed", run.pk)
        if reading is not None:
            reading.close()  # waits for a range being read ahead
        _fail(run=run, error=error, load=load, actor=actor, now=now, clock=finished)
        raise
    run.refresh_from_db()
    return run


def _read_ahead(
    read: Callable[[extract.AccountRange], Book],
    ranges: list[extract.AccountRange],
    *,
    ahead: bool,
) -> Generator[Book, None, None]:
    """Yield the book of each range in turn, reading the next range while this one is used.

    The read ahead runs in a thread: it waits on the reader process (SQLite) or on the
    server (PostgreSQL), so it overlaps the deciding and loading of the range before it,
    on a second core. It changes nothing read: a range reads only the rows of its own
    accounts and customers, and loading another range writes none of them (decisions and
    contacts about that range's accounts). Without ``ahead`` (no ADBC: reads go through
    this thread's Django connection) ranges are read one after the other.
    """
    if not ahead or len(ranges) < 2:
        for within in ranges:
            yield read(within)
        return

    def in_thread(within: extract.AccountRange) -> Book:
        try:
            return read(within)
        finally:
            connection.close()  # the thread's own connection, if anything opened it

    with concurrent.futures.ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="accord-read-ahead"
    ) as pool:
        pending = pool.submit(in_thread, ranges[0])
        for following in [*ranges[1:], None]:
            book = pending.result()
            if following is not None:
                pending = pool.submit(in_thread, following)
            yield book
            del book


@contextmanager
def _range_backend(chosen: backends.Engine, backend: Any) -> Iterator[Any]:
    """Yield the backend that decides one range.

    DuckDB and PostgreSQL: a fresh connection per range, closed after it, since Ibis keeps
    the tables it registers (DuckDB: the Arrow tables in this process; PostgreSQL: temporary
    tables) until its connection closes. Spark keeps the run's session (starting one is
    slow); its temporary views stay until the run ends.
    """
    if chosen is backends.Engine.SPARK:
        yield backend
        return
    fresh = _connect(chosen)
    try:
        yield fresh
    finally:
        fresh.disconnect()


class _Tally:
    """Sum what a run's ranges decided, for the report, and gather what to settle."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {}
        self.contacts_blocked = 0
        self.accounts = 0
        self.already_decided = 0
        self.via = ""
        self._promises: list[pa.Table] = []
        self._plans: list[pa.Table] = []

    def add(self, *, book: Book, judged: _Judged, outcome: strategy_engine.Outcome) -> None:
        """Add one range's outcome and its judged promises and plans."""
        ranged = {key: dict(value) for key, value in outcome.counts.items()}
        if "channel" not in ranged:
            ranged["channel"] = _tally(outcome.decisions, "channel")
        for key, values in ranged.items():
            summed = self.counts.setdefault(key, {})
            for value, count in values.items():
                summed[value] = summed.get(value, 0) + count
        self.contacts_blocked += outcome.contacts_blocked
        self.accounts += judged.inputs.accounts.num_rows
        self.already_decided += judged.inputs.decided.num_rows
        self.via = self.via or book.via
        self._promises.append(judged.promises)
        self._plans.append(judged.plans)

    @property
    def promises(self) -> pa.Table:
        """Return every range's judged promises (verdicts joined with the promises)."""
        return pa.concat_tables(self._promises)

    @property
    def plans(self) -> pa.Table:
        """Return every range's judged plans."""
        return pa.concat_tables(self._plans)


def _engine(engine_name: backends.Engine | str) -> backends.Engine:
    try:
        chosen = backends.Engine(engine_name)
    except ValueError:
        known = ", ".join(member.value for member in backends.Engine)
        raise EngineNotAvailable(f"unknown engine {engine_name!r} (engines: {known})") from None
    if chosen is backends.Engine.POSTGRES and connection.vendor != "postgresql":
        raise EngineNotAvailable(
            "the postgres engine runs the strategy inside Accord's database, which is "
            f"{connection.vendor} here; use --engine duckdb or spark"
        )
    return chosen


def _strategy(
    strategy_path: Path | None, *, now: datetime.datetime
) -> tuple[definition.Strategy, models.StrategyVersion | None]:
    """Return the strategy to run and its stored version (None for a file)."""
    if strategy_path is not None:
        try:
            return definition.load(strategy_path), None
        except definition.InvalidStrategy as error:
            raise StrategyNotValid(str(error)) from None
    version = strategies.active_version(now=now)
    try:
        return strategies.parsed(version), version
    except definition.InvalidStrategy as error:
        raise StrategyNotValid(f"the active version {version.label}: {error}") from None


def _begin(
    *,
    as_of: datetime.date,
    strategy: definition.Strategy,
    version: models.StrategyVersion | None,
    chosen: backends.Engine,
    actor: str,
    now: datetime.datetime,
    stale_after: datetime.timedelta,
) -> models.StrategyRun:
    """Create the RUNNING row in its own short transaction, or refuse."""
    with transaction.atomic():
        _fail_abandoned_runs(actor=actor, now=now, stale_after=stale_after)
        running = models.StrategyRun.objects.filter(status=models.RunStatus.RUNNING).first()
        if running is not None:
            where = f" in process {running.process}" if running.process else ""
            raise RunAlreadyInProgress(
                f"strategy run {running.pk} (as of {running.as_of_date.isoformat()}) is in "
                f"progress{where} since {running.started_at.isoformat(timespec='seconds')}"
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
                    version=version,
                    engine=chosen.value,
                    process=process_name(),
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
            parameters={
                "as_of": as_of.isoformat(),
                "strategy": strategy.label,
                "version_id": version.pk if version else None,
                "engine": chosen.value,
                "process": run.process,
            },
            now=now,
        )
    return run


def _process_gone(process: str) -> bool:
    """Return whether ``host:pid`` names a process of this host that no longer runs."""
    host, _, pid = process.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's process: only staleness tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return False


def _fail_abandoned_runs(
    *, actor: str, now: datetime.datetime, stale_after: datetime.timedelta
) -> None:
    running = models.StrategyRun.objects.select_for_update().filter(status=models.RunStatus.RUNNING)
    for run in running:  # at most one: the database allows a single RUNNING row
        if _process_gone(run.process):
            error = f"abandoned: its process {run.process} is gone"
        elif run.started_at < now - stale_after:
            error = f"abandoned: still RUNNING after {stale_after}; the process must have died"
        else:
            continue
        run.status = models.RunStatus.FAILED
        run.finished_at = now
        run.error = error
        run.save(update_fields=["status", "finished_at", "error"])
        log.record(
            actor=actor,
            event_type=events.EventType.STRATEGY_RUN_FAILED,
            subject_type="strategy_run",
            subject_id=run.pk,
            parameters={"as_of": run.as_of_date.isoformat(), "error": error},
            now=now,
        )


def _check_guardrails(*, strategy: definition.Strategy, now: datetime.datetime) -> list[str]:
    """Pause arms past their guardrails; return the problems met (the run goes on)."""
    if not strategy.experiments:
        return []
    try:
        paused = guardrails.check_guardrails(strategy=strategy, now=now)
    except Exception as error:
        # A guardrail that cannot be checked must not stop the day's collections; the
        # report says so and arms already paused stay paused.
        logger.exception("Checking the experiment guardrails failed")
        return [f"guardrails: {type(error).__name__}: {error}"]
    for pause in paused:
        logger.warning("Paused arm %s/%s: %s", pause.experiment, pause.arm, pause.reason)
    return []


# --- Reading the book ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Book:
    """Hold what a run reads, from one snapshot of the database."""

    inputs: strategy_engine.Inputs  # holds still to come (see _judge)
    promise_holds: pa.Table
    promises_due: pa.Table
    plans: pa.Table
    instalments: pa.Table
    superseded: pa.Table  # contact_id, account_id, run_id
    planned_keys: pa.Table  # the as-of date's outbox keys already stored
    via: str


def read_book(
    *,
    as_of: datetime.date,
    now: datetime.datetime,
    strategies_read: tuple[definition.Strategy, ...],
    undecided: bool,
    within: extract.AccountRange = extract.EVERY_ACCOUNT,
) -> Book:
    """Read the book (or the accounts ``within`` a range) as of ``as_of`` in one snapshot.

    ``strategies_read`` say how much contact history to read; ``undecided`` leaves out the
    accounts already decided that day (a run); without it every account is decided (a
    dry run). A range holds every row of its accounts and of their customers, so the
    engine decides each of them exactly as from a snapshot of the whole book.
    """
    longest = max(strategy.longest_wait_days for strategy in strategies_read)
    since = now - datetime.timedelta(days=max(longest, strategy_engine.HISTORY_DAYS) + 1)
    with extract.snapshot() as snap:
        inputs = strategy_engine.Inputs(
            accounts=extract.accounts(within=within, snapshot=snap),
            charges=extract.charges(within=within, snapshot=snap),
            payments=extract.payments(as_of=as_of, within=within, snapshot=snap),
            customers=extract.customers(within=within, snapshot=snap),
            contact_points=extract.contact_points(within=within, snapshot=snap),
            opt_outs=extract.opt_outs(within=within, snapshot=snap),
            cease_requests=extract.cease_requests(within=within, snapshot=snap),
            unverified_disputes=extract.unverified_disputes(within=within, snapshot=snap),
            open_disputes=extract.open_disputes(within=within, snapshot=snap),
            vulnerable_customers=extract.vulnerable_customers(within=within, snapshot=snap),
            breathing_spaces=extract.breathing_spaces(as_of=as_of, within=within, snapshot=snap),
            paused_arms=extract.paused_arms(snapshot=snap),
            holds=strategy_engine.HOLDS_SCHEMA.empty_table(),
            history=extract.contact_history(since=since, as_of=as_of, within=within, snapshot=snap),
            decided=(
                extract.decided_accounts(as_of=as_of, within=within, snapshot=snap)
                if undecided
                else strategy_engine.DECIDED_SCHEMA.empty_table()
            ),
        )
        return Book(
            inputs=inputs,
            promise_holds=extract.promise_holds(as_of=as_of, within=within, snapshot=snap),
            promises_due=extract.promises_due(as_of=as_of, within=within, snapshot=snap),
            plans=extract.active_plans(within=within, snapshot=snap),
            instalments=extract.plan_instalments(within=within, snapshot=snap),
            superseded=extract.superseded_contacts(as_of=as_of, within=within, snapshot=snap),
            planned_keys=extract.planned_keys(
                prefix=strategy_engine.idempotency_prefix(as_of), within=within, snapshot=snap
            ),
            via=snap.via,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Judged:
    """Hold the engine's inputs with today's holds, and the promises and plans judged."""

    inputs: strategy_engine.Inputs
    promises: pa.Table  # verdicts joined with the promises
    plans: pa.Table


def _judge(book: Book, *, strategy: definition.Strategy, as_of: datetime.date) -> _Judged:
    judged_promises = promises.evaluate(
        promises=book.promises_due, payments=book.inputs.payments, time_zone=settings.TIME_ZONE
    )
    judged_plans = plans.evaluate(
        plans=book.plans,
        instalments=book.instalments,
        payments=book.inputs.payments,
        as_of=as_of,
        grace_days=strategy.plan_grace_days,
        time_zone=settings.TIME_ZONE,
    )
    still_active = judged_plans.filter(
        pc.equal(judged_plans["status"], definition.PlanStatus.ACTIVE.value)
    )
    # A plan that broke or completed today no longer holds its account.
    inputs = dataclasses.replace(
        book.inputs,
        holds=strategy_engine.holds(
            promise_accounts=book.promise_holds["account_id"],
            plan_accounts=still_active["account_id"],
        ),
    )
    return _Judged(
        inputs=inputs,
        promises=judged_promises.join(book.promises_due, "promise_id"),
        plans=judged_plans,
    )


def _connect(chosen: backends.Engine) -> Any:
    """Return the Ibis backend that decides (DuckDB: a fresh in-process database)."""
    try:
        return backends.connect(
            chosen,
            postgres_url=extract.postgres_url() if chosen is backends.Engine.POSTGRES else None,
            spark_master=settings.ENV.spark_master if chosen is backends.Engine.SPARK else None,
        )
    except backends.EngineUnavailable as error:
        raise EngineNotAvailable(f"the {chosen.value} engine is not available: {error}") from None


# --- Loading -------------------------------------------------------------------------------


class _Phases:
    """Time a run's phases with the clock passed in (seconds summed, 3 decimals)."""

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self.seconds: dict[str, float] = {}

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        started = self._clock()
        try:
            yield
        finally:
            # A run of many ranges times each phase once per range: the report sums them.
            spent = (self._clock() - started).total_seconds()
            self.seconds[name] = round(self.seconds.get(name, 0.0) + spent, 3)


class _Load:
    """Load a run's decisions and outbox rows chunk by chunk; count what was loaded."""

    def __init__(self, *, run: models.StrategyRun, now: datetime.datetime) -> None:
        self.run = run
        self.now = now
        self.decisions = 0
        self.contacts = 0
        self.deferred = 0
        self.chunks = 0
        self.superseded = 0
        self.superseded_runs: set[int] = set()

    def chunk(
        self,
        decisions: pa.Table,
        *,
        planned: pa.Table,
        superseded: pa.Table,
        strategy: definition.Strategy,
    ) -> None:
        """Load one chunk of decisions, their contacts and their superseded contacts."""
        if decisions.num_rows == 0:
            return
        accounts = decisions["account_id"]
        mine = planned.filter(pc.is_in(planned["account_id"], value_set=accounts))
        stale = superseded.filter(pc.is_in(superseded["account_id"], value_set=accounts))
        with transaction.atomic():
            cancelled = self._cancel(stale)
            if len(cancelled) < stale.num_rows:
                # A stale contact left PLANNED (being sent) while we read: no second one.
                kept = stale.filter(
                    pc.invert(pc.is_in(stale["contact_id"], value_set=pa.array(sorted(cancelled))))
                )
                mine = mine.filter(
                    pc.invert(pc.is_in(mine["account_id"], value_set=kept["account_id"]))
                )
            # Ids chosen here, so each contact is linked to its decision without reading
            # the decisions back.
            ids = extract.reserve_ids(models.Decision, decisions.num_rows)
            extract.insert(
                models.Decision,
                _decision_rows(decisions, ids=ids, run=self.run, strategy=strategy, now=self.now),
            )
            decision_ids = pc.take(ids, pc.index_in(mine["account_id"], value_set=accounts))
            queued = _outbox_rows(mine, decision_ids=decision_ids, run=self.run, now=self.now)
            extract.insert(models.ContactAttempt, queued)
        self.chunks += 1
        self.decisions += decisions.num_rows
        self.contacts += queued.num_rows
        self.deferred += int(
            pc.sum(pc.greater(pc.list_value_length(queued["policy_reasons"]), 0)).as_py() or 0
        )
        self.superseded += len(cancelled)
        self.superseded_runs.update(
            int(run_id)
            for contact_id, run_id in zip(
                stale["contact_id"].to_pylist(), stale["run_id"].to_pylist(), strict=True
            )
            if contact_id in cancelled
        )

    def _cancel(self, stale: pa.Table) -> set[int]:
        """Cancel the superseded contacts still PLANNED; return the ids cancelled."""
        if stale.num_rows == 0:
            return set()
        reason = f"superseded by strategy run {self.run.pk} as of {self.run.as_of_date.isoformat()}"
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {extract.t(models.ContactAttempt)} SET status = %s, "
                "failure_reason = %s, notes = %s, updated_at = %s "
                f"WHERE status = %s AND {extract.id_in('id')} RETURNING id",
                [
                    models.ContactStatus.CANCELLED,
                    reason,
                    reason,
                    self.now,
                    models.ContactStatus.PLANNED,
                    extract.ids_json(stale["contact_id"]),
                ],
            )
            return {int(row[0]) for row in cursor.fetchall()}

    def record_superseded(self, *, actor: str, now: datetime.datetime) -> None:
        """Record the one CONTACTS_SUPERSEDED event of the run (inside a transaction)."""
        if not self.superseded:
            return
        log.record(
            actor=actor,
            event_type=events.EventType.CONTACTS_SUPERSEDED,
            subject_type="strategy_run",
            subject_id=self.run.pk,
            parameters={
                "as_of": self.run.as_of_date.isoformat(),
                "contacts": self.superseded,
                "from_runs": sorted(self.superseded_runs),
            },
            now=now,
        )


def _fresh(planned: pa.Table, *, existing: pa.Table) -> pa.Table:
    """Return the outbox rows whose idempotency key is not stored yet."""
    if existing.num_rows == 0:
        return planned
    return planned.filter(
        pc.invert(pc.is_in(planned["idempotency_key"], value_set=existing["idempotency_key"]))
    )


def _complete(
    *,
    run: models.StrategyRun,
    strategy: definition.Strategy,
    tally: _Tally,
    load: _Load,
    errors: list[str],
    phases: _Phases,
    chosen: backends.Engine,
    actor: str,
    now: datetime.datetime,
    clock: Clock,
) -> None:
    """Rank the queue, settle promises and plans, record the report: one transaction."""
    with transaction.atomic(), phases.timed("settle"):
        # The agents' work queue: the day's decisions ranked once, read by index (ADR 0013).
        in_queue = queue_rank.rank_decisions(as_of=run.as_of_date)
        settled = _settle_promises(tally.promises, run=run, actor=actor, now=now)
        plans_settled = _settle_plans(tally.plans, run=run, actor=actor, now=now)
        load.record_superseded(actor=actor, now=now)
    with transaction.atomic():
        finished_at = clock()
        counts = run_report(
            decided=tally.counts,
            contacts_blocked=tally.contacts_blocked,
            load=load,
            already_decided=tally.already_decided,
            errors=errors,
            phases=phases.seconds,
            engine_name=chosen.value,
            extract_via=tally.via,
        )
        counts.update(
            {
                "promises": settled,
                "plans": plans_settled,
                "work_queue": in_queue,
                "duration_seconds": round((finished_at - now).total_seconds(), 3),
            }
        )
        run.status = models.RunStatus.COMPLETED
        run.finished_at = finished_at
        run.accounts = tally.accounts
        run.decisions = load.decisions
        run.contacts_planned = load.contacts
        run.contacts_blocked = tally.contacts_blocked
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
                "contacts_superseded": load.superseded,
                "treatments": counts.get("treatment", {}),
                "arms": counts.get("arm", {}),
                "promises": settled,
                "plans": plans_settled,
            },
            now=now,
        )
        if run.contacts_planned:
            # Once this commits, the dispatcher is asked to send what is due (ADR 0010).
            outbox.announce_queued()


def run_report(
    *,
    decided: dict[str, dict[str, int]],
    contacts_blocked: int,
    load: _Load,
    already_decided: int,
    errors: list[str],
    phases: dict[str, float],
    engine_name: str,
    extract_via: str,
) -> dict[str, Any]:
    """Return a run's report: counts per segment, treatment, arm, channel and more.

    ``decided`` is the engine's tallies (:func:`accord.strategy.engine.counts`), summed over
    the run's ranges.
    """
    counts: dict[str, Any] = {key: dict(sorted(value.items())) for key, value in decided.items()}
    counts["contacts"] = {
        "planned": load.contacts,
        "allowed": load.contacts - load.deferred,
        "deferred": load.deferred,
        "blocked": contacts_blocked,
        "superseded": load.superseded,
    }
    counts["already_decided"] = already_decided
    counts["chunks"] = load.chunks  # ranges that loaded decisions
    counts["errors"] = errors
    counts["phases"] = phases
    counts["engine"] = engine_name
    counts["extract"] = extract_via
    return counts


def _tally(table: pa.Table, column: str) -> dict[str, int]:
    if table.num_rows == 0:
        return {}
    values = pc.fill_null(table[column], strategy_engine.NO_CHANNEL)
    values = pc.if_else(pc.equal(values, ""), strategy_engine.NO_CHANNEL, values)
    counted = pc.value_counts(values)
    return {str(item["values"]): int(item["counts"]) for item in counted.to_pylist()}


def _fail(
    *,
    run: models.StrategyRun,
    error: Exception,
    load: _Load,
    actor: str,
    now: datetime.datetime,
    clock: Clock,
) -> None:
    message = f"{type(error).__name__}: {error}"[:2000]
    with transaction.atomic():
        models.StrategyRun.objects.filter(pk=run.pk).update(
            status=models.RunStatus.FAILED,
            finished_at=clock(),
            error=message,
            decisions=load.decisions,
            contacts_planned=load.contacts,
        )
        load.record_superseded(actor=actor, now=now)
        log.record(
            actor=actor,
            event_type=events.EventType.STRATEGY_RUN_FAILED,
            subject_type="strategy_run",
            subject_id=run.pk,
            parameters={
                "as_of": run.as_of_date.isoformat(),
                "error": message,
                "decisions_loaded": load.decisions,
                "contacts_loaded": load.contacts,
            },
            now=now,
        )


def _constant(value: Any, rows: int, kind: pa.DataType) -> pa.Array:
    return pa.array([value] * rows, kind) if rows else pa.array([], kind)


def _decision_rows(
    decisions: pa.Table,
    *,
    ids: pa.Array,
    run: models.StrategyRun,
    strategy: definition.Strategy,
    now: datetime.datetime,
) -> pa.Table:
    rows = decisions.num_rows
    timestamp = pa.timestamp("us", tz="UTC")
    return pa.table(
        {
            "id": ids,
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
            "segment": pc.fill_null(decisions["segment"], ""),
            "path": pc.fill_null(decisions["path"], ""),
            "experiment": pc.fill_null(decisions["experiment"], ""),
            "arm": pc.fill_null(decisions["arm"], ""),
            "risk_score": decisions["risk_score"],
            "collectability_score": decisions["collectability_score"],
            "created_at": _constant(now, rows, timestamp),
        }
    )


def _outbox_rows(
    planned: pa.Table, *, decision_ids: pa.Array, run: models.StrategyRun, now: datetime.datetime
) -> pa.Table:
    """Return the outbox rows to insert, each linked to this run's decision on its account."""
    fresh = planned.append_column("decision_id", decision_ids)
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
