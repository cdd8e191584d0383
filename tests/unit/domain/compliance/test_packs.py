"""The us-ma and uk-fca packs, operator settings, and how packs compose.

Each class names the rule it tests by its COMPLIANCE.md ID and citation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from accord.domain import compliance
from tests.unit.domain.compliance.builders import CARD, LOAN, LONDON, NEW_YORK, local, utc

CALL = compliance.Channel.CALL
SMS = compliance.Channel.SMS
EMAIL = compliance.Channel.EMAIL
LETTER = compliance.Channel.LETTER
VOICEMAIL = compliance.Channel.VOICEMAIL
INBOUND = compliance.Direction.INBOUND
OUTBOUND = compliance.Direction.OUTBOUND
COLLECTION = compliance.Purpose.COLLECTION
RESPONSE = compliance.Purpose.RESPONSE_TO_REQUEST
REG_F = compliance.PolicyPack.US_REG_F
US_MA = compliance.PolicyPack.US_MA
UK_FCA = compliance.PolicyPack.UK_FCA


def sent(
    at: dt.datetime,
    channel: compliance.Channel = CALL,
    *,
    direction: compliance.Direction = OUTBOUND,
    connected: bool | None = None,
) -> compliance.HistoryItem:
    return compliance.HistoryItem(
        at=at,
        channel=channel,
        direction=direction,
        debt_ids=frozenset({"card-1"}),
        connected=connected,
    )


def decide(
    now: dt.datetime,
    *,
    policies: Sequence[compliance.PolicyPack],
    zone: str = NEW_YORK,
    history: Sequence[compliance.HistoryItem] = (),
    channel: compliance.Channel = CALL,
    purpose: compliance.Purpose = COLLECTION,
    operator: compliance.OperatorSettings = compliance.NO_OPERATOR_SETTINGS,
    **consumer: object,
) -> compliance.Decision:
    return compliance.evaluate(
        consumer=compliance.Consumer(id="c", time_zones=(zone,) if zone else (), **consumer),  # type: ignore[arg-type]
        debts=[CARD, LOAN],
        history=history,
        attempt=compliance.Attempt(
            channel=channel, debt_ids=frozenset({"card-1"}), purpose=purpose
        ),
        now=now,
        policies=policies,
        operator=operator,
    )


def ny(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return local(NEW_YORK, 2026, 3, day, hour, minute)


def london(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return local(LONDON, 2026, month, day, hour, minute)


MA = compliance.RuleCode.MA_TELEPHONE_TWO_IN_SEVEN.value


class TestMassachusettsTwoInSeven:
    """US_MA_TELEPHONE_TWO_IN_SEVEN, 940 CMR 7.04(1)(f); 209 CMR 18.16(1)(d)."""

    TEXTS = (sent(ny(9, 10), SMS), sent(ny(11, 10), SMS))

    def test_two_texts_make_a_thursday_call_the_third_and_only_ma_objects(self) -> None:
        """COMPLIANCE.md example 14: Regulation F alone would allow it."""
        decision = decide(ny(12, 10), policies=[REG_F, US_MA], history=self.TEXTS)
        assert decision.codes == (MA,)
        assert decision.reasons[0].rule == "940 CMR 7.04(1)(f); 209 CMR 18.16(1)(d)"
        # Monday's text leaves the window at the start of Mon 16 Mar; 08:00 EDT.
        assert decision.next_allowed_at == utc(2026, 3, 16, 12, 0)
        assert decide(ny(12, 10), policies=[REG_F], history=self.TEXTS).allowed

    def test_a_third_text_is_denied_too(self) -> None:
        assert decide(ny(12, 10), policies=[US_MA], history=self.TEXTS, channel=SMS).codes == (MA,)

    def test_emails_and_letters_are_not_telephone_communications(self) -> None:
        assert decide(ny(12, 10), policies=[US_MA], history=self.TEXTS, channel=EMAIL).allowed

    def test_inbound_and_unconnected_contacts_do_not_count(self) -> None:
        history = [
            sent(ny(9, 10), SMS),
            sent(ny(10, 10), direction=INBOUND),
            sent(ny(11, 10), connected=False),
        ]
        assert decide(ny(12, 10), policies=[US_MA], history=history).allowed

    def test_unknown_location_uses_new_york_time(self) -> None:
        assert (
            decide(utc(2026, 3, 12, 11, 30), policies=[US_MA], zone="").codes == ()
        )  # 07:30 EDT: no time rule in us-ma
        assert decide(
            utc(2026, 3, 12, 11, 30), policies=[US_MA], zone="", history=self.TEXTS
        ).codes == (MA,)


SPACE = compliance.Moratorium(start=london(6, 1, 9), end=london(7, 31, 9))
NO_CONTACT = compliance.RuleCode.UK_MORATORIUM_NO_CONTACT.value
DURATION = compliance.RuleCode.UK_BREATHING_SPACE_DURATION.value
CRISIS = compliance.RuleCode.UK_MENTAL_HEALTH_CRISIS_MORATORIUM.value


class TestBreathingSpace:
    """UK_MORATORIUM_NO_CONTACT (SI 2020/1311 reg. 7 and reg. 11).

    With UK_BREATHING_SPACE_DURATION (SI 2020/1311 reg. 26).
    """

    def test_a_collection_email_is_denied_until_the_recorded_end(self) -> None:
        """COMPLIANCE.md example 15."""
        decision = decide(
            london(6, 10, 10), policies=[UK_FCA], zone=LONDON, channel=EMAIL, breathing_space=SPACE
        )
        assert decision.codes == (NO_CONTACT, DURATION)
        assert decision.reasons[0].rule == "SI 2020/1311 reg. 7 and reg. 11"
        assert decision.reasons[1].rule == "SI 2020/1311 reg. 26"
        assert decision.next_allowed_at == london(7, 31, 9)

    def test_one_reply_to_the_debtors_request_is_allowed(self) -> None:
        """Reg. 11(2): in response to the debtor's query."""
        decision = decide(
            london(6, 10, 10),
            policies=[UK_FCA],
            zone=LONDON,
            channel=EMAIL,
            purpose=RESPONSE,
            breathing_space=SPACE,
        )
        assert decision.allowed

    def test_a_release_at_night_moves_to_the_next_window(self) -> None:
        space = compliance.Moratorium(start=london(6, 1, 9), end=london(7, 31, 22))
        decision = decide(london(6, 10, 10), policies=[UK_FCA], zone=LONDON, breathing_space=space)
        assert decision.next_allowed_at == london(8, 1, 8)

    def test_without_an_end_it_has_no_known_release(self) -> None:
        """Principle 3: a moratorium without an end is active."""
        space = compliance.Moratorium(start=london(6, 1, 9))
        decision = decide(london(6, 10, 10), policies=[UK_FCA], zone=LONDON, breathing_space=space)
        assert decision.codes == (NO_CONTACT, DURATION)
        assert decision.next_allowed_at is None

    def test_after_the_end_contact_resumes(self) -> None:
        assert decide(
            london(8, 3, 10), policies=[UK_FCA], zone=LONDON, breathing_space=SPACE
        ).allowed

    def test_one_starting_after_now_is_ignored(self) -> None:
        """Principle 8."""
        assert decide(
            london(5, 30, 10), policies=[UK_FCA], zone=LONDON, breathing_space=SPACE
        ).allowed


