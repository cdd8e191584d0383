"""Dry-run a strategy version: what it would decide as of a date, beside the active version.

A dry run is a record (:class:`~accord.storage.models.StrategyDryRun`) worked in the
background, because deciding a large book takes minutes:

1. :func:`request` checks the version and the date, stores the dry run QUEUED (audited
   ``STRATEGY_DRY_RUN_REQUESTED``) and, once that commits, sends :data:`dry_run_requested`;
   the jobs layer (``accord.jobs.dry_runs``) answers by enqueueing the task that calls
   :func:`execute` under ``accord db_worker``. ``accord strategy dry-run`` works one in the
   foreground instead.
2. :func:`execute` claims it (RUNNING), then reads and decides the book one account range at
   a time (:func:`accord.storage.extract.account_ranges`, the same reads as a run's range:
   :func:`accord.usecases.strategy_run.read_book`), with the version and, on the same rows,
   with the active version. Each range's counts are added to the totals and its decisions
   are dropped but for a bounded sample, so memory follows the range, not the book; the
   progress (ranges done of ranges total) is saved after each range. The result is stored
   and the dry run COMPLETED (audited), or FAILED with its error (audited).

A dry run writes no business row: no decision, no contact, no promise or plan change, no
stored default version; promises and plans are judged in memory only and the experiment
guardrails are not checked. It writes its own row and its audit events, nothing else.

The counts do not depend on the range size: an account is decided from its own rows and its
customer's, all read in its range (see :mod:`accord.usecases.strategy_run`). Neither does
the sample: per segment it keeps the accounts with the lowest :func:`sample_keys` over the
whole book, and then takes them in turn from each segment.

Exceptions::

    DryRunRefused(reason)         nothing was stored
    ├── DryRunFutureDated         the as-of date is after today (the operator's time zone)
    ├── VersionNotFound           no stored version has that id
    └── VersionNotValid           the version's rules no longer validate
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import logging
from collections.abc import Callable
from typing import Any

import django.dispatch
import pyarrow as pa
import pyarrow.compute as pc
from django.db import transaction
from django.utils import timezone

from accord.audit import events, log
from accord.storage import extract, models
from accord.strategy import backends, definition
from accord.strategy import engine as strategy_engine
from accord.usecases import strategies, strategy_run

logger = logging.getLogger(__name__)

# Accounts read and decided at a time: a dry run holds one range of the book in memory.
# Smaller than a run's ranges: a dry run decides each range twice (the version and the
# active one), and its page shows progress per range (a 1M book moves in quarters).
ACCOUNTS_PER_RANGE = 250_000
# Accounts shown with their reasons.
SAMPLE_SIZE = 25
# A RUNNING dry run older than this was left by a worker that died; a new request fails it.
STALE_AFTER = datetime.timedelta(hours=2)
# Multiplier of the sample key (Knuth's multiplicative hash): spreads ids over 32 bits.
_SPREAD = 2_654_435_761
_SAMPLE_COLUMNS = (
    "account_id",
    "segment",
    "path",
    "experiment",
    "arm",
    "treatment",
    "channel",
    "reason_codes",
)

Progress = Callable[[str, int, int], None]
Clock = Callable[[], datetime.datetime]

dry_run_requested = django.dispatch.Signal()
"""Sent (``sender=None``, ``dry_run_id=``) once a requested dry run's row has committed."""

Status = models.DryRunStatus
PENDING = (Status.QUEUED, Status.RUNNING)


class DryRunRefused(Exception):
    """A dry run was refused before anything was stored; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DryRunFutureDated(DryRunRefused):
    """The as-of date is later than today in the operator's time zone."""


class VersionNotFound(DryRunRefused):
    """No stored strategy version has that id."""


class VersionNotValid(DryRunRefused):
    """The version's rules no longer validate."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SampleDecision:
    """Hold one account's decision in a dry run, with what identifies it to a person."""

    account_id: int
    account_ref: str
    customer_name: str
    segment: str
    path: str
    experiment: str
    arm: str
    treatment: str
    channel: str
    reason_codes: list[str]


