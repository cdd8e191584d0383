"""Name who runs a command, for the audit log."""

from __future__ import annotations

import getpass


def cli_actor() -> str:
    """Return ``cli:<operating-system user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"
