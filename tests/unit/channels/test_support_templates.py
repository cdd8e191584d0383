"""The plan-offer and hardship-review messages: supportive, specific, in English and Spanish."""

from __future__ import annotations

import pytest

from accord.channels import templates
from accord.channels.message import Channel
from tests.unit.channels.test_templates import CONTEXT, THREATS

LANGUAGES = ("en", "es")
CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.LETTER)
PLAN_PAGE = {"en": "Spread the cost", "es": "Pagar a plazos"}
DEBT_ADVICE = {"en": "debt advice", "es": "asesoramiento"}
# One SMS is 160 GSM characters; with the help and opt-out line our texts stay within three.
SMS_MAX = 3 * 153


@pytest.mark.parametrize("template", ["plan_offer", "hardship_review"])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", CHANNELS)
def test_names_the_account_and_amount_without_pressure(
    template: str, language: str, channel: Channel
) -> None:
    rendered = templates.render(template, language, CONTEXT, channel=channel)
    assert "A-1" in rendered.body
    assert not THREATS.search(rendered.body)
    assert "{{" not in rendered.body
    if channel is not Channel.SMS:
        assert "€250.50" in rendered.body
        assert "Ana García" in rendered.body


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", CHANNELS)
def test_the_plan_offer_points_to_the_portals_plan_page(language: str, channel: Channel) -> None:
    rendered = templates.render("plan_offer", language, CONTEXT, channel=channel)
    assert PLAN_PAGE[language] in rendered.body
    assert "3, 6" in rendered.body
    if channel is not Channel.LETTER:
        assert templates.portal_url() in rendered.body


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", CHANNELS)
def test_the_hardship_review_invites_a_conversation_and_points_to_free_debt_advice(
    language: str, channel: Channel
) -> None:
    rendered = templates.render("hardship_review", language, CONTEXT, channel=channel)
    assert DEBT_ADVICE[language] in rendered.body
    if channel is not Channel.LETTER:
        assert "+1 555 0100" in rendered.body


@pytest.mark.parametrize("template", ["plan_offer", "hardship_review"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_texts_stay_short(template: str, language: str) -> None:
    rendered = templates.render(template, language, CONTEXT, channel=Channel.SMS)
    assert len(rendered.body) <= SMS_MAX


@pytest.mark.parametrize("template", ["plan_offer", "hardship_review"])
def test_the_email_subject_is_one_line_in_each_language(template: str) -> None:
    subjects = {
        language: templates.render(template, language, CONTEXT).subject for language in LANGUAGES
    }
    assert all(subject and "\n" not in subject for subject in subjects.values())
    assert subjects["en"] != subjects["es"]