@dataclasses.dataclass(frozen=True, kw_only=True)
class DryRun:
    """Hold what a strategy would decide, beside what the active version decides.

    ``counts`` maps "segment", "treatment", "arm", "channel" and "contacts" (allowed,
    deferred, blocked) to ``{value: accounts}``. ``active_counts`` is None when the
    strategy is the active version itself.
    """

    as_of: datetime.date
    label: str
    accounts: int
    counts: dict[str, dict[str, int]]
    active_label: str
    active_counts: dict[str, dict[str, int]] | None
    samples: list[SampleDecision]

    def as_json(self) -> dict[str, Any]:
        """Return the result as stored in ``StrategyDryRun.result``."""
        return {
            "as_of": self.as_of.isoformat(),
            "label": self.label,
            "accounts": self.accounts,
            "counts": self.counts,
            "active_label": self.active_label,
            "active_counts": self.active_counts,
            "samples": [dataclasses.asdict(sample) for sample in self.samples],
        }

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> DryRun:
        """Return the result stored by :meth:`as_json`."""
        return cls(
            as_of=datetime.date.fromisoformat(stored["as_of"]),
            label=stored["label"],
            accounts=int(stored["accounts"]),
            counts=stored["counts"],
            active_label=stored["active_label"],
            active_counts=stored["active_counts"],
            samples=[SampleDecision(**sample) for sample in stored["samples"]],
        )


def result(dry_run: models.StrategyDryRun) -> DryRun | None:
    """Return a COMPLETED dry run's result (None before it completes)."""
    if dry_run.status != Status.COMPLETED or not dry_run.result:
        return None
    return DryRun.from_json(dry_run.result)


def request(
    *,
    version_id: int,
    as_of: datetime.date,
    actor: str,
    now: datetime.datetime,
    background: bool = True,
) -> models.StrategyDryRun:
    """Store a dry run of a version as of ``as_of``, QUEUED; return it.

    A dry run of the same version and date still QUEUED or RUNNING is returned instead of a
    new one (a second click waits for the first). One RUNNING for longer than
    :data:`STALE_AFTER`, or whose process is gone, is failed (audited) and a new one stored.
    With ``background`` (the default) :data:`dry_run_requested` is sent once the row commits,
    so that a worker executes it; without, the caller calls :func:`execute` itself.

    Raises :class:`DryRunFutureDated`, :class:`VersionNotFound` and :class:`VersionNotValid`.
    """
    today = timezone.localdate(now)
    if as_of > today:
        raise DryRunFutureDated(
            f"as-of date {as_of.isoformat()} is after today ({today.isoformat()}); a dry run "
            "decides on what is known now, so it cannot be dated in the future"
        )
    version = models.StrategyVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise VersionNotFound(f"there is no strategy version {version_id}")
    try:
        strategies.parsed(version)
    except definition.InvalidStrategy as error:
        raise VersionNotValid(f"{version.label} no longer validates: {error}") from None
    with transaction.atomic():
        pending = (
            models.StrategyDryRun.objects.select_for_update()
            .filter(version=version, as_of_date=as_of, status__in=PENDING)
            .order_by("-requested_at", "-pk")
            .first()
        )
        if pending is not None and not _abandoned(pending, actor=actor, now=now):
            return pending
        dry_run = models.StrategyDryRun.objects.create(
            version=version,
            as_of_date=as_of,
            status=Status.QUEUED,
            requested_by=actor,
            requested_at=now,
        )
        log.record(
            actor=actor,
            event_type=events.EventType.STRATEGY_DRY_RUN_REQUESTED,
            subject_type="strategy_dry_run",
            subject_id=dry_run.pk,
            parameters={
                "version_id": version.pk,
                "strategy": version.label,
                "as_of": as_of.isoformat(),
            },
            now=now,
        )
        if background:
            transaction.on_commit(functools.partial(_announce, dry_run.pk), robust=True)
    return dry_run


