"""Read and validate a strategy: segments of the book, the treatment path each follows, and
champion/challenger experiments.

A strategy is versioned data, not code. ``name`` + ``version`` are recorded on every run and
decision, so what an account was sent can always be traced back to the rules that chose it.
``default.yaml`` beside this module is the strategy Accord starts with; managers store new
versions in the database and activate one (``accord.usecases.strategies``).

The model (docs/strategy.md explains every key):

- **Segments**, in order: the first whose ``when`` conditions all hold takes the account.
  An account no segment takes gets ``NONE`` with ``NO_SEGMENT``.
- Each segment follows a **treatment path**: ordered **steps**. Pre-due steps
  (``days_before_due``) come first, then steps starting at a number of days past due
  (``from_dpd``, strictly increasing). On a given day the account is on exactly one step:
  the pre-due step with the smallest ``days_before_due`` that still covers the next due date
  when it is not past due, otherwise the last step whose ``from_dpd`` it has reached. So the
  step depends only on today's state: after downtime a run acts on the current state and
  never replays missed steps.
- A path's **stop conditions** put the account on hold (``NONE``) while they last.
- A segment may run an **experiment**: arms by whole percentages summing to 100, the first
  arm being the champion (the segment's own path). An account's arm is a stable hash of
  (account id, experiment name) (:func:`arm_bucket`), so it stays in its arm across runs.

Everything here is pure Python: the engines (``engine``) and the per-account reference
implementation read the same :class:`Strategy`.
"""

from __future__ import annotations

import dataclasses
import decimal
import enum
import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from accord.domain import arrears

DEFAULT_PATH = Path(__file__).with_name("default.yaml")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_EXPERIMENT_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TOP_KEYS = frozenset(
    {
        "name",
        "version",
        "description",
        "stages",
        "bucket_edges",
        "plan_grace_days",
        "recent_payment_days",
        "segments",
        "paths",
    }
)
_SEGMENT_KEYS = frozenset({"name", "description", "when", "path", "experiment"})
_PATH_KEYS = frozenset({"description", "stop_when", "steps"})
_STEP_KEYS = frozenset(
    {"step", "days_before_due", "from_dpd", "template", "channels", "every_days", "wait_days"}
)
_EXPERIMENT_KEYS = frozenset({"name", "arms", "guardrails"})
_ARM_KEYS = frozenset({"name", "percent", "path"})
_GUARDRAIL_KEYS = frozenset(
    {"min_accounts", "opt_outs", "complaints", "disputes", "broken_promises"}
)
_STAGE_KEYS = frozenset({"pre_due_days", "early_max", "mid_max", "late_max"})
DEFAULT_PLAN_GRACE_DAYS = 5
DEFAULT_RECENT_PAYMENT_DAYS = 7
SCORE_MAX = 100


class Treatment(enum.StrEnum):
    """Name a step of a treatment path (the same values as the stored choices)."""

    NONE = "NONE"
    PRE_DUE_REMINDER = "PRE_DUE_REMINDER"
    LATE_NOTICE = "LATE_NOTICE"
    PROMISE_REQUEST = "PROMISE_REQUEST"
    PLAN_OFFER = "PLAN_OFFER"
    HARDSHIP_REVIEW = "HARDSHIP_REVIEW"
    CALL_TASK = "CALL_TASK"
    ESCALATION = "ESCALATION"


class Channel(enum.StrEnum):
    """Name a channel a step may use (the same values as the stored choices)."""

    EMAIL = "EMAIL"
    SMS = "SMS"
    LETTER = "LETTER"
    CALL = "CALL"


WRITTEN_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.LETTER)
# ``preferred_channels`` may also match customers who stated no preference.
NO_PREFERENCE = "NONE"


