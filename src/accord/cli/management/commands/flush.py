"""``accord flush``: Django's flush, which must lift the audit triggers to empty the log.

Emptying every table is a maintenance act for disposable databases (tests do it
between transactional tests, developers on their demo data). It is the only path
that removes audit events, so it refuses elsewhere, and it asks before it starts.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import connections

from accord.audit import triggers


def _disposable(connection: Any) -> bool:
    name = str(connection.settings_dict.get("NAME", ""))
    # Django names test databases test_*; SQLite test databases live in memory.
    return (
        settings.ENV.debug
        or settings.ENV.demo
        or name.startswith("test_")
        or "memorydb" in name
        or name == ":memory:"
    )


class Command(flush.Command):
    help = (
        "Empty every table, the audit log included (debug, demo or test databases only; "
        "asks first unless --no-input)."
    )

    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if not _disposable(connection):
            raise CommandError(
                "accord flush empties the audit log: it runs only on test databases or with "
                "ACCORD_DEBUG=1 / ACCORD_DEMO=1"
            )
        if options["interactive"]:
            answer = input(
                f"Empty every table of {connection.settings_dict['NAME']}, the audit log "
                "included? Type 'yes' to continue: "
            )
            if answer != "yes":
                self.stdout.write("Flush cancelled.")
                return
        with connection.cursor() as cursor:
            triggers.remove(cursor, connection.vendor)
        try:
            super().handle(**{**options, "interactive": False})
        finally:
            with connection.cursor() as cursor:
                triggers.install(cursor, connection.vendor)
