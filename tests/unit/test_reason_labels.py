"""Every reason code a decision or the contact policy gives reads as words an agent understands."""

from __future__ import annotations

import pytest

from accord.analytics import why
from accord.analytics.why import reason_label
from accord.domain.arrears import DelinquencyStage
from accord.domain.compliance import OperatorRuleCode, RuleCode
from accord.storage import models
from accord.strategy import definition


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("DPD_387", "387 days past due"),
        ("DPD_12", "12 days past due"),
        ("DPD_1", "1 day past due"),
        ("DPD_1200", "1,200 days past due"),
        ("DPD_0", "Not past due"),
        ("DUE_IN_5", "Due in 5 days"),
        ("DUE_IN_1", "Due tomorrow"),
        ("DUE_IN_0", "Due today"),
        ("ACCOUNT_CHARGED_OFF", "Account charged off: no treatment"),
        ("STAGE_RECOVERY", "Recovery stage"),
        ("STAGE_MID", "Mid-stage arrears"),
        ("POLICY_DEFERRED", "Held until the contact policy allows it"),
        ("REG_F_INCONVENIENT_TIME", "Outside 08:00-21:00 local time"),
    ],
)
def test_a_reason_code_reads_as_words(code: str, label: str) -> None:
    assert reason_label(code) == label


# Every code docs/strategy.md lists, with its numbers and statuses filled in.
STRATEGY_CODES = [
    *(f"STAGE_{stage}" for stage in DelinquencyStage),
    "DPD_45",
    "DUE_IN_3",
    *(f"ACCOUNT_{status}" for status in models.AccountStatus if status != "OPEN"),
    *definition.ReasonCode,
    *definition.StopCondition,
]


@pytest.mark.parametrize("code", [*STRATEGY_CODES, *RuleCode, *OperatorRuleCode])
def test_every_strategy_and_policy_code_has_a_written_label(code: str) -> None:
    label = reason_label(code)

    # Not the code with its underscores turned into spaces, and no code left in it.
    assert label != code.replace("_", " ").capitalize()
    assert "_" not in label
    assert label[0].isupper() or label[0].isdigit()


class TestExplain:
    def test_explains_each_code_of_a_decision_in_its_order(self) -> None:
        codes = ["STAGE_EARLY", "DPD_45", "ARM_PAUSED", "PAYMENT_RECEIVED", "STEP_WAIT"]

        assert why.explain(codes) == [
            "Early arrears",
            "45 days past due",
            "Its experiment arm is paused: following the champion's path",
            "A payment arrived recently: on hold",
            "Contacted recently: waiting before the next message",
        ]

    def test_explains_a_code_it_does_not_know_as_written(self) -> None:
        assert why.explain(["SOMETHING_NEW"]) == ["Something new"]

    def test_explains_no_codes_as_nothing(self) -> None:
        assert why.explain([]) == []
