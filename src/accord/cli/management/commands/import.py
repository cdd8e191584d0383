"""``accord import customers|accounts|charges|payments FILE``: load a CSV, all or nothing."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from accord.analytics import portfolio_summary
from accord.cli import actors, progress
from accord.usecases import import_portfolio

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Import a CSV of customers, accounts, charges or payments (see docs/import-format.md). "
        "Every row is validated; if any fails nothing is written and the exit status is 2."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=[k.value for k in import_portfolio.RecordKind])
        parser.add_argument("file", type=Path)
        parser.add_argument("--json", action="store_true", help="print a JSON summary")
        parser.add_argument("--report", type=Path, help="write the error report (JSON) here")

    def handle(self, *args: Any, **options: Any) -> None:
        kind = import_portfolio.RecordKind(options["kind"])
        as_json: bool = options["json"]
        report_path: Path | None = options["report"]
        if report_path is not None and not report_path.parent.is_dir():
            # Checked first: a report that cannot be written must not follow a committed load.
            raise CommandError(
                f"--report: folder {report_path.parent} does not exist", returncode=2
            )
        with progress.stages(enabled=not as_json, title=f"Importing {kind.value}") as update:
            try:
                report = import_portfolio.import_file(
                    kind=kind,
                    path=options["file"],
                    actor=actors.cli_actor(),
                    now=timezone.now(),
                    progress=update,
                )
            except import_portfolio.ImportRejected as rejected:
                report = rejected.report
            except DatabaseError as error:
                # Rolled back: say so in one line rather than with a traceback.
                logger.warning("Import of %s failed in the database: %s", options["file"], error)
                raise CommandError(
                    f"the database refused the import, nothing was written: {error}"
                ) from None
        if report_path is not None:
            report_path.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
        if as_json:
            self.stdout.write(json.dumps(report.as_dict()))
        else:
            self._print(report)
        if not report.accepted:
            raise SystemExit(2)
        if report.inserted or report.updated:
            # Warm the dashboard now, so the first page view after an import stays fast.
            portfolio_summary.cached_summary(today=timezone.localdate())

    def _print(self, report: import_portfolio.ImportReport) -> None:
        if report.accepted:
            self.stdout.write(
                f"Imported {report.rows} {report.kind.value} from {report.source}: "
                f"{report.inserted} new, {report.updated} updated, {report.unchanged} unchanged."
            )
            return
        self.stderr.write(f"Rejected {report.source}: {report.problem}")
        for error in report.errors[:20]:
            column = f" column {error.column}:" if error.column else ""
            self.stderr.write(f"  row {error.row}:{column} {error.reason}")
        if len(report.errors) > 20:
            self.stderr.write(f"  ... and {len(report.errors) - 20} more (use --report FILE)")
