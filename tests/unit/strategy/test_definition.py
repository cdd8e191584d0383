"""Strategies are validated with errors that say where the problem is, and arms are stable."""

from __future__ import annotations

import collections
import decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from accord.domain import arrears
from accord.storage import models
from accord.strategy import definition
from accord.strategy.definition import Channel, StopCondition, Treatment


def default_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(definition.default_source())
    return loaded


def standard_steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = document["paths"]["standard"]["steps"]
    return steps


class TestDefaultStrategy:
    def test_loads_three_segments_with_a_catch_all_last(self) -> None:
        strategy = definition.load()
        assert strategy.label == "default@2026.12.1"
        assert [s.name for s in strategy.segments] == [
            "vulnerable",
            "early_arrears",
            "everyone_else",
        ]
        assert strategy.segments[-1].when.given == {}
        assert strategy.thresholds == arrears.DEFAULT_STAGE_THRESHOLDS
        assert strategy.buckets == arrears.DEFAULT_BUCKETS

    def test_runs_a_fifty_fifty_experiment_on_early_arrears(self) -> None:
        (experiment,) = definition.load().experiments
        assert experiment.name == "early-sms-first"
        assert [(a.name, a.percent, a.path) for a in experiment.arms] == [
            ("champion", 50, "standard"),
            ("sms_first", 50, "sms_first"),
        ]

    def test_calls_only_as_tasks_and_never_calls_vulnerable_customers(self) -> None:
        strategy = definition.load()
        for path in strategy.paths.values():
            for step in path.steps:
                if Channel.CALL in step.channels:
                    assert step.channels == (Channel.CALL,)
                    assert step.treatment is Treatment.CALL_TASK
        supportive = strategy.paths["supportive"]
        assert all(Channel.CALL not in step.channels for step in supportive.steps)

    def test_every_path_stops_for_a_dispute_breathing_space_or_cease_request(self) -> None:
        for path in definition.load().paths.values():
            assert {
                StopCondition.DISPUTE_OPEN,
                StopCondition.BREATHING_SPACE,
                StopCondition.CEASE_REQUESTED,
            } <= set(path.stop_when)

    def test_gives_a_plan_five_days_of_grace_unless_told_otherwise(self) -> None:
        assert definition.load().plan_grace_days == 5
        document = default_document()
        del document["plan_grace_days"]
        assert definition.parse(document).plan_grace_days == definition.DEFAULT_PLAN_GRACE_DAYS

    def test_uses_the_same_values_as_the_database(self) -> None:
        assert {t.value for t in Treatment} == set(models.Treatment.values)
        assert {c.value for c in Channel} <= set(models.Channel.values)
        assert {p.value for p in definition.ProductType} == set(models.ProductType.values)
        assert {d.value for d in definition.DebtorType} == set(models.DebtorType.values)


class TestStepRule:
    """On any day an account is on exactly one step, chosen from today's state only."""

    path = definition.load().paths["standard"]

    @pytest.mark.parametrize(
        ("days_past_due", "treatment"),
        [
            (1, Treatment.LATE_NOTICE),
            (30, Treatment.LATE_NOTICE),
            (31, Treatment.PROMISE_REQUEST),
            (61, Treatment.PLAN_OFFER),
            (91, Treatment.CALL_TASK),
            (180, Treatment.CALL_TASK),
            (181, Treatment.ESCALATION),
            (4000, Treatment.ESCALATION),
        ],
    )
    def test_a_past_due_account_is_on_the_last_step_it_has_reached(
        self, days_past_due: int, treatment: Treatment
    ) -> None:
        step = self.path.step_for(days_past_due=days_past_due, days_until_next_due=None)
        assert step is not None
        assert step.treatment is treatment

    def test_an_up_to_date_account_gets_the_pre_due_step_only_near_its_due_date(self) -> None:
        near = self.path.step_for(days_past_due=0, days_until_next_due=5)
        assert near is not None
        assert near.treatment is Treatment.PRE_DUE_REMINDER
        assert self.path.step_for(days_past_due=0, days_until_next_due=6) is None
        assert self.path.step_for(days_past_due=0, days_until_next_due=None) is None

    def test_of_two_pre_due_steps_the_nearer_one_applies_once_in_range(self) -> None:
        document = default_document()
        steps = standard_steps(document)
        steps.insert(
            1,
            {
                "step": "PRE_DUE_REMINDER",
                "days_before_due": 1,
                "template": "pre_due_reminder",
                "channels": ["SMS"],
                "every_days": 1,
            },
        )
        path = definition.parse(document).paths["standard"]
        week = path.step_for(days_past_due=0, days_until_next_due=3)
        day = path.step_for(days_past_due=0, days_until_next_due=1)
        assert week is not None
        assert week.days_before_due == 5
        assert day is not None
        assert day.channels == (Channel.SMS,)


