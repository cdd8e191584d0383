"""Decide today's treatment for every account at once: frames in, decisions and outbox rows out.

The decision is one Ibis expression over the Arrow inputs, executed by the backend the run
chose (:mod:`~accord.strategy.backends`: DuckDB by default, PostgreSQL or Spark), never a
loop per account:

1. :mod:`~accord.strategy.delinquency` gives each account its days past due, arrears,
   balance, bucket and stage; :mod:`~accord.strategy.scores` its risk and collectability.
2. The first segment whose conditions hold takes the account; a segment running an
   experiment splits its accounts into arms by a stable hash (:func:`arm_bucket_expression`);
   a paused arm follows the champion's path.
3. Closed accounts and accounts held by one of the path's stop conditions get ``NONE``;
   the others get the path's step for today (:meth:`definition.TreatmentPath.step_for`,
   turned into a small lookup table joined on (path, day key)), its channel, and wait when
   the step's template (``every_days``) or any contact (``wait_days``) was recent.

What the engines would do differently never reaches them: dates enter as day numbers,
timestamps as UTC day numbers, and reason codes are put in lists afterwards, locally.
Accounts that want a contact then go through the vectorised contact policy
(:func:`accord.strategy.contact_filter.prefilter`) locally; allowed and time-deferred ones
become outbox rows, blocked ones only add the policy's reasons to the decision.

Every decision carries stable UPPER_CASE reason codes (docs/strategy.md) in a fixed order.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import functools
import operator
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis.expr import types as ir

from accord.domain import money
from accord.domain.arrears import DelinquencyStage
from accord.strategy import backends, contact_filter, definition, delinquency, scores
from accord.strategy.definition import (
    AccountStatus,
    Channel,
    ContactPointKind,
    ReasonCode,
    ReasonPrefix,
    StopCondition,
)

Prefilter = Callable[..., pa.Table]

# What the counts call a decision without a channel.
NO_CHANNEL = definition.Treatment.NONE.value
# Contact history older than this (plus the longest cadence) cannot matter to a run.
HISTORY_DAYS = 8
# A step lists at most the three written channels (or CALL alone).
MAX_CHANNELS = len(definition.WRITTEN_CHANNELS)


class Direction(enum.StrEnum):
    """Name a contact's direction (``storage.models.ContactDirection``)."""

    OUTBOUND = "OUTBOUND"
    INBOUND = "INBOUND"


# --- Inputs: the Arrow extract a run decides on --------------------------------------------

ACCOUNTS_SCHEMA = pa.schema([*delinquency.ACCOUNTS_SCHEMA, ("product_type", pa.string())])
CHARGES_SCHEMA = delinquency.CHARGES_SCHEMA
# The payments received on or before the as-of date.
PAYMENTS_SCHEMA = delinquency.PAYMENTS_SCHEMA
# ``preferred_channel``, ``region``: "" when none; ``country``: ISO 3166 alpha-2.
CUSTOMERS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("language", pa.string()),
        ("preferred_channel", pa.string()),
        ("time_zones", pa.list_(pa.string())),
        ("contact_hours_start", pa.string()),
        ("contact_hours_end", pa.string()),
        ("has_address", pa.bool_()),
        ("debtor_type", pa.string()),
        ("region", pa.string()),
        ("country", pa.string()),
    ]
)
CONTACT_POINTS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("kind", pa.string()),
        ("value", pa.string()),
        ("position", pa.int64()),
    ]
)
OPT_OUTS_SCHEMA = pa.schema([("customer_id", pa.int64()), ("channel", pa.string())])
# Customers with a cease request not withdrawn.
CEASE_SCHEMA = pa.schema([("customer_id", pa.int64())])
# Accounts with an open dispute not yet verified (the contact policy's Reg F rule).
DISPUTES_SCHEMA = pa.schema([("account_id", pa.int64())])
# Accounts with any open dispute (resolved_at null): the DISPUTE_OPEN stop and condition.
OPEN_DISPUTES_SCHEMA = pa.schema([("account_id", pa.int64())])
# Customers with an unresolved vulnerability.
VULNERABLE_SCHEMA = pa.schema([("customer_id", pa.int64())])
# Customers with a breathing space in force on the as-of date.
BREATHING_SPACES_SCHEMA = pa.schema([("customer_id", pa.int64())])
# Experiment arms paused by a guardrail or a manager (resumed_at null).
PAUSED_ARMS_SCHEMA = pa.schema([("experiment", pa.string()), ("arm", pa.string())])
HOLDS_SCHEMA = pa.schema([("account_id", pa.int64()), ("hold", pa.string())])
DECIDED_SCHEMA = pa.schema([("account_id", pa.int64())])
# ``account_id`` is null for a contact about no particular account (a customer-level call).
HISTORY_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("template", pa.string()),
        ("channel", pa.string()),
        ("status", pa.string()),
        ("direction", pa.string()),
        ("connected", pa.bool_()),
        ("planned_at", pa.timestamp("us", tz="UTC")),
        ("sent_at", pa.timestamp("us", tz="UTC")),
    ]
)

# --- Outputs ------------------------------------------------------------------------------

DECISION_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("currency", pa.string()),
        ("days_past_due", pa.int64()),
        ("bucket", pa.string()),
        ("stage", pa.string()),
        ("arrears_minor", pa.int64()),
        ("balance_minor", pa.int64()),
        ("treatment", pa.string()),
        ("channel", pa.string()),
        ("reason_codes", pa.list_(pa.string())),
        # "" when not applicable.
        ("segment", pa.string()),
        ("path", pa.string()),
        ("experiment", pa.string()),
        ("arm", pa.string()),
        ("risk_score", pa.int64()),
        ("collectability_score", pa.int64()),
    ]
)
OUTBOX_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("channel", pa.string()),
        ("template", pa.string()),
        ("language", pa.string()),
        ("destination", pa.string()),
        ("planned_at", pa.timestamp("us", tz="UTC")),
        ("idempotency_key", pa.string()),
        ("policy_reasons", pa.list_(pa.string())),
    ]
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Inputs:
    """Hold the Arrow extract of the database a run decides on (schemas above)."""

    accounts: pa.Table  # ACCOUNTS_SCHEMA
    charges: pa.Table  # CHARGES_SCHEMA
    payments: pa.Table  # PAYMENTS_SCHEMA: received on or before the as-of date
    customers: pa.Table  # CUSTOMERS_SCHEMA
    contact_points: pa.Table  # CONTACT_POINTS_SCHEMA
    opt_outs: pa.Table  # OPT_OUTS_SCHEMA
    cease_requests: pa.Table  # CEASE_SCHEMA
    unverified_disputes: pa.Table  # DISPUTES_SCHEMA
    open_disputes: pa.Table  # OPEN_DISPUTES_SCHEMA
    vulnerable_customers: pa.Table  # VULNERABLE_SCHEMA
    breathing_spaces: pa.Table  # BREATHING_SPACES_SCHEMA: in force on the as-of date
    paused_arms: pa.Table  # PAUSED_ARMS_SCHEMA
    holds: pa.Table  # HOLDS_SCHEMA (see holds())
    history: pa.Table  # HISTORY_SCHEMA: contacts since before the longest wait
    decided: pa.Table  # DECIDED_SCHEMA: accounts already decided for the as-of date


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outcome:
    """Hold a run's result: one decision per account not yet decided, and the outbox rows.

    ``counts`` tallies decisions by ``treatment``, ``stage``, ``bucket``, ``channel``
    (``NONE`` for none), ``segment`` ("" for none) and ``arm`` (``experiment/arm``, only
    decisions in an experiment).
    """

    decisions: pa.Table
    outbox: pa.Table
    contacts_blocked: int
    counts: dict[str, dict[str, int]]


