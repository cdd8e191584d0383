"""Read a strategy version's dry runs for the manager's pages: status, progress, the latest.

Dry runs are written only by :mod:`accord.usecases.dry_runs`; this module lists a version's
recent ones and says how one is getting on, including when no worker has picked it up.
"""

from __future__ import annotations

import dataclasses
import datetime

from accord.storage import models

Status = models.DryRunStatus
# A dry run still QUEUED this long after it was requested has no worker to pick it up.
WORKER_WAIT = datetime.timedelta(seconds=10)
RECENT = 10


@dataclasses.dataclass(frozen=True, kw_only=True)
class DryRunRow:
    """Describe one dry run as its page and the list of recent ones show it."""

    id: int
    version_id: int
    as_of: datetime.date
    status: str
    status_label: str
    requested_by: str
    requested_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    ranges_done: int
    ranges_total: int
    accounts: int | None
    error: str
    waiting_for_worker: bool
    elapsed_seconds: int  # since it started (RUNNING) or was requested (QUEUED)

    @property
    def pending(self) -> bool:
        """Return whether the dry run is still to finish (QUEUED or RUNNING)."""
        return self.status in (Status.QUEUED, Status.RUNNING)

    @property
    def completed(self) -> bool:
        """Return whether the dry run finished with a result."""
        return self.status == Status.COMPLETED

    @property
    def failed(self) -> bool:
        """Return whether the dry run failed."""
        return self.status == Status.FAILED

    @property
    def percent(self) -> int:
        """Return the share of ranges done, 0 to 100."""
        return (100 * self.ranges_done // self.ranges_total) if self.ranges_total else 0

    @property
    def seconds(self) -> float | None:
        """Return how long it took (None until it finished)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @classmethod
    def of(cls, row: models.StrategyDryRun, *, now: datetime.datetime) -> DryRunRow:
        """Return the row of a stored dry run, as seen at ``now``."""
        accounts = row.result.get("accounts") if row.result else None
        since = (
            row.started_at if row.status == Status.RUNNING and row.started_at else row.requested_at
        )
        return cls(
            id=row.pk,
            version_id=row.version_id,
            as_of=row.as_of_date,
            status=row.status,
            status_label=str(Status(row.status).label),
            requested_by=row.requested_by,
            requested_at=row.requested_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            ranges_done=row.ranges_done,
            ranges_total=row.ranges_total,
            accounts=int(accounts) if accounts is not None else None,
            error=row.error,
            waiting_for_worker=row.status == Status.QUEUED
            and now - row.requested_at >= WORKER_WAIT,
            elapsed_seconds=max(0, int((now - since).total_seconds())),
        )


def find(*, version_id: int, dry_run_id: int) -> models.StrategyDryRun | None:
    """Return a dry run of the version (None when it has none with that id)."""
    return models.StrategyDryRun.objects.filter(pk=dry_run_id, version_id=version_id).first()


def recent(*, version_id: int, now: datetime.datetime, limit: int = RECENT) -> list[DryRunRow]:
    """Return the version's latest dry runs, newest first."""
    rows = models.StrategyDryRun.objects.filter(version_id=version_id).order_by(
        "-requested_at", "-pk"
    )[:limit]
    return [DryRunRow.of(row, now=now) for row in rows]
