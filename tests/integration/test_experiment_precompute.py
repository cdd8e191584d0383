"""Experiment assignments and result snapshots: counted once after each run, read cheaply."""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accord.analytics import experiments
from accord.domain.access import Role
from accord.jobs import experiments as experiment_jobs
from accord.storage import experiment_assignments, experiment_harm, models
from accord.strategy import definition
from accord.usecases import guardrails
from tests.integration import experiment_data as x
from tests.integration import manager_data as data

MONDAY = datetime.date(2026, 11, 16)


def day(offset: int) -> datetime.date:
    return MONDAY + datetime.timedelta(days=offset)


def completed_run(
    as_of: datetime.date, decide: Callable[[models.StrategyRun], object]
) -> models.StrategyRun:
    """Record a run as the runner does: RUNNING, its decisions loaded, then COMPLETED."""
    run = data.run(as_of, status=models.RunStatus.RUNNING)
    decide(run)
    run.status = models.RunStatus.COMPLETED
    run.save()
    return run


def assignments() -> dict[tuple[int, str], tuple[datetime.date, datetime.date]]:
    return {
        (row.account_id, row.arm): (row.first_date, row.last_date)
        for row in models.ExperimentAssignment.objects.filter(experiment=x.EXPERIMENT)
    }


def experiment() -> definition.Experiment:
    found = x.strategy().segments[0].experiment
    assert found is not None
    return found


