"""Move batch data between the database and Arrow: extract for the strategy run, load results.

**Extract.** :func:`snapshot` opens one consistent read of the whole book and yields a
:class:`Snapshot` whose ``read`` returns Arrow tables. Where it can, it reads through an ADBC
driver (``adbc-driver-sqlite``, ``adbc-driver-postgresql``) on a connection of its own: rows
arrive as Arrow columns, never as Python tuples (ADR 0016). That connection holds one read
transaction for every table (SQLite: one WAL snapshot; PostgreSQL: ``REPEATABLE READ READ
ONLY``), so the tables agree with each other however long the read takes.

ADBC cannot serve two cases, which read through Django's connection instead (``fetch``:
``fetchmany`` batches turned into Arrow column by column): an in-memory SQLite database
(the test suite's), which no second connection can open, and a caller already inside a
transaction, whose uncommitted writes a second connection cannot see. Dates, times and JSON
are selected as text where the two databases would disagree and parsed in bulk.

**Load** goes the other way: an Arrow table becomes one ``COPY`` on PostgreSQL or batched
``executemany`` on SQLite inside Django's transaction, never an ORM ``save()`` per row.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import enum
import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, transaction

from accord.storage import bulk, models

logger = logging.getLogger(__name__)

FETCH_BATCH = 50_000
LOAD_BATCH = 50_000
# Rows per CSV block handed to PostgreSQL's COPY.
COPY_BATCH = 100_000
# Rows per Arrow batch read by the ADBC SQLite driver. It infers each column's type from
# the batch's values, so a query whose columns may be NULL is read as a single batch.
ADBC_BATCH = 65_536
ADBC_SINGLE_BATCH = 2**30


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
    """Run ``sql`` (``%s`` placeholders) on Django's connection; return its rows as Arrow.

    ``columns`` names the selected columns in order and says how each converts. It reads
    inside the caller's transaction, so it sees the caller's own writes.
    """
    target = schema(columns)
    batches: list[pa.RecordBatch] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        while rows := cursor.fetchmany(batch):
            values = list(zip(*rows, strict=True))
            arrays = [
                _convert(pa.array(values[index]), kind)
                for index, kind in enumerate(columns.values())
            ]
            batches.append(pa.RecordBatch.from_arrays(arrays, schema=target))
    if not batches:
        return target.empty_table()
    return pa.Table.from_batches(batches, schema=target)


def _convert(values: pa.Array | pa.ChunkedArray, kind: Kind) -> pa.Array | pa.ChunkedArray:
    """Return ``values`` as ``kind``'s Arrow type, whichever type the driver gave them."""
    target = _ARROW[kind]
    if len(values) == 0 or pa.types.is_null(values.type):
        return pa.nulls(len(values), target)
    if kind is Kind.DATE:
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            return pc.utf8_slice_codeunits(values, 0, 10).cast(target)
        return values.cast(target)
    if kind is Kind.TIME:
        return pc.utf8_slice_codeunits(values.cast(pa.string()), 0, 5)
    if kind is Kind.TIMESTAMP:
        return _timestamps(values)
    if kind is Kind.JSON_TEXT_LIST:
        text = pl.Series(values.cast(pa.string()))
        return text.str.json_decode(pl.List(pl.String)).to_arrow()
    # INT, TEXT, BOOL (SQLite hands booleans back as 0/1)
    return values.cast(target)