def idempotency_prefix(as_of: datetime.date) -> str:
    """Return how every outbox key of a run as of ``as_of`` starts (``strategy:<as-of>:``)."""
    return f"strategy:{as_of.isoformat()}:"


def holds(
    *,
    promise_accounts: pa.Array | pa.ChunkedArray,
    plan_accounts: pa.Array | pa.ChunkedArray,
) -> pa.Table:
    """Return the ``HOLDS_SCHEMA`` rows for accounts with an open promise or an active plan."""
    parts = [
        pa.table(
            {"account_id": accounts, "hold": pa.repeat(pa.scalar(code.value), len(accounts))}
        ).cast(HOLDS_SCHEMA)
        for accounts, code in (
            (promise_accounts, StopCondition.PROMISE_OPEN),
            (plan_accounts, StopCondition.PLAN_ACTIVE),
        )
    ]
    return pa.concat_tables(parts)


# --- The arm hash --------------------------------------------------------------------------


def _int(value: int) -> ir.IntegerValue:
    return ibis.literal(value, type="int64")


def arm_bucket_expression(account_id: ir.IntegerValue, experiment: str) -> ir.IntegerValue:
    """Return :func:`definition.arm_bucket` of each row's account as an Ibis expression.

    Every operand is a 64-bit integer below ``2**63`` and non-negative, so ``%`` and ``*``
    mean the same on every engine.
    """
    p = definition.hash_parameters(experiment)
    prime = _int(definition.HASH_PRIME)
    x = ((account_id.cast("int64") % prime) * _int(p.a1) + _int(p.b1)) % prime
    y = (((x * x) % prime) * _int(p.a2) + _int(p.b2)) % prime
    return (y % _int(100)).cast("int64")


# --- The small tables the strategy becomes --------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Plan:
    """Hold the strategy as small tables the account rows join against."""

    routes: pa.Table  # (segment_id, bucket) -> segment, experiment, arm, paths, stops
    steps: pa.Table  # (path_id, day_key) -> the step's attributes
    stop_slots: int  # the most stop conditions any path has
    past_due_cap: int  # day keys above it are the same as it
    pre_due_cap: int  # days until due above it have no pre-due step


def _plan(strategy: definition.Strategy) -> _Plan:
    path_ids = {name: index for index, name in enumerate(strategy.paths)}
    stop_slots = max((len(p.stop_when) for p in strategy.paths.values()), default=0)
    route_rows: list[dict[str, Any]] = []
    for segment_id, segment in enumerate(strategy.segments):
        arms = (
            [(arm, bucket) for bucket in range(100) for arm in [segment.experiment.arm_for(bucket)]]
            if segment.experiment is not None
            else [(None, -1)]
        )
        for arm, bucket in arms:
            route_rows.append(
                {
                    "segment_id": segment_id,
                    "hash_bucket": bucket,
                    "segment": segment.name,
                    "experiment": segment.experiment.name if segment.experiment else "",
                    "arm": arm.name if arm is not None else "",
                    "arm_path_id": path_ids[arm.path if arm is not None else segment.path],
                    "champion_path_id": path_ids[segment.path],
                }
            )
    routes = pa.Table.from_pylist(route_rows, schema=_ROUTES_SCHEMA)

    past_due_cap = max(
        (s.from_dpd for p in strategy.paths.values() for s in p.past_due_steps if s.from_dpd),
        default=1,
    )
    pre_due_cap = (
        max(
            (
                s.days_before_due
                for p in strategy.paths.values()
                for s in p.pre_due_steps
                if s.days_before_due is not None
            ),
            default=-1,
        )
        + 1
    )
    step_rows: list[dict[str, Any]] = []
    for name, path in strategy.paths.items():
        # The step rule itself decides every key: past due (key = dpd, capped) and pre-due
        # (key = -days until due, capped); the engines only look the answer up.
        keys: list[tuple[int, int, int | None]] = [
            (dpd, dpd, None) for dpd in range(1, past_due_cap + 1)
        ]
        keys += [(-until, 0, until) for until in range(pre_due_cap + 1)]
        for key, dpd, until in keys:
            step = path.step_for(days_past_due=dpd, days_until_next_due=until)
            if step is None:
                continue
            channels = [c.value for c in step.channels] + [None] * MAX_CHANNELS
            step_rows.append(
                {
                    "path_id": path_ids[name],
                    "day_key": key,
                    "step_treatment": step.treatment.value,
                    "step_template": step.template,
                    "every_days": step.every_days,
                    "wait_days": step.wait_days,
                    "step_contacts": step.contacts,
                    **{f"ch_{i}": channels[i] for i in range(MAX_CHANNELS)},
                }
            )
    steps = pa.Table.from_pylist(step_rows, schema=_STEPS_SCHEMA)
    return _Plan(
        routes=routes,
        steps=steps,
        stop_slots=stop_slots,
        past_due_cap=past_due_cap,
        pre_due_cap=pre_due_cap,
    )


_ROUTES_SCHEMA = pa.schema(
    [
        ("segment_id", pa.int64()),
        ("hash_bucket", pa.int64()),
        ("segment", pa.string()),
        ("experiment", pa.string()),
        ("arm", pa.string()),
        ("arm_path_id", pa.int64()),
        ("champion_path_id", pa.int64()),
    ]
)
_STEPS_SCHEMA = pa.schema(
    [
        ("path_id", pa.int64()),
        ("day_key", pa.int64()),
        ("step_treatment", pa.string()),
        ("step_template", pa.string()),
        ("every_days", pa.int64()),
        ("wait_days", pa.int64()),
        ("step_contacts", pa.bool_()),
        *[(f"ch_{i}", pa.string()) for i in range(MAX_CHANNELS)],
    ]
)