class TestMentalHealthCrisisMoratorium:
    """UK_MENTAL_HEALTH_CRISIS_MORATORIUM, SI 2020/1311 Part 3 (reg. 28)."""

    CRISIS_SPACE = compliance.Moratorium(
        start=london(5, 20, 14), kind=compliance.MoratoriumKind.MENTAL_HEALTH_CRISIS
    )

    def test_every_collection_purpose_is_denied_with_no_known_end(self) -> None:
        """COMPLIANCE.md example 16."""
        for purpose in compliance.COLLECTION_PURPOSES:
            decision = decide(
                london(6, 10, 10),
                policies=[UK_FCA],
                zone=LONDON,
                channel=VOICEMAIL,
                purpose=purpose,
                breathing_space=self.CRISIS_SPACE,
            )
            assert decision.codes == (NO_CONTACT, CRISIS)
            assert decision.reasons[1].rule == "SI 2020/1311 Part 3 (reg. 28)"
            assert decision.next_allowed_at is None

    def test_once_the_end_is_recorded_it_is_the_release(self) -> None:
        ended = compliance.Moratorium(
            start=london(5, 20, 14),
            end=london(7, 1, 12),
            kind=compliance.MoratoriumKind.MENTAL_HEALTH_CRISIS,
        )
        decision = decide(
            london(6, 10, 10), policies=[UK_FCA], zone=LONDON, channel=LETTER, breathing_space=ended
        )
        assert decision.next_allowed_at == london(7, 1, 12)


