"""``accord compliance check``: decide one contact attempt from a JSON check file."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandParser

from accord.domain.compliance import checkfile

# Exit status for a document that is not valid JSON or does not follow its schema.
EXIT_BAD_INPUT = 2

T = TypeVar("T")


class Command(BaseCommand):
    help = (
        "Decide whether a contact attempt is allowed under the listed policy packs; prints "
        "the decision as JSON (docs/compliance-check.md)."
    )

    # Pure and offline: no database, so no system checks and no migrations needed.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="decide one attempt from a check file")
        check.add_argument(
            "--input", default="-", help="the check file (JSON); '-' or absent reads stdin"
        )
        check.add_argument(
            "--operator", default=None, help="operator settings (JSON); none when absent"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        operator = self._load("operator", options["operator"], checkfile.parse_operator)
        result = self._load(
            "input",
            options["input"],
            lambda document: checkfile.run_check(document, operator=operator),
        )
        self.stdout.write(json.dumps(result, ensure_ascii=False))

    def _load(self, source: str, name: str | None, parse: Callable[[object], T]) -> T:
        """Read one JSON file and parse it; on any error write it to stderr and exit 2.

        Errors go to stderr as one JSON object and stdout stays empty, so a pipe never
        mistakes an error for a decision.
        """
        try:
            return parse({} if name is None else _read(name))
        except checkfile.CheckFileError as error:
            path, message = error.path, error.message
        except _UnreadableError as error:
            path, message = "$", str(error)
        self.stderr.write(json.dumps({"error": {"file": source, "path": path, "message": message}}))
        raise SystemExit(EXIT_BAD_INPUT)


class _UnreadableError(Exception):
    """Signal a file that cannot be read or is not JSON."""


def _read(name: str) -> object:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as error:
        raise _UnreadableError(f"cannot read {name}: {error.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _UnreadableError(
            f"not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}"
        ) from None
