"""Decide every account's treatment one account at a time, in plain Python.

This is the deliberately naive baseline of ``accord bench strategy``: the same strategy
semantics as :func:`accord.strategy.engine.decide` (docs/strategy.md), written the way one
would without a query engine. The engine's Arrow inputs become Python dicts and lists, then
a loop visits each account: :mod:`accord.domain.arrears` allocates its payments and gives its
delinquency state, the :class:`~accord.strategy.definition.Strategy` picks its segment, arm,
path and step, and every contact it wants is checked with
:func:`accord.domain.compliance.evaluate`, one call per contact.

It is not used by runs. It exists so that the benchmark can say how much faster the engine
is on the same accounts, and so that a test can hold the two implementations to the same
answers (``tests/unit/strategy/test_reference.py``).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from accord.domain import arrears, compliance, money
from accord.strategy import definition, engine
from accord.strategy.definition import (
    AccountStatus,
    Channel,
    ContactPointKind,
    ReasonCode,
    ReasonPrefix,
    StopCondition,
    Treatment,
)

# The decisions and outbox rows the engine returns, in its column order.
DECISION_SCHEMA = engine.DECISION_SCHEMA
OUTBOX_SCHEMA = engine.OUTBOX_SCHEMA
# Payments received in this many days up to the as-of date count towards the scores.
SCORE_PAYMENT_DAYS = 90
DEFAULT_LANGUAGE = "en"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Result:
    """Hold the reference decisions (``DECISION_SCHEMA``) and outbox rows (``OUTBOX_SCHEMA``)."""

    decisions: pa.Table
    outbox: pa.Table


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Customer:
    customer_id: int
    language: str | None
    preferred_channel: str | None
    time_zones: tuple[str, ...]
    contact_hours: tuple[datetime.time, datetime.time] | None
    has_address: bool
    debtor_type: str | None
    region: str | None
    country: str | None
    email: str | None
    phone: str | None
    opted_out: frozenset[str]
    cease_requested: bool
    vulnerable: bool
    breathing_space: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Contact:
    """One row of the contact history, as the strategy and the policy read it."""

    template: str | None
    channel: str
    status: str
    direction: str | None
    connected: bool | None
    at: datetime.datetime | None  # coalesce(sent_at, planned_at), UTC


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Book:
    """Hold the engine's inputs as plain Python collections, keyed for per-account look-ups."""

    accounts: list[dict[str, Any]]
    charges: Mapping[int, list[dict[str, Any]]]
    payments: Mapping[int, list[dict[str, Any]]]
    customers: Mapping[int, _Customer]
    holds: Mapping[int, set[str]]
    open_disputes: set[int]
    unverified_disputes: set[int]
    paused_arms: set[tuple[str, str]]
    history_by_account: Mapping[int, list[_Contact]]
    history_by_customer: Mapping[int, list[_Contact]]  # contacts about no particular account
    decided: set[int]


