"""Decide today's treatment for every account at once: frames in, decisions and outbox rows out.

The pipeline (each step one Ibis expression executed by DuckDB, never a loop per account):

1. :mod:`~accord.strategy.delinquency` gives each account its days past due, arrears,
   balance, bucket and stage.
2. The strategy's rules map the stage to a treatment, a template and a channel; closed
   accounts and accounts holding an open promise or an active plan get ``NONE``; a recent
   contact with the same template makes the account wait (cadence).
3. Accounts that want a contact become candidates for the vectorised contact policy
   (:func:`accord.strategy.contact_filter.prefilter`); allowed and time-deferred ones become
   outbox rows, blocked ones only add the policy's reasons to the decision.

Every decision carries stable UPPER_CASE reason codes and the strategy's version.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc
from ibis.expr import types as ir

from accord.domain.arrears import DelinquencyStage
from accord.strategy import contact_filter, definition, delinquency
from accord.strategy.definition import (
    AccountStatus,
    Channel,
    ContactPointKind,
    ReasonCode,
    ReasonPrefix,
)

Prefilter = Callable[..., pa.Table]

# What the counts call a decision without a channel.
NO_CHANNEL = definition.Treatment.NONE.value
# Contact history older than this (plus the longest cadence) cannot matter to a run.
HISTORY_DAYS = 8

CUSTOMERS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("language", pa.string()),
        ("preferred_channel", pa.string()),
        ("time_zones", pa.list_(pa.string())),
        ("contact_hours_start", pa.string()),
        ("contact_hours_end", pa.string()),
        ("has_address", pa.bool_()),
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
CEASE_SCHEMA = pa.schema([("customer_id", pa.int64())])
DISPUTES_SCHEMA = pa.schema([("account_id", pa.int64())])
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

    accounts: pa.Table
    charges: pa.Table
    payments: pa.Table
    customers: pa.Table
    contact_points: pa.Table
    opt_outs: pa.Table
    cease_requests: pa.Table
    unverified_disputes: pa.Table
    holds: pa.Table
    history: pa.Table
    decided: pa.Table


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outcome:
    """Hold a run's result: one decision per account not yet decided, and the outbox rows."""

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
            (promise_accounts, ReasonCode.PROMISE_OPEN),
            (plan_accounts, ReasonCode.PLAN_ACTIVE),
        )
    ]
    return pa.concat_tables(parts)


def _t(data: pa.Table, schema: pa.Schema) -> ir.Table:
    return delinquency.table(data, schema)


def _naive_utc(data: pa.Table, names: tuple[str, ...]) -> pa.Table:
    """Drop the UTC zone from timestamps so DuckDB needs no time-zone extension."""
    for name in names:
        index = data.schema.get_field_index(name)
        data = data.set_column(index, name, data[name].cast(pa.timestamp("us")))
    return data


def _text_array(*items: ir.Value) -> ir.ArrayValue:
    """Return the non-null strings among ``items`` as one list."""
    return ibis.array([item.cast("string") for item in items]).filter(lambda code: code.notnull())


def _when(condition: ir.BooleanValue, value: ir.Value | str) -> ir.StringValue:
    return ibis.ifelse(condition, value, ibis.null("string"))


def _channel_choice(
    rule: definition.TreatmentRule, facts: Mapping[str, ir.BooleanValue], preferred: ir.Value
) -> ir.StringValue:
    """Return the rule's channel for each row: preferred if usable, else the rule's order.

    A channel is usable when the customer has a contact point for it and has not opted out
    of it. When none is usable the first one the customer can be reached on is chosen, so
    that the contact policy records the opt-out as the reason nothing is sent.
    """
    reachable = {channel: facts[f"reach_{channel.value}"] for channel in rule.channels}
    usable = {
        channel: reachable[channel] & ~facts[f"opted_{channel.value}"] for channel in rule.channels
    }
    cases: list[tuple[ir.BooleanValue, str]] = [
        ((preferred == channel.value) & usable[channel], channel.value) for channel in rule.channels
    ]
    cases += [(usable[channel], channel.value) for channel in rule.channels]
    cases += [(reachable[channel], channel.value) for channel in rule.channels]
    return ibis.cases(*cases, else_=ibis.null("string"))


