"""Customer-harm guardrails pause a challenger that harms customers more than its champion."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accord.audit.models import AuditEvent
from accord.storage import experiment_harm, models
from accord.usecases import guardrails
from tests.integration import experiment_data as x

IN_WINDOW = datetime.date(2026, 11, 20)
BEFORE_WINDOW = datetime.date(2026, 10, 28)  # the window starts on 2026-10-29


@pytest.fixture
def arms() -> tuple[list[models.Account], list[models.Account]]:
    """Ten accounts in each arm, decided in the window; two challenger customers complained."""
    champion, challenger = x.accounts(10), x.accounts(10)
    run = x.run(IN_WINDOW)
    x.decide(run, champion, arm=x.CHAMPION)
    x.decide(run, challenger, arm=x.CHALLENGER)
    x.complaints(challenger[:2], x.at(IN_WINDOW))
    return champion, challenger


def open_pauses() -> list[models.ExperimentArmPause]:
    return list(models.ExperimentArmPause.objects.filter(resumed_at__isnull=True))


@pytest.mark.usefixtures("arms")
class TestAChallengerIsPaused:
    def test_when_its_complaints_per_thousand_exceed_the_champions_by_the_threshold(
        self,
    ) -> None:
        (pause,) = guardrails.check_guardrails(strategy=x.strategy(), now=x.NOW)
        assert (pause.experiment, pause.arm, pause.paused_by) == (
            x.EXPERIMENT,
            x.CHALLENGER,
            "system:guardrails",
        )
        assert pause.paused_at == x.NOW
        assert "complaints 200.0 per 1,000 accounts" in pause.reason
        assert "0.0 for the champion champion" in pause.reason
        assert "more than 2 above it" in pause.reason

    def test_with_the_figures_that_tripped_it(self) -> None:
        (pause,) = guardrails.check_guardrails(strategy=x.strategy(), now=x.NOW)
        assert pause.metrics["breached"] == ["complaints"]
        assert pause.metrics["window"] == {"start": "2026-10-29", "end": "2026-11-25"}
        assert pause.metrics["challenger"]["accounts"] == 10
        assert pause.metrics["challenger"]["events"]["complaints"] == 2
        assert Decimal(pause.metrics["challenger"]["per_1000"]["complaints"]) == 200
        assert Decimal(pause.metrics["champion"]["per_1000"]["complaints"]) == 0
        assert pause.metrics["thresholds"]["complaints"] == "2"

    def test_audited_by_the_guardrails_with_its_reason(self) -> None:
        (pause,) = guardrails.check_guardrails(strategy=x.strategy(), now=x.NOW)
        event = AuditEvent.objects.get(event_type="EXPERIMENT_ARM_PAUSED")
        assert (event.actor, event.subject_type, event.subject_id) == (
            "system:guardrails",
            "experiment",
            x.EXPERIMENT,
        )
        assert event.parameters["arm"] == x.CHALLENGER
        assert event.parameters["pause_id"] == pause.pk
        assert event.parameters["reason"] == pause.reason
        assert event.parameters["metrics"]["breached"] == ["complaints"]

    def test_only_once_however_often_the_guardrails_are_checked(self) -> None:
        guardrails.check_guardrails(strategy=x.strategy(), now=x.NOW)
        again = guardrails.check_guardrails(
            strategy=x.strategy(), now=x.NOW + datetime.timedelta(hours=1)
        )
        assert again == []
        assert len(open_pauses()) == 1
        assert AuditEvent.objects.filter(event_type="EXPERIMENT_ARM_PAUSED").count() == 1


@pytest.mark.usefixtures("arms")
class TestAChallengerIsNotPaused:
    def test_while_either_arm_has_fewer_than_the_minimum_accounts(self) -> None:
        assert guardrails.check_guardrails(strategy=x.strategy(min_accounts=11), now=x.NOW) == []
        assert open_pauses() == []

    def test_when_the_excess_is_within_the_threshold(self) -> None:
        assert guardrails.check_guardrails(strategy=x.strategy(complaints="250"), now=x.NOW) == []

    def test_when_the_excess_equals_the_threshold_exactly(self) -> None:
        assert guardrails.check_guardrails(strategy=x.strategy(complaints="200"), now=x.NOW) == []

    def test_when_the_harm_happened_before_the_window(self) -> None:
        assert (
            guardrails.check_guardrails(
                strategy=x.strategy(), now=x.NOW + datetime.timedelta(days=40)
            )
            == []
        )

    def test_again_after_a_manager_resumed_it_until_new_harm_is_seen(self) -> None:
        assert guardrails.check_guardrails(strategy=x.strategy(), now=x.NOW)
        later = x.NOW + datetime.timedelta(hours=2)
        guardrails.resume_arm(
            experiment=x.EXPERIMENT, arm=x.CHALLENGER, actor="user:boss", now=later
        )
        assert guardrails.check_guardrails(strategy=x.strategy(), now=later) == []


class TestTheChampion:
    def test_is_never_paused_even_when_it_harms_more(self) -> None:
        champion, challenger = x.accounts(10), x.accounts(10)
        run = x.run(IN_WINDOW)
        x.decide(run, champion, arm=x.CHAMPION)
        x.decide(run, challenger, arm=x.CHALLENGER)
        x.disputes(champion, x.at(IN_WINDOW))
        assert guardrails.check_guardrails(strategy=x.strategy(), now=x.NOW) == []


class TestEachHarmMeasure:
    @pytest.mark.parametrize(
        ("measure", "record"),
        [
            ("opt_outs", lambda owners: x.opt_outs(owners, x.at(IN_WINDOW))),
            ("disputes", lambda owners: x.disputes(owners, x.at(IN_WINDOW))),
            (
                "broken_promises",
                lambda owners: x.promises(
                    owners,
                    due=IN_WINDOW,
                    status=models.PromiseStatus.BROKEN,
                    resolved=x.at(IN_WINDOW),
                ),
            ),
        ],
    )
    def test_can_pause_a_challenger(self, measure: str, record: object) -> None:
        champion, challenger = x.accounts(10), x.accounts(10)
        run = x.run(IN_WINDOW)
        x.decide(run, champion, arm=x.CHAMPION)
        x.decide(run, challenger, arm=x.CHALLENGER)
        assert callable(record)
        record(challenger[:6])  # 600 per 1,000 against 0: past every default threshold
        (pause,) = guardrails.check_guardrails(strategy=x.strategy(), now=x.NOW)
        assert pause.metrics["breached"] == [measure]


class TestHarmByArm:
    def test_counts_events_of_the_arms_customers_in_the_window_only(self) -> None:
        champion, challenger = x.accounts(4), x.accounts(5)
        x.decide(x.run(IN_WINDOW), champion, arm=x.CHAMPION)
        x.decide(x.run(IN_WINDOW + datetime.timedelta(days=1)), challenger, arm=x.CHALLENGER)
        x.decide(x.run(BEFORE_WINDOW), x.accounts(3), arm=x.CHALLENGER)  # not in the window
        x.opt_outs(challenger[:1], x.at(IN_WINDOW))
        x.opt_outs(challenger[1:2], x.at(BEFORE_WINDOW))  # before the window: left out
        x.complaints(champion[:1], x.at(IN_WINDOW))
        x.promises(
            challenger[:2],
            due=IN_WINDOW,
            status=models.PromiseStatus.BROKEN,
            resolved=x.at(IN_WINDOW),
        )
        x.promises(
            challenger[2:3],
            due=IN_WINDOW,
            status=models.PromiseStatus.KEPT,
            resolved=x.at(IN_WINDOW),
        )
        harm = experiment_harm.harm_by_arm(
            experiment=x.EXPERIMENT, start=datetime.date(2026, 10, 29), end=x.TODAY
        )
        assert (harm[x.CHAMPION].accounts, harm[x.CHALLENGER].accounts) == (4, 5)
        m = experiment_harm.Measure
        assert harm[x.CHALLENGER].events == {
            m.OPT_OUTS: 1,
            m.COMPLAINTS: 0,
            m.DISPUTES: 0,
            m.BROKEN_PROMISES: 2,
        }
        assert harm[x.CHAMPION].rate(m.COMPLAINTS) == Decimal(250)
        assert harm[x.CHALLENGER].rate(m.BROKEN_PROMISES) == Decimal(400)

    def test_an_experiment_without_decisions_has_no_arms(self) -> None:
        assert experiment_harm.harm_by_arm(experiment="none", start=IN_WINDOW, end=x.TODAY) == {}


class TestPauseByHand:
    def test_a_manager_pauses_a_challenger_with_a_reason(self) -> None:
        pause = guardrails.pause_arm(
            experiment=x.EXPERIMENT,
            arm=x.CHALLENGER,
            reason="  Letters went out with a wrong date. ",
            actor="user:boss",
            now=x.NOW,
            strategy=x.strategy(),
        )
        assert (pause.reason, pause.paused_by, pause.metrics) == (
            "Letters went out with a wrong date.",
            "user:boss",
            {},
        )
        event = AuditEvent.objects.get(event_type="EXPERIMENT_ARM_PAUSED")
        assert (event.actor, event.parameters["arm"]) == ("user:boss", x.CHALLENGER)

    def test_twice_is_refused(self) -> None:
        kwargs = {
            "experiment": x.EXPERIMENT,
            "arm": x.CHALLENGER,
            "actor": "user:boss",
            "now": x.NOW,
        }
        guardrails.pause_arm(reason="", **kwargs)
        with pytest.raises(guardrails.ArmAlreadyPaused):
            guardrails.pause_arm(reason="", **kwargs)

    def test_the_champion_cannot_be_paused(self) -> None:
        with pytest.raises(guardrails.ChampionNotPausable):
            guardrails.pause_arm(
                experiment=x.EXPERIMENT,
                arm=x.CHAMPION,
                reason="",
                actor="user:boss",
                now=x.NOW,
                strategy=x.strategy(),
            )

    def test_an_unknown_arm_is_refused(self) -> None:
        with pytest.raises(guardrails.UnknownArm):
            guardrails.pause_arm(
                experiment=x.EXPERIMENT,
                arm="nobody",
                reason="",
                actor="user:boss",
                now=x.NOW,
                strategy=x.strategy(),
            )

    def test_an_already_paused_arm_is_left_to_the_manager_by_the_guardrails(
        self, arms: tuple[list[models.Account], list[models.Account]]
    ) -> None:
        guardrails.pause_arm(
            experiment=x.EXPERIMENT, arm=x.CHALLENGER, reason="", actor="user:boss", now=x.NOW
        )
        assert guardrails.check_guardrails(strategy=x.strategy(), now=x.NOW) == []


class TestResume:
    def test_closes_the_open_pause_and_is_audited(self) -> None:
        guardrails.pause_arm(
            experiment=x.EXPERIMENT, arm=x.CHALLENGER, reason="", actor="user:boss", now=x.NOW
        )
        later = x.NOW + datetime.timedelta(days=1)
        pause = guardrails.resume_arm(
            experiment=x.EXPERIMENT, arm=x.CHALLENGER, actor="user:lead", now=later
        )
        assert (pause.resumed_at, pause.resumed_by) == (later, "user:lead")
        assert open_pauses() == []
        event = AuditEvent.objects.get(event_type="EXPERIMENT_ARM_RESUMED")
        assert (event.actor, event.parameters["arm"]) == ("user:lead", x.CHALLENGER)

    def test_an_arm_that_is_not_paused_is_refused(self) -> None:
        with pytest.raises(guardrails.ArmNotPaused):
            guardrails.resume_arm(
                experiment=x.EXPERIMENT, arm=x.CHALLENGER, actor="user:lead", now=x.NOW
            )

    def test_then_it_can_be_paused_again(self) -> None:
        kwargs = {"experiment": x.EXPERIMENT, "arm": x.CHALLENGER, "actor": "user:boss"}
        guardrails.pause_arm(reason="", now=x.NOW, **kwargs)
        guardrails.resume_arm(now=x.NOW + datetime.timedelta(hours=1), **kwargs)
        guardrails.pause_arm(reason="", now=x.NOW + datetime.timedelta(hours=2), **kwargs)
        assert len(open_pauses()) == 1