def decide(
    *,
    inputs: Any,
    strategy: definition.Strategy,
    as_of: datetime.date,
    now: datetime.datetime,
) -> Result:
    """Return the decision and any outbox row for every account not yet decided for ``as_of``.

    ``inputs`` is an :class:`accord.strategy.engine.Inputs` (the run's Arrow extract);
    ``now`` is when contacts may start. Accounts are visited one by one, in account order.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise compliance.NaiveDatetimeError("now")
    now = now.astimezone(datetime.UTC)
    book = _book(inputs)
    decisions: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    for account in sorted(book.accounts, key=lambda row: int(row["account_id"])):
        if account["account_id"] in book.decided:
            continue
        decision, contact = _decide_account(
            account, book=book, strategy=strategy, as_of=as_of, now=now
        )
        decisions.append(decision)
        if contact is not None:
            outbox.append(contact)
    return Result(
        decisions=pa.Table.from_pylist(decisions, schema=DECISION_SCHEMA),
        outbox=pa.Table.from_pylist(outbox, schema=OUTBOX_SCHEMA),
    )


# --- Arrow to Python -----------------------------------------------------------------------


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _grouped(rows: Iterable[dict[str, Any]], key: str) -> dict[int, list[dict[str, Any]]]:
    groups: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return groups


def _ids(table: pa.Table, column: str) -> set[Any]:
    return {row[column] for row in _rows(table)}


def _book(inputs: Any) -> _Book:
    points = _grouped(_rows(inputs.contact_points), "customer_id")
    opt_outs: dict[int, set[str]] = collections.defaultdict(set)
    for row in _rows(inputs.opt_outs):
        opt_outs[row["customer_id"]].add(row["channel"])
    ceased = _ids(inputs.cease_requests, "customer_id")
    vulnerable = _ids(inputs.vulnerable_customers, "customer_id")
    breathing = _ids(inputs.breathing_spaces, "customer_id")
    customers = {}
    for row in _rows(inputs.customers):
        customer_id = row["customer_id"]
        mine = points.get(customer_id, [])
        customers[customer_id] = _Customer(
            customer_id=customer_id,
            language=row["language"],
            preferred_channel=row["preferred_channel"],
            time_zones=tuple(row["time_zones"] or ()),
            contact_hours=_hours(row["contact_hours_start"], row["contact_hours_end"]),
            has_address=bool(row["has_address"]),
            debtor_type=row.get("debtor_type"),
            region=row.get("region"),
            country=row.get("country"),
            email=_primary(mine, ContactPointKind.EMAIL),
            phone=_primary(mine, ContactPointKind.PHONE),
            opted_out=frozenset(opt_outs.get(customer_id, set())),
            cease_requested=customer_id in ceased,
            vulnerable=customer_id in vulnerable,
            breathing_space=customer_id in breathing,
        )
    holds: dict[int, set[str]] = collections.defaultdict(set)
    for row in _rows(inputs.holds):
        holds[row["account_id"]].add(row["hold"])
    by_account: dict[int, list[_Contact]] = collections.defaultdict(list)
    by_customer: dict[int, list[_Contact]] = collections.defaultdict(list)
    for row in _rows(inputs.history):
        contact = _Contact(
            template=row["template"],
            channel=row["channel"],
            status=row["status"],
            direction=row["direction"],
            connected=row["connected"],
            at=row["sent_at"] if row["sent_at"] is not None else row["planned_at"],
        )
        if row["account_id"] is None:
            by_customer[row["customer_id"]].append(contact)
        else:
            by_account[row["account_id"]].append(contact)
    return _Book(
        accounts=_rows(inputs.accounts),
        charges=_grouped(_rows(inputs.charges), "account_id"),
        payments=_grouped(_rows(inputs.payments), "account_id"),
        customers=customers,
        holds=holds,
        open_disputes=_ids(inputs.open_disputes, "account_id"),
        unverified_disputes=_ids(inputs.unverified_disputes, "account_id"),
        paused_arms={(row["experiment"], row["arm"]) for row in _rows(inputs.paused_arms)},
        history_by_account=by_account,
        history_by_customer=by_customer,
        decided=_ids(inputs.decided, "account_id"),
    )


def _hours(start: str | None, end: str | None) -> tuple[datetime.time, datetime.time] | None:
    if not start and not end:
        return None
    if not start or not end:
        raise ValueError("contact hours need both a start and an end, or neither")
    return datetime.time.fromisoformat(start), datetime.time.fromisoformat(end)


def _primary(points: list[dict[str, Any]], kind: ContactPointKind) -> str | None:
    """Return the customer's first contact point of ``kind`` by position, then value."""
    mine = [point for point in points if point["kind"] == kind.value]
    if not mine:
        return None
    value: str = min(mine, key=lambda point: (point["position"], point["value"]))["value"]
    return value


# --- One account ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class _State:
    days_past_due: int
    days_until_next_due: int | None
    arrears_minor: int
    balance_minor: int
    bucket: str
    stage: arrears.DelinquencyStage


def _state(
    account: dict[str, Any], *, book: _Book, strategy: definition.Strategy, as_of: datetime.date
) -> _State:
    """Return the account's delinquency state through :mod:`accord.domain.arrears`."""
    currency = account["currency"]
    charges = [
        # Same-day charges may be paid in any order (the totals do not change): no reference.
        arrears.Charge(
            reference="",
            due_date=row["due_date"],
            amount=money.Money.from_minor_units(row["amount_minor"], currency),
        )
        for row in book.charges.get(account["account_id"], [])
    ]
    payments = [
        arrears.Payment(
            reference="",
            received_date=row["received_date"],
            amount=money.Money.from_minor_units(row["amount_minor"], currency),
        )
        for row in book.payments.get(account["account_id"], [])
    ]
    days_past_due = arrears.days_past_due(charges=charges, payments=payments, as_of=as_of)
    until = arrears.days_until_next_due(charges=charges, payments=payments, as_of=as_of)
    owed = arrears.arrears(charges=charges, payments=payments, as_of=as_of, currency=currency)
    total = arrears.balance(charges=charges, payments=payments, as_of=as_of, currency=currency)
    return _State(
        days_past_due=days_past_due,
        days_until_next_due=until,
        arrears_minor=owed.to_minor_units(),
        balance_minor=total.to_minor_units(),
        bucket=strategy.buckets.classify(days_past_due).code,
        stage=arrears.delinquency_stage(
            days_past_due=days_past_due,
            days_until_next_due=until,
            thresholds=strategy.thresholds,
        ),
    )


