"""Decide whether Accord may contact a customer now, and if not, why and when.

The rules of docs/COMPLIANCE.md as pure functions, grouped in composable policy packs
(``us-reg-f``, ``us-ma``, ``uk-fca``) plus operator settings: ``evaluate`` takes
frozen dataclasses and the clock as ``now`` and returns a ``Decision`` with every reason
that applies and the earliest instant the same attempt would be allowed. ``checkfile``
reads and writes the JSON of ``accord compliance check``. See docs/contact-policy.md
and docs/compliance-check.md (ADR 0009, ADR 0019).
"""

from accord.domain.compliance.engine import evaluate
from accord.domain.compliance.model import (
    CITATIONS,
    COLLECTION_PURPOSES,
    NO_OPERATOR_SETTINGS,
    OPERATOR_RULE_PREFIX,
    Attempt,
    Channel,
    Consumer,
    Debt,
    Decision,
    Direction,
    HistoryItem,
    Moratorium,
    MoratoriumKind,
    NaiveDatetimeError,
    OperatorRuleCode,
    OperatorSettings,
    OptOut,
    Pause,
    PolicyPack,
    Preferences,
    Purpose,
    QuietDays,
    Reason,
    RuleCode,
    UnknownTimeZoneError,
    Vulnerability,
    VulnerabilityDriver,
    VulnerabilityTreatment,
)
from accord.domain.compliance.rules import (
    CALLS_PER_WINDOW,
    DEFAULT_TIME_ZONES,
    WINDOW_DAYS,
    call_released_at,
    counts_toward_calls,
    under_unverified_dispute,
)
from accord.domain.compliance.windows import CONVENIENT_HOURS, earliest_permitted

__all__ = [
    "CALLS_PER_WINDOW",
    "CITATIONS",
    "COLLECTION_PURPOSES",
    "CONVENIENT_HOURS",
    "DEFAULT_TIME_ZONES",
    "NO_OPERATOR_SETTINGS",
    "OPERATOR_RULE_PREFIX",
    "WINDOW_DAYS",
    "Attempt",
    "Channel",
    "Consumer",
    "Debt",
    "Decision",
    "Direction",
    "HistoryItem",
    "Moratorium",
    "MoratoriumKind",
    "NaiveDatetimeError",
    "OperatorRuleCode",
    "OperatorSettings",
    "OptOut",
    "Pause",
    "PolicyPack",
    "Preferences",
    "Purpose",
    "QuietDays",
    "Reason",
    "RuleCode",
    "UnknownTimeZoneError",
    "Vulnerability",
    "VulnerabilityDriver",
    "VulnerabilityTreatment",
    "call_released_at",
    "counts_toward_calls",
    "earliest_permitted",
    "evaluate",
    "under_unverified_dispute",
]