UK_TIMES = compliance.RuleCode.UK_CONTACT_TIMES_AND_REQUESTS.value


class TestUkContactTimesAndRequests:
    """UK_CONTACT_TIMES_AND_REQUESTS, FCA CONC 7.9.4 R."""

    def test_before_eight_in_london_is_unreasonable(self) -> None:
        decision = decide(london(3, 10, 7, 30), policies=[UK_FCA], zone="")
        assert decision.codes == (UK_TIMES,)
        assert decision.reasons[0].rule == "FCA CONC 7.9.4 R"
        assert decision.next_allowed_at == london(3, 10, 8)

    def test_a_request_about_when_is_honoured(self) -> None:
        """E.g. a shift worker: no contact 08:00-14:00."""
        decision = decide(
            london(3, 10, 9),
            policies=[UK_FCA],
            zone=LONDON,
            inconvenient_times=((dt.time(8), dt.time(14)),),
        )
        assert decision.codes == (UK_TIMES,)
        assert decision.next_allowed_at == london(3, 10, 14)

    def test_a_request_about_how_is_honoured(self) -> None:
        decision = decide(
            london(3, 10, 9), policies=[UK_FCA], zone=LONDON, refused_channels=frozenset({CALL})
        )
        assert decision.codes == (UK_TIMES,)
        assert decision.next_allowed_at is None

    def test_after_the_clocks_go_forward_eight_is_bst(self) -> None:
        """Sun 29 Mar 2026: 07:30 UTC is 08:30 BST."""
        assert decide(utc(2026, 3, 29, 7, 30), policies=[UK_FCA], zone=LONDON).allowed


class TestPacksCompose:
    """COMPLIANCE.md principles 1 and 9: every rule of every listed pack, never the first only."""

    def test_reasons_of_every_pack_are_given_in_the_order_listed(self) -> None:
        history = [sent(ny(9, 10), SMS), sent(ny(11, 10), SMS)]
        decision = decide(ny(12, 7), policies=[US_MA, REG_F], history=history)
        assert decision.codes == (MA, "REG_F_INCONVENIENT_TIME")
        assert decision.next_allowed_at == utc(2026, 3, 16, 12, 0)

    def test_a_pack_listed_twice_is_applied_once(self) -> None:
        assert decide(ny(12, 7), policies=[REG_F, REG_F]).codes == ("REG_F_INCONVENIENT_TIME",)

    def test_the_latest_release_wins_and_is_rechecked(self) -> None:
        """Two zones: it must be 08:00 in London and before 21:00 in New York."""
        decision = compliance.evaluate(
            consumer=compliance.Consumer(id="c", time_zones=(NEW_YORK, LONDON)),
            debts=[CARD],
            history=[],
            attempt=compliance.Attempt(channel=EMAIL, debt_ids=frozenset({"card-1"})),
            now=ny(12, 22),
            policies=[REG_F, UK_FCA],
        )
        assert decision.codes == ("REG_F_INCONVENIENT_TIME", UK_TIMES)
        # 08:00 EDT on 13 Mar is 12:00 GMT, inside both windows.
        assert decision.next_allowed_at == ny(13, 8)


def operator(**settings: object) -> compliance.OperatorSettings:
    return compliance.OperatorSettings(**settings)  # type: ignore[arg-type]


class TestWeeklyContactBudget:
    """OP_WEEKLY_CONTACT_BUDGET, Accord operator policy: weekly_contact_budget."""

    def test_the_budget_counts_every_channel_and_denies_past_it(self) -> None:
        history = [sent(ny(9, 10), SMS), sent(ny(10, 10), EMAIL), sent(ny(11, 10), LETTER)]
        decision = decide(
            ny(12, 10),
            policies=[REG_F],
            history=history,
            operator=operator(weekly_contact_budget=3),
        )
        assert decision.codes == ("OP_WEEKLY_CONTACT_BUDGET",)
        assert decision.reasons[0].rule == "Accord operator policy: weekly_contact_budget"
        assert decision.next_allowed_at == utc(2026, 3, 16, 12, 0)

    def test_inbound_contacts_do_not_use_the_budget(self) -> None:
        history = [sent(ny(9, 10), direction=INBOUND)] * 3
        assert decide(
            ny(12, 10),
            policies=[REG_F],
            history=history,
            operator=operator(weekly_contact_budget=3),
        ).allowed

    def test_a_validation_notice_is_never_held_by_it(self) -> None:
        history = [sent(ny(9, 10), SMS)] * 3
        decision = decide(
            ny(12, 10),
            policies=[REG_F],
            history=history,
            channel=LETTER,
            purpose=compliance.Purpose.VALIDATION_NOTICE,
            operator=operator(weekly_contact_budget=1),
        )
        assert decision.allowed


