"""Refuse sign-in attempts after too many failures for one username or one address.

Failures are remembered in Django's cache as the times of the latest few failures per
username and per client IP address. Once :data:`MAX_FAILURES` of them fall inside
:data:`WINDOW`, further attempts for that username or from that address are refused
until the oldest of them leaves the window. The caller passes the current time in, so
tests can move the clock.

Counters live in Django's default cache, the file-based cache in the data folder,
shared by every web process on the machine. Its updates are not atomic, so two
attempts at the same instant may both count as one; a cache with atomic
increments (Redis, Memcached) makes the limit exact. See ``CACHES`` in the settings.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib

from django.core.cache import cache

MAX_FAILURES = 5
WINDOW = datetime.timedelta(minutes=15)
_KEY_PREFIX = "accord:login-failures"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Lockout:
    """Say that sign-in is refused, and until when."""

    until: datetime.datetime

    def retry_after(self, now: datetime.datetime) -> datetime.timedelta:
        """Return how long the caller must wait from ``now`` (never negative)."""
        return max(self.until - now, datetime.timedelta(0))

    def minutes_left(self, now: datetime.datetime) -> int:
        """Return the wait from ``now`` in whole minutes, rounded up (at least 1)."""
        seconds = self.retry_after(now).total_seconds()
        return max(1, -int(-seconds // 60))


def lockout(*, username: str, ip: str, now: datetime.datetime) -> Lockout | None:
    """Return the lockout in force for ``username`` or ``ip`` at ``now``, if any."""
    untils = [
        until
        for key in _keys(username=username, ip=ip)
        if (until := _locked_until(_recent(key, now), now)) is not None
    ]
    return Lockout(until=max(untils)) if untils else None


def record_failure(*, username: str, ip: str, now: datetime.datetime) -> None:
    """Remember one failed attempt for ``username`` and for ``ip`` at ``now``."""
    for key in _keys(username=username, ip=ip):
        # Only the latest MAX_FAILURES times can decide a lockout, so keep no more.
        times = [*_recent(key, now), now.timestamp()][-MAX_FAILURES:]
        cache.set(key, times, timeout=int(WINDOW.total_seconds()))


def forget_username(username: str) -> None:
    """Clear the failures of ``username`` (after it signed in); the address keeps its own."""
    cache.delete(_username_key(username))


def _keys(*, username: str, ip: str) -> list[str]:
    keys = [f"{_KEY_PREFIX}:ip:{_digest(ip)}"]
    if username.strip():
        keys.append(_username_key(username))
    return keys


def _username_key(username: str) -> str:
    # Case-folded so "Ana" and "ana" share a counter; hashed so any text is a safe key.
    return f"{_KEY_PREFIX}:user:{_digest(username.strip().casefold())}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _recent(key: str, now: datetime.datetime) -> list[float]:
    oldest = (now - WINDOW).timestamp()
    stored = cache.get(key, [])
    return sorted(t for t in stored if oldest < t <= now.timestamp())


def _locked_until(times: list[float], now: datetime.datetime) -> datetime.datetime | None:
    if len(times) < MAX_FAILURES:
        return None
    # Locked until the failure that made the count reach the limit leaves the window.
    deciding = times[-MAX_FAILURES]
    return datetime.datetime.fromtimestamp(deciding, tz=now.tzinfo) + WINDOW
