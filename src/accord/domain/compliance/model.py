"""Define the inputs and the answer of the contact policy.

Every value is a frozen dataclass or an enumeration, so a decision can be replayed
from the same facts. Later policy packs extend these by adding fields with defaults,
never by changing the meaning of an existing one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import zoneinfo
from collections.abc import Mapping


class NaiveDatetimeError(ValueError):
    """Signal a datetime without a time zone where an instant is required."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} must be timezone-aware (got a naive datetime)")
        self.field = field


class UnknownTimeZoneError(ValueError):
    """Signal a candidate zone that is not in the IANA time-zone database."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown time zone {name!r}")
        self.name = name


class Channel(enum.StrEnum):
    """Name the medium of a contact; the first five match ``storage.models.Channel``."""

    CALL = "CALL"
    SMS = "SMS"
    EMAIL = "EMAIL"
    LETTER = "LETTER"
    CHAT = "CHAT"
    VOICEMAIL = "VOICEMAIL"

    @property
    def is_call(self) -> bool:
        """Return whether this medium is a telephone call (a voicemail is left by a call)."""
        return self in (Channel.CALL, Channel.VOICEMAIL)

    @property
    def is_electronic(self) -> bool:
        """Return whether this medium is an electronic communication (12 CFR 1006.6(e))."""
        return self in (Channel.SMS, Channel.EMAIL, Channel.CHAT)


class Direction(enum.StrEnum):
    """Tell who started a contact."""

    OUTBOUND = "OUTBOUND"
    INBOUND = "INBOUND"


class Purpose(enum.StrEnum):
    """Tell why a contact is made; the values match ``storage.models.ContactPurpose``."""

    COLLECTION = "COLLECTION"
    LIMITED_CONTENT = "LIMITED_CONTENT"
    VALIDATION_NOTICE = "VALIDATION_NOTICE"
    RESPONSE_TO_REQUEST = "RESPONSE_TO_REQUEST"


class PolicyPack(enum.StrEnum):
    """Name a policy pack: the rules of one body of law (COMPLIANCE.md, "Sources")."""

    US_REG_F = "us-reg-f"
    US_MA = "us-ma"
    UK_FCA = "uk-fca"


class RuleCode(enum.StrEnum):
    """Name the rules of law the engine decides with, by their ID in docs/COMPLIANCE.md."""

    INCONVENIENT_TIME = "REG_F_INCONVENIENT_TIME"
    CONSUMER_DESIGNATED_TIME = "REG_F_CONSUMER_DESIGNATED_TIME"
    CALL_FREQUENCY_7_IN_7 = "REG_F_CALL_FREQUENCY_7_IN_7"
    ELECTRONIC_OPT_OUT = "REG_F_ELECTRONIC_OPT_OUT"
    REFUSED_MEDIUM = "REG_F_REFUSED_MEDIUM"
    CEASE_COMMUNICATION = "REG_F_CEASE_COMMUNICATION"
    DISPUTE_PAUSE = "REG_F_DISPUTE_PAUSE"
    CALL_AFTER_CONVERSATION = "REG_F_CALL_AFTER_CONVERSATION"
    EXCLUDED_CALLS = "REG_F_EXCLUDED_CALLS"
    LIMITED_CONTENT_MESSAGE = "REG_F_LIMITED_CONTENT_MESSAGE"
    MA_TELEPHONE_TWO_IN_SEVEN = "US_MA_TELEPHONE_TWO_IN_SEVEN"
    UK_MORATORIUM_NO_CONTACT = "UK_MORATORIUM_NO_CONTACT"
    UK_BREATHING_SPACE_DURATION = "UK_BREATHING_SPACE_DURATION"
    UK_MENTAL_HEALTH_CRISIS_MORATORIUM = "UK_MENTAL_HEALTH_CRISIS_MORATORIUM"
    UK_CONTACT_TIMES_AND_REQUESTS = "UK_CONTACT_TIMES_AND_REQUESTS"
    UK_VULNERABILITY = "UK_VULNERABILITY"


class OperatorRuleCode(enum.StrEnum):
    """Name the operator-configurable rules (COMPLIANCE.md section 4; not law)."""

    WEEKLY_CONTACT_BUDGET = "OP_WEEKLY_CONTACT_BUDGET"
    CHANNEL_MIN_GAP = "OP_CHANNEL_MIN_GAP"
    QUIET_DAYS = "OP_QUIET_DAYS"
    CUSTOMER_PREFERENCE = "CUSTOMER_PREFERENCE"
    VULNERABILITY_TREATMENT = "OP_VULNERABILITY_TREATMENT"


# The citation prefix of every operator rule; the setting's name follows it.
OPERATOR_RULE_PREFIX = "Accord operator policy: "


# The citation of each rule, verbatim from the rule table of docs/COMPLIANCE.md.
CITATIONS: dict[RuleCode, str] = {
    RuleCode.INCONVENIENT_TIME: "12 CFR 1006.6(b)(1)(i)",
    RuleCode.CONSUMER_DESIGNATED_TIME: "12 CFR 1006.6(b)(1)(i); comment 6(b)(1)-1",
    RuleCode.CALL_FREQUENCY_7_IN_7: "12 CFR 1006.14(b)(2)(i)(A), (b)(2)(ii)",
    RuleCode.ELECTRONIC_OPT_OUT: "12 CFR 1006.6(e); 1006.14(h)(1), (h)(2)(i)",
    RuleCode.REFUSED_MEDIUM: "12 CFR 1006.14(h)(1), (h)(2)",
    RuleCode.CEASE_COMMUNICATION: "12 CFR 1006.6(c)(1), (c)(2)",
    RuleCode.DISPUTE_PAUSE: "12 CFR 1006.38(d)(2)",
    RuleCode.CALL_AFTER_CONVERSATION: "12 CFR 1006.14(b)(2)(i)(B), (b)(2)(ii)",
    RuleCode.EXCLUDED_CALLS: "12 CFR 1006.14(b)(3)",
    RuleCode.LIMITED_CONTENT_MESSAGE: "12 CFR 1006.2(j); 1006.2(b)",
    RuleCode.MA_TELEPHONE_TWO_IN_SEVEN: "940 CMR 7.04(1)(f); 209 CMR 18.16(1)(d)",
    RuleCode.UK_MORATORIUM_NO_CONTACT: "SI 2020/1311 reg. 7 and reg. 11",
    RuleCode.UK_BREATHING_SPACE_DURATION: "SI 2020/1311 reg. 26",
    RuleCode.UK_MENTAL_HEALTH_CRISIS_MORATORIUM: "SI 2020/1311 Part 3 (reg. 28)",
    RuleCode.UK_CONTACT_TIMES_AND_REQUESTS: "FCA CONC 7.9.4 R",
    RuleCode.UK_VULNERABILITY: "FCA CONC 7.2.1 R, 7.2.2A G; FG21/1",
}


class MoratoriumKind(enum.StrEnum):
    """Tell a standard breathing space from a mental health crisis moratorium."""

    STANDARD = "STANDARD"
    MENTAL_HEALTH_CRISIS = "MENTAL_HEALTH_CRISIS"


class VulnerabilityDriver(enum.StrEnum):
    """Name the four drivers of vulnerability of FCA FG21/1."""

    HEALTH = "HEALTH"
    LIFE_EVENTS = "LIFE_EVENTS"
    RESILIENCE = "RESILIENCE"
    CAPABILITY = "CAPABILITY"


# Purposes that collect: pauses and operator limits stop these. A validation notice (which
# the law requires) and a response the customer asked for are never held by them.
COLLECTION_PURPOSES = frozenset({Purpose.COLLECTION, Purpose.LIMITED_CONTENT})


def _require_aware(field: str, value: dt.datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise NaiveDatetimeError(field)


def _require_zone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise UnknownTimeZoneError(name) from error


@dataclasses.dataclass(frozen=True, slots=True)
class Consumer:
    """Hold what the policy knows about the person being contacted.

    ``time_zones`` are the candidate IANA zones; an empty tuple means the location is
    unknown, and the policy then uses every zone of ``DEFAULT_TIME_ZONES``.
    ``contact_hours`` is the local window (start, end) the person asked to be contacted
    in; it may wrap midnight, and start == end leaves no convenient time at all.
    """

    id: str
    time_zones: tuple[str, ...] = ()
    contact_hours: tuple[dt.time, dt.time] | None = None
    opted_out_channels: frozenset[Channel] = frozenset()
    cease_requested_at: dt.datetime | None = None
    inconvenient_times: tuple[tuple[dt.time, dt.time], ...] = ()
    refused_channels: frozenset[Channel] = frozenset()
    opt_outs: tuple[OptOut, ...] = ()
    breathing_space: Moratorium | None = None
    vulnerabilities: tuple[Vulnerability, ...] = ()
    preferences: Preferences | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "time_zones", tuple(sorted(set(self.time_zones))))
        for name in self.time_zones:
            _require_zone(name)
        _require_aware("Consumer.cease_requested_at", self.cease_requested_at)
        windows = [*self.inconvenient_times]
        if self.contact_hours is not None:
            windows.append(self.contact_hours)
        for start, end in windows:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("Consumer hours are local wall-clock times, without tzinfo")


@dataclasses.dataclass(frozen=True, slots=True)
class OptOut:
    """Record an electronic opt-out of one channel (12 CFR 1006.6(e)) and when it came."""

    channel: Channel
    at: dt.datetime

    def __post_init__(self) -> None:
        _require_aware("OptOut.at", self.at)


@dataclasses.dataclass(frozen=True, slots=True)
class Moratorium:
    """Record a Debt Respite Scheme moratorium (SI 2020/1311); ``end`` None is open-ended."""

    start: dt.datetime
    end: dt.datetime | None = None
    kind: MoratoriumKind = MoratoriumKind.STANDARD

    def __post_init__(self) -> None:
        _require_aware("Moratorium.start", self.start)
        _require_aware("Moratorium.end", self.end)
        if self.end is not None and self.end <= self.start:
            raise ValueError("Moratorium.end must be after its start")


@dataclasses.dataclass(frozen=True, slots=True)
class Vulnerability:
    """Record a vulnerability (FG21/1): its driver, consent to record it and a review date.

    Without ``consent`` the vulnerability is not on record and no treatment applies.
    """

    driver: VulnerabilityDriver
    recorded_at: dt.datetime
    consent: bool
    review_date: dt.date | None = None

    def __post_init__(self) -> None:
        _require_aware("Vulnerability.recorded_at", self.recorded_at)


@dataclasses.dataclass(frozen=True, slots=True)
class Pause:
    """Hold a pause the customer asked for: ``[start, end)``, ``end`` None is open-ended."""

    start: dt.datetime
    end: dt.datetime | None = None

    def __post_init__(self) -> None:
        _require_aware("Pause.start", self.start)
        _require_aware("Pause.end", self.end)
        if self.end is not None and self.end <= self.start:
            raise ValueError("Pause.end must be after its start")


@dataclasses.dataclass(frozen=True, slots=True)
class Preferences:
    """Hold the customer's own choices: channels, hours (local window) and a pause.

    They only narrow what the law permits (COMPLIANCE.md principle 9).
    """

    channels: frozenset[Channel] = frozenset()
    hours: tuple[dt.time, dt.time] | None = None
    pause: Pause | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Debt:
    """Hold what the policy knows about one debt (an account).

    ``label`` is how the customer knows the debt (an account reference); messages use it,
    falling back to ``id``.
    """

    id: str
    dispute_received_at: dt.datetime | None = None
    dispute_verified_at: dt.datetime | None = None
    label: str = ""

    def __post_init__(self) -> None:
        _require_aware("Debt.dispute_received_at", self.dispute_received_at)
        _require_aware("Debt.dispute_verified_at", self.dispute_verified_at)

    @property
    def name(self) -> str:
        """Return the name customers know this debt by."""
        return self.label or self.id


@dataclasses.dataclass(frozen=True, slots=True)
class HistoryItem:
    """Hold one past contact.

    ``connected`` is False only when the call is known not to have connected to the
    dialled number; None (unknown) counts as connected. ``debt_ids`` empty means the
    contact was about no listed debt, and the policy then counts it against every debt.
    """

    at: dt.datetime
    channel: Channel
    direction: Direction = Direction.OUTBOUND
    debt_ids: frozenset[str] = frozenset()
    connected: bool | None = None
    conversation: bool = False
    consent_given_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        _require_aware("HistoryItem.at", self.at)
        _require_aware("HistoryItem.consent_given_at", self.consent_given_at)


@dataclasses.dataclass(frozen=True, slots=True)
class Attempt:
    """Describe the contact being proposed."""

    channel: Channel
    debt_ids: frozenset[str] = frozenset()
    purpose: Purpose = Purpose.COLLECTION


@dataclasses.dataclass(frozen=True, slots=True)
class Reason:
    """Say why a contact is not allowed: rule ID, citation and a message for the customer."""

    code: str
    rule: str
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """Answer a contact check.

    ``next_allowed_at`` is the earliest instant at or after ``now`` at which the same
    attempt would be allowed if nothing else happened; None when allowed now or when a
    reason has no known end.
    """

    allowed: bool
    reasons: tuple[Reason, ...]
    next_allowed_at: dt.datetime | None

    @property
    def codes(self) -> tuple[str, ...]:
        """Return the rule IDs of the reasons, in order."""
        return tuple(reason.code for reason in self.reasons)


@dataclasses.dataclass(frozen=True, slots=True)
class QuietDays:
    """Hold the days an operator does not contact on: Sundays and holidays per pack.

    ``holidays`` maps a policy pack (its jurisdiction) to explicit local dates.
    """

    sundays: bool = False
    holidays: Mapping[PolicyPack, frozenset[dt.date]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class VulnerabilityTreatment:
    """Say how an operator treats one FG21/1 driver: a pause, channels, tone and routing.

    ``pause`` runs from the vulnerability's ``recorded_at``; ``channels`` empty allows
    every channel. ``tone`` and ``routing`` are read by orchestration, not by the check.
    """

    pause: dt.timedelta = dt.timedelta(0)
    channels: frozenset[Channel] = frozenset()
    tone: str = ""
    routing: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class OperatorSettings:
    """Hold the operator's own contact rules (COMPLIANCE.md section 4); all off by default.

    ``weekly_contact_budget``: outbound contacts per person per seven local days, every
    channel and debt. ``channel_min_gap``: the least time between two outbound contacts on
    a channel (a voicemail is a call). ``quiet_days``: Sundays and holidays.
    ``vulnerability``: the treatment per driver.
    """

    weekly_contact_budget: int | None = None
    channel_min_gap: Mapping[Channel, dt.timedelta] = dataclasses.field(default_factory=dict)
    quiet_days: QuietDays | None = None
    vulnerability: Mapping[VulnerabilityDriver, VulnerabilityTreatment] = dataclasses.field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        if self.weekly_contact_budget is not None and self.weekly_contact_budget < 0:
            raise ValueError("OperatorSettings.weekly_contact_budget must not be negative")
        if any(gap < dt.timedelta(0) for gap in self.channel_min_gap.values()):
            raise ValueError("OperatorSettings.channel_min_gap must not be negative")


NO_OPERATOR_SETTINGS = OperatorSettings()