class TestArms:
    def test_an_account_keeps_its_bucket_across_calls(self) -> None:
        assert definition.arm_bucket(12345, "test-a") == definition.arm_bucket(12345, "test-a")

    @given(st.integers(min_value=1, max_value=2**62), st.text(min_size=1, max_size=20))
    def test_a_bucket_is_a_whole_number_from_0_to_99(self, account: int, name: str) -> None:
        assert 0 <= definition.arm_bucket(account, name) < 100

    def test_consecutive_accounts_spread_evenly_over_the_buckets(self) -> None:
        tally = collections.Counter(definition.arm_bucket(i, "spread") for i in range(1, 100_001))
        # 1,000 expected per bucket; a chi-square on 99 degrees of freedom stays under 150
        # (p < 0.001 above) for a uniform spread.
        chi_square = sum((n - 1000) ** 2 / 1000 for n in tally.values())
        assert len(tally) == 100
        assert chi_square < 150

    def test_two_experiments_split_the_same_accounts_independently(self) -> None:
        pairs = collections.Counter(
            (definition.arm_bucket(i, "first") < 50, definition.arm_bucket(i, "second") < 50)
            for i in range(1, 40_001)
        )
        for count in pairs.values():
            assert abs(count - 10_000) < 400

    def test_arms_take_consecutive_ranges_of_buckets(self) -> None:
        document = default_document()
        document["segments"][1]["experiment"]["arms"] = [
            {"name": "champion", "percent": 70},
            {"name": "sms_first", "percent": 30, "path": "sms_first"},
        ]
        (experiment,) = definition.parse(document).experiments
        assert experiment.arm_for(0).name == "champion"
        assert experiment.arm_for(69).name == "champion"
        assert experiment.arm_for(70).name == "sms_first"
        assert experiment.arm_for(99).name == "sms_first"


class TestConditions:
    def test_bands_and_ranges_are_read_as_decimals_and_whole_numbers(self) -> None:
        document = default_document()
        document["segments"][0]["when"] = {
            "balance": {"min": "500.50", "max": 2000},
            "dpd": {"min": 1, "max": 30},
            "risk": {"min": 60},
            "countries": ["us", "GB"],
            "preferred_channels": ["SMS", "NONE"],
            "buckets": ["DPD_1_30"],
        }
        when = definition.parse(document).segments[0].when
        assert when.balance == definition.MoneyBand(
            min=decimal.Decimal("500.50"), max=decimal.Decimal("2000")
        )
        assert when.balance.contains(decimal.Decimal("500.50"))
        assert not when.balance.contains(decimal.Decimal("2000"))
        assert when.dpd == definition.IntRange(min=1, max=30)
        assert when.risk == definition.IntRange(min=60, max=None)
        assert when.countries == frozenset({"US", "GB"})
        assert when.preferred_channels == frozenset({"SMS", "NONE"})


