"""Order the accounts an agent should work next, reading the strategy run's ranking by index.

The queue is the book as the latest completed strategy run saw it (one ``Decision`` per
account, with its days past due, stage and arrears), ranked by:

1. an open call task: a planned CALL in the outbox for the account;
2. a promise due today, or one that fell due yesterday and was not kept;
3. the delinquency stage, RECOVERY first, then LATE, MID, EARLY;
4. the arrears, largest first.

Only accounts with arrears, a call task or a promise due are queued. Nothing here sorts
the book or counts the queue (ADR 0013): the run ranks its decisions once
(:mod:`accord.storage.queue_rank`: ``queue_rank`` by stage and arrears, ``queue_call_task``
while the account's call task is open), and a page is read from four segments in turn:

A. accounts with a call task and a promise due or broken (few: read live, sorted here);
B. the other call tasks, in rank order (a range of a partial index, ``OFFSET``/``LIMIT``);
C. the other accounts with a promise due or broken (few, live);
D. every other queued account, in rank order (an index range).

Segment sizes come from one count over the call-task range and each stage's smallest and
largest rank. Promises are read live, so one recorded, kept or broken since the run moves
its account at once; a call task moves down as soon as an agent takes it over. An account
closed or settled since the run is left off its page (which then shows a row fewer, its
position skipped) and still counted until the next run.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, TextChoices

from accord.domain.arrears import DelinquencyStage
from accord.domain.money import Money
from accord.storage import extract, models, queue_rank

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

# Which stages come first when nothing more urgent applies.
STAGE_ORDER: tuple[DelinquencyStage, ...] = queue_rank.STAGE_ORDER

STAGE_LABELS: dict[str, str] = {
    DelinquencyStage.RECOVERY: "Recovery",
    DelinquencyStage.LATE: "Late",
    DelinquencyStage.MID: "Mid",
    DelinquencyStage.EARLY: "Early",
    DelinquencyStage.PRE_DUE: "Pre-due",
    DelinquencyStage.CURRENT: "Current",
}

# What a page reads of each decision it shows.
_FIELDS = (
    "id",
    "account_id",
    "account__external_ref",
    "account__customer_id",
    "account__customer__name",
    "account__status",
    "stage",
    "bucket",
    "days_past_due",
    "arrears_minor",
    "balance_minor",
    "currency",
    "queue_call_task",
    "queue_rank",
)


def stage_label(stage: str) -> str:
    """Return the words for a delinquency stage code (the code itself if unknown)."""
    return STAGE_LABELS.get(stage, stage)


class Reason(TextChoices):
    """Say why an account is in the queue."""

    CALL_TASK = "CALL_TASK", "Call task"
    PROMISE_DUE_TODAY = "PROMISE_DUE_TODAY", "Promise due today"
    PROMISE_BROKEN = "PROMISE_BROKEN", "Promise broken yesterday"
    IN_ARREARS = "IN_ARREARS", "In arrears"


class Focus(TextChoices):
    """Narrow the queue to one kind of work."""

    ALL = "", "All work"
    CALL_TASKS = "CALL_TASKS", "Call tasks"
    PROMISES = "PROMISES", "Promises due or broken"


@dataclasses.dataclass(frozen=True, kw_only=True)
class QueueItem:
    """One account in the queue, with what the agent needs to pick it."""

    position: int
    account_id: int
    account_ref: str
    customer_id: int
    customer_name: str
    stage: str
    bucket: str
    days_past_due: int
    arrears: Money
    balance: Money
    reasons: tuple[Reason, ...]

    @property
    def stage_label(self) -> str:
        """Return the stage in words."""
        return stage_label(self.stage)


@dataclasses.dataclass(frozen=True, kw_only=True)
class QueuePage:
    """One page of the queue and where it sits in the whole."""

    items: list[QueueItem]
    total: int
    page: int
    page_size: int
    as_of_date: datetime.date | None

    @property
    def pages(self) -> int:
        """Return how many pages the whole queue fills (at least one)."""
        return max(1, -(-self.total // self.page_size))

    @property
    def has_previous(self) -> bool:
        """Return whether a page comes before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Return whether a page comes after this one."""
        return self.page < self.pages

    @property
    def first_position(self) -> int:
        """Return the queue position of this page's first item (0 when empty)."""
        return self.items[0].position if self.items else 0

    @property
    def last_position(self) -> int:
        """Return the queue position of this page's last item (0 when empty)."""
        return self.items[-1].position if self.items else 0


def latest_as_of_date() -> datetime.date | None:
    """Return the as-of date of the latest completed strategy run, if any."""
    return (
        models.StrategyRun.objects.filter(status=models.RunStatus.COMPLETED)
        .order_by("-as_of_date", "-pk")
        .values_list("as_of_date", flat=True)
        .first()
    )


