"""Compare the arms of a champion/challenger experiment over a window of decisions.

docs/metrics.md ("Experiments") defines every figure; this module is their single
implementation. In short, for a window of as-of dates ``start`` to ``end`` (both included):

- an arm's **accounts** are the distinct accounts with a decision in that arm of the
  experiment in the window (an account's arm is stable: a hash of account and experiment);
- **contacts sent**: contact attempts made for those decisions, SENT or COMPLETED;
- **paying accounts** and **payments**: accounts with a payment received in the window, and
  the amounts, per currency;
- **cure rate**: of the accounts past due at their earliest experiment decision in the
  window, the share with no days past due at their latest decision in the window (any
  decision: an account that cures usually leaves the experiment's segment);
- **roll rate**: of all the arm's accounts, the share whose aging bucket (under the
  strategy's ``bucket_edges``) at that latest decision is later than at the earliest;
- **promise-kept rate**: kept ÷ (kept + broken) of the promises on those accounts falling
  due in the window;
- **harm** per 1,000 accounts (``accord.storage.experiment_harm``): opt-outs, complaints,
  disputes and broken promises, against the experiment's guardrail thresholds.

Each challenger's proportions are compared with the champion's: the difference and its 95%
confidence interval (Newcombe's hybrid score interval, ``accord.analytics.confidence``).
Every figure is one SQL statement grouped by arm, never a query per account
(:func:`figures`); :func:`assemble` turns the counts into results with the definition and
the pauses as they are now. After each strategy run the counts are stored once per
experiment (:func:`record_snapshots`, run by ``accord.jobs.experiments``), and the page shows
the latest (:func:`latest_snapshot`) instead of reading the window's decisions again.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import hashlib
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection

from accord.analytics import confidence
from accord.audit import models as audit_models
from accord.domain import arrears
from accord.domain.money import Money
from accord.storage import experiment_assignments, experiment_harm, extract, models
from accord.strategy import definition

# What the experiment page shows when no window is chosen.
DEFAULT_WINDOW_DAYS = 28
CACHE_SECONDS = 600
SENT_STATUSES = (models.ContactStatus.SENT, models.ContactStatus.COMPLETED)


class InvalidWindow(ValueError):
    """The window ends before it starts."""

    def __init__(self, start: datetime.date, end: datetime.date) -> None:
        super().__init__(f"the window ends ({end}) before it starts ({start})")


class Metric(enum.StrEnum):
    """Name a proportion compared between arms."""

    PAYING = "paying"
    CURE = "cure"
    ROLL = "roll"
    PROMISE_KEPT = "promise_kept"

    @property
    def label(self) -> str:
        """Return the metric's name as people read it."""
        return _METRIC_LABELS[self]

    @property
    def higher_is_better(self) -> bool:
        """Return whether a higher rate is the better outcome (not so for roll)."""
        return self is not Metric.ROLL


