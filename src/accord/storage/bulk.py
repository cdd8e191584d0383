"""Read and write many rows at once: reference look-ups, existing rows, bulk inserts/updates.

Set-based on purpose: frames in, one statement per chunk out; never an ORM
``save()`` per row. PostgreSQL inserts go through ``COPY``. The DB-API cursor is
used directly (inside Django's transaction) so that no per-query wrapper formats
thousands of parameters.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import polars as pl
from django.db import connection

from accord.storage import models

# Columns written for each table (besides id, created_at, updated_at), in load order.
CUSTOMER_COLUMNS = (
    "external_ref",
    "debtor_type",
    "name",
    "date_of_birth",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postcode",
    "country",
    "language",
    "preferred_channel",
    "contact_hours_start",
    "contact_hours_end",
    "time_zone",
    "time_zones",
    "time_zone_source",
)
ACCOUNT_COLUMNS = (
    "external_ref",
    "customer_id",
    "product_type",
    "currency",
    "credit_limit_minor",
    "opened_date",
    "status",
)
CHARGE_COLUMNS = (
    "external_ref",
    "account_id",
    "kind",
    "amount_minor",
    "currency",
    "issued_date",
    "due_date",
    "description",
)
PAYMENT_COLUMNS = (
    "external_ref",
    "account_id",
    "amount_minor",
    "currency",
    "received_date",
    "method",
    "provider_reference",
)
JSON_COLUMNS = frozenset({"time_zones"})
DATE_COLUMNS = frozenset(
    {"date_of_birth", "opened_date", "issued_date", "due_date", "received_date"}
)
TIME_COLUMNS = frozenset({"contact_hours_start", "contact_hours_end"})
INTEGER_COLUMNS = frozenset(
    {"id", "customer_id", "account_id", "amount_minor", "credit_limit_minor"}
)
LOOKUP_CHUNK = 500_000
_CONTROL = r"[\x00-\x1f\x7f]"
INSERT_BATCH = 100_000


def table(model: type[Any]) -> str:
    name: str = model._meta.db_table
    return name


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _mark() -> str:
    return "?" if connection.vendor == "sqlite" else "%s"


@contextlib.contextmanager
def _cursor() -> Iterator[Any]:
    """Yield the DB-API cursor of Django's connection (so in its transaction)."""
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def _json_array(values: pl.Series) -> str:
    """Return ``values`` as one JSON array of strings, built column-wise."""
    text = values.cast(pl.String)
    escaped = text.str.replace_all("\\", "\\\\", literal=True).str.replace_all(
        '"', '\\"', literal=True
    )
    return '["' + str(escaped.str.join('","').item()) + '"]' if len(values) else "[]"


def _any_between(source: str, column: str, values: pl.Series) -> bool:
    """Return whether any row's ``column`` lies within the values' range (cheap, indexed).

    A first load of new keys (the largest imports) then skips the look-up entirely.
    SQLite only: its BINARY collation orders text by bytes, as Polars does; a
    PostgreSQL column may use a locale's collation, where the range would differ.
    """
    low, high = values.min(), values.max()
    mark = _mark()
    with _cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {source} WHERE {column} BETWEEN {mark} AND {mark} LIMIT 1",
            [low, high],
        )
        return cursor.fetchone() is not None


def _select_in(
    *, select: str, source: str, column: str, values: pl.Series
) -> list[tuple[Any, ...]]:
    """Return ``SELECT select FROM source WHERE column IN values`` for any number of values.

    The values travel as one JSON array per chunk (``json_each`` / ``json_array_elements_text``)
    rather than as one bound parameter each, so a million keys cost a few statements.
    """
    # Control characters are never stored (validation refuses them) and would break the JSON.
    unique = values.unique()
    distinct = unique.filter(~unique.cast(pl.String).str.contains(_CONTROL))
    if not len(distinct) or not _any_between(source, column, distinct):
        return []
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT {select} FROM {source} WHERE {column}::text IN "
            "(SELECT json_array_elements_text(%s::json))"
        )
    else:
        sql = f"SELECT {select} FROM {source} WHERE {column} IN (SELECT value FROM json_each(?))"
    found: list[tuple[Any, ...]] = []
    with _cursor() as cursor:
        for start in range(0, len(distinct), LOOKUP_CHUNK):
            cursor.execute(sql, [_json_array(distinct.slice(start, LOOKUP_CHUNK))])
            found.extend(cursor.fetchall())
    return found


def _typed(rows: list[tuple[Any, ...]], columns: Sequence[str]) -> pl.DataFrame:
    """Build a frame of database rows with the types the validator produces."""
    raw_schema = {c: (pl.Int64 if c in INTEGER_COLUMNS else pl.String) for c in columns}
    frame = pl.DataFrame(rows, schema=raw_schema, orient="row")
    conversions = []
    for name in columns:
        if name in DATE_COLUMNS:
            conversions.append(pl.col(name).str.slice(0, 10).str.to_date("%Y-%m-%d"))
        elif name in TIME_COLUMNS:
            conversions.append(pl.col(name).str.slice(0, 5).str.to_time("%H:%M"))
    return frame.with_columns(conversions) if conversions else frame


def _selected(column: str) -> str:
    # Dates, times and JSON come back as text from both databases, parsed in bulk after.
    if column in DATE_COLUMNS | TIME_COLUMNS | JSON_COLUMNS:
        return f"CAST({_q(column)} AS TEXT)"
    return _q(column)