def _scores(*, state: _State, paid_recently: int, customer: _Customer | None) -> tuple[int, int]:
    """Return (risk, collectability), whole numbers 0-100 (docs/strategy.md)."""
    dpd, owed, total, paid = (
        state.days_past_due,
        state.arrears_minor,
        state.balance_minor,
        paid_recently,
    )
    risk = (40 * min(dpd, 180)) // 180
    if owed > 0:
        risk += (30 * (owed - min(paid, owed))) // owed
    if total > 0:
        risk += (30 * min(max(owed, 0), total)) // total
    collectability = (50 * min(paid, owed)) // owed if owed > 0 else 50
    if customer is not None:
        collectability += 10 * (customer.email is not None)
        collectability += 10 * (customer.phone is not None)
        collectability += 10 * customer.has_address
    collectability += (20 * (365 - min(dpd, 365))) // 365
    return risk, collectability


def _in_band(band: definition.MoneyBand, minor: int, currency: str) -> bool:
    """Return whether ``minor`` units lie in the band given in major units: min <= x < max."""
    scale = decimal.Decimal(10) ** money.minor_units(currency)

    def edge(value: decimal.Decimal) -> int:
        return int((value * scale).to_integral_value(rounding=decimal.ROUND_CEILING))

    return (band.min is None or minor >= edge(band.min)) and (
        band.max is None or minor < edge(band.max)
    )


def _holds(conditions: definition.Conditions, facts: Mapping[str, Any], currency: str) -> bool:
    """Return whether every given condition holds for the account's facts."""
    for name, wanted in conditions.given.items():
        value = facts[name]
        if name in ("dpd", "risk", "collectability"):
            if not wanted.contains(value):
                return False
        elif name in ("balance", "arrears"):
            if not _in_band(wanted, value, currency):
                return False
        elif name in ("vulnerable", "dispute_open", "cease_requested", "breathing_space"):
            if value != wanted:
                return False
        elif value not in wanted:
            return False
    return True


def _segment(
    strategy: definition.Strategy, facts: Mapping[str, Any], currency: str
) -> definition.Segment | None:
    for segment in strategy.segments:
        if _holds(segment.when, facts, currency):
            return segment
    return None


def _stops(
    path: definition.TreatmentPath,
    *,
    account_id: int,
    book: _Book,
    customer: _Customer | None,
    recent_payment: bool,
) -> list[str]:
    """Return the codes of the path's stop conditions that hold, in the path's order."""
    holds = book.holds.get(account_id, set())
    state = {
        StopCondition.PAYMENT_RECEIVED: recent_payment,
        StopCondition.PROMISE_OPEN: ReasonCode.PROMISE_OPEN.value in holds,
        StopCondition.PLAN_ACTIVE: ReasonCode.PLAN_ACTIVE.value in holds,
        StopCondition.DISPUTE_OPEN: account_id in book.open_disputes,
        StopCondition.BREATHING_SPACE: customer is not None and customer.breathing_space,
        StopCondition.CEASE_REQUESTED: customer is not None and customer.cease_requested,
        StopCondition.VULNERABLE: customer is not None and customer.vulnerable,
    }
    return [condition.value for condition in path.stop_when if state[condition]]


def _reachable(customer: _Customer | None, channel: Channel) -> bool:
    if customer is None:
        return False
    if channel is Channel.EMAIL:
        return customer.email is not None
    if channel in (Channel.SMS, Channel.CALL):
        return customer.phone is not None
    return customer.has_address


def _channel(step: definition.Step, customer: _Customer | None) -> str | None:
    """Return the preferred channel if usable, else the first usable, else the first reachable.

    Usable: reachable and not opted out. Without a usable channel the first reachable one is
    chosen so that the contact policy records the opt-out as the reason nothing is sent.
    """
    reachable = [channel for channel in step.channels if _reachable(customer, channel)]
    usable = [
        channel
        for channel in reachable
        if customer is not None and channel.value not in customer.opted_out
    ]
    preferred = customer.preferred_channel if customer is not None else None
    for channel in usable:
        if channel.value == preferred:
            return channel.value
    if usable:
        return usable[0].value
    if reachable:
        return reachable[0].value
    return None


