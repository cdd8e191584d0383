"""Compute every account's days past due, arrears, balance, bucket and stage as one Ibis expression.

The rules are exactly those of :mod:`accord.domain.arrears` (a property test holds the two
together): payments received on or before ``as_of`` are pooled and applied to charges oldest
due first, so a charge's unpaid remainder is its amount less whatever the
pool has left after paying every older charge. With a running total of charges in that order,
``unpaid = clamp(running_total - paid, 0, amount)``: a window function, no loop.

Money travels as integer minor units (``*_minor``, int64) in the account's currency; the
edges convert it to :class:`~accord.domain.money.Money`.
"""

from __future__ import annotations

import datetime
from typing import Any

import ibis
import pyarrow as pa
from ibis.expr import types as ir

from accord.domain import arrears

ACCOUNTS_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("currency", pa.string()),
        ("status", pa.string()),
    ]
)
CHARGES_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("due_date", pa.date32()),
        ("amount_minor", pa.int64()),
    ]
)
PAYMENTS_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("received_date", pa.date32()),
        ("amount_minor", pa.int64()),
    ]
)
# Dates enter the engines as day numbers (:func:`day_numbers`).
CHARGE_DAYS = pa.schema(
    [
        ("account_id", pa.int64()),
        ("due_date", pa.int64()),
        ("amount_minor", pa.int64()),
    ]
)
PAYMENT_DAYS = pa.schema(
    [("account_id", pa.int64()), ("received_date", pa.int64()), ("amount_minor", pa.int64())]
)
EPOCH = datetime.date(1970, 1, 1)
STATE_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("currency", pa.string()),
        ("status", pa.string()),
        ("days_past_due", pa.int64()),
        ("days_until_next_due", pa.int64()),
        ("arrears_minor", pa.int64()),
        ("balance_minor", pa.int64()),
        ("bucket", pa.string()),
        ("stage", pa.string()),
    ]
)


def _int(value: int) -> ir.IntegerValue:
    return ibis.literal(value, type="int64")


def connect() -> Any:
    """Return a fresh in-memory DuckDB backend for one computation."""
    return ibis.duckdb.connect()


def table(data: pa.Table, schema: pa.Schema) -> ir.Table:
    """Return ``data`` (cast to ``schema``) as an Ibis table, registered on execution."""
    return ibis.memtable(data.select(schema.names).cast(schema))


def charge_days(charges: pa.Table) -> pa.Table:
    """Return ``charges`` (``CHARGES_SCHEMA``) with due dates as day numbers, for ``states``."""
    return day_numbers(charges.select(CHARGES_SCHEMA.names), ("due_date",)).cast(CHARGE_DAYS)


def payment_days(payments: pa.Table) -> pa.Table:
    """Return ``payments`` (``PAYMENTS_SCHEMA``) with day numbers, as ``states`` reads them."""
    return day_numbers(payments.select(PAYMENTS_SCHEMA.names), ("received_date",)).cast(
        PAYMENT_DAYS
    )


def stage_expression(
    *,
    days_past_due: ir.IntegerValue,
    days_until_next_due: ir.IntegerValue,
    thresholds: arrears.StageThresholds,
) -> ir.StringValue:
    """Return :func:`arrears.delinquency_stage` as an Ibis expression."""
    stage = arrears.DelinquencyStage
    return ibis.cases(
        (
            (days_past_due == 0)
            & days_until_next_due.notnull()
            & (days_until_next_due <= thresholds.pre_due_days),
            stage.PRE_DUE.value,
        ),
        (days_past_due == 0, stage.CURRENT.value),
        (days_past_due <= thresholds.early_max, stage.EARLY.value),
        (days_past_due <= thresholds.mid_max, stage.MID.value),
        (days_past_due <= thresholds.late_max, stage.LATE.value),
        else_=stage.RECOVERY.value,
    )