def lookup(model: type[Any], *, refs: pl.Series, columns: Sequence[str]) -> pl.DataFrame:
    """Return ``external_ref`` plus ``columns`` for the rows of ``model`` among ``refs``."""
    wanted = ["external_ref", *columns]
    rows = _select_in(
        select=", ".join(_selected(c) for c in wanted),
        source=_q(table(model)),
        column="external_ref",
        values=refs,
    )
    frame = _typed(rows, wanted)
    if JSON_COLUMNS & set(wanted):
        # Both databases may space JSON differently; compare it in one canonical form.
        frame = frame.with_columns(
            pl.Series(name, [json.dumps(json.loads(v)) for v in frame.get_column(name)], pl.String)
            for name in JSON_COLUMNS & set(wanted)
        )
    return frame


def existing(model: type[Any], *, refs: pl.Series, columns: Sequence[str]) -> pl.DataFrame:
    """Return ``id`` and ``columns`` of the existing rows among ``refs``, typed as validated."""
    return lookup(model, refs=refs, columns=["id", *[c for c in columns if c != "external_ref"]])


def _for_database(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Turn typed columns into the text both databases accept (dates and times as ISO)."""
    return frame.select(
        pl.col(c).dt.to_string("%Y-%m-%d")
        if c in DATE_COLUMNS
        else pl.col(c).dt.to_string("%H:%M:%S")
        if c in TIME_COLUMNS
        else pl.col(c)
        for c in columns
    )


def insert(model: type[Any], *, frame: pl.DataFrame, columns: Sequence[str], now: datetime) -> int:
    """Insert every row of ``frame`` (``columns`` in order) stamped ``now``; return the count."""
    if frame.height == 0:
        return 0
    stamp = connection.ops.adapt_datetimefield_value(now)
    names = [*columns, "created_at", "updated_at"]
    values = _for_database(frame, columns)
    if connection.vendor == "postgresql":
        _copy(
            table(model),
            names,
            values.with_columns(
                pl.lit(stamp).alias("created_at"), pl.lit(stamp).alias("updated_at")
            ),
        )
        return frame.height
    sql = (
        f"INSERT INTO {_q(table(model))} ({', '.join(_q(n) for n in names)}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )
    stamped = values.with_columns(
        pl.lit(str(stamp)).alias("created_at"), pl.lit(str(stamp)).alias("updated_at")
    )
    with _cursor() as cursor:
        for start in range(0, stamped.height, INSERT_BATCH):
            cursor.executemany(sql, stamped.slice(start, INSERT_BATCH).iter_rows())
    return frame.height


def _copy(table_name: str, names: Sequence[str], values: pl.DataFrame) -> None:
    """Load ``values`` (columns in the order of ``names``) with PostgreSQL's COPY."""
    with _cursor() as cursor:
        statement = f"COPY {_q(table_name)} ({', '.join(_q(n) for n in names)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            for row in values.iter_rows():
                copy.write_row(row)


def update(model: type[Any], *, frame: pl.DataFrame, columns: Sequence[str], now: datetime) -> int:
    """Update ``columns`` of the rows whose ``id`` is in ``frame``; stamp ``updated_at``."""
    if frame.height == 0:
        return 0
    stamp = connection.ops.adapt_datetimefield_value(now)
    mark = _mark()
    assignments = ", ".join(f"{_q(c)} = {mark}" for c in columns)
    sql = f"UPDATE {_q(table(model))} SET {assignments}, updated_at = {mark} WHERE id = {mark}"
    values = _for_database(frame, columns).with_columns(
        pl.lit(stamp if connection.vendor == "postgresql" else str(stamp)).alias("_stamp"),
        frame.get_column("id"),
    )
    with _cursor() as cursor:
        cursor.executemany(sql, list(values.iter_rows()))
    return frame.height


def accounts_with_money(account_ids: pl.Series) -> set[int]:
    """Return which of ``account_ids`` have at least one charge or payment."""
    found: set[int] = set()
    for model in (models.Charge, models.Payment):
        rows = _select_in(
            select="DISTINCT account_id",
            source=_q(table(model)),
            column="account_id",
            values=account_ids,
        )
        found |= {int(row[0]) for row in rows}
    return found


def replace_contact_points(*, points: pl.DataFrame, customer_ids: pl.DataFrame) -> set[int]:
    """Make each customer's contact points exactly ``points``; return the customers changed.

    ``points``: external_ref, kind, value, position. ``customer_ids``: external_ref, id.
    Unchanged points are left alone so a repeated import writes nothing.
    """
    keys = ["customer_id", "kind", "value", "position"]
    wanted = points.join(customer_ids, on="external_ref", how="inner").select(
        pl.col("id").alias("customer_id"), "kind", "value", pl.col("position").cast(pl.Int64)
    )
    source = _q(table(models.ContactPoint))
    rows = _select_in(
        select="id, customer_id, kind, value, position",
        source=source,
        column="customer_id",
        values=customer_ids.get_column("id"),
    )
    current = pl.DataFrame(
        rows,
        schema={
            "id": pl.Int64,
            "customer_id": pl.Int64,
            "kind": pl.String,
            "value": pl.String,
            "position": pl.Int64,
        },
        orient="row",
    )
    stale_rows = current.join(wanted, on=keys, how="anti")
    stale = stale_rows.get_column("id").to_list()
    fresh = wanted.join(current, on=keys, how="anti")
    mark = _mark()
    with _cursor() as cursor:
        if stale:
            cursor.executemany(
                f"DELETE FROM {source} WHERE id = {mark}",
                [(i,) for i in stale],
            )
        if fresh.height and connection.vendor == "postgresql":
            _copy(table(models.ContactPoint), keys, fresh.select(keys))
        elif fresh.height:
            names = ", ".join(_q(c) for c in keys)
            cursor.executemany(
                f"INSERT INTO {source} ({names}) VALUES ({', '.join([mark] * 4)})",
                fresh.select(keys).iter_rows(),
            )
    changed = set(stale_rows.get_column("customer_id").to_list())
    return changed | set(fresh.get_column("customer_id").to_list())