def _days_ago(contact: _Contact, as_of: datetime.date) -> int | None:
    if contact.at is None:
        return None
    return (as_of - contact.at.astimezone(datetime.UTC).date()).days


def _waits(
    step: definition.Step, *, contacts: list[_Contact], as_of: datetime.date
) -> tuple[bool, bool]:
    """Return (STEP_WAIT, CADENCE_WAIT) from the account's contact history."""
    cadence_statuses = {status.value for status in definition.CADENCE_STATUSES}
    step_wait = cadence_wait = False
    for contact in contacts:
        if contact.status not in cadence_statuses:
            continue
        ago = _days_ago(contact, as_of)
        if ago is None:
            continue
        if contact.direction == compliance.Direction.OUTBOUND.value and ago < step.wait_days:
            step_wait = True
        if (
            step.template is not None
            and contact.template == step.template
            and ago < step.every_days
        ):
            cadence_wait = True
    return step_wait, cadence_wait


def _policy(
    *,
    account_id: int,
    customer: _Customer | None,
    channel: str,
    book: _Book,
    now: datetime.datetime,
) -> compliance.Decision:
    """Check one contact with the domain's contact policy, as the pre-filter would."""
    counted = {status.value for status in definition.COUNTED_STATUSES}
    customer_id = customer.customer_id if customer is not None else None
    history = [
        compliance.HistoryItem(
            at=contact.at,
            channel=compliance.Channel(contact.channel),
            direction=compliance.Direction(contact.direction or compliance.Direction.OUTBOUND),
            debt_ids=debt_ids,
            connected=contact.connected,
        )
        for contacts, debt_ids in (
            (book.history_by_account.get(account_id, []), frozenset({str(account_id)})),
            (book.history_by_customer.get(customer_id, []) if customer_id else [], frozenset()),
        )
        for contact in contacts
        if contact.status in counted and contact.at is not None
    ]
    consumer = compliance.Consumer(
        id=str(customer_id),
        time_zones=customer.time_zones if customer is not None else (),
        contact_hours=customer.contact_hours if customer is not None else None,
        opted_out_channels=frozenset(
            compliance.Channel(value) for value in (customer.opted_out if customer else ())
        ),
        # The extract says only that a cease request stands; it stood before now.
        cease_requested_at=now if customer is not None and customer.cease_requested else None,
    )
    debt = compliance.Debt(
        id=str(account_id),
        dispute_received_at=now if account_id in book.unverified_disputes else None,
    )
    return compliance.evaluate(
        consumer=consumer,
        debts=[debt],
        history=history,
        attempt=compliance.Attempt(
            channel=compliance.Channel(channel), debt_ids=frozenset({debt.id})
        ),
        now=now,
    )


