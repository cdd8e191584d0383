"""Generate a synthetic book of engine inputs with every feature a strategy reads, vectorised.

Used by the engine parity tests (a few thousand accounts through every engine) and by the
engine's own timing (a million accounts): numpy arrays straight into Arrow, no database.
"""

from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa

from accord.strategy import delinquency, engine

EPOCH = datetime.date(1970, 1, 1)
CURRENCIES = np.array(["EUR", "GBP", "JPY", "USD", "BHD"])
PRODUCTS = np.array(["CREDIT_CARD", "LOAN", "UTILITY", "TELCO", "BNPL"])
CHANNELS = np.array(["", "EMAIL", "SMS", "LETTER", "CALL"])
LANGUAGES = np.array(["en", "es"])
REGIONS = np.array(["", "north", "Greater London", "Madrid"])
COUNTRIES = np.array(["ES", "GB", "US", "MX"])
TEMPLATES = np.array(
    ["pre_due_reminder", "late_notice", "promise_request", "plan_offer", "call_task"]
)
STATUSES = np.array(["PLANNED", "SENT", "FAILED", "BLOCKED", "COMPLETED", "SENDING", "CANCELLED"])
ACCOUNT_STATUSES = np.array(["OPEN"] * 17 + ["CLOSED", "CHARGED_OFF", "SETTLED"])
ZONES = [["Europe/Madrid"], ["Europe/London"], ["America/New_York", "America/Chicago"], []]


def _days(as_of: datetime.date, offsets: np.ndarray) -> pa.Array:
    base = (as_of - EPOCH).days
    return pa.array((base + offsets).astype(np.int32), pa.int32()).cast(pa.date32())