class StopCondition(enum.StrEnum):
    """Name a state that holds an account on its path (treatment ``NONE``) while it lasts.

    The value is also the reason code the decision carries.
    """

    PAYMENT_RECEIVED = "PAYMENT_RECEIVED"  # a payment within recent_payment_days
    PROMISE_OPEN = "PROMISE_OPEN"  # an open promise not yet due
    PLAN_ACTIVE = "PLAN_ACTIVE"  # an active repayment plan
    DISPUTE_OPEN = "DISPUTE_OPEN"  # an unresolved dispute on the account
    BREATHING_SPACE = "BREATHING_SPACE"  # a breathing-space moratorium in force
    CEASE_REQUESTED = "CEASE_REQUESTED"  # the customer asked us to stop contacting them
    VULNERABLE = "VULNERABLE"  # an unresolved vulnerability on record


# The stored values the engine reads and writes. ``strategy`` imports no Django, so these
# mirror the storage choices of the same names; an integration test holds them equal.


class AccountStatus(enum.StrEnum):
    """Name an account's status; only OPEN accounts are treated."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"
    CHARGED_OFF = "CHARGED_OFF"
    SETTLED = "SETTLED"


class ProductType(enum.StrEnum):
    """Name a product type (``storage.models.ProductType``)."""

    CREDIT_CARD = "CREDIT_CARD"
    LOAN = "LOAN"
    UTILITY = "UTILITY"
    TELCO = "TELCO"
    BNPL = "BNPL"


class DebtorType(enum.StrEnum):
    """Name a debtor type (``storage.models.DebtorType``)."""

    CONSUMER = "CONSUMER"
    BUSINESS = "BUSINESS"


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
    PARKED = "PARKED"  # the dispatcher gave up on it; an operator retries or cancels it


# Attempts that happened or may be happening: they count towards the call cap (the
# contact policy reads the same tuple). Planned, failed, blocked and cancelled ones were
# never made.
COUNTED_STATUSES = (ContactStatus.SENT, ContactStatus.COMPLETED, ContactStatus.SENDING)
# A contact in one of these states starts the cadence (every_days) and wait (wait_days) clocks.
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
    """Name the fixed reason codes a decision may carry (docs/strategy.md).

    Stop conditions add their own value (:class:`StopCondition`) when they hold an account.
    """

    NO_SEGMENT = "NO_SEGMENT"  # no segment's conditions hold
    NO_STEP = "NO_STEP"  # the path has no step for the account's state today
    CADENCE_WAIT = "CADENCE_WAIT"  # the step's template was used within every_days
    STEP_WAIT = "STEP_WAIT"  # any strategy contact within the step's wait_days
    NO_CONTACT_POINT = "NO_CONTACT_POINT"
    ARM_PAUSED = "ARM_PAUSED"  # the account's challenger arm is paused: champion path
    POLICY_BLOCKED = "POLICY_BLOCKED"
    POLICY_DEFERRED = "POLICY_DEFERRED"
    # Kept for reading decisions stored before stop conditions (same values).
    PROMISE_OPEN = "PROMISE_OPEN"
    PLAN_ACTIVE = "PLAN_ACTIVE"


class ReasonPrefix(enum.StrEnum):
    """Name the reason codes that carry a value after their prefix (``DPD_12``)."""

    STAGE = "STAGE_"
    DPD = "DPD_"
    DUE_IN = "DUE_IN_"
    ACCOUNT = "ACCOUNT_"


class InvalidStrategy(ValueError):
    """Signal a strategy that cannot be read or breaks a rule; the message says where."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class IntRange:
    """Hold an inclusive range of whole numbers; a missing end is open."""

    min: int | None = None
    max: int | None = None

    def contains(self, value: int) -> bool:
        """Return whether ``min <= value <= max``."""
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


