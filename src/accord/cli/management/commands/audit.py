"""``accord audit verify``: recompute the audit log's hash chain and report breaks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accord.audit import log


class Command(BaseCommand):
    help = "Verify the audit log's hash chain (exit status 2 when any event was tampered with)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="recompute every event's hash")

    def handle(self, *args: Any, **options: Any) -> None:
        broken = log.verify_chain()
        if broken:
            for item in broken[:50]:
                self.stderr.write(f"event {item.event_id}: {item.reason}")
            self.stderr.write(f"{len(broken)} audit event(s) do not match the hash chain")
            raise SystemExit(2)
        self.stdout.write("Audit log intact: every event matches the hash chain.")
