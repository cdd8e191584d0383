"""``accord dispatch``: send the outbox's due messages now."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from accord.cli.actors import cli_actor
from accord.usecases import dispatch


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = "Send the due email, SMS and letters of the outbox (each one at most once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=_positive, help="send at most this many messages")
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        report = dispatch.dispatch_due(
            now=timezone.now(), limit=options["limit"], actor=cli_actor()
        )
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict()))
            return
        self.stdout.write(
            f"Dispatched {report.picked} due message(s): {report.sent} sent, "
            f"{report.failed} failed, {report.blocked} blocked, {report.deferred} deferred "
            f"by the contact policy, {report.cancelled} cancelled (nothing due any more), "
            f"{report.skipped} taken by another dispatcher."
        )