@dataclasses.dataclass(frozen=True, kw_only=True)
class MoneyBand:
    """Hold a band of amounts in major units of the account's currency: ``min <= x < max``."""

    min: decimal.Decimal | None = None
    max: decimal.Decimal | None = None

    def contains(self, amount: decimal.Decimal) -> bool:
        """Return whether ``amount`` (major units) lies in the band."""
        return (self.min is None or amount >= self.min) and (self.max is None or amount < self.max)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Conditions:
    """Hold a segment's conditions; ``None`` means any. All given conditions must hold."""

    stages: frozenset[arrears.DelinquencyStage] | None = None
    buckets: frozenset[str] | None = None
    dpd: IntRange | None = None
    products: frozenset[ProductType] | None = None
    debtor_types: frozenset[DebtorType] | None = None
    currencies: frozenset[str] | None = None
    balance: MoneyBand | None = None
    arrears: MoneyBand | None = None
    risk: IntRange | None = None
    collectability: IntRange | None = None
    vulnerable: bool | None = None
    dispute_open: bool | None = None
    cease_requested: bool | None = None
    breathing_space: bool | None = None
    preferred_channels: frozenset[str] | None = None  # Channel values or NO_PREFERENCE
    languages: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    countries: frozenset[str] | None = None

    @property
    def given(self) -> dict[str, Any]:
        """Return the conditions that are set, by name, in declaration order."""
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if getattr(self, field.name) is not None
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class Step:
    """Hold one step of a path: when it starts, what it sends, and how often.

    Exactly one of ``days_before_due`` (a pre-due step) and ``from_dpd`` is set.
    ``template`` and ``channels`` are empty for ``ESCALATION`` (a flag for agents, no message).
    """

    treatment: Treatment
    days_before_due: int | None
    from_dpd: int | None
    template: str | None
    channels: tuple[Channel, ...]
    every_days: int
    wait_days: int

    @property
    def contacts(self) -> bool:
        """Return whether the step sends something (every step but ESCALATION)."""
        return bool(self.channels)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TreatmentPath:
    """Hold a named sequence of steps and the conditions that pause it."""

    name: str
    description: str
    stop_when: tuple[StopCondition, ...]
    steps: tuple[Step, ...]

    @property
    def pre_due_steps(self) -> tuple[Step, ...]:
        """Return the pre-due steps, largest ``days_before_due`` first."""
        return tuple(step for step in self.steps if step.days_before_due is not None)

    @property
    def past_due_steps(self) -> tuple[Step, ...]:
        """Return the past-due steps, in increasing ``from_dpd``."""
        return tuple(step for step in self.steps if step.from_dpd is not None)

    def step_for(self, *, days_past_due: int, days_until_next_due: int | None) -> Step | None:
        """Return the step an account with this state is on today, or ``None``.

        A past-due account (``days_past_due >= 1``) is on the last step whose ``from_dpd`` it
        has reached. Otherwise it is on the pre-due step with the smallest ``days_before_due``
        that is at least ``days_until_next_due`` (no pre-due step without a next due date).
        """
        if days_past_due >= 1:
            reached = [
                s
                for s in self.past_due_steps
                if s.from_dpd is not None and s.from_dpd <= days_past_due
            ]
            return reached[-1] if reached else None
        if days_until_next_due is None:
            return None
        covering = [
            s
            for s in self.pre_due_steps
            if s.days_before_due is not None and s.days_before_due >= days_until_next_due
        ]
        return covering[-1] if covering else None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Guardrails:
    """Hold when a challenger arm is paused for customer harm.

    Each rate threshold is the most a challenger's events per 1,000 accounts may exceed the
    champion's by, over the results window, once both arms have ``min_accounts`` accounts.
    """

    min_accounts: int = 200
    opt_outs: decimal.Decimal = decimal.Decimal("5")
    complaints: decimal.Decimal = decimal.Decimal("2")
    disputes: decimal.Decimal = decimal.Decimal("5")
    broken_promises: decimal.Decimal = decimal.Decimal("50")

    @property
    def thresholds(self) -> dict[str, decimal.Decimal]:
        """Return the per-1,000 thresholds by measure name."""
        return {
            "opt_outs": self.opt_outs,
            "complaints": self.complaints,
            "disputes": self.disputes,
            "broken_promises": self.broken_promises,
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class Arm:
    """Hold one arm of an experiment: a share of the segment and the path it follows."""

    name: str
    percent: int
    path: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Experiment:
    """Hold a champion/challenger experiment; ``arms[0]`` is the champion."""

    name: str
    arms: tuple[Arm, ...]
    guardrails: Guardrails

    @property
    def champion(self) -> Arm:
        """Return the champion arm (the segment's own path)."""
        return self.arms[0]

    @property
    def challengers(self) -> tuple[Arm, ...]:
        """Return the challenger arms."""
        return self.arms[1:]

    def arm_for(self, bucket: int) -> Arm:
        """Return the arm of a hash bucket in ``0..99``: arms take consecutive ranges."""
        upper = 0
        for arm in self.arms:
            upper += arm.percent
            if bucket < upper:
                return arm
        raise ValueError(f"bucket {bucket} is outside 0..99")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Segment:
    """Hold a segment: the accounts its conditions take, and the path they follow."""

    name: str
    description: str
    when: Conditions
    path: str
    experiment: Experiment | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Strategy:
    """Hold a validated strategy: stage thresholds, buckets, segments, paths."""

    name: str
    version: str
    description: str
    thresholds: arrears.StageThresholds
    buckets: arrears.BucketScheme
    plan_grace_days: int
    recent_payment_days: int
    segments: tuple[Segment, ...]
    paths: Mapping[str, TreatmentPath]

    @property
    def label(self) -> str:
        """Return ``name@version``, the form recorded on runs and decisions."""
        return f"{self.name}@{self.version}"

    @property
    def experiments(self) -> tuple[Experiment, ...]:
        """Return the experiments of every segment, in segment order."""
        return tuple(s.experiment for s in self.segments if s.experiment is not None)

    @property
    def templates(self) -> frozenset[str]:
        """Return every template any step uses."""
        return frozenset(
            step.template
            for path in self.paths.values()
            for step in path.steps
            if step.template is not None
        )

    @property
    def longest_wait_days(self) -> int:
        """Return the longest ``every_days`` or ``wait_days`` of any step (history to read)."""
        return max(
            (max(step.every_days, step.wait_days) for p in self.paths.values() for step in p.steps),
            default=1,
        )


# --- The arm hash: the same integer arithmetic in Python, DuckDB, PostgreSQL and Spark. ---

# 2**31 - 1, a prime: products of two residues stay below 2**62, inside a signed 64-bit int.
HASH_PRIME = 2_147_483_647


@dataclasses.dataclass(frozen=True)
class HashParameters:
    """Hold the experiment's constants of :func:`arm_bucket` (all in ``1..HASH_PRIME-1``)."""

    a1: int
    b1: int
    a2: int
    b2: int


def hash_parameters(experiment: str) -> HashParameters:
    """Return the constants of ``experiment``'s arm hash, derived from its name by SHA-256."""
    digest = hashlib.sha256(f"accord-arm:{experiment}".encode()).digest()
    words = [int.from_bytes(digest[i : i + 8], "big") for i in range(0, 32, 8)]
    return HashParameters(*(1 + word % (HASH_PRIME - 1) for word in words))


def arm_bucket(account_id: int, experiment: str) -> int:
    """Return the account's bucket ``0..99`` in ``experiment`` (stable across runs).

    ``x = (id mod P * a1 + b1) mod P``, ``y = (x * x mod P * a2 + b2) mod P``, bucket
    ``y mod 100``, with ``P = 2**31 - 1``: whole-number operations every engine computes the
    same way (the engines build the same expression; a parity test holds them equal). The
    square mixes the bits, so consecutive ids and different experiments spread independently.
    """
    p = hash_parameters(experiment)
    x = ((account_id % HASH_PRIME) * p.a1 + p.b1) % HASH_PRIME
    y = (((x * x) % HASH_PRIME) * p.a2 + p.b2) % HASH_PRIME
    return y % 100


# --- Reading -----------------------------------------------------------------------------


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
    return loads(text, source=str(source))


def loads(text: str, *, source: str = "strategy") -> Strategy:
    """Validate the YAML ``text`` and return the strategy it describes."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidStrategy(f"{source}: not valid YAML ({error})") from None
    return parse(data, source=source)


def default_source() -> str:
    """Return the text of the default strategy."""
    return DEFAULT_PATH.read_text(encoding="utf-8")


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
    paths = _paths(top.get("paths"), where=f"{source}: paths")
    segments = _segments(
        top.get("segments"), where=f"{source}: segments", paths=paths, buckets=buckets
    )
    used = {s.path for s in segments} | {
        arm.path for s in segments if s.experiment for arm in s.experiment.arms
    }
    unused = sorted(set(paths) - used)
    if unused:
        raise InvalidStrategy(
            f"{source}: paths: {unused[0]!r} is not used by any segment or arm (remove it)"
        )
    return Strategy(
        name=name,
        version=version,
        description=description.strip(),
        thresholds=thresholds,
        buckets=buckets,
        plan_grace_days=_whole(
            top.get("plan_grace_days", DEFAULT_PLAN_GRACE_DAYS),
            where=f"{source}: plan_grace_days",
            minimum=0,
        ),
        recent_payment_days=_whole(
            top.get("recent_payment_days", DEFAULT_RECENT_PAYMENT_DAYS),
            where=f"{source}: recent_payment_days",
            minimum=1,
        ),
        segments=segments,
        paths=paths,
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


def _name(value: object, *, where: str, pattern: re.Pattern[str] = _NAME) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise InvalidStrategy(
            f"{where} must be a lower-case name such as late_stage (letters, digits, _), "
            f"got {value!r}"
        )
    return value


def _description(data: Mapping[str, Any], *, where: str) -> str:
    value = data.get("description", "")
    if not isinstance(value, str):
        raise InvalidStrategy(f"{where}.description must be text")
    return value.strip()


def _flag(value: object, *, where: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidStrategy(f"{where} must be true or false")
    return value


def _whole(value: object, *, where: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidStrategy(f"{where} must be a whole number of at least {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidStrategy(f"{where} must be at most {maximum}")
    return value


def _decimal(value: object, *, where: str) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidStrategy(f"{where} must be a number")
    try:
        number = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        raise InvalidStrategy(f"{where} must be a number, got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise InvalidStrategy(f"{where} must be a number of at least 0")
    return number


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


def _list(value: object, *, where: str, allow_empty: bool = False) -> Sequence[object]:
    if not isinstance(value, list) or (not value and not allow_empty):
        raise InvalidStrategy(f"{where} must be a non-empty list")
    return value


def _choices(value: object, enumeration: type[enum.StrEnum], *, where: str) -> frozenset[Any]:
    items = [_choice(item, enumeration, where=where) for item in _list(value, where=where)]
    return frozenset(items)


def _texts(value: object, *, where: str, upper: bool = False) -> frozenset[str]:
    items = _list(value, where=where)
    if not all(isinstance(item, str) and item.strip() for item in items):
        raise InvalidStrategy(f"{where} must be a non-empty list of text values")
    return frozenset(
        item.strip().upper() if upper else item.strip() for item in items if isinstance(item, str)
    )


def _int_range(value: object, *, where: str, maximum: int | None = None) -> IntRange:
    data = _mapping(value, where=where, allowed=frozenset({"min", "max"}))
    if not data:
        raise InvalidStrategy(f"{where}: give min, max or both")
    low = (
        _whole(data["min"], where=f"{where}.min", minimum=0, maximum=maximum)
        if "min" in data
        else None
    )
    high = (
        _whole(data["max"], where=f"{where}.max", minimum=0, maximum=maximum)
        if "max" in data
        else None
    )
    if low is not None and high is not None and low > high:
        raise InvalidStrategy(f"{where}: min ({low}) is above max ({high})")
    return IntRange(min=low, max=high)


def _money_band(value: object, *, where: str) -> MoneyBand:
    data = _mapping(value, where=where, allowed=frozenset({"min", "max"}))
    if not data:
        raise InvalidStrategy(f"{where}: give min, max or both")
    low = _decimal(data["min"], where=f"{where}.min") if "min" in data else None
    high = _decimal(data["max"], where=f"{where}.max") if "max" in data else None
    if low is not None and high is not None and low >= high:
        raise InvalidStrategy(f"{where}: min ({low}) must be below max ({high})")
    return MoneyBand(min=low, max=high)


_CONDITION_KEYS = frozenset(field.name for field in dataclasses.fields(Conditions))


def _conditions(value: object, *, where: str, buckets: arrears.BucketScheme) -> Conditions:
    if value is None:
        return Conditions()
    data = _mapping(value, where=where, allowed=_CONDITION_KEYS)
    found: dict[str, Any] = {}
    for key, item in data.items():
        at = f"{where}.{key}"
        if key == "stages":
            found[key] = _choices(item, arrears.DelinquencyStage, where=at)
        elif key == "buckets":
            labels = _texts(item, where=at)
            known = {bucket.code for bucket in buckets.buckets}
            unknown = sorted(labels - known)
            if unknown:
                raise InvalidStrategy(
                    f"{at}: {unknown[0]!r} is not a bucket (buckets: {', '.join(sorted(known))})"
                )
            found[key] = labels
        elif key == "dpd":
            found[key] = _int_range(item, where=at)
        elif key in ("risk", "collectability"):
            found[key] = _int_range(item, where=at, maximum=SCORE_MAX)
        elif key == "products":
            found[key] = _choices(item, ProductType, where=at)
        elif key == "debtor_types":
            found[key] = _choices(item, DebtorType, where=at)
        elif key in ("currencies", "countries"):
            found[key] = _texts(item, where=at, upper=True)
        elif key in ("balance", "arrears"):
            found[key] = _money_band(item, where=at)
        elif key in ("vulnerable", "dispute_open", "cease_requested", "breathing_space"):
            found[key] = _flag(item, where=at)
        elif key == "preferred_channels":
            allowed = {*(c.value for c in Channel), NO_PREFERENCE}
            channels = _texts(item, where=at)
            unknown = sorted(channels - allowed)
            if unknown:
                raise InvalidStrategy(
                    f"{at}: {unknown[0]!r} is not one of {', '.join(sorted(allowed))}"
                )
            found[key] = channels
        else:  # languages, regions
            found[key] = _texts(item, where=at)
    return Conditions(**found)


def _step(value: object, *, where: str) -> Step:
    data = _mapping(value, where=where, allowed=_STEP_KEYS)
    treatment = _choice(data.get("step"), Treatment, where=f"{where}.step")
    if treatment is Treatment.NONE:
        raise InvalidStrategy(f"{where}.step: NONE is what accounts without a step get")
    if ("days_before_due" in data) == ("from_dpd" in data):
        raise InvalidStrategy(f"{where}: give exactly one of days_before_due and from_dpd")
    before = (
        _whole(data["days_before_due"], where=f"{where}.days_before_due", minimum=0)
        if "days_before_due" in data
        else None
    )
    from_dpd = (
        _whole(data["from_dpd"], where=f"{where}.from_dpd", minimum=1)
        if "from_dpd" in data
        else None
    )
    if treatment is Treatment.PRE_DUE_REMINDER and before is None:
        raise InvalidStrategy(f"{where}: a PRE_DUE_REMINDER starts days_before_due")
    if treatment is not Treatment.PRE_DUE_REMINDER and before is not None:
        raise InvalidStrategy(f"{where}: only a PRE_DUE_REMINDER starts days_before_due")
    if treatment is Treatment.ESCALATION:
        if {"template", "channels", "every_days", "wait_days"} & set(data):
            raise InvalidStrategy(
                f"{where}: an ESCALATION flags the account for agents; it has no template, "
                "channels, every_days or wait_days"
            )
        template = None
        channels: tuple[Channel, ...] = ()
    else:
        template = data.get("template")
        if not isinstance(template, str) or not _TEMPLATE_NAME.match(template):
            raise InvalidStrategy(
                f"{where}.template must be a lower-case name such as late_notice, got {template!r}"
            )
        channels = tuple(
            _choice(channel, Channel, where=f"{where}.channels")
            for channel in _list(data.get("channels"), where=f"{where}.channels")
        )
        if len(set(channels)) != len(channels):
            raise InvalidStrategy(f"{where}.channels: a channel is listed twice")
        if Channel.CALL in channels and channels != (Channel.CALL,):
            raise InvalidStrategy(
                f"{where}.channels: a call task uses exactly [CALL]; written steps use "
                "EMAIL, SMS and LETTER"
            )
        if treatment is Treatment.CALL_TASK and channels != (Channel.CALL,):
            raise InvalidStrategy(f"{where}.channels: a CALL_TASK uses exactly [CALL]")
    return Step(
        treatment=treatment,
        days_before_due=before,
        from_dpd=from_dpd,
        template=template,
        channels=channels,
        every_days=(
            _whole(data.get("every_days"), where=f"{where}.every_days", minimum=1)
            if channels
            else 1
        ),
        wait_days=_whole(data.get("wait_days", 0), where=f"{where}.wait_days", minimum=0),
    )


def _paths(value: object, *, where: str) -> dict[str, TreatmentPath]:
    if not isinstance(value, Mapping) or not value:
        raise InvalidStrategy(f"{where} must map path names to paths")
    paths: dict[str, TreatmentPath] = {}
    for raw_name, raw in value.items():
        name = _name(raw_name, where=f"{where}: path name")
        at = f"{where}.{name}"
        data = _mapping(raw, where=at, allowed=_PATH_KEYS)
        stops = [
            _choice(item, StopCondition, where=f"{at}.stop_when")
            for item in _list(data.get("stop_when", []), where=f"{at}.stop_when", allow_empty=True)
        ]
        if len(set(stops)) != len(stops):
            raise InvalidStrategy(f"{at}.stop_when: a condition is listed twice")
        steps = tuple(
            _step(item, where=f"{at}.steps[{index}]")
            for index, item in enumerate(_list(data.get("steps"), where=f"{at}.steps"))
        )
        _check_order(steps, where=f"{at}.steps")
        paths[name] = TreatmentPath(
            name=name,
            description=_description(data, where=at),
            stop_when=tuple(stops),
            steps=steps,
        )
    return paths


def _check_order(steps: tuple[Step, ...], *, where: str) -> None:
    """Pre-due steps first, by decreasing days_before_due; then increasing from_dpd."""
    seen_past_due = False
    previous_before: int | None = None
    previous_dpd: int | None = None
    for index, step in enumerate(steps):
        if step.days_before_due is not None:
            if seen_past_due:
                raise InvalidStrategy(
                    f"{where}[{index}]: pre-due steps come before the past-due ones"
                )
            if previous_before is not None and step.days_before_due >= previous_before:
                raise InvalidStrategy(
                    f"{where}[{index}]: days_before_due must decrease from step to step"
                )
            previous_before = step.days_before_due
        else:
            seen_past_due = True
            assert step.from_dpd is not None
            if previous_dpd is not None and step.from_dpd <= previous_dpd:
                raise InvalidStrategy(f"{where}[{index}]: from_dpd must increase from step to step")
            previous_dpd = step.from_dpd


def _path_ref(value: object, *, where: str, paths: Mapping[str, TreatmentPath]) -> str:
    if not isinstance(value, str) or value not in paths:
        known = ", ".join(sorted(paths))
        raise InvalidStrategy(f"{where}: {value!r} is not a path (paths: {known})")
    return value


def _guardrails(value: object, *, where: str) -> Guardrails:
    if value is None:
        return Guardrails()
    data = _mapping(value, where=where, allowed=_GUARDRAIL_KEYS)
    found: dict[str, Any] = {}
    for key, item in data.items():
        if key == "min_accounts":
            found[key] = _whole(item, where=f"{where}.{key}", minimum=1)
        else:
            found[key] = _decimal(item, where=f"{where}.{key}")
    return Guardrails(**found)


def _experiment(
    value: object, *, where: str, segment_path: str, paths: Mapping[str, TreatmentPath]
) -> Experiment:
    data = _mapping(value, where=where, allowed=_EXPERIMENT_KEYS)
    name = _name(data.get("name"), where=f"{where}.name", pattern=_EXPERIMENT_NAME)
    raw_arms = _list(data.get("arms"), where=f"{where}.arms")
    if len(raw_arms) < 2:
        raise InvalidStrategy(
            f"{where}.arms: an experiment has a champion and at least one challenger"
        )
    arms: list[Arm] = []
    for index, raw in enumerate(raw_arms):
        at = f"{where}.arms[{index}]"
        arm = _mapping(raw, where=at, allowed=_ARM_KEYS)
        arm_name = _name(arm.get("name"), where=f"{at}.name")
        percent = _whole(arm.get("percent"), where=f"{at}.percent", minimum=1, maximum=99)
        if index == 0:
            if arm.get("path", segment_path) != segment_path:
                raise InvalidStrategy(
                    f"{at}.path: the first arm is the champion and follows the segment's path "
                    f"({segment_path})"
                )
            path = segment_path
        else:
            path = _path_ref(arm.get("path"), where=f"{at}.path", paths=paths)
        arms.append(Arm(name=arm_name, percent=percent, path=path))
    names = [arm.name for arm in arms]
    if len(set(names)) != len(names):
        raise InvalidStrategy(f"{where}.arms: two arms have the same name")
    total = sum(arm.percent for arm in arms)
    if total != 100:
        raise InvalidStrategy(f"{where}.arms: the percentages add up to {total}, not 100")
    return Experiment(
        name=name,
        arms=tuple(arms),
        guardrails=_guardrails(data.get("guardrails"), where=f"{where}.guardrails"),
    )


def _segments(
    value: object,
    *,
    where: str,
    paths: Mapping[str, TreatmentPath],
    buckets: arrears.BucketScheme,
) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    for index, raw in enumerate(_list(value, where=where)):
        at = f"{where}[{index}]"
        data = _mapping(raw, where=at, allowed=_SEGMENT_KEYS)
        name = _name(data.get("name"), where=f"{at}.name")
        path = _path_ref(data.get("path"), where=f"{at}.path", paths=paths)
        experiment = (
            _experiment(
                data["experiment"], where=f"{at}.experiment", segment_path=path, paths=paths
            )
            if data.get("experiment") is not None
            else None
        )
        segments.append(
            Segment(
                name=name,
                description=_description(data, where=at),
                when=_conditions(data.get("when"), where=f"{at}.when", buckets=buckets),
                path=path,
                experiment=experiment,
            )
        )
    names = [segment.name for segment in segments]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidStrategy(f"{where}: two segments are named {duplicates[0]!r}")
    experiments = [s.experiment.name for s in segments if s.experiment is not None]
    repeated = sorted({n for n in experiments if experiments.count(n) > 1})
    if repeated:
        raise InvalidStrategy(f"{where}: two segments run the experiment {repeated[0]!r}")
    return tuple(segments)