def _paths_table(strategy: definition.Strategy, stop_slots: int) -> pa.Table:
    rows = []
    for index, (name, path) in enumerate(strategy.paths.items()):
        stops = [s.value for s in path.stop_when] + [None] * stop_slots
        rows.append(
            {"path_id": index, "path": name, **{f"stop_{k}": stops[k] for k in range(stop_slots)}}
        )
    schema = pa.schema(
        [
            ("path_id", pa.int64()),
            ("path", pa.string()),
            *[(f"stop_{k}", pa.string()) for k in range(stop_slots)],
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


# --- Facts about customers and accounts -----------------------------------------------------

_CUSTOMER_FACTS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("language", pa.string()),
        ("preferred_channel", pa.string()),
        ("has_address", pa.bool_()),
        ("debtor_type", pa.string()),
        ("region", pa.string()),
        ("country", pa.string()),
    ]
)
_MARKS_SCHEMA = pa.schema([("customer_id", pa.int64()), ("mark", pa.string())])
_ACCOUNT_MARKS_SCHEMA = pa.schema([("account_id", pa.int64()), ("mark", pa.string())])


class _Mark(enum.StrEnum):
    """Name a fact a customer or an account has (one mark row per fact)."""

    HAS_EMAIL = "HAS_EMAIL"
    HAS_PHONE = "HAS_PHONE"
    CEASE = "CEASE"
    VULNERABLE = "VULNERABLE"
    BREATHING_SPACE = "BREATHING_SPACE"
    DISPUTE_OPEN = "DISPUTE_OPEN"
    PROMISE_OPEN = "PROMISE_OPEN"
    PLAN_ACTIVE = "PLAN_ACTIVE"


def _opted(channel: Channel) -> str:
    return f"OPTED_{channel.value}"


def _cast(data: pa.Table, schema: pa.Schema) -> pa.Table:
    return data.select(schema.names).cast(schema)


def _in(name: str, data: Mapping[str, pa.Table]) -> ir.Table:
    """Return the input table ``name`` of a query over ``data`` (its schema; no rows)."""
    return backends.input_table(name, data[name].schema)


def _customer_marks(inputs: Inputs) -> pa.Table:
    """Return one (customer, mark) row per fact: contact points, opt-outs, cease, and more."""
    points = inputs.contact_points
    kinds = [ContactPointKind.EMAIL.value, ContactPointKind.PHONE.value]
    points = points.filter(pc.is_in(points["kind"], pa.array(kinds)))
    parts = [
        pa.table(
            {
                "customer_id": points["customer_id"],
                "mark": pc.binary_join_element_wise("HAS_", points["kind"], ""),
            }
        )
    ]
    opt = inputs.opt_outs
    parts.append(
        pa.table(
            {
                "customer_id": opt["customer_id"],
                "mark": pc.binary_join_element_wise("OPTED_", opt["channel"], ""),
            }
        )
    )
    for table, mark in (
        (inputs.cease_requests, _Mark.CEASE),
        (inputs.vulnerable_customers, _Mark.VULNERABLE),
        (inputs.breathing_spaces, _Mark.BREATHING_SPACE),
    ):
        parts.append(_marked(table, "customer_id", mark))
    return pa.concat_tables([part.cast(_MARKS_SCHEMA) for part in parts])


def _marked(table: pa.Table, key: str, mark: _Mark) -> pa.Table:
    return pa.table({key: table[key], "mark": pa.repeat(pa.scalar(mark.value), table.num_rows)})


def _account_marks(inputs: Inputs) -> pa.Table:
    holds = inputs.holds
    return pa.concat_tables(
        [
            pa.table({"account_id": holds["account_id"], "mark": holds["hold"]}).cast(
                _ACCOUNT_MARKS_SCHEMA
            ),
            _marked(inputs.open_disputes, "account_id", _Mark.DISPUTE_OPEN).cast(
                _ACCOUNT_MARKS_SCHEMA
            ),
        ]
    )


def _flags(marks: ir.Table, key: str, names: Sequence[str]) -> ir.Table:
    """Return one row per ``key`` with a 0/1 column ``mark_<name>`` per mark name.

    A max of whole numbers, which every engine has (boolean aggregates differ).
    """
    return marks.group_by(key).aggregate(
        **{f"mark_{name}": ibis.ifelse(marks.mark == name, 1, 0).max() for name in names}
    )


# --- Segment conditions ---------------------------------------------------------------------


def _minor_threshold(amount: decimal.Decimal, currency: str) -> int:
    """Return ``ceil(amount * 10**minor_units(currency))``: the band edge in minor units."""
    scaled = amount.scaleb(money.minor_units(currency))
    return int(scaled.to_integral_value(rounding=decimal.ROUND_CEILING))


def _band(
    row: ir.Table, column: str, band: definition.MoneyBand, currencies: Sequence[str]
) -> ir.BooleanValue:
    """Return ``min <= amount < max`` with each edge in the account currency's minor units."""
    value = row[column]
    known = [c for c in currencies if money.is_known_currency(c)]
    parts: list[ir.BooleanValue] = []
    for edge, below in ((band.min, False), (band.max, True)):
        if edge is None:
            continue
        threshold = ibis.cases(
            *[(row.currency == c, _int(_minor_threshold(edge, c))) for c in known],
            else_=ibis.null("int64"),
        )
        parts.append(value < threshold if below else value >= threshold)
    return functools.reduce(operator.and_, parts)


def _range(value: ir.IntegerValue, bounds: definition.IntRange) -> ir.BooleanValue:
    parts: list[ir.BooleanValue] = []
    if bounds.min is not None:
        parts.append(value >= bounds.min)
    if bounds.max is not None:
        parts.append(value <= bounds.max)
    return functools.reduce(operator.and_, parts)


