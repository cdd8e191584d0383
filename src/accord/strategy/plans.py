"""Judge every active repayment plan at once: still on track, completed or broken.

The payments received on the account from the day the plan was agreed (in the operator's
time zone) through the as-of date are pooled and set against the plan's instalments in
order. A plan is **completed** when they cover every instalment, **broken** when they do
not cover the instalments that fell due more than ``grace_days`` before the as-of date,
and stays **active** otherwise. Cumulative sums, not a loop per plan.
"""

from __future__ import annotations

import datetime

import ibis
import pyarrow as pa

from accord.strategy import definition, delinquency, promises

PLANS_SCHEMA = pa.schema(
    [
        ("plan_id", pa.int64()),
        ("account_id", pa.int64()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)
INSTALMENTS_SCHEMA = pa.schema(
    [("plan_id", pa.int64()), ("due_date", pa.date32()), ("amount_minor", pa.int64())]
)
RESULT_SCHEMA = pa.schema(
    [
        ("plan_id", pa.int64()),
        ("account_id", pa.int64()),
        ("status", pa.string()),
        ("scheduled_minor", pa.int64()),
        ("due_minor", pa.int64()),
        ("paid_minor", pa.int64()),
    ]
)


def evaluate(
    *,
    plans: pa.Table,
    instalments: pa.Table,
    payments: pa.Table,
    as_of: datetime.date,
    grace_days: int,
    time_zone: str,
) -> pa.Table:
    """Return each active plan's status as of ``as_of`` (``RESULT_SCHEMA``, one row per plan).

    ``plans`` are the ACTIVE plans (``PLANS_SCHEMA``), ``instalments`` their schedules
    (``INSTALMENTS_SCHEMA``), ``payments`` follow :data:`delinquency.PAYMENTS_SCHEMA`.
    ``status`` is ACTIVE, COMPLETED or BROKEN; ``scheduled_minor`` is the sum of every
    instalment, ``due_minor`` of those past their grace, ``paid_minor`` what was received.
    """
    if plans.num_rows == 0:
        return RESULT_SCHEMA.empty_table()
    made = plans.select(["plan_id", "account_id"]).append_column(
        "made_date", promises.local_dates(plans["created_at"], time_zone)
    )
    plan = ibis.memtable(made)
    payment = delinquency.table(payments, delinquency.PAYMENTS_SCHEMA)
    received = plan.left_join(
        payment,
        [
            plan.account_id == payment.account_id,
            payment.received_date >= plan.made_date,
            payment.received_date <= ibis.date(as_of),
        ],
    )
    paid = received.group_by("plan_id").aggregate(
        paid_minor=received.amount_minor.sum().fill_null(0)
    )
    schedule = delinquency.table(instalments, INSTALMENTS_SCHEMA)
    # An instalment is missed once its due date plus the grace is before the as-of date.
    last_due = ibis.date(as_of - datetime.timedelta(days=grace_days + 1))
    owed = schedule.group_by("plan_id").aggregate(
        scheduled_minor=schedule.amount_minor.sum(),
        due_minor=ibis.ifelse(schedule.due_date <= last_due, schedule.amount_minor, 0).sum(),
    )
    joined = (
        plan.left_join(paid, "plan_id")
        .drop("plan_id_right")
        .left_join(owed, "plan_id")
        .drop("plan_id_right")
    )
    scheduled = joined.scheduled_minor.fill_null(0)
    due = joined.due_minor.fill_null(0)
    settled = joined.paid_minor.fill_null(0)
    status = ibis.cases(
        (settled >= scheduled, definition.PlanStatus.COMPLETED.value),
        (settled < due, definition.PlanStatus.BROKEN.value),
        else_=definition.PlanStatus.ACTIVE.value,
    )
    result = joined.select(
        "plan_id",
        "account_id",
        status=status,
        scheduled_minor=scheduled.cast("int64"),
        due_minor=due.cast("int64"),
        paid_minor=settled.cast("int64"),
    ).order_by("plan_id")
    table: pa.Table = delinquency.connect().to_pyarrow(result)
    return table.cast(RESULT_SCHEMA)