class TestInvalidStrategies:
    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (lambda d: d.pop("version"), "version is required"),
            (lambda d: d.update(colour="red"), "unknown key 'colour'"),
            (lambda d: d["stages"].update(early_max=200), "stages: thresholds must satisfy"),
            (lambda d: d.update(bucket_edges=[60, 30]), "strictly increasing"),
            (lambda d: d.update(segments=[]), r"segments must be a non-empty list"),
            (lambda d: d["segments"][0].update(path="nowhere"), r"'nowhere' is not a path"),
            (lambda d: d["segments"][0].update(name="Bad Name"), "lower-case name"),
            (lambda d: d["segments"][1].update(name="vulnerable"), "two segments are named"),
            (lambda d: d["segments"][0]["when"].update(mood="sad"), "unknown key 'mood'"),
            (lambda d: d["segments"][0]["when"].update(stages=["LATER"]), "'LATER' is not one of"),
            (lambda d: d["segments"][0]["when"].update(buckets=["X"]), "'X' is not a bucket"),
            (lambda d: d["segments"][0]["when"].update(dpd={"min": 9, "max": 3}), "above max"),
            (lambda d: d["segments"][0]["when"].update(risk={"max": 101}), "at most 100"),
            (lambda d: d["segments"][0]["when"].update(balance={"min": 5, "max": 5}), "below max"),
            (lambda d: d["segments"][0]["when"].update(balance={"min": "x"}), "must be a number"),
            (lambda d: d["segments"][0]["when"].update(vulnerable="yes"), "true or false"),
            (
                lambda d: d["segments"][0]["when"].update(preferred_channels=["FAX"]),
                "'FAX' is not one of",
            ),
            (
                lambda d: d["segments"][1]["experiment"]["arms"][1].update(percent=40),
                "add up to 90, not 100",
            ),
            (
                lambda d: d["segments"][1]["experiment"]["arms"][0].update(path="sms_first"),
                "the first arm is the champion",
            ),
            (
                lambda d: d["segments"][1]["experiment"].update(
                    arms=[{"name": "a", "percent": 99}]
                ),
                "at least one challenger",
            ),
            (
                lambda d: d["segments"][1]["experiment"]["arms"][1].update(name="champion"),
                "same name",
            ),
            (
                lambda d: d["segments"][1]["experiment"].update(guardrails={"complaints": -1}),
                "at least 0",
            ),
            (lambda d: standard_steps(d)[1].update(every_days=0), r"steps\[1\].every_days"),
            (lambda d: standard_steps(d)[1].update(step="SHOUT"), "'SHOUT' is not one of"),
            (lambda d: standard_steps(d)[1].update(channels=["CALL", "SMS"]), "exactly \\[CALL\\]"),
            (lambda d: standard_steps(d)[4].update(channels=["SMS"]), "CALL_TASK uses exactly"),
            (lambda d: standard_steps(d)[1].update(template="Late Notice!"), "lower-case name"),
            (lambda d: standard_steps(d)[2].update(from_dpd=1), "from_dpd must increase"),
            (lambda d: standard_steps(d)[1].update(days_before_due=3), "exactly one of"),
            (lambda d: standard_steps(d)[5].update(template="x"), "ESCALATION flags"),
            (lambda d: d["paths"]["standard"].update(stop_when=["TIRED"]), "'TIRED' is not one"),
            (lambda d: d["paths"].update(unused=d["paths"]["sms_first"]), "'unused' is not used"),
            (lambda d: d.update(plan_grace_days=-1), "plan_grace_days must be a whole number"),
            (lambda d: d.update(recent_payment_days=0), "recent_payment_days must be a whole"),
        ],
    )
    def test_name_the_field_that_is_wrong(self, change: Any, message: str) -> None:
        document = default_document()
        change(document)
        with pytest.raises(definition.InvalidStrategy, match=message):
            definition.parse(document, source="mine.yaml")

    def test_a_missing_file_is_reported_with_its_path(self, tmp_path: Path) -> None:
        with pytest.raises(definition.InvalidStrategy, match="cannot read"):
            definition.load(tmp_path / "absent.yaml")

    def test_text_that_is_not_yaml_is_reported(self) -> None:
        with pytest.raises(definition.InvalidStrategy, match="not valid YAML"):
            definition.loads("name: [unclosed\n")

    def test_a_document_that_is_not_a_mapping_is_reported(self) -> None:
        with pytest.raises(definition.InvalidStrategy, match="expected a mapping"):
            definition.loads("- a\n- b\n")
