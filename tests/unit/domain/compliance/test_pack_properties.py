"""Properties of the composed packs (COMPLIANCE.md principles 1, 2, 5-7 and 9).

- A generated dialer that calls whenever the engine allows it, across DST changes in
  America/New_York, Europe/London, America/Phoenix and Australia/Lord_Howe, never places
  an 8th counted call about a debt within 7 local days (12 CFR 1006.14(b)(2)(i)(A)) nor a
  call outside 08:00-21:00 in any candidate zone (12 CFR 1006.6(b)(1)(i)).
- ``next_allowed_at``, when given, is allowed when re-checked, and nothing on a minute
  grid between ``now`` and it is; an allowed decision has no reasons.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.domain import compliance
from accord.domain.compliance import windows
from tests.unit.domain.compliance import strategies

DST_ZONES = ["America/New_York", "Europe/London", "America/Phoenix", "Australia/Lord_Howe"]
# A week before each 2026 DST change of those zones (Lord Howe moves by 30 minutes).
DST_STARTS = [
    dt.datetime(2026, 3, 4, tzinfo=dt.UTC),  # US forward 8 Mar
    dt.datetime(2026, 3, 25, tzinfo=dt.UTC),  # EU forward 29 Mar
    dt.datetime(2026, 4, 1, tzinfo=dt.UTC),  # Lord Howe back 5 Apr
    dt.datetime(2026, 9, 30, tzinfo=dt.UTC),  # Lord Howe forward 4 Oct
    dt.datetime(2026, 10, 21, tzinfo=dt.UTC),  # EU back 25 Oct
    dt.datetime(2026, 10, 28, tzinfo=dt.UTC),  # US back 1 Nov
]
DEBTS = [compliance.Debt(id="card-1"), compliance.Debt(id="loan-2")]
PACKS = list(compliance.PolicyPack)


@st.composite
def dialer_runs(
    draw: st.DrawFn,
) -> tuple[tuple[str, ...], dt.datetime, list[tuple[int, str, object, bool]]]:
    zones = tuple(draw(st.lists(st.sampled_from(DST_ZONES), min_size=1, max_size=3, unique=True)))
    start = draw(st.sampled_from(DST_STARTS)) + dt.timedelta(minutes=draw(st.integers(0, 24 * 60)))
    steps = draw(
        st.lists(
            st.tuples(
                st.integers(1, 12 * 60),  # minutes until the dialer tries again
                st.sampled_from(["card-1", "loan-2"]),
                st.sampled_from([None, True, True, False]),  # connected
                st.booleans(),  # when denied, retry at next_allowed_at
            ),
            min_size=10,
            max_size=60,
        )
    )
    return zones, start, steps


def counted(item: compliance.HistoryItem) -> bool:
    return item.connected is not False


class TestAGeneratedDialer:
    @settings(max_examples=120, deadline=None)
    @given(dialer_runs())
    def test_never_places_an_8th_call_in_7_local_days_or_one_outside_8_to_21(
        self, run: tuple[tuple[str, ...], dt.datetime, list[tuple[int, str, object, bool]]]
    ) -> None:
        zones, at, steps = run
        consumer = compliance.Consumer(id="c", time_zones=zones)
        placed: list[compliance.HistoryItem] = []
        for minutes, debt_id, connected, follow in steps:
            at += dt.timedelta(minutes=minutes)
            attempt = compliance.Attempt(
                channel=compliance.Channel.CALL, debt_ids=frozenset({debt_id})
            )

            def decide(
                now: dt.datetime, attempt: compliance.Attempt = attempt
            ) -> compliance.Decision:
                return compliance.evaluate(
                    consumer=consumer,
                    debts=DEBTS,
                    history=placed,
                    attempt=attempt,
                    now=now,
                    policies=[compliance.PolicyPack.US_REG_F],
                )

            decision = decide(at)
            if not decision.allowed and follow and decision.next_allowed_at is not None:
                at = decision.next_allowed_at
                decision = decide(at)
                assert decision.allowed
            if decision.allowed:
                placed.append(
                    compliance.HistoryItem(
                        at=at,
                        channel=compliance.Channel.CALL,
                        debt_ids=frozenset({debt_id}),
                        connected=connected,  # type: ignore[arg-type]
                    )
                )
        for call in placed:
            for name in zones:
                wall = windows.local(call.at, name).time()
                assert dt.time(8) <= wall < dt.time(21), (call.at, name)
                day = windows.local_date(call.at, name)
                in_window = [
                    other
                    for other in placed
                    if other.at <= call.at
                    and other.debt_ids == call.debt_ids
                    and counted(other)
                    and day - dt.timedelta(days=6) <= windows.local_date(other.at, name) <= day
                ]
                assert len(in_window) <= 7, (call.at, name)


def before(now: dt.datetime, days: int = 10) -> st.SearchStrategy[dt.datetime]:
    return strategies.before(now, days)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, object]:
    now = draw(strategies.nows)
    channel_set = st.frozensets(strategies.channels, max_size=2)
    window = st.tuples(strategies.times, strategies.times).filter(lambda w: w[0] != w[1])
    space = st.none() | st.builds(
        compliance.Moratorium,
        start=before(now, 30),
        end=st.none() | st.integers(1, 60 * 24 * 20).map(lambda m: now + dt.timedelta(minutes=m)),
        kind=st.sampled_from(list(compliance.MoratoriumKind)),
    )
    vulnerability = st.builds(
        compliance.Vulnerability,
        driver=st.sampled_from(list(compliance.VulnerabilityDriver)),
        recorded_at=before(now, 20),
        consent=st.booleans(),
        review_date=st.none()
        | st.integers(-3, 30).map(lambda d: now.date() + dt.timedelta(days=d)),
    )
    pause = st.none() | st.builds(
        compliance.Pause,
        start=before(now, 5),
        end=st.none() | st.integers(1, 60 * 24 * 10).map(lambda m: now + dt.timedelta(minutes=m)),
    )
    preferences = st.none() | st.builds(
        compliance.Preferences,
        channels=channel_set,
        hours=st.none() | window,
        pause=pause,
    )
    consumer = st.builds(
        compliance.Consumer,
        id=st.just("c"),
        time_zones=strategies.zone_sets,
        contact_hours=strategies.hours,
        opted_out_channels=st.frozensets(strategies.channels, max_size=1),
        cease_requested_at=st.none() | st.none() | st.none() | before(now),
        inconvenient_times=st.lists(window, max_size=2).map(tuple),
        refused_channels=st.frozensets(strategies.channels, max_size=1),
        opt_outs=st.lists(
            st.builds(
                compliance.OptOut,
                channel=st.sampled_from([compliance.Channel.SMS, compliance.Channel.EMAIL]),
                at=before(now),
            ),
            max_size=1,
        ).map(tuple),
        breathing_space=space,
        vulnerabilities=st.lists(vulnerability, max_size=2).map(tuple),
        preferences=preferences,
    )
    history_item = st.builds(
        compliance.HistoryItem,
        at=before(now, 9),
        channel=st.sampled_from(
            [compliance.Channel.CALL] * 3
            + [compliance.Channel.VOICEMAIL, compliance.Channel.SMS, compliance.Channel.EMAIL]
        ),
        direction=st.sampled_from(
            [compliance.Direction.OUTBOUND] * 3 + [compliance.Direction.INBOUND]
        ),
        debt_ids=st.frozensets(st.sampled_from(strategies.DEBT_IDS), max_size=2),
        connected=st.sampled_from([None, True, False]),
        conversation=st.booleans(),
        consent_given_at=st.none() | st.none() | before(now, 9),
    )
    treatment = st.builds(
        compliance.VulnerabilityTreatment,
        pause=st.integers(0, 40).map(lambda d: dt.timedelta(days=d)),
        channels=channel_set,
    )
    operator = st.builds(
        compliance.OperatorSettings,
        weekly_contact_budget=st.none() | st.integers(0, 6),
        channel_min_gap=st.dictionaries(
            st.sampled_from(
                [compliance.Channel.CALL, compliance.Channel.SMS, compliance.Channel.EMAIL]
            ),
            st.integers(0, 600).map(lambda m: dt.timedelta(minutes=m)),
            max_size=2,
        ),
        quiet_days=st.none()
        | st.builds(
            compliance.QuietDays,
            sundays=st.booleans(),
            holidays=st.dictionaries(
                st.sampled_from(PACKS),
                st.frozensets(
                    st.integers(-2, 10).map(lambda d: now.date() + dt.timedelta(days=d)), max_size=3
                ),
                max_size=2,
            ),
        ),
        vulnerability=st.dictionaries(
            st.sampled_from(list(compliance.VulnerabilityDriver)), treatment, max_size=2
        ),
    )
    return {
        "consumer": draw(consumer),
        "debts": draw(strategies.debts(now)),
        "history": draw(st.lists(history_item, max_size=15)),
        "attempt": draw(strategies.attempts()),
        "now": now,
        "policies": draw(st.lists(st.sampled_from(PACKS), min_size=1, max_size=3, unique=True)),
        "operator": draw(st.just(compliance.NO_OPERATOR_SETTINGS) | operator),
    }


def evaluate(case: dict[str, object], **changes: object) -> compliance.Decision:
    return compliance.evaluate(**{**case, **changes})  # type: ignore[arg-type]


SETTINGS = settings(max_examples=150, deadline=None)


class TestEveryComposedDecision:
    @SETTINGS
    @given(cases())
    def test_an_allowed_decision_has_no_reasons_and_a_denial_has_some(
        self, case: dict[str, object]
    ) -> None:
        decision = evaluate(case)
        assert decision.allowed == (decision.reasons == ())
        if decision.allowed:
            assert decision.next_allowed_at is None

    @SETTINGS
    @given(cases())
    def test_every_reason_cites_its_rule(self, case: dict[str, object]) -> None:
        for reason in evaluate(case).reasons:
            if reason.code in compliance.RuleCode.__members__.values():
                assert reason.rule == compliance.CITATIONS[compliance.RuleCode(reason.code)]
            else:
                compliance.OperatorRuleCode(reason.code)
                assert reason.rule.startswith(compliance.OPERATOR_RULE_PREFIX)
            assert reason.message

    @SETTINGS
    @given(cases(), st.lists(st.floats(0, 1, exclude_max=True), min_size=20, max_size=20))
    def test_next_allowed_at_is_allowed_and_nothing_on_a_minute_grid_before_it_is(
        self, case: dict[str, object], fractions: list[float]
    ) -> None:
        """Principle 2: the release is real and the earliest."""
        decision = evaluate(case)
        if decision.next_allowed_at is None:
            return
        now = case["now"]
        assert isinstance(now, dt.datetime)
        assert decision.next_allowed_at >= now
        assert evaluate(case, now=decision.next_allowed_at).allowed
        minutes = int((decision.next_allowed_at - now).total_seconds() // 60)
        grid = {now + dt.timedelta(minutes=int(fraction * minutes)) for fraction in fractions}
        grid.add(decision.next_allowed_at - dt.timedelta(microseconds=1))
        for at in sorted(grid):
            if now <= at < decision.next_allowed_at:
                assert not evaluate(case, now=at).allowed, at
