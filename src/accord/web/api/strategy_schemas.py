"""Declare what the strategy-version endpoints read and write."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from accord.analytics import strategy_versions as records
from accord.storage import models
from accord.web.api.schemas import PageOut, PageQuery, Text

MAX_ID = 2**63 - 1
# A strategy is a page or two of YAML; far larger input is a mistake.
MAX_SOURCE = 200_000

# Requests ----------------------------------------------------------------------------


class VersionQuery(PageQuery):
    """Filter strategy versions."""

    status: models.StrategyStatus | None = Field(None, description="Only versions in this state.")


class VersionIn(Schema):
    """Save a strategy's YAML as a new draft version (docs/strategy.md describes the keys)."""

    model_config = ConfigDict(extra="forbid")

    source: Text = Field(
        min_length=1,
        max_length=MAX_SOURCE,
        description="The strategy's YAML, stored exactly as given.",
        examples=['name: default\nversion: "2"\nsegments: []\n'],
    )
    note: Text = Field("", max_length=2000, description="What changed and why.")
    based_on_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The version this one was edited from."
    )


# Responses ---------------------------------------------------------------------------


class VersionOut(Schema):
    """Describe a stored strategy version (without its YAML)."""

    id: int
    name: str
    version: str
    label: str = Field(description="name@version, recorded on every run and decision.")
    status: str = Field(description="DRAFT, ACTIVE (exactly one) or RETIRED.")
    description: str
    note: str
    based_on_id: int | None
    created_at: datetime.datetime
    created_by: str
    activated_at: datetime.datetime | None
    activated_by: str
    retired_at: datetime.datetime | None

    @classmethod
    def of(cls, record: records.VersionRecord) -> VersionOut:
        """Return the response for ``record``."""
        return cls(**{field: getattr(record, field) for field in cls.model_fields})


class ArmOut(Schema):
    """Describe one arm of an experiment (the first is the champion)."""

    name: str
    percent: int
    path: str


class SegmentOut(Schema):
    """Describe a segment: its conditions in words, its path and its experiment."""

    name: str
    description: str
    conditions: list[str]
    path: str
    experiment: str = Field(description="The experiment's name; empty if none.")
    arms: list[ArmOut]


class StepOut(Schema):
    """Describe one step of a treatment path."""

    treatment: str
    starts: str = Field(description="When the step starts, e.g. '31 days past due'.")
    template: str
    channels: list[str]
    every_days: int
    wait_days: int


class PathOut(Schema):
    """Describe a treatment path."""

    name: str
    description: str
    stop_when: list[str]
    steps: list[StepOut]


class VersionDetailOut(VersionOut):
    """Describe a strategy version with its YAML and a summary of its rules."""

    source: str = Field(description="The YAML, exactly as saved (the export).")
    segments: list[SegmentOut]
    paths: list[PathOut]

    @classmethod
    def of_detail(cls, record: records.VersionDetail) -> VersionDetailOut:
        """Return the response for ``record``."""
        data: dict[str, Any] = dataclasses.asdict(record)
        return cls(**data)


class VersionPage(PageOut):
    """One page of strategy versions, ordered by id."""

    items: list[VersionOut]
