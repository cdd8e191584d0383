"""Summarise the latest strategy run for the manager: the book by aging bucket and treatment.

The figures come from the ``Decision`` rows of the latest completed run (one per account),
aggregated by the database: accounts, arrears and balance per bucket and currency, and
decisions and contacts per treatment. Money stays per currency; only counts are added
across currencies.
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Min, Q, Sum

from accord.analytics import why
from accord.audit import models as audit_models
from accord.domain import arrears
from accord.domain.money import Money
from accord.storage import models
from accord.strategy import definition


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunSummary:
    """Describe one strategy run as the manager sees it."""

    id: int
    as_of_date: datetime.date
    status: str
    status_label: str
    strategy_name: str
    strategy_version: str
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    started_by: str
    accounts: int
    decisions: int
    contacts_planned: int
    contacts_blocked: int
    error: str

    @property
    def duration(self) -> datetime.timedelta | None:
        """Return how long the run took, or ``None`` while it is running."""
        return None if self.finished_at is None else self.finished_at - self.started_at

    @property
    def duration_seconds(self) -> Decimal | None:
        """Return the duration in seconds to one decimal place, or ``None``."""
        taken = self.duration
        if taken is None:
            return None
        return Decimal(taken.total_seconds()).quantize(Decimal("0.1"))

    @classmethod
    def of(cls, run: models.StrategyRun) -> RunSummary:
        """Return the summary of ``run``."""
        return cls(
            id=run.pk,
            as_of_date=run.as_of_date,
            status=run.status,
            status_label=str(models.RunStatus(run.status).label),
            strategy_name=run.strategy_name,
            strategy_version=run.strategy_version,
            started_at=run.started_at,
            finished_at=run.finished_at,
            started_by=run.started_by,
            accounts=run.accounts,
            decisions=run.decisions,
            contacts_planned=run.contacts_planned,
            contacts_blocked=run.contacts_blocked,
            error=run.error,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class BucketRow:
    """Hold the accounts of one bucket in one currency and what they owe."""

    code: str
    label: str
    currency: str
    accounts: int
    accounts_in_arrears: int
    arrears: Money
    balance: Money


@dataclasses.dataclass(frozen=True, kw_only=True)
class BucketCount:
    """Count the accounts of one bucket across currencies (counts may be added)."""

    code: str
    label: str
    accounts: int
    by_currency: dict[str, int]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TreatmentRow:
    """Count one treatment's decisions and the contacts they planned, by status."""

    treatment: str
    label: str
    decisions: int
    planned: int
    blocked: int
    sent: int
    failed: int
    other: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class SplitRow:
    """Count one segment's (or one experiment arm's) decisions in a run and their contacts.

    ``experiment`` and ``arm`` are empty for a segment row; ``share`` is the arm's part of
    its experiment's accounts (0-1), None for a segment.
    """

    segment: str
    experiment: str
    arm: str
    decisions: int
    contacts: int
    blocked: int
    share: Decimal | None
    champion: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunOverview:
    """Hold what the manager view shows about strategy runs.

    ``latest`` is the newest run in any state; ``completed`` the newest completed one,
    whose decisions give ``buckets`` and ``treatments``.
    """

    latest: RunSummary | None
    completed: RunSummary | None
    buckets: list[BucketRow]
    bucket_counts: list[BucketCount]
    treatments: list[TreatmentRow]
    segments: list[SplitRow] = dataclasses.field(default_factory=list)
    arms: list[SplitRow] = dataclasses.field(default_factory=list)

    @property
    def currencies(self) -> list[str]:
        """Return the currencies present in the buckets, in order."""
        return sorted({row.currency for row in self.buckets})


def latest_completed_run() -> models.StrategyRun | None:
    """Return the newest completed run (by as-of date, then start), or ``None``."""
    return (
        models.StrategyRun.objects.filter(status=models.RunStatus.COMPLETED)
        .order_by("-as_of_date", "-started_at", "-pk")
        .first()
    )


def _label(code: str) -> str:
    try:
        return arrears.DEFAULT_BUCKETS.by_code(code).label
    except KeyError:
        return code


