"""Documentation that cannot rot: every setting, event, command and permission is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.audit import events
from accord.config import environment
from accord.domain import access

ROOT = Path(__file__).resolve().parents[2]


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


class TestDocumentation:
    @pytest.mark.parametrize("name", sorted(environment.SETTINGS))
    def test_documents_every_setting(self, name: str) -> None:
        assert f"`{name}`" in read("docs/configuration.md")

    @pytest.mark.parametrize("event", list(events.EventType))
    def test_documents_every_audit_event(self, event: events.EventType) -> None:
        assert f"`{event.value}`" in read("docs/audit-events.md")

    @pytest.mark.parametrize("permission", list(access.Permission))
    def test_documents_every_permission(self, permission: access.Permission) -> None:
        assert f"`{permission.value}`" in read("docs/roles.md")

    @pytest.mark.parametrize(
        "command",
        sorted(
            p.stem
            for p in (ROOT / "src/accord/cli/management/commands").glob("*.py")
            if not p.stem.startswith("_")
        ),
    )
    def test_documents_every_cli_command(self, command: str) -> None:
        assert f"`accord {command}" in read("README.md")

    def test_readme_opens_with_the_two_commands(self) -> None:
        blocks = read("README.md").split("```")
        assert blocks[1].strip().splitlines() == ["make demo", "make test"]

    def test_documents_every_adr_listed_in_the_issue(self) -> None:
        titles = " ".join(p.name for p in (ROOT / "docs/adr").glob("*.md"))
        for topic in ("framework", "layering", "money", "audit", "background-jobs"):
            assert topic in titles