def _condition(name: str, value: Any, row: ir.Table, currencies: Sequence[str]) -> ir.BooleanValue:
    """Return one segment condition (definition.Conditions field ``name``) for each row."""
    text_columns = {
        "stages": "stage",
        "buckets": "bucket",
        "products": "product_type",
        "debtor_types": "debtor_type",
        "currencies": "currency",
        "languages": "language",
        "regions": "region",
        "countries": "country",
    }
    flags = {
        "vulnerable": "vulnerable",
        "dispute_open": "dispute_open",
        "cease_requested": "cease_requested",
        "breathing_space": "breathing_space",
    }
    if name in text_columns:
        return row[text_columns[name]].isin(sorted(str(item) for item in value))
    if name in flags:
        return row[flags[name]] == ibis.literal(bool(value))
    if name == "dpd":
        return _range(row.days_past_due, value)
    if name == "risk":
        return _range(row.risk_score, value)
    if name == "collectability":
        return _range(row.collectability_score, value)
    if name in ("balance", "arrears"):
        return _band(row, f"{name}_minor", value, currencies)
    if name == "preferred_channels":
        stated = row.preferred_channel.fill_null("")
        preferred = ibis.ifelse(stated == "", definition.NO_PREFERENCE, stated)
        return preferred.isin(sorted(value))
    raise ValueError(f"unknown segment condition {name!r}")


def _segment_id(
    strategy: definition.Strategy, row: ir.Table, currencies: Sequence[str]
) -> ir.IntegerValue:
    """Return the index of the first segment whose conditions all hold (null for none)."""
    cases: list[tuple[ir.BooleanValue, ir.IntegerValue]] = []
    for index, segment in enumerate(strategy.segments):
        given = segment.when.given
        if not given:
            cases.append((ibis.literal(True), _int(index)))
            break
        holds = functools.reduce(
            operator.and_,
            [_condition(name, value, row, currencies) for name, value in given.items()],
        )
        cases.append((holds.fill_null(False), _int(index)))
    if not cases:
        return ibis.null("int64")
    return ibis.cases(*cases, else_=ibis.null("int64"))


# --- Channel choice -------------------------------------------------------------------------


def _channel_choice(row: ir.Table) -> ir.StringValue:
    """Return the step's channel for each row: preferred if usable, else the step's order.

    A channel is usable when the customer has a contact point for it and has not opted out
    of it. When none is usable the first one the customer can be reached on is chosen, so
    that the contact policy records the opt-out as the reason nothing is sent.
    """
    reach = {
        Channel.EMAIL: row.has_email,
        Channel.SMS: row.has_phone,
        Channel.CALL: row.has_phone,
        Channel.LETTER: row.has_address,
    }

    def usable(channel: ir.StringValue) -> ir.BooleanValue:
        return ibis.cases(
            *[(channel == c.value, reach[c] & ~row[_opted(c)]) for c in Channel], else_=False
        )

    def reachable(channel: ir.StringValue) -> ir.BooleanValue:
        return ibis.cases(*[(channel == c.value, reach[c]) for c in Channel], else_=False)

    slots = [row[f"ch_{i}"] for i in range(MAX_CHANNELS)]
    preferred = row.preferred_channel
    offered = functools.reduce(
        operator.or_, [(slot == preferred).fill_null(False) for slot in slots]
    )
    cases: list[tuple[ir.BooleanValue, ir.StringValue]] = [(offered & usable(preferred), preferred)]
    cases += [(usable(slot), slot) for slot in slots]
    cases += [(reachable(slot), slot) for slot in slots]
    return ibis.cases(*cases, else_=ibis.null("string"))


# --- The decision expression ----------------------------------------------------------------


def _history_days(history: pa.Table) -> pa.Table:
    """Return the history with ``day``: the UTC day number of coalesce(sent_at, planned_at)."""
    at = pc.coalesce(history["sent_at"], history["planned_at"])
    day = at.cast(pa.timestamp("us")).cast(pa.date32()).cast(pa.int32()).cast(pa.int64())
    return pa.table(
        {
            "account_id": history["account_id"],
            "template": history["template"],
            "status": history["status"],
            "direction": history["direction"],
            "day": day,
        }
    )


_HISTORY_DAYS_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("template", pa.string()),
        ("status", pa.string()),
        ("direction", pa.string()),
        ("day", pa.int64()),
    ]
)


def decision_data(*, inputs: Inputs, strategy: definition.Strategy) -> dict[str, pa.Table]:
    """Return the Arrow tables :func:`decision_expression` reads, by input name."""
    plan = _plan(strategy)
    return {
        "accounts": _cast(inputs.accounts, ACCOUNTS_SCHEMA),
        "charges": delinquency.charge_days(inputs.charges),
        "payments": delinquency.payment_days(inputs.payments),
        "decided": _cast(inputs.decided, DECIDED_SCHEMA),
        "customer_marks": _cast(_customer_marks(inputs), _MARKS_SCHEMA),
        "customers": _cast(inputs.customers, _CUSTOMER_FACTS_SCHEMA),
        "account_marks": _cast(_account_marks(inputs), _ACCOUNT_MARKS_SCHEMA),
        "routes": _cast(plan.routes, _ROUTES_SCHEMA),
        "paused_arms": _cast(inputs.paused_arms, PAUSED_ARMS_SCHEMA),
        "paths": _paths_table(strategy, plan.stop_slots),
        "steps": _cast(plan.steps, _STEPS_SCHEMA),
        "history": _cast(_history_days(inputs.history), _HISTORY_DAYS_SCHEMA),
    }


def decision_expression(
    *,
    data: Mapping[str, pa.Table],
    strategy: definition.Strategy,
    as_of: datetime.date,
) -> ir.Table:
    """Return the decision of every account not yet decided, as one unexecuted expression.

    Its tables are the inputs of :func:`decision_data` (``data`` gives their schemas and the
    accounts' currencies, no more), so one expression serves every range of a run; execute
    it with :func:`accord.strategy.backends.execute`. The columns are those of
    ``DECISION_SCHEMA`` but ``reason_codes``, plus what the contact step and the reason
    codes need (``_wide_schema``).
    """
    currencies = _currencies(data["accounts"])
    key = ("decision", id(strategy), as_of, currencies, _schemas(data))
    return _expression(
        key,
        strategy,
        lambda: _decision_expression(data=data, strategy=strategy, as_of=as_of),
    )


def _currencies(accounts: pa.Table) -> tuple[str, ...]:
    return tuple(sorted(str(c) for c in pc.unique(accounts["currency"]).to_pylist() if c))


def _schemas(data: Mapping[str, pa.Table]) -> tuple[tuple[str, pa.Schema], ...]:
    return tuple(sorted((name, table.schema) for name, table in data.items()))


# Expressions kept for reuse: a run decides range after range with the same strategy.
_EXPRESSIONS_KEPT = 8
_expressions: collections.OrderedDict[Hashable, tuple[Any, ir.Table]] = collections.OrderedDict()
_expressions_lock = threading.Lock()


