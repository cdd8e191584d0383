"""REG_F_CALL_FREQUENCY_7_IN_7, opt-outs, refused media, cease requests and disputes."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.domain import compliance
from tests.unit.domain.compliance.builders import (
    CARD,
    CHICAGO,
    LOAN,
    LOS_ANGELES,
    NEW_YORK,
    attempt,
    call,
    consumer,
    decide,
    local,
    utc,
)

CALL = compliance.Channel.CALL
FREQUENCY = compliance.RuleCode.CALL_FREQUENCY_7_IN_7.value


def chicago(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return local(CHICAGO, 2026, 2, day, hour, minute)


# COMPLIANCE.md example 1: two calls Mon 2 Feb, two Tue, one each Wed, Thu, Fri morning.
SEVEN_CALLS_ABOUT_CARD = [
    call(chicago(2, 9)),
    call(chicago(2, 11)),
    call(chicago(3, 9)),
    call(chicago(3, 11)),
    call(chicago(4, 9)),
    call(chicago(5, 9)),
    call(chicago(6, 9)),
]


class TestCallFrequency:
    """REG_F_CALL_FREQUENCY_7_IN_7: at most 7 calls per debt in 7 local calendar days."""

    def test_the_8th_call_about_a_debt_is_denied_until_both_monday_calls_leave(self) -> None:
        decision = decide(consumer(CHICAGO), chicago(6, 15), history=SEVEN_CALLS_ABOUT_CARD)
        assert decision.codes == (FREQUENCY,)
        reason = decision.reasons[0]
        assert reason.rule == "12 CFR 1006.14(b)(2)(i)(A), (b)(2)(ii)"
        assert "call number 8 about account card-1" in reason.message
        assert "within 31 Jan\N{EN DASH}6 Feb 2026" in reason.message
        # Saturday and Sunday still hold seven; Monday 9 Feb 08:00 CST = 14:00 UTC.
        assert decision.next_allowed_at == utc(2026, 2, 9, 14, 0)

    def test_the_7th_call_is_allowed(self) -> None:
        six = SEVEN_CALLS_ABOUT_CARD[:6]
        assert decide(consumer(CHICAGO), chicago(6, 15), history=six).allowed

    def test_a_call_about_another_debt_is_unaffected(self) -> None:
        decision = decide(
            consumer(CHICAGO),
            chicago(6, 15),
            history=SEVEN_CALLS_ABOUT_CARD,
            what=attempt(CALL, "loan-2"),
        )
        assert decision.allowed

    def test_a_voicemail_counts_as_a_call_and_is_capped_like_one(self) -> None:
        history = [
            *SEVEN_CALLS_ABOUT_CARD[:6],
            call(chicago(6, 10), channel=compliance.Channel.VOICEMAIL),
        ]
        decision = decide(
            consumer(CHICAGO),
            chicago(6, 15),
            history=history,
            what=attempt(compliance.Channel.VOICEMAIL),
        )
        assert decision.codes == (FREQUENCY,)

    def test_inbound_and_unconnected_calls_do_not_count(self) -> None:
        history = [
            *SEVEN_CALLS_ABOUT_CARD[:6],
            call(chicago(6, 10), direction=compliance.Direction.INBOUND),
            call(chicago(6, 11), connected=False),
        ]
        assert decide(consumer(CHICAGO), chicago(6, 15), history=history).allowed

    def test_a_call_whose_connection_is_unknown_counts(self) -> None:
        history = [*SEVEN_CALLS_ABOUT_CARD[:6], call(chicago(6, 10), connected=None)]
        assert not decide(consumer(CHICAGO), chicago(6, 15), history=history).allowed

    def test_emails_and_texts_are_not_calls(self) -> None:
        decision = decide(
            consumer(CHICAGO),
            chicago(6, 15),
            history=SEVEN_CALLS_ABOUT_CARD,
            what=attempt(compliance.Channel.SMS),
        )
        assert decision.allowed

    def test_a_call_listing_two_debts_counts_against_each(self) -> None:
        history = [call(c.at, "card-1", "loan-2") for c in SEVEN_CALLS_ABOUT_CARD]
        decision = decide(
            consumer(CHICAGO), chicago(6, 15), history=history, what=attempt(CALL, "loan-2")
        )
        assert decision.codes == (FREQUENCY,)

    def test_a_call_about_several_capped_debts_has_a_reason_for_each(self) -> None:
        history = [call(c.at, "card-1", "loan-2") for c in SEVEN_CALLS_ABOUT_CARD]
        decision = decide(
            consumer(CHICAGO),
            chicago(6, 15),
            history=history,
            what=attempt(CALL, "card-1", "loan-2"),
        )
        assert decision.codes == (FREQUENCY, FREQUENCY)

    def test_calls_after_now_are_ignored(self) -> None:
        history = [*SEVEN_CALLS_ABOUT_CARD[:6], call(chicago(6, 16))]
        assert decide(consumer(CHICAGO), chicago(6, 15), history=history).allowed

    def test_days_are_local_calendar_days_across_midnight(self) -> None:
        """A call at 23:30 local on day 1 leaves at local midnight after day 7."""
        history = [call(chicago(1, 23, 30))] + [call(chicago(d, 10)) for d in range(2, 8)]
        # Sat 7 Feb 20:00: the window is 1-7 Feb, the Sunday 23:30 call is in it.
        denied = decide(consumer(CHICAGO), chicago(7, 20), history=history)
        assert denied.codes == (FREQUENCY,)
        assert denied.next_allowed_at == chicago(8, 8)
        # Sun 8 Feb 08:00: the 1 Feb call has left although fewer than 7x24 hours passed
        # since the 2 Feb calls.
        assert decide(consumer(CHICAGO), chicago(8, 8), history=history).allowed

    def test_with_two_zones_a_day_ends_at_the_later_midnight(self) -> None:
        """Principle 6: the oldest call leaves at the last of the candidate midnights."""
        history = [call(local(NEW_YORK, 2026, 2, 1, 20, 30))] + [
            call(local(NEW_YORK, 2026, 2, d, 13)) for d in range(2, 8)
        ]
        who = consumer(NEW_YORK, LOS_ANGELES)
        # 20:30 New York is 17:30 Los Angeles on 1 Feb; it leaves at midnight LA on 8 Feb
        # (03:00 New York), and the next convenient instant is 08:00 LA = 11:00 New York.
        denied = decide(who, local(NEW_YORK, 2026, 2, 7, 20, 0), history=history)
        assert denied.codes == (FREQUENCY,)
        assert denied.next_allowed_at == local(LOS_ANGELES, 2026, 2, 8, 8, 0)

    def test_a_call_about_no_listed_debt_counts_against_every_debt(self) -> None:
        unlabelled = compliance.HistoryItem(at=chicago(6, 10), channel=CALL)
        history = [*SEVEN_CALLS_ABOUT_CARD[:6], unlabelled]
        assert not decide(consumer(CHICAGO), chicago(6, 15), history=history).allowed


class TestRefusedChannels:
    """REG_F_ELECTRONIC_OPT_OUT and REG_F_REFUSED_MEDIUM: no end, so no next time."""

    def test_an_email_opt_out_denies_email_for_good(self) -> None:
        who = consumer(NEW_YORK, opted_out=[compliance.Channel.EMAIL])
        decision = decide(
            who, local(NEW_YORK, 2026, 6, 10, 12), what=attempt(compliance.Channel.EMAIL)
        )
        assert decision.codes == (compliance.RuleCode.ELECTRONIC_OPT_OUT.value,)
        assert decision.reasons[0].rule == "12 CFR 1006.6(e); 1006.14(h)(1), (h)(2)(i)"
        assert decision.next_allowed_at is None

    def test_an_email_opt_out_leaves_letters_and_calls_alone(self) -> None:
        who = consumer(NEW_YORK, opted_out=[compliance.Channel.EMAIL])
        for channel in (compliance.Channel.LETTER, CALL):
            assert decide(who, local(NEW_YORK, 2026, 6, 10, 12), what=attempt(channel)).allowed

    def test_refusing_calls_refuses_voicemails(self) -> None:
        who = consumer(NEW_YORK, opted_out=[CALL])
        decision = decide(
            who, local(NEW_YORK, 2026, 6, 10, 12), what=attempt(compliance.Channel.VOICEMAIL)
        )
        assert decision.codes == (compliance.RuleCode.REFUSED_MEDIUM.value,)
        assert "phone calls" in decision.reasons[0].message
        assert decision.next_allowed_at is None


class TestCeaseCommunication:
    """REG_F_CEASE_COMMUNICATION: every purpose denied after the request, no end."""

    @pytest.mark.parametrize("purpose", list(compliance.Purpose))
    def test_nothing_is_sent_after_a_cease_request(self, purpose: compliance.Purpose) -> None:
        who = consumer(NEW_YORK, cease_requested_at=utc(2026, 6, 3, 15))
        decision = decide(
            who, local(NEW_YORK, 2026, 6, 10, 12), what=attempt(CALL, purpose=purpose)
        )
        assert decision.codes == (compliance.RuleCode.CEASE_COMMUNICATION.value,)
        assert "3 Jun 2026" in decision.reasons[0].message
        assert decision.next_allowed_at is None

    def test_a_cease_request_received_after_now_is_ignored(self) -> None:
        who = consumer(NEW_YORK, cease_requested_at=utc(2026, 6, 11))
        assert decide(who, local(NEW_YORK, 2026, 6, 10, 12)).allowed


class TestDisputePause:
    """REG_F_DISPUTE_PAUSE: collection of a disputed debt waits for verification."""

    DISPUTED = compliance.Debt(id="card-1", dispute_received_at=utc(2026, 6, 1))

    def test_collecting_a_debt_under_unverified_dispute_is_denied(self) -> None:
        decision = decide(
            consumer(NEW_YORK), local(NEW_YORK, 2026, 6, 10, 12), debts=[self.DISPUTED, LOAN]
        )
        assert decision.codes == (compliance.RuleCode.DISPUTE_PAUSE.value,)
        assert decision.reasons[0].rule == "12 CFR 1006.38(d)(2)"
        assert "disputed account card-1" in decision.reasons[0].message
        assert decision.next_allowed_at is None

    def test_answering_the_customer_is_allowed(self) -> None:
        decision = decide(
            consumer(NEW_YORK),
            local(NEW_YORK, 2026, 6, 10, 12),
            debts=[self.DISPUTED],
            what=attempt(CALL, purpose=compliance.Purpose.RESPONSE_TO_REQUEST),
        )
        assert decision.allowed

    def test_other_debts_continue(self) -> None:
        decision = decide(
            consumer(NEW_YORK),
            local(NEW_YORK, 2026, 6, 10, 12),
            debts=[self.DISPUTED, LOAN],
            what=attempt(CALL, "loan-2"),
        )
        assert decision.allowed

    def test_a_verified_dispute_no_longer_pauses(self) -> None:
        verified = compliance.Debt(
            id="card-1",
            dispute_received_at=utc(2026, 6, 1),
            dispute_verified_at=utc(2026, 6, 5),
        )
        assert decide(
            consumer(NEW_YORK), local(NEW_YORK, 2026, 6, 10, 12), debts=[verified]
        ).allowed

    def test_a_verification_dated_after_now_does_not_count_yet(self) -> None:
        later = compliance.Debt(
            id="card-1",
            dispute_received_at=utc(2026, 6, 1),
            dispute_verified_at=utc(2026, 6, 20),
        )
        decision = decide(consumer(NEW_YORK), local(NEW_YORK, 2026, 6, 10, 12), debts=[later])
        assert not decision.allowed


class TestEveryReason:
    """Principle 1 and 2: every reason at once; no next time when one has no end."""

    def test_all_applicable_reasons_are_listed_in_rule_order(self) -> None:
        who = consumer(
            NEW_YORK,
            hours=(dt.time(12), dt.time(14)),
            opted_out=[CALL],
            cease_requested_at=utc(2026, 2, 1),
        )
        disputed = compliance.Debt(id="card-1", dispute_received_at=utc(2026, 2, 1))
        decision = decide(
            who,
            local(NEW_YORK, 2026, 2, 6, 22),
            history=[call(local(NEW_YORK, 2026, 2, d, 10)) for d in range(1, 7)]
            + [call(local(NEW_YORK, 2026, 2, 6, 11))],
            debts=[disputed],
        )
        assert decision.codes == (
            "REG_F_INCONVENIENT_TIME",
            "REG_F_CONSUMER_DESIGNATED_TIME",
            "REG_F_CALL_FREQUENCY_7_IN_7",
            "REG_F_REFUSED_MEDIUM",
            "REG_F_CEASE_COMMUNICATION",
            "REG_F_DISPUTE_PAUSE",
        )
        assert decision.next_allowed_at is None

    def test_frequency_and_time_combine_into_one_next_time(self) -> None:
        decision = decide(consumer(CHICAGO), chicago(6, 22), history=SEVEN_CALLS_ABOUT_CARD)
        assert decision.codes == ("REG_F_INCONVENIENT_TIME", FREQUENCY)
        assert decision.next_allowed_at == utc(2026, 2, 9, 14, 0)

    def test_an_allowed_decision_has_no_reasons_and_no_next_time(self) -> None:
        decision = decide(consumer(CHICAGO), chicago(6, 15), debts=[CARD])
        assert decision == compliance.Decision(allowed=True, reasons=(), next_allowed_at=None)


class TestInputs:
    def test_a_naive_now_is_rejected(self) -> None:
        with pytest.raises(compliance.NaiveDatetimeError, match="now"):
            decide(consumer(NEW_YORK), dt.datetime(2026, 6, 10, 12))

    def test_a_naive_history_time_is_rejected(self) -> None:
        with pytest.raises(compliance.NaiveDatetimeError, match=r"HistoryItem\.at"):
            compliance.HistoryItem(at=dt.datetime(2026, 6, 10, 12), channel=CALL)

    def test_an_unknown_zone_is_rejected(self) -> None:
        with pytest.raises(compliance.UnknownTimeZoneError, match="Mars/Olympus"):
            consumer("Mars/Olympus")

    def test_an_attempt_about_an_unknown_debt_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="ghost"):
            decide(consumer(NEW_YORK), utc(2026, 6, 10, 16), what=attempt(CALL, "ghost"))