def decide(
    *,
    inputs: Inputs,
    strategy: definition.Strategy,
    as_of: datetime.date,
    now: datetime.datetime,
    prefilter: Prefilter | None = None,
) -> Outcome:
    """Return the decisions and outbox rows for every account not yet decided for ``as_of``.

    ``prefilter`` defaults to :func:`accord.strategy.contact_filter.prefilter`; ``now`` is
    when contacts may start (allowed contacts are planned at ``now``).
    """
    con = delinquency.connect()
    day = ibis.date(as_of)
    state = delinquency.account_states(
        accounts=inputs.accounts,
        charges=inputs.charges,
        payments=inputs.payments,
        as_of=as_of,
        thresholds=strategy.thresholds,
        buckets=strategy.buckets,
    ).anti_join(_t(inputs.decided, DECIDED_SCHEMA), "account_id")

    customers = _customer_facts(inputs)
    accounts = state.left_join(customers, "customer_id").drop("customer_id_right")
    accounts = accounts.left_join(_account_facts(inputs), "account_id").drop("account_id_right")
    accounts = accounts.mutate(
        promise_open=accounts.promise_open.fill_null(False),
        plan_active=accounts.plan_active.fill_null(False),
        unverified_dispute=accounts.unverified_dispute.fill_null(False),
    )

    rule_index = ibis.cases(
        *[
            (accounts.stage.isin([s.value for s in rule.stages]), i)
            for i, rule in enumerate(strategy.rules)
        ],
        else_=ibis.null("int64"),
    )
    accounts = accounts.mutate(rule_index=rule_index)
    is_open = accounts.status == AccountStatus.OPEN.value
    held_promise = accounts.promise_open & ibis.literal(strategy.hold_while_promise_open)
    held_plan = accounts.plan_active & ibis.literal(strategy.hold_while_plan_active)
    treated = is_open & accounts.rule_index.notnull() & ~held_promise & ~held_plan

    def by_rule(values: list[Any], kind: str) -> ir.Value:
        return ibis.cases(
            *[(accounts.rule_index == i, value) for i, value in enumerate(values)],
            else_=ibis.null(kind),
        )

    facts = {
        name: accounts[name] for name in accounts.columns if name.startswith(("reach_", "opted_"))
    }
    accounts = accounts.mutate(
        treatment=ibis.ifelse(
            treated,
            by_rule([rule.treatment.value for rule in strategy.rules], "string"),
            definition.Treatment.NONE.value,
        ),
        template=ibis.ifelse(
            treated, by_rule([r.template for r in strategy.rules], "string"), ibis.null("string")
        ),
        every_days=by_rule([rule.every_days for rule in strategy.rules], "int64"),
        channel=ibis.ifelse(
            treated,
            ibis.cases(
                *[
                    (
                        accounts.rule_index == i,
                        _channel_choice(rule, facts, accounts.preferred_channel),
                    )
                    for i, rule in enumerate(strategy.rules)
                ],
                else_=ibis.null("string"),
            ),
            ibis.null("string"),
        ),
    )

    history = _t(_naive_utc(inputs.history, ("planned_at", "sent_at")), HISTORY_SCHEMA)
    counted = history.filter(history.status.isin([s.value for s in definition.CADENCE_STATUSES]))
    latest = counted.group_by(["account_id", "template"]).aggregate(
        latest_contact=ibis.coalesce(counted.sent_at, counted.planned_at).date().max()
    )
    accounts = accounts.left_join(
        latest,
        [accounts.account_id == latest.account_id, accounts.template == latest.template],
    ).drop("account_id_right", "template_right")
    waiting = accounts.latest_contact.notnull() & (
        day.delta(accounts.latest_contact, unit="day") < accounts.every_days
    )
    treatment_none = accounts.treatment == definition.Treatment.NONE.value
    cadence_wait = ~treatment_none & waiting
    no_contact_point = ~treatment_none & accounts.channel.isnull()
    stage = accounts.stage
    accounts = accounts.mutate(
        wants_contact=~treatment_none & ~cadence_wait & accounts.channel.notnull(),
        opted_out=ibis.cases(
            *[
                (accounts.channel == channel.value, accounts[f"opted_{channel.value}"])
                for channel in definition.Channel
            ],
            else_=False,
        ),
        destination=ibis.cases(
            (accounts.channel == Channel.EMAIL.value, accounts.email),
            (accounts.channel.isin([Channel.SMS.value, Channel.CALL.value]), accounts.phone),
            else_="",
        ).fill_null(""),
        reason_codes=_text_array(
            ReasonPrefix.STAGE.value + stage,
            ReasonPrefix.DPD.value + accounts.days_past_due.cast("string"),
            _when(
                stage == DelinquencyStage.PRE_DUE.value,
                ReasonPrefix.DUE_IN.value + accounts.days_until_next_due.cast("string"),
            ),
            _when(~is_open, ReasonPrefix.ACCOUNT.value + accounts.status),
            _when(
                is_open & accounts.rule_index.notnull() & held_promise,
                ReasonCode.PROMISE_OPEN.value,
            ),
            _when(
                is_open & accounts.rule_index.notnull() & held_plan, ReasonCode.PLAN_ACTIVE.value
            ),
            _when(cadence_wait, ReasonCode.CADENCE_WAIT.value),
            _when(no_contact_point, ReasonCode.NO_CONTACT_POINT.value),
        ),
    )
    decided = con.to_pyarrow(accounts.order_by("account_id"))

    wanted = decided.filter(pc.field("wants_contact"))
    candidates = _candidates(wanted, inputs=inputs, now=now, con=con)
    if candidates.num_rows:
        filtered = (prefilter or contact_filter.prefilter)(candidates, now=now)
    else:
        filtered = _empty_filtered(candidates)
    return _outcome(decided=decided, filtered=filtered, as_of=as_of, con=con)