def _expression(key: Hashable, pinned: Any, build: Callable[[], ir.Table]) -> ir.Table:
    """Return the expression kept under ``key``, built by ``build`` the first time.

    ``pinned`` (the strategy whose ``id`` is in the key) is kept with the expression, so
    that its ``id`` cannot be reused by another object while the key is in use.
    """
    with _expressions_lock:
        kept = _expressions.get(key)
        if kept is not None:
            _expressions.move_to_end(key)
            return kept[1]
    expression = build()
    with _expressions_lock:
        _expressions[key] = (pinned, expression)
        while len(_expressions) > _EXPRESSIONS_KEPT:
            _expressions.popitem(last=False)
    return expression


def _decision_expression(
    *, data: Mapping[str, pa.Table], strategy: definition.Strategy, as_of: datetime.date
) -> ir.Table:
    plan = _plan(strategy)
    day = _int(delinquency.day_number(as_of))
    accounts = _in("accounts", data)
    state = delinquency.states(
        account=accounts,
        charges=_in("charges", data),
        payments=_in("payments", data),
        as_of=as_of,
        thresholds=strategy.thresholds,
        buckets=strategy.buckets,
        payment_window_days=scores.PAYMENT_WINDOW_DAYS,
    ).anti_join(_in("decided", data), "account_id")

    customer_marks = [m.value for m in (_Mark.HAS_EMAIL, _Mark.HAS_PHONE, _Mark.CEASE)]
    customer_marks += [_Mark.VULNERABLE.value, _Mark.BREATHING_SPACE.value]
    customer_marks += [_opted(c) for c in Channel]
    customer_flags = _flags(_in("customer_marks", data), "customer_id", customer_marks)
    customers = _in("customers", data)
    customers = customers.left_join(customer_flags, "customer_id").drop("customer_id_right")
    account_marks = [_Mark.DISPUTE_OPEN.value, _Mark.PROMISE_OPEN.value, _Mark.PLAN_ACTIVE.value]
    account_flags = _flags(_in("account_marks", data), "account_id", account_marks)

    row = state.left_join(customers, "customer_id").drop("customer_id_right")
    row = row.left_join(account_flags, "account_id").drop("account_id_right")
    present = {
        name: row[f"mark_{name}"].fill_null(0) == 1 for name in (*customer_marks, *account_marks)
    }
    row = row.mutate(
        has_email=present[_Mark.HAS_EMAIL],
        has_phone=present[_Mark.HAS_PHONE],
        has_address=row.has_address.fill_null(False),
        cease_requested=present[_Mark.CEASE],
        vulnerable=present[_Mark.VULNERABLE],
        breathing_space=present[_Mark.BREATHING_SPACE],
        dispute_open=present[_Mark.DISPUTE_OPEN],
        promise_open=present[_Mark.PROMISE_OPEN],
        plan_active=present[_Mark.PLAN_ACTIVE],
        **{_opted(c): present[_opted(c)] for c in Channel},
    )
    row = row.mutate(
        risk_score=scores.risk_expression(
            days_past_due=row.days_past_due,
            arrears_minor=row.arrears_minor,
            balance_minor=row.balance_minor,
            paid_minor=row.paid_window_minor,
        ),
        collectability_score=scores.collectability_expression(
            days_past_due=row.days_past_due,
            arrears_minor=row.arrears_minor,
            paid_minor=row.paid_window_minor,
            has_email=row.has_email,
            has_phone=row.has_phone,
            has_address=row.has_address,
        ),
    )
    currencies = list(_currencies(data["accounts"]))
    row = row.mutate(segment_id=_segment_id(strategy, row, currencies))
    experiments = [
        (index, s.experiment.name)
        for index, s in enumerate(strategy.segments)
        if s.experiment is not None
    ]
    row = row.mutate(
        bucket_key=ibis.cases(
            *[
                (row.segment_id == index, arm_bucket_expression(row.account_id, name))
                for index, name in experiments
            ],
            else_=_int(-1),
        )
        if experiments
        else _int(-1)
    )

    # Routes: (segment, hash bucket) -> arm and path; a paused arm follows the champion.
    routes = _in("routes", data)
    paused = _in("paused_arms", data).distinct().mutate(arm_paused=True)
    routes = routes.left_join(
        paused, [routes.experiment == paused.experiment, routes.arm == paused.arm]
    ).select(
        routes.segment_id,
        routes.hash_bucket,
        routes.segment,
        routes.experiment,
        routes.arm,
        routes.champion_path_id,
        routes.arm_path_id,
        arm_paused=paused.arm_paused.fill_null(False),
    )
    routes = routes.mutate(
        path_id=ibis.ifelse(routes.arm_paused, routes.champion_path_id, routes.arm_path_id)
    ).drop("champion_path_id", "arm_path_id")
    paths = _in("paths", data)
    routes = routes.left_join(paths, "path_id").drop("path_id_right")
    row = row.left_join(
        routes, [row.segment_id == routes.segment_id, row.bucket_key == routes.hash_bucket]
    ).drop("segment_id_right", "hash_bucket")

    # The step: a lookup on (path, day key), the key summarising days past due / until due.
    day_key = ibis.cases(
        (row.days_past_due >= 1, ibis.least(row.days_past_due, _int(plan.past_due_cap))),
        (
            row.days_until_next_due.notnull(),
            _int(0) - ibis.least(row.days_until_next_due, _int(plan.pre_due_cap)),
        ),
        else_=ibis.null("int64"),
    )
    row = row.mutate(day_key=day_key)
    steps = _in("steps", data)
    row = row.left_join(steps, [row.path_id == steps.path_id, row.day_key == steps.day_key]).drop(
        "path_id_right", "day_key_right"
    )

    # The waits: the latest contact with the step's template, and the latest of any kind.
    history = _in("history", data)
    counted = history.filter(
        history.status.isin([s.value for s in definition.CADENCE_STATUSES])
        & history.account_id.notnull()
    )
    by_template = counted.group_by(["account_id", "template"]).aggregate(
        template_day=counted.day.max()
    )
    outbound = counted.filter(counted.direction == Direction.OUTBOUND.value)
    by_account = outbound.group_by("account_id").aggregate(contact_day=outbound.day.max())
    row = row.left_join(
        by_template,
        [row.account_id == by_template.account_id, row.step_template == by_template.template],
    ).drop("account_id_right", "template")
    row = row.left_join(by_account, "account_id").drop("account_id_right")

    is_open = row.status == AccountStatus.OPEN.value
    stop_flags = {
        StopCondition.PAYMENT_RECEIVED: row.last_payment_day.notnull()
        & ((day - row.last_payment_day) < strategy.recent_payment_days),
        StopCondition.PROMISE_OPEN: row.promise_open,
        StopCondition.PLAN_ACTIVE: row.plan_active,
        StopCondition.DISPUTE_OPEN: row.dispute_open,
        StopCondition.BREATHING_SPACE: row.breathing_space,
        StopCondition.CEASE_REQUESTED: row.cease_requested,
        StopCondition.VULNERABLE: row.vulnerable,
    }
    stop_codes = {}
    for k in range(plan.stop_slots):
        slot = row[f"stop_{k}"]
        hit = ibis.cases(*[(slot == c.value, flag) for c, flag in stop_flags.items()], else_=False)
        stop_codes[f"stop_{k}"] = ibis.ifelse(is_open & hit, slot, ibis.null("string"))
    row = row.mutate(**stop_codes)
    held = functools.reduce(
        operator.or_, [row[name].notnull() for name in stop_codes], ibis.literal(False)
    )
    has_path = row.path_id.notnull()
    stepping = is_open & has_path & ~held
    treated = stepping & row.step_treatment.notnull()
    contacts = treated & row.step_contacts.fill_null(False)
    row = row.mutate(
        treated=treated,
        contacts=contacts,
        no_segment=row.segment_id.isnull(),
        no_step=stepping & row.step_treatment.isnull(),
        channel=ibis.ifelse(contacts, _channel_choice(row), ibis.null("string")),
    )
    row = row.mutate(
        treatment=ibis.ifelse(row.treated, row.step_treatment, definition.Treatment.NONE.value),
        template=ibis.ifelse(row.contacts, row.step_template, ibis.null("string")),
        step_wait=row.contacts
        & row.contact_day.notnull()
        & ((day - row.contact_day) < row.wait_days),
        cadence_wait=row.contacts
        & row.template_day.notnull()
        & ((day - row.template_day) < row.every_days),
        no_contact_point=row.contacts & row.channel.isnull(),
    )
    row = row.mutate(
        wants_contact=row.contacts & ~row.step_wait & ~row.cadence_wait & row.channel.notnull(),
        segment=row.segment.fill_null(""),
        path=row.path.fill_null(""),
        experiment=row.experiment.fill_null(""),
        arm=row.arm.fill_null(""),
        arm_paused=row.arm_paused.fill_null(False),
    )
    return row.select(*_wide_schema(plan.stop_slots).names)


