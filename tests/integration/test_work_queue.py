"""The work queue's ranking: the strategy run ranks the day once, and every page reads it."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

import pytest

from accord.analytics import work_queue
from accord.domain.money import Money
from accord.storage import models, queue_rank
from accord.usecases import call_outcomes, promises, strategy_run
from tests.integration import workspace_data as data

NOW = data.NOW
TODAY = data.TODAY
YESTERDAY = TODAY - datetime.timedelta(days=1)
_serial = itertools.count(1)


def completed_run(as_of: datetime.date = TODAY) -> models.StrategyRun:
    return models.StrategyRun.objects.create(
        as_of_date=as_of,
        strategy_name="default",
        strategy_version="test",
        status=models.RunStatus.COMPLETED,
        started_at=NOW,
        finished_at=NOW,
        started_by="cli:test",
    )


def decided(
    run: models.StrategyRun,
    *,
    stage: str,
    arrears_minor: int,
    status: str = models.AccountStatus.OPEN,
) -> models.Account:
    """Return a new account with the run's decision about it."""
    n = next(_serial)
    owner = data.customer(f"C-{n}", name=f"Customer {n}", email=None, phone=None)
    account = data.account(owner, f"A-{n}", status=status)
    models.Decision.objects.create(
        run=run,
        account=account,
        as_of_date=run.as_of_date,
        days_past_due=0,
        bucket="ANY",
        stage=stage,
        arrears_minor=arrears_minor,
        balance_minor=arrears_minor + 100,
        currency=account.currency,
        treatment=models.Treatment.NONE,
        reason_codes=[],
        strategy_version="test",
        created_at=NOW,
    )
    return account


def call_task(account: models.Account) -> models.ContactAttempt:
    return models.ContactAttempt.objects.create(
        customer=account.customer,
        account=account,
        channel=models.Channel.CALL,
        template="call_task",
        origin=models.ContactOrigin.STRATEGY,
        planned_at=NOW,
        status=models.ContactStatus.PLANNED,
        idempotency_key=f"task:{account.pk}",
        **data.stamp(),
    )


def rank(as_of: datetime.date = TODAY) -> dict[int, int | None]:
    """Rank the day as the run does; return each decision's rank by account id."""
    queue_rank.rank_decisions(as_of=as_of)
    return dict(
        models.Decision.objects.filter(as_of_date=as_of).values_list("account_id", "queue_rank")
    )


def expected(
    *, stages: tuple[str, ...] = (), focus: work_queue.Focus = work_queue.Focus.ALL
) -> list[int]:
    """Return the queue as its definition reads, straight from the tables: account ids."""
    as_of = work_queue.latest_as_of_date()
    rows = []
    for decision in models.Decision.objects.filter(as_of_date=as_of).select_related("account"):
        if decision.account.status in queue_rank.NOT_WORKED:
            continue
        account = decision.account
        task = account.contacts.filter(
            channel=models.Channel.CALL, status=models.ContactStatus.PLANNED
        ).exists()
        promised = (
            account.promises.filter(status=models.PromiseStatus.OPEN, promised_date=TODAY).exists()
            or account.promises.filter(
                status__in=[models.PromiseStatus.OPEN, models.PromiseStatus.BROKEN],
                promised_date=YESTERDAY,
            ).exists()
        )
        if not (decision.arrears_minor > 0 or task or promised):
            continue
        if stages and decision.stage not in stages:
            continue
        if focus == work_queue.Focus.CALL_TASKS and not task:
            continue
        if focus == work_queue.Focus.PROMISES and not promised:
            continue
        place = [s.value for s in work_queue.STAGE_ORDER].index(decision.stage)
        key = (not task, not promised, place, -decision.arrears_minor, account.pk)
        rows.append((key, account.pk))
    return [account_id for _, account_id in sorted(rows)]


def every_page(
    *,
    page_size: int,
    stages: tuple[str, ...] = (),
    focus: work_queue.Focus = work_queue.Focus.ALL,
) -> tuple[list[int], list[int], int]:
    """Read the queue page by page: account ids, their positions, and the total."""
    ids: list[int] = []
    positions: list[int] = []
    number = 1
    while True:
        page = work_queue.work_queue(
            today=TODAY, stages=stages, focus=focus, page=number, page_size=page_size
        )
        ids += [item.account_id for item in page.items]
        positions += [item.position for item in page.items]
        if not page.has_next:
            return ids, positions, page.total
        number += 1