def work_queue(
    *,
    today: datetime.date,
    stages: Sequence[str] = (),
    focus: Focus = Focus.ALL,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> QueuePage:
    """Return page ``page`` of the queue as of ``today``, optionally narrowed.

    ``stages`` keeps only accounts in those delinquency stages; ``focus`` only call tasks
    or only promises due today or broken yesterday. Pages past the end come back empty.
    """
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    as_of = latest_as_of_date()
    if as_of is None:
        return QueuePage(items=[], total=0, page=page, page_size=page_size, as_of_date=None)
    stages = list(stages)
    promised = _promised(as_of=as_of, today=today, stages=stages)
    segments = _segments(as_of=as_of, stages=stages, focus=focus, promised=promised)
    start = (page - 1) * page_size
    slots = _slice(segments, start=start, count=page_size, as_of=as_of, stages=stages)
    rows = _rows([slot for _, slot in slots if isinstance(slot, int)])
    items = []
    for position, slot in slots:
        row = rows.get(slot) if isinstance(slot, int) else slot
        if row is not None and row["account__status"] not in queue_rank.NOT_WORKED:
            items.append(_item(row, position=position))
    total = sum(segment.size for segment in segments)
    return QueuePage(items=items, total=total, page=page, page_size=page_size, as_of_date=as_of)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Segment:
    """A run of the queue: rows read live (``listed``), or an index range of ranks."""

    size: int
    listed: list[dict[str, Any]] | None = None
    call_task: bool = False
    excluded: tuple[int, ...] = ()


def _segments(
    *,
    as_of: datetime.date,
    stages: list[str],
    focus: Focus,
    promised: list[dict[str, Any]],
) -> list[_Segment]:
    """Return the queue's segments in order, each with its size (A to D above)."""
    if focus == Focus.PROMISES:
        return [
            _Segment(
                size=len(promised),
                listed=sorted(promised, key=lambda row: (not row["queue_call_task"], _order(row))),
            )
        ]
    call_tasks, ranked = _sizes(as_of=as_of, stages=stages)
    with_task = sorted((row for row in promised if row["queue_call_task"]), key=_order)
    without = sorted((row for row in promised if not row["queue_call_task"]), key=_order)
    excluded = tuple(int(row["id"]) for row in promised)
    segments = [
        _Segment(size=len(with_task), listed=with_task),
        _Segment(
            size=max(0, call_tasks - len(with_task)),
            call_task=True,
            excluded=excluded,
        ),
    ]
    if focus == Focus.ALL:
        ranked_without = sum(1 for row in without if row["queue_rank"] is not None)
        segments += [
            _Segment(size=len(without), listed=without),
            _Segment(
                size=max(0, ranked - call_tasks - ranked_without),
                call_task=False,
                excluded=excluded,
            ),
        ]
    return segments


def _order(row: dict[str, Any]) -> tuple[int, str, int, int]:
    """Return the key ``queue_rank`` follows: stage order, stage, arrears down, account."""
    stage = str(row["stage"])
    place = next(
        (index for index, known in enumerate(STAGE_ORDER) if known == stage), len(STAGE_ORDER)
    )
    return (place, stage, -int(row["arrears_minor"]), int(row["account_id"]))


Slot = tuple[int, dict[str, Any] | int]


def _slice(
    segments: list[_Segment],
    *,
    start: int,
    count: int,
    as_of: datetime.date,
    stages: list[str],
) -> list[Slot]:
    """Return positions ``start`` + 1 onwards, at most ``count``: (position, row or id).

    A segment read live gives its rows; a ranked one the decision ids in its index range.
    """
    slots: list[Slot] = []
    base = 0
    for segment in segments:
        position = start + len(slots)
        if len(slots) == count:
            break
        if base <= position < base + segment.size:
            offset = position - base
            wanted = min(count - len(slots), segment.size - offset)
            taken: list[dict[str, Any] | int] = []
            if segment.listed is not None:
                taken.extend(segment.listed[offset : offset + wanted])
            else:
                taken += _ranked_ids(
                    as_of=as_of,
                    stages=stages,
                    call_task=segment.call_task,
                    excluded=segment.excluded,
                    offset=offset,
                    limit=wanted,
                )
            slots += [(position + index + 1, slot) for index, slot in enumerate(taken)]
            if len(taken) < wanted:
                break  # the book changed between the counts and this read: stop here
        base += segment.size
    return slots


def _where(*, as_of: datetime.date, stages: list[str]) -> tuple[str, list[Any]]:
    sql = "as_of_date = %s AND queue_rank IS NOT NULL"
    params: list[Any] = [as_of.isoformat()]
    if stages:
        sql += f" AND stage IN ({', '.join(['%s'] * len(stages))})"
        params += stages
    return sql, params


def _sizes(*, as_of: datetime.date, stages: list[str]) -> tuple[int, int]:
    """Return how many call tasks and how many ranked decisions the queue holds.

    Ranks run 1..N without gaps stage by stage, so each stage's size is its largest rank
    minus its smallest plus one: index look-ups, where a count would read every row.
    """
    table = extract.t(models.Decision)
    where, params = _where(as_of=as_of, stages=stages)
    parts = [f"(SELECT COUNT(*) FROM {table} WHERE {where} AND queue_call_task = %s)"]
    values: list[Any] = [*params, True]
    each_stage: list[str | None] = [*stages] or [None]
    for stage in each_stage:
        stage_where, stage_params = _where(as_of=as_of, stages=[stage] if stage else [])
        for flag in (True, False):
            for extreme in ("MIN", "MAX"):
                parts.append(
                    f"(SELECT {extreme}(queue_rank) FROM {table} "
                    f"WHERE {stage_where} AND queue_call_task = %s)"
                )
                values += [*stage_params, flag]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", values)
        row = cursor.fetchone()
    call_tasks = int(row[0] or 0)
    ranked = 0
    for index in range(1, len(row), 4):
        low = [value for value in (row[index], row[index + 2]) if value is not None]
        high = [value for value in (row[index + 1], row[index + 3]) if value is not None]
        if low and high:
            ranked += int(max(high)) - int(min(low)) + 1
    return call_tasks, ranked


def _ranked_ids(
    *,
    as_of: datetime.date,
    stages: list[str],
    call_task: bool,
    excluded: tuple[int, ...],
    offset: int,
    limit: int,
) -> list[int]:
    """Return the ids of ranked decisions ``offset`` onwards: read from the index alone."""
    where, params = _where(as_of=as_of, stages=stages)
    sql = f"SELECT id FROM {extract.t(models.Decision)} WHERE {where} AND queue_call_task = %s"
    params.append(call_task)
    if excluded:
        sql += f" AND NOT {extract.id_in('id')}"
        params.append(extract.ids_json(excluded))
    sql += " ORDER BY queue_rank LIMIT %s OFFSET %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        return [int(row[0]) for row in cursor.fetchall()]


def _rows(ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return what a page shows of the decisions ``ids``, by id, in one query."""
    if not ids:
        return {}
    rows = models.Decision.objects.filter(pk__in=ids).values(*_FIELDS)
    return {int(row["id"]): row for row in rows}


def _promised(
    *, as_of: datetime.date, today: datetime.date, stages: list[str]
) -> list[dict[str, Any]]:
    """Return the decisions of accounts with a promise due today or broken yesterday, live.

    Few accounts have a promise falling due on a given day, and the promise index finds
    them, so this part of the queue is never stale.
    """
    yesterday = today - datetime.timedelta(days=1)
    due_today = Q(status=models.PromiseStatus.OPEN, promised_date=today)
    # Broken yesterday: marked BROKEN, or still OPEN because nothing has judged it yet.
    broke_yesterday = Q(
        status__in=[models.PromiseStatus.OPEN, models.PromiseStatus.BROKEN],
        promised_date=yesterday,
    )
    promises = models.Promise.objects.filter(due_today | broke_yesterday)
    decisions = (
        models.Decision.objects.filter(
            as_of_date=as_of, account_id__in=promises.values("account_id")
        )
        .exclude(account__status__in=queue_rank.NOT_WORKED)
        .annotate(
            promise_due=Exists(promises.filter(due_today, account=OuterRef("account_id"))),
            promise_broken=Exists(promises.filter(broke_yesterday, account=OuterRef("account_id"))),
        )
    )
    if stages:
        decisions = decisions.filter(stage__in=stages)
    return list(decisions.values(*_FIELDS, "promise_due", "promise_broken"))


def _item(row: dict[str, Any], *, position: int) -> QueueItem:
    currency = str(row["currency"])
    reasons: list[Reason] = []
    if row["queue_call_task"]:
        reasons.append(Reason.CALL_TASK)
    if row.get("promise_due"):
        reasons.append(Reason.PROMISE_DUE_TODAY)
    if row.get("promise_broken"):
        reasons.append(Reason.PROMISE_BROKEN)
    arrears_minor = int(row["arrears_minor"])
    if arrears_minor > 0:
        reasons.append(Reason.IN_ARREARS)
    return QueueItem(
        position=position,
        account_id=int(row["account_id"]),
        account_ref=str(row["account__external_ref"]),
        customer_id=int(row["account__customer_id"]),
        customer_name=str(row["account__customer__name"]),
        stage=str(row["stage"]),
        bucket=str(row["bucket"]),
        days_past_due=int(row["days_past_due"]),
        arrears=Money.from_minor_units(arrears_minor, currency),
        balance=Money.from_minor_units(int(row["balance_minor"]), currency),
        reasons=tuple(reasons),
    )
