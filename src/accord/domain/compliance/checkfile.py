"""Read and write the JSON of ``accord compliance check`` (docs/compliance-check.md).

``parse_check`` turns a decoded check document into the domain's inputs and
``parse_operator`` an operator-settings document into ``OperatorSettings``; both reject
unknown fields and bad values with ``CheckFileError`` naming the JSON path
(``$.history[2].channel``). ``decision_json`` writes the answer. The JSON Schemas in
docs/schemas/ describe the same documents; a test keeps them in agreement.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from accord.domain.compliance import engine, model

T = TypeVar("T")

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# ISO-8601 date and time with seconds optional and an offset (Z or +hh:mm) required.
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")

CHANNELS = {
    "call": model.Channel.CALL,
    "sms": model.Channel.SMS,
    "email": model.Channel.EMAIL,
    "letter": model.Channel.LETTER,
    "voicemail": model.Channel.VOICEMAIL,
    "chat": model.Channel.CHAT,
}
ELECTRONIC_CHANNELS = {name: channel for name, channel in CHANNELS.items() if channel.is_electronic}
GAP_CHANNELS = {name: channel for name, channel in CHANNELS.items() if name != "voicemail"}
DIRECTIONS = {"outbound": model.Direction.OUTBOUND, "inbound": model.Direction.INBOUND}
PURPOSES = {
    "collection": model.Purpose.COLLECTION,
    "limited_content": model.Purpose.LIMITED_CONTENT,
    "validation_notice": model.Purpose.VALIDATION_NOTICE,
    "response_to_request": model.Purpose.RESPONSE_TO_REQUEST,
}
PACKS = {pack.value: pack for pack in model.PolicyPack}
MORATORIUM_KINDS = {
    "standard": model.MoratoriumKind.STANDARD,
    "mental_health_crisis": model.MoratoriumKind.MENTAL_HEALTH_CRISIS,
}
DRIVERS = {driver.value.lower(): driver for driver in model.VulnerabilityDriver}


class CheckFileError(ValueError):
    """Signal a check or settings document that does not follow its schema.

    ``path`` is the JSON path of the offending value (``$`` is the document).
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """Hold one parsed check document: the arguments of ``engine.evaluate``."""

    policies: tuple[model.PolicyPack, ...]
    now: dt.datetime
    consumer: model.Consumer
    debts: tuple[model.Debt, ...]
    history: tuple[model.HistoryItem, ...]
    attempt: model.Attempt


