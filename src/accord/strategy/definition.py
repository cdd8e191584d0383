"""Read and validate a strategy file: which treatment each delinquency stage gets, and how often.

A strategy is versioned data, not code: ``name`` + ``version`` are recorded on every run and
decision, so what an account was sent can always be traced back to the rules that chose it.
``default.yaml`` beside this module is the strategy Accord runs unless told otherwise.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from accord.domain import arrears

DEFAULT_PATH = Path(__file__).with_name("default.yaml")
_TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TOP_KEYS = frozenset(
    {
        "name",
        "version",
        "description",
        "stages",
        "bucket_edges",
        "hold_while_promise_open",
        "hold_while_plan_active",
        "plan_grace_days",
        "treatments",
    }
)
_RULE_KEYS = frozenset({"treatment", "stages", "template", "channels", "every_days"})
_STAGE_KEYS = frozenset({"pre_due_days", "early_max", "mid_max", "late_max"})
DEFAULT_PLAN_GRACE_DAYS = 5


class Treatment(enum.StrEnum):
    """Name what the strategy does for an account (the same values as the stored choices)."""

    NONE = "NONE"
    PRE_DUE_REMINDER = "PRE_DUE_REMINDER"
    LATE_NOTICE = "LATE_NOTICE"
    PROMISE_REQUEST = "PROMISE_REQUEST"
    CALL_TASK = "CALL_TASK"


class Channel(enum.StrEnum):
    """Name a channel a treatment may use (the same values as the stored choices)."""

    EMAIL = "EMAIL"
    SMS = "SMS"
    LETTER = "LETTER"
    CALL = "CALL"


WRITTEN_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.LETTER)


# The stored values the engine reads and writes. ``strategy`` imports no Django, so these
# mirror the storage choices of the same names; an integration test holds them equal.


class AccountStatus(enum.StrEnum):
    """Name an account's status; only OPEN accounts are treated."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"
    CHARGED_OFF = "CHARGED_OFF"
    SETTLED = "SETTLED"


class ContactPointKind(enum.StrEnum):
    """Name a kind of contact point."""

    PHONE = "PHONE"
    EMAIL = "EMAIL"


class ContactStatus(enum.StrEnum):
    """Name a contact attempt's status in the outbox and the contact history."""

    PLANNED = "PLANNED"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    BLOCKED = "BLOCKED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


# Attempts that happened or may be happening: they count towards the call cap (the
# contact policy reads the same tuple). Planned, failed, blocked and cancelled ones were
# never made.
COUNTED_STATUSES = (ContactStatus.SENT, ContactStatus.COMPLETED, ContactStatus.SENDING)
# A contact with the same template in one of these states starts the cadence clock.
CADENCE_STATUSES = (ContactStatus.PLANNED, *COUNTED_STATUSES)


class PromiseStatus(enum.StrEnum):
    """Name a promise's status; a run settles OPEN promises as KEPT or BROKEN."""

    OPEN = "OPEN"
    KEPT = "KEPT"
    BROKEN = "BROKEN"
    CANCELLED = "CANCELLED"


class PlanStatus(enum.StrEnum):
    """Name a repayment plan's status; a run settles ACTIVE plans as COMPLETED or BROKEN."""

    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    BROKEN = "BROKEN"
    CANCELLED = "CANCELLED"


class ReasonCode(enum.StrEnum):
    """Name the fixed reason codes a decision may carry (docs/strategy.md)."""

    PROMISE_OPEN = "PROMISE_OPEN"
    PLAN_ACTIVE = "PLAN_ACTIVE"
    CADENCE_WAIT = "CADENCE_WAIT"
    NO_CONTACT_POINT = "NO_CONTACT_POINT"
    POLICY_BLOCKED = "POLICY_BLOCKED"
    POLICY_DEFERRED = "POLICY_DEFERRED"


class ReasonPrefix(enum.StrEnum):
    """Name the reason codes that carry a value after their prefix (``DPD_12``)."""

    STAGE = "STAGE_"
    DPD = "DPD_"
    DUE_IN = "DUE_IN_"
    ACCOUNT = "ACCOUNT_"


