"""Read strategy versions for the API, one page at a time, with a summary of a version's rules.

Lists are ordered by ``id`` (oldest first) so that limit/offset pages are stable. A
version's summary comes from its parsed rules, in the words the manager's pages use
(:mod:`accord.analytics.strategy_words`).
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from accord.analytics import strategy_words
from accord.analytics.portfolio_records import Page, find, paginate
from accord.storage import models
from accord.strategy import definition


@dataclasses.dataclass(frozen=True, kw_only=True)
class VersionRecord:
    """Describe a stored strategy version (without its YAML)."""

    id: int
    name: str
    version: str
    label: str
    status: str
    description: str
    note: str
    based_on_id: int | None
    created_at: datetime.datetime
    created_by: str
    activated_at: datetime.datetime | None
    activated_by: str
    retired_at: datetime.datetime | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArmSummary:
    """Describe one arm of an experiment."""

    name: str
    percent: int
    path: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class SegmentSummary:
    """Describe a segment: its conditions in words, its path and its experiment."""

    name: str
    description: str
    conditions: list[str]
    path: str
    experiment: str
    arms: list[ArmSummary]


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepSummary:
    """Describe one step of a path."""

    treatment: str
    starts: str
    template: str
    channels: list[str]
    every_days: int
    wait_days: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class PathSummary:
    """Describe a treatment path: when it stops and its steps."""

    name: str
    description: str
    stop_when: list[str]
    steps: list[StepSummary]


@dataclasses.dataclass(frozen=True, kw_only=True)
class VersionDetail(VersionRecord):
    """Describe a version with its YAML and a summary of its rules."""

    source: str
    segments: list[SegmentSummary]
    paths: list[PathSummary]


def _fields(row: models.StrategyVersion) -> dict[str, Any]:
    return {
        "id": row.pk,
        "name": row.name,
        "version": row.version,
        "label": row.label,
        "status": row.status,
        "description": row.description,
        "note": row.note,
        "based_on_id": row.based_on_id,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "activated_at": row.activated_at,
        "activated_by": row.activated_by,
        "retired_at": row.retired_at,
    }


def _record(row: models.StrategyVersion) -> VersionRecord:
    return VersionRecord(**_fields(row))


def versions(*, limit: int, offset: int, status: str | None = None) -> Page[VersionRecord]:
    """Return one page of strategy versions, optionally only those in ``status``."""
    queryset = models.StrategyVersion.objects.all()
    if status is not None:
        queryset = queryset.filter(status=status)
    return paginate(queryset, _record, limit=limit, offset=offset)


def version(record_id: int) -> VersionDetail | None:
    """Return the version with id ``record_id``, with its YAML and summary, or ``None``."""
    return find(models.StrategyVersion.objects.all(), detail, record_id)


def detail(row: models.StrategyVersion) -> VersionDetail:
    """Return ``row`` with its YAML and a summary of its rules."""
    strategy = definition.loads(row.source, source=row.label)
    return VersionDetail(
        **_fields(row),
        source=row.source,
        segments=[_segment(segment, strategy=strategy) for segment in strategy.segments],
        paths=[_path(path) for path in strategy.paths.values()],
    )


def _segment(segment: definition.Segment, *, strategy: definition.Strategy) -> SegmentSummary:
    experiment = segment.experiment
    return SegmentSummary(
        name=segment.name,
        description=segment.description,
        conditions=strategy_words.conditions(segment.when, buckets=strategy.buckets)
        or ["Every account"],
        path=segment.path,
        experiment=experiment.name if experiment else "",
        arms=[
            ArmSummary(name=arm.name, percent=arm.percent, path=arm.path)
            for arm in (experiment.arms if experiment else ())
        ],
    )


def _path(path: definition.TreatmentPath) -> PathSummary:
    return PathSummary(
        name=path.name,
        description=path.description,
        stop_when=[stop.value for stop in path.stop_when],
        steps=[
            StepSummary(
                treatment=step.treatment.value,
                starts=strategy_words.step(step).starts,
                template=step.template or "",
                channels=[channel.value for channel in step.channels],
                every_days=step.every_days,
                wait_days=step.wait_days,
            )
            for step in path.steps
        ],
    )
