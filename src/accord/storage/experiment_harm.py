"""Count customer-harm events per experiment arm over a window of decisions, in SQL.

The customer-harm guardrails (``accord.usecases.guardrails``) and the experiment results
(``accord.analytics.experiments``) read the same figures, so they share this one query
(docs/metrics.md, "Experiments"):

- an arm's **accounts** are the distinct accounts with a decision in that arm of the
  experiment whose as-of date lies in the window (``start`` to ``end``, both included);
  an arm's **customers** are those accounts' customers;
- **opt-outs** are channel opt-outs of the arm's customers, **complaints** complaints of
  the arm's customers, **disputes** disputes received on the arm's accounts, and
  **broken promises** promises on the arm's accounts resolved as BROKEN, each counted
  once per arm when it happened in the window (from the start date's local midnight to
  the local midnight after the end date).

One statement, grouped by arm: never a query per account. :func:`harm_by_arm` reads the arms
from the decisions (any window); :func:`recent_harm_by_arm` from the experiment assignments
(``accord.storage.experiment_assignments``), which is exact for a window that runs up to today
and costs an index range instead of a scan of the window's decisions: the guardrails use it.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from accord.storage import extract, models

PER = Decimal(1000)


class Measure(enum.StrEnum):
    """Name a customer-harm measure; the values are the guardrail keys in a strategy."""

    OPT_OUTS = "opt_outs"
    COMPLAINTS = "complaints"
    DISPUTES = "disputes"
    BROKEN_PROMISES = "broken_promises"

    @property
    def label(self) -> str:
        """Return the measure's name as people read it."""
        return self.value.replace("_", " ")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArmHarm:
    """Hold one arm's accounts and harm events over a window."""

    arm: str
    accounts: int
    events: Mapping[Measure, int]

    def rate(self, measure: Measure) -> Decimal | None:
        """Return the events of ``measure`` per 1,000 accounts, or ``None`` without accounts."""
        if self.accounts == 0:
            return None
        return Decimal(self.events.get(measure, 0)) * PER / Decimal(self.accounts)


def window_bounds(
    *, start: datetime.date, end: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    """Return the instants ``[start's local midnight, the local midnight after end)``."""
    since = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    until = timezone.make_aware(
        datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min)
    )
    return since, until


def harm_by_arm(*, experiment: str, start: datetime.date, end: datetime.date) -> dict[str, ArmHarm]:
    """Return each arm's accounts and harm events for decisions dated ``start`` to ``end``.

    Arms without a decision in the window are absent.
    """
    return _harm(_harm_sql(_decided_members()), experiment=experiment, start=start, end=end)


def recent_harm_by_arm(
    *, experiment: str, start: datetime.date, end: datetime.date
) -> dict[str, ArmHarm]:
    """Return :func:`harm_by_arm`'s figures read from the experiment assignments.

    The same figures when no decision is dated after ``end`` (a window ending today) and the
    assignments are folded (``experiment_assignments.catch_up``). For a window ending
    earlier, an account whose decisions in the arm straddle the window without one inside
    it would count too.
    """
    return _harm(_harm_sql(_assigned_members()), experiment=experiment, start=start, end=end)


