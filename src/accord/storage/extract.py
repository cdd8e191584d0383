"""Move batch data between the database and Arrow: extract for the strategy run, load results.

Extraction reads through Django's connection (so inside its transaction, on SQLite and
PostgreSQL alike) with ``fetchmany`` in batches and turns each batch into Arrow column by
column: the only per-row Python objects are the tuples the database driver returns. Dates,
times and JSON are selected as text (both databases then agree) and parsed in bulk. ADBC
drivers, which hand Arrow over without Python tuples, replace this in issue 5 (ADR 0008).

Loading goes the other way: an Arrow table becomes one ``COPY`` on PostgreSQL or batched
``executemany`` on SQLite, never an ORM ``save()`` per row.
"""

from __future__ import annotations

import contextlib
import datetime
import enum
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection

from accord.storage import bulk, models

FETCH_BATCH = 50_000
LOAD_BATCH = 50_000


class Kind(enum.Enum):
    """Say how a selected column turns into Arrow."""

    INT = "int"
    TEXT = "text"
    BOOL = "bool"
    DATE = "date"  # selected as ISO text
    TIME = "time"  # selected as text; kept as "HH:MM"
    TIMESTAMP = "timestamp"  # stored in UTC; returned as timestamp[us, UTC]
    JSON_TEXT_LIST = "json_text_list"  # a JSON array of strings, selected as text


_ARROW = {
    Kind.INT: pa.int64(),
    Kind.TEXT: pa.string(),
    Kind.BOOL: pa.bool_(),
    Kind.DATE: pa.date32(),
    Kind.TIME: pa.string(),
    Kind.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    Kind.JSON_TEXT_LIST: pa.list_(pa.string()),
}


def schema(columns: Mapping[str, Kind]) -> pa.Schema:
    """Return the Arrow schema :func:`fetch` gives for ``columns``."""
    return pa.schema([(name, _ARROW[kind]) for name, kind in columns.items()])


def q(name: str) -> str:
    """Return ``name`` quoted for the current database."""
    return connection.ops.quote_name(name)


def t(model: type[Any]) -> str:
    """Return the quoted table name of ``model``."""
    return q(bulk.table(model))


def as_text(column: str) -> str:
    """Return SQL selecting ``column`` as text (dates, times and JSON agree across databases)."""
    return f"CAST({column} AS TEXT)"


def fetch(
    sql: str, params: Sequence[Any], columns: Mapping[str, Kind], *, batch: int = FETCH_BATCH
) -> pa.Table:
    """Run ``sql`` (``%s`` placeholders) and return its rows as an Arrow table.

    ``columns`` names the selected columns in order and says how each converts.
    """
    target = schema(columns)
    batches: list[pa.RecordBatch] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        while rows := cursor.fetchmany(batch):
            values = list(zip(*rows, strict=True))
            arrays = [_column(values[index], kind) for index, kind in enumerate(columns.values())]
            batches.append(pa.RecordBatch.from_arrays(arrays, schema=target))
    if not batches:
        return target.empty_table()
    return pa.Table.from_batches(batches, schema=target)


def _column(values: Sequence[Any], kind: Kind) -> pa.Array:
    if kind is Kind.INT:
        return pa.array(values, pa.int64())
    if kind is Kind.TEXT:
        return pa.array(values, pa.string())
    if kind is Kind.BOOL:
        # SQLite hands booleans back as 0/1.
        return pa.array(values).cast(pa.bool_()) if values else pa.array([], pa.bool_())
    if kind is Kind.DATE:
        return pc.utf8_slice_codeunits(pa.array(values, pa.string()), 0, 10).cast(pa.date32())
    if kind is Kind.TIME:
        return pc.utf8_slice_codeunits(pa.array(values, pa.string()), 0, 5)
    if kind is Kind.TIMESTAMP:
        return _timestamps(values)
    return pl.Series(values, dtype=pl.String).str.json_decode(pl.List(pl.String)).to_arrow()


def _timestamps(values: Sequence[Any]) -> pa.Array:
    utc = pa.timestamp("us", tz="UTC")
    sample = next((value for value in values if value is not None), None)
    if isinstance(sample, datetime.datetime):
        # psycopg returns aware datetimes (Django keeps the session in UTC).
        return pa.array(values, utc)
    # SQLite stores Django's datetimes as naive UTC text.
    text = pa.array(values, pa.string())
    trimmed = pc.utf8_slice_codeunits(text, 0, 26)
    return trimmed.cast(pa.timestamp("us")).cast(utc)


def ids_json(ids: pa.Array | pa.ChunkedArray | Sequence[int]) -> str:
    """Return integer ids as one JSON array, to pass as a single query parameter."""
    values = ids.to_pylist() if isinstance(ids, pa.Array | pa.ChunkedArray) else list(ids)
    return "[" + ",".join(str(int(value)) for value in values) + "]"


