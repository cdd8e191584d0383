"""Decide whether Accord may contact a customer now, and if not, why and when.

The v0 rules of docs/COMPLIANCE.md as pure functions: ``evaluate`` takes frozen
dataclasses and the clock as ``now`` and returns a ``Decision`` with every reason that
applies and the earliest instant the same attempt would be allowed. See
docs/contact-policy.md.
"""

from accord.domain.compliance.model import (
    CITATIONS,
    Attempt,
    Channel,
    Consumer,
    Debt,
    Decision,
    Direction,
    HistoryItem,
    NaiveDatetimeError,
    Purpose,
    Reason,
    RuleCode,
    UnknownTimeZoneError,
)
from accord.domain.compliance.rules import (
    CALLS_PER_WINDOW,
    DEFAULT_TIME_ZONES,
    WINDOW_DAYS,
    call_released_at,
    counts_toward_calls,
    evaluate,
    under_unverified_dispute,
)
from accord.domain.compliance.windows import CONVENIENT_HOURS, earliest_permitted

__all__ = [
    "CALLS_PER_WINDOW",
    "CITATIONS",
    "CONVENIENT_HOURS",
    "DEFAULT_TIME_ZONES",
    "WINDOW_DAYS",
    "Attempt",
    "Channel",
    "Consumer",
    "Debt",
    "Decision",
    "Direction",
    "HistoryItem",
    "NaiveDatetimeError",
    "Purpose",
    "Reason",
    "RuleCode",
    "UnknownTimeZoneError",
    "call_released_at",
    "counts_toward_calls",
    "earliest_permitted",
    "evaluate",
    "under_unverified_dispute",
]
