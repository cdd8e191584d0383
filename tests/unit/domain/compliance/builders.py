"""Build intention-named inputs for the contact-policy tests."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence

from accord.domain import compliance

NEW_YORK = "America/New_York"
LOS_ANGELES = "America/Los_Angeles"
CHICAGO = "America/Chicago"
LONDON = "Europe/London"
PHOENIX = "America/Phoenix"
DENVER = "America/Denver"


def local(zone: str, *args: int) -> dt.datetime:
    """Return a wall-clock time in a zone as an aware datetime (first occurrence)."""
    return dt.datetime(*args, tzinfo=zoneinfo.ZoneInfo(zone))  # type: ignore[misc]


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]


def consumer(
    *zones: str,
    hours: tuple[dt.time, dt.time] | None = None,
    opted_out: Sequence[compliance.Channel] = (),
    cease_requested_at: dt.datetime | None = None,
) -> compliance.Consumer:
    return compliance.Consumer(
        id="customer-1",
        time_zones=zones,
        contact_hours=hours,
        opted_out_channels=frozenset(opted_out),
        cease_requested_at=cease_requested_at,
    )


def call(
    at: dt.datetime,
    *debts: str,
    connected: bool | None = None,
    direction: compliance.Direction = compliance.Direction.OUTBOUND,
    channel: compliance.Channel = compliance.Channel.CALL,
) -> compliance.HistoryItem:
    return compliance.HistoryItem(
        at=at,
        channel=channel,
        direction=direction,
        debt_ids=frozenset(debts or ("card-1",)),
        connected=connected,
    )


def attempt(
    channel: compliance.Channel = compliance.Channel.CALL,
    *debts: str,
    purpose: compliance.Purpose = compliance.Purpose.COLLECTION,
) -> compliance.Attempt:
    return compliance.Attempt(
        channel=channel, debt_ids=frozenset(debts or ("card-1",)), purpose=purpose
    )


CARD = compliance.Debt(id="card-1")
LOAN = compliance.Debt(id="loan-2")


def decide(
    who: compliance.Consumer,
    now: dt.datetime,
    *,
    history: Sequence[compliance.HistoryItem] = (),
    what: compliance.Attempt | None = None,
    debts: Sequence[compliance.Debt] = (CARD, LOAN),
) -> compliance.Decision:
    return compliance.evaluate(
        consumer=who, debts=debts, history=history, attempt=what or attempt(), now=now
    )