def id_in(column: str) -> str:
    """Return SQL testing ``column`` against a JSON array of ids (see :func:`ids_json`)."""
    if connection.vendor == "postgresql":
        return f"{column} IN (SELECT CAST(value AS BIGINT) FROM json_array_elements_text(%s::json))"
    return f"{column} IN (SELECT value FROM json_each(%s))"


def accounts(*, account_ids: Sequence[int] | None = None) -> pa.Table:
    """Return every account (or those in ``account_ids``): id, customer, currency, status."""
    where, params = _only(account_ids, "a.id")
    return fetch(
        f"SELECT a.id, a.customer_id, a.currency, a.status FROM {t(models.Account)} a{where} "
        "ORDER BY a.id",
        params,
        {
            "account_id": Kind.INT,
            "customer_id": Kind.INT,
            "currency": Kind.TEXT,
            "status": Kind.TEXT,
        },
    )


def charges(*, account_ids: Sequence[int] | None = None) -> pa.Table:
    """Return every charge: account, reference, due date and amount in minor units."""
    where, params = _only(account_ids, "c.account_id")
    return fetch(
        f"SELECT c.account_id, c.external_ref, {as_text('c.due_date')}, c.amount_minor "
        f"FROM {t(models.Charge)} c{where}",
        params,
        {
            "account_id": Kind.INT,
            "reference": Kind.TEXT,
            "due_date": Kind.DATE,
            "amount_minor": Kind.INT,
        },
    )


def payments(*, as_of: datetime.date, account_ids: Sequence[int] | None = None) -> pa.Table:
    """Return the payments received on or before ``as_of``."""
    where, params = _only(account_ids, "p.account_id")
    clause = f"{where} AND" if where else " WHERE"
    return fetch(
        f"SELECT p.account_id, {as_text('p.received_date')}, p.amount_minor "
        f"FROM {t(models.Payment)} p{clause} p.received_date <= %s",
        [*params, as_of.isoformat()],
        {"account_id": Kind.INT, "received_date": Kind.DATE, "amount_minor": Kind.INT},
    )


def customers() -> pa.Table:
    """Return what the strategy needs of every customer to choose and time a contact."""
    return fetch(
        "SELECT c.id, c.language, c.preferred_channel, "
        f"{as_text('c.time_zones')}, {as_text('c.contact_hours_start')}, "
        f"{as_text('c.contact_hours_end')}, "
        "CASE WHEN c.address_line1 <> '' THEN 1 ELSE 0 END "
        f"FROM {t(models.Customer)} c",
        [],
        {
            "customer_id": Kind.INT,
            "language": Kind.TEXT,
            "preferred_channel": Kind.TEXT,
            "time_zones": Kind.JSON_TEXT_LIST,
            "contact_hours_start": Kind.TIME,
            "contact_hours_end": Kind.TIME,
            "has_address": Kind.BOOL,
        },
    )


def contact_points() -> pa.Table:
    """Return every phone number and e-mail address with its position (0 is primary)."""
    return fetch(
        f"SELECT customer_id, kind, value, position FROM {t(models.ContactPoint)}",
        [],
        {"customer_id": Kind.INT, "kind": Kind.TEXT, "value": Kind.TEXT, "position": Kind.INT},
    )


def opt_outs() -> pa.Table:
    """Return the customers' active channel opt-outs."""
    return fetch(
        f"SELECT customer_id, channel FROM {t(models.ChannelOptOut)} WHERE withdrawn_at IS NULL",
        [],
        {"customer_id": Kind.INT, "channel": Kind.TEXT},
    )


def cease_requests() -> pa.Table:
    """Return the customers with a cease request that has not been withdrawn."""
    return fetch(
        f"SELECT DISTINCT customer_id FROM {t(models.CeaseRequest)} WHERE withdrawn_at IS NULL",
        [],
        {"customer_id": Kind.INT},
    )


def unverified_disputes() -> pa.Table:
    """Return the accounts with an open dispute that has not been verified."""
    return fetch(
        f"SELECT DISTINCT account_id FROM {t(models.Dispute)} "
        "WHERE verified_at IS NULL AND resolved_at IS NULL",
        [],
        {"account_id": Kind.INT},
    )


def promise_holds(*, as_of: datetime.date) -> pa.Table:
    """Return the accounts with an open promise not yet due on ``as_of``."""
    return fetch(
        f"SELECT DISTINCT account_id FROM {t(models.Promise)} "
        "WHERE status = %s AND promised_date >= %s",
        [models.PromiseStatus.OPEN, as_of.isoformat()],
        {"account_id": Kind.INT},
    )


def active_plans() -> pa.Table:
    """Return the active repayment plans: id, account and when each was agreed."""
    return fetch(
        f"SELECT id, account_id, created_at FROM {t(models.RepaymentPlan)} WHERE status = %s",
        [models.PlanStatus.ACTIVE],
        {"plan_id": Kind.INT, "account_id": Kind.INT, "created_at": Kind.TIMESTAMP},
    )


