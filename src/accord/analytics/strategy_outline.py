"""Read the stored strategy versions for the manager's strategy pages.

Versions are written only by :mod:`accord.usecases.strategies`; this module lists them
(the active one, drafts, retired ones) and lays one out in plain words: its segments in
order with their conditions, paths, experiment arms, and each path's steps and stop
conditions (:mod:`accord.analytics.strategy_words`).
"""

from __future__ import annotations

import dataclasses
import datetime

from django.db.models import Count

from accord.analytics import strategy_words, why
from accord.storage import models
from accord.strategy import definition

Status = models.StrategyStatus


@dataclasses.dataclass(frozen=True, kw_only=True)
class VersionRow:
    """Describe one stored strategy version as the list shows it."""

    id: int
    label: str
    name: str
    version: str
    status: str
    status_label: str
    description: str
    note: str
    based_on_id: int | None
    based_on_label: str
    created_at: datetime.datetime
    created_by: str
    activated_at: datetime.datetime | None
    activated_by: str
    retired_at: datetime.datetime | None
    runs: int

    @property
    def is_active(self) -> bool:
        """Return whether this is the version the daily run uses."""
        return self.status == Status.ACTIVE

    @classmethod
    def of(cls, row: models.StrategyVersion, *, runs: int = 0) -> VersionRow:
        """Return the row of a stored version."""
        based_on = row.based_on
        return cls(
            id=row.pk,
            label=row.label,
            name=row.name,
            version=row.version,
            status=row.status,
            status_label=str(Status(row.status).label),
            description=row.description,
            note=row.note,
            based_on_id=row.based_on_id,
            based_on_label=based_on.label if based_on is not None else "",
            created_at=row.created_at,
            created_by=row.created_by,
            activated_at=row.activated_at,
            activated_by=row.activated_by,
            retired_at=row.retired_at,
            runs=runs,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class VersionList:
    """Hold the versions by status: the active one, drafts (newest first), retired ones."""

    active: VersionRow | None
    drafts: list[VersionRow]
    retired: list[VersionRow]

    @property
    def all(self) -> list[VersionRow]:
        """Return every version: the active one first, then drafts, then retired ones."""
        return [*([self.active] if self.active else []), *self.drafts, *self.retired]


def versions() -> VersionList:
    """Return every stored version, grouped by status, with how many runs used each."""
    rows = (
        models.StrategyVersion.objects.select_related("based_on")
        .annotate(run_count=Count("runs"))
        .order_by("-created_at", "-pk")
    )
    shown = [VersionRow.of(row, runs=getattr(row, "run_count", 0)) for row in rows]
    return VersionList(
        active=next((row for row in shown if row.status == Status.ACTIVE), None),
        drafts=[row for row in shown if row.status == Status.DRAFT],
        retired=sorted(
            (row for row in shown if row.status == Status.RETIRED),
            key=lambda row: (row.retired_at or row.created_at, row.id),
            reverse=True,
        ),
    )


def version(version_id: int) -> models.StrategyVersion | None:
    """Return the stored version with id ``version_id``, or None."""
    return models.StrategyVersion.objects.select_related("based_on").filter(pk=version_id).first()


def active() -> models.StrategyVersion | None:
    """Return the active version, or None before any is stored."""
    return models.StrategyVersion.objects.filter(status=Status.ACTIVE).first()


# --- A version laid out in words -----------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArmOutline:
    """One arm of a segment's experiment."""

    name: str
    percent: int
    path: str
    champion: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class SegmentOutline:
    """One segment: its place, conditions in words, path and experiment."""

    position: int
    name: str
    description: str
    conditions: list[str]
    path: str
    experiment: str
    arms: list[ArmOutline]


@dataclasses.dataclass(frozen=True, kw_only=True)
class PathOutline:
    """One treatment path: its stop conditions and steps in words."""

    name: str
    description: str
    stops: list[str]
    steps: list[strategy_words.StepWords]
    used_by: list[str]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outline:
    """A whole strategy in words, in the order the engine reads it."""

    label: str
    description: str
    stages: list[tuple[str, str]]
    buckets: list[str]
    recent_payment_days: int
    plan_grace_days: int
    segments: list[SegmentOutline]
    paths: list[PathOutline]


def outline(strategy: definition.Strategy) -> Outline:
    """Return ``strategy`` laid out in words for the version page."""
    used_by: dict[str, list[str]] = {name: [] for name in strategy.paths}
    segments = []
    for position, segment in enumerate(strategy.segments, start=1):
        used_by.setdefault(segment.path, []).append(segment.name)
        arms = []
        if segment.experiment is not None:
            for index, arm in enumerate(segment.experiment.arms):
                arms.append(
                    ArmOutline(
                        name=arm.name, percent=arm.percent, path=arm.path, champion=not index
                    )
                )
                if index:
                    used_by.setdefault(arm.path, []).append(f"{segment.name} ({arm.name})")
        segments.append(
            SegmentOutline(
                position=position,
                name=segment.name,
                description=segment.description,
                conditions=strategy_words.conditions(segment.when, buckets=strategy.buckets),
                path=segment.path,
                experiment=segment.experiment.name if segment.experiment else "",
                arms=arms,
            )
        )
    paths = [
        PathOutline(
            name=name,
            description=path.description,
            stops=strategy_words.stops(path, recent_payment_days=strategy.recent_payment_days),
            steps=[strategy_words.step(step) for step in path.steps],
            used_by=used_by.get(name, []),
        )
        for name, path in strategy.paths.items()
    ]
    limits = strategy.thresholds
    return Outline(
        label=strategy.label,
        description=strategy.description,
        stages=[
            ("Pre-due", f"{strategy_words.days(limits.pre_due_days)} or fewer before the due date"),
            ("Early", f"1 to {limits.early_max} days past due"),
            ("Mid", f"{limits.early_max + 1} to {limits.mid_max} days past due"),
            ("Late", f"{limits.mid_max + 1} to {limits.late_max} days past due"),
            ("Recovery", f"more than {limits.late_max} days past due"),
        ],
        buckets=[bucket.label for bucket in strategy.buckets.buckets],
        recent_payment_days=strategy.recent_payment_days,
        plan_grace_days=strategy.plan_grace_days,
        segments=segments,
        paths=paths,
    )


def parsed(row: models.StrategyVersion) -> definition.Strategy | None:
    """Return the strategy a stored version describes (None if it no longer reads)."""
    return why.parsed_source(row.source)
