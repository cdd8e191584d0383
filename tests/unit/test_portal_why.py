"""The portal words why a message came, and what held it back, for the customer."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.utils import translation

from accord.analytics import customer_portal
from accord.domain.compliance import OperatorRuleCode, RuleCode
from accord.domain.money import Money
from accord.storage import models
from accord.web.portal import why

SENT_AT = datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC)


def message(**changes: object) -> customer_portal.Message:
    fields: dict[str, object] = {
        "id": 1,
        "sent_at": SENT_AT,
        "channel": models.Channel.EMAIL,
        "subject": "",
        "body": "",
        "has_letter": False,
    }
    return customer_portal.Message(**{**fields, **changes})  # type: ignore[arg-type]


def late(days: int, minor: int, *codes: str) -> customer_portal.MessageDecision:
    return customer_portal.MessageDecision(
        days_past_due=days,
        arrears=Money.from_minor_units(minor, "USD"),
        reason_codes=codes,
    )


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def test_a_late_notice_says_the_amount_and_the_days_overdue() -> None:
    sentences = why.reasons(message(decision=late(12, 2_500, "DPD_12")), language="en")
    assert sentences == ["Your payment of $25.00 was due 12 days ago."]


def test_one_day_overdue_is_singular() -> None:
    sentences = why.reasons(message(decision=late(1, 2_500, "DPD_1")), language="en")
    assert sentences == ["Your payment of $25.00 was due 1 day ago."]


def test_a_pre_due_reminder_says_when_the_payment_falls_due() -> None:
    sentences = why.reasons(message(decision=late(0, 0, "DUE_IN_3")), language="en")
    assert sentences == ["A payment on your account is due in 3 days."]


def test_a_validation_notice_says_the_law_asks_for_it() -> None:
    """12 CFR 1006.34: the notice goes because the law requires it, not for a debt stage."""
    sentences = why.reasons(
        message(purpose=models.ContactPurpose.VALIDATION_NOTICE, decision=late(40, 9_000)),
        language="en",
    )
    assert sentences == [
        "The law asks us to tell you about the debt and your rights when we first contact you."
    ]


def test_a_message_without_a_decision_still_gets_an_answer() -> None:
    assert why.reasons(message(origin=models.ContactOrigin.AGENT), language="en") == [
        "One of our team contacted you about your account."
    ]


def test_delays_word_the_policy_codes_once_each() -> None:
    """REG_F_INCONVENIENT_TIME (12 CFR 1006.6(b)(1)(i)) and OP_QUIET_DAYS read as waiting."""
    codes = (
        RuleCode.INCONVENIENT_TIME,
        OperatorRuleCode.QUIET_DAYS,
        OperatorRuleCode.CHANNEL_MIN_GAP,
        OperatorRuleCode.WEEKLY_CONTACT_BUDGET,
        "SOMETHING_NEW",
    )
    assert why.delays(message(policy_codes=codes)) == [
        "We waited until 8 a.m. your time, so as not to contact you too early or too late.",
        "We waited until after the Sunday or public holiday.",
        "We waited a few days, so as not to contact you too often.",
        "We waited until our contact rules allowed it.",
    ]
