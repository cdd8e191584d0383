"""Compute every account's days past due, arrears, balance, bucket and stage as one Ibis expression.

The rules are exactly those of :mod:`accord.domain.arrears` (a property test holds the two
together): payments received on or before ``as_of`` are pooled and applied to charges oldest
due first (ties by reference), so a charge's unpaid remainder is its amount less whatever the
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
        ("reference", pa.string()),
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


def connect() -> Any:
    """Return a fresh in-memory DuckDB backend for one computation."""
    return ibis.duckdb.connect()


def table(data: pa.Table, schema: pa.Schema) -> ir.Table:
    """Return ``data`` (cast to ``schema``) as an Ibis table, registered on execution."""
    return ibis.memtable(data.select(schema.names).cast(schema))


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
    account = table(accounts, ACCOUNTS_SCHEMA)
    charge = table(charges, CHARGES_SCHEMA)
    payment = table(payments, PAYMENTS_SCHEMA)
    day = ibis.date(as_of)

    paid = (
        payment.filter(payment.received_date <= day)
        .group_by("account_id")
        .aggregate(paid_minor=payment.amount_minor.sum())
    )
    ordered = ibis.cumulative_window(group_by="account_id", order_by=["due_date", "reference"])
    running = charge.mutate(running_minor=charge.amount_minor.sum().over(ordered))
    joined = running.left_join(paid, "account_id").drop("account_id_right")
    pool = joined.paid_minor.fill_null(0)
    # What the pool leaves unpaid of this charge after every older charge took its share.
    unpaid = ibis.least(joined.amount_minor, ibis.greatest(joined.running_minor - pool, 0)).name(
        "unpaid_minor"
    )
    remainders = joined.mutate(unpaid_minor=unpaid)
    due_before = remainders.due_date < day
    owing = remainders.unpaid_minor > 0
    per_account = remainders.group_by("account_id").aggregate(
        billed_minor=remainders.amount_minor.sum(),
        arrears_minor=remainders.unpaid_minor.sum(where=due_before),
        oldest_unpaid=remainders.due_date.min(where=owing & due_before),
        next_unpaid=remainders.due_date.min(where=owing & ~due_before),
    )

    state = account.left_join(per_account, "account_id").drop("account_id_right")
    state = state.left_join(paid, "account_id").drop("account_id_right")
    days_past_due = (
        ibis.cases(
            (state.oldest_unpaid.notnull(), day.delta(state.oldest_unpaid, unit="day")),
            else_=0,
        )
        .cast("int64")
        .name("days_past_due")
    )
    days_until = state.next_unpaid.delta(day, unit="day").cast("int64")
    state = state.mutate(
        days_past_due=days_past_due,
        days_until_next_due=days_until,
        arrears_minor=state.arrears_minor.fill_null(0).cast("int64"),
        balance_minor=(state.billed_minor.fill_null(0) - state.paid_minor.fill_null(0)).cast(
            "int64"
        ),
    )
    state = state.mutate(
        bucket=bucket_expression(days_past_due=state.days_past_due, buckets=buckets),
        stage=stage_expression(
            days_past_due=state.days_past_due,
            days_until_next_due=state.days_until_next_due,
            thresholds=thresholds,
        ),
    )
    return state.select(*STATE_SCHEMA.names)


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
