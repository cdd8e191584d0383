"""Keep the experiment assignments: which accounts each arm has had, and when, in SQL.

An :class:`~accord.storage.models.ExperimentAssignment` row says that an account was decided
in an arm of an experiment, from ``first_date`` to ``last_date`` (its first and latest
decisions there). The rows are derived from the decisions, set-based (ADR 0017): one
``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` per experiment folds the decisions dated on or
after a day into the table, reading the decisions' partial index ``decision_experiment``
alone. :func:`fold_after_run` runs after each completed strategy run (``accord.jobs`` wires
it to the run's completion); :func:`catch_up` folds whatever is newer than the table, so a
reader never depends on the last fold having succeeded.

Strategy runs are never back-dated, so the newest folded day (the highest ``last_date``) is
a watermark: decisions after it are the only ones not yet folded, except the rest of that
day when a second run for the same day completes (:func:`fold_after_run` refolds its day).

Because no decision is dated after the latest run, "the accounts with a decision in the
arm from ``start`` up to today" are exactly the rows with ``last_date >= start``: the
guardrails count an arm's accounts from here, without reading 28 days of decisions.
"""

from __future__ import annotations

import datetime
import logging

from django.db import connection

from accord.storage import extract, models

logger = logging.getLogger(__name__)

# SQLite uses a partial index only when the query repeats its condition word for word.
IN_AN_EXPERIMENT = "NOT ({alias}.experiment = '')"


def experiment_names() -> list[str]:
    """Return the name of every experiment with a decision, in order.

    One index seek per name (a recursive "loose index scan" of ``decision_experiment``),
    however many decisions there are.
    """
    decision = extract.t(models.Decision)
    sql = f"""
        WITH RECURSIVE names(name) AS (
            SELECT MIN(d.experiment) FROM {decision} d WHERE {IN_AN_EXPERIMENT.format(alias="d")}
            UNION ALL
            SELECT (
                SELECT MIN(n.experiment) FROM {decision} n
                WHERE {IN_AN_EXPERIMENT.format(alias="n")} AND n.experiment > names.name
            )
            FROM names WHERE names.name IS NOT NULL
        )
        SELECT name FROM names WHERE name IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [str(row[0]) for row in cursor.fetchall()]


def decided_dates(name: str) -> tuple[datetime.date, datetime.date] | None:
    """Return the first and latest as-of dates experiment ``name`` decided, or ``None``."""
    decision = extract.t(models.Decision)
    # Two statements' worth: SQLite seeks the index for a lone MIN or MAX, not for both.
    bound = f"""
        SELECT {{}}(d.as_of_date) FROM {decision} d
        WHERE d.experiment = %s AND {IN_AN_EXPERIMENT.format(alias="d")}
    """
    sql = f"SELECT ({bound.format('MIN')}), ({bound.format('MAX')})"
    with connection.cursor() as cursor:
        cursor.execute(sql, [name, name])
        earliest, latest = cursor.fetchone()
    if earliest is None:
        return None
    return _date(earliest), _date(latest)


def latest_folded() -> datetime.date | None:
    """Return the newest day folded into the assignments, or ``None`` before any."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(last_date) FROM {extract.t(models.ExperimentAssignment)}")
        (latest,) = cursor.fetchone()
    return None if latest is None else _date(latest)


def fold(*, since: datetime.date | None) -> int:
    """Fold the experiment decisions dated ``since`` or later (all when None); return the rows.

    A new (account, experiment, arm) is inserted with its first and latest dates; a known
    one only has ``last_date`` moved on (and ``first_date`` back, never the case for runs
    that are not back-dated). Idempotent. Run it inside the caller's transaction.
    """
    table = extract.t(models.ExperimentAssignment)
    decision = extract.t(models.Decision)
    since_term = "" if since is None else "AND d.as_of_date >= %(since)s"
    sql = f"""
        INSERT INTO {table} (account_id, experiment, arm, first_date, last_date)
        SELECT d.account_id, d.experiment, d.arm, MIN(d.as_of_date), MAX(d.as_of_date)
        FROM {decision} d
        WHERE d.experiment = %(experiment)s AND {IN_AN_EXPERIMENT.format(alias="d")}
          {since_term}
        GROUP BY d.account_id, d.experiment, d.arm
        ON CONFLICT (account_id, experiment, arm) DO UPDATE SET
            first_date = CASE WHEN excluded.first_date < {table}.first_date
                              THEN excluded.first_date ELSE {table}.first_date END,
            last_date = CASE WHEN excluded.last_date > {table}.last_date
                             THEN excluded.last_date ELSE {table}.last_date END
        WHERE excluded.last_date > {table}.last_date OR excluded.first_date < {table}.first_date
    """
    folded = 0
    with connection.cursor() as cursor:
        for name in experiment_names():
            cursor.execute(sql, {"experiment": name, "since": since})
            folded += max(cursor.rowcount, 0)
    return folded


def catch_up() -> int:
    """Fold the decisions dated after the newest folded day; return the rows written.

    Reads a few index entries and writes nothing when the assignments are up to date.
    """
    latest = latest_folded()
    return fold(since=None if latest is None else latest + datetime.timedelta(days=1))


def fold_after_run(*, as_of: datetime.date) -> int:
    """Fold what a run as of ``as_of`` decided, and anything newer than the assignments.

    A second run for an already folded day (one that resumes a crashed run) refolds that day.
    """
    latest = latest_folded()
    if latest is None:
        return fold(since=None)
    return fold(since=min(latest + datetime.timedelta(days=1), as_of))


def _date(value: datetime.date | str) -> datetime.date:
    # SQLite hands back aggregates of dates as text.
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)
