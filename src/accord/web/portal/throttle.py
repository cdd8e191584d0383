"""Limit how often the portal's sign-in steps may be tried, per destination and per address.

The same sliding-window pattern as :mod:`accord.web.ratelimit` (the staff sign-in's
lockout), with its own keys and limits, so that neither sign-in can lock the other
out. The times of the latest events per key live in Django's default cache; the
caller passes the current time in.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib

from django.core.cache import cache

_KEY_PREFIX = "accord:portal"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Limit:
    """Allow at most ``max_events`` events per key inside any ``window``."""

    name: str
    max_events: int
    window: datetime.timedelta

    def blocked_until(self, key: str, now: datetime.datetime) -> datetime.datetime | None:
        """Return when ``key`` may act again, or ``None`` if it may act now."""
        times = self._recent(key, now)
        if len(times) < self.max_events:
            return None
        deciding = times[-self.max_events]
        return datetime.datetime.fromtimestamp(deciding, tz=now.tzinfo) + self.window

    def hit(self, key: str, now: datetime.datetime) -> None:
        """Count one event for ``key`` at ``now``."""
        times = [*self._recent(key, now), now.timestamp()][-self.max_events :]
        cache.set(self._cache_key(key), times, timeout=int(self.window.total_seconds()))

    def _recent(self, key: str, now: datetime.datetime) -> list[float]:
        oldest = (now - self.window).timestamp()
        stored = cache.get(self._cache_key(key), [])
        return sorted(t for t in stored if oldest < t <= now.timestamp())

    def _cache_key(self, key: str) -> str:
        # Hashed, so an address or phone number never appears in the cache's file names.
        return f"{_KEY_PREFIX}:{self.name}:{hashlib.sha256(key.encode()).hexdigest()}"


# Codes sent to one destination: enough for a lost message or two, not for spamming.
CODES_PER_DESTINATION = Limit(
    name="codes-per-destination", max_events=3, window=datetime.timedelta(minutes=15)
)
# Codes asked for from one address, whatever the destination: stops enumeration sweeps.
CODES_PER_ADDRESS = Limit(
    name="codes-per-address", max_events=10, window=datetime.timedelta(minutes=15)
)
# Wrong codes typed from one address (each code also dies after five wrong tries).
WRONG_CODES_PER_ADDRESS = Limit(
    name="wrong-codes-per-address", max_events=10, window=datetime.timedelta(minutes=15)
)


def minutes_until(until: datetime.datetime, now: datetime.datetime) -> int:
    """Return the wait from ``now`` to ``until`` in whole minutes, rounded up (at least 1)."""
    seconds = max((until - now).total_seconds(), 0)
    return max(1, -int(-seconds // 60))
