"""The retry delay grows with the attempts, is capped, and is the same for the same key."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from accord.domain import backoff

keys = st.text(min_size=1, max_size=60)
attempts = st.integers(min_value=0, max_value=10_000)
instants = st.datetimes(
    min_value=datetime.datetime(2000, 1, 1),
    max_value=datetime.datetime(2100, 1, 1),
    timezones=st.just(datetime.UTC),
)


@given(key=keys, attempts=attempts)
def test_the_delay_never_shrinks_as_attempts_grow(key: str, attempts: int) -> None:
    assert backoff.delay(attempts=attempts + 1, key=key) >= backoff.delay(
        attempts=attempts, key=key
    )


@given(key=keys, attempts=attempts)
def test_the_delay_is_capped(key: str, attempts: int) -> None:
    assert backoff.delay(attempts=attempts, key=key) <= backoff.MAX_DELAY


@given(key=keys, attempts=attempts, now=instants)
def test_the_next_attempt_is_never_earlier_than_now(
    key: str, attempts: int, now: datetime.datetime
) -> None:
    later = backoff.next_attempt_at(now=now, attempts=attempts, key=key)
    assert later >= now + backoff.BASE_DELAY


@given(key=keys, attempts=attempts)
def test_the_same_key_and_attempt_always_wait_the_same(key: str, attempts: int) -> None:
    assert backoff.delay(attempts=attempts, key=key) == backoff.delay(attempts=attempts, key=key)


@given(key=keys, attempts=st.integers(min_value=1, max_value=6))
def test_the_jitter_stretches_the_doubling_by_at_most_a_quarter(key: str, attempts: int) -> None:
    plain = backoff.BASE_DELAY * 2 ** (attempts - 1)
    assert plain <= backoff.delay(attempts=attempts, key=key) <= plain * (1 + backoff.JITTER)


def test_rows_that_failed_together_come_back_at_different_times() -> None:
    delays = {backoff.delay(attempts=3, key=f"run:1:account-{n}") for n in range(20)}
    assert len(delays) > 15


def test_after_enough_attempts_every_row_waits_the_cap() -> None:
    assert backoff.delay(attempts=40, key="k") == backoff.MAX_DELAY
