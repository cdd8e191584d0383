"""Read and write many rows at once: reference look-ups, existing rows, bulk inserts/updates.

Set-based on purpose: frames in, one statement per chunk out; never an ORM
``save()`` per row. PostgreSQL inserts go through ``COPY``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from typing import Any

import polars as pl
from django.db import connection

from accord.storage import models

CHUNK = 5000

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


def table(model: type[Any]) -> str:
    name: str = model._meta.db_table
    return name


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def lookup(model: type[Any], *, refs: Sequence[str], columns: Sequence[str]) -> pl.DataFrame:
    """Return ``external_ref`` plus ``columns`` for the rows of ``model`` among ``refs``."""
    wanted = ["external_ref", *columns]
    found: list[tuple[Any, ...]] = []
    # A NUL can never be stored (PostgreSQL refuses it in text), so it can match nothing.
    distinct = sorted({r for r in refs if "\x00" not in r})
    select = ", ".join(_q(c) for c in wanted)
    with connection.cursor() as cursor:
        for chunk in _chunks(distinct):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {select} FROM {_q(table(model))} WHERE external_ref IN ({marks})",
                list(chunk),
            )
            found.extend(cursor.fetchall())
    return _frame(found, wanted)


def _canonical(value: Any, column: str) -> Any:
    """Bring a database value to the form the validator produces."""
    if value is None:
        return None
    if column in JSON_COLUMNS:
        loaded = json.loads(value) if isinstance(value, str) else value
        return json.dumps(loaded)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, time):
        return value.replace(microsecond=0)
    return value


def _frame(rows: list[tuple[Any, ...]], columns: Sequence[str]) -> pl.DataFrame:
    data = {name: [_canonical(row[i], name) for row in rows] for i, name in enumerate(columns)}
    return (
        pl.DataFrame(data, strict=False) if rows else pl.DataFrame({name: [] for name in columns})
    )


def existing(model: type[Any], *, refs: Sequence[str], columns: Sequence[str]) -> pl.DataFrame:
    """Return ``id`` and ``columns`` of the existing rows among ``refs``, canonicalised."""
    frame = lookup(model, refs=refs, columns=["id", *[c for c in columns if c != "external_ref"]])
    if frame.height == 0:
        return frame
    for name in frame.columns:
        if name.endswith("_date") or name == "date_of_birth":
            frame = frame.with_columns(pl.col(name).cast(pl.String).str.to_date(strict=False))
        if name.startswith("contact_hours_"):
            frame = frame.with_columns(
                pl.col(name).cast(pl.String).str.slice(0, 5).str.to_time("%H:%M", strict=False)
            )
    return frame


def _db_value(value: Any) -> Any:
    if isinstance(value, (date, time)):
        return value.isoformat()
    return value


def insert(model: type[Any], *, frame: pl.DataFrame, columns: Sequence[str], now: datetime) -> int:
    """Insert every row of ``frame`` (``columns`` in order) stamped ``now``; return the count."""
    if frame.height == 0:
        return 0
    stamp = connection.ops.adapt_datetimefield_value(now)
    rows = (
        (*(_db_value(v) for v in row), stamp, stamp)
        for row in frame.select(list(columns)).iter_rows()
    )
    names = [*columns, "created_at", "updated_at"]
    if connection.vendor == "postgresql":
        _copy(table(model), names, rows)
    else:
        marks = ", ".join(["%s"] * len(names))
        sql = f"INSERT INTO {_q(table(model))} ({', '.join(_q(n) for n in names)}) VALUES ({marks})"
        with connection.cursor() as cursor:
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= 50_000:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
    return frame.height


def _copy(table_name: str, names: Sequence[str], rows: Iterator[tuple[Any, ...]]) -> None:
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        statement = f"COPY {_q(table_name)} ({', '.join(_q(n) for n in names)}) FROM STDIN"
        with raw.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)


def update(model: type[Any], *, frame: pl.DataFrame, columns: Sequence[str], now: datetime) -> int:
    """Update ``columns`` of the rows whose ``id`` is in ``frame``; stamp ``updated_at``."""
    if frame.height == 0:
        return 0
    stamp = connection.ops.adapt_datetimefield_value(now)
    assignments = ", ".join(f"{_q(c)} = %s" for c in columns)
    sql = f"UPDATE {_q(table(model))} SET {assignments}, updated_at = %s WHERE id = %s"
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (*(_db_value(v) for v in row[1:]), stamp, row[0])
                for row in frame.select("id", *columns).iter_rows()
            ],
        )
    return frame.height


def replace_contact_points(*, points: pl.DataFrame, customer_ids: pl.DataFrame) -> set[int]:
    """Make each customer's contact points exactly ``points``; return the customers changed.

    ``points``: external_ref, kind, value, position. ``customer_ids``: external_ref, id.
    Unchanged points are left alone so a repeated import writes nothing.
    """
    wanted = points.join(customer_ids, on="external_ref", how="inner").select(
        pl.col("id").alias("customer_id"), "kind", "value", pl.col("position").cast(pl.Int64)
    )
    ids = customer_ids.get_column("id").to_list()
    current_rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(ids):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                "SELECT id, customer_id, kind, value, position "
                f"FROM {_q(table(models.ContactPoint))} WHERE customer_id IN ({marks})",
                list(chunk),
            )
            current_rows.extend(cursor.fetchall())
    current = pl.DataFrame(
        current_rows,
        schema={
            "id": pl.Int64,
            "customer_id": pl.Int64,
            "kind": pl.String,
            "value": pl.String,
            "position": pl.Int64,
        },
        orient="row",
    )
    keys = ["customer_id", "kind", "value", "position"]
    stale_rows = current.join(wanted, on=keys, how="anti")
    stale = stale_rows.get_column("id").to_list()
    fresh = wanted.join(current, on=keys, how="anti")
    changed = set(stale_rows.get_column("customer_id").to_list())
    changed |= set(fresh.get_column("customer_id").to_list())
    with connection.cursor() as cursor:
        for chunk in _chunks(stale):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"DELETE FROM {_q(table(models.ContactPoint))} WHERE id IN ({marks})",
                list(chunk),
            )
        if fresh.height:
            names = ", ".join(_q(c) for c in keys)
            cursor.executemany(
                f"INSERT INTO {_q(table(models.ContactPoint))} ({names}) VALUES (%s, %s, %s, %s)",
                list(fresh.select(keys).iter_rows()),
            )
    return changed
