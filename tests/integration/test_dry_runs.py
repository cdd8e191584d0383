"""A dry run: requested, worked range by range in the background, stored; it writes nothing else."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accord.audit import events
from accord.audit import models as audit_models
from accord.cli import progress
from accord.jobs import dry_runs as dry_run_jobs
from accord.storage import models
from accord.strategy import definition
from accord.strategy import engine as strategy_engine
from accord.usecases import dry_runs, strategies
from tests.integration.test_strategy_run import (
    ACTOR,
    NOW,
    TODAY,
    account,
    audited,
    days_ago,
    plain,
    run,
)
from tests.integration.test_strategy_run_ranges import a_mixed_book

__all__ = ["plain"]  # the autouse fixture that activates the plain strategy

Status = models.DryRunStatus
# Rows a dry run may write: its own, its audit events and the task that works it.
BOOKKEEPING = {"StrategyDryRun", "AuditEvent", "DBTaskResult"}


def the_default() -> models.StrategyVersion:
    """Store the default strategy (with its SMS-first experiment) as a draft."""
    return strategies.save_draft(
        source=definition.default_source(), note="", based_on_id=None, actor=ACTOR, now=NOW
    )


def dry(
    version: models.StrategyVersion, *, per_range: int = 1_000_000, sample: int = 25, **kw: Any
) -> models.StrategyDryRun:
    """Request a dry run of ``version`` as of today and work it in the foreground."""
    requested = dry_runs.request(
        version_id=version.pk, as_of=TODAY, actor=ACTOR, now=NOW, background=False
    )
    return dry_runs.execute(
        dry_run_id=requested.pk,
        now=NOW,
        actor=ACTOR,
        accounts_per_range=per_range,
        sample=sample,
        **kw,
    )


def result_of(dry_run: models.StrategyDryRun) -> dry_runs.DryRun:
    found = dry_runs.result(dry_run)
    assert found is not None, dry_run.error
    return found


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


class TestRequest:
    def test_a_request_is_stored_queued_and_audited(self) -> None:
        version = the_default()
        requested = dry_runs.request(version_id=version.pk, as_of=TODAY, actor=ACTOR, now=NOW)
        assert (requested.status, requested.requested_by, requested.requested_at) == (
            Status.QUEUED,
            ACTOR,
            NOW,
        )
        [event] = audited(events.EventType.STRATEGY_DRY_RUN_REQUESTED)
        assert event.subject_id == str(requested.pk)
        assert event.parameters == {
            "version_id": version.pk,
            "strategy": version.label,
            "as_of": TODAY.isoformat(),
        }

    def test_a_future_as_of_date_is_refused_and_nothing_stored(self) -> None:
        version = the_default()
        with pytest.raises(dry_runs.DryRunFutureDated, match="after today"):
            dry_runs.request(
                version_id=version.pk, as_of=TODAY + timedelta(days=1), actor=ACTOR, now=NOW
            )
        assert not models.StrategyDryRun.objects.exists()

    def test_a_version_that_no_longer_validates_is_refused(self) -> None:
        broken = models.StrategyVersion.objects.create(
            name="broken",
            version="1",
            source="segments: [",
            status=models.StrategyStatus.DRAFT,
            created_at=NOW,
            created_by=ACTOR,
        )
        with pytest.raises(dry_runs.VersionNotValid, match="broken@1"):
            dry_runs.request(version_id=broken.pk, as_of=TODAY, actor=ACTOR, now=NOW)
        with pytest.raises(dry_runs.VersionNotFound):
            dry_runs.request(version_id=broken.pk + 99, as_of=TODAY, actor=ACTOR, now=NOW)
        assert not models.StrategyDryRun.objects.exists()

    def test_a_second_request_while_one_waits_returns_the_waiting_one(self) -> None:
        version = the_default()
        first = dry_runs.request(version_id=version.pk, as_of=TODAY, actor=ACTOR, now=NOW)
        again = dry_runs.request(
            version_id=version.pk, as_of=TODAY, actor="user:other", now=NOW + timedelta(seconds=5)
        )
        other_day = dry_runs.request(version_id=version.pk, as_of=days_ago(1), actor=ACTOR, now=NOW)
        assert again.pk == first.pk
        assert other_day.pk != first.pk

    def test_a_dry_run_whose_worker_died_is_failed_and_a_new_one_queued(self) -> None:
        version = the_default()
        stuck = dry_runs.request(version_id=version.pk, as_of=TODAY, actor=ACTOR, now=NOW)
        models.StrategyDryRun.objects.filter(pk=stuck.pk).update(
            status=Status.RUNNING, started_at=NOW, process="elsewhere:1"
        )
        later = NOW + dry_runs.STALE_AFTER + timedelta(minutes=1)
        fresh = dry_runs.request(version_id=version.pk, as_of=TODAY, actor=ACTOR, now=later)
        stuck.refresh_from_db()
        assert fresh.pk != stuck.pk
        assert stuck.status == Status.FAILED
        assert "abandoned" in stuck.error
        [failed] = audited(events.EventType.STRATEGY_DRY_RUN_FAILED)
        assert failed.subject_id == str(stuck.pk)

    def test_the_task_is_enqueued_only_once_the_request_commits(
        self, django_capture_on_commit_callbacks: Any
    ) -> None:
        version = the_default()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            requested = dry_runs.request(version_id=version.pk, as_of=TODAY, actor=ACTOR, now=NOW)
            assert not DBTaskResult.objects.exists()
        assert len(callbacks) == 1
        [queued] = DBTaskResult.objects.all()
        assert queued.task_path == dry_run_jobs.execute_dry_run.module_path
        assert queued.args_kwargs["args"] == [requested.pk]

    def test_without_background_no_task_is_enqueued(
        self, django_capture_on_commit_callbacks: Any
    ) -> None:
        version = the_default()
        with django_capture_on_commit_callbacks(execute=True):
            dry_runs.request(
                version_id=version.pk, as_of=TODAY, actor=ACTOR, now=NOW, background=False
            )
        assert not DBTaskResult.objects.exists()


class TestExecute:
    def test_a_dry_run_writes_no_business_row(self) -> None:
        account(due=days_ago(12))
        account(due=days_ago(45))
        version = the_default()
        before = row_counts()
        done = dry(version)
        after = row_counts()
        assert done.status == Status.COMPLETED
        changed = {name for name in before if before[name] != after[name]}
        assert changed <= BOOKKEEPING
        assert after["StrategyDryRun"] == before["StrategyDryRun"] + 1

    def test_a_dry_run_counts_and_compares_with_the_active_version(self) -> None:
        early = [account(due=days_ago(5)) for _ in range(10)]
        account(due=days_ago(45))
        version = the_default()
        done = dry(version, sample=5)
        found = result_of(done)
        assert (found.label, found.active_label, found.accounts) == (
            version.label,
            "default@plain",
            11,
        )
        assert found.counts["segment"] == {"early_arrears": 10, "everyone_else": 1}
        assert sum(found.counts["arm"].values()) == 10
        assert found.active_counts is not None
        assert found.active_counts["arm"] == {}
        assert found.counts["contacts"]["allowed"] + found.counts["contacts"]["deferred"] == 11
        assert len(found.samples) == 5
        sample = found.samples[0]
        assert sample.account_ref.startswith("ACC-")
        assert sample.customer_name.startswith("Customer ")
        assert sample.reason_codes[0].startswith("STAGE_")
        assert {s.segment for s in found.samples} == {"early_arrears", "everyone_else"}
        assert {s.account_id for s in found.samples} < {a.pk for a in models.Account.objects.all()}
        assert len({s.account_id for s in found.samples}) == 5
        del early

    def test_completion_is_recorded_and_audited(self) -> None:
        account(due=days_ago(12))
        done = dry(the_default(), clock=lambda: NOW + timedelta(seconds=7))
        assert (done.started_at, done.finished_at) == (NOW, NOW + timedelta(seconds=7))
        assert (done.ranges_done, done.ranges_total) == (1, 1)
        assert done.process
        [completed] = audited(events.EventType.STRATEGY_DRY_RUN_COMPLETED)
        assert completed.parameters["accounts"] == 1
        assert completed.parameters["seconds"] == 7.0

    def test_a_dry_run_of_the_active_version_has_nothing_to_compare(self) -> None:
        account(due=days_ago(12))
        done = dry(strategies.active_version(now=NOW))
        assert result_of(done).active_counts is None

    def test_a_dry_run_decides_accounts_already_decided_today(self) -> None:
        account(due=days_ago(12))
        run()
        assert result_of(dry(the_default())).accounts == 1

    @pytest.mark.parametrize("per_range", [6, 13])
    def test_ranges_of_a_few_accounts_count_and_sample_as_one_range(self, per_range: int) -> None:
        a_mixed_book()
        version = the_default()
        whole = dry(version, sample=12)
        models.StrategyDryRun.objects.all().delete()  # a new one, not the completed one
        ranged = dry(version, per_range=per_range, sample=12)
        accounts = models.Account.objects.count()
        assert ranged.ranges_total == -(-accounts // per_range) > 1
        assert ranged.ranges_done == ranged.ranges_total
        assert ranged.result == whole.result
        assert result_of(whole).accounts == accounts
        assert len({sample.segment for sample in result_of(whole).samples}) > 2

    def test_progress_is_saved_and_reported_after_every_range(self) -> None:
        for days in (3, 12, 45, 80, 100):
            account(due=days_ago(days))
        seen: list[tuple[int, int, int]] = []

        def report(stage: str, done: int, total: int) -> None:
            saved = models.StrategyDryRun.objects.get()
            seen.append((done, total, saved.ranges_done))

        dry(the_default(), per_range=2, progress=report)
        assert seen == [(0, 3, 0), (1, 3, 1), (2, 3, 2), (3, 3, 3)]

    def test_a_failure_is_recorded_with_its_error_and_audited(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        account(due=days_ago(12))

        def broken(**kwargs: Any) -> Any:
            raise RuntimeError("the engine fell over")

        monkeypatch.setattr(strategy_engine, "decide", broken)
        requested = dry_runs.request(
            version_id=the_default().pk, as_of=TODAY, actor=ACTOR, now=NOW, background=False
        )
        with pytest.raises(RuntimeError):
            dry_runs.execute(dry_run_id=requested.pk, now=NOW, actor=ACTOR)
        requested.refresh_from_db()
        assert requested.status == Status.FAILED
        assert requested.error == "RuntimeError: the engine fell over"
        assert requested.finished_at == NOW
        assert dry_runs.result(requested) is None
        [failed] = audited(events.EventType.STRATEGY_DRY_RUN_FAILED)
        assert failed.parameters["error"] == "RuntimeError: the engine fell over"

    def test_a_dry_run_not_queued_is_left_alone(self) -> None:
        account(due=days_ago(12))
        done = dry(the_default())
        again = dry_runs.execute(dry_run_id=done.pk, now=NOW + timedelta(hours=1), actor=ACTOR)
        assert (again.status, again.started_at, again.result) == (
            Status.COMPLETED,
            NOW,
            done.result,
        )
        assert len(audited(events.EventType.STRATEGY_DRY_RUN_COMPLETED)) == 1

    def test_the_result_reads_back_as_it_was_stored(self) -> None:
        account(due=days_ago(45))
        done = dry(the_default(), sample=1)
        found = result_of(done)
        assert dataclasses.asdict(found.samples[0])["reason_codes"] == list(
            found.samples[0].reason_codes
        )
        assert dry_runs.DryRun.from_json(found.as_json()) == found


class TestCommand:
    def test_the_command_works_a_dry_run_in_the_foreground_and_prints_its_counts(self) -> None:
        account(due=days_ago(5))
        account(due=days_ago(45))
        version = the_default()
        before = row_counts()
        out = io.StringIO()
        call_command("strategy", "dry-run", version.label, "--as-of", TODAY.isoformat(), stdout=out)
        printed = out.getvalue()
        done = models.StrategyDryRun.objects.get()
        assert done.status == Status.COMPLETED
        assert done.requested_by.startswith("cli:")
        assert f"Dry run {done.pk} of {version.label} as of {TODAY.isoformat()}: 2 accounts" in (
            printed
        )
        assert "compared with default@plain" in printed
        assert "segment: early_arrears 1 (active 1), everyone_else 1 (active 1)" in printed
        assert "arm: early-sms-first/" in printed
        assert "sample:" in printed
        changed = {name for name, count in row_counts().items() if before[name] != count}
        assert changed <= BOOKKEEPING

    def test_the_command_shows_a_progress_bar_per_range(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for days in (5, 45, 90):
            account(due=days_ago(days))
        seen: list[tuple[int, int]] = []

        @contextlib.contextmanager
        def stages(*, enabled: bool, title: str) -> Iterator[Any]:
            assert (enabled, title) == (True, "Dry run")
            yield lambda stage, done, total: seen.append((done, total))

        monkeypatch.setattr(progress, "stages", stages)
        call_command(
            "strategy",
            "dry-run",
            the_default().label,
            "--accounts-per-range",
            "1",
            stdout=io.StringIO(),
        )
        assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]

    def test_the_command_prints_json_and_works_a_dry_run_already_queued(self) -> None:
        account(due=days_ago(12))
        version = the_default()
        waiting = dry_runs.request(version_id=version.pk, as_of=TODAY, actor=ACTOR, now=NOW)
        out = io.StringIO()
        call_command(
            "strategy",
            "dry-run",
            str(version.pk),
            "--as-of",
            TODAY.isoformat(),
            "--json",
            stdout=out,
        )
        printed = json.loads(out.getvalue())
        assert (printed["id"], printed["status"], printed["accounts"]) == (
            waiting.pk,
            "COMPLETED",
            1,
        )
        assert models.StrategyDryRun.objects.count() == 1

    @pytest.mark.parametrize(
        ("arguments", "message"),
        [
            (["--as-of", (TODAY + timedelta(days=3)).isoformat()], "after today"),
            (["--as-of", "25/11/2026"], "YYYY-MM-DD"),
        ],
    )
    def test_the_command_refuses_a_date_it_cannot_use(
        self, arguments: list[str], message: str
    ) -> None:
        version = the_default()
        with pytest.raises(CommandError, match=message):
            call_command("strategy", "dry-run", version.label, *arguments, stdout=io.StringIO())
        assert not models.StrategyDryRun.objects.exists()

    def test_the_command_refuses_an_unknown_version(self) -> None:
        with pytest.raises(CommandError, match="no strategy version nope@1"):
            call_command("strategy", "dry-run", "nope@1", stdout=io.StringIO())


# The worker closes connections between tasks (close_old_connections), which would end the
# test's wrapping transaction; this test commits instead.
@pytest.mark.django_db(transaction=True)
def test_the_database_worker_works_a_requested_dry_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    account(due=days_ago(12))
    version = the_default()
    requested = dry_runs.request(version_id=version.pk, as_of=TODAY, actor=ACTOR, now=NOW)
    assert DBTaskResult.objects.count() == 1

    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", stdout=io.StringIO()
    )

    requested.refresh_from_db()
    assert requested.status == Status.COMPLETED, requested.error
    assert result_of(requested).accounts == 1
    [completed] = audit_models.AuditEvent.objects.filter(
        event_type=events.EventType.STRATEGY_DRY_RUN_COMPLETED
    )
    assert completed.actor == dry_run_jobs.DRY_RUN_ACTOR