def _timestamps(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    utc = pa.timestamp("us", tz="UTC")
    if pa.types.is_timestamp(values.type):
        # psycopg and ADBC return aware timestamps (Django keeps PostgreSQL in UTC).
        return values.cast(utc) if values.type.tz else values.cast(pa.timestamp("us")).cast(utc)
    if not pa.types.is_string(values.type):
        # Python datetimes from psycopg through pa.array().
        return values.cast(utc)
    # SQLite stores Django's datetimes as naive UTC text.
    trimmed = pc.utf8_slice_codeunits(values, 0, 26)
    return trimmed.cast(pa.timestamp("us")).cast(utc)


class Snapshot(Protocol):
    """Read many tables from one consistent state of the database."""

    via: str  # "adbc" or "django": how the rows are read (reported by the run)

    def read(
        self, sql: str, params: Sequence[Any], columns: Mapping[str, Kind], *, nullable: bool
    ) -> pa.Table:
        """Run ``sql`` (``%s`` placeholders) and return its rows as Arrow.

        ``nullable`` says a selected column may be NULL.
        """


class _DjangoSnapshot:
    """Read through Django's connection, inside the transaction :func:`snapshot` opened."""

    via = "django"

    def read(
        self, sql: str, params: Sequence[Any], columns: Mapping[str, Kind], *, nullable: bool
    ) -> pa.Table:
        return fetch(sql, params, columns)


class _AdbcSnapshot:
    """Read PostgreSQL through an ADBC connection holding one read transaction."""

    via = "adbc"

    def __init__(self, dbapi_connection: Any) -> None:
        self._connection = dbapi_connection

    def read(
        self, sql: str, params: Sequence[Any], columns: Mapping[str, Kind], *, nullable: bool
    ) -> pa.Table:
        with contextlib.closing(self._connection.cursor()) as cursor:
            cursor.execute(_placeholders(sql, "postgresql"), list(params))
            data: pa.Table = cursor.fetch_arrow_table()
        return _arrow(data, columns)


class _SqliteReaderSnapshot:
    """Read SQLite through ADBC in a reader process (:mod:`accord.storage.sqlite_reader`).

    The reader holds one read transaction for every query; each result comes back as an
    Arrow IPC file in ``folder``, memory-mapped here.
    """

    via = "adbc"

    def __init__(self, process: subprocess.Popen[str], folder: Path) -> None:
        self._process = process
        self._folder = folder
        self._queries = 0

    def read(
        self, sql: str, params: Sequence[Any], columns: Mapping[str, Kind], *, nullable: bool
    ) -> pa.Table:
        self._queries += 1
        out = self._folder / f"{self._queries}.arrow"
        request = {
            "sql": _placeholders(sql, "sqlite"),
            "params": [_sqlite_param(p) for p in params],
            # The driver infers each column's type from a batch: NULLs first would fail.
            "batch_rows": ADBC_SINGLE_BATCH if nullable else ADBC_BATCH,
            "out": str(out),
        }
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise ReaderFailed(f"the SQLite reader stopped (exit status {self._process.poll()})")
        answer = json.loads(line)
        if "error" in answer:
            raise ReaderFailed(f"the SQLite reader failed: {answer['error']}")
        data = pa.ipc.open_file(pa.memory_map(str(out))).read_all()
        out.unlink()  # the mapping stays readable until the table is dropped
        return _arrow(data, columns)


class ReaderFailed(RuntimeError):
    """The SQLite reader process failed or stopped; the message says how."""


def _arrow(data: pa.Table, columns: Mapping[str, Kind]) -> pa.Table:
    arrays = [_convert(data.column(index), kind) for index, kind in enumerate(columns.values())]
    return pa.Table.from_arrays(arrays, schema=schema(columns))


@contextlib.contextmanager
def sqlite_reader(database: str) -> Iterator[Snapshot]:
    """Yield a snapshot of the SQLite file ``database`` read by an ADBC reader process."""
    with tempfile.TemporaryDirectory(prefix="accord-extract-") as folder:
        process = subprocess.Popen(  # noqa: S603 - our own module, no shell
            [sys.executable, "-m", "accord.storage.sqlite_reader", database],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            yield _SqliteReaderSnapshot(process, Path(folder))
        finally:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _placeholders(sql: str, vendor: str) -> str:
    """Turn Django's ``%s`` placeholders into the driver's (``?`` or ``$1``, ``$2`` ...)."""
    if vendor == "sqlite":
        return sql.replace("%s", "?")
    parts = sql.split("%s")
    return "".join(
        part + (f"${index}" if index < len(parts) else "")
        for index, part in enumerate(parts, start=1)
    )


def _sqlite_param(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        # SQLite holds Django's datetimes as naive UTC text and compares them as text.
        return value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def adbc_reason() -> str:
    """Return why :func:`snapshot` would read through Django rather than ADBC ("" if not)."""
    if connection.in_atomic_block:
        return "the caller's transaction may hold writes a second connection cannot see"
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and (name == ":memory:" or "mode=memory" in name):
        return "an in-memory SQLite database cannot be opened by a second connection"
    if connection.vendor not in ("sqlite", "postgresql"):
        return f"no ADBC driver for {connection.vendor}"
    return ""


@contextlib.contextmanager
def snapshot() -> Iterator[Snapshot]:
    """Yield a :class:`Snapshot`: every read sees the same committed state of the database."""
    if adbc_reason():
        with transaction.atomic():
            yield _DjangoSnapshot()
        return
    if connection.vendor == "sqlite":
        with sqlite_reader(str(connection.settings_dict["NAME"])) as reader:
            yield reader
        return
    import adbc_driver_postgresql.dbapi  # heavy, and only the run needs it

    with contextlib.closing(adbc_driver_postgresql.dbapi.connect(postgres_url())) as adbc:
        try:
            with contextlib.closing(adbc.cursor()) as cursor:
                # The driver opened the transaction; nothing has read in it yet.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SET LOCAL TIME ZONE 'UTC'")
            yield _AdbcSnapshot(adbc)
        finally:
            adbc.rollback()


def postgres_url() -> str:
    """Return a ``postgresql://`` URL for Django's (PostgreSQL) database."""
    settings = connection.settings_dict
    user = quote(str(settings.get("USER") or ""), safe="")
    password = quote(str(settings.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "localhost"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgresql://{credentials}{host}{port}/{quote(str(settings['NAME']), safe='')}"


def ids_json(ids: pa.Array | pa.ChunkedArray | Sequence[int]) -> str:
    """Return integer ids as one JSON array, to pass as a single query parameter."""
    values = ids.to_pylist() if isinstance(ids, pa.Array | pa.ChunkedArray) else list(ids)
    return "[" + ",".join(str(int(value)) for value in values) + "]"


def id_in(column: str) -> str:
    """Return SQL testing ``column`` against a JSON array of ids (see :func:`ids_json`)."""
    if connection.vendor == "postgresql":
        return f"{column} IN (SELECT CAST(value AS BIGINT) FROM json_array_elements_text(%s::json))"
    return f"{column} IN (SELECT value FROM json_each(%s))"


@dataclasses.dataclass(frozen=True)
class AccountRange:
    """Hold a range of account ids, ``low <= id < high``; None leaves that end open.

    A run reads, decides and loads the book one range at a time (:func:`account_ranges`);
    every read below takes one and returns only that range's rows: the accounts' own rows
    by account id, their customers' rows through the accounts of the range.
    """

    low: int | None = None
    high: int | None = None

    @property
    def everything(self) -> bool:
        """Return whether the range is the whole book (no bound)."""
        return self.low is None and self.high is None

    def accounts(self, column: str) -> tuple[str, list[Any]]:
        """Return SQL true when the account id ``column`` is in the range ("" if always)."""
        parts: list[str] = []
        params: list[Any] = []
        if self.low is not None:
            parts.append(f"{column} >= %s")
            params.append(self.low)
        if self.high is not None:
            parts.append(f"{column} < %s")
            params.append(self.high)
        return " AND ".join(parts), params

    def customers(self, column: str) -> tuple[str, list[Any]]:
        """Return SQL true when the customer id ``column`` owns an account of the range."""
        if self.everything:
            return "", []
        inside, params = self.accounts("r.id")
        return (
            f"{column} IN (SELECT r.customer_id FROM {t(models.Account)} r WHERE {inside})",
            params,
        )


EVERY_ACCOUNT = AccountRange()


def account_ranges(*, size: int) -> list[AccountRange]:
    """Split the accounts into ranges of ``size`` accounts by id, in id order.

    The first range is open below and the last open above, so an account created while a
    run goes on falls in one of them (the last, ids only grow). Reads the range edges only.
    """
    size = max(int(size), 1)
    edges = fetch(
        f"SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS n "
        f"FROM {t(models.Account)}) x WHERE n - (n / %s) * %s = 0 ORDER BY id",
        [size, size],
        {"low": Kind.INT},
    )["low"].to_pylist()[1:]
    lows: list[int | None] = [None, *edges]
    highs: list[int | None] = [*edges, None]
    return [AccountRange(low=low, high=high) for low, high in zip(lows, highs, strict=True)]


def _where(*conditions: tuple[str, list[Any]]) -> tuple[str, list[Any]]:
    """Return `` WHERE`` and the non-empty ``conditions`` joined by AND ("" when none)."""
    parts = [f"({sql})" for sql, _ in conditions if sql]
    params = [p for sql, values in conditions if sql for p in values]
    return (f" WHERE {' AND '.join(parts)}" if parts else ""), params


def _reader(snapshot: Snapshot | None) -> Snapshot:
    return snapshot if snapshot is not None else _DjangoSnapshot()


def _distinct_ids(
    model: type[Any],
    column: str,
    condition: tuple[str, list[Any]],
    inside: tuple[str, list[Any]],
    snapshot: Snapshot | None,
) -> pa.Table:
    """Return the distinct ``column`` ids of ``model``'s rows (alias ``x``) meeting both parts."""
    where, params = _where(condition, inside)
    return _reader(snapshot).read(
        f"SELECT DISTINCT x.{column} FROM {t(model)} x{where}",
        params,
        {column: Kind.INT},
        nullable=False,
    )


def accounts(
    *,
    account_ids: Sequence[int] | None = None,
    within: AccountRange = EVERY_ACCOUNT,
    snapshot: Snapshot | None = None,
) -> pa.Table:
    """Return every account (or those in ``account_ids``): customer, currency, status, product."""
    where, params = _where(_only(account_ids, "a.id"), within.accounts("a.id"))
    return _reader(snapshot).read(
        "SELECT a.id, a.customer_id, a.currency, a.status, a.product_type "
        f"FROM {t(models.Account)} a{where} ORDER BY a.id",
        params,
        {
            "account_id": Kind.INT,
            "customer_id": Kind.INT,
            "currency": Kind.TEXT,
            "status": Kind.TEXT,
            "product_type": Kind.TEXT,
        },
        nullable=False,
    )


def charges(
    *,
    account_ids: Sequence[int] | None = None,
    within: AccountRange = EVERY_ACCOUNT,
    snapshot: Snapshot | None = None,
) -> pa.Table:
    """Return every charge: account, due date and amount in minor units."""
    where, params = _where(_only(account_ids, "c.account_id"), within.accounts("c.account_id"))
    return _reader(snapshot).read(
        f"SELECT c.account_id, {as_text('c.due_date')}, c.amount_minor "
        f"FROM {t(models.Charge)} c{where}",
        params,
        {
            "account_id": Kind.INT,
            "due_date": Kind.DATE,
            "amount_minor": Kind.INT,
        },
        nullable=False,
    )


def payments(
    *,
    as_of: datetime.date,
    account_ids: Sequence[int] | None = None,
    within: AccountRange = EVERY_ACCOUNT,
    snapshot: Snapshot | None = None,
) -> pa.Table:
    """Return the payments received on or before ``as_of``."""
    where, params = _where(
        _only(account_ids, "p.account_id"),
        within.accounts("p.account_id"),
        ("p.received_date <= %s", [as_of]),
    )
    return _reader(snapshot).read(
        f"SELECT p.account_id, {as_text('p.received_date')}, p.amount_minor "
        f"FROM {t(models.Payment)} p{where}",
        params,
        {"account_id": Kind.INT, "received_date": Kind.DATE, "amount_minor": Kind.INT},
        nullable=False,
    )


def customers(
    *, within: AccountRange = EVERY_ACCOUNT, snapshot: Snapshot | None = None
) -> pa.Table:
    """Return what the strategy needs of every customer to segment, choose and time a contact."""
    where, params = _where(within.customers("c.id"))
    return _reader(snapshot).read(
        "SELECT c.id, c.language, c.preferred_channel, "
        f"{as_text('c.time_zones')}, {as_text('c.contact_hours_start')}, "
        f"{as_text('c.contact_hours_end')}, "
        "CASE WHEN c.address_line1 <> '' THEN 1 ELSE 0 END, "
        "c.debtor_type, c.region, c.country "
        f"FROM {t(models.Customer)} c{where}",
        params,
        {
            "customer_id": Kind.INT,
            "language": Kind.TEXT,
            "preferred_channel": Kind.TEXT,
            "time_zones": Kind.JSON_TEXT_LIST,
            "contact_hours_start": Kind.TIME,
            "contact_hours_end": Kind.TIME,
            "has_address": Kind.BOOL,
            "debtor_type": Kind.TEXT,
            "region": Kind.TEXT,
            "country": Kind.TEXT,
        },
        nullable=True,  # contact hours
    )


def contact_points(
    *, within: AccountRange = EVERY_ACCOUNT, snapshot: Snapshot | None = None
) -> pa.Table:
    """Return every phone number and e-mail address with its position (0 is primary)."""
    where, params = _where(within.customers("p.customer_id"))
    return _reader(snapshot).read(
        f"SELECT p.customer_id, p.kind, p.value, p.position FROM {t(models.ContactPoint)} p{where}",
        params,
        {"customer_id": Kind.INT, "kind": Kind.TEXT, "value": Kind.TEXT, "position": Kind.INT},
        nullable=False,
    )


def opt_outs(*, within: AccountRange = EVERY_ACCOUNT, snapshot: Snapshot | None = None) -> pa.Table:
    """Return the customers' active channel opt-outs."""
    where, params = _where(("o.withdrawn_at IS NULL", []), within.customers("o.customer_id"))
    return _reader(snapshot).read(
        f"SELECT o.customer_id, o.channel FROM {t(models.ChannelOptOut)} o{where}",
        params,
        {"customer_id": Kind.INT, "channel": Kind.TEXT},
        nullable=False,
    )


def cease_requests(
    *, within: AccountRange = EVERY_ACCOUNT, snapshot: Snapshot | None = None
) -> pa.Table:
    """Return the customers with a cease request that has not been withdrawn."""
    return _distinct_ids(
        models.CeaseRequest,
        "customer_id",
        ("x.withdrawn_at IS NULL", []),
        within.customers("x.customer_id"),
        snapshot,
    )


def unverified_disputes(
    *, within: AccountRange = EVERY_ACCOUNT, snapshot: Snapshot | None = None
) -> pa.Table:
    """Return the accounts with an open dispute that has not been verified."""
    return _distinct_ids(
        models.Dispute,
        "account_id",
        ("x.verified_at IS NULL AND x.resolved_at IS NULL", []),
        within.accounts("x.account_id"),
        snapshot,
    )


def open_disputes(
    *, within: AccountRange = EVERY_ACCOUNT, snapshot: Snapshot | None = None
) -> pa.Table:
    """Return the accounts with a dispute not yet resolved (verified or not)."""
    return _distinct_ids(
        models.Dispute,
        "account_id",
        ("x.resolved_at IS NULL", []),
        within.accounts("x.account_id"),
        snapshot,
    )


def vulnerable_customers(
    *, within: AccountRange = EVERY_ACCOUNT, snapshot: Snapshot | None = None
) -> pa.Table:
    """Return the customers with an unresolved vulnerability on record."""
    return _distinct_ids(
        models.Vulnerability,
        "customer_id",
        ("x.resolved_at IS NULL", []),
        within.customers("x.customer_id"),
        snapshot,
    )


def breathing_spaces(
    *,
    as_of: datetime.date,
    within: AccountRange = EVERY_ACCOUNT,
    snapshot: Snapshot | None = None,
) -> pa.Table:
    """Return the customers with a breathing space in force on ``as_of``."""
    return _distinct_ids(
        models.BreathingSpace,
        "customer_id",
        (
            "x.starts_on <= %s AND (x.ends_on IS NULL OR x.ends_on >= %s) "
            "AND x.cancelled_at IS NULL",
            [as_of, as_of],
        ),
        within.customers("x.customer_id"),
        snapshot,
    )


def paused_arms(*, snapshot: Snapshot | None = None) -> pa.Table:
    """Return the experiment arms paused now (a pause not yet resumed)."""
    return _reader(snapshot).read(
        f"SELECT experiment, arm FROM {t(models.ExperimentArmPause)} WHERE resumed_at IS NULL",
        [],
        {"experiment": Kind.TEXT, "arm": Kind.TEXT},
        nullable=False,
    )


def promise_holds(
    *,
    as_of: datetime.date,
    within: AccountRange = EVERY_ACCOUNT,
    snapshot: Snapshot | None = None,
) -> pa.Table:
    """Return the accounts with an open promise not yet due on ``as_of``."""
    return _distinct_ids(
        models.Promise,
        "account_id",
        ("x.status = %s AND x.promised_date >= %s", [models.PromiseStatus.OPEN.value, as_of]),
        within.accounts("x.account_id"),
        snapshot,
    )


def active_plans(
    *, within: AccountRange = EVERY_ACCOUNT, snapshot: Snapshot | None = None
) -> pa.Table:
    """Return the active repayment plans: id, account and when each was agreed."""
    where, params = _where(
        ("p.status = %s", [models.PlanStatus.ACTIVE.value]), within.accounts("p.account_id")
    )
    return _reader(snapshot).read(
        f"SELECT p.id, p.account_id, p.created_at FROM {t(models.RepaymentPlan)} p{where}",
        params,
        {"plan_id": Kind.INT, "account_id": Kind.INT, "created_at": Kind.TIMESTAMP},
        nullable=False,
    )


def plan_instalments(
    *, within: AccountRange = EVERY_ACCOUNT, snapshot: Snapshot | None = None
) -> pa.Table:
    """Return the instalments of the active repayment plans: plan, due date and amount."""
    where, params = _where(
        ("p.status = %s", [models.PlanStatus.ACTIVE.value]), within.accounts("p.account_id")
    )
    return _reader(snapshot).read(
        f"SELECT i.plan_id, {as_text('i.due_date')}, i.amount_minor "
        f"FROM {t(models.PlanInstalment)} i JOIN {t(models.RepaymentPlan)} p ON p.id = i.plan_id"
        f"{where}",
        params,
        {"plan_id": Kind.INT, "due_date": Kind.DATE, "amount_minor": Kind.INT},
        nullable=False,
    )


def _superseded(as_of: datetime.date) -> tuple[str, list[Any]]:
    """Return SQL (and its parameters) true for a contact superseded as of ``as_of``.

    Catch-up (docs/strategy.md): a strategy contact still PLANNED from a run with an earlier
    as-of date was never sent; the run as of ``as_of`` decides its account afresh and
    cancels it, so it counts for no cadence.
    """
    return (
        f"(c.status = %s AND c.origin = %s AND c.run_id IN "
        f"(SELECT r.id FROM {t(models.StrategyRun)} r WHERE r.as_of_date < %s))",
        [models.ContactStatus.PLANNED.value, models.ContactOrigin.STRATEGY.value, as_of],
    )


def contact_history(
    *,
    since: datetime.datetime,
    as_of: datetime.date,
    within: AccountRange = EVERY_ACCOUNT,
    snapshot: Snapshot | None = None,
) -> pa.Table:
    """Return the contact attempts planned or sent since ``since``, less superseded ones.

    ``account_id`` is null for a contact about no particular account: the strategy counts
    such a call against every account of the customer. In a range: the contacts about its
    accounts, and those about no account of its customers.
    """
    superseded, params = _superseded(as_of)
    conditions = [("(c.planned_at >= %s OR c.sent_at >= %s)", [since, since])]
    conditions.append((f"NOT {superseded}", params))
    if not within.everything:
        about_account, account_params = within.accounts("c.account_id")
        about_customer, customer_params = within.customers("c.customer_id")
        conditions.append(
            (
                f"({about_account}) OR (c.account_id IS NULL AND {about_customer})",
                [*account_params, *customer_params],
            )
        )
    where, values = _where(*conditions)
    return _reader(snapshot).read(
        "SELECT c.account_id, c.customer_id, c.template, c.channel, c.status, c.direction, "
        "CASE WHEN c.connected IS NULL THEN NULL WHEN c.connected THEN 1 ELSE 0 END, "
        "c.planned_at, c.sent_at "
        f"FROM {t(models.ContactAttempt)} c{where}",
        values,
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
        nullable=True,
    )


def superseded_contacts(
    *,
    as_of: datetime.date,
    within: AccountRange = EVERY_ACCOUNT,
    snapshot: Snapshot | None = None,
) -> pa.Table:
    """Return the strategy contacts a run as of ``as_of`` supersedes: id, account, run."""
    where, params = _where(_superseded(as_of), within.accounts("c.account_id"))
    return _reader(snapshot).read(
        f"SELECT c.id, c.account_id, c.run_id FROM {t(models.ContactAttempt)} c{where}",
        params,
        {"contact_id": Kind.INT, "account_id": Kind.INT, "run_id": Kind.INT},
        nullable=False,
    )


def decided_accounts(
    *,
    as_of: datetime.date,
    within: AccountRange = EVERY_ACCOUNT,
    snapshot: Snapshot | None = None,
) -> pa.Table:
    """Return the accounts that already have a decision for ``as_of``."""
    where, params = _where(("d.as_of_date = %s", [as_of]), within.accounts("d.account_id"))
    return _reader(snapshot).read(
        f"SELECT d.account_id FROM {t(models.Decision)} d{where}",
        params,
        {"account_id": Kind.INT},
        nullable=False,
    )


def planned_keys(
    *, prefix: str, within: AccountRange = EVERY_ACCOUNT, snapshot: Snapshot | None = None
) -> pa.Table:
    """Return the outbox idempotency keys that start with ``prefix``."""
    where, params = _where(
        ("c.idempotency_key LIKE %s", [prefix + "%"]), within.accounts("c.account_id")
    )
    return _reader(snapshot).read(
        f"SELECT c.idempotency_key FROM {t(models.ContactAttempt)} c{where}",
        params,
        {"idempotency_key": Kind.TEXT},
        nullable=False,
    )


def promises_due(
    *,
    as_of: datetime.date,
    within: AccountRange = EVERY_ACCOUNT,
    snapshot: Snapshot | None = None,
) -> pa.Table:
    """Return the open promises whose promised date is before ``as_of``."""
    where, params = _where(
        ("p.status = %s AND p.promised_date < %s", [models.PromiseStatus.OPEN.value, as_of]),
        within.accounts("p.account_id"),
    )
    return _reader(snapshot).read(
        f"SELECT p.id, p.account_id, p.amount_minor, p.currency, p.created_at, "
        f"{as_text('p.promised_date')} "
        f"FROM {t(models.Promise)} p{where}",
        params,
        {
            "promise_id": Kind.INT,
            "account_id": Kind.INT,
            "amount_minor": Kind.INT,
            "currency": Kind.TEXT,
            "created_at": Kind.TIMESTAMP,
            "promised_date": Kind.DATE,
        },
        nullable=False,
    )


def _only(account_ids: Sequence[int] | None, column: str) -> tuple[str, list[Any]]:
    if account_ids is None:
        return "", []
    return id_in(column), [ids_json(account_ids)]


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
            # CSV written by Polars in batches, not Python row objects: \N marks a null, so
            # an unquoted empty field stays an empty string.
            statement = (
                f"COPY {q(table_name)} ({', '.join(q(n) for n in names)}) FROM STDIN "
                "WITH (FORMAT csv, NULL '\\N')"
            )
            with cursor.copy(statement) as copy:
                for start in range(0, frame.height, COPY_BATCH):
                    chunk = frame.slice(start, COPY_BATCH)
                    copy.write(chunk.write_csv(include_header=False, null_value="\\N"))
        else:
            sql = (
                f"INSERT INTO {q(table_name)} ({', '.join(q(n) for n in names)}) "
                f"VALUES ({', '.join('?' * len(names))})"
            )
            for start in range(0, frame.height, LOAD_BATCH):
                cursor.executemany(sql, frame.slice(start, LOAD_BATCH).iter_rows())
    return int(data.num_rows)


def reserve_ids(model: type[Any], count: int) -> pa.Array:
    """Return ``count`` new primary keys of ``model``'s table, for rows inserted with them.

    Call inside the transaction that inserts the rows. PostgreSQL: values drawn from the
    table's sequence, so concurrent inserts never collide. SQLite: the ids after both the
    largest id and the table's AUTOINCREMENT counter (a deleted row's id is never reused);
    a SQLite write transaction (Django opens them IMMEDIATE) excludes every other writer
    until it commits.
    """
    if count <= 0:
        return pa.array([], pa.int64())
    name = bulk.table(model)
    if connection.vendor == "postgresql":
        drawn = fetch(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [q(name), count],
            {"id": Kind.INT},
        )
        return drawn["id"].combine_chunks()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT MAX(id) FROM {q(name)}), 0), "
            "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
            [name],
        )
        last = int(cursor.fetchone()[0])
    return pa.array(range(last + 1, last + 1 + count), pa.int64())


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