@pytest.fixture
def mixed_book() -> dict[str, models.Account]:
    """Every kind of work in several stages, ranked, then changed the way a day changes it."""
    run = completed_run()
    book: dict[str, models.Account] = {}
    stages = ["EARLY", "RECOVERY", "MID", "LATE", "CURRENT", "PRE_DUE"]
    for n in range(36):
        stage = stages[n % len(stages)]
        arrears = 0 if stage in ("CURRENT", "PRE_DUE") else (n * 7_919) % 50_000 + 1
        book[f"a{n}"] = decided(run, stage=stage, arrears_minor=arrears)
    for n in (1, 3, 4, 9, 10, 14, 21, 22, 27, 33):
        call_task(book[f"a{n}"])
    closed = decided(run, stage="RECOVERY", arrears_minor=99_999, status="CLOSED")
    call_task(closed)
    rank()
    # After the run: agents take over two tasks, promises fall due, one is broken.
    for n in (4, 21):
        models.ContactAttempt.objects.filter(account=book[f"a{n}"]).update(
            status=models.ContactStatus.SENDING
        )
        queue_rank.call_task_taken(account_id=book[f"a{n}"].pk)
    for n, when, status in (
        (3, TODAY, "OPEN"),
        (4, TODAY, "OPEN"),
        (7, YESTERDAY, "BROKEN"),
        (12, TODAY, "OPEN"),  # a current account: no arrears, queued for its promise
        (16, YESTERDAY, "OPEN"),
        (25, TODAY, "KEPT"),  # kept: not work
        (26, YESTERDAY - datetime.timedelta(days=1), "BROKEN"),  # too old to count
    ):
        data.promise(book[f"a{n}"], promised_date=when, status=status)
    return book


def test_a_strategy_run_ranks_its_queue_by_stage_then_arrears() -> None:
    def overdue(days_late: int, arrears: str, **options: str) -> models.Account:
        owner = data.customer(f"C-{days_late}", name=f"Late {days_late}")
        account = data.account(owner, f"A-{days_late}", **options)
        data.charge(account, arrears, TODAY - datetime.timedelta(days=days_late))
        return account

    recovery = overdue(200, "50.00")
    late = overdue(120, "900.00")
    mid = overdue(45, "300.00")
    early = overdue(10, "700.00")
    closed = overdue(300, "5000.00", status=models.AccountStatus.CLOSED)
    paid_up = data.account(data.customer("C-paid", name="Paid Up"), "A-paid")

    run = strategy_run.start_run(as_of=TODAY, actor="test:queue", now=NOW)

    ranks = dict(models.Decision.objects.values_list("account_id", "queue_rank"))
    tasks = dict(models.Decision.objects.values_list("account_id", "queue_call_task"))
    assert [ranks[a.pk] for a in (recovery, late, mid, early)] == [1, 2, 3, 4]
    assert ranks[closed.pk] is None
    assert ranks[paid_up.pk] is None
    # 200 days past due is past the call step: an ESCALATION flag, no call task.
    assert [tasks[a.pk] for a in (recovery, late, mid)] == [False, True, False]
    assert run.counts["work_queue"] == 4
    page = work_queue.work_queue(today=TODAY)
    # Open call tasks come first on the page, then the rank.
    assert [item.account_id for item in page.items] == [late.pk, recovery.pk, mid.pk, early.pk]
    assert page.items[0].reasons == (work_queue.Reason.CALL_TASK, work_queue.Reason.IN_ARREARS)


def test_ranks_run_without_gaps_stage_by_stage_and_skip_what_needs_no_work() -> None:
    run = completed_run()
    early_small = decided(run, stage="EARLY", arrears_minor=100)
    late = decided(run, stage="LATE", arrears_minor=100)
    early_big = decided(run, stage="EARLY", arrears_minor=9_000)
    paid_up = decided(run, stage="CURRENT", arrears_minor=0)
    called = decided(run, stage="CURRENT", arrears_minor=0)
    settled = decided(run, stage="RECOVERY", arrears_minor=5_000, status="SETTLED")
    call_task(called)

    ranks = rank()

    assert ranks == {
        late.pk: 1,
        early_big.pk: 2,
        early_small.pk: 3,
        called.pk: 4,
        paid_up.pk: None,
        settled.pk: None,
    }


def test_ranking_a_new_day_clears_the_previous_day_s_ranks() -> None:
    yesterday = decided(completed_run(YESTERDAY), stage="LATE", arrears_minor=100)
    rank(YESTERDAY)
    today = decided(completed_run(), stage="EARLY", arrears_minor=100)

    rank(TODAY)

    assert models.Decision.objects.get(account=yesterday).queue_rank is None
    assert models.Decision.objects.get(account=today).queue_rank == 1


def test_a_second_run_the_same_day_ranks_its_accounts_among_the_first_run_s() -> None:
    first = completed_run()
    small = decided(first, stage="MID", arrears_minor=100)
    big = decided(first, stage="MID", arrears_minor=10_000)
    rank()
    middle = decided(completed_run(), stage="MID", arrears_minor=5_000)

    assert rank() == {big.pk: 1, middle.pk: 2, small.pk: 3}


