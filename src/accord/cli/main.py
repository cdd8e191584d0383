"""Entry point of the ``accord`` command (``.venv/bin/accord``)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run an Accord command: ``accord migrate``, ``accord import``, ``accord demo seed`` ..."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.config.settings")
    from accord.config import environment

    try:
        env = environment.load()
    except environment.ConfigurationError as error:
        sys.stderr.write(f"accord: {error}\n")
        raise SystemExit(2) from None
    # The data folder holds the SQLite file; static/ is where collectstatic writes.
    (env.data_dir / "static").mkdir(parents=True, exist_ok=True)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["accord", *(sys.argv[1:] if argv is None else argv)])
