"""``accord strategy list|show|import|export|activate|diff|dry-run``: keep strategy versions."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accord.cli import actors, progress
from accord.storage import models
from accord.usecases import dry_runs, strategies


class Command(BaseCommand):
    help = (
        "Keep strategy versions: list them, show or export one's YAML, import a YAML file as "
        "a new draft (and activate it), activate a version, compare two, or dry-run one in "
        "the foreground. A version is named by its label, name@version (or its id)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("list", help="list every version, newest first")
        show = actions.add_parser("show", help="print a version's details and YAML")
        show.add_argument("label", help="name@version or id")
        imported = actions.add_parser("import", help="save a YAML file as a new draft version")
        imported.add_argument("file", type=Path)
        imported.add_argument("--note", default="", help="what changed and why")
        imported.add_argument(
            "--activate", action="store_true", help="make it the active version at once"
        )
        export = actions.add_parser("export", help="print (or write) a version's YAML")
        export.add_argument("label", help="name@version or id")
        export.add_argument("-o", "--output", type=Path, help="write to this file")
        activate = actions.add_parser("activate", help="make a version the active one")
        activate.add_argument("label", help="name@version or id")
        diff = actions.add_parser("diff", help="compare two versions")
        diff.add_argument("old", help="name@version or id")
        diff.add_argument("new", help="name@version or id")
        dry = actions.add_parser(
            "dry-run",
            help="decide the book with a version beside the active one, writing nothing, "
            "and print the counts (works a dry run queued for the same date, if any)",
        )
        dry.add_argument("label", help="name@version or id")
        dry.add_argument("--as-of", help="YYYY-MM-DD (default: today, local time)")
        dry.add_argument(
            "--accounts-per-range",
            type=int,
            default=dry_runs.ACCOUNTS_PER_RANGE,
            help=f"accounts read and decided at a time (default: {dry_runs.ACCOUNTS_PER_RANGE:,})",
        )
        dry.add_argument("--json", action="store_true", help="print the stored result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list()
        elif action == "show":
            self._show(self._find(options["label"]))
        elif action == "import":
            self._import(options["file"], note=options["note"], activate=options["activate"])
        elif action == "export":
            self._export(self._find(options["label"]), output=options["output"])
        elif action == "activate":
            self._activate(self._find(options["label"]))
        elif action == "dry-run":
            self._dry_run(
                self._find(options["label"]),
                as_of=options["as_of"],
                per_range=options["accounts_per_range"],
                as_json=options["json"],
            )
        else:
            found = strategies.diff(old=self._find(options["old"]), new=self._find(options["new"]))
            self._diff(found)

    def _find(self, label: str) -> models.StrategyVersion:
        version = strategies.find(label)
        if version is None:
            raise CommandError(f"there is no strategy version {label} (see `accord strategy list`)")
        return version

    def _list(self) -> None:
        versions = models.StrategyVersion.objects.order_by("-created_at", "-pk")
        if not versions:
            self.stdout.write("No strategy versions yet; the first run stores the default one.")
            return
        self.stdout.write(f"{'id':>4}  {'label':<32} {'status':<8} {'saved':<17} by")
        for version in versions:
            self.stdout.write(
                f"{version.pk:>4}  {version.label:<32} {version.status:<8} "
                f"{timezone.localtime(version.created_at):%Y-%m-%d %H:%M} {version.created_by}"
            )

    def _show(self, version: models.StrategyVersion) -> None:
        self.stdout.write(f"{version.label} (id {version.pk}): {version.status}")
        self.stdout.write(f"  saved {version.created_at.isoformat()} by {version.created_by}")
        if version.activated_at:
            self.stdout.write(
                f"  activated {version.activated_at.isoformat()} by {version.activated_by}"
            )
        if version.retired_at:
            self.stdout.write(f"  retired {version.retired_at.isoformat()}")
        if version.based_on_id:
            self.stdout.write(f"  based on version {version.based_on_id}")
        if version.note:
            self.stdout.write(f"  note: {version.note}")
        self.stdout.write("")
        self.stdout.write(version.source, ending="" if version.source.endswith("\n") else "\n")

    def _import(self, file: Path, *, note: str, activate: bool) -> None:
        try:
            source = file.read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"{file}: cannot read it ({error.strerror})") from None
        actor = actors.cli_actor()
        try:
            version = strategies.save_draft(
                source=source, note=note, based_on_id=None, actor=actor, now=timezone.now()
            )
        except strategies.StrategyInvalid as invalid:
            raise CommandError(f"{file}: {invalid.message}") from None
        except strategies.VersionExists as exists:
            raise CommandError(str(exists)) from None
        self.stdout.write(f"Saved {version.label} as a draft (id {version.pk}).")
        if activate:
            self._activate(version)

    def _export(self, version: models.StrategyVersion, *, output: Path | None) -> None:
        text = strategies.export(version)
        if output is None:
            self.stdout.write(text, ending="")
            return
        output.write_text(text, encoding="utf-8")
        self.stderr.write(f"Wrote {version.label} to {output}.")

    def _activate(self, version: models.StrategyVersion) -> None:
        try:
            active = strategies.activate(
                version_id=version.pk, actor=actors.cli_actor(), now=timezone.now()
            )
        except strategies.NotActivatable as refused:
            raise CommandError(refused.reason) from None
        self.stdout.write(f"Activated {active.label}; the next run uses it.")

    def _diff(self, found: strategies.StrategyDiff) -> None:
        self.stdout.write(f"--- {found.old_label}")
        self.stdout.write(f"+++ {found.new_label}")
        marks = {
            strategies.DiffKind.HUNK: "",
            strategies.DiffKind.ADD: "+",
            strategies.DiffKind.REMOVE: "-",
            strategies.DiffKind.CONTEXT: " ",
        }
        for line in found.lines:
            self.stdout.write(f"{marks[line.kind]}{line.text}")
        self.stdout.write("")
        self.stdout.write("What changed:" if found.changes else "No change to the rules.")
        for change in found.changes:
            self.stdout.write(f"  - {change}")

    def _dry_run(
        self, version: models.StrategyVersion, *, as_of: str | None, per_range: int, as_json: bool
    ) -> None:
        now = timezone.now()
        try:
            day = datetime.date.fromisoformat(as_of) if as_of else timezone.localdate(now)
        except ValueError:
            raise CommandError(f"--as-of must be a date as YYYY-MM-DD, got {as_of!r}") from None
        actor = actors.cli_actor()
        try:
            requested = dry_runs.request(
                version_id=version.pk, as_of=day, actor=actor, now=now, background=False
            )
        except dry_runs.DryRunRefused as refused:
            raise CommandError(refused.reason) from None
        if requested.status == models.DryRunStatus.RUNNING:
            raise CommandError(
                f"dry run {requested.pk} of {version.label} as of {day.isoformat()} is already "
                f"running in process {requested.process}"
            )
        with progress.stages(enabled=not as_json, title="Dry run") as update:
            try:
                done = dry_runs.execute(
                    dry_run_id=requested.pk,
                    now=timezone.now(),
                    actor=actor,
                    clock=timezone.now,
                    progress=update,
                    accounts_per_range=max(1, per_range),
                )
            except Exception as error:
                raise CommandError(
                    f"dry run {requested.pk} failed: {type(error).__name__}: {error}"
                ) from error
        if as_json:
            self.stdout.write(json.dumps({"id": done.pk, "status": done.status, **done.result}))
            return
        found = dry_runs.result(done)
        if found is None:
            raise CommandError(f"dry run {done.pk} is {done.status}: {done.error}")
        self._print_dry_run(done, found)

    def _print_dry_run(self, done: models.StrategyDryRun, found: dry_runs.DryRun) -> None:
        seconds = (
            (done.finished_at - done.started_at).total_seconds()
            if done.finished_at and done.started_at
            else 0.0
        )
        compared = (
            f"compared with {found.active_label}"
            if found.active_counts is not None
            else "it is the active version"
        )
        self.stdout.write(
            f"Dry run {done.pk} of {found.label} as of {found.as_of.isoformat()}: "
            f"{found.accounts} accounts decided in {done.ranges_total} range(s), "
            f"{seconds:.2f} s; {compared}. Nothing was written or sent."
        )
        for group in ("segment", "treatment", "arm", "channel", "contacts"):
            mine = found.counts.get(group, {})
            theirs = (found.active_counts or {}).get(group, {})
            values = sorted(set(mine) | set(theirs))
            shown = []
            for value in values:
                count = f"{value or '(none)'} {mine.get(value, 0)}"
                if found.active_counts is not None:
                    count += f" (active {theirs.get(value, 0)})"
                shown.append(count)
            self.stdout.write(f"  {group}: {', '.join(shown) or 'none'}")
        if found.samples:
            self.stdout.write("  sample:")
        for sample in found.samples:
            arm = f" {sample.experiment}/{sample.arm}" if sample.arm else ""
            self.stdout.write(
                f"    {sample.account_ref} {sample.segment or '(none)'}{arm}: "
                f"{sample.treatment} {sample.channel} [{' '.join(sample.reason_codes)}]"
            )
