"""``accord run [--as-of DATE] [--engine E] [--strategy FILE] [--accounts-per-range N] [--json]``.

The daily strategy run.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from accord.cli import actors, progress
from accord.storage import models
from accord.strategy import backends
from accord.usecases import strategy_run


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--as-of must be a date as YYYY-MM-DD, got {text!r}") from None


class Command(BaseCommand):
    help = (
        "Decide today's treatment for every account with the active strategy version and "
        "queue the contacts the policy allows; print the run's report. Exit status 2 when "
        "the run is refused (another run in progress, an as-of date earlier than the latest "
        "completed run or later than today, an invalid strategy, an engine not available)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of", help="the run's as-of date, YYYY-MM-DD (default: today, local time)"
        )
        parser.add_argument(
            "--engine",
            choices=[engine.value for engine in backends.Engine],
            default=backends.Engine.DUCKDB.value,
            help="what computes the decisions (default: duckdb; postgres needs PostgreSQL; "
            "spark uses ACCORD_SPARK_MASTER)",
        )
        parser.add_argument(
            "--strategy",
            type=Path,
            help="run this strategy YAML file instead of the active version",
        )
        parser.add_argument(
            "--accounts-per-range",
            type=int,
            default=strategy_run.ACCOUNTS_PER_RANGE,
            help="accounts read, decided and loaded at a time (default: "
            f"{strategy_run.ACCOUNTS_PER_RANGE:,}); fewer hold less memory",
        )
        parser.add_argument("--json", action="store_true", help="print a JSON summary")

    def handle(self, *args: Any, **options: Any) -> None:
        as_json: bool = options["json"]
        try:
            as_of = _date(options["as_of"]) if options["as_of"] else None
        except ValueError as error:
            self._refuse(str(error), as_json=as_json)
        now = timezone.now()
        with progress.stages(enabled=not as_json, title="Strategy run") as update:
            try:
                run = strategy_run.start_run(
                    as_of=as_of or timezone.localdate(now),
                    actor=actors.cli_actor(),
                    now=now,
                    engine=backends.Engine(options["engine"]),
                    strategy_path=options["strategy"],
                    progress=update,
                    clock=timezone.now,
                    accounts_per_range=max(1, options["accounts_per_range"]),
                )
            except strategy_run.RunRefused as refused:
                self._refuse(refused.reason, as_json=as_json)
        if as_json:
            self.stdout.write(json.dumps(_summary(run)))
        else:
            self._print(run)

    def _refuse(self, reason: str, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps({"status": "REFUSED", "reason": reason}))
        else:
            self.stderr.write(f"Run refused: {reason}")
        raise SystemExit(2)

    def _print(self, run: models.StrategyRun) -> None:
        counts = run.counts
        self.stdout.write(
            f"Strategy run {run.pk} as of {run.as_of_date.isoformat()} "
            f"({run.strategy_name}@{run.strategy_version}, engine {run.engine}) completed in "
            f"{counts.get('duration_seconds', 0):.2f} s."
        )
        self.stdout.write(
            f"  {run.accounts} accounts, {run.decisions} new decisions "
            f"({counts.get('already_decided', 0)} already decided)"
        )
        contacts = counts.get("contacts", {})
        self.stdout.write(
            f"  contacts: {contacts.get('planned', run.contacts_planned)} planned "
            f"({contacts.get('allowed', 0)} now, {contacts.get('deferred', 0)} deferred), "
            f"{contacts.get('blocked', run.contacts_blocked)} blocked, "
            f"{contacts.get('superseded', 0)} superseded"
        )
        for group in ("segment", "arm", "treatment", "channel", "stage", "bucket"):
            tally = (
                ", ".join(f"{k or '(none)'} {v}" for k, v in sorted(counts.get(group, {}).items()))
                or "none"
            )
            self.stdout.write(f"  {group}: {tally}")
        promises = counts.get("promises", {})
        kept = promises.get(models.PromiseStatus.KEPT, 0)
        self.stdout.write(
            f"  promises: {kept} kept, {promises.get(models.PromiseStatus.BROKEN, 0)} broken"
        )
        plans = counts.get("plans", {})
        completed = plans.get(models.PlanStatus.COMPLETED, 0)
        self.stdout.write(
            f"  plans: {completed} completed, {plans.get(models.PlanStatus.BROKEN, 0)} broken"
        )
        phases = counts.get("phases", {})
        if phases:
            self.stdout.write(
                "  phases: "
                + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.items())
            )
        for error in counts.get("errors", []):
            self.stdout.write(f"  error: {error}")


def _summary(run: models.StrategyRun) -> dict[str, Any]:
    return {
        "status": run.status,
        "run_id": run.pk,
        "as_of": run.as_of_date.isoformat(),
        "strategy": {
            "name": run.strategy_name,
            "version": run.strategy_version,
            "version_id": run.version_id,
        },
        "engine": run.engine,
        "process": run.process,
        "accounts": run.accounts,
        "decisions": run.decisions,
        "contacts_planned": run.contacts_planned,
        "contacts_blocked": run.contacts_blocked,
        "counts": run.counts,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