class InvalidStrategy(ValueError):
    """Signal a strategy file that cannot be read or breaks a rule; the message says where."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class TreatmentRule:
    """Give accounts in ``stages`` a ``treatment`` with ``template``, at most every N days."""

    treatment: Treatment
    stages: tuple[arrears.DelinquencyStage, ...]
    template: str
    channels: tuple[Channel, ...]
    every_days: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Strategy:
    """Hold a validated strategy: stage thresholds, buckets, holds and treatment rules."""

    name: str
    version: str
    description: str
    thresholds: arrears.StageThresholds
    buckets: arrears.BucketScheme
    hold_while_promise_open: bool
    hold_while_plan_active: bool
    plan_grace_days: int
    rules: tuple[TreatmentRule, ...]

    @property
    def label(self) -> str:
        """Return ``name@version``, the form recorded on runs and decisions."""
        return f"{self.name}@{self.version}"


def load(path: Path | None = None) -> Strategy:
    """Read and validate the strategy in ``path`` (the default strategy when None).

    Raises :class:`InvalidStrategy` when the file is missing, is not YAML or breaks a rule.
    """
    source = path or DEFAULT_PATH
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidStrategy(
            f"{source}: cannot read the strategy file ({error.strerror})"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidStrategy(f"{source}: not valid YAML ({error})") from None
    return parse(data, source=str(source))


def parse(data: object, *, source: str = "strategy") -> Strategy:
    """Validate ``data`` (a parsed YAML document) and return the strategy it describes.

    Raises :class:`InvalidStrategy` naming the first field that is wrong.
    """
    top = _mapping(data, where=source, allowed=_TOP_KEYS)
    name = _text(top, "name", where=source)
    version = _text(top, "version", where=source)
    if len(name) > 40 or len(version) > 20:
        # name@version is stored on every decision (64 characters at most).
        raise InvalidStrategy(f"{source}: name must be at most 40 and version 20 characters")
    description = top.get("description", "")
    if not isinstance(description, str):
        raise InvalidStrategy(f"{source}: description must be text")
    thresholds = _thresholds(top.get("stages", {}), where=f"{source}: stages")
    buckets = _buckets(top.get("bucket_edges", [30, 60, 90, 120, 180]), where=source)
    rules = _rules(top.get("treatments"), where=source)
    return Strategy(
        name=name,
        version=version,
        description=description.strip(),
        thresholds=thresholds,
        buckets=buckets,
        hold_while_promise_open=_flag(top, "hold_while_promise_open", where=source),
        hold_while_plan_active=_flag(top, "hold_while_plan_active", where=source),
        plan_grace_days=_whole(
            top.get("plan_grace_days", DEFAULT_PLAN_GRACE_DAYS),
            where=f"{source}: plan_grace_days",
            minimum=0,
        ),
        rules=rules,
    )


def _mapping(data: object, *, where: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidStrategy(f"{where}: expected a mapping of keys to values")
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise InvalidStrategy(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )
    return data


def _text(data: Mapping[str, Any], key: str, *, where: str) -> str:
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidStrategy(f"{where}: {key} is required and must be text")
    return value.strip()


def _flag(data: Mapping[str, Any], key: str, *, where: str) -> bool:
    value = data.get(key, True)
    if not isinstance(value, bool):
        raise InvalidStrategy(f"{where}: {key} must be true or false")
    return value


def _whole(value: object, *, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidStrategy(f"{where} must be a whole number of days of at least {minimum}")
    return value


def _thresholds(data: object, *, where: str) -> arrears.StageThresholds:
    stages = _mapping(data, where=where, allowed=_STAGE_KEYS)
    defaults = arrears.DEFAULT_STAGE_THRESHOLDS
    values = {
        key: _whole(stages.get(key, getattr(defaults, key)), where=f"{where}.{key}", minimum=0)
        for key in sorted(_STAGE_KEYS)
    }
    try:
        return arrears.StageThresholds(**values)
    except ValueError as error:
        raise InvalidStrategy(f"{where}: {error}") from None


def _buckets(data: object, *, where: str) -> arrears.BucketScheme:
    if not isinstance(data, list) or not all(
        isinstance(edge, int) and not isinstance(edge, bool) for edge in data
    ):
        raise InvalidStrategy(f"{where}: bucket_edges must be a list of whole numbers of days")
    try:
        return arrears.BucketScheme.from_edges(data)
    except arrears.InvalidBucketScheme as error:
        raise InvalidStrategy(f"{where}: bucket_edges: {error}") from None


def _choice(value: object, enumeration: type[enum.StrEnum], *, where: str) -> Any:
    allowed = ", ".join(member.value for member in enumeration)
    if not isinstance(value, str):
        raise InvalidStrategy(f"{where}: {value!r} is not one of {allowed}")
    try:
        return enumeration(value)
    except ValueError:
        raise InvalidStrategy(f"{where}: {value!r} is not one of {allowed}") from None


def _rules(data: object, *, where: str) -> tuple[TreatmentRule, ...]:
    if not isinstance(data, list) or not data:
        raise InvalidStrategy(f"{where}: treatments must be a non-empty list of rules")
    rules: list[TreatmentRule] = []
    claimed: dict[arrears.DelinquencyStage, int] = {}
    for index, item in enumerate(data):
        at = f"{where}: treatments[{index}]"
        rule = _mapping(item, where=at, allowed=_RULE_KEYS)
        treatment = _choice(rule.get("treatment"), Treatment, where=f"{at}.treatment")
        if treatment is Treatment.NONE:
            raise InvalidStrategy(f"{at}.treatment: NONE is what accounts without a rule get")
        stages = _list(rule.get("stages"), where=f"{at}.stages")
        stage_values = tuple(
            _choice(stage, arrears.DelinquencyStage, where=f"{at}.stages") for stage in stages
        )
        for stage in stage_values:
            if stage in claimed:
                raise InvalidStrategy(
                    f"{at}.stages: {stage} already has a rule (treatments[{claimed[stage]}])"
                )
            claimed[stage] = index
        template = rule.get("template")
        if not isinstance(template, str) or not _TEMPLATE_NAME.match(template):
            raise InvalidStrategy(
                f"{at}.template must be a lower-case name such as late_notice, got {template!r}"
            )
        channels = tuple(
            _choice(channel, Channel, where=f"{at}.channels")
            for channel in _list(rule.get("channels"), where=f"{at}.channels")
        )
        if len(set(channels)) != len(channels):
            raise InvalidStrategy(f"{at}.channels: a channel is listed twice")
        if (treatment is Treatment.CALL_TASK) != (channels == (Channel.CALL,)):
            raise InvalidStrategy(
                f"{at}.channels: a CALL_TASK uses exactly [CALL]; other treatments are written "
                "(EMAIL, SMS, LETTER)"
            )
        every_days = _whole(rule.get("every_days"), where=f"{at}.every_days", minimum=1)
        rules.append(
            TreatmentRule(
                treatment=treatment,
                stages=stage_values,
                template=template,
                channels=channels,
                every_days=every_days,
            )
        )
    return tuple(rules)


def _list(value: object, *, where: str) -> Sequence[object]:
    if not isinstance(value, list) or not value:
        raise InvalidStrategy(f"{where} must be a non-empty list")
    return value