def _announce(dry_run_id: int) -> None:
    dry_run_requested.send(sender=None, dry_run_id=dry_run_id)


def _abandoned(dry_run: models.StrategyDryRun, *, actor: str, now: datetime.datetime) -> bool:
    """Fail a RUNNING dry run whose worker died (audited); return whether it was failed."""
    if dry_run.status != Status.RUNNING or dry_run.started_at is None:
        return False
    if strategy_run._process_gone(dry_run.process):
        error = f"abandoned: its process {dry_run.process} is gone"
    elif dry_run.started_at < now - STALE_AFTER:
        error = f"abandoned: still RUNNING after {STALE_AFTER}; its worker must have died"
    else:
        return False
    _record_failure(dry_run, error=error, actor=actor, now=now)
    return True


def execute(
    *,
    dry_run_id: int,
    now: datetime.datetime,
    actor: str,
    clock: Clock | None = None,
    progress: Progress | None = None,
    accounts_per_range: int = ACCOUNTS_PER_RANGE,
    sample: int = SAMPLE_SIZE,
) -> models.StrategyDryRun:
    """Work a QUEUED dry run: decide the book range by range, store the result; return it.

    ``now`` is when it starts (contacts would be planned from then); ``clock`` (entrypoints
    pass ``django.utils.timezone.now``) says when it finished, ``now`` without one.
    ``progress`` is called with (stage, ranges done, ranges total). A dry run that is not
    QUEUED (already worked, or being worked by another process) is returned untouched, so
    running the task twice is harmless. Any error marks it FAILED with the error (audited)
    and is raised again.
    """
    report = progress or (lambda stage, done, total: None)
    finished = clock or (lambda: now)
    with transaction.atomic():
        claimed = models.StrategyDryRun.objects.filter(pk=dry_run_id, status=Status.QUEUED).update(
            status=Status.RUNNING, started_at=now, process=strategy_run.process_name()
        )
    dry_run = models.StrategyDryRun.objects.select_related("version").get(pk=dry_run_id)
    if not claimed:
        logger.info("Dry run %s is %s, not QUEUED: left alone", dry_run_id, dry_run.status)
        return dry_run
    try:
        worked = _decide(
            dry_run,
            now=now,
            report=report,
            accounts_per_range=accounts_per_range,
            sample=sample,
        )
        with transaction.atomic():
            dry_run.status = Status.COMPLETED
            dry_run.finished_at = finished()
            dry_run.result = worked.as_json()
            dry_run.save(update_fields=["status", "finished_at", "result"])
            log.record(
                actor=actor,
                event_type=events.EventType.STRATEGY_DRY_RUN_COMPLETED,
                subject_type="strategy_dry_run",
                subject_id=dry_run.pk,
                parameters={
                    "strategy": worked.label,
                    "as_of": worked.as_of.isoformat(),
                    "accounts": worked.accounts,
                    "ranges": dry_run.ranges_total,
                    "seconds": round((dry_run.finished_at - now).total_seconds(), 3),
                },
                now=dry_run.finished_at,
            )
        report("done", dry_run.ranges_total, dry_run.ranges_total)
    except Exception as error:
        logger.exception("Dry run %s failed", dry_run_id)
        _record_failure(
            dry_run, error=f"{type(error).__name__}: {error}", actor=actor, now=finished()
        )
        raise
    return dry_run


def _record_failure(
    dry_run: models.StrategyDryRun, *, error: str, actor: str, now: datetime.datetime
) -> None:
    with transaction.atomic():
        dry_run.status = Status.FAILED
        dry_run.finished_at = now
        dry_run.error = error
        dry_run.save(update_fields=["status", "finished_at", "error"])
        log.record(
            actor=actor,
            event_type=events.EventType.STRATEGY_DRY_RUN_FAILED,
            subject_type="strategy_dry_run",
            subject_id=dry_run.pk,
            parameters={"as_of": dry_run.as_of_date.isoformat(), "error": error},
            now=now,
        )


