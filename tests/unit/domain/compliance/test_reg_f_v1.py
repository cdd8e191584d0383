"""The us-reg-f pack beyond v0: the wait after a conversation, excluded calls, refused media.

Each class names the rule it tests by its COMPLIANCE.md ID and citation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from accord.domain import compliance
from tests.unit.domain.compliance.builders import CARD, DENVER, LOAN, NEW_YORK, local, utc

CALL = compliance.Channel.CALL
SMS = compliance.Channel.SMS
EMAIL = compliance.Channel.EMAIL
VOICEMAIL = compliance.Channel.VOICEMAIL
INBOUND = compliance.Direction.INBOUND
OUTBOUND = compliance.Direction.OUTBOUND
RESPONSE = compliance.Purpose.RESPONSE_TO_REQUEST
REG_F = (compliance.PolicyPack.US_REG_F,)


def denver(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return local(DENVER, 2026, month, day, hour, minute)


def item(
    at: dt.datetime,
    *debts: str,
    channel: compliance.Channel = CALL,
    direction: compliance.Direction = OUTBOUND,
    connected: bool | None = None,
    conversation: bool = False,
    consent_given_at: dt.datetime | None = None,
) -> compliance.HistoryItem:
    return compliance.HistoryItem(
        at=at,
        channel=channel,
        direction=direction,
        debt_ids=frozenset(debts),
        connected=connected,
        conversation=conversation,
        consent_given_at=consent_given_at,
    )


def decide(
    now: dt.datetime,
    *,
    history: Sequence[compliance.HistoryItem] = (),
    channel: compliance.Channel = CALL,
    debts: Sequence[str] = ("card-1",),
    purpose: compliance.Purpose = compliance.Purpose.COLLECTION,
    consumer: compliance.Consumer | None = None,
    policies: Sequence[compliance.PolicyPack] | None = REG_F,
) -> compliance.Decision:
    return compliance.evaluate(
        consumer=consumer or compliance.Consumer(id="c", time_zones=(DENVER,)),
        debts=[CARD, LOAN],
        history=history,
        attempt=compliance.Attempt(channel=channel, debt_ids=frozenset(debts), purpose=purpose),
        now=now,
        policies=policies,
    )


# COMPLIANCE.md example 2: the consumer phones in on Fri 10 Apr 2026 at 17:40 Denver time.
TALK = item(denver(4, 10, 17, 40), "card-1", direction=INBOUND, connected=True, conversation=True)
AFTER_TALK = compliance.RuleCode.CALL_AFTER_CONVERSATION.value


class TestCallAfterConversation:
    """REG_F_CALL_AFTER_CONVERSATION, 12 CFR 1006.14(b)(2)(i)(B), (b)(2)(ii)."""

    def test_a_call_on_day_7_is_denied_until_day_8_opens(self) -> None:
        decision = decide(denver(4, 16, 10), history=[TALK])
        assert decision.codes == (AFTER_TALK,)
        assert decision.reasons[0].rule == "12 CFR 1006.14(b)(2)(i)(B), (b)(2)(ii)"
        assert "10 Apr 2026" in decision.reasons[0].message
        # Fri 17 Apr 08:00 MDT.
        assert decision.next_allowed_at == utc(2026, 4, 17, 14, 0)

    def test_day_8_is_free_however_few_hours_have_passed(self) -> None:
        late_talk = item(denver(4, 10, 20, 55), "card-1", conversation=True)
        assert decide(denver(4, 17, 8, 0), history=[late_talk]).allowed

    def test_an_email_is_not_a_telephone_call(self) -> None:
        assert decide(denver(4, 13, 10), history=[TALK], channel=EMAIL).allowed

    def test_a_voicemail_is_a_call_and_waits_too(self) -> None:
        assert decide(denver(4, 13, 10), history=[TALK], channel=VOICEMAIL).codes == (AFTER_TALK,)

    def test_a_call_about_a_debt_not_discussed_is_unaffected(self) -> None:
        """Comment 14(b)(4)-1.ii: the wait runs per debt discussed."""
        assert decide(denver(4, 13, 10), history=[TALK], debts=["loan-2"]).allowed

    def test_a_conversation_about_two_debts_counts_for_each(self) -> None:
        both = item(denver(4, 10, 17, 40), "card-1", "loan-2", conversation=True)
        decision = decide(denver(4, 13, 10), history=[both], debts=["card-1", "loan-2"])
        assert decision.codes == (AFTER_TALK, AFTER_TALK)

    def test_a_conversation_about_no_listed_debt_counts_for_every_debt(self) -> None:
        """Principle 3: deny when unsure."""
        vague = item(denver(4, 10, 17, 40), conversation=True)
        assert decide(denver(4, 13, 10), history=[vague], debts=["loan-2"]).codes == (AFTER_TALK,)

    def test_the_v0_rule_set_without_packs_does_not_apply_it(self) -> None:
        """``evaluate`` without ``policies`` keeps the v0 answers the pre-filter mirrors."""
        assert decide(denver(4, 16, 10), history=[TALK], policies=None).allowed


CONSENT_TALK = item(
    denver(4, 10, 17, 40),
    "card-1",
    direction=INBOUND,
    connected=True,
    conversation=True,
    consent_given_at=denver(4, 10, 17, 40),
)


class TestExcludedCalls:
    """REG_F_EXCLUDED_CALLS, 12 CFR 1006.14(b)(3): consent and unconnected calls do not count."""

    def test_calls_within_seven_days_of_consent_are_allowed_after_a_conversation(self) -> None:
        """COMPLIANCE.md example 3, 1006.14(b)(3)(i): Tue 14 and Thu 16 Apr are allowed."""
        assert decide(denver(4, 14, 10), history=[CONSENT_TALK]).allowed
        tuesday = item(denver(4, 14, 10), "card-1", connected=True, conversation=True)
        assert decide(denver(4, 16, 10), history=[CONSENT_TALK, tuesday]).allowed

    def test_the_ordinary_counts_apply_again_from_day_8_of_the_consent(self) -> None:
        thursday = item(denver(4, 16, 10), "card-1", connected=True, conversation=True)
        decision = decide(denver(4, 17, 10), history=[CONSENT_TALK, thursday])
        assert decision.codes == (AFTER_TALK,)

    def test_calls_placed_with_consent_do_not_count_toward_seven_in_seven(self) -> None:
        consent = item(
            denver(4, 13, 9), "card-1", direction=INBOUND, consent_given_at=denver(4, 13, 9)
        )
        calls = [item(denver(4, 13, 10 + n), "card-1") for n in range(7)]
        assert decide(denver(4, 15, 10), history=[consent, *calls]).allowed
        # Without the consent the same seven calls cap the debt.
        assert decide(denver(4, 15, 10), history=calls).codes == ("REG_F_CALL_FREQUENCY_7_IN_7",)

    def test_a_consent_about_no_listed_debt_excludes_nothing(self) -> None:
        """Principle 3: a consent record that names no debt excludes nothing."""
        consent = item(
            denver(4, 10, 17, 40), conversation=True, consent_given_at=denver(4, 10, 17, 40)
        )
        assert not decide(denver(4, 14, 10), history=[consent]).allowed

    def test_a_consent_about_another_debt_does_not_cover_this_one(self) -> None:
        consent = item(denver(4, 13, 9), "loan-2", consent_given_at=denver(4, 13, 9))
        calls = [item(denver(4, 13, 10 + n), "card-1") for n in range(7)]
        assert not decide(denver(4, 15, 10), history=[consent, *calls]).allowed

    def test_calls_not_connected_do_not_count(self) -> None:
        """1006.14(b)(3)(ii): busy or out-of-service numbers are excluded."""
        calls = [item(denver(4, 13, 10 + n), "card-1", connected=False) for n in range(9)]
        assert decide(denver(4, 15, 10), history=calls).allowed


class TestLimitedContentVoicemail:
    """REG_F_LIMITED_CONTENT_MESSAGE, 12 CFR 1006.2(j); 1006.2(b): an attempt, still a call."""

    def test_a_limited_content_voicemail_is_denied_as_the_8th_call(self) -> None:
        calls = [item(denver(4, 13, 9 + n), "card-1") for n in range(7)]
        decision = decide(
            denver(4, 14, 10),
            history=calls,
            channel=VOICEMAIL,
            purpose=compliance.Purpose.LIMITED_CONTENT,
        )
        assert decision.codes == ("REG_F_CALL_FREQUENCY_7_IN_7",)

    def test_a_left_voicemail_counts_toward_the_cap(self) -> None:
        voicemails = [item(denver(4, 13, 9 + n), "card-1", channel=VOICEMAIL) for n in range(7)]
        assert not decide(denver(4, 14, 10), history=voicemails).allowed

    def test_a_limited_content_voicemail_keeps_the_time_rule(self) -> None:
        decision = decide(
            denver(4, 14, 7, 59), channel=VOICEMAIL, purpose=compliance.Purpose.LIMITED_CONTENT
        )
        assert decision.codes == ("REG_F_INCONVENIENT_TIME",)


def new_yorker(**changes: object) -> compliance.Consumer:
    return compliance.Consumer(id="c", time_zones=(NEW_YORK,), **changes)  # type: ignore[arg-type]


def ny(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return local(NEW_YORK, 2026, 3, day, hour, minute)


class TestRefusedMedium:
    """REG_F_REFUSED_MEDIUM, 12 CFR 1006.14(h)(1), (h)(2): refused media and their exceptions."""

    def test_one_reply_through_a_refused_medium_answers_the_consumer(self) -> None:
        """COMPLIANCE.md example 9, 1006.14(h)(2)(ii): one text reply is allowed."""
        asked = item(ny(10, 12), "card-1", channel=SMS, direction=INBOUND)
        who = new_yorker(refused_channels=frozenset({SMS}))
        assert decide(
            ny(10, 12, 5), history=[asked], channel=SMS, purpose=RESPONSE, consumer=who
        ).allowed

    def test_a_second_reply_is_denied(self) -> None:
        asked = item(ny(10, 12), "card-1", channel=SMS, direction=INBOUND)
        replied = item(ny(10, 12, 5), "card-1", channel=SMS)
        who = new_yorker(refused_channels=frozenset({SMS}))
        decision = decide(
            ny(10, 13), history=[asked, replied], channel=SMS, purpose=RESPONSE, consumer=who
        )
        assert decision.codes == ("REG_F_REFUSED_MEDIUM",)
        assert decision.reasons[0].rule == "12 CFR 1006.14(h)(1), (h)(2)"
        assert decision.next_allowed_at is None

    def test_a_collection_message_is_no_response(self) -> None:
        asked = item(ny(10, 12), "card-1", channel=SMS, direction=INBOUND)
        who = new_yorker(refused_channels=frozenset({SMS}))
        assert not decide(ny(10, 12, 5), history=[asked], channel=SMS, consumer=who).allowed

    def test_refusing_calls_refuses_voicemails(self) -> None:
        who = new_yorker(refused_channels=frozenset({CALL}))
        assert decide(ny(10, 12), channel=VOICEMAIL, consumer=who).codes == (
            "REG_F_REFUSED_MEDIUM",
        )

    def test_an_inbound_message_before_a_dated_opt_out_opens_no_reply(self) -> None:
        asked = item(ny(10, 12), "card-1", channel=SMS, direction=INBOUND)
        who = new_yorker(opt_outs=(compliance.OptOut(channel=SMS, at=ny(10, 13)),))
        decision = decide(ny(10, 14), history=[asked], channel=SMS, purpose=RESPONSE, consumer=who)
        assert decision.codes == ("REG_F_ELECTRONIC_OPT_OUT",)


class TestElectronicOptOut:
    """REG_F_ELECTRONIC_OPT_OUT, 12 CFR 1006.6(e); 1006.14(h)(1), (h)(2)(i)."""

    def test_every_email_after_an_opt_out_is_denied_with_no_end(self) -> None:
        who = new_yorker(opt_outs=(compliance.OptOut(channel=EMAIL, at=ny(11, 18)),))
        decision = decide(ny(12, 10), channel=EMAIL, consumer=who)
        assert decision.codes == ("REG_F_ELECTRONIC_OPT_OUT",)
        assert "11 Mar 2026" in decision.reasons[0].message
        assert decision.next_allowed_at is None

    def test_letters_and_calls_are_unaffected(self) -> None:
        who = new_yorker(opt_outs=(compliance.OptOut(channel=EMAIL, at=ny(11, 18)),))
        assert decide(ny(12, 10), channel=compliance.Channel.LETTER, consumer=who).allowed
        assert decide(ny(12, 10), channel=CALL, consumer=who).allowed

    def test_an_opt_out_after_now_is_ignored(self) -> None:
        """Principle 8: events after ``now`` are ignored."""
        who = new_yorker(opt_outs=(compliance.OptOut(channel=EMAIL, at=ny(13, 18)),))
        assert decide(ny(12, 10), channel=EMAIL, consumer=who).allowed


class TestDesignatedInconvenientTimes:
    """REG_F_CONSUMER_DESIGNATED_TIME, 12 CFR 1006.6(b)(1)(i); comment 6(b)(1)-1."""

    def test_a_designated_window_blocks_its_half_open_span(self) -> None:
        who = new_yorker(inconvenient_times=((dt.time(12), dt.time(14)),))
        decision = decide(ny(12, 12), consumer=who)
        assert decision.codes == ("REG_F_CONSUMER_DESIGNATED_TIME",)
        assert decision.next_allowed_at == ny(12, 14)
        assert decide(ny(12, 14), consumer=who).allowed
        assert decide(ny(12, 11, 59), consumer=who).allowed

    def test_a_window_may_wrap_midnight(self) -> None:
        """ "Don't call before noon or after six": 18:00-12:00 wraps midnight."""
        who = new_yorker(inconvenient_times=((dt.time(18), dt.time(12)),))
        decision = decide(ny(12, 19), consumer=who)
        assert decision.next_allowed_at == ny(13, 12)
