"""Texted keywords count only as the whole message; the answers are short and translated."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.channels.sms import keywords
from accord.channels.sms.keywords import Keyword
from accord.web.webhooks.twilio import twiml

SENDER = keywords.Sender(name="Accord Collections", phone="+1 555 0199")
WORDS = [
    *((word, Keyword.STOP) for word in sorted(keywords.STOP_WORDS)),
    *((word, Keyword.START) for word in sorted(keywords.START_WORDS)),
    *((word, Keyword.HELP) for word in sorted(keywords.HELP_WORDS)),
]


class TestKeywords:
    @given(
        pair=st.sampled_from(WORDS),
        casing=st.lists(st.booleans(), min_size=11, max_size=11),
        before=st.text(alphabet=" \t\n", max_size=3),
        after=st.text(alphabet=" \t\n.!", max_size=3),
    )
    def test_a_keyword_in_any_case_with_spaces_or_a_full_stop_around_it_is_read(
        self, pair: tuple[str, Keyword], casing: list[bool], before: str, after: str
    ) -> None:
        """12 CFR 1006.6(e): texting STOP is a reasonable and simple way to opt out."""
        word, expected = pair
        written = "".join(c.lower() if low else c for c, low in zip(word, casing, strict=False))
        assert keywords.keyword(before + written + after) is expected

    @pytest.mark.parametrize(
        "text",
        [
            "Stop calling my mother",
            "please stop",
            "STOP STOP",
            "stopp",
            "",
            "¿Puedo pagar?",
            "HELPME",
        ],
    )
    def test_a_keyword_inside_a_longer_message_is_a_message_for_an_agent(self, text: str) -> None:
        assert keywords.keyword(text) is Keyword.NONE


class TestReplies:
    @pytest.mark.parametrize("language", ["en", "es"])
    @pytest.mark.parametrize("word", [Keyword.STOP, Keyword.START, Keyword.HELP])
    def test_every_answer_fits_one_text_and_names_the_operator(
        self, word: Keyword, language: str
    ) -> None:
        text = keywords.reply(word, language, SENDER)
        assert text is not None
        assert text.startswith("Accord Collections:")
        assert len(text) <= 160

    def test_the_stop_answer_only_confirms_the_request(self) -> None:
        """12 CFR 1006.14(h)(2)(i): the one confirmation says it is confirmed, nothing else."""
        assert keywords.reply(Keyword.STOP, "en", SENDER) == (
            "Accord Collections: your request is confirmed. "
            "We will send no more text messages to this number."
        )

    def test_the_help_answer_gives_the_number_and_how_to_stop(self) -> None:
        text = keywords.reply(Keyword.HELP, "es", SENDER)
        assert text is not None
        assert "+1 555 0199" in text
        assert "STOP" in text

    def test_an_unknown_language_is_answered_in_english(self) -> None:
        assert keywords.reply(Keyword.HELP, "fr", SENDER) == keywords.reply(
            Keyword.HELP, "en", SENDER
        )

    def test_a_message_gets_no_answer(self) -> None:
        assert keywords.reply(Keyword.NONE, "en", SENDER) is None


class TestTwiml:
    def test_an_answer_is_escaped_inside_a_message_element(self) -> None:
        assert twiml("A & B <c>") == (
            '<?xml version="1.0" encoding="UTF-8"?>'
            "<Response><Message>A &amp; B &lt;c&gt;</Message></Response>"
        )

    def test_no_answer_is_an_empty_response(self) -> None:
        assert twiml(None) == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
