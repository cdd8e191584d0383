"""REG_F_INCONVENIENT_TIME and REG_F_CONSUMER_DESIGNATED_TIME (12 CFR 1006.6(b)(1)(i))."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.domain import compliance
from tests.unit.domain.compliance.builders import (
    CHICAGO,
    DENVER,
    LONDON,
    LOS_ANGELES,
    NEW_YORK,
    PHOENIX,
    consumer,
    decide,
    local,
    utc,
)

INCONVENIENT = compliance.RuleCode.INCONVENIENT_TIME.value
DESIGNATED = compliance.RuleCode.CONSUMER_DESIGNATED_TIME.value


class TestInconvenientTime:
    """REG_F_INCONVENIENT_TIME: 08:00 <= t < 21:00 local, half-open (principle 7)."""

    @pytest.mark.parametrize(
        ("wall", "allowed"),
        [
            ((7, 59, 59), False),
            ((8, 0, 0), True),
            ((20, 59, 59), True),
            ((21, 0, 0), False),
        ],
    )
    def test_the_window_opens_at_8_and_closes_at_21(
        self, wall: tuple[int, int, int], allowed: bool
    ) -> None:
        decision = decide(consumer(NEW_YORK), local(NEW_YORK, 2026, 6, 10, *wall))
        assert decision.allowed is allowed
        assert decision.codes == (() if allowed else (INCONVENIENT,))

    def test_a_denial_carries_the_citation_verbatim_and_the_local_time(self) -> None:
        decision = decide(consumer(NEW_YORK), local(NEW_YORK, 2026, 6, 10, 7, 59, 59))
        (reason,) = decision.reasons
        assert reason.rule == "12 CFR 1006.6(b)(1)(i)"
        assert "07:59 in America/New_York" in reason.message

    def test_at_21_00_the_next_allowed_time_is_8_00_the_next_morning(self) -> None:
        decision = decide(consumer(NEW_YORK), local(NEW_YORK, 2026, 6, 10, 21, 0))
        assert decision.next_allowed_at == local(NEW_YORK, 2026, 6, 11, 8, 0)

    def test_spring_forward_morning_in_new_york_opens_at_12_00_utc_not_13_00(self) -> None:
        """COMPLIANCE.md example 6: Sun 8 Mar 2026, clocks went forward at 07:00 UTC."""
        assert decide(consumer(NEW_YORK), utc(2026, 3, 8, 12, 30)).allowed
        denied = decide(consumer(NEW_YORK), utc(2026, 3, 8, 11, 30))
        assert denied.codes == (INCONVENIENT,)
        assert denied.next_allowed_at == utc(2026, 3, 8, 12, 0)

    def test_on_the_night_clocks_go_back_in_new_york_the_window_reopens_at_13_00_utc(
        self,
    ) -> None:
        # 1 Nov 2026: EDT until 06:00 UTC, then EST; 08:00 EST is 13:00 UTC.
        denied = decide(consumer(NEW_YORK), utc(2026, 11, 1, 5, 30))
        assert denied.next_allowed_at == utc(2026, 11, 1, 13, 0)

    def test_london_spring_forward_day_opens_at_07_00_utc(self) -> None:
        # 29 Mar 2026: BST from 01:00 UTC, so 08:00 local is 07:00 UTC.
        assert not decide(consumer(LONDON), utc(2026, 3, 29, 6, 59, 59)).allowed
        assert decide(consumer(LONDON), utc(2026, 3, 29, 7, 0)).allowed

    def test_london_fall_back_day_closes_at_21_00_utc(self) -> None:
        # 25 Oct 2026: GMT from 01:00 UTC, so 21:00 local is 21:00 UTC.
        assert decide(consumer(LONDON), utc(2026, 10, 25, 20, 59, 59)).allowed
        denied = decide(consumer(LONDON), utc(2026, 10, 25, 21, 0))
        assert denied.next_allowed_at == utc(2026, 10, 26, 8, 0)

    def test_new_york_and_los_angeles_candidates_wait_for_8_00_pacific(self) -> None:
        """Principle 4: convenient only if convenient in every candidate zone."""
        who = consumer(NEW_YORK, LOS_ANGELES)
        denied = decide(who, local(NEW_YORK, 2026, 6, 10, 9, 30))
        assert denied.codes == (INCONVENIENT,)
        assert "06:30 in America/Los_Angeles" in denied.reasons[0].message
        assert "America/New_York" not in denied.reasons[0].message
        assert denied.next_allowed_at == local(LOS_ANGELES, 2026, 6, 10, 8, 0)
        assert decide(who, local(LOS_ANGELES, 2026, 6, 10, 17, 59)).allowed
        evening = decide(who, local(NEW_YORK, 2026, 6, 10, 21, 0))
        assert evening.next_allowed_at == local(LOS_ANGELES, 2026, 6, 11, 8, 0)

    def test_chicago_address_and_los_angeles_phone_follow_example_4(self) -> None:
        who = consumer(CHICAGO, LOS_ANGELES)
        denied = decide(who, local(CHICAGO, 2026, 4, 15, 9, 30))
        assert denied.next_allowed_at == local(CHICAGO, 2026, 4, 15, 10, 0)
        assert decide(who, local(CHICAGO, 2026, 4, 15, 20, 30)).allowed
        late = decide(who, local(CHICAGO, 2026, 4, 15, 21, 15))
        assert late.next_allowed_at == local(LOS_ANGELES, 2026, 4, 16, 8, 0)

    def test_phoenix_keeps_no_dst_in_summer(self) -> None:
        """COMPLIANCE.md example 5."""
        denied = decide(consumer(PHOENIX), utc(2026, 7, 1, 14, 30))
        assert denied.next_allowed_at == utc(2026, 7, 1, 15, 0)
        assert decide(consumer(DENVER), utc(2026, 7, 1, 14, 30)).allowed

    def test_an_unknown_location_must_be_convenient_in_every_us_zone(self) -> None:
        """Principle 3/4: no zones means every default zone (Honolulu to New York)."""
        nobody_knows = consumer()
        # 12:00 in New York is 06:00 in Honolulu.
        denied = decide(nobody_knows, local(NEW_YORK, 2026, 6, 10, 12, 0))
        assert denied.next_allowed_at == local("Pacific/Honolulu", 2026, 6, 10, 8, 0)
        assert decide(nobody_knows, local(NEW_YORK, 2026, 6, 10, 15, 0)).allowed

    def test_zones_that_are_never_convenient_together_give_no_next_time(self) -> None:
        # UTC+0, UTC+8 and UTC-8 all year: three 13-hour windows eight hours apart.
        who = consumer("Africa/Abidjan", "Asia/Shanghai", "Pacific/Pitcairn")
        decision = decide(who, utc(2026, 6, 10, 12, 0))
        assert decision.codes == (INCONVENIENT,)
        assert decision.next_allowed_at is None

    def test_every_channel_is_held_to_the_window(self) -> None:
        for channel in compliance.Channel:
            decision = decide(
                consumer(NEW_YORK),
                local(NEW_YORK, 2026, 6, 10, 21, 5),
                what=compliance.Attempt(channel=channel, debt_ids=frozenset({"card-1"})),
            )
            assert decision.codes == (INCONVENIENT,), channel


class TestConsumerDesignatedTime:
    """REG_F_CONSUMER_DESIGNATED_TIME: outside the customer's chosen hours is inconvenient."""

    NOON_TO_TWO = (dt.time(12, 0), dt.time(14, 0))

    def test_outside_the_chosen_hours_is_denied_until_they_start(self) -> None:
        decision = decide(
            consumer(NEW_YORK, hours=self.NOON_TO_TWO), local(NEW_YORK, 2026, 6, 10, 10, 0)
        )
        assert decision.codes == (DESIGNATED,)
        assert decision.reasons[0].rule == "12 CFR 1006.6(b)(1)(i); comment 6(b)(1)-1"
        assert "between 12:00 and 14:00" in decision.reasons[0].message
        assert decision.next_allowed_at == local(NEW_YORK, 2026, 6, 10, 12, 0)

    def test_the_chosen_window_is_half_open(self) -> None:
        who = consumer(NEW_YORK, hours=self.NOON_TO_TWO)
        assert decide(who, local(NEW_YORK, 2026, 6, 10, 12, 0)).allowed
        assert decide(who, local(NEW_YORK, 2026, 6, 10, 13, 59, 59)).allowed
        late = decide(who, local(NEW_YORK, 2026, 6, 10, 14, 0))
        assert late.next_allowed_at == local(NEW_YORK, 2026, 6, 11, 12, 0)

    def test_a_window_that_wraps_midnight_is_narrowed_by_the_legal_hours(self) -> None:
        """18:00-09:00 leaves 18:00-21:00 and 08:00-09:00 inside 08:00-21:00."""
        who = consumer(NEW_YORK, hours=(dt.time(18, 0), dt.time(9, 0)))
        assert decide(who, local(NEW_YORK, 2026, 6, 10, 8, 30)).allowed
        assert decide(who, local(NEW_YORK, 2026, 6, 10, 19, 0)).allowed
        midday = decide(who, local(NEW_YORK, 2026, 6, 10, 12, 0))
        assert midday.codes == (DESIGNATED,)
        assert midday.next_allowed_at == local(NEW_YORK, 2026, 6, 10, 18, 0)
        night = decide(who, local(NEW_YORK, 2026, 6, 10, 23, 0))
        assert night.codes == (INCONVENIENT,)
        assert night.next_allowed_at == local(NEW_YORK, 2026, 6, 11, 8, 0)

    def test_both_time_rules_are_reported_together(self) -> None:
        who = consumer(NEW_YORK, hours=self.NOON_TO_TWO)
        decision = decide(who, local(NEW_YORK, 2026, 6, 10, 7, 0))
        assert decision.codes == (INCONVENIENT, DESIGNATED)
        assert decision.next_allowed_at == local(NEW_YORK, 2026, 6, 10, 12, 0)

    def test_hours_that_start_and_end_together_leave_no_time(self) -> None:
        who = consumer(NEW_YORK, hours=(dt.time(9, 0), dt.time(9, 0)))
        decision = decide(who, local(NEW_YORK, 2026, 6, 10, 9, 0))
        assert decision.codes == (DESIGNATED,)
        assert decision.next_allowed_at is None

    def test_chosen_hours_inside_a_dst_gap_open_when_the_clocks_jump(self) -> None:
        # 02:30 does not exist in New York on 8 Mar 2026: 01:59:59 EST -> 03:00 EDT.
        who = consumer(NEW_YORK, hours=(dt.time(2, 30), dt.time(21, 0)))
        decision = decide(who, utc(2026, 3, 8, 6, 0))
        assert DESIGNATED in decision.codes
        assert decision.next_allowed_at == utc(2026, 3, 8, 12, 0)
