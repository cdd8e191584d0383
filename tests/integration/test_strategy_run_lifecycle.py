"""A v1 strategy run: its version and engine, experiments, resume after a crash, catch-up,
its report and guardrails (the dry run: test_dry_runs.py)."""

from __future__ import annotations

import io
import json
import os
import socket
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command

from accord.audit import events
from accord.audit import models as audit_models
from accord.storage import models
from accord.strategy import backends, definition
from accord.usecases import guardrails, strategy_run
from tests.integration.test_strategy_run import (
    ACTOR,
    NOW,
    TODAY,
    account,
    activate,
    audited,
    contacts,
    customer,
    days_ago,
    decision,
    plain,
    run,
)

__all__ = ["plain"]  # the autouse fixture that activates the plain strategy


def dead_pid() -> int:
    """Return a process id no process has."""
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


class Crash(Exception):
    """Stands for the process dying between two chunks."""


class TestVersions:
    def test_a_run_records_the_active_version_its_engine_and_its_process(
        self, plain: models.StrategyVersion
    ) -> None:
        account(due=days_ago(12))
        result = run()
        assert result.version_id == plain.pk
        assert (result.strategy_name, result.strategy_version) == ("default", "plain")
        assert result.engine == "duckdb"
        assert result.process == f"{socket.gethostname()}:{os.getpid()}"
        [started] = audited(events.EventType.STRATEGY_RUN_STARTED)
        assert started.parameters["version_id"] == plain.pk

    def test_without_any_version_the_default_is_stored_active_and_run(self) -> None:
        models.StrategyVersion.objects.all().delete()
        account(due=days_ago(12))
        result = run()
        default = definition.load()
        assert result.version is not None
        assert result.version.label == default.label
        assert result.version.status == models.StrategyStatus.ACTIVE

    def test_a_file_given_runs_without_a_version(self, tmp_path: Any) -> None:
        file = tmp_path / "file.yaml"
        file.write_text(definition.default_source())
        account(due=days_ago(12))
        result = run(strategy_path=file)
        assert result.version is None
        assert result.strategy_version == definition.load().version


class TestEngines:
    @pytest.mark.sqlite
    def test_the_postgres_engine_is_refused_on_sqlite_and_nothing_starts(self) -> None:
        account(due=days_ago(12))
        with pytest.raises(strategy_run.EngineNotAvailable, match="postgres engine"):
            run(engine=backends.Engine.POSTGRES)
        assert not models.StrategyRun.objects.exists()

    @pytest.mark.postgres
    def test_the_postgres_engine_decides_inside_the_database_as_duckdb_does(self) -> None:
        book = [account(due=days_ago(dpd)) for dpd in (3, 12, 45, 120, 400)]
        book.append(account(due=TODAY + timedelta(days=2)))
        on_postgres = run(engine=backends.Engine.POSTGRES)
        assert on_postgres.engine == "postgres"
        inside = {t.pk: decision(t) for t in book}
        models.Decision.objects.all().delete()
        models.ContactAttempt.objects.all().delete()
        run(now=NOW + timedelta(minutes=1))
        for target in book:
            made, expected = decision(target), inside[target.pk]
            assert (made.treatment, made.channel, made.reason_codes, made.segment) == (
                expected.treatment,
                expected.channel,
                expected.reason_codes,
                expected.segment,
            )

    def test_an_unknown_engine_is_refused(self) -> None:
        with pytest.raises(strategy_run.EngineNotAvailable, match="unknown engine"):
            run(engine="abacus")


class TestExperiments:
    def test_early_arrears_split_between_arms_recorded_on_every_decision(self) -> None:
        activate(definition.default_source().replace("2026.12.1", "2026.12.1-test"))
        early = [account(due=days_ago(5)) for _ in range(40)]
        result = run()
        arms = {decision(target).arm for target in early}
        assert arms == {"champion", "sms_first"}
        for target in early:
            made = decision(target)
            expected = "sms_first" if made.arm == "sms_first" else "standard"
            assert (made.experiment, made.path) == ("early-sms-first", expected)
            bucket = definition.arm_bucket(target.pk, "early-sms-first")
            assert made.arm == ("champion" if bucket < 50 else "sms_first")
        assert sum(result.counts["arm"].values()) == 40
        assert set(result.counts["arm"]) == {
            "early-sms-first/champion",
            "early-sms-first/sms_first",
        }

    def test_a_paused_arm_follows_the_champion_path_and_says_so(self) -> None:
        activate(definition.default_source().replace("2026.12.1", "2026.12.1-test"))
        early = [account(due=days_ago(5)) for _ in range(20)]
        guardrails.pause_arm(
            experiment="early-sms-first", arm="sms_first", reason="test", actor=ACTOR, now=NOW
        )
        run()
        challengers = [decision(t) for t in early if decision(t).arm == "sms_first"]
        assert challengers
        for made in challengers:
            assert made.path == "standard"
            assert "ARM_PAUSED" in made.reason_codes