def _wide_schema(stop_slots: int) -> pa.Schema:
    """Return the columns :func:`decision_expression` gives."""
    names = [n for n in DECISION_SCHEMA.names if n not in ("reason_codes",)]
    extra = pa.schema(
        [
            ("status", pa.string()),
            ("days_until_next_due", pa.int64()),
            ("template", pa.string()),
            ("arm_paused", pa.bool_()),
            *[(f"stop_{k}", pa.string()) for k in range(stop_slots)],
            ("no_segment", pa.bool_()),
            ("no_step", pa.bool_()),
            ("step_wait", pa.bool_()),
            ("cadence_wait", pa.bool_()),
            ("no_contact_point", pa.bool_()),
            ("wants_contact", pa.bool_()),
        ]
    )
    return pa.schema([DECISION_SCHEMA.field(n) for n in names] + list(extra))


# --- Running it -----------------------------------------------------------------------------


def decide(
    *,
    inputs: Inputs,
    strategy: definition.Strategy,
    as_of: datetime.date,
    now: datetime.datetime,
    prefilter: Prefilter | None = None,
    backend: Any | None = None,
) -> Outcome:
    """Return the decisions and outbox rows for every account not yet decided for ``as_of``.

    ``backend`` is the Ibis backend that computes the decisions (a fresh in-memory DuckDB
    when None; see :func:`accord.strategy.backends.connect`). The contact policy and the
    outbox rows are computed locally. ``prefilter`` defaults to
    :func:`accord.strategy.contact_filter.prefilter`; ``now`` is when contacts may start
    (allowed contacts are planned at ``now``).
    """
    con = backend if backend is not None else backends.connect(backends.Engine.DUCKDB)
    local = con if getattr(con, "name", "") == "duckdb" else delinquency.connect()
    data = decision_data(inputs=inputs, strategy=strategy)
    expression = decision_expression(data=data, strategy=strategy, as_of=as_of)
    stop_slots = max((len(p.stop_when) for p in strategy.paths.values()), default=0)
    wide = _wide_schema(stop_slots)
    decided = backends.execute(con, expression, data)
    del data
    decided = decided.select(wide.names).cast(wide)
    decided = decided.sort_by("account_id")

    wanted = decided.filter(pc.field("wants_contact"))
    candidates, details = _candidates(wanted, inputs=inputs, now=now, con=local)
    if candidates.num_rows:
        filtered = (prefilter or contact_filter.prefilter)(candidates, now=now)
    else:
        filtered = _empty_filtered(candidates)
    return _outcome(
        decided=decided, details=details, filtered=filtered, as_of=as_of, stop_slots=stop_slots
    )


def _naive_utc(data: pa.Table, names: tuple[str, ...]) -> pa.Table:
    """Drop the UTC zone from timestamps so DuckDB needs no time-zone extension."""
    for name in names:
        index = data.schema.get_field_index(name)
        data = data.set_column(index, name, data[name].cast(pa.timestamp("us")))
    return data


def _utc(data: pa.Table, names: tuple[str, ...]) -> pa.Table:
    """Put the UTC zone back on timestamps DuckDB returned naive."""
    utc = pa.timestamp("us", tz="UTC")
    for name in names:
        index = data.schema.get_field_index(name)
        data = data.set_column(index, name, data[name].cast(pa.timestamp("us")).cast(utc))
    return data


