"""Decide when a message whose send failed for a passing reason is tried again.

The delay grows exponentially with the number of attempts already made, is capped, and
is spread by a jitter derived from the message's idempotency key, so rows that failed
together (a provider outage) do not all come back in the same second, and the same row
always gets the same delay (deterministic, reproducible in tests and audits).
"""

from __future__ import annotations

import datetime
import hashlib

BASE_DELAY = datetime.timedelta(minutes=1)
"""The delay before the second attempt, before jitter."""

MAX_DELAY = datetime.timedelta(hours=6)
"""No retry waits longer than this, jitter included."""

JITTER = 0.25
"""The delay is stretched by up to this fraction (0 to 25 %), chosen by the key."""


def _jitter_fraction(key: str, attempts: int) -> float:
    digest = hashlib.sha256(f"{key}:{attempts}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64  # in [0, 1)


def delay(*, attempts: int, key: str) -> datetime.timedelta:
    """Return how long to wait after the ``attempts``-th failed attempt of the message ``key``.

    ``BASE_DELAY * 2 ** (attempts - 1)``, stretched by a jitter of up to ``JITTER`` taken
    from a hash of the key and the attempt number, and never more than ``MAX_DELAY``.
    Attempts below 1 count as 1. The delay never shrinks as attempts grow (the jitter is
    applied before the cap, and a doubling outgrows any jitter of the previous step).
    """
    step = max(attempts, 1) - 1
    cap_seconds = MAX_DELAY.total_seconds()
    base_seconds = BASE_DELAY.total_seconds()
    # Past this step the cap is reached anyway; stop doubling before floats overflow.
    if step >= 64 or base_seconds * 2**step >= cap_seconds:
        return MAX_DELAY
    stretched = base_seconds * 2**step * (1 + JITTER * _jitter_fraction(key, step + 1))
    return datetime.timedelta(seconds=min(stretched, cap_seconds))


def next_attempt_at(*, now: datetime.datetime, attempts: int, key: str) -> datetime.datetime:
    """Return when to try the message ``key`` again after its ``attempts``-th failure at ``now``."""
    return now + delay(attempts=attempts, key=key)