class TestGuardrailsAtTheStart:
    def test_the_run_checks_the_guardrails_of_its_strategy_first(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        activate(definition.default_source().replace("2026.12.1", "2026.12.1-test"))
        seen: list[str] = []

        def checking(*, strategy: definition.Strategy, now: datetime, **_: Any) -> list[Any]:
            seen.append(strategy.label)
            assert not models.Decision.objects.exists()  # before the run decides anything
            return []

        monkeypatch.setattr(guardrails, "check_guardrails", checking)
        account(due=days_ago(5))
        run()
        assert seen == ["default@2026.12.1-test"]

    def test_a_guardrail_check_that_fails_is_reported_and_the_run_goes_on(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        activate(definition.default_source().replace("2026.12.1", "2026.12.1-test"))

        def broken(**_: Any) -> list[Any]:
            raise RuntimeError("no results window")

        monkeypatch.setattr(guardrails, "check_guardrails", broken)
        account(due=days_ago(5))
        result = run()
        assert result.status == models.RunStatus.COMPLETED
        assert result.counts["errors"] == ["guardrails: RuntimeError: no results window"]


class TestResume:
    def test_a_run_that_crashed_after_a_range_is_resumed_without_duplicates(self) -> None:
        book = [account(due=days_ago(12)) for _ in range(5)]

        def crash_after_first(number: int, loaded: int) -> None:
            if number == 1:
                raise Crash("the process died")

        with pytest.raises(Crash):
            run(accounts_per_range=2, after_range=crash_after_first)
        crashed = models.StrategyRun.objects.get()
        assert crashed.status == models.RunStatus.FAILED
        assert models.Decision.objects.count() == 2  # the first range was kept
        assert models.ContactAttempt.objects.count() == 2
        resumed = run(now=NOW + timedelta(minutes=5), accounts_per_range=2)
        assert resumed.status == models.RunStatus.COMPLETED
        assert resumed.decisions == 3
        assert resumed.counts["already_decided"] == 2
        assert resumed.counts["chunks"] == 2
        for target in book:
            assert models.Decision.objects.filter(account=target).count() == 1
            assert len(contacts(target)) == 1
        keys = list(models.ContactAttempt.objects.values_list("idempotency_key", flat=True))
        assert len(keys) == len(set(keys)) == 5

    def test_a_run_left_running_by_a_process_that_is_gone_is_failed_at_once(self) -> None:
        book = [account(due=days_ago(12)) for _ in range(3)]

        def die(number: int, loaded: int) -> None:
            raise KeyboardInterrupt  # not caught: the run stays RUNNING, as after a kill -9

        with pytest.raises(KeyboardInterrupt):
            run(accounts_per_range=1, after_range=die)
        abandoned = models.StrategyRun.objects.get()
        assert abandoned.status == models.RunStatus.RUNNING
        # The same process is alive, so a second run now is refused ...
        with pytest.raises(strategy_run.RunAlreadyInProgress, match="in process"):
            run(now=NOW + timedelta(minutes=1))
        # ... but once its process is gone, the next run fails it and finishes the day.
        models.StrategyRun.objects.filter(pk=abandoned.pk).update(
            process=f"{socket.gethostname()}:{dead_pid()}"
        )
        resumed = run(now=NOW + timedelta(minutes=2))
        abandoned.refresh_from_db()
        assert abandoned.status == models.RunStatus.FAILED
        assert "is gone" in abandoned.error
        assert audit_models.AuditEvent.objects.filter(
            event_type=events.EventType.STRATEGY_RUN_FAILED, subject_id=str(abandoned.pk)
        ).exists()
        assert resumed.decisions == 2
        for target in book:
            assert models.Decision.objects.filter(account=target).count() == 1
            assert len(contacts(target)) == 1

    def test_a_run_of_another_host_is_failed_only_once_stale(self) -> None:
        models.StrategyRun.objects.create(
            as_of_date=TODAY,
            strategy_name="default",
            strategy_version="x",
            status=models.RunStatus.RUNNING,
            started_at=NOW - timedelta(minutes=5),
            started_by="elsewhere",
            process="some-other-host:1",
        )
        with pytest.raises(strategy_run.RunAlreadyInProgress):
            run()


class TestCatchUp:
    def test_after_missed_days_no_burst_and_the_stale_contacts_are_cancelled(self) -> None:
        notice = account(due=days_ago(12))  # stays on the late notice
        moving = account(due=days_ago(29))  # a promise request from 31 days past due
        first = run()
        assert len(contacts(notice)) == len(contacts(moving)) == 1
        later = TODAY + timedelta(days=4)  # three days without a run
        again = run(as_of=later, now=NOW + timedelta(days=4))
        for target, template in ((notice, "late_notice"), (moving, "promise_request")):
            planned = [c for c in contacts(target) if c.status == models.ContactStatus.PLANNED]
            assert [(c.template, c.run_id) for c in planned] == [(template, again.pk)]
            [stale] = [c for c in contacts(target) if c.run_id == first.pk]
            assert stale.status == models.ContactStatus.CANCELLED
            assert stale.failure_reason == (
                f"superseded by strategy run {again.pk} as of {later.isoformat()}"
            )
        assert again.counts["contacts"]["superseded"] == 2
        [event] = audited(events.EventType.CONTACTS_SUPERSEDED)
        assert (event.subject_id, event.parameters["contacts"]) == (str(again.pk), 2)
        assert event.parameters["from_runs"] == [first.pk]

    def test_contacts_already_sent_are_never_touched(self) -> None:
        notice = account(due=days_ago(12))
        first = run()
        models.ContactAttempt.objects.filter(run=first).update(
            status=models.ContactStatus.SENT, sent_at=NOW
        )
        run(as_of=TODAY + timedelta(days=2), now=NOW + timedelta(days=2))
        [sent] = contacts(notice)
        assert sent.status == models.ContactStatus.SENT
        assert "CADENCE_WAIT" in decision(notice, TODAY + timedelta(days=2)).reason_codes
        assert audited(events.EventType.CONTACTS_SUPERSEDED) == []


class TestReport:
    def test_the_report_counts_segments_treatments_arms_channels_contacts_and_phases(
        self,
    ) -> None:
        account(due=days_ago(12))
        account(due=days_ago(45))
        account(customer(email=None, phone=None, address=""), due=days_ago(5))
        ticks = iter(NOW + timedelta(seconds=n) for n in range(1, 100))
        result = run(clock=lambda: next(ticks))
        counts = result.counts
        assert counts["segment"] == {"early_arrears": 2, "everyone_else": 1}
        assert counts["treatment"] == {"LATE_NOTICE": 2, "PROMISE_REQUEST": 1}
        assert counts["arm"] == {}
        assert counts["channel"] == {"EMAIL": 2, "NONE": 1}
        assert counts["contacts"] == {
            "planned": 2,
            "allowed": 2,
            "deferred": 0,
            "blocked": 0,
            "superseded": 0,
        }
        assert counts["errors"] == []
        assert set(counts["phases"]) == {
            "guardrails",
            "extract",
            "judge",
            "decide",
            "load",
            "settle",
        }
        assert all(seconds > 0 for seconds in counts["phases"].values())
        assert (counts["engine"], counts["extract"]) == ("duckdb", "django")

    def test_the_command_prints_the_report_and_keeps_its_json(self) -> None:
        account(due=days_ago(12))
        out = io.StringIO()
        call_command("run", "--as-of", TODAY.isoformat(), stdout=out)
        text = out.getvalue()
        assert "segment: early_arrears 1" in text
        assert "contacts: 1 planned (1 now, 0 deferred), 0 blocked, 0 superseded" in text
        assert "engine duckdb" in text
        out = io.StringIO()
        call_command("run", "--as-of", TODAY.isoformat(), "--json", stdout=out)
        summary = json.loads(out.getvalue())
        assert summary["engine"] == "duckdb"
        assert summary["counts"]["already_decided"] == 1

    @pytest.mark.sqlite
    def test_the_command_refuses_an_engine_it_cannot_use(self) -> None:
        out = io.StringIO()
        with pytest.raises(SystemExit) as exited:
            call_command("run", "--engine", "postgres", "--json", stdout=out)
        assert exited.value.code == 2
        assert "postgres engine" in json.loads(out.getvalue())["reason"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_outside_a_transaction_reads_the_book_through_adbc() -> None:
    activate(definition.default_source().replace("2026.12.1", "2026.12.1-adbc"))
    late = account(due=days_ago(12))
    result = run()
    assert result.counts["extract"] == "adbc"
    assert decision(late).treatment == models.Treatment.LATE_NOTICE
    assert len(contacts(late)) == 1