def bucket_rows(*, run_id: int) -> list[BucketRow]:
    """Return accounts, arrears and balance per bucket and currency for the run's decisions.

    Buckets are ordered by the fewest days past due found in each, so any bucket scheme
    reads from current to the most delinquent; currencies alphabetically within a bucket.
    """
    rows = (
        models.Decision.objects.filter(run_id=run_id)
        .order_by()
        .values("bucket", "currency")
        .annotate(
            accounts=Count("pk"),
            in_arrears=Count("pk", filter=Q(arrears_minor__gt=0)),
            arrears=Sum("arrears_minor"),
            balance=Sum("balance_minor"),
            least_dpd=Min("days_past_due"),
        )
    )
    least: dict[str, int] = {}
    for row in rows:
        least[row["bucket"]] = min(row["least_dpd"], least.get(row["bucket"], row["least_dpd"]))
    ordered = sorted(rows, key=lambda row: (least[row["bucket"]], row["bucket"], row["currency"]))
    return [
        BucketRow(
            code=row["bucket"],
            label=_label(row["bucket"]),
            currency=row["currency"],
            accounts=int(row["accounts"]),
            accounts_in_arrears=int(row["in_arrears"]),
            arrears=Money.from_minor_units(int(row["arrears"] or 0), row["currency"]),
            balance=Money.from_minor_units(int(row["balance"] or 0), row["currency"]),
        )
        for row in ordered
    ]


def bucket_counts(rows: list[BucketRow]) -> list[BucketCount]:
    """Return the account count of each bucket across currencies, keeping their order."""
    counts: dict[str, BucketCount] = {}
    for row in rows:
        found = counts.get(row.code)
        if found is None:
            found = counts[row.code] = BucketCount(
                code=row.code, label=row.label, accounts=0, by_currency={}
            )
        found.by_currency[row.currency] = row.accounts
        counts[row.code] = dataclasses.replace(found, accounts=found.accounts + row.accounts)
    return list(counts.values())


def treatment_rows(*, run_id: int) -> list[TreatmentRow]:
    """Return each treatment's decisions in the run and its contacts by status."""
    decided = dict(
        models.Decision.objects.filter(run_id=run_id)
        .order_by()
        .values_list("treatment")
        .annotate(count=Count("pk"))
        .values_list("treatment", "count")
    )
    contacts: dict[tuple[str, str], int] = {}
    for treatment, status, count in (
        models.ContactAttempt.objects.filter(run_id=run_id, decision__isnull=False)
        .order_by()
        .values_list("decision__treatment", "status")
        .annotate(count=Count("pk"))
    ):
        contacts[(treatment, status)] = int(count)
    state = models.ContactStatus
    named = {state.PLANNED, state.SENDING, state.BLOCKED, state.SENT, state.FAILED}
    rows = []
    for treatment in models.Treatment:
        if treatment not in decided:
            continue
        by_status = {status: n for (t, status), n in contacts.items() if t == treatment}
        rows.append(
            TreatmentRow(
                treatment=treatment.value,
                label=str(treatment.label),
                decisions=int(decided[treatment]),
                planned=by_status.get(state.PLANNED, 0) + by_status.get(state.SENDING, 0),
                blocked=by_status.get(state.BLOCKED, 0),
                sent=by_status.get(state.SENT, 0),
                failed=by_status.get(state.FAILED, 0),
                other=sum(n for status, n in by_status.items() if status not in named),
            )
        )
    return rows


