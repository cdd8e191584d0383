"""Experiment results per arm over a window, worked out by hand on a small book."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction

from accord.analytics import confidence, experiments
from accord.audit import log
from accord.audit.events import EventType
from accord.domain.money import Money
from accord.storage import experiment_harm, models
from accord.strategy import definition
from tests.integration import experiment_data as x
from tests.integration import manager_data as data

START, END = datetime.date(2026, 11, 1), datetime.date(2026, 11, 30)
SENT, COMPLETED, PLANNED = (
    models.ContactStatus.SENT,
    models.ContactStatus.COMPLETED,
    models.ContactStatus.PLANNED,
)


def day(number: int, month: int = 11) -> datetime.date:
    return datetime.date(2026, month, number)


def experiment() -> definition.Experiment:
    found = x.strategy().segments[0].experiment
    assert found is not None
    return found


def compute(
    start: datetime.date = START, end: datetime.date = END
) -> experiments.ExperimentResults:
    return experiments.results(
        experiment=experiment(), buckets=x.strategy().buckets, start=start, end=end
    )


def arm(results: experiments.ExperimentResults, name: str) -> experiments.ArmResult:
    return next(found for found in results.arms if found.name == name)


def decide_one(
    owner: models.Account, on: datetime.date, *, dpd: int, arm: str = "", experiment: str = ""
) -> models.Decision:
    (decision,) = x.decide(
        x.run(on),
        [owner],
        arm=arm,
        dpd=dpd,
        bucket="",
        experiment=experiment if arm else "",
    )
    return decision


@pytest.fixture
def book() -> None:
    """Four champion and two challenger accounts whose November is worked out below."""
    cured, rolled, current, steady = x.accounts(4)
    # cured: 10 days past due when it entered, up to date at its latest decision (which is
    # no longer in the experiment's segment).
    decide_one(cured, day(20, 10), dpd=50, arm=x.CHAMPION, experiment=x.EXPERIMENT)  # before
    first = decide_one(cured, day(5), dpd=10, arm=x.CHAMPION, experiment=x.EXPERIMENT)
    later = decide_one(cured, day(20), dpd=0)
    data.contact(first, SENT)
    data.contact(later, SENT)  # not the experiment's decision: not counted
    # rolled: 1-30 days past due, then 31-60 at its latest decision.
    decision = decide_one(rolled, day(5), dpd=10, arm=x.CHAMPION, experiment=x.EXPERIMENT)
    data.contact(decision, COMPLETED)
    decide_one(rolled, day(25), dpd=40)
    # current: never past due, so outside the cure rate, but in the roll rate.
    decision = decide_one(current, day(5), dpd=0, arm=x.CHAMPION, experiment=x.EXPERIMENT)
    data.contact(decision, PLANNED)  # not sent: not counted
    # steady: past due throughout, in the same bucket.
    decide_one(steady, day(5), dpd=20, arm=x.CHAMPION, experiment=x.EXPERIMENT)
    decide_one(steady, day(10), dpd=25, arm=x.CHAMPION, experiment=x.EXPERIMENT)
    decide_one(steady, day(1, 12), dpd=46)  # after the window
    (quick,) = x.accounts(1)
    (abroad,) = x.accounts(1, "USD")
    decision = decide_one(quick, day(6), dpd=5, arm=x.CHALLENGER, experiment=x.EXPERIMENT)
    data.contact(decision, SENT)
    decide_one(quick, day(15), dpd=0, arm=x.CHALLENGER, experiment=x.EXPERIMENT)
    decide_one(abroad, day(6), dpd=5, arm=x.CHALLENGER, experiment=x.EXPERIMENT)
    decide_one(abroad, day(8), dpd=0)

    data.payment(cured, "10.00", day(12))
    data.payment(cured, "5.00", day(13))
    data.payment(rolled, "20.00", day(30, 10))  # before the window
    data.payment(quick, "3.00", day(16))
    data.payment(abroad, "7.50", day(9))

    x.promises([cured], due=day(12), status=models.PromiseStatus.KEPT, resolved=x.at(day(12)))
    x.promises([rolled], due=day(14), status=models.PromiseStatus.BROKEN, resolved=x.at(day(15)))
    x.promises([steady], due=day(28), status=models.PromiseStatus.OPEN)
    x.promises([current], due=day(5, 12), status=models.PromiseStatus.KEPT)  # after the window
    x.complaints([quick], x.at(day(10)))


@pytest.mark.usefixtures("book")
class TestArmFigures:
    def test_accounts_are_those_with_a_decision_in_the_arm_in_the_window(self) -> None:
        results = compute()
        assert [(a.name, a.accounts) for a in results.arms] == [
            (x.CHAMPION, 4),
            (x.CHALLENGER, 2),
        ]
        assert arm(results, x.CHAMPION).champion
        assert arm(results, x.CHALLENGER).path == "gentle"

    def test_contacts_sent_count_the_arms_decisions_sent_or_completed(self) -> None:
        results = compute()
        assert arm(results, x.CHAMPION).contacts_sent == 2
        assert arm(results, x.CHALLENGER).contacts_sent == 1
        assert arm(results, x.CHAMPION).contacts_per_account == Decimal("0.5")

    def test_payments_are_per_currency_within_the_window(self) -> None:
        results = compute()
        champion, challenger = arm(results, x.CHAMPION), arm(results, x.CHALLENGER)
        assert champion.payments == [Money(Decimal("15.00"), "EUR")]
        assert challenger.payments == [
            Money(Decimal("3.00"), "EUR"),
            Money(Decimal("7.50"), "USD"),
        ]
        paying = experiments.Metric.PAYING
        assert champion.proportions[paying] == experiments.Proportion(successes=1, trials=4)
        assert challenger.proportions[paying] == experiments.Proportion(successes=2, trials=2)

    def test_cure_rate_is_of_accounts_past_due_when_they_entered(self) -> None:
        results = compute()
        cure = experiments.Metric.CURE
        assert arm(results, x.CHAMPION).proportions[cure].rate == Decimal(1) / Decimal(3)
        assert arm(results, x.CHALLENGER).proportions[cure].rate == Decimal(1)

    def test_roll_rate_is_the_share_whose_bucket_got_worse(self) -> None:
        results = compute()
        roll = experiments.Metric.ROLL
        assert arm(results, x.CHAMPION).proportions[roll] == experiments.Proportion(
            successes=1, trials=4
        )
        assert arm(results, x.CHALLENGER).proportions[roll].rate == Decimal(0)

    def test_promise_kept_rate_counts_promises_due_in_the_window(self) -> None:
        results = compute()
        champion = arm(results, x.CHAMPION)
        kept = experiments.Metric.PROMISE_KEPT
        assert champion.proportions[kept] == experiments.Proportion(successes=1, trials=2)
        assert champion.promises_awaiting == 1
        assert arm(results, x.CHALLENGER).proportions[kept].rate is None

    def test_challengers_carry_the_difference_and_newcombe_interval(self) -> None:
        challenger = arm(compute(), x.CHALLENGER)
        cure = challenger.comparisons[experiments.Metric.CURE]
        assert cure.interval == confidence.newcombe(2, 2, 1, 3)
        assert cure.interval.estimate == pytest.approx(2 / 3)
        assert experiments.Metric.PROMISE_KEPT not in challenger.comparisons  # no promises
        assert arm(compute(), x.CHAMPION).comparisons == {}

    def test_harm_is_per_thousand_accounts_against_the_champion(self) -> None:
        challenger = arm(compute(), x.CHALLENGER)
        complaints = next(
            h for h in challenger.harm if h.measure is experiment_harm.Measure.COMPLAINTS
        )
        assert (complaints.events, complaints.per_1000) == (1, Decimal(500))
        assert complaints.above_champion == Decimal(500)
        assert complaints.over_threshold
        broken = next(
            h
            for h in arm(compute(), x.CHAMPION).harm
            if h.measure is experiment_harm.Measure.BROKEN_PROMISES
        )
        assert (broken.per_1000, broken.above_champion) == (Decimal(250), None)

    def test_a_window_that_ends_before_it_starts_is_refused(self) -> None:
        with pytest.raises(experiments.InvalidWindow):
            compute(start=END, end=START)


class TestAnEmptyWindow:
    def test_lists_the_defined_arms_with_no_rates(self) -> None:
        results = compute()
        assert [(a.name, a.accounts) for a in results.arms] == [(x.CHAMPION, 0), (x.CHALLENGER, 0)]
        challenger = results.arms[1]
        assert all(p.rate is None for p in challenger.proportions.values())
        assert challenger.comparisons == {}
        assert not results.min_accounts_reached


class TestTheExperimentList:
    def test_shows_the_active_strategys_experiments_and_those_with_decisions(self) -> None:
        (owner,) = x.accounts(1)
        decide_one(owner, day(5), dpd=3, arm="old_arm", experiment="retired-test")
        names = [summary.name for summary in experiments.experiment_list()]
        assert "early-sms-first" in names  # the default strategy's
        retired = next(s for s in experiments.experiment_list() if s.name == "retired-test")
        assert (retired.active, retired.earliest_date, retired.latest_date) == (
            False,
            day(5),
            day(5),
        )

    def test_the_default_window_is_the_latest_four_weeks(self) -> None:
        (owner,) = x.accounts(1)
        decide_one(owner, day(10), dpd=3, arm=x.CHAMPION, experiment=x.EXPERIMENT)
        assert experiments.default_window(x.EXPERIMENT, today=day(25)) == (day(29, 10), day(25))

    def test_an_ended_experiments_window_ends_on_its_latest_decision(self) -> None:
        (owner,) = x.accounts(1)
        decide_one(owner, day(10), dpd=3, arm=x.CHAMPION, experiment=x.EXPERIMENT)
        assert experiments.default_window(x.EXPERIMENT, today=day(31, 12)) == (
            day(14, 10),
            day(10),
        )


class TestCachedResults:
    def test_are_the_results_until_an_audited_change(self) -> None:
        cache.clear()
        buckets = x.strategy().buckets
        first = experiments.cached_results(
            experiment=experiment(), buckets=buckets, start=START, end=END
        )
        (owner,) = x.accounts(1)
        decide_one(owner, day(5), dpd=3, arm=x.CHAMPION, experiment=x.EXPERIMENT)
        same = experiments.cached_results(
            experiment=experiment(), buckets=buckets, start=START, end=END
        )
        assert same == first
        with transaction.atomic():
            log.record(
                actor="test",
                event_type=EventType.STRATEGY_RUN_COMPLETED,
                subject_type="strategy_run",
                subject_id=1,
                parameters={},
                now=x.NOW,
            )
        fresh = experiments.cached_results(
            experiment=experiment(), buckets=buckets, start=START, end=END
        )
        assert fresh.arms[0].accounts == first.arms[0].accounts + 1
        cache.clear()