def portfolio(
    accounts: int,
    *,
    as_of: datetime.date,
    now: datetime.datetime,
    seed: int = 7,
    decided_share: float = 0.02,
    paused: tuple[tuple[str, str], ...] = (("early-sms-first", "sms_first"),),
) -> engine.Inputs:
    """Return engine inputs for ``accounts`` accounts (one customer each, a few shared)."""
    rng = np.random.default_rng(seed)
    n = accounts
    ids = np.arange(1, n + 1, dtype=np.int64)
    # Every tenth customer has a second account.
    customer_of = np.where(ids % 10 == 0, ids - 1, ids)
    customers = np.unique(customer_of)
    m = customers.size

    account_table = pa.table(
        {
            "account_id": ids,
            "customer_id": customer_of,
            "currency": CURRENCIES[rng.integers(0, CURRENCIES.size, n)],
            "status": ACCOUNT_STATUSES[rng.integers(0, ACCOUNT_STATUSES.size, n)],
            "product_type": PRODUCTS[rng.integers(0, PRODUCTS.size, n)],
        }
    )

    # Charges: 1-4 per account, monthly, the latest from 40 days ahead to 400 days back.
    per = rng.integers(1, 5, n)
    charge_account = np.repeat(ids, per)
    within = np.arange(charge_account.size) - np.repeat(np.cumsum(per) - per, per)
    latest = np.repeat(rng.integers(-400, 40, n), per)
    due = latest - 30 * within
    amount = rng.integers(1, 50_000, charge_account.size)
    charges = pa.table(
        {
            "account_id": charge_account,
            "due_date": _days(as_of, due),
            "amount_minor": amount.astype(np.int64),
        }
    )

    # Payments: 0-3 per account within the last 200 days (some today, some this week).
    paying = rng.integers(0, 4, n)
    payment_account = np.repeat(ids, paying)
    received = -rng.integers(0, 200, payment_account.size)
    recent = rng.random(payment_account.size) < 0.1
    received = np.where(recent, -rng.integers(0, 8, payment_account.size), received)
    payments = pa.table(
        {
            "account_id": payment_account,
            "received_date": _days(as_of, received),
            "amount_minor": rng.integers(1, 40_000, payment_account.size).astype(np.int64),
        }
    )

    zone_pick = rng.integers(0, len(ZONES), m)
    hours = rng.random(m) < 0.2
    customer_table = pa.table(
        {
            "customer_id": customers,
            "language": LANGUAGES[rng.integers(0, LANGUAGES.size, m)],
            "preferred_channel": CHANNELS[rng.integers(0, CHANNELS.size, m)],
            "time_zones": pa.array([ZONES[k] for k in zone_pick], pa.list_(pa.string())),
            "contact_hours_start": pa.array(np.where(hours, "10:00", None).tolist(), pa.string()),
            "contact_hours_end": pa.array(np.where(hours, "18:00", None).tolist(), pa.string()),
            "has_address": rng.random(m) < 0.9,
            "debtor_type": np.where(rng.random(m) < 0.8, "CONSUMER", "BUSINESS"),
            "region": REGIONS[rng.integers(0, REGIONS.size, m)],
            "country": COUNTRIES[rng.integers(0, COUNTRIES.size, m)],
        }
    )

    has_email = rng.random(m) < 0.8
    has_phone = rng.random(m) < 0.7
    second_email = rng.random(m) < 0.1
    email_owner = np.concatenate([customers[has_email], customers[second_email]])
    email_position = np.concatenate(
        [np.zeros(has_email.sum(), np.int64), np.ones(second_email.sum(), np.int64)]
    )
    email_value = np.char.add(
        email_owner.astype(str), np.where(email_position == 0, "@a.test", "@b.test")
    )
    phone_owner = customers[has_phone]
    points = pa.table(
        {
            "customer_id": np.concatenate([email_owner, phone_owner]),
            "kind": np.concatenate(
                [np.full(email_owner.size, "EMAIL"), np.full(phone_owner.size, "PHONE")]
            ),
            "value": np.concatenate(
                [email_value, np.char.add("+3460", phone_owner.astype(str))]
            ).astype(object),
            "position": np.concatenate([email_position, np.zeros(phone_owner.size, np.int64)]),
        }
    )

    def some(values: np.ndarray, share: float) -> np.ndarray:
        return values[rng.random(values.size) < share]

    opted = some(customers, 0.1)
    opt_outs = pa.table(
        {"customer_id": opted, "channel": CHANNELS[1:][rng.integers(0, 4, opted.size)]}
    )
    holds = engine.holds(
        promise_accounts=pa.array(some(ids, 0.05)), plan_accounts=pa.array(some(ids, 0.03))
    )

    # Contact history: recent contacts, some about no account (customer-level calls).
    contacts = int(n * 0.6)
    contact_account = rng.integers(1, n + 1, contacts)
    customer_level = rng.random(contacts) < 0.05
    when = np.datetime64(now.replace(tzinfo=None), "us") - (
        rng.integers(0, 20 * 24 * 3600, contacts) * np.timedelta64(1, "s")
    )
    sent = rng.random(contacts) < 0.6
    utc = pa.timestamp("us", tz="UTC")
    history = pa.table(
        {
            "account_id": pa.array(
                np.where(customer_level, 0, contact_account), pa.int64(), mask=customer_level
            ),
            "customer_id": np.where(
                contact_account % 10 == 0, contact_account - 1, contact_account
            ),
            "template": TEMPLATES[rng.integers(0, TEMPLATES.size, contacts)],
            "channel": CHANNELS[1:][rng.integers(0, 4, contacts)],
            "status": STATUSES[rng.integers(0, STATUSES.size, contacts)],
            "direction": np.where(rng.random(contacts) < 0.9, "OUTBOUND", "INBOUND"),
            "connected": pa.array(rng.random(contacts) < 0.5, pa.bool_()),
            "planned_at": pa.array(when, pa.timestamp("us")).cast(utc),
            "sent_at": pa.array(when, pa.timestamp("us"), mask=~sent).cast(utc),
        }
    )
    decided = pa.table({"account_id": some(ids, decided_share)})
    return engine.Inputs(
        accounts=account_table.cast(engine.ACCOUNTS_SCHEMA),
        charges=charges.cast(delinquency.CHARGES_SCHEMA),
        payments=payments.cast(delinquency.PAYMENTS_SCHEMA),
        customers=customer_table.cast(engine.CUSTOMERS_SCHEMA),
        contact_points=points.cast(engine.CONTACT_POINTS_SCHEMA),
        opt_outs=opt_outs.cast(engine.OPT_OUTS_SCHEMA),
        cease_requests=pa.table({"customer_id": some(customers, 0.02)}),
        unverified_disputes=pa.table({"account_id": some(ids, 0.01)}),
        open_disputes=pa.table({"account_id": some(ids, 0.03)}),
        vulnerable_customers=pa.table({"customer_id": some(customers, 0.05)}),
        breathing_spaces=pa.table({"customer_id": some(customers, 0.02)}),
        paused_arms=pa.Table.from_pylist(
            [{"experiment": e, "arm": a} for e, a in paused], schema=engine.PAUSED_ARMS_SCHEMA
        ),
        holds=holds,
        history=history.cast(engine.HISTORY_SCHEMA),
        decided=decided.cast(engine.DECIDED_SCHEMA),
    )