_METRIC_LABELS = {
    Metric.PAYING: "Paying accounts",
    Metric.CURE: "Cure rate",
    Metric.ROLL: "Roll rate",
    Metric.PROMISE_KEPT: "Promise-kept rate",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Proportion:
    """Hold ``successes`` out of ``trials``; ``rate`` is ``None`` without trials."""

    successes: int
    trials: int

    @property
    def rate(self) -> Decimal | None:
        """Return the share, or ``None`` when there were no trials."""
        return None if self.trials == 0 else Decimal(self.successes) / Decimal(self.trials)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Comparison:
    """Hold a challenger's rate minus the champion's and its 95% confidence interval."""

    metric: Metric
    interval: confidence.Interval

    @property
    def significant(self) -> bool:
        """Return whether the interval excludes no difference."""
        return self.interval.excludes_zero()

    @property
    def better(self) -> bool | None:
        """Return whether the challenger is clearly better, clearly worse (False), or neither."""
        if not self.significant:
            return None
        return (self.interval.estimate > 0) == self.metric.higher_is_better


@dataclasses.dataclass(frozen=True, kw_only=True)
class Harm:
    """Hold one harm measure of an arm: events, rate per 1,000 and the guardrail."""

    measure: experiment_harm.Measure
    events: int
    per_1000: Decimal | None
    threshold: Decimal
    above_champion: Decimal | None  # the rate minus the champion's (challengers only)

    @property
    def over_threshold(self) -> bool:
        """Return whether the challenger exceeds the champion by more than the threshold."""
        return self.above_champion is not None and self.above_champion > self.threshold


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pause:
    """Describe an arm's open pause."""

    paused_at: datetime.datetime
    paused_by: str
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArmResult:
    """Hold one arm's figures over the window."""

    name: str
    percent: int
    path: str
    champion: bool
    accounts: int
    contacts_sent: int
    payments: list[Money]
    proportions: dict[Metric, Proportion]
    promises_awaiting: int
    comparisons: dict[Metric, Comparison]
    harm: list[Harm]
    pause: Pause | None

    @property
    def contacts_per_account(self) -> Decimal | None:
        """Return the contacts sent per account, or ``None`` without accounts."""
        return None if self.accounts == 0 else Decimal(self.contacts_sent) / self.accounts

    @property
    def guardrail_tripped(self) -> bool:
        """Return whether any harm measure is past its threshold."""
        return any(harm.over_threshold for harm in self.harm)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExperimentResults:
    """Hold an experiment's arms compared over a window."""

    experiment: str
    segment: str
    source: str  # the strategy the definition was read from
    start: datetime.date
    end: datetime.date
    guardrails: definition.Guardrails
    arms: list[ArmResult]

    @property
    def min_accounts_reached(self) -> bool:
        """Return whether every arm has the guardrails' minimum number of accounts."""
        return bool(self.arms) and all(
            arm.accounts >= self.guardrails.min_accounts for arm in self.arms
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExperimentSummary:
    """Describe an experiment for the list: where it is defined and when it decided."""

    name: str
    segment: str
    source: str
    active: bool
    arms: list[definition.Arm]
    paused_arms: list[str]
    earliest_date: datetime.date | None
    latest_date: datetime.date | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Found:
    """Hold an experiment's definition and where it was found."""

    experiment: definition.Experiment
    segment: str
    strategy: definition.Strategy
    active: bool


# --- where experiments are defined -------------------------------------------------------


def active_strategy() -> definition.Strategy:
    """Return the active strategy version's rules, or the default strategy before any."""
    row = models.StrategyVersion.objects.filter(status=models.StrategyStatus.ACTIVE).first()
    if row is not None:
        try:
            return definition.loads(row.source)
        except definition.InvalidStrategy:
            pass
    return definition.load(definition.DEFAULT_PATH)


def _strategies() -> list[tuple[definition.Strategy, bool]]:
    """Return the active strategy, then every other stored version, newest first."""
    found = [(active_strategy(), True)]
    rows = models.StrategyVersion.objects.exclude(status=models.StrategyStatus.ACTIVE).order_by(
        "-created_at", "-id"
    )
    for row in rows.only("source"):
        try:
            found.append((definition.loads(row.source), False))
        except definition.InvalidStrategy:
            continue
    return found


def find_experiment(name: str) -> Found | None:
    """Return the definition of experiment ``name``: the active strategy's, else the newest."""
    for strategy, active in _strategies():
        for segment in strategy.segments:
            if segment.experiment is not None and segment.experiment.name == name:
                return Found(
                    experiment=segment.experiment,
                    segment=segment.name,
                    strategy=strategy,
                    active=active,
                )
    return None


def _decided_dates() -> dict[str, tuple[datetime.date, datetime.date]]:
    # A few index seeks per experiment, rather than a pass over every experiment decision.
    found = {}
    for name in experiment_assignments.experiment_names():
        dates = experiment_assignments.decided_dates(name)
        if dates is not None:
            found[name] = dates
    return found


def experiment_list() -> list[ExperimentSummary]:
    """Return the active strategy's experiments, then any other experiment with decisions."""
    dates = _decided_dates()
    paused: dict[str, list[str]] = {}
    for experiment, arm in models.ExperimentArmPause.objects.filter(
        resumed_at__isnull=True
    ).values_list("experiment", "arm"):
        paused.setdefault(experiment, []).append(arm)
    summaries: list[ExperimentSummary] = []
    strategy = active_strategy()
    for segment in strategy.segments:
        if segment.experiment is None:
            continue
        name = segment.experiment.name
        earliest, latest = dates.get(name, (None, None))
        summaries.append(
            ExperimentSummary(
                name=name,
                segment=segment.name,
                source=strategy.label,
                active=True,
                arms=list(segment.experiment.arms),
                paused_arms=sorted(paused.get(name, [])),
                earliest_date=earliest,
                latest_date=latest,
            )
        )
    listed = {summary.name for summary in summaries}
    for name in sorted(set(dates) - listed):
        found = find_experiment(name)
        earliest, latest = dates[name]
        summaries.append(
            ExperimentSummary(
                name=name,
                segment=found.segment if found else "",
                source=found.strategy.label if found else "",
                active=False,
                arms=list(found.experiment.arms) if found else [],
                paused_arms=sorted(paused.get(name, [])),
                earliest_date=earliest,
                latest_date=latest,
            )
        )
    return summaries


def default_window(name: str, *, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Return the :data:`DEFAULT_WINDOW_DAYS` days ending today.

    For an experiment with no decision in those days (one that has ended), the window ends
    on its latest decision instead.
    """
    dates = experiment_assignments.decided_dates(name)
    latest = dates[1] if dates else None
    recent = today - datetime.timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    end = latest if latest is not None and latest < recent else today
    return end - datetime.timedelta(days=DEFAULT_WINDOW_DAYS - 1), end


# --- the figures ---------------------------------------------------------------------------


def results(
    *,
    experiment: definition.Experiment,
    buckets: arrears.BucketScheme,
    start: datetime.date,
    end: datetime.date,
    segment: str = "",
    source: str = "",
) -> ExperimentResults:
    """Return every arm's figures for decisions dated ``start`` to ``end``, both included.

    Arms the definition names come first, in its order, with zeros when they have no
    decisions; arms found only in the decisions follow. Raises ``InvalidWindow``.
    """
    counted = figures(experiment=experiment.name, buckets=buckets, start=start, end=end)
    return assemble(experiment=experiment, figures=counted, segment=segment, source=source)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArmFigures:
    """Hold one arm's counts over a window: what an :class:`ArmResult` is built from."""

    accounts: int = 0
    past_due: int = 0  # past due at their earliest decision in the arm: the cure trials
    cured: int = 0
    rolled: int = 0
    contacts_sent: int = 0
    paying: int = 0
    payments: dict[str, int] = dataclasses.field(default_factory=dict)  # minor units by currency
    promises_kept: int = 0
    promises_broken: int = 0
    promises_awaiting: int = 0
    harm: dict[str, int] = dataclasses.field(default_factory=dict)  # events by Measure value


@dataclasses.dataclass(frozen=True, kw_only=True)
class Figures:
    """Hold every arm's counts for one experiment over a window: what a snapshot stores."""

    start: datetime.date
    end: datetime.date
    arms: dict[str, ArmFigures]

    def to_json(self) -> dict[str, Any]:
        """Return the counts as JSON data (the window is stored beside them)."""
        return {"arms": {name: dataclasses.asdict(arm) for name, arm in self.arms.items()}}

    @classmethod
    def from_json(
        cls, data: dict[str, Any], *, start: datetime.date, end: datetime.date
    ) -> Figures:
        """Return the counts :meth:`to_json` gave."""
        return cls(
            start=start,
            end=end,
            arms={name: ArmFigures(**arm) for name, arm in data.get("arms", {}).items()},
        )


def figures(
    *, experiment: str, buckets: arrears.BucketScheme, start: datetime.date, end: datetime.date
) -> Figures:
    """Count every arm's figures for decisions dated ``start`` to ``end``: five statements.

    Raises ``InvalidWindow``.
    """
    if end < start:
        raise InvalidWindow(start, end)
    parameters: dict[str, Any] = {"experiment": experiment, "start": start, "end": end}
    states = _states(parameters, buckets)
    contacts = _contacts(parameters)
    payments = _payments(parameters)
    promises = _promises(parameters)
    harm = experiment_harm.harm_by_arm(experiment=experiment, start=start, end=end)
    arms = {}
    for name, state in states.items():
        paid = payments.get(name)
        due = promises.get(name)
        arms[name] = ArmFigures(
            accounts=state.accounts,
            past_due=state.past_due,
            cured=state.cured,
            rolled=state.rolled,
            contacts_sent=contacts.get(name, 0),
            paying=paid.paying if paid else 0,
            payments=dict(sorted(paid.amounts.items())) if paid else {},
            promises_kept=due.kept if due else 0,
            promises_broken=due.broken if due else 0,
            promises_awaiting=due.awaiting if due else 0,
            harm={
                measure.value: harm[name].events.get(measure, 0) if name in harm else 0
                for measure in experiment_harm.Measure
            },
        )
    return Figures(start=start, end=end, arms=arms)


def assemble(
    *,
    experiment: definition.Experiment,
    figures: Figures,
    segment: str = "",
    source: str = "",
) -> ExperimentResults:
    """Return the results from counted ``figures``, with the arms' pauses as they are now.

    The definition gives the arms' order, paths and guardrail thresholds, and the champion
    the challengers are compared with.
    """
    pauses = {
        pause.arm: Pause(paused_at=pause.paused_at, paused_by=pause.paused_by, reason=pause.reason)
        for pause in models.ExperimentArmPause.objects.filter(
            experiment=experiment.name, resumed_at__isnull=True
        )
    }
    defined = {arm.name: arm for arm in experiment.arms}
    names = [arm.name for arm in experiment.arms] + sorted(set(figures.arms) - set(defined))
    counted = {name: figures.arms.get(name, ArmFigures()) for name in names}
    champion_name = experiment.champion.name
    proportions = {name: _proportions(counted[name]) for name in names}
    champion_harm = _arm_harm(champion_name, counted[champion_name])
    arms = []
    for name in names:
        arm = defined.get(name)
        own = counted[name]
        is_champion = name == champion_name
        arms.append(
            ArmResult(
                name=name,
                percent=arm.percent if arm else 0,
                path=arm.path if arm else "",
                champion=is_champion,
                accounts=own.accounts,
                contacts_sent=own.contacts_sent,
                payments=[
                    Money.from_minor_units(amount, currency)
                    for currency, amount in sorted(own.payments.items())
                ],
                proportions=proportions[name],
                promises_awaiting=own.promises_awaiting,
                comparisons=(
                    {} if is_champion else _compare(proportions[name], proportions[champion_name])
                ),
                harm=_harm(
                    _arm_harm(name, own),
                    champion_harm,
                    experiment.guardrails,
                    compare=not is_champion,
                ),
                pause=pauses.get(name),
            )
        )
    return ExperimentResults(
        experiment=experiment.name,
        segment=segment,
        source=source,
        start=figures.start,
        end=figures.end,
        guardrails=experiment.guardrails,
        arms=arms,
    )


def _arm_harm(name: str, counted: ArmFigures) -> experiment_harm.ArmHarm:
    # The harm query's accounts are the states' accounts: those with a decision in the arm
    # dated in the window.
    return experiment_harm.ArmHarm(
        arm=name,
        accounts=counted.accounts,
        events={measure: counted.harm.get(measure.value, 0) for measure in experiment_harm.Measure},
    )


def cached_results(
    *,
    experiment: definition.Experiment,
    buckets: arrears.BucketScheme,
    start: datetime.date,
    end: datetime.date,
    segment: str = "",
    source: str = "",
) -> ExperimentResults:
    """Return :func:`results` from the shared cache, recomputing only after an audited change.

    As for the KPIs (ADR 0007), the audit chain's latest hash versions the book: a run, a
    payment, a pause or a complaint is audited, so the next view sees it.
    """
    if end < start:
        raise InvalidWindow(start, end)
    latest = (
        audit_models.AuditChainHead.objects.filter(pk=1)
        .values_list("latest_hash", flat=True)
        .first()
    )
    definition_key = hashlib.sha256(repr((experiment, buckets)).encode()).hexdigest()[:16]
    key = (
        f"accord:experiment:{experiment.name}:{definition_key}:{start.isoformat()}:"
        f"{end.isoformat()}:{latest or 'empty'}"
    )
    found: ExperimentResults | None = cache.get(key)
    if found is None:
        found = results(
            experiment=experiment,
            buckets=buckets,
            start=start,
            end=end,
            segment=segment,
            source=source,
        )
        cache.set(key, found, CACHE_SECONDS)
    return found


# --- snapshots: the figures counted once after each strategy run ----------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Snapshot:
    """Hold results built from a stored snapshot, and when its figures were counted."""

    results: ExperimentResults
    computed_at: datetime.datetime
    run_id: int | None


def bucket_key(buckets: arrears.BucketScheme) -> str:
    """Return the days past due each bucket starts at, as a snapshot records them."""
    return ",".join(str(bucket.min_days) for bucket in buckets.buckets)


def record_snapshot(
    *,
    experiment: str,
    buckets: arrears.BucketScheme,
    start: datetime.date,
    end: datetime.date,
    now: datetime.datetime,
    run_id: int | None = None,
) -> models.ExperimentSnapshot:
    """Count the experiment's figures for ``start`` to ``end`` and store them as a snapshot."""
    counted = figures(experiment=experiment, buckets=buckets, start=start, end=end)
    return models.ExperimentSnapshot.objects.create(
        experiment=experiment,
        start=start,
        end=end,
        bucket_edges=bucket_key(buckets),
        computed_at=now,
        run_id=run_id,
        figures=counted.to_json(),
    )


def record_snapshots(
    *, as_of: datetime.date, now: datetime.datetime, run_id: int | None = None
) -> list[models.ExperimentSnapshot]:
    """Store every experiment's figures over its default window as of ``as_of``.

    Run after each strategy run (``accord.jobs``), so that the experiment page shows them at
    once. An experiment that has ended is counted once for its last window, not again.
    Returns the snapshots stored.
    """
    saved = []
    for name in experiment_assignments.experiment_names():
        found = find_experiment(name)
        buckets = (found.strategy if found is not None else active_strategy()).buckets
        start, end = default_window(name, today=as_of)
        if (
            end < as_of
            and models.ExperimentSnapshot.objects.filter(
                experiment=name, start=start, end=end, bucket_edges=bucket_key(buckets)
            ).exists()
        ):
            continue
        saved.append(
            record_snapshot(
                experiment=name, buckets=buckets, start=start, end=end, now=now, run_id=run_id
            )
        )
    return saved


def latest_snapshot(
    *,
    experiment: definition.Experiment,
    buckets: arrears.BucketScheme,
    segment: str = "",
    source: str = "",
) -> Snapshot | None:
    """Return the results of the experiment's latest snapshot counted with ``buckets``.

    The definition's arms, thresholds and the pauses are applied as they are now; ``None``
    when there is no snapshot.
    """
    row = (
        models.ExperimentSnapshot.objects.filter(
            experiment=experiment.name, bucket_edges=bucket_key(buckets)
        )
        .order_by("-computed_at", "-id")
        .first()
    )
    if row is None:
        return None
    counted = Figures.from_json(row.figures, start=row.start, end=row.end)
    return Snapshot(
        results=assemble(experiment=experiment, figures=counted, segment=segment, source=source),
        computed_at=row.computed_at,
        run_id=row.run_id,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class _States:
    accounts: int
    past_due: int
    cured: int
    rolled: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Payments:
    paying: int
    amounts: dict[str, int]  # minor units by currency


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Promises:
    kept: int
    broken: int
    awaiting: int


def _whole(value: int | Decimal | None) -> int:
    # PostgreSQL sums integers into numeric, which psycopg hands back as Decimal.
    return 0 if value is None else int(value)


def _fetch(sql: str, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return list(cursor.fetchall())


def _bucket_rank(column: str, buckets: arrears.BucketScheme, parameters: dict[str, Any]) -> str:
    """Return SQL for the bucket index of a days-past-due ``column`` (0 = the first bucket)."""
    terms = []
    for index, bucket in enumerate(buckets.buckets[1:], start=1):
        key = f"bucket_{index}"
        parameters[key] = bucket.min_days
        terms.append(f"CASE WHEN {column} >= %({key})s THEN 1 ELSE 0 END")
    return "(" + " + ".join(terms or ["0"]) + ")"


def _states(parameters: dict[str, Any], buckets: arrears.BucketScheme) -> dict[str, _States]:
    decision = extract.t(models.Decision)
    own = dict(parameters)
    rank_first = _bucket_rank("f.days_past_due", buckets, own)
    rank_last = _bucket_rank("l.days_past_due", buckets, own)
    # Each account's earliest decision in the arm, and its latest decision of any kind in
    # the window (an account that cures or rolls usually leaves the segment), found by the
    # (account, as_of_date) unique index rather than by reading every day's decisions.
    sql = f"""
        WITH entered AS (
            SELECT d.arm AS arm, d.account_id AS account_id, MIN(d.as_of_date) AS first_date
            FROM {decision} d
            WHERE d.experiment = %(experiment)s AND NOT (d.experiment = '')
              AND d.as_of_date >= %(start)s AND d.as_of_date <= %(end)s
            GROUP BY d.arm, d.account_id
        )
        SELECT e.arm,
               COUNT(*),
               SUM(CASE WHEN f.days_past_due > 0 THEN 1 ELSE 0 END),
               SUM(CASE WHEN f.days_past_due > 0 AND l.days_past_due = 0 THEN 1 ELSE 0 END),
               SUM(CASE WHEN {rank_last} > {rank_first} THEN 1 ELSE 0 END)
        FROM entered e
        JOIN {decision} f ON f.account_id = e.account_id AND f.as_of_date = e.first_date
        JOIN {decision} l ON l.account_id = e.account_id AND l.as_of_date = (
            SELECT MAX(x.as_of_date) FROM {decision} x
            WHERE x.account_id = e.account_id AND x.as_of_date <= %(end)s
        )
        GROUP BY e.arm
    """
    return {
        arm: _States(
            accounts=int(accounts),
            past_due=_whole(past_due),
            cured=_whole(cured),
            rolled=_whole(rolled),
        )
        for arm, accounts, past_due, cured, rolled in _fetch(sql, own)
    }


def _contacts(parameters: dict[str, Any]) -> dict[str, int]:
    own = {**parameters, "sent": SENT_STATUSES[0].value, "completed": SENT_STATUSES[1].value}
    sql = f"""
        SELECT d.arm, COUNT(*)
        FROM {extract.t(models.Decision)} d
        JOIN {extract.t(models.ContactAttempt)} c ON c.decision_id = d.id
        WHERE d.experiment = %(experiment)s AND NOT (d.experiment = '')
          AND d.as_of_date >= %(start)s AND d.as_of_date <= %(end)s
          AND c.status IN (%(sent)s, %(completed)s)
        GROUP BY d.arm
    """
    return {arm: int(count) for arm, count in _fetch(sql, own)}


def _payments(parameters: dict[str, Any]) -> dict[str, _Payments]:
    # From the arm's accounts (read from the partial index alone) to their payments in the
    # window through the (account, received_date) index: the window's payments across the
    # whole book are never read. CROSS JOIN keeps that order in SQLite.
    decision, payment = extract.t(models.Decision), extract.t(models.Payment)
    sql = f"""
        WITH armed AS (
            SELECT DISTINCT d.arm AS arm, d.account_id AS account_id
            FROM {decision} d
            WHERE d.experiment = %(experiment)s AND NOT (d.experiment = '')
              AND d.as_of_date >= %(start)s AND d.as_of_date <= %(end)s
        ),
        paid AS (
            SELECT armed.arm AS arm, p.account_id AS account_id, p.currency AS currency,
                   SUM(p.amount_minor) AS amount
            FROM armed CROSS JOIN {payment} p
            WHERE p.account_id = armed.account_id
              AND p.received_date >= %(start)s AND p.received_date <= %(end)s
            GROUP BY armed.arm, p.account_id, p.currency
        )
        SELECT arm, currency, COUNT(*), SUM(amount), 'amounts'
        FROM paid GROUP BY arm, currency
        UNION ALL
        SELECT arm, '', COUNT(DISTINCT account_id), 0, 'paying'
        FROM paid GROUP BY arm
    """
    amounts: dict[str, dict[str, int]] = {}
    paying: dict[str, int] = {}
    for arm, currency, accounts, amount, kind in _fetch(sql, parameters):
        if kind == "paying":
            paying[arm] = int(accounts)
        else:
            amounts.setdefault(arm, {})[currency] = _whole(amount)
    return {
        arm: _Payments(paying=count, amounts=amounts.get(arm, {})) for arm, count in paying.items()
    }


def _promises(parameters: dict[str, Any]) -> dict[str, _Promises]:
    status = models.PromiseStatus
    own = {
        **parameters,
        "kept": status.KEPT.value,
        "broken": status.BROKEN.value,
        "open": status.OPEN.value,
    }
    due = f"""
        SELECT p.id AS id, p.account_id AS account_id, p.status AS status
        FROM {extract.t(models.Promise)} p
        WHERE p.status IN (%(kept)s, %(broken)s, %(open)s)
          AND p.promised_date >= %(start)s AND p.promised_date <= %(end)s
    """
    sql = f"""
        WITH due AS ({due}),
        armed AS ({experiment_harm.armed_sql("SELECT account_id FROM due")})
        SELECT armed.arm,
               SUM(CASE WHEN due.status = %(kept)s THEN 1 ELSE 0 END),
               SUM(CASE WHEN due.status = %(broken)s THEN 1 ELSE 0 END),
               SUM(CASE WHEN due.status = %(open)s THEN 1 ELSE 0 END)
        FROM due JOIN armed ON armed.account_id = due.account_id
        GROUP BY armed.arm
    """
    return {
        arm: _Promises(kept=_whole(kept), broken=_whole(broken), awaiting=_whole(awaiting))
        for arm, kept, broken, awaiting in _fetch(sql, own)
    }


def _proportions(counted: ArmFigures) -> dict[Metric, Proportion]:
    return {
        Metric.PAYING: Proportion(successes=counted.paying, trials=counted.accounts),
        Metric.CURE: Proportion(successes=counted.cured, trials=counted.past_due),
        Metric.ROLL: Proportion(successes=counted.rolled, trials=counted.accounts),
        Metric.PROMISE_KEPT: Proportion(
            successes=counted.promises_kept,
            trials=counted.promises_kept + counted.promises_broken,
        ),
    }


def _compare(
    challenger: dict[Metric, Proportion], champion: dict[Metric, Proportion]
) -> dict[Metric, Comparison]:
    compared = {}
    for metric in Metric:
        ours, theirs = challenger[metric], champion[metric]
        if ours.trials == 0 or theirs.trials == 0:
            continue
        compared[metric] = Comparison(
            metric=metric,
            interval=confidence.newcombe(
                ours.successes, ours.trials, theirs.successes, theirs.trials
            ),
        )
    return compared


def _harm(
    own: experiment_harm.ArmHarm,
    champion: experiment_harm.ArmHarm,
    guardrails: definition.Guardrails,
    *,
    compare: bool,
) -> list[Harm]:
    found = []
    for name, threshold in guardrails.thresholds.items():
        measure = experiment_harm.Measure(name)
        ours, theirs = own.rate(measure), champion.rate(measure)
        found.append(
            Harm(
                measure=measure,
                events=own.events.get(measure, 0),
                per_1000=ours,
                threshold=threshold,
                above_champion=(
                    ours - theirs if compare and ours is not None and theirs is not None else None
                ),
            )
        )
    return found