def bucket_expression(
    *, days_past_due: ir.IntegerValue, buckets: arrears.BucketScheme
) -> ir.StringValue:
    """Return :meth:`arrears.BucketScheme.classify` (its code) as an Ibis expression."""
    bounded = [bucket for bucket in buckets.buckets if bucket.max_days is not None]
    if not bounded:
        return ibis.literal(buckets.buckets[-1].code)
    return ibis.cases(
        *[(days_past_due <= bucket.max_days, bucket.code) for bucket in bounded],
        else_=buckets.buckets[-1].code,
    )


def day_number(day: datetime.date) -> int:
    """Return ``day`` as a whole number of days since 1970-01-01 (Arrow's ``date32`` value)."""
    return (day - EPOCH).days


def day_numbers(data: pa.Table, names: tuple[str, ...]) -> pa.Table:
    """Replace the ``date32`` columns ``names`` by their day numbers (int64).

    Every engine subtracts and compares whole numbers the same way; date arithmetic and
    date types differ from one engine to the next, so dates cross into the engines as
    day numbers.
    """
    for name in names:
        index = data.schema.get_field_index(name)
        column = data[name].cast(pa.date32()).cast(pa.int32()).cast(pa.int64())
        data = data.set_column(index, name, column)
    return data


def account_states(
    *,
    accounts: pa.Table,
    charges: pa.Table,
    payments: pa.Table,
    as_of: datetime.date,
    thresholds: arrears.StageThresholds = arrears.DEFAULT_STAGE_THRESHOLDS,
    buckets: arrears.BucketScheme = arrears.DEFAULT_BUCKETS,
) -> ir.Table:
    """Return one row per account (``STATE_SCHEMA``) as an unexecuted Ibis expression.

    Accounts without charges are up to date with a balance of minus what they paid.
    """
    return states(
        account=table(accounts, ACCOUNTS_SCHEMA),
        charges=ibis.memtable(charge_days(charges)),
        payments=ibis.memtable(payment_days(payments)),
        as_of=as_of,
        thresholds=thresholds,
        buckets=buckets,
    ).select(*STATE_SCHEMA.names)


