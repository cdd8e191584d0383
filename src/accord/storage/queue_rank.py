"""Rank one as-of date's decisions into the agents' work queue, set-based, in SQL.

The work queue (``accord.analytics.work_queue``) reads a million decisions in index order
instead of sorting them on every request (ADR 0013). The strategy run ranks the decisions of
its as-of date in the same transaction that loads them:

- ``Decision.queue_rank`` numbers the queued decisions 1..N, without gaps, by delinquency
  stage (``STAGE_ORDER``: RECOVERY first), then arrears (largest first), then account id.
  One stage's decisions therefore hold consecutive ranks, so the size of a stage's queue is
  its largest rank minus its smallest plus one: two index look-ups, never a count.
- ``Decision.queue_call_task`` says that the account had an open call task (a PLANNED call
  in the outbox) when it was ranked. Taking the task over (``usecases.call_outcomes``)
  clears it with :func:`call_task_taken`; only strategy runs plan call tasks.

A decision is queued when its account is neither closed nor settled and it has arrears or
an open call task. Ranking a date clears every other rank first, so the partial indexes on
``queue_rank`` hold only the current queue, never the history of decisions.
"""

from __future__ import annotations

import datetime

from django.db import connection

from accord.domain.arrears import DelinquencyStage
from accord.storage import extract, models

# Which stages come first when nothing more urgent applies.
STAGE_ORDER: tuple[DelinquencyStage, ...] = (
    DelinquencyStage.RECOVERY,
    DelinquencyStage.LATE,
    DelinquencyStage.MID,
    DelinquencyStage.EARLY,
    DelinquencyStage.PRE_DUE,
    DelinquencyStage.CURRENT,
)

# Accounts in these statuses are never worked.
NOT_WORKED = (models.AccountStatus.CLOSED, models.AccountStatus.SETTLED)


def rank_decisions(*, as_of: datetime.date) -> int:
    """Rank the decisions of ``as_of`` into the work queue, clearing all other ranks.

    Runs inside the caller's transaction (the strategy run's load); returns how many
    decisions are queued.
    """
    decision = extract.t(models.Decision)
    stage_rank = (
        "CASE d.stage "
        + " ".join(f"WHEN %s THEN {place}" for place in range(len(STAGE_ORDER)))
        + f" ELSE {len(STAGE_ORDER)} END"
    )
    # Each decision of the day with what ranks it; then the queued ones numbered 1..N.
    flagged = (
        f"SELECT d.id, d.account_id, d.stage, d.arrears_minor, {stage_rank} AS stage_rank, "
        # IN (list): the open call tasks are read once and probed per decision. A correlated
        # EXISTS let SQLite (without statistics) scan every open call task per decision.
        f"d.account_id IN (SELECT c.account_id FROM {extract.t(models.ContactAttempt)} c "
        "WHERE c.channel = %s AND c.status = %s AND c.account_id IS NOT NULL) AS call_task "
        f"FROM {decision} d JOIN {extract.t(models.Account)} a ON a.id = d.account_id "
        "WHERE d.as_of_date = %s AND a.status NOT IN (%s, %s)"
    )
    ranked = (
        "SELECT f.id, f.call_task, ROW_NUMBER() OVER ("
        "ORDER BY f.stage_rank, f.stage, f.arrears_minor DESC, f.account_id) AS position "
        f"FROM ({flagged}) f WHERE f.arrears_minor > 0 OR f.call_task"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {decision} SET queue_rank = NULL, queue_call_task = NULL "
            "WHERE queue_rank IS NOT NULL"
        )
        cursor.execute(
            f"UPDATE {decision} SET queue_rank = r.position, queue_call_task = r.call_task "
            f"FROM ({ranked}) r WHERE {decision}.id = r.id",
            [
                *(stage.value for stage in STAGE_ORDER),
                models.Channel.CALL,
                models.ContactStatus.PLANNED,
                as_of.isoformat(),
                *NOT_WORKED,
            ],
        )
        return max(int(cursor.rowcount), 0)


def call_task_taken(*, account_id: int) -> None:
    """Move the account out of the call tasks of the queue once none is left open.

    Call inside the transaction that takes over (or closes) the account's call task.
    """
    still_open = models.ContactAttempt.objects.filter(
        account_id=account_id,
        channel=models.Channel.CALL,
        status=models.ContactStatus.PLANNED,
    )
    if not still_open.exists():
        models.Decision.objects.filter(account_id=account_id, queue_call_task=True).update(
            queue_call_task=False
        )
