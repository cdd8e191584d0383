"""The sign-in rate limit, driven with an explicit clock."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.core.cache import cache

from accord.web import ratelimit

T0 = datetime.datetime(2026, 3, 15, 9, 0, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Start and end every test without failures remembered."""
    cache.clear()
    yield
    cache.clear()


def fail(n: int, *, username: str = "ana", ip: str = "10.0.0.1", at: datetime.datetime) -> None:
    for i in range(n):
        ratelimit.record_failure(username=username, ip=ip, now=at + i * MINUTE)


def test_four_failures_do_not_lock() -> None:
    fail(4, at=T0)

    assert ratelimit.lockout(username="ana", ip="10.0.0.1", now=T0 + 4 * MINUTE) is None


def test_five_failures_lock_until_the_first_leaves_the_window() -> None:
    fail(5, at=T0)

    locked = ratelimit.lockout(username="ana", ip="10.0.0.1", now=T0 + 5 * MINUTE)

    assert locked is not None
    assert locked.until == T0 + ratelimit.WINDOW
    assert locked.minutes_left(T0 + 5 * MINUTE) == 10
    assert ratelimit.lockout(username="ana", ip="10.0.0.1", now=T0 + 15 * MINUTE) is None


def test_failures_older_than_the_window_do_not_count() -> None:
    fail(4, at=T0)
    fail(1, at=T0 + 16 * MINUTE)

    assert ratelimit.lockout(username="ana", ip="10.0.0.1", now=T0 + 16 * MINUTE) is None


def test_the_username_counter_ignores_case_and_address() -> None:
    for n in range(5):
        ratelimit.record_failure(username="Ana", ip=f"10.0.0.{n}", now=T0)

    assert ratelimit.lockout(username="ana ", ip="192.0.2.1", now=T0) is not None


def test_the_address_counter_spans_usernames() -> None:
    for n in range(5):
        ratelimit.record_failure(username=f"guess-{n}", ip="10.0.0.9", now=T0)

    assert ratelimit.lockout(username="bob", ip="10.0.0.9", now=T0) is not None
    assert ratelimit.lockout(username="bob", ip="10.0.0.8", now=T0) is None


def test_forgetting_a_username_keeps_the_address_counter() -> None:
    fail(5, at=T0)

    ratelimit.forget_username("ana")

    assert ratelimit.lockout(username="ana", ip="10.0.0.2", now=T0 + 5 * MINUTE) is None
    assert ratelimit.lockout(username="bob", ip="10.0.0.1", now=T0 + 5 * MINUTE) is not None