def _candidates(
    wanted: pa.Table, *, inputs: Inputs, now: datetime.datetime, con: Any
) -> tuple[pa.Table, pa.Table]:
    """Build the contact policy's input for each account that wants a contact today.

    Also returns, per wanted account, the outbox details: language and destination.
    """
    data = {
        "wanted": wanted.select(["account_id", "customer_id", "channel"]),
        "customers": _cast(inputs.customers, CUSTOMERS_SCHEMA),
        "contact_points": _cast(inputs.contact_points, CONTACT_POINTS_SCHEMA),
        "opt_outs": _cast(inputs.opt_outs, OPT_OUTS_SCHEMA),
        "cease_requests": _cast(inputs.cease_requests, CEASE_SCHEMA),
        "unverified_disputes": _cast(inputs.unverified_disputes, DISPUTES_SCHEMA),
    }
    expression = _expression(
        ("recipients", _schemas(data)), None, lambda: _recipients_expression(data)
    )
    prepared = backends.execute(con, expression, data)
    details = prepared.select(["account_id", "language", "destination"])

    windows = contact_filter.call_windows(_calls(prepared, inputs=inputs, con=con), now=now)
    data = {"prepared": prepared, "caps": _naive_utc(windows, ("calls_release_at",))}
    expression = _expression(
        ("candidates", _schemas(data)), None, lambda: _candidates_expression(data)
    )
    result = _utc(backends.execute(con, expression, data), ("calls_release_at",))
    candidates = result.cast(
        contact_filter.CANDIDATE_SCHEMA.append(result.schema.field("calls_release_at"))
    )
    return candidates, details


def _recipients_expression(data: Mapping[str, pa.Table]) -> ir.Table:
    """Return each wanted contact with its customer's facts, primary email and phone."""
    base = _in("wanted", data)
    # Only the customers who get a contact today.
    who = base.select("customer_id").distinct()
    customers = _in("customers", data).semi_join(who, "customer_id")
    points = _in("contact_points", data).semi_join(who, "customer_id")
    ranked = points.mutate(
        rank=ibis.row_number().over(
            group_by=["customer_id", "kind"], order_by=["position", "value"]
        )
    )
    primary = ranked.filter(ranked.rank == 0)
    email = primary.filter(primary.kind == ContactPointKind.EMAIL.value)
    email = email.select("customer_id", email="value")
    phone = primary.filter(primary.kind == ContactPointKind.PHONE.value)
    phone = phone.select("customer_id", phone="value")
    opt = _in("opt_outs", data).distinct().mutate(opted_out=True)
    cease = _in("cease_requests", data).distinct().mutate(cease_requested=True)
    disputes = _in("unverified_disputes", data).distinct()
    disputes = disputes.mutate(unverified_dispute=True)

    rows = base.left_join(customers, "customer_id").drop("customer_id_right")
    for extra in (email, phone, cease):
        rows = rows.left_join(extra, "customer_id").drop("customer_id_right")
    rows = rows.left_join(
        opt, [rows.customer_id == opt.customer_id, rows.channel == opt.channel]
    ).drop("customer_id_right", "channel_right")
    rows = rows.left_join(disputes, "account_id").drop("account_id_right")
    rows = rows.mutate(
        opted_out=rows.opted_out.fill_null(False),
        cease_requested=rows.cease_requested.fill_null(False),
        unverified_dispute=rows.unverified_dispute.fill_null(False),
        language=rows.language.fill_null("en"),
        destination=ibis.cases(
            (rows.channel == Channel.EMAIL.value, rows.email),
            (rows.channel.isin([Channel.SMS.value, Channel.CALL.value]), rows.phone),
            else_="",
        ).fill_null(""),
    )
    return rows.order_by("account_id")


def _candidates_expression(data: Mapping[str, pa.Table]) -> ir.Table:
    """Return the recipients with their call counts and release times (policy input)."""
    caps = _in("caps", data)
    joined = _in("prepared", data).left_join(caps, "account_id").drop("account_id_right")
    joined = joined.mutate(calls_in_window=joined.calls_in_window.fill_null(0))
    names = [*contact_filter.CANDIDATE_SCHEMA.names, "calls_release_at"]
    return joined.select(*names).order_by("account_id")


def _calls(wanted: pa.Table, *, inputs: Inputs, con: Any) -> pa.Table:
    """Return the past calls about the wanted accounts, with the customer's candidate zones.

    A contact about no particular account is listed once for every wanted account of its
    customer: it counts against each of them (deny when unsure, as the policy does).
    """
    data = {
        "history": _cast(
            _naive_utc(inputs.history, ("planned_at", "sent_at")), _NAIVE_HISTORY_SCHEMA
        ),
        "zones": wanted.select(["account_id", "customer_id", "time_zones"]),
    }
    expression = _expression(("calls", _schemas(data)), None, lambda: _calls_expression(data))
    result = _utc(backends.execute(con, expression, data), ("at",))
    return result.select(contact_filter.CALLS_SCHEMA.names).cast(contact_filter.CALLS_SCHEMA)


def _calls_expression(data: Mapping[str, pa.Table]) -> ir.Table:
    history = _in("history", data)
    done = history.filter(history.status.isin([s.value for s in definition.COUNTED_STATUSES]))
    done = done.mutate(at=ibis.coalesce(done.sent_at, done.planned_at))
    facts = ["at", "channel", "direction", "connected"]
    zones = _in("zones", data)
    about_account = done.filter(done.account_id.notnull()).select("account_id", *facts)
    about_account = about_account.join(zones, "account_id").select(
        "account_id", "time_zones", *facts
    )
    about_customer = done.filter(done.account_id.isnull()).select("customer_id", *facts)
    about_customer = about_customer.join(zones, "customer_id").select(
        "account_id", "time_zones", *facts
    )
    return about_account.union(about_customer)


_NAIVE_HISTORY_SCHEMA = pa.schema(
    [
        field.with_type(pa.timestamp("us")) if field.name in ("planned_at", "sent_at") else field
        for field in HISTORY_SCHEMA
    ]
)


def _empty_filtered(candidates: pa.Table) -> pa.Table:
    timestamp = pa.timestamp("us", tz="UTC")
    return (
        candidates.append_column("allowed", pa.array([], pa.bool_()))
        .append_column("reason_codes", pa.array([], pa.list_(pa.string())))
        .append_column("next_allowed_at", pa.array([], timestamp))
        .append_column("planned_at", pa.array([], timestamp))
    )