def plan_instalments() -> pa.Table:
    """Return the instalments of the active repayment plans: plan, due date and amount."""
    return fetch(
        f"SELECT i.plan_id, {as_text('i.due_date')}, i.amount_minor "
        f"FROM {t(models.PlanInstalment)} i JOIN {t(models.RepaymentPlan)} p ON p.id = i.plan_id "
        "WHERE p.status = %s",
        [models.PlanStatus.ACTIVE],
        {"plan_id": Kind.INT, "due_date": Kind.DATE, "amount_minor": Kind.INT},
    )


def contact_history(*, since: datetime.datetime) -> pa.Table:
    """Return the contact attempts planned or sent since ``since``.

    ``account_id`` is null for a contact about no particular account: the strategy counts
    such a call against every account of the customer.
    """
    return fetch(
        "SELECT account_id, customer_id, template, channel, status, direction, "
        "CASE WHEN connected IS NULL THEN NULL WHEN connected THEN 1 ELSE 0 END, "
        "planned_at, sent_at "
        f"FROM {t(models.ContactAttempt)} "
        "WHERE planned_at >= %s OR sent_at >= %s",
        [since, since],
        {
            "account_id": Kind.INT,
            "customer_id": Kind.INT,
            "template": Kind.TEXT,
            "channel": Kind.TEXT,
            "status": Kind.TEXT,
            "direction": Kind.TEXT,
            "connected": Kind.BOOL,
            "planned_at": Kind.TIMESTAMP,
            "sent_at": Kind.TIMESTAMP,
        },
    )


def decided_accounts(*, as_of: datetime.date) -> pa.Table:
    """Return the accounts that already have a decision for ``as_of``."""
    return fetch(
        f"SELECT account_id FROM {t(models.Decision)} WHERE as_of_date = %s",
        [as_of.isoformat()],
        {"account_id": Kind.INT},
    )


def promises_due(*, as_of: datetime.date) -> pa.Table:
    """Return the open promises whose promised date is before ``as_of``."""
    return fetch(
        f"SELECT id, account_id, amount_minor, currency, created_at, "
        f"{as_text('promised_date')} "
        f"FROM {t(models.Promise)} WHERE status = %s AND promised_date < %s",
        [models.PromiseStatus.OPEN, as_of.isoformat()],
        {
            "promise_id": Kind.INT,
            "account_id": Kind.INT,
            "amount_minor": Kind.INT,
            "currency": Kind.TEXT,
            "created_at": Kind.TIMESTAMP,
            "promised_date": Kind.DATE,
        },
    )


def _only(account_ids: Sequence[int] | None, column: str) -> tuple[str, list[Any]]:
    if account_ids is None:
        return "", []
    return f" WHERE {id_in(column)}", [ids_json(account_ids)]


# --- Loading -------------------------------------------------------------------------------


def insert(model: type[Any], data: pa.Table) -> int:
    """Insert every row of ``data`` (columns named as in the table) into ``model``'s table.

    Dates become ISO text, UTC timestamps the text each database stores, lists of strings
    JSON arrays. Returns the number of rows.
    """
    if data.num_rows == 0:
        return 0
    loaded = pl.from_arrow(data)
    assert isinstance(loaded, pl.DataFrame)
    frame = _for_database(loaded)
    names = frame.columns
    table_name = bulk.table(model)
    with _raw_cursor() as cursor:
        if connection.vendor == "postgresql":
            statement = f"COPY {q(table_name)} ({', '.join(q(n) for n in names)}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for row in frame.iter_rows():
                    copy.write_row(row)
        else:
            sql = (
                f"INSERT INTO {q(table_name)} ({', '.join(q(n) for n in names)}) "
                f"VALUES ({', '.join('?' * len(names))})"
            )
            for start in range(0, frame.height, LOAD_BATCH):
                cursor.executemany(sql, frame.slice(start, LOAD_BATCH).iter_rows())
    return int(data.num_rows)


def _for_database(frame: pl.DataFrame) -> pl.DataFrame:
    postgres = connection.vendor == "postgresql"
    conversions = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            conversions.append(pl.col(name).dt.to_string("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            utc = pl.col(name).dt.convert_time_zone("UTC") if dtype.time_zone else pl.col(name)
            text = utc.dt.to_string("%Y-%m-%d %H:%M:%S%.6f")
            conversions.append(text + "+00:00" if postgres else text)
        elif isinstance(dtype, pl.List):
            conversions.append(_json_list(name))
    return frame.with_columns(conversions) if conversions else frame


def _json_list(name: str) -> pl.Expr:
    escaped = pl.col(name).list.eval(
        pl.element()
        .str.replace_all("\\", "\\\\", literal=True)
        .str.replace_all('"', '\\"', literal=True)
    )
    joined = escaped.list.join('","')
    return (
        pl.when(pl.col(name).list.len() == 0)
        .then(pl.lit("[]"))
        .otherwise(pl.lit('["') + joined + pl.lit('"]'))
        .alias(name)
    )


@contextlib.contextmanager
def _raw_cursor() -> Iterator[Any]:
    """Yield the DB-API cursor of Django's connection (in its transaction), for COPY."""
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    try:
        yield cursor
    finally:
        cursor.close()