def _customer_facts(inputs: Inputs) -> ir.Table:
    customers = _t(inputs.customers, CUSTOMERS_SCHEMA)
    points = _t(inputs.contact_points, CONTACT_POINTS_SCHEMA)
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
    opt = _t(inputs.opt_outs, OPT_OUTS_SCHEMA)
    opted = opt.group_by("customer_id").aggregate(
        **{f"opted_{c.value}": (opt.channel == c.value).any() for c in definition.Channel}
    )
    cease = _t(inputs.cease_requests, CEASE_SCHEMA).distinct().mutate(cease_requested=True)
    facts = customers
    for extra in (email, phone, opted, cease):
        facts = facts.left_join(extra, "customer_id").drop("customer_id_right")
    return facts.mutate(
        reach_EMAIL=facts.email.notnull(),
        reach_SMS=facts.phone.notnull(),
        reach_CALL=facts.phone.notnull(),
        reach_LETTER=facts.has_address.fill_null(False),
        cease_requested=facts.cease_requested.fill_null(False),
        **{
            f"opted_{c.value}": facts[f"opted_{c.value}"].fill_null(False)
            for c in definition.Channel
        },
    )


def _account_facts(inputs: Inputs) -> ir.Table:
    holds = _t(inputs.holds, HOLDS_SCHEMA)
    flags = holds.group_by("account_id").aggregate(
        promise_open=(holds.hold == ReasonCode.PROMISE_OPEN.value).any(),
        plan_active=(holds.hold == ReasonCode.PLAN_ACTIVE.value).any(),
    )
    disputes = _t(inputs.unverified_disputes, DISPUTES_SCHEMA).distinct()
    disputes = disputes.mutate(unverified_dispute=True)
    return flags.outer_join(disputes, "account_id").select(
        account_id=ibis.coalesce(flags.account_id, disputes.account_id),
        promise_open=flags.promise_open,
        plan_active=flags.plan_active,
        unverified_dispute=disputes.unverified_dispute,
    )


def _candidates(wanted: pa.Table, *, inputs: Inputs, now: datetime.datetime, con: Any) -> pa.Table:
    """Build the contact policy's input for each account that wants a contact today."""
    windows = contact_filter.call_windows(_calls(wanted, inputs=inputs, con=con), now=now)
    base = ibis.memtable(
        wanted.select(
            [
                "account_id",
                "customer_id",
                "channel",
                "time_zones",
                "contact_hours_start",
                "contact_hours_end",
                "opted_out",
                "cease_requested",
                "unverified_dispute",
            ]
        )
    )
    caps = ibis.memtable(_naive_utc(windows, ("calls_release_at",)))
    joined = base.left_join(caps, "account_id").drop("account_id_right")
    joined = joined.mutate(calls_in_window=joined.calls_in_window.fill_null(0))
    names = [*contact_filter.CANDIDATE_SCHEMA.names, "calls_release_at"]
    result = _utc(
        con.to_pyarrow(joined.select(*names).order_by("account_id")), ("calls_release_at",)
    )
    return result.cast(
        contact_filter.CANDIDATE_SCHEMA.append(result.schema.field("calls_release_at"))
    )


def _utc(data: pa.Table, names: tuple[str, ...]) -> pa.Table:
    """Put the UTC zone back on timestamps DuckDB returned naive."""
    utc = pa.timestamp("us", tz="UTC")
    for name in names:
        index = data.schema.get_field_index(name)
        data = data.set_column(index, name, data[name].cast(pa.timestamp("us")).cast(utc))
    return data


