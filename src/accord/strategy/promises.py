"""Judge every open promise whose date has passed: kept or broken, all at once.

A promise is **kept** when the payments received from the day it was made (in the operator's
time zone) through its promised date add up to at least the promised amount, and **broken**
otherwise. Payments after the promised date do not rescue it; they still reduce the arrears.
"""

from __future__ import annotations

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from accord.strategy import definition, delinquency

KEPT, BROKEN = definition.PromiseStatus.KEPT, definition.PromiseStatus.BROKEN

PROMISES_SCHEMA = pa.schema(
    [
        ("promise_id", pa.int64()),
        ("account_id", pa.int64()),
        ("amount_minor", pa.int64()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("promised_date", pa.date32()),
    ]
)
RESULT_SCHEMA = pa.schema(
    [("promise_id", pa.int64()), ("status", pa.string()), ("paid_minor", pa.int64())]
)


def local_dates(instants: pa.ChunkedArray, time_zone: str) -> pa.ChunkedArray:
    """Return the date each UTC instant falls on in ``time_zone`` (IANA)."""
    local = pc.local_timestamp(instants.cast(pa.timestamp("us", tz=time_zone)))
    dates: pa.ChunkedArray = local.cast(pa.date32())
    return dates


def evaluate(*, promises: pa.Table, payments: pa.Table, time_zone: str) -> pa.Table:
    """Return ``promise_id``, ``status`` (KEPT or BROKEN) and ``paid_minor`` for each promise.

    ``promises`` are the open promises to judge (``PROMISES_SCHEMA``); ``payments`` follow
    :data:`delinquency.PAYMENTS_SCHEMA`; ``time_zone`` (IANA) turns the moment a promise was
    made into the day it was made.
    """
    if promises.num_rows == 0:
        return RESULT_SCHEMA.empty_table()
    made = promises.select(["promise_id", "account_id", "amount_minor", "promised_date"])
    made = made.append_column("made_date", local_dates(promises["created_at"], time_zone))
    promise = ibis.memtable(made)
    payment = delinquency.table(payments, delinquency.PAYMENTS_SCHEMA)
    matched = promise.left_join(
        payment,
        [
            promise.account_id == payment.account_id,
            payment.received_date >= promise.made_date,
            payment.received_date <= promise.promised_date,
        ],
    )
    totals = matched.group_by(["promise_id", "amount_minor"]).aggregate(
        paid_minor=matched.amount_minor_right.sum().fill_null(0)
    )
    result = totals.select(
        "promise_id",
        status=ibis.ifelse(totals.paid_minor >= totals.amount_minor, KEPT.value, BROKEN.value),
        paid_minor=totals.paid_minor.cast("int64"),
    ).order_by("promise_id")
    table: pa.Table = delinquency.connect().to_pyarrow(result)
    return table.cast(RESULT_SCHEMA)
