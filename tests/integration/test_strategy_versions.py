"""Strategy versions: drafts validated and audited, one active at a time, diffs, the CLI."""

from __future__ import annotations

import io
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accord.audit import events, log
from accord.audit import models as audit_models
from accord.storage import models
from accord.strategy import definition
from accord.usecases import strategies

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
ACTOR = "user:manager"

SIMPLE = textwrap.dedent(
    """\
    name: simple
    version: "1"
    description: Late notices, then calls.
    segments:
      - name: everyone
        path: standard
    paths:
      standard:
        stop_when: [PAYMENT_RECEIVED]
        steps:
          - step: LATE_NOTICE
            from_dpd: 1
            template: late_notice
            channels: [EMAIL, SMS]
            every_days: 7
          - {step: CALL_TASK, from_dpd: 91, template: call_task, channels: [CALL], every_days: 3}
    """
)


def revised(source: str = SIMPLE, *, version: str = "2") -> str:
    return source.replace('version: "1"', f'version: "{version}"')


def save(source: str = SIMPLE, *, based_on: int | None = None) -> models.StrategyVersion:
    return strategies.save_draft(
        source=source, note="why", based_on_id=based_on, actor=ACTOR, now=NOW
    )


def audited(event_type: events.EventType) -> list[audit_models.AuditEvent]:
    return list(audit_models.AuditEvent.objects.filter(event_type=event_type).order_by("pk"))