class TestChannelMinGap:
    """OP_CHANNEL_MIN_GAP, Accord operator policy: channel_min_gap.<channel>."""

    def test_a_call_too_soon_after_the_latest_waits_for_the_gap(self) -> None:
        gaps = operator(channel_min_gap={CALL: dt.timedelta(hours=4)})
        decision = decide(
            ny(12, 11), policies=[REG_F], history=[sent(ny(12, 10), connected=False)], operator=gaps
        )
        assert decision.codes == ("OP_CHANNEL_MIN_GAP",)
        assert decision.reasons[0].rule == "Accord operator policy: channel_min_gap.call"
        assert decision.next_allowed_at == ny(12, 14)

    def test_a_voicemail_is_a_call_and_other_channels_are_free(self) -> None:
        gaps = operator(channel_min_gap={CALL: dt.timedelta(hours=4)})
        history = [sent(ny(12, 10), VOICEMAIL)]
        assert not decide(ny(12, 11), policies=[REG_F], history=history, operator=gaps).allowed
        assert decide(
            ny(12, 11), policies=[REG_F], history=history, channel=SMS, operator=gaps
        ).allowed


class TestQuietDays:
    """OP_QUIET_DAYS, Accord operator policy: quiet_days."""

    def test_sunday_is_quiet_when_configured_and_released_on_monday_at_eight(self) -> None:
        """COMPLIANCE.md example 6 allows Sun 8 Mar 08:30 EDT unless the operator sets Sundays."""
        sundays = operator(quiet_days=compliance.QuietDays(sundays=True))
        assert decide(ny(8, 8, 30), policies=[REG_F]).allowed
        decision = decide(ny(8, 8, 30), policies=[REG_F], operator=sundays)
        assert decision.codes == ("OP_QUIET_DAYS",)
        assert decision.reasons[0].rule == "Accord operator policy: quiet_days"
        assert decision.next_allowed_at == ny(9, 8)

    def test_a_holiday_of_the_packs_jurisdiction_is_quiet(self) -> None:
        holidays = operator(
            quiet_days=compliance.QuietDays(holidays={REG_F: frozenset({dt.date(2026, 3, 12)})})
        )
        decision = decide(ny(12, 10), policies=[REG_F], operator=holidays)
        assert decision.codes == ("OP_QUIET_DAYS",)
        assert decision.next_allowed_at == ny(13, 8)
        assert decide(ny(12, 10), policies=[UK_FCA], operator=holidays).allowed


class TestCustomerPreference:
    """CUSTOMER_PREFERENCE, Accord operator policy: preferences.<choice>."""

    def test_preferred_hours_narrow_the_window(self) -> None:
        prefs = compliance.Preferences(hours=(dt.time(17), dt.time(20)))
        decision = decide(ny(12, 10), policies=[REG_F], preferences=prefs)
        assert decision.codes == ("CUSTOMER_PREFERENCE",)
        assert decision.reasons[0].rule == "Accord operator policy: preferences.hours"
        assert decision.next_allowed_at == ny(12, 17)

    def test_preferred_hours_never_widen_the_law(self) -> None:
        prefs = compliance.Preferences(hours=(dt.time(6), dt.time(23)))
        decision = decide(ny(12, 7), policies=[REG_F], preferences=prefs)
        assert decision.codes == ("REG_F_INCONVENIENT_TIME",)

    def test_a_self_requested_pause_blocks_collection_until_its_end(self) -> None:
        prefs = compliance.Preferences(pause=compliance.Pause(start=ny(10, 9), end=ny(20, 9)))
        decision = decide(ny(12, 10), policies=[REG_F], preferences=prefs)
        assert decision.codes == ("CUSTOMER_PREFERENCE",)
        assert decision.next_allowed_at == ny(20, 9)
        assert decide(ny(12, 10), policies=[REG_F], preferences=prefs, purpose=RESPONSE).allowed

    def test_other_channels_than_the_preferred_ones_are_denied(self) -> None:
        prefs = compliance.Preferences(channels=frozenset({EMAIL}))
        decision = decide(ny(12, 10), policies=[REG_F], preferences=prefs)
        assert decision.reasons[0].rule == "Accord operator policy: preferences.channels"
        assert decision.next_allowed_at is None
        assert decide(ny(12, 10), policies=[REG_F], preferences=prefs, channel=EMAIL).allowed