@pytest.mark.parametrize("page_size", [1, 4, 7, 100])
def test_every_page_follows_the_queue_s_order_across_its_parts(
    mixed_book: dict[str, models.Account], page_size: int
) -> None:
    ids, positions, total = every_page(page_size=page_size)

    assert ids == expected()
    assert positions == list(range(1, len(ids) + 1))
    assert total == len(ids)


@pytest.mark.parametrize("stage", ["RECOVERY", "LATE", "MID", "EARLY", "CURRENT", "PRE_DUE"])
@pytest.mark.parametrize("focus", list(work_queue.Focus))
def test_every_stage_and_kind_of_work_pages_in_the_queue_s_order(
    mixed_book: dict[str, models.Account], stage: str, focus: work_queue.Focus
) -> None:
    ids, positions, total = every_page(page_size=2, stages=(stage,), focus=focus)

    assert ids == expected(stages=(stage,), focus=focus)
    assert positions == list(range(1, len(ids) + 1))
    assert total == len(ids)


@pytest.mark.parametrize("focus", list(work_queue.Focus))
def test_every_kind_of_work_pages_in_the_queue_s_order(
    mixed_book: dict[str, models.Account], focus: work_queue.Focus
) -> None:
    ids, _, total = every_page(page_size=3, focus=focus)

    assert ids == expected(focus=focus)
    assert total == len(ids)


def test_starting_the_call_of_a_call_task_moves_the_account_to_its_stage_place() -> None:
    run = completed_run()
    recovery = decided(run, stage="RECOVERY", arrears_minor=100)
    tasked = decided(run, stage="EARLY", arrears_minor=100)
    customer = tasked.customer
    models.ContactPoint.objects.create(
        customer=customer, kind=models.ContactPointKind.PHONE, value="+34612345678"
    )
    call_task(tasked)
    rank()
    before = work_queue.work_queue(today=TODAY)

    call_outcomes.start_call(
        customer_id=customer.pk, account_id=tasked.pk, agent="agent-bo", now=NOW
    )

    after = work_queue.work_queue(today=TODAY)
    assert [item.account_id for item in before.items] == [tasked.pk, recovery.pk]
    assert [item.account_id for item in after.items] == [recovery.pk, tasked.pk]
    assert after.items[1].reasons == (work_queue.Reason.IN_ARREARS,)
    assert work_queue.work_queue(today=TODAY, focus=work_queue.Focus.CALL_TASKS).total == 0


def test_a_promise_recorded_after_the_run_moves_its_account_up_at_once() -> None:
    run = completed_run()
    recovery = decided(run, stage="RECOVERY", arrears_minor=100)
    early = decided(run, stage="EARLY", arrears_minor=100)
    data.charge(early, "1.00", TODAY - datetime.timedelta(days=10))
    rank()

    promises.record_promise(
        account_id=early.pk,
        amount=Money(Decimal("1.00"), early.currency),
        promised_date=TODAY,
        source=models.Source.AGENT,
        actor="agent-bo",
        now=NOW,
    )

    page = work_queue.work_queue(today=TODAY)
    assert [item.account_id for item in page.items] == [early.pk, recovery.pk]
    assert page.items[0].reasons == (
        work_queue.Reason.PROMISE_DUE_TODAY,
        work_queue.Reason.IN_ARREARS,
    )
    assert page.total == 2


def test_an_account_closed_since_the_run_leaves_its_page_and_its_place_is_skipped() -> None:
    run = completed_run()
    accounts = [decided(run, stage="LATE", arrears_minor=1_000 - n) for n in range(5)]
    rank()

    models.Account.objects.filter(pk=accounts[1].pk).update(status=models.AccountStatus.CLOSED)

    first = work_queue.work_queue(today=TODAY, page_size=3)
    second = work_queue.work_queue(today=TODAY, page=2, page_size=3)
    assert [(i.position, i.account_id) for i in first.items] == [
        (1, accounts[0].pk),
        (3, accounts[2].pk),
    ]
    assert [(i.position, i.account_id) for i in second.items] == [
        (4, accounts[3].pk),
        (5, accounts[4].pk),
    ]
    assert first.total == 5  # counted until the next run ranks the day again


def test_a_page_past_the_end_is_empty_and_keeps_the_total(
    mixed_book: dict[str, models.Account],
) -> None:
    page = work_queue.work_queue(today=TODAY, page=99, page_size=25)

    assert page.items == []
    assert page.total == len(expected())
    assert (page.first_position, page.last_position) == (0, 0)