class TestAssignments:
    def test_a_completed_run_records_each_account_in_its_arm_from_that_day(self) -> None:
        champion, challenger = x.accounts(2), x.accounts(1)

        def decide(run: models.StrategyRun) -> None:
            x.decide(run, champion, arm=x.CHAMPION)
            x.decide(run, challenger, arm=x.CHALLENGER)

        completed_run(day(0), decide)
        assert assignments() == {
            (champion[0].pk, x.CHAMPION): (day(0), day(0)),
            (champion[1].pk, x.CHAMPION): (day(0), day(0)),
            (challenger[0].pk, x.CHALLENGER): (day(0), day(0)),
        }

    def test_stay_stable_while_later_runs_only_move_the_latest_day_on(self) -> None:
        steady, joiner = x.accounts(1), x.accounts(1)
        completed_run(day(0), lambda run: x.decide(run, steady, arm=x.CHAMPION))
        completed_run(day(1), lambda run: x.decide(run, steady + joiner, arm=x.CHAMPION))
        completed_run(day(2), lambda run: x.decide(run, joiner, arm=x.CHAMPION, dpd=0))
        assert assignments() == {
            (steady[0].pk, x.CHAMPION): (day(0), day(1)),
            (joiner[0].pk, x.CHAMPION): (day(1), day(2)),
        }

    def test_an_account_decided_outside_the_experiment_keeps_its_assignment(self) -> None:
        leaver = x.accounts(1)
        completed_run(day(0), lambda run: x.decide(run, leaver, arm=x.CHALLENGER))
        completed_run(day(1), lambda run: x.decide(run, leaver, arm="", experiment=""))
        assert assignments() == {(leaver[0].pk, x.CHALLENGER): (day(0), day(0))}

    def test_an_account_moved_to_another_arm_by_a_new_split_gets_a_second_row(self) -> None:
        moved = x.accounts(1)
        completed_run(day(0), lambda run: x.decide(run, moved, arm=x.CHAMPION))
        completed_run(day(1), lambda run: x.decide(run, moved, arm=x.CHALLENGER))
        assert assignments() == {
            (moved[0].pk, x.CHAMPION): (day(0), day(0)),
            (moved[0].pk, x.CHALLENGER): (day(1), day(1)),
        }

    def test_a_second_run_for_the_same_day_adds_the_accounts_it_decided(self) -> None:
        first, rest = x.accounts(1), x.accounts(1)
        completed_run(day(0), lambda run: x.decide(run, first, arm=x.CHAMPION))
        completed_run(day(0), lambda run: x.decide(run, rest, arm=x.CHAMPION))
        assert set(assignments()) == {(first[0].pk, x.CHAMPION), (rest[0].pk, x.CHAMPION)}

    def test_folding_again_changes_nothing(self) -> None:
        owners = x.accounts(3)
        completed_run(day(0), lambda run: x.decide(run, owners, arm=x.CHAMPION))
        before = assignments()
        assert experiment_assignments.fold(since=None) == 0
        assert experiment_assignments.catch_up() == 0
        assert assignments() == before

    def test_catching_up_folds_the_days_after_the_newest_folded_day(self) -> None:
        early, late = x.accounts(1), x.accounts(1)
        completed_run(day(0), lambda run: x.decide(run, early, arm=x.CHAMPION))
        x.decide(data.run(day(1), status=models.RunStatus.FAILED), late, arm=x.CHAMPION)
        assert experiment_assignments.latest_folded() == day(0)
        assert experiment_assignments.catch_up() == 1
        assert assignments()[(late[0].pk, x.CHAMPION)] == (day(1), day(1))

    def test_a_failed_fold_is_logged_and_the_run_still_completes(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        def broken(**kwargs: Any) -> int:
            raise DatabaseError("disk full")

        monkeypatch.setattr(experiment_assignments, "fold_after_run", broken)
        owners = x.accounts(1)
        with caplog.at_level(logging.ERROR, logger="accord.jobs.experiments"):
            run = completed_run(day(0), lambda run: x.decide(run, owners, arm=x.CHAMPION))
        run.refresh_from_db()
        assert run.status == models.RunStatus.COMPLETED
        assert "Folding the experiment assignments" in caplog.text
        monkeypatch.undo()
        assert experiment_assignments.catch_up() == 1  # the next run's guardrails catch up

    def test_the_experiments_are_listed_from_the_decisions(self) -> None:
        (owner,) = x.accounts(1)
        x.decide(x.run(day(0)), [owner], arm="a", experiment="b-test")
        x.decide(x.run(day(1)), [owner], arm="a", experiment="a-test")
        x.decide(x.run(day(2)), [owner], arm="", experiment="")
        assert experiment_assignments.experiment_names() == ["a-test", "b-test"]
        assert experiment_assignments.decided_dates("b-test") == (day(0), day(0))
        assert experiment_assignments.decided_dates("none") is None


class TestTheSnapshotTask:
    def test_is_enqueued_once_a_completed_run_commits(
        self, django_capture_on_commit_callbacks: Any
    ) -> None:
        owners = x.accounts(1)
        with django_capture_on_commit_callbacks(execute=True):
            completed_run(day(0), lambda run: x.decide(run, owners, arm=x.CHAMPION))
        with django_capture_on_commit_callbacks(execute=True):
            completed_run(day(1), lambda run: x.decide(run, owners, arm=x.CHAMPION))
        waiting = DBTaskResult.objects.filter(
            task_path=experiment_jobs.snapshot_experiments.module_path,
            status=TaskResultStatus.READY,
        )
        assert waiting.count() == 1  # one waiting task serves both runs

    def test_stores_each_experiments_figures_as_of_the_latest_run(self) -> None:
        owners = x.accounts(2)
        completed_run(day(0), lambda run: x.decide(run, owners, arm=x.CHAMPION))
        run = completed_run(day(1), lambda run: x.decide(run, owners[:1], arm=x.CHALLENGER))
        report = experiment_jobs.snapshot_experiments.call()
        assert report["snapshots"] == 1
        stored = models.ExperimentSnapshot.objects.get()
        assert (stored.experiment, stored.start, stored.end, stored.run_id) == (
            x.EXPERIMENT,
            day(1) - datetime.timedelta(days=experiments.DEFAULT_WINDOW_DAYS - 1),
            day(1),
            run.pk,
        )
        counted = stored.figures["arms"]
        assert (counted[x.CHAMPION]["accounts"], counted[x.CHALLENGER]["accounts"]) == (2, 1)


@pytest.fixture
def book() -> None:
    """Two arms over two days with contacts, payments, a promise and a complaint."""
    champion, challenger = x.accounts(3), x.accounts(2)
    first = x.run(day(0))
    decided = x.decide(first, champion, arm=x.CHAMPION, dpd=12)
    x.decide(first, challenger, arm=x.CHALLENGER, dpd=40, bucket="DPD_31_60")
    data.contact(decided[0], models.ContactStatus.SENT)
    later = x.run(day(1))
    x.decide(later, champion[:1], arm="", experiment="", dpd=0)  # cured, left the segment
    x.decide(later, challenger, arm=x.CHALLENGER, dpd=70, bucket="DPD_61_90")  # rolled
    data.payment(champion[0], "25.00", day(1))
    x.promises(
        challenger[:1], due=day(1), status=models.PromiseStatus.BROKEN, resolved=x.at(day(1))
    )
    x.complaints(challenger[1:], x.at(day(1)))


@pytest.mark.usefixtures("book")
class TestSnapshots:
    def test_equal_the_figures_counted_on_demand_for_the_same_window(self) -> None:
        buckets = x.strategy().buckets
        experiments.record_snapshot(
            experiment=x.EXPERIMENT, buckets=buckets, start=day(0), end=day(1), now=x.NOW
        )
        snapshot = experiments.latest_snapshot(experiment=experiment(), buckets=buckets)
        assert snapshot is not None
        assert snapshot.computed_at == x.NOW
        on_demand = experiments.results(
            experiment=experiment(), buckets=buckets, start=day(0), end=day(1)
        )
        assert snapshot.results == on_demand
        challenger = on_demand.arms[1]
        assert (challenger.accounts, challenger.proportions[experiments.Metric.ROLL].rate) == (
            2,
            1,
        )

    def test_show_pauses_as_they_are_now(self) -> None:
        buckets = x.strategy().buckets
        experiments.record_snapshot(
            experiment=x.EXPERIMENT, buckets=buckets, start=day(0), end=day(1), now=x.NOW
        )
        guardrails.pause_arm(
            experiment=x.EXPERIMENT, arm=x.CHALLENGER, reason="", actor="user:boss", now=x.NOW
        )
        snapshot = experiments.latest_snapshot(experiment=experiment(), buckets=buckets)
        assert snapshot is not None
        assert snapshot.results.arms[1].pause is not None

    def test_counted_with_other_buckets_are_not_used(self) -> None:
        experiments.record_snapshot(
            experiment=x.EXPERIMENT,
            buckets=x.strategy().buckets,
            start=day(0),
            end=day(1),
            now=x.NOW,
        )
        other = definition.load(definition.DEFAULT_PATH).buckets
        assert experiments.bucket_key(other) != experiments.bucket_key(x.strategy().buckets)
        assert experiments.latest_snapshot(experiment=experiment(), buckets=other) is None

    def test_of_an_experiment_that_ended_are_not_counted_again(self) -> None:
        # No decision in the 28 days up to day 40: the window ends on its latest decision.
        first = experiments.record_snapshots(as_of=day(40), now=x.NOW)
        again = experiments.record_snapshots(as_of=day(41), now=x.NOW)
        assert [(s.start, s.end) for s in first] == [(day(1) - datetime.timedelta(days=27), day(1))]
        assert again == []


class TestGuardrailsReadTheAssignments:
    @pytest.fixture
    def harmful(self) -> tuple[list[models.Account], list[models.Account]]:
        champion, challenger = x.accounts(10), x.accounts(10)

        def decide(run: models.StrategyRun) -> None:
            x.decide(run, champion, arm=x.CHAMPION)
            x.decide(run, challenger, arm=x.CHALLENGER)

        completed_run(datetime.date(2026, 11, 20), decide)
        x.complaints(challenger[:2], x.at(datetime.date(2026, 11, 20)))
        return champion, challenger

    def test_and_still_pause_a_challenger_past_its_threshold(
        self, harmful: tuple[list[models.Account], list[models.Account]]
    ) -> None:
        (pause,) = guardrails.check_guardrails(strategy=x.strategy(), now=x.NOW)
        assert pause.arm == x.CHALLENGER
        assert pause.metrics["challenger"]["accounts"] == 10

    def test_without_reading_the_decisions(
        self, harmful: tuple[list[models.Account], list[models.Account]]
    ) -> None:
        models.Decision.objects.all().delete()  # only the assignments are left to count
        (pause,) = guardrails.check_guardrails(strategy=x.strategy(), now=x.NOW)
        assert pause.metrics["champion"]["accounts"] == 10
        assert pause.metrics["challenger"]["events"]["complaints"] == 2

    def test_and_count_what_the_decisions_count_for_a_window_ending_today(
        self, harmful: tuple[list[models.Account], list[models.Account]]
    ) -> None:
        start = datetime.date(2026, 10, 29)
        assert experiment_harm.recent_harm_by_arm(
            experiment=x.EXPERIMENT, start=start, end=x.TODAY
        ) == experiment_harm.harm_by_arm(experiment=x.EXPERIMENT, start=start, end=x.TODAY)

    def test_and_leave_out_accounts_last_decided_before_the_window(
        self, harmful: tuple[list[models.Account], list[models.Account]]
    ) -> None:
        later = x.NOW + datetime.timedelta(days=40)
        assert guardrails.check_guardrails(strategy=x.strategy(), now=later) == []
        start, end = guardrails.window(now=later)
        assert (
            experiment_harm.recent_harm_by_arm(experiment=x.EXPERIMENT, start=start, end=end) == {}
        )


@pytest.fixture
def _static_root() -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.mark.usefixtures("_static_root", "_fresh_cache")
class TestTheExperimentPage:
    DEFAULT = "early-sms-first"

    @pytest.fixture
    def manager(self) -> Client:
        user = User.objects.create(username="boss")
        user.groups.set([Group.objects.get(name=Role.MANAGER.value)])
        client = Client()
        client.force_login(user)
        return client

    def accounts_row(self, page: str) -> list[str]:
        table = page[page.index('id="arm-table"') : page.index('id="harm-table"')]
        row = re.search(r"<th scope=\"row\">Accounts</th>(.*?)</tr>", table, re.S)
        assert row
        return re.findall(r'cell-figure">([^<]*)<', row.group(1))

    def test_shows_the_latest_snapshot_and_when_it_was_counted(self, manager: Client) -> None:
        today = timezone.localdate()
        run = x.run(today)
        x.decide(run, x.accounts(3), arm="champion", experiment=self.DEFAULT)
        experiments.record_snapshots(as_of=today, now=x.NOW, run_id=run.pk)
        x.decide(run, x.accounts(2), arm="sms_first", experiment=self.DEFAULT)  # after it
        page = manager.get(f"/manager/experiments/{self.DEFAULT}/").content.decode()
        assert self.accounts_row(page) == ["3", "0"]
        assert 'id="snapshot-note"' in page
        assert "Counted at 25 Nov 2026" in page

    def test_counts_a_chosen_window_on_demand(self, manager: Client) -> None:
        today = timezone.localdate()
        run = x.run(today)
        x.decide(run, x.accounts(3), arm="champion", experiment=self.DEFAULT)
        experiments.record_snapshots(as_of=today, now=x.NOW, run_id=run.pk)
        x.decide(run, x.accounts(2), arm="sms_first", experiment=self.DEFAULT)
        window = {"start": (today - datetime.timedelta(days=27)).isoformat(), "end": today}
        page = manager.get(f"/manager/experiments/{self.DEFAULT}/", window).content.decode()
        assert self.accounts_row(page) == ["3", "2"]
        assert 'id="snapshot-note"' not in page