def _outcome(
    *,
    decided: pa.Table,
    details: pa.Table,
    filtered: pa.Table,
    as_of: datetime.date,
    stop_slots: int,
) -> Outcome:
    """Join the policy's answers back: outbox rows for allowed/deferred, reasons for blocked.

    Column-wise with Arrow over the fetched decisions (whichever engine computed them).
    """
    rows = decided.num_rows
    # Both are ordered by account: each decision's row in the policy's answer, or null.
    at = pc.index_in(decided["account_id"], value_set=filtered["account_id"])
    allowed = filtered["allowed"].take(at)
    planned_at = filtered["planned_at"].take(at)
    policy_codes = filtered["reason_codes"].take(at)
    asked = pc.is_valid(allowed)
    blocked = pc.and_(asked, pc.is_null(planned_at))
    deferred = pc.and_kleene(
        pc.and_kleene(asked, pc.invert(pc.fill_null(allowed, True))), pc.is_valid(planned_at)
    )

    def when(condition: Any, code: Any) -> pa.Array:
        value = pa.scalar(code, pa.string()) if isinstance(code, str) else code
        return pc.if_else(pc.fill_null(condition, False), value, pa.scalar(None, pa.string()))

    stage = decided["stage"]
    parts = [
        pc.binary_join_element_wise(ReasonPrefix.STAGE.value, stage, ""),
        pc.binary_join_element_wise(
            ReasonPrefix.DPD.value, decided["days_past_due"].cast(pa.string()), ""
        ),
        when(
            pc.equal(stage, DelinquencyStage.PRE_DUE.value),
            pc.binary_join_element_wise(
                ReasonPrefix.DUE_IN.value, decided["days_until_next_due"].cast(pa.string()), ""
            ),
        ),
        when(
            pc.not_equal(decided["status"], AccountStatus.OPEN.value),
            pc.binary_join_element_wise(ReasonPrefix.ACCOUNT.value, decided["status"], ""),
        ),
        when(decided["arm_paused"], ReasonCode.ARM_PAUSED.value),
        *[decided[f"stop_{k}"] for k in range(stop_slots)],
        when(decided["no_segment"], ReasonCode.NO_SEGMENT.value),
        when(decided["no_step"], ReasonCode.NO_STEP.value),
        when(decided["step_wait"], ReasonCode.STEP_WAIT.value),
        when(decided["cadence_wait"], ReasonCode.CADENCE_WAIT.value),
        when(decided["no_contact_point"], ReasonCode.NO_CONTACT_POINT.value),
        policy_codes,
        when(blocked, ReasonCode.POLICY_BLOCKED.value),
        when(deferred, ReasonCode.POLICY_DEFERRED.value),
    ]
    reasons = _row_lists(parts, rows)
    columns = {name: decided[name] for name in DECISION_SCHEMA.names if name != "reason_codes"}
    decisions = pa.table({**columns, "reason_codes": reasons}).select(DECISION_SCHEMA.names)
    decisions = decisions.cast(DECISION_SCHEMA)

    queued = pc.and_(asked, pc.invert(blocked))
    outbox = pa.table(
        {
            "account_id": decided["account_id"],
            "customer_id": decided["customer_id"],
            "channel": decided["channel"],
            "template": decided["template"],
            "planned_at": planned_at,
            "allowed": allowed,
            "policy_codes": policy_codes,
        }
    ).filter(queued)
    where = pc.index_in(outbox["account_id"], value_set=details["account_id"])
    # strategy:<as-of>:<account>:<template>:<channel>
    key = pc.binary_join_element_wise(
        idempotency_prefix(as_of).removesuffix(":"),
        outbox["account_id"].cast(pa.string()),
        outbox["template"],
        outbox["channel"],
        ":",
    )
    empty = pa.scalar([], pa.list_(pa.string()))
    outbox_table = pa.table(
        {
            "account_id": outbox["account_id"],
            "customer_id": outbox["customer_id"],
            "channel": outbox["channel"],
            "template": outbox["template"],
            "language": pc.fill_null(details["language"].take(where), "en"),
            "destination": pc.fill_null(details["destination"].take(where), ""),
            "planned_at": outbox["planned_at"],
            "idempotency_key": key,
            "policy_reasons": pc.if_else(
                outbox["allowed"], empty, pc.fill_null(outbox["policy_codes"], empty)
            ),
        }
    )
    return Outcome(
        decisions=decisions,
        outbox=outbox_table.cast(OUTBOX_SCHEMA),
        contacts_blocked=int(pc.sum(blocked).as_py() or 0),
        counts=counts(decisions),
    )


def _row_lists(parts: Sequence[Any], rows: int) -> pa.ListArray:
    """Return one list per row: the non-null strings and the list items of ``parts``, in order.

    Each part is a string column (null: nothing) or a list-of-strings column (null: empty).
    Vectorised: every item's place in the result is computed at once with numpy (one byte
    per row and part for the counts of string columns).
    """
    counts: list[np.ndarray] = []
    values: list[pa.Array] = []
    for part in parts:
        column = part.combine_chunks() if isinstance(part, pa.ChunkedArray) else part
        if pa.types.is_list(column.type):
            length = pc.fill_null(pc.list_value_length(column), 0)
            counts.append(length.to_numpy(zero_copy_only=False).astype(np.int32))
            values.append(column.flatten())
        else:
            present = pc.is_valid(column)
            counts.append(present.to_numpy(zero_copy_only=False).view(np.uint8))
            values.append(column.filter(present))
    offsets = np.zeros(rows + 1, np.int64)
    for count in counts:
        offsets[1:] += count
    np.cumsum(offsets, out=offsets)
    filled = offsets[:-1].copy()
    places = []
    for count, value in zip(counts, values, strict=True):
        starts = np.cumsum(count, dtype=np.int64) - count
        within = np.arange(len(value), dtype=np.int64) - np.repeat(starts, count)
        places.append(np.repeat(filled, count) + within)
        filled += count
    place = np.concatenate(places) if places else np.zeros(0, np.int64)
    order = np.empty_like(place)
    order[place] = np.arange(place.size, dtype=np.int64)
    items = pa.concat_arrays([v.cast(pa.string()) for v in values])
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), items.take(pa.array(order)))


def counts(decisions: pa.Table) -> dict[str, dict[str, int]]:
    """Return how many decisions fall in each treatment, stage, bucket, channel, segment, arm.

    ``channel`` counts decisions without one as ``NONE``; ``segment`` counts accounts no
    segment took as ""; ``arm`` counts only decisions in an experiment, as ``experiment/arm``.
    """
    tallies: dict[str, dict[str, int]] = {}
    for column in ("treatment", "stage", "bucket", "channel", "segment"):
        values = (
            pc.fill_null(decisions[column], NO_CHANNEL)
            if column == "channel"
            else decisions[column]
        )
        tallies[column] = _tally(values)
    in_experiment = decisions.filter(pc.not_equal(decisions["experiment"], ""))
    tallies["arm"] = _tally(
        pc.binary_join_element_wise(in_experiment["experiment"], in_experiment["arm"], "/")
    )
    return tallies


def _tally(values: pa.Array | pa.ChunkedArray) -> dict[str, int]:
    tally = pc.value_counts(values)
    pairs = ((str(item["values"]), int(item["counts"])) for item in tally.to_pylist())
    return dict(sorted(pairs))
