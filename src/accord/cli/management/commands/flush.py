"""``accord flush``: Django's flush, which must lift the audit triggers to empty the log.

Emptying every table is a maintenance act (tests do it between transactional
tests); it is the only path that removes audit events, and it asks first.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections

from accord.audit import triggers


class Command(flush.Command):
    help = "Empty every table, the audit log included (asks first unless --no-input)."

    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        with connection.cursor() as cursor:
            triggers.remove(cursor, connection.vendor)
        try:
            super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                triggers.install(cursor, connection.vendor)