def _harm(
    sql: str, *, experiment: str, start: datetime.date, end: datetime.date
) -> dict[str, ArmHarm]:
    since, until = window_bounds(start=start, end=end)
    adapt = connection.ops.adapt_datetimefield_value
    parameters: dict[str, Any] = {
        "experiment": experiment,
        "start": start,
        "end": end,
        "since": adapt(since),
        "until": adapt(until),
        "broken": models.PromiseStatus.BROKEN.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall()
    accounts: dict[str, int] = {}
    events: dict[str, dict[Measure, int]] = {}
    for arm, measure, count in rows:
        if measure == "accounts":
            accounts[arm] = int(count)
        else:
            events.setdefault(arm, {})[Measure(measure)] = int(count)
    return {
        arm: ArmHarm(
            arm=arm,
            accounts=accounts[arm],
            events={measure: events.get(arm, {}).get(measure, 0) for measure in Measure},
        )
        for arm in sorted(accounts)
    }


def armed_sql(events: str) -> str:
    """Return SQL giving ``(arm, account_id)`` for the accounts of ``events`` in the experiment.

    ``events`` is a query with an ``account_id`` column (a handful of rows: payments,
    promises, complaints ...). Each account's decisions are found through the
    ``(account, as_of_date)`` unique index, so the cost follows the events, not the book.
    Reads the parameters ``experiment``, ``start`` and ``end``.
    """
    # CROSS JOIN keeps SQLite's join order: the events first, then each one's decisions.
    return f"""
        SELECT DISTINCT d.arm AS arm, d.account_id AS account_id
        FROM (SELECT DISTINCT account_id FROM ({events}) ev) events
        CROSS JOIN {extract.t(models.Decision)} d
        WHERE d.account_id = events.account_id
          AND {_DECIDED_BY_ACCOUNT.format(alias="d")}
    """


# An arm's decisions in the window, looked up by account: without the partial index's
# condition, so that SQLite seeks the (account, as_of_date) unique index instead.
_DECIDED_BY_ACCOUNT = (
    "{alias}.experiment = %(experiment)s "
    "AND {alias}.as_of_date >= %(start)s AND {alias}.as_of_date <= %(end)s"
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Members:
    """Say where an arm's accounts come from, for the alias ``m``."""

    table: str
    accounts: str  # a SELECT of (arm, 'accounts', the arm's accounts)
    by_account: str  # the condition on ``m`` once ``m.account_id`` is given


def _decided_members() -> _Members:
    decision = extract.t(models.Decision)
    return _Members(
        table=decision,
        # The partial index's condition word for word: SQLite reads (arm, account) from it.
        accounts=f"""
            SELECT m.arm, 'accounts', COUNT(DISTINCT m.account_id) FROM {decision} m
            WHERE m.experiment = %(experiment)s AND NOT (m.experiment = '')
              AND m.as_of_date >= %(start)s AND m.as_of_date <= %(end)s
            GROUP BY m.arm
        """,
        by_account=_DECIDED_BY_ACCOUNT.format(alias="m"),
    )


def _assigned_members() -> _Members:
    assignment = extract.t(models.ExperimentAssignment)
    in_window = (
        "m.experiment = %(experiment)s AND m.last_date >= %(start)s AND m.first_date <= %(end)s"
    )
    return _Members(
        table=assignment,
        accounts=f"""
            SELECT m.arm, 'accounts', COUNT(*) FROM {assignment} m WHERE {in_window} GROUP BY m.arm
        """,  # one row per account and arm
        by_account=in_window,
    )


def _harm_sql(members: _Members) -> str:
    account = extract.t(models.Account)
    opt_out, complaint, dispute, promise = (
        extract.t(model)
        for model in (models.ChannelOptOut, models.Complaint, models.Dispute, models.Promise)
    )
    # The events are few: each is matched to its arms through its account (CROSS JOIN keeps
    # that order in SQLite), and counted once per arm (COUNT DISTINCT), as a customer's event
    # reaches every account of theirs and an account has a decision on every day.
    member = f"CROSS JOIN {members.table} m"
    by_account = members.by_account
    return f"""
        {members.accounts}
        UNION ALL
        SELECT m.arm, '{Measure.OPT_OUTS}', COUNT(DISTINCT o.id)
        FROM {opt_out} o CROSS JOIN {account} a {member}
        WHERE o.opted_out_at >= %(since)s AND o.opted_out_at < %(until)s
          AND a.customer_id = o.customer_id AND m.account_id = a.id AND {by_account}
        GROUP BY m.arm
        UNION ALL
        SELECT m.arm, '{Measure.COMPLAINTS}', COUNT(DISTINCT c.id)
        FROM {complaint} c CROSS JOIN {account} a {member}
        WHERE c.received_at >= %(since)s AND c.received_at < %(until)s
          AND a.customer_id = c.customer_id AND m.account_id = a.id AND {by_account}
        GROUP BY m.arm
        UNION ALL
        SELECT m.arm, '{Measure.DISPUTES}', COUNT(DISTINCT x.id)
        FROM {dispute} x {member}
        WHERE x.received_at >= %(since)s AND x.received_at < %(until)s
          AND m.account_id = x.account_id AND {by_account}
        GROUP BY m.arm
        UNION ALL
        SELECT m.arm, '{Measure.BROKEN_PROMISES}', COUNT(DISTINCT p.id)
        FROM {promise} p {member}
        WHERE p.status = %(broken)s
          AND p.resolved_at >= %(since)s AND p.resolved_at < %(until)s
          AND m.account_id = p.account_id AND {by_account}
        GROUP BY m.arm
    """
