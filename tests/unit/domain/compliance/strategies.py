"""Hypothesis strategies for contact-policy inputs, all facts at or before ``now``."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from accord.domain import compliance

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Phoenix",
    "Pacific/Honolulu",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
]
DEBT_IDS = ("card-1", "loan-2")

# Around both 2026 DST changes of the US and Europe.
nows = st.sampled_from(
    [dt.datetime(2026, 3, 5, tzinfo=dt.UTC), dt.datetime(2026, 10, 22, tzinfo=dt.UTC)]
).flatmap(
    lambda start: st.integers(0, 7 * 24 * 3600 * 10).map(
        lambda tenths: start + dt.timedelta(seconds=tenths / 10)
    )
)
times = st.builds(
    dt.time, st.integers(0, 23), st.sampled_from([0, 30]), st.sampled_from([0, 0, 59])
)
zone_sets = st.lists(st.sampled_from(ZONES), max_size=3, unique=True).map(tuple)
hours = st.none() | st.tuples(times, times)
channels = st.sampled_from(list(compliance.Channel))


def before(now: dt.datetime, days: int = 10) -> st.SearchStrategy[dt.datetime]:
    return st.integers(0, days * 24 * 3600).map(lambda s: now - dt.timedelta(seconds=s))


def consumers(now: dt.datetime) -> st.SearchStrategy[compliance.Consumer]:
    return st.builds(
        compliance.Consumer,
        id=st.just("customer-1"),
        time_zones=zone_sets,
        contact_hours=hours,
        opted_out_channels=st.frozensets(channels, max_size=2),
        cease_requested_at=st.none() | st.none() | before(now),
    )


def debts(now: dt.datetime) -> st.SearchStrategy[list[compliance.Debt]]:
    def one(debt_id: str) -> st.SearchStrategy[compliance.Debt]:
        return st.builds(
            compliance.Debt,
            id=st.just(debt_id),
            dispute_received_at=st.none() | st.none() | before(now, 30),
            dispute_verified_at=st.none() | before(now, 20),
        )

    return st.tuples(*(one(debt_id) for debt_id in DEBT_IDS)).map(list)


def history_items(now: dt.datetime) -> st.SearchStrategy[compliance.HistoryItem]:
    return st.builds(
        compliance.HistoryItem,
        at=before(now, 9),
        channel=st.sampled_from(
            [compliance.Channel.CALL] * 3 + [compliance.Channel.VOICEMAIL, compliance.Channel.SMS]
        ),
        direction=st.sampled_from(
            [compliance.Direction.OUTBOUND] * 4 + [compliance.Direction.INBOUND]
        ),
        debt_ids=st.frozensets(st.sampled_from(DEBT_IDS), max_size=2),
        connected=st.sampled_from([None, True, False]),
    )


def histories(now: dt.datetime) -> st.SearchStrategy[list[compliance.HistoryItem]]:
    return st.lists(history_items(now), max_size=20)


def attempts(*, single_debt: bool = False) -> st.SearchStrategy[compliance.Attempt]:
    debt_sets = (
        st.sampled_from(DEBT_IDS).map(lambda debt_id: frozenset({debt_id}))
        if single_debt
        else st.frozensets(st.sampled_from(DEBT_IDS), min_size=1)
    )
    return st.builds(
        compliance.Attempt,
        channel=st.sampled_from([compliance.Channel.CALL] * 4 + list(compliance.Channel)),
        debt_ids=debt_sets,
        purpose=st.sampled_from(list(compliance.Purpose)),
    )