def split_rows(
    *, run_id: int, strategy: definition.Strategy | None = None
) -> tuple[list[SplitRow], list[SplitRow]]:
    """Return the run's decisions and contacts per segment, and per experiment arm.

    With the run's ``strategy``, segments and arms come in its order (champion first);
    otherwise segments in the order of their first decision, arms by experiment and name.
    """
    decided = (
        models.Decision.objects.filter(run_id=run_id)
        .order_by()
        .values("segment", "experiment", "arm")
        .annotate(decisions=Count("pk"), first=Min("pk"))
    )
    state = models.ContactStatus
    contacted = (
        models.ContactAttempt.objects.filter(run_id=run_id, decision__isnull=False)
        .order_by()
        .values("decision__segment", "decision__experiment", "decision__arm")
        .annotate(
            contacts=Count("pk", filter=~Q(status__in=[state.BLOCKED, state.CANCELLED])),
            blocked=Count("pk", filter=Q(status=state.BLOCKED)),
        )
    )
    contacts: dict[tuple[str, str, str], dict[str, int]] = {
        (row["decision__segment"], row["decision__experiment"], row["decision__arm"]): {
            "contacts": int(row["contacts"]),
            "blocked": int(row["blocked"]),
        }
        for row in contacted
    }
    segments: dict[str, dict[str, int]] = {}
    arms: dict[tuple[str, str], dict[str, int]] = {}
    for row in decided:
        sent = contacts.get((row["segment"], row["experiment"], row["arm"]), {})
        tally = {
            "decisions": int(row["decisions"]),
            "contacts": int(sent.get("contacts", 0)),
            "blocked": int(sent.get("blocked", 0)),
            "first": int(row["first"]),
        }
        _add(segments.setdefault(row["segment"], {}), tally)
        if row["experiment"]:
            _add(arms.setdefault((row["experiment"], row["arm"]), {}), tally)
    order: dict[tuple[str, str], tuple[int, int]] = {}
    champions: set[tuple[str, str]] = set()
    for place, segment in enumerate(strategy.segments if strategy else ()):
        order[(segment.name, "")] = (place, 0)
        if segment.experiment is not None:
            champions.add((segment.experiment.name, segment.experiment.champion.name))
            for index, arm in enumerate(segment.experiment.arms):
                order[(segment.experiment.name, arm.name)] = (place, index)
    last = (len(order) + 1, 0)
    per_experiment: dict[str, int] = {}
    for (experiment, _arm), tally in arms.items():
        per_experiment[experiment] = per_experiment.get(experiment, 0) + tally["decisions"]
    return (
        [
            SplitRow(
                segment=name,
                experiment="",
                arm="",
                share=None,
                decisions=tally["decisions"],
                contacts=tally["contacts"],
                blocked=tally["blocked"],
            )
            for name, tally in sorted(
                segments.items(),
                key=lambda item: (order.get((item[0], ""), last), item[1]["first"]),
            )
        ],
        [
            SplitRow(
                segment="",
                experiment=experiment,
                arm=arm,
                share=Decimal(tally["decisions"]) / per_experiment[experiment],
                champion=(experiment, arm) in champions,
                decisions=tally["decisions"],
                contacts=tally["contacts"],
                blocked=tally["blocked"],
            )
            for (experiment, arm), tally in sorted(
                arms.items(), key=lambda item: (order.get(item[0], last), item[0])
            )
        ],
    )


def _strategy_of(run: models.StrategyRun) -> definition.Strategy | None:
    """Return the stored strategy version a run used, parsed (None for a file's run)."""
    if run.version_id is None:
        return None
    source = (
        models.StrategyVersion.objects.filter(pk=run.version_id)
        .values_list("source", flat=True)
        .first()
    )
    return None if source is None else why.parsed_source(source)


def _add(total: dict[str, int], tally: dict[str, int]) -> None:
    for field in ("decisions", "contacts", "blocked"):
        total[field] = total.get(field, 0) + tally[field]
    total["first"] = min(total.get("first", tally["first"]), tally["first"])


def overview() -> RunOverview:
    """Return the latest run, the latest completed run and its buckets and treatments."""
    latest = models.StrategyRun.objects.order_by("-started_at", "-pk").first()
    completed = latest_completed_run()
    buckets = [] if completed is None else bucket_rows(run_id=completed.pk)
    segments, arms = (
        ([], [])
        if completed is None
        else split_rows(run_id=completed.pk, strategy=_strategy_of(completed))
    )
    return RunOverview(
        latest=None if latest is None else RunSummary.of(latest),
        completed=None if completed is None else RunSummary.of(completed),
        buckets=buckets,
        bucket_counts=bucket_counts(buckets),
        treatments=[] if completed is None else treatment_rows(run_id=completed.pk),
        segments=segments,
        arms=arms,
    )


CACHE_SECONDS = 24 * 60 * 60


def cached_overview() -> RunOverview:
    """Return :func:`overview` from the shared cache, recomputing after an audited change.

    Runs, sends and blocks all write audit events (ADR 0004), so the audit chain's
    latest hash versions these figures as it does the dashboard's (ADR 0007).
    """
    latest = (
        audit_models.AuditChainHead.objects.filter(pk=1)
        .values_list("latest_hash", flat=True)
        .first()
    )
    key = f"accord:run-overview:{latest or 'empty'}"
    found: RunOverview | None = cache.get(key)
    if found is None:
        found = overview()
        cache.set(key, found, CACHE_SECONDS)
    return found