def _decide_account(
    account: dict[str, Any],
    *,
    book: _Book,
    strategy: definition.Strategy,
    as_of: datetime.date,
    now: datetime.datetime,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    account_id: int = account["account_id"]
    currency: str = account["currency"]
    customer = book.customers.get(account["customer_id"])
    state = _state(account, book=book, strategy=strategy, as_of=as_of)
    received = [
        row["received_date"]
        for row in book.payments.get(account_id, [])
        if row["received_date"] <= as_of
    ]
    paid_recently = sum(
        row["amount_minor"]
        for row in book.payments.get(account_id, [])
        if as_of - datetime.timedelta(days=SCORE_PAYMENT_DAYS) < row["received_date"] <= as_of
    )
    risk, collectability = _scores(state=state, paid_recently=paid_recently, customer=customer)
    facts = {
        "stages": state.stage.value,
        "buckets": state.bucket,
        "dpd": state.days_past_due,
        "products": account.get("product_type"),
        "debtor_types": customer.debtor_type if customer else None,
        "currencies": currency,
        "balance": state.balance_minor,
        "arrears": state.arrears_minor,
        "risk": risk,
        "collectability": collectability,
        "vulnerable": bool(customer and customer.vulnerable),
        "dispute_open": account_id in book.open_disputes,
        "cease_requested": bool(customer and customer.cease_requested),
        "breathing_space": bool(customer and customer.breathing_space),
        "preferred_channels": (customer.preferred_channel if customer else None)
        or definition.NO_PREFERENCE,
        "languages": customer.language if customer else None,
        "regions": customer.region if customer else None,
        "countries": customer.country if customer else None,
    }

    codes = [
        ReasonPrefix.STAGE.value + state.stage.value,
        f"{ReasonPrefix.DPD.value}{state.days_past_due}",
    ]
    if state.stage is arrears.DelinquencyStage.PRE_DUE:
        codes.append(f"{ReasonPrefix.DUE_IN.value}{state.days_until_next_due}")
    is_open = account["status"] == AccountStatus.OPEN.value
    if not is_open:
        codes.append(ReasonPrefix.ACCOUNT.value + account["status"])

    segment = _segment(strategy, facts, currency)
    experiment_name = arm_name = path_name = ""
    if segment is not None:
        path_name = segment.path
        if segment.experiment is not None:
            experiment = segment.experiment
            arm = experiment.arm_for(definition.arm_bucket(account_id, experiment.name))
            experiment_name, arm_name, path_name = experiment.name, arm.name, arm.path
            if (experiment.name, arm.name) in book.paused_arms:
                path_name = segment.path
                codes.append(ReasonCode.ARM_PAUSED.value)

    treatment = Treatment.NONE.value
    channel: str | None = None
    contact: dict[str, Any] | None = None
    if segment is None:
        codes.append(ReasonCode.NO_SEGMENT.value)
    elif is_open:
        path = strategy.paths[path_name]
        recent = any((as_of - day).days < strategy.recent_payment_days for day in received)
        stops = _stops(
            path, account_id=account_id, book=book, customer=customer, recent_payment=recent
        )
        codes.extend(stops)
        step = (
            None
            if stops
            else path.step_for(
                days_past_due=state.days_past_due,
                days_until_next_due=state.days_until_next_due,
            )
        )
        if not stops and step is None:
            codes.append(ReasonCode.NO_STEP.value)
        if step is not None:
            treatment = step.treatment.value
            if step.contacts:
                channel = _channel(step, customer)
                step_wait, cadence_wait = _waits(
                    step, contacts=book.history_by_account.get(account_id, []), as_of=as_of
                )
                if step_wait:
                    codes.append(ReasonCode.STEP_WAIT.value)
                if cadence_wait:
                    codes.append(ReasonCode.CADENCE_WAIT.value)
                if channel is None:
                    codes.append(ReasonCode.NO_CONTACT_POINT.value)
                elif not step_wait and not cadence_wait:
                    assert step.template is not None
                    contact = _contact(
                        account_id=account_id,
                        customer=customer,
                        customer_id=account["customer_id"],
                        channel=channel,
                        template=step.template,
                        codes=codes,
                        book=book,
                        as_of=as_of,
                        now=now,
                    )

    decision = {
        "account_id": account_id,
        "customer_id": account["customer_id"],
        "currency": currency,
        "days_past_due": state.days_past_due,
        "bucket": state.bucket,
        "stage": state.stage.value,
        "arrears_minor": state.arrears_minor,
        "balance_minor": state.balance_minor,
        "treatment": treatment,
        "channel": channel,
        "reason_codes": codes,
        "segment": segment.name if segment is not None else "",
        "path": path_name,
        "experiment": experiment_name,
        "arm": arm_name,
        "risk_score": risk,
        "collectability_score": collectability,
    }
    return decision, contact


def _contact(
    *,
    account_id: int,
    customer: _Customer | None,
    customer_id: int,
    channel: str,
    template: str,
    codes: list[str],
    book: _Book,
    as_of: datetime.date,
    now: datetime.datetime,
) -> dict[str, Any] | None:
    """Check the wanted contact; add the policy's codes; return its outbox row unless blocked."""
    answer = _policy(account_id=account_id, customer=customer, channel=channel, book=book, now=now)
    codes.extend(answer.codes)
    planned_at = now if answer.allowed else answer.next_allowed_at
    if planned_at is None:
        codes.append(ReasonCode.POLICY_BLOCKED.value)
        return None
    if not answer.allowed:
        codes.append(ReasonCode.POLICY_DEFERRED.value)
    if channel == Channel.EMAIL.value:
        destination = customer.email if customer else None
    elif channel in (Channel.SMS.value, Channel.CALL.value):
        destination = customer.phone if customer else None
    else:
        destination = None
    return {
        "account_id": account_id,
        "customer_id": customer_id,
        "channel": channel,
        "template": template,
        "language": (customer.language if customer else None) or DEFAULT_LANGUAGE,
        "destination": destination or "",
        "planned_at": planned_at,
        "idempotency_key": f"strategy:{as_of.isoformat()}:{account_id}:{template}:{channel}",
        "policy_reasons": [] if answer.allowed else list(answer.codes),
    }