class TestSaveDraft:
    def test_a_valid_strategy_is_stored_as_written_as_a_draft_and_audited(self) -> None:
        draft = save()
        assert (draft.name, draft.version, draft.status) == ("simple", "1", "DRAFT")
        assert draft.source == SIMPLE
        assert strategies.export(draft) == SIMPLE
        assert draft.description == "Late notices, then calls."
        assert (draft.created_at, draft.created_by, draft.note) == (NOW, ACTOR, "why")
        [event] = audited(events.EventType.STRATEGY_VERSION_SAVED)
        assert (event.subject_type, event.subject_id) == ("strategy_version", str(draft.pk))
        assert event.parameters == {
            "label": "simple@1",
            "status": "DRAFT",
            "based_on": None,
            "note": "why",
        }
        assert log.verify_chain() == []

    def test_a_draft_records_the_version_it_was_edited_from(self) -> None:
        first = save()
        second = save(revised(), based_on=first.pk)
        assert second.based_on_id == first.pk
        assert audited(events.EventType.STRATEGY_VERSION_SAVED)[-1].parameters["based_on"] == (
            "simple@1"
        )

    def test_a_label_already_stored_is_refused(self) -> None:
        save()
        with pytest.raises(strategies.VersionExists) as refused:
            save(SIMPLE.replace("Late notices", "Notices"))
        assert refused.value.label == "simple@1"
        assert models.StrategyVersion.objects.count() == 1

    def test_rules_that_do_not_validate_are_refused_naming_the_field(self) -> None:
        broken = SIMPLE.replace("from_dpd: 91", "from_dpd: 0")
        with pytest.raises(strategies.StrategyInvalid, match=r"steps\[1\].from_dpd"):
            save(broken)
        assert not models.StrategyVersion.objects.exists()
        assert audited(events.EventType.STRATEGY_VERSION_SAVED) == []

    def test_text_that_is_not_yaml_is_refused(self) -> None:
        with pytest.raises(strategies.StrategyInvalid, match="not valid YAML"):
            save("name: [unclosed")

    def test_a_template_missing_for_a_written_channel_is_refused(self) -> None:
        missing = SIMPLE.replace("template: late_notice", "template: no_such_letter")
        with pytest.raises(strategies.StrategyInvalid) as refused:
            save(missing)
        assert "paths.standard.steps[0]" in refused.value.message
        assert "no_such_letter" in refused.value.message

    def test_a_template_missing_in_one_language_is_refused(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        for language in ("en", "es"):
            (tmp_path / language).mkdir()
            for name in ("_footer.email.txt", "_footer.sms.txt", "_email.html"):
                source = strategies.templates.TEMPLATE_DIR / language / name
                (tmp_path / language / name).write_text(source.read_text())
        (tmp_path / "en" / "late_notice.email.txt").write_text("Subject\n\nBody")
        (tmp_path / "en" / "late_notice.sms.txt").write_text("Body")
        (tmp_path / "es" / "late_notice.email.txt").write_text("Asunto\n\nCuerpo")
        monkeypatch.setattr(strategies.templates, "TEMPLATE_DIR", tmp_path)
        with pytest.raises(strategies.StrategyInvalid, match=r"SMS .*'late_notice' in 'es'"):
            save()

    def test_a_call_step_needs_no_message_template(self) -> None:
        # call_task has no written template files; SIMPLE's CALL_TASK step still saves.
        assert not list(strategies.templates.TEMPLATE_DIR.glob("*/call_task.*"))
        assert save().status == models.StrategyStatus.DRAFT

    def test_an_unknown_based_on_version_is_refused(self) -> None:
        with pytest.raises(strategies.StrategyInvalid, match="no strategy version 999"):
            save(based_on=999)


class TestActivate:
    def test_the_first_activation_makes_the_draft_active_and_audits_it(self) -> None:
        draft = save()
        active = strategies.activate(version_id=draft.pk, actor=ACTOR, now=NOW)
        assert active.status == models.StrategyStatus.ACTIVE
        assert (active.activated_at, active.activated_by) == (NOW, ACTOR)
        [event] = audited(events.EventType.STRATEGY_VERSION_ACTIVATED)
        assert event.subject_id == str(draft.pk)
        assert event.parameters == {"label": "simple@1", "replaced": None, "replaced_id": None}

    def test_activating_another_version_retires_the_active_one(self) -> None:
        first = save()
        strategies.activate(version_id=first.pk, actor=ACTOR, now=NOW)
        second = save(revised(), based_on=first.pk)
        later = NOW + timedelta(hours=1)
        strategies.activate(version_id=second.pk, actor=ACTOR, now=later)
        first.refresh_from_db()
        assert (first.status, first.retired_at) == (models.StrategyStatus.RETIRED, later)
        assert models.StrategyVersion.objects.get(status="ACTIVE").pk == second.pk
        event = audited(events.EventType.STRATEGY_VERSION_ACTIVATED)[-1]
        assert event.parameters == {
            "label": "simple@2",
            "replaced": "simple@1",
            "replaced_id": first.pk,
        }

    def test_a_retired_version_can_be_activated_again_to_roll_back(self) -> None:
        first = save()
        strategies.activate(version_id=first.pk, actor=ACTOR, now=NOW)
        second = save(revised())
        strategies.activate(version_id=second.pk, actor=ACTOR, now=NOW)
        back = strategies.activate(version_id=first.pk, actor=ACTOR, now=NOW)
        assert back.status == models.StrategyStatus.ACTIVE
        assert back.retired_at is None

    def test_the_active_version_cannot_be_activated_again(self) -> None:
        draft = save()
        strategies.activate(version_id=draft.pk, actor=ACTOR, now=NOW)
        with pytest.raises(strategies.NotActivatable, match="already the active"):
            strategies.activate(version_id=draft.pk, actor=ACTOR, now=NOW)

    def test_an_unknown_version_is_not_found(self) -> None:
        with pytest.raises(strategies.VersionNotFound):
            strategies.activate(version_id=12345, actor=ACTOR, now=NOW)


class TestActiveVersion:
    def test_with_no_version_the_default_strategy_is_stored_as_the_active_one(self) -> None:
        active = strategies.active_version(now=NOW)
        default = definition.load()
        assert (active.name, active.version) == (default.name, default.version)
        assert active.status == models.StrategyStatus.ACTIVE
        assert active.source == definition.default_source()
        assert active.created_by == strategies.DEFAULT_ACTOR
        assert [e.subject_id for e in audited(events.EventType.STRATEGY_VERSION_SAVED)] == [
            str(active.pk)
        ]

    def test_the_active_version_is_returned_as_it_is(self) -> None:
        draft = save()
        strategies.activate(version_id=draft.pk, actor=ACTOR, now=NOW)
        assert strategies.active_version(now=NOW).pk == draft.pk
        assert models.StrategyVersion.objects.count() == 1

    def test_asking_twice_stores_the_default_once(self) -> None:
        first = strategies.active_version(now=NOW)
        assert strategies.active_version(now=NOW).pk == first.pk
        assert models.StrategyVersion.objects.count() == 1

    def test_parsed_gives_the_rules_of_a_version(self) -> None:
        assert strategies.parsed(save()).label == "simple@1"


class TestDiff:
    def test_the_diff_has_typed_lines_and_a_plain_english_summary(self) -> None:
        first = save()
        changed = revised().replace("every_days: 7", "every_days: 10")
        changed = changed.replace(
            "  - name: everyone\n",
            "  - name: large\n    when: {balance: {min: 1000}}\n    path: standard\n"
            "  - name: everyone\n",
        )
        second = save(changed)
        found = strategies.diff(old=first, new=second)
        kinds = {line.kind for line in found.lines}
        assert kinds == {"hunk", "add", "remove", "context"}
        assert strategies.DiffLine(kind=strategies.DiffKind.ADD, text="  - name: large") in (
            found.lines
        )
        assert "Segment large added (path standard)." in found.changes
        assert "Path standard: step LATE_NOTICE repeats every 10 days (was 7)." in (found.changes)
        assert (found.old_label, found.new_label) == ("simple@1", "simple@2")

    def test_experiments_paths_and_conditions_are_described(self) -> None:
        first = save()
        second = save(
            revised().replace(
                "    path: standard\n",
                "    when: {stages: [EARLY]}\n    path: standard\n"
                "    experiment:\n"
                "      name: calls-early\n"
                "      arms:\n"
                "        - {name: champion, percent: 50}\n"
                "        - {name: calls, percent: 50, path: calls}\n",
                1,
            )
            + "  calls:\n    steps:\n"
            "      - {step: CALL_TASK, from_dpd: 1, template: call_task, channels: [CALL],"
            " every_days: 3}\n"
        )
        changes = strategies.diff(old=first, new=second).changes
        assert "Segment everyone: condition stages added (EARLY)." in changes
        assert any(c.startswith("Segment everyone: experiment calls-early added") for c in changes)
        assert "Path calls added (1 steps)." in changes

    def test_identical_versions_have_no_changes(self) -> None:
        first = save()
        second = save(revised())
        found = strategies.diff(old=first, new=second)
        assert found.changes == []
        assert [line.kind for line in found.lines if line.kind != "context"] == [
            "hunk",
            "remove",
            "add",
        ]


class TestCommand:
    def command(self, *args: str) -> str:
        out = io.StringIO()
        call_command("strategy", *args, stdout=out)
        return out.getvalue()

    def test_import_list_show_export_activate_and_diff(self, tmp_path: Path) -> None:
        source = tmp_path / "simple.yaml"
        source.write_text(SIMPLE)
        assert "Saved simple@1" in self.command("import", str(source), "--note", "first")
        (tmp_path / "two.yaml").write_text(revised().replace("every_days: 7", "every_days: 9"))
        imported = self.command("import", str(tmp_path / "two.yaml"), "--activate")
        assert "Saved simple@2" in imported
        assert "Activated simple@2" in imported
        listing = self.command("list")
        assert "simple@1" in listing
        assert "simple@2" in listing
        assert "ACTIVE" in listing
        assert "every_days: 9" in self.command("show", "simple@2")
        exported = tmp_path / "out.yaml"
        self.command("export", "simple@1", "-o", str(exported))
        assert exported.read_text() == SIMPLE
        assert self.command("export", "simple@1") == SIMPLE
        assert "Activated simple@1" in self.command("activate", "simple@1")
        diff = self.command("diff", "simple@1", "simple@2")
        assert "-        every_days: 7" in diff
        assert "repeats every 9 days (was 7)" in diff

    def test_an_invalid_file_is_refused_with_the_reason(self, tmp_path: Path) -> None:
        broken = tmp_path / "broken.yaml"
        broken.write_text("name: x\n")
        with pytest.raises(CommandError, match="version is required"):
            self.command("import", str(broken))

    def test_an_unknown_label_is_refused(self) -> None:
        with pytest.raises(CommandError, match="no strategy version nothing@1"):
            self.command("show", "nothing@1")