def _decide(
    dry_run: models.StrategyDryRun,
    *,
    now: datetime.datetime,
    report: Progress,
    accounts_per_range: int,
    sample: int,
) -> DryRun:
    """Decide the book one range at a time with the version and the active one."""
    as_of = dry_run.as_of_date
    strategy = strategies.parsed(dry_run.version)
    active = _active_strategy()
    compare = active.label != strategy.label
    reading = (strategy, active) if compare else (strategy,)
    ranges = extract.account_ranges(size=accounts_per_range)
    _save_progress(dry_run, done=0, total=len(ranges))
    counts: dict[str, dict[str, int]] = {}
    active_counts: dict[str, dict[str, int]] = {}
    accounts = 0
    kept = _Sample(size=sample)
    for number, within in enumerate(ranges, start=1):
        where = f"range {number} of {len(ranges)}" if len(ranges) > 1 else "the book"
        report(f"deciding {where}", number - 1, len(ranges))
        book = strategy_run.read_book(
            as_of=as_of, now=now, strategies_read=reading, undecided=False, within=within
        )
        backend = backends.connect(backends.Engine.DUCKDB)
        try:
            outcome = _outcome(book, strategy=strategy, as_of=as_of, now=now, backend=backend)
            _add(counts, _dry_counts(outcome))
            accounts += outcome.decisions.num_rows
            kept.add(outcome.decisions)
            if compare:
                baseline = _outcome(book, strategy=active, as_of=as_of, now=now, backend=backend)
                _add(active_counts, _dry_counts(baseline))
        finally:
            backend.disconnect()
        del book  # hold one range at a time
        _save_progress(dry_run, done=number, total=len(ranges))
    return DryRun(
        as_of=as_of,
        label=strategy.label,
        accounts=accounts,
        counts=counts,
        active_label=active.label,
        active_counts=active_counts if compare else None,
        samples=kept.decisions(),
    )


def _outcome(
    book: strategy_run.Book,
    *,
    strategy: definition.Strategy,
    as_of: datetime.date,
    now: datetime.datetime,
    backend: Any,
) -> strategy_engine.Outcome:
    judged = strategy_run._judge(book, strategy=strategy, as_of=as_of)
    return strategy_engine.decide(
        inputs=judged.inputs, strategy=strategy, as_of=as_of, now=now, backend=backend
    )


def _save_progress(dry_run: models.StrategyDryRun, *, done: int, total: int) -> None:
    """Save how many ranges are done, at once (a page shows it while the dry run goes on)."""
    dry_run.ranges_done, dry_run.ranges_total = done, total
    models.StrategyDryRun.objects.filter(pk=dry_run.pk).update(ranges_done=done, ranges_total=total)


def _add(totals: dict[str, dict[str, int]], more: dict[str, dict[str, int]]) -> None:
    for key, values in more.items():
        summed = totals.setdefault(key, {})
        for value, count in values.items():
            summed[value] = summed.get(value, 0) + count


def _active_strategy() -> definition.Strategy:
    """Return the ACTIVE version's rules, or the built-in default (read, never stored)."""
    active = models.StrategyVersion.objects.filter(status=models.StrategyStatus.ACTIVE).first()
    return strategies.parsed(active) if active is not None else definition.load()