BEREAVEMENT = compliance.Vulnerability(
    driver=compliance.VulnerabilityDriver.LIFE_EVENTS,
    recorded_at=london(5, 4, 11),
    consent=True,
    review_date=dt.date(2026, 8, 4),
)
PAUSE_30_DAYS = operator(
    vulnerability={
        compliance.VulnerabilityDriver.LIFE_EVENTS: compliance.VulnerabilityTreatment(
            pause=dt.timedelta(days=30), routing="specialist"
        )
    }
)


class TestVulnerabilityTreatment:
    """OP_VULNERABILITY_TREATMENT and UK_VULNERABILITY (FCA CONC 7.2.1 R, 7.2.2A G; FG21/1)."""

    def test_a_bereavement_pauses_collection_for_the_configured_days(self) -> None:
        """COMPLIANCE.md example 17."""
        decision = decide(
            london(5, 10, 10),
            policies=[UK_FCA],
            zone=LONDON,
            channel=EMAIL,
            vulnerabilities=(BEREAVEMENT,),
            operator=PAUSE_30_DAYS,
        )
        assert decision.codes == ("OP_VULNERABILITY_TREATMENT",)
        assert decision.reasons[0].rule == "Accord operator policy: vulnerability.life_events"
        assert "specialist team" in decision.reasons[0].message
        assert decision.next_allowed_at == london(6, 3, 11)

    def test_without_consent_to_record_it_no_treatment_applies(self) -> None:
        unrecorded = compliance.Vulnerability(
            driver=compliance.VulnerabilityDriver.LIFE_EVENTS,
            recorded_at=london(5, 4, 11),
            consent=False,
        )
        decision = decide(
            london(5, 10, 10),
            policies=[UK_FCA],
            zone=LONDON,
            vulnerabilities=(unrecorded,),
            operator=PAUSE_30_DAYS,
        )
        assert decision.allowed

    def test_past_its_review_date_it_no_longer_applies(self) -> None:
        stale = compliance.Vulnerability(
            driver=compliance.VulnerabilityDriver.LIFE_EVENTS,
            recorded_at=london(5, 4, 11),
            consent=True,
            review_date=dt.date(2026, 5, 6),
        )
        decision = decide(
            london(5, 6, 10),
            policies=[UK_FCA],
            zone=LONDON,
            vulnerabilities=(stale,),
            operator=PAUSE_30_DAYS,
        )
        # The review date ends at midnight: the treatment lapses on 7 May, then 08:00.
        assert decision.next_allowed_at == london(5, 7, 8)

    def test_channel_limits_of_a_driver_apply(self) -> None:
        health = compliance.Vulnerability(
            driver=compliance.VulnerabilityDriver.HEALTH, recorded_at=london(5, 4, 11), consent=True
        )
        letters_only = operator(
            vulnerability={
                compliance.VulnerabilityDriver.HEALTH: compliance.VulnerabilityTreatment(
                    channels=frozenset({LETTER})
                )
            }
        )
        kwargs = {
            "policies": [UK_FCA],
            "zone": LONDON,
            "vulnerabilities": (health,),
            "operator": letters_only,
        }
        assert decide(london(5, 10, 10), channel=CALL, **kwargs).codes == (
            "OP_VULNERABILITY_TREATMENT",
        )  # type: ignore[arg-type]
        assert decide(london(5, 10, 10), channel=LETTER, **kwargs).allowed  # type: ignore[arg-type]


RULEBOOK = Path(__file__).resolve().parents[5] / "shared/docs/COMPLIANCE.md"


class TestCitationsMatchTheRulebook:
    """COMPLIANCE.md principle 1: ``rule`` is the citation string from the table, verbatim."""

    @pytest.mark.skipif(
        not RULEBOOK.exists(), reason="../shared/docs/COMPLIANCE.md not beside the repo"
    )
    def test_every_citation_is_the_rulebooks(self) -> None:
        rows = {
            match[1]: match[2]
            for match in re.finditer(
                r"^\| `([A-Z_0-9]+)` \| ([^|]+?) \|", RULEBOOK.read_text(), re.MULTILINE
            )
        }
        for code, citation in compliance.CITATIONS.items():
            assert rows[code.value] == citation, code
        for operator_code in compliance.OperatorRuleCode:
            assert operator_code.value in rows
