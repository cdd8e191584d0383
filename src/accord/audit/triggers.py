"""Database triggers that make the audit log append-only, per database vendor.

Used by the migration that installs them and by ``accord flush``, the one
maintenance command allowed to empty every table (tests rely on it).
"""

from __future__ import annotations

from typing import Any

INSTALL: dict[str, list[str]] = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
           BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
        """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent
           BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql""",
        "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_auditevent",
        """CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_auditevent
           FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
        "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent",
        """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
           FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
    ],
}
REMOVE: dict[str, list[str]] = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_event_no_update",
        "DROP TRIGGER IF EXISTS audit_event_no_delete",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_auditevent",
        "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent",
    ],
}


def install(cursor: Any, vendor: str) -> None:
    """Create the append-only triggers (idempotent)."""
    for statement in INSTALL.get(vendor, []):
        cursor.execute(statement)


def remove(cursor: Any, vendor: str) -> None:
    """Drop the append-only triggers."""
    for statement in REMOVE.get(vendor, []):
        cursor.execute(statement)