def _object(
    value: object, path: str, *, required: Sequence[str], optional: Sequence[str] = ()
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CheckFileError(path, "must be an object")
    for key in value:
        if key not in required and key not in optional:
            raise CheckFileError(f"{path}.{key}", "is not a known field")
    for key in required:
        if key not in value:
            raise CheckFileError(f"{path}.{key}", "is required")
    return value


def _list(value: object, path: str, item: Callable[[object, str], T]) -> list[T]:
    if not isinstance(value, list):
        raise CheckFileError(path, "must be an array")
    return [item(element, f"{path}[{index}]") for index, element in enumerate(value)]


def _string(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise CheckFileError(path, "must be a non-empty string")
    return value


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise CheckFileError(path, "must be true or false")
    return value


def _count(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CheckFileError(path, "must be a whole number, 0 or more")
    return value


def _choice(choices: Mapping[str, T]) -> Callable[[object, str], T]:
    def parse(value: object, path: str) -> T:
        if not isinstance(value, str) or value not in choices:
            raise CheckFileError(path, f"must be one of {', '.join(sorted(choices))}")
        return choices[value]

    return parse


def _instant(value: object, path: str) -> dt.datetime:
    if not isinstance(value, str) or not _INSTANT.match(value):
        raise CheckFileError(path, "must be an ISO-8601 date and time with an offset")
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise CheckFileError(path, "is not a valid date and time") from None


def _optional_instant(value: object, path: str) -> dt.datetime | None:
    return None if value is None else _instant(value, path)


def _date(value: object, path: str) -> dt.date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise CheckFileError(path, "must be a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CheckFileError(path, "is not a valid date") from None


def _time(value: object, path: str) -> dt.time:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise CheckFileError(path, "must be a local time HH:MM")
    return dt.time.fromisoformat(value)


def _window(value: object, path: str) -> tuple[dt.time, dt.time]:
    data = _object(value, path, required=("start", "end"))
    start, end = _time(data["start"], f"{path}.start"), _time(data["end"], f"{path}.end")
    if start == end:
        raise CheckFileError(f"{path}.end", "must differ from start")
    return start, end


def _zone(value: object, path: str) -> str:
    name = _string(value, path)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CheckFileError(path, f"is not an IANA time zone: {name!r}") from None
    return name


def _unique(values: list[T], path: str) -> list[T]:
    if len(set(values)) != len(values):
        raise CheckFileError(path, "must not repeat an item")
    return values


def _span_end(start: dt.datetime, end: dt.datetime | None, path: str) -> None:
    if end is not None and end <= start:
        raise CheckFileError(f"{path}.end", "must be after start")


def _opt_out(value: object, path: str) -> model.OptOut:
    data = _object(value, path, required=("channel", "at"))
    return model.OptOut(
        channel=_choice(ELECTRONIC_CHANNELS)(data["channel"], f"{path}.channel"),
        at=_instant(data["at"], f"{path}.at"),
    )


def _breathing_space(value: object, path: str) -> model.Moratorium | None:
    if value is None:
        return None
    data = _object(value, path, required=("start",), optional=("end", "kind"))
    start = _instant(data["start"], f"{path}.start")
    end = _optional_instant(data.get("end"), f"{path}.end")
    _span_end(start, end, path)
    kind = _choice(MORATORIUM_KINDS)(data.get("kind", "standard"), f"{path}.kind")
    return model.Moratorium(start=start, end=end, kind=kind)


def _vulnerability(value: object, path: str) -> model.Vulnerability:
    data = _object(
        value, path, required=("driver", "recorded_at", "consent"), optional=("review_date",)
    )
    review = data.get("review_date")
    return model.Vulnerability(
        driver=_choice(DRIVERS)(data["driver"], f"{path}.driver"),
        recorded_at=_instant(data["recorded_at"], f"{path}.recorded_at"),
        consent=_bool(data["consent"], f"{path}.consent"),
        review_date=None if review is None else _date(review, f"{path}.review_date"),
    )


def _pause(value: object, path: str) -> model.Pause | None:
    if value is None:
        return None
    data = _object(value, path, required=("start",), optional=("end",))
    start = _instant(data["start"], f"{path}.start")
    end = _optional_instant(data.get("end"), f"{path}.end")
    _span_end(start, end, path)
    return model.Pause(start=start, end=end)


def _preferences(value: object, path: str) -> model.Preferences | None:
    if value is None:
        return None
    data = _object(value, path, required=(), optional=("channels", "hours", "pause"))
    channels = _unique(
        _list(data.get("channels", []), f"{path}.channels", _choice(CHANNELS)), f"{path}.channels"
    )
    hours = data.get("hours")
    return model.Preferences(
        channels=frozenset(channels),
        hours=None if hours is None else _window(hours, f"{path}.hours"),
        pause=_pause(data.get("pause"), f"{path}.pause"),
    )


_CONSUMER_FIELDS = (
    "time_zones",
    "inconvenient_times",
    "refused_channels",
    "opt_outs",
    "cease_requested_at",
    "breathing_space",
    "vulnerabilities",
    "preferences",
)


def _consumer(value: object, path: str) -> model.Consumer:
    data = _object(value, path, required=("id",), optional=_CONSUMER_FIELDS)
    zones = _unique(
        _list(data.get("time_zones", []), f"{path}.time_zones", _zone), f"{path}.time_zones"
    )
    refused = _unique(
        _list(data.get("refused_channels", []), f"{path}.refused_channels", _choice(CHANNELS)),
        f"{path}.refused_channels",
    )
    return model.Consumer(
        id=_string(data["id"], f"{path}.id"),
        time_zones=tuple(zones),
        inconvenient_times=tuple(
            _list(data.get("inconvenient_times", []), f"{path}.inconvenient_times", _window)
        ),
        refused_channels=frozenset(refused),
        opt_outs=tuple(_list(data.get("opt_outs", []), f"{path}.opt_outs", _opt_out)),
        cease_requested_at=_optional_instant(
            data.get("cease_requested_at"), f"{path}.cease_requested_at"
        ),
        breathing_space=_breathing_space(data.get("breathing_space"), f"{path}.breathing_space"),
        vulnerabilities=tuple(
            _list(data.get("vulnerabilities", []), f"{path}.vulnerabilities", _vulnerability)
        ),
        preferences=_preferences(data.get("preferences"), f"{path}.preferences"),
    )


def _debt(value: object, path: str) -> model.Debt:
    data = _object(value, path, required=("id",), optional=("dispute",))
    dispute = data.get("dispute")
    received = verified = None
    if dispute is not None:
        fields = _object(
            dispute, f"{path}.dispute", required=("received_at",), optional=("verified_at",)
        )
        received = _instant(fields["received_at"], f"{path}.dispute.received_at")
        verified = _optional_instant(fields.get("verified_at"), f"{path}.dispute.verified_at")
    return model.Debt(
        id=_string(data["id"], f"{path}.id"),
        dispute_received_at=received,
        dispute_verified_at=verified,
    )


def _debt_ids(value: object, path: str, known: set[str], *, at_least_one: bool) -> frozenset[str]:
    ids = _unique(_list(value, path, _string), path)
    if at_least_one and not ids:
        raise CheckFileError(path, "must name at least one debt")
    for index, debt_id in enumerate(ids):
        if debt_id not in known:
            raise CheckFileError(f"{path}[{index}]", f"names no debt of $.debts: {debt_id!r}")
    return frozenset(ids)


def _history_item(value: object, path: str, known: set[str]) -> model.HistoryItem:
    data = _object(
        value,
        path,
        required=("at", "channel", "direction"),
        optional=("debt_ids", "connected", "conversation", "consent_given_at"),
    )
    channel = _choice(CHANNELS)(data["channel"], f"{path}.channel")
    connected = data.get("connected")
    conversation = _bool(data.get("conversation", False), f"{path}.conversation")
    if conversation and channel is not model.Channel.CALL:
        raise CheckFileError(f"{path}.conversation", "can be true only for a call")
    if conversation and connected is False:
        raise CheckFileError(f"{path}.conversation", "cannot be true for a call not connected")
    return model.HistoryItem(
        at=_instant(data["at"], f"{path}.at"),
        channel=channel,
        direction=_choice(DIRECTIONS)(data["direction"], f"{path}.direction"),
        debt_ids=_debt_ids(data.get("debt_ids", []), f"{path}.debt_ids", known, at_least_one=False),
        connected=None if connected is None else _bool(connected, f"{path}.connected"),
        conversation=conversation,
        consent_given_at=_optional_instant(
            data.get("consent_given_at"), f"{path}.consent_given_at"
        ),
    )


def _attempt(value: object, path: str, known: set[str]) -> model.Attempt:
    data = _object(value, path, required=("channel", "debt_ids", "purpose"))
    channel = _choice(CHANNELS)(data["channel"], f"{path}.channel")
    purpose = _choice(PURPOSES)(data["purpose"], f"{path}.purpose")
    if purpose is model.Purpose.LIMITED_CONTENT and channel is not model.Channel.VOICEMAIL:
        raise CheckFileError(
            f"{path}.purpose", "limited_content is a voicemail: the channel must be voicemail"
        )
    return model.Attempt(
        channel=channel,
        debt_ids=_debt_ids(data["debt_ids"], f"{path}.debt_ids", known, at_least_one=True),
        purpose=purpose,
    )


def parse_check(document: object) -> Check:
    """Turn a decoded check document into the inputs of ``evaluate``.

    Raises ``CheckFileError`` naming the JSON path of the first field that is unknown,
    missing or wrong.
    """
    data = _object(
        document,
        "$",
        required=("policies", "now", "consumer", "debts", "attempt"),
        optional=("history",),
    )
    policies = _unique(_list(data["policies"], "$.policies", _choice(PACKS)), "$.policies")
    if not policies:
        raise CheckFileError("$.policies", "must list at least one policy pack")
    debts = _list(data["debts"], "$.debts", _debt)
    _unique([debt.id for debt in debts], "$.debts")
    known = {debt.id for debt in debts}
    history = _list(
        data.get("history", []), "$.history", lambda item, path: _history_item(item, path, known)
    )
    return Check(
        policies=tuple(policies),
        now=_instant(data["now"], "$.now"),
        consumer=_consumer(data["consumer"], "$.consumer"),
        debts=tuple(debts),
        history=tuple(history),
        attempt=_attempt(data["attempt"], "$.attempt", known),
    )


def _treatment(value: object, path: str) -> model.VulnerabilityTreatment:
    data = _object(value, path, required=(), optional=("pause_days", "channels", "tone", "routing"))
    channels = _unique(
        _list(data.get("channels", []), f"{path}.channels", _choice(CHANNELS)), f"{path}.channels"
    )
    return model.VulnerabilityTreatment(
        pause=dt.timedelta(days=_count(data.get("pause_days", 0), f"{path}.pause_days")),
        channels=frozenset(channels),
        tone=_string(data["tone"], f"{path}.tone") if "tone" in data else "",
        routing=_string(data["routing"], f"{path}.routing") if "routing" in data else "",
    )


def parse_operator(document: object) -> model.OperatorSettings:
    """Turn a decoded operator-settings document into ``OperatorSettings``.

    Raises ``CheckFileError`` naming the JSON path of the first bad field.
    """
    data = _object(
        document,
        "$",
        required=(),
        optional=(
            "weekly_contact_budget",
            "channel_min_gap_minutes",
            "quiet_days",
            "vulnerability",
        ),
    )
    budget = data.get("weekly_contact_budget")
    gaps = _object(
        data.get("channel_min_gap_minutes", {}),
        "$.channel_min_gap_minutes",
        required=(),
        optional=tuple(GAP_CHANNELS),
    )
    quiet = None
    if "quiet_days" in data:
        days = _object(
            data["quiet_days"], "$.quiet_days", required=(), optional=("sundays", "holidays")
        )
        holidays = _object(
            days.get("holidays", {}), "$.quiet_days.holidays", required=(), optional=tuple(PACKS)
        )
        quiet = model.QuietDays(
            sundays=_bool(days.get("sundays", False), "$.quiet_days.sundays"),
            holidays={
                PACKS[pack]: frozenset(_list(dates, f"$.quiet_days.holidays.{pack}", _date))
                for pack, dates in holidays.items()
            },
        )
    treatments = _object(
        data.get("vulnerability", {}), "$.vulnerability", required=(), optional=tuple(DRIVERS)
    )
    return model.OperatorSettings(
        weekly_contact_budget=None if budget is None else _count(budget, "$.weekly_contact_budget"),
        channel_min_gap={
            GAP_CHANNELS[name]: dt.timedelta(
                minutes=_count(minutes, f"$.channel_min_gap_minutes.{name}")
            )
            for name, minutes in gaps.items()
        },
        quiet_days=quiet,
        vulnerability={
            DRIVERS[name]: _treatment(value, f"$.vulnerability.{name}")
            for name, value in treatments.items()
        },
    )


def _instant_json(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def decision_json(decision: model.Decision) -> dict[str, object]:
    """Return the decision as the output document (``next_allowed_at`` in UTC, ``Z``)."""
    return {
        "allowed": decision.allowed,
        "reasons": [
            {"code": reason.code, "rule": reason.rule, "message": reason.message}
            for reason in decision.reasons
        ],
        "next_allowed_at": (
            None if decision.next_allowed_at is None else _instant_json(decision.next_allowed_at)
        ),
    }


def run_check(
    document: object, *, operator: model.OperatorSettings = model.NO_OPERATOR_SETTINGS
) -> dict[str, object]:
    """Parse a check document, decide it with the listed packs and return the output document.

    Raises ``CheckFileError`` for a document that does not follow the schema.
    """
    check = parse_check(document)
    decision = engine.evaluate(
        consumer=check.consumer,
        debts=check.debts,
        history=check.history,
        attempt=check.attempt,
        now=check.now,
        policies=check.policies,
        operator=operator,
    )
    return decision_json(decision)
