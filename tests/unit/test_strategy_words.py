"""A strategy reads in plain words, and a validation message points at its line of YAML."""

from __future__ import annotations

import pytest

from accord.analytics import strategy_words
from accord.strategy import definition

STRATEGY = """\
name: words
version: "1"
segments:
  - name: everything
    when:
      stages: [EARLY, PRE_DUE]
      buckets: [DPD_1_30, CURRENT]
      dpd: {min: 1, max: 30}
      products: [LOAN, CREDIT_CARD]
      debtor_types: [BUSINESS]
      currencies: [usd, EUR]
      balance: {min: 100, max: 5000.50}
      arrears: {max: 250}
      risk: {min: 60}
      collectability: {max: 40}
      vulnerable: false
      dispute_open: true
      cease_requested: false
      breathing_space: true
      preferred_channels: [SMS, NONE]
      languages: [es, en]
      regions: [TX]
      countries: [gb]
    path: only
paths:
  only:
    stop_when: [PAYMENT_RECEIVED, BREATHING_SPACE]
    steps:
      - {step: PRE_DUE_REMINDER, days_before_due: 0, template: pre_due_reminder,
         channels: [EMAIL], every_days: 1}
      - {step: LATE_NOTICE, from_dpd: 1, template: late_notice,
         channels: [SMS, EMAIL, LETTER], every_days: 7, wait_days: 3}
      - {step: ESCALATION, from_dpd: 181}
"""


@pytest.fixture(scope="module")
def strategy() -> definition.Strategy:
    return definition.loads(STRATEGY)


class TestConditions:
    def test_every_condition_reads_as_a_sentence_in_the_strategys_order(
        self, strategy: definition.Strategy
    ) -> None:
        (segment,) = strategy.segments

        words = strategy_words.conditions(segment.when, buckets=strategy.buckets)

        assert words == [
            "Stage is Pre-due or Early",
            "Aging bucket is Current or 1\N{EN DASH}30 days",
            "Days past due from 1 to 30",
            "Product is Credit card or Loan",
            "Debtor is business",
            "Currency is EUR or USD",
            "Balance from 100 up to but not including 5,000.50 (in the account's currency)",
            "Arrears below 250 (in the account's currency)",
            "Risk score at least 60 (of 100)",
            "Collectability score at most 40 (of 100)",
            "No vulnerability on record",
            "A dispute is open on the account",
            "The customer has not asked us to stop contact",
            "The customer is in breathing space",
            "Prefers SMS or no stated preference",
            "Speaks EN or ES",
            "Region is TX",
            "Country is GB",
        ]

    def test_a_segment_without_conditions_has_no_words(self) -> None:
        assert strategy_words.conditions(definition.Conditions(), buckets=_buckets()) == []


def _buckets() -> object:
    return definition.load().buckets


class TestSteps:
    def test_a_step_says_when_it_starts_what_it_sends_and_how_often(
        self, strategy: definition.Strategy
    ) -> None:
        due, late, escalation = (strategy_words.step(s) for s in strategy.paths["only"].steps)

        assert (due.label, due.starts, due.channels, due.cadence) == (
            "Pre-due reminder",
            "On the due date",
            "Email",
            "At most every 1 day",
        )
        assert (late.starts, late.template, late.channels, late.cadence) == (
            "From 1 day past due",
            "late_notice",
            "SMS then Email then Letter",
            "At most every 7 days; 3 days after any contact",
        )
        assert (escalation.label, escalation.starts, escalation.cadence) == (
            "Escalation flag",
            "From 181 days past due",
            "",
        )

    def test_stop_conditions_read_in_the_paths_order(self, strategy: definition.Strategy) -> None:
        words = strategy_words.stops(strategy.paths["only"], recent_payment_days=7)

        assert words == [
            "a payment arrived in the last 7 days",
            "the customer is in breathing space",
        ]


class TestProblemLine:
    @pytest.mark.parametrize(
        ("broken", "line"),
        [
            # An unknown key: the key's own line.
            (
                STRATEGY.replace(
                    "      countries: [gb]\n", "      countries: [gb]\n      shoe: 1\n"
                ),
                24,
            ),
            (STRATEGY.replace("template: late_notice", "template: Late"), 31),
            (STRATEGY.replace("path: only", "path: nowhere"), 24),
            (STRATEGY + "  unused:\n    steps:\n      - {step: ESCALATION, from_dpd: 1}\n", 34),
            # YAML that does not parse: the parser's own line (the end of the text here).
            (STRATEGY + "oops: [\n", 35),
        ],
    )
    def test_points_at_the_line_the_message_names(self, broken: str, line: int) -> None:
        with pytest.raises(definition.InvalidStrategy) as refused:
            definition.loads(broken)

        assert strategy_words.problem_line(broken, str(refused.value)) == line

    def test_a_message_without_a_place_points_nowhere(self) -> None:
        assert strategy_words.problem_line(STRATEGY, "strategy: something odd") is None
