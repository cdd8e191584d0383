"""Do local-time window arithmetic with real IANA zones.

Windows are half-open ``[start, end)`` wall-clock intervals that may wrap midnight
("18:00-09:00"); start == end is an empty window. An instant is inside a window when
its wall-clock time in the zone is. Every function converts instants rather than doing
wall-clock arithmetic, so DST days of 23 or 25 hours, missing and repeated hours all
come out right. Results are in UTC.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Sequence

UTC = dt.UTC
Window = tuple[dt.time, dt.time]

# 08:00 <= t < 21:00 local: 12 CFR 1006.6(b)(1)(i); 15 U.S.C. 1692c(a)(1).
CONVENIENT_HOURS: Window = (dt.time(8, 0), dt.time(21, 0))

# How far ahead to look for a permitted instant before calling the wait open-ended.
HORIZON = dt.timedelta(days=400)

_MICROSECOND = dt.timedelta(microseconds=1)


@functools.lru_cache(maxsize=512)
def zone(name: str) -> zoneinfo.ZoneInfo:
    """Return the IANA zone of this name."""
    return zoneinfo.ZoneInfo(name)


def in_window(wall_time: dt.time, window: Window) -> bool:
    """Return whether a wall-clock time is inside a half-open, possibly wrapping window."""
    start, end = window
    if start < end:
        return start <= wall_time < end
    if start > end:
        return wall_time >= start or wall_time < end
    return False


def local(instant: dt.datetime, zone_name: str) -> dt.datetime:
    """Return the instant as an aware datetime in the named zone."""
    return instant.astimezone(zone(zone_name))


def local_date(instant: dt.datetime, zone_name: str) -> dt.date:
    """Return the calendar date of the instant in the named zone."""
    return local(instant, zone_name).date()


def _wall(instant: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def earliest_at_wall(zone_name: str, wall: dt.datetime) -> dt.datetime:
    """Return the earliest instant whose wall-clock time in the zone is at or after ``wall``.

    A wall time that happens twice (clocks going back) gives its first occurrence; one
    that does not exist (clocks going forward) gives the instant the clocks jumped.
    """
    tz = zone(zone_name)
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if _wall(first, tz) == wall:
        return first
    other = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(first, other), max(first, other)
    while high - low > _MICROSECOND:
        middle = low + (high - low) / 2
        if _wall(middle, tz) >= wall:
            high = middle
        else:
            low = middle
    return high


def midnight(zone_name: str, date: dt.date) -> dt.datetime:
    """Return the instant a local calendar date begins in the zone."""
    return earliest_at_wall(zone_name, dt.datetime.combine(date, dt.time(0)))


def _first_offset_change(tz: zoneinfo.ZoneInfo, low: dt.datetime, high: dt.datetime) -> dt.datetime:
    offset = low.astimezone(tz).utcoffset()
    while high - low > _MICROSECOND:
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return high


def next_in_window(instant: dt.datetime, zone_name: str, window: Window) -> dt.datetime | None:
    """Return the earliest instant at or after ``instant`` inside the window in one zone.

    None when the window is empty.
    """
    start, end = window
    if start == end:
        return None
    tz = zone(zone_name)
    candidate = instant.astimezone(UTC)
    # Between offset changes wall time runs with real time, so the next entry is where
    # the wall clock reaches ``start``, unless the offset changes first.
    for _ in range(16):
        here = candidate.astimezone(tz)
        if in_window(here.time(), window):
            return candidate
        wall = here.replace(tzinfo=None)
        date = wall.date() if wall.time() < start else wall.date() + dt.timedelta(days=1)
        offset = here.utcoffset()
        assert offset is not None
        entry = (dt.datetime.combine(date, start) - offset).replace(tzinfo=UTC)
        if entry.astimezone(tz).utcoffset() == offset:
            return entry
        candidate = _first_offset_change(tz, candidate, entry)
    raise AssertionError("no window entry found")  # pragma: no cover


def earliest_permitted(
    instant: dt.datetime,
    zone_names: Sequence[str],
    windows: Sequence[Window],
    *,
    until: dt.datetime,
) -> dt.datetime | None:
    """Return the earliest instant at or after ``instant`` inside every window in every zone.

    None when no such instant comes by ``until`` (the windows never overlap, or one is
    empty).
    """
    candidate = instant.astimezone(UTC)
    while candidate <= until:
        moved = False
        for name in zone_names:
            for window in windows:
                entry = next_in_window(candidate, name, window)
                if entry is None:
                    return None
                if entry > candidate:
                    candidate, moved = entry, True
        if not moved:
            return candidate
    return None