def _dry_counts(outcome: strategy_engine.Outcome) -> dict[str, dict[str, int]]:
    """Tally one range's decisions per segment, treatment, arm, channel and contact outcome."""
    decisions = outcome.decisions
    deferred = int(
        pc.sum(pc.greater(pc.list_value_length(outcome.outbox["policy_reasons"]), 0)).as_py() or 0
    )
    arms: dict[str, int] = {}
    if decisions.num_rows:
        keyed = decisions.filter(pc.not_equal(pc.fill_null(decisions["experiment"], ""), ""))
        labels = pc.binary_join_element_wise(keyed["experiment"], keyed["arm"], "/")
        arms = {
            str(item["values"]): int(item["counts"]) for item in pc.value_counts(labels).to_pylist()
        }
    return {
        "segment": strategy_run._tally(decisions, "segment"),
        "treatment": strategy_run._tally(decisions, "treatment"),
        "arm": arms,
        "channel": strategy_run._tally(decisions, "channel"),
        "contacts": {
            "allowed": outcome.outbox.num_rows - deferred,
            "deferred": deferred,
            "blocked": outcome.contacts_blocked,
        },
    }


def sample_keys(account_ids: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Return each account's sample key: its id times a large odd number, modulo 2³².

    Consecutive ids get keys spread over the whole range, so the lowest keys pick accounts
    spread over the whole book, and an account's key never depends on the range it is in.
    """
    # The multiplication may wrap around 2⁶⁴; the low 32 bits are right all the same.
    return pc.bit_wise_and(pc.multiply(pc.cast(account_ids, pa.int64()), _SPREAD), 0xFFFFFFFF)


class _Sample:
    """Keep, per segment, the ``size`` decisions with the lowest sample keys seen so far."""

    def __init__(self, *, size: int) -> None:
        self.size = size
        self.kept: pa.Table | None = None

    def add(self, decisions: pa.Table) -> None:
        """Add one range's decisions, keeping at most ``size`` per segment."""
        if self.size <= 0 or decisions.num_rows == 0:
            return
        chosen = decisions.select(list(_SAMPLE_COLUMNS))
        chosen = chosen.set_column(
            chosen.schema.get_field_index("segment"),
            "segment",
            pc.fill_null(chosen["segment"], ""),
        )
        chosen = chosen.append_column("sample_key", sample_keys(chosen["account_id"]))
        both = chosen if self.kept is None else pa.concat_tables([self.kept, chosen])
        lowest = []
        for segment in pc.unique(both["segment"]).to_pylist():  # a handful of segments
            of_segment = both.filter(pc.equal(both["segment"], segment))
            picked = pc.select_k_unstable(
                of_segment,
                k=min(self.size, of_segment.num_rows),
                sort_keys=[("sample_key", "ascending"), ("account_id", "ascending")],
            )
            lowest.append(of_segment.take(picked))
        self.kept = pa.concat_tables(lowest)

    def decisions(self) -> list[SampleDecision]:
        """Return up to ``size`` decisions taken in turn from each segment, with names."""
        if self.kept is None:
            return []
        by_segment: dict[str, list[dict[str, Any]]] = {}
        ordered = self.kept.sort_by(
            [("segment", "ascending"), ("sample_key", "ascending"), ("account_id", "ascending")]
        )
        for row in ordered.to_pylist():  # at most ``size`` rows per segment
            by_segment.setdefault(row["segment"], []).append(row)
        picked: list[dict[str, Any]] = []
        turn = 0
        while len(picked) < self.size and any(turn < len(rows) for rows in by_segment.values()):
            picked += [rows[turn] for rows in by_segment.values() if turn < len(rows)]
            turn += 1
        picked = sorted(picked[: self.size], key=lambda row: (row["segment"], row["account_id"]))
        names = {
            row["pk"]: (row["external_ref"], row["customer__name"])
            for row in models.Account.objects.filter(
                pk__in=[row["account_id"] for row in picked]
            ).values("pk", "external_ref", "customer__name")
        }
        return [
            SampleDecision(
                account_id=row["account_id"],
                account_ref=names.get(row["account_id"], ("", ""))[0],
                customer_name=names.get(row["account_id"], ("", ""))[1],
                segment=row["segment"] or "",
                path=row["path"] or "",
                experiment=row["experiment"] or "",
                arm=row["arm"] or "",
                treatment=row["treatment"],
                channel=row["channel"] or "",
                reason_codes=list(row["reason_codes"] or []),
            )
            for row in picked
        ]
