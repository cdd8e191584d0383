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


class RuleCode(enum.StrEnum):
    """Name the v0 rules by their ID in docs/COMPLIANCE.md."""

    INCONVENIENT_TIME = "REG_F_INCONVENIENT_TIME"
    CONSUMER_DESIGNATED_TIME = "REG_F_CONSUMER_DESIGNATED_TIME"
    CALL_FREQUENCY_7_IN_7 = "REG_F_CALL_FREQUENCY_7_IN_7"
    ELECTRONIC_OPT_OUT = "REG_F_ELECTRONIC_OPT_OUT"
    REFUSED_MEDIUM = "REG_F_REFUSED_MEDIUM"
    CEASE_COMMUNICATION = "REG_F_CEASE_COMMUNICATION"
    DISPUTE_PAUSE = "REG_F_DISPUTE_PAUSE"


# The citation of each rule, verbatim from the rule table of docs/COMPLIANCE.md.
CITATIONS: dict[RuleCode, str] = {
    RuleCode.INCONVENIENT_TIME: "12 CFR 1006.6(b)(1)(i)",
    RuleCode.CONSUMER_DESIGNATED_TIME: "12 CFR 1006.6(b)(1)(i); comment 6(b)(1)-1",
    RuleCode.CALL_FREQUENCY_7_IN_7: "12 CFR 1006.14(b)(2)(i)(A), (b)(2)(ii)",
    RuleCode.ELECTRONIC_OPT_OUT: "12 CFR 1006.6(e); 1006.14(h)(1), (h)(2)(i)",
    RuleCode.REFUSED_MEDIUM: "12 CFR 1006.14(h)(1), (h)(2)",
    RuleCode.CEASE_COMMUNICATION: "12 CFR 1006.6(c)(1), (c)(2)",
    RuleCode.DISPUTE_PAUSE: "12 CFR 1006.38(d)(2)",
}


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "time_zones", tuple(sorted(set(self.time_zones))))
        for name in self.time_zones:
            _require_zone(name)
        _require_aware("Consumer.cease_requested_at", self.cease_requested_at)
        if self.contact_hours is not None:
            start, end = self.contact_hours
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError(
                    "Consumer.contact_hours are local wall-clock times, without tzinfo"
                )


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

    def __post_init__(self) -> None:
        _require_aware("HistoryItem.at", self.at)


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