def states(
    *,
    account: ir.Table,
    charges: ir.Table,
    payments: ir.Table,
    as_of: datetime.date,
    thresholds: arrears.StageThresholds,
    buckets: arrears.BucketScheme,
    payment_window_days: int = 90,
) -> ir.Table:
    """Return ``account`` (an Ibis table with ``ACCOUNTS_SCHEMA``'s columns and any others)
    with the ``STATE_SCHEMA`` columns and the payment facts the strategy reads.

    The payment facts: ``paid_window_minor`` (received in the ``payment_window_days`` days
    ending on ``as_of``) and ``last_payment_day`` (day number, null without payments).
    ``charges`` and ``payments`` carry day numbers (``CHARGE_DAYS``, ``PAYMENT_DAYS``: see
    :func:`charge_days`, :func:`payment_days`). Only whole-number arithmetic on day numbers,
    so every engine computes the same states.
    """
    charge = charges
    payment = payments
    day = ibis.literal(day_number(as_of), type="int64")

    received = payment.filter(payment.received_date <= day)
    in_window = received.received_date > day - payment_window_days
    paid = received.group_by("account_id").aggregate(
        paid_minor=received.amount_minor.sum(),
        paid_window_minor=received.amount_minor.sum(where=in_window),
        last_payment_day=received.received_date.max(),
    )
    # The pool pays the oldest charges first, so of the charges due before today (the
    # oldest ones) it leaves max(billed due - paid, 0) unpaid: the arrears, with no order.
    due_before = charge.due_date < day
    billed = charge.group_by("account_id").aggregate(
        billed_minor=charge.amount_minor.sum(),
        billed_due_minor=charge.amount_minor.sum(where=due_before),
        first_future_due=charge.due_date.min(where=~due_before & (charge.amount_minor > 0)),
    )
    totals = billed.left_join(paid.select("account_id", "paid_minor"), "account_id").drop(
        "account_id_right"
    )
    pool = totals.paid_minor.fill_null(0)
    # Paid beyond what is due (> 0), or owed of it (< 0).
    ahead = pool - totals.billed_due_minor.fill_null(0)
    totals = totals.mutate(arrears_minor=ibis.greatest(_int(0) - ahead, 0), ahead=ahead, pool=pool)
    # Which charge the pool runs out on needs the charges in order: a running total, only
    # where the answer is not known without it. In arrears: the oldest charge still owed
    # is among those due before today (the pool is measured against all of it). Paid
    # ahead: the next charge owed is among the future ones (against what is left over).
    # A charge is owed when the running total passes the pool on it (an amount > 0).
    # Ordered by due date only: charges falling due the same day may be paid in any order,
    # yet the first day on which the running total passes the pool is the same whichever
    # order they are in. So the window sorts whole numbers only (no string collation) and
    # every engine gives the same answer.
    needed = totals.filter((totals.arrears_minor > 0) | (totals.ahead > 0)).select(
        "account_id",
        in_arrears=totals.arrears_minor > 0,
        against=ibis.ifelse(totals.arrears_minor > 0, totals.pool, totals.ahead),
    )
    ordered_part = charge.join(needed, "account_id")
    ordered_part = ordered_part.filter(
        ibis.ifelse(
            ordered_part.in_arrears, ordered_part.due_date < day, ordered_part.due_date >= day
        )
    )
    ordered = ibis.cumulative_window(group_by="account_id", order_by="due_date")
    running = ordered_part.mutate(running_minor=ordered_part.amount_minor.sum().over(ordered))
    owed = running.filter((running.running_minor > running.against) & (running.amount_minor > 0))
    first_owed = owed.group_by("account_id").aggregate(first_owed=owed.due_date.min())
    per_account = totals.left_join(first_owed, "account_id").drop("account_id_right")
    per_account = per_account.select(
        "account_id",
        "billed_minor",
        arrears_minor=per_account.arrears_minor.cast("int64"),
        oldest_unpaid=ibis.ifelse(
            per_account.arrears_minor > 0, per_account.first_owed, ibis.null("int64")
        ),
        next_unpaid=ibis.ifelse(
            per_account.ahead > 0, per_account.first_owed, per_account.first_future_due
        ),
    )

    state = account.left_join(per_account, "account_id").drop("account_id_right")
    state = state.left_join(paid, "account_id").drop("account_id_right")
    state = state.mutate(
        days_past_due=ibis.ifelse(state.oldest_unpaid.notnull(), day - state.oldest_unpaid, 0).cast(
            "int64"
        ),
        days_until_next_due=(state.next_unpaid - day).cast("int64"),
        arrears_minor=state.arrears_minor.fill_null(0).cast("int64"),
        balance_minor=(state.billed_minor.fill_null(0) - state.paid_minor.fill_null(0)).cast(
            "int64"
        ),
        paid_window_minor=state.paid_window_minor.fill_null(0).cast("int64"),
        last_payment_day=state.last_payment_day.cast("int64"),
    )
    state = state.mutate(
        bucket=bucket_expression(days_past_due=state.days_past_due, buckets=buckets),
        stage=stage_expression(
            days_past_due=state.days_past_due,
            days_until_next_due=state.days_until_next_due,
            thresholds=thresholds,
        ),
    )
    return state.drop("billed_minor", "oldest_unpaid", "next_unpaid", "paid_minor")


def compute_states(
    *,
    accounts: pa.Table,
    charges: pa.Table,
    payments: pa.Table,
    as_of: datetime.date,
    thresholds: arrears.StageThresholds = arrears.DEFAULT_STAGE_THRESHOLDS,
    buckets: arrears.BucketScheme = arrears.DEFAULT_BUCKETS,
) -> pa.Table:
    """Return :func:`account_states` executed by DuckDB, ordered by account."""
    expression = account_states(
        accounts=accounts,
        charges=charges,
        payments=payments,
        as_of=as_of,
        thresholds=thresholds,
        buckets=buckets,
    ).order_by("account_id")
    result: pa.Table = connect().to_pyarrow(expression)
    return result.cast(STATE_SCHEMA)
