"""Order the accounts an agent should work next, in one SQL query on indexed tables.

The queue is the book as the latest completed strategy run saw it (one ``Decision`` per
account, with its days past due, stage and arrears), ranked by:

1. an open call task: a planned CALL in the outbox for the account;
2. a promise due today, or one that fell due yesterday and was not kept;
3. the delinquency stage, RECOVERY first, then LATE, MID, EARLY;
4. the arrears, largest first.

Only accounts with arrears, a call task or a promise due are queued. The ranking runs in
the database (``EXISTS`` sub-queries on the outbox and promise indexes, then
``ORDER BY ... LIMIT``), so no Python loop ever walks the book.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from typing import Any

from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    TextChoices,
    Value,
    When,
)

from accord.domain.arrears import DelinquencyStage
from accord.domain.money import Money
from accord.storage import models

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

# Which stages come first when nothing more urgent applies.
STAGE_ORDER: tuple[DelinquencyStage, ...] = (
    DelinquencyStage.RECOVERY,
    DelinquencyStage.LATE,
    DelinquencyStage.MID,
    DelinquencyStage.EARLY,
    DelinquencyStage.PRE_DUE,
    DelinquencyStage.CURRENT,
)

STAGE_LABELS: dict[str, str] = {
    DelinquencyStage.RECOVERY: "Recovery",
    DelinquencyStage.LATE: "Late",
    DelinquencyStage.MID: "Mid",
    DelinquencyStage.EARLY: "Early",
    DelinquencyStage.PRE_DUE: "Pre-due",
    DelinquencyStage.CURRENT: "Current",
}


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
        return (self.page - 1) * self.page_size + 1 if self.items else 0

    @property
    def last_position(self) -> int:
        """Return the queue position of this page's last item (0 when empty)."""
        return self.first_position + len(self.items) - 1 if self.items else 0


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
    queue: QuerySet[Any] = _queue(as_of=as_of, today=today)
    if stages:
        queue = queue.filter(stage__in=list(stages))
    if focus == Focus.CALL_TASKS:
        queue = queue.filter(Q(call_task=True))
    elif focus == Focus.PROMISES:
        queue = queue.filter(Q(promise_due=True) | Q(promise_broken=True))
    total = queue.count()
    start = (page - 1) * page_size
    rows = queue.order_by(
        F("call_task").desc(),
        F("promise_rank").asc(),
        F("stage_rank").asc(),
        F("arrears_minor").desc(),
        F("account_id").asc(),
    ).values(
        "account_id",
        "account__external_ref",
        "account__customer_id",
        "account__customer__name",
        "stage",
        "bucket",
        "days_past_due",
        "arrears_minor",
        "balance_minor",
        "currency",
        "call_task",
        "promise_due",
        "promise_broken",
    )[start : start + page_size]
    items = [_item(row, position=start + offset + 1) for offset, row in enumerate(rows)]
    return QueuePage(items=items, total=total, page=page, page_size=page_size, as_of_date=as_of)


def _queue(*, as_of: datetime.date, today: datetime.date) -> QuerySet[Any]:
    yesterday = today - datetime.timedelta(days=1)
    call_task = models.ContactAttempt.objects.filter(
        account=OuterRef("account_id"),
        channel=models.Channel.CALL,
        status=models.ContactStatus.PLANNED,
    )
    promise_due = models.Promise.objects.filter(
        account=OuterRef("account_id"),
        status=models.PromiseStatus.OPEN,
        promised_date=today,
    )
    # Broken yesterday: marked BROKEN, or still OPEN because nothing has judged it yet.
    promise_broken = models.Promise.objects.filter(
        account=OuterRef("account_id"),
        status__in=[models.PromiseStatus.OPEN, models.PromiseStatus.BROKEN],
        promised_date=yesterday,
    )
    stage_rank = Case(
        *(When(stage=stage.value, then=Value(rank)) for rank, stage in enumerate(STAGE_ORDER)),
        default=Value(len(STAGE_ORDER)),
        output_field=IntegerField(),
    )
    return (
        models.Decision.objects.filter(as_of_date=as_of)
        .exclude(account__status__in=[models.AccountStatus.CLOSED, models.AccountStatus.SETTLED])
        .annotate(
            call_task=Exists(call_task),
            promise_due=Exists(promise_due),
            promise_broken=Exists(promise_broken),
            stage_rank=stage_rank,
        )
        .annotate(
            promise_rank=Case(
                When(Q(promise_due=True) | Q(promise_broken=True), then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .filter(
            Q(arrears_minor__gt=0)
            | Q(call_task=True)
            | Q(promise_due=True)
            | Q(promise_broken=True)
        )
    )


def _item(row: dict[str, object], *, position: int) -> QueueItem:
    currency = str(row["currency"])
    reasons: list[Reason] = []
    if row["call_task"]:
        reasons.append(Reason.CALL_TASK)
    if row["promise_due"]:
        reasons.append(Reason.PROMISE_DUE_TODAY)
    if row["promise_broken"]:
        reasons.append(Reason.PROMISE_BROKEN)
    arrears_minor = int(str(row["arrears_minor"]))
    if arrears_minor > 0:
        reasons.append(Reason.IN_ARREARS)
    return QueueItem(
        position=position,
        account_id=int(str(row["account_id"])),
        account_ref=str(row["account__external_ref"]),
        customer_id=int(str(row["account__customer_id"])),
        customer_name=str(row["account__customer__name"]),
        stage=str(row["stage"]),
        bucket=str(row["bucket"]),
        days_past_due=int(str(row["days_past_due"])),
        arrears=Money.from_minor_units(arrears_minor, currency),
        balance=Money.from_minor_units(int(str(row["balance_minor"])), currency),
        reasons=tuple(reasons),
    )