def _calls(wanted: pa.Table, *, inputs: Inputs, con: Any) -> pa.Table:
    """Return the past calls about the wanted accounts, with the customer's candidate zones.

    A contact about no particular account is listed once for every wanted account of its
    customer: it counts against each of them (deny when unsure, as the policy does).
    """
    history = _t(_naive_utc(inputs.history, ("planned_at", "sent_at")), HISTORY_SCHEMA)
    done = history.filter(history.status.isin([s.value for s in definition.COUNTED_STATUSES]))
    done = done.mutate(at=ibis.coalesce(done.sent_at, done.planned_at))
    facts = ["at", "channel", "direction", "connected"]
    zones = ibis.memtable(wanted.select(["account_id", "customer_id", "time_zones"]))
    about_account = done.filter(done.account_id.notnull()).select("account_id", *facts)
    about_account = about_account.join(zones, "account_id").select(
        "account_id", "time_zones", *facts
    )
    about_customer = done.filter(done.account_id.isnull()).select("customer_id", *facts)
    about_customer = about_customer.join(zones, "customer_id").select(
        "account_id", "time_zones", *facts
    )
    calls = about_account.union(about_customer)
    result = _utc(con.to_pyarrow(calls), ("at",))
    return result.select(contact_filter.CALLS_SCHEMA.names).cast(contact_filter.CALLS_SCHEMA)


def _empty_filtered(candidates: pa.Table) -> pa.Table:
    timestamp = pa.timestamp("us", tz="UTC")
    return (
        candidates.append_column("allowed", pa.array([], pa.bool_()))
        .append_column("reason_codes", pa.array([], pa.list_(pa.string())))
        .append_column("next_allowed_at", pa.array([], timestamp))
        .append_column("planned_at", pa.array([], timestamp))
    )


def _outcome(*, decided: pa.Table, filtered: pa.Table, as_of: datetime.date, con: Any) -> Outcome:
    """Join the policy's answers back: outbox rows for allowed/deferred, reasons for blocked."""
    policy = _t(
        _naive_utc(
            filtered.select(["account_id", "allowed", "reason_codes", "planned_at"]),
            ("planned_at",),
        ).rename_columns(["account_id", "allowed", "policy_codes", "planned_at"]),
        pa.schema(
            [
                ("account_id", pa.int64()),
                ("allowed", pa.bool_()),
                ("policy_codes", pa.list_(pa.string())),
                ("planned_at", pa.timestamp("us")),
            ]
        ),
    )
    rows = ibis.memtable(decided).left_join(policy, "account_id").drop("account_id_right")
    asked = rows.allowed.notnull()
    blocked = asked & rows.planned_at.isnull()
    deferred = asked & ~rows.allowed & rows.planned_at.notnull()
    empty = ibis.literal([], type="array<string>")
    rows = rows.mutate(
        blocked=blocked,
        reason_codes=rows.reason_codes.concat(rows.policy_codes.fill_null(empty)).concat(
            _text_array(
                _when(blocked, ReasonCode.POLICY_BLOCKED.value),
                _when(deferred, ReasonCode.POLICY_DEFERRED.value),
            )
        ),
    )
    joined: pa.Table = con.to_pyarrow(rows.order_by("account_id"))
    decisions = joined.select(DECISION_SCHEMA.names).cast(DECISION_SCHEMA)
    queued = ibis.memtable(joined)
    queued = queued.filter(queued.allowed.notnull() & ~queued.blocked)
    key = (
        ibis.literal(idempotency_prefix(as_of))
        + queued.account_id.cast("string")
        + ":"
        + queued.template
        + ":"
        + queued.channel
    )
    outbox = queued.select(
        "account_id",
        "customer_id",
        "channel",
        "template",
        language=queued.language.fill_null("en"),
        destination=queued.destination,
        planned_at=queued.planned_at,
        idempotency_key=key,
        policy_reasons=ibis.ifelse(queued.allowed, empty, queued.policy_codes.fill_null(empty)),
    ).order_by("account_id")
    outbox_table = _utc(con.to_pyarrow(outbox), ("planned_at",))
    return Outcome(
        decisions=decisions,
        outbox=outbox_table.cast(OUTBOX_SCHEMA),
        contacts_blocked=int(pc.sum(pc.fill_null(joined["blocked"], False)).as_py() or 0),
        counts=counts(decisions),
    )


def counts(decisions: pa.Table) -> dict[str, dict[str, int]]:
    """Return how many decisions fall in each treatment, stage, bucket and channel."""
    tallies: dict[str, dict[str, int]] = {}
    for column in ("treatment", "stage", "bucket", "channel"):
        values = (
            pc.fill_null(decisions[column], NO_CHANNEL)
            if column == "channel"
            else decisions[column]
        )
        tally = pc.value_counts(values)
        pairs = ((str(item["values"]), int(item["counts"])) for item in tally.to_pylist())
        tallies[column] = dict(sorted(pairs))
    return tallies
