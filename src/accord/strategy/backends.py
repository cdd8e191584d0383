"""Connect the strategy engine to the engine that executes its Ibis expressions.

The engine (:mod:`accord.strategy.engine`) is written once as Ibis expressions; these are
the engines that run them, with the same decisions row by row (a parity test holds them
together, ADR 0015):

- **DuckDB** (the default): in-process and in-memory; the Arrow inputs are scanned in place.
- **PostgreSQL**: the expressions run inside the database server; the Arrow inputs are
  uploaded as temporary tables of the session (the run passes the application's URL).
- **Spark**: a local Spark (``local[2]`` unless told otherwise) or a cluster URL, through
  PySpark (an optional dependency, installed by ``pip install accord[spark]``; Spark needs
  Java 17).
"""

from __future__ import annotations

import collections
import enum
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

import ibis
import pyarrow as pa
from ibis.expr import schema as sch
from ibis.expr import types as ir

DEFAULT_SPARK_MASTER = "local[2]"
# A decision run shuffles a few tables keyed by account; more partitions only add overhead
# on a small machine (a cluster can still be given more through its own configuration).
SPARK_SHUFFLE_PARTITIONS = "4"
_POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg", "pgsql")
# The engine's inputs are tables of these names inside a query (see :func:`input_table`).
INPUT_PREFIX = "accord_in_"
# Compiled SQL kept for this many expressions (a run uses three or four).
_COMPILED_KEPT = 16


class Engine(enum.StrEnum):
    """Name an engine the strategy runs on (``accord run --engine``)."""

    DUCKDB = "duckdb"
    POSTGRES = "postgres"
    SPARK = "spark"


class EngineUnavailable(RuntimeError):
    """Signal an engine that cannot be used here (no URL, no PySpark, no Java)."""


def connect(
    engine: Engine, *, postgres_url: str | None = None, spark_master: str | None = None
) -> Any:
    """Return an Ibis backend for ``engine`` (an ``ibis.BaseBackend``).

    ``postgres_url`` (``postgresql://user:password@host:port/database``) is required for
    PostgreSQL; ``spark_master`` defaults to ``local[2]``. Raises :class:`EngineUnavailable`
    when the engine cannot be reached or is not installed.
    """
    if engine is Engine.DUCKDB:
        return ibis.duckdb.connect()
    if engine is Engine.POSTGRES:
        return _postgres(postgres_url)
    return _spark(spark_master or DEFAULT_SPARK_MASTER)


def _postgres(url: str | None) -> Any:
    if not url:
        raise EngineUnavailable("the postgres engine needs the database URL")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in _POSTGRES_SCHEMES:
        raise EngineUnavailable(f"{parts.scheme!r} is not a PostgreSQL URL")
    options: dict[str, Any] = {
        "host": parts.hostname or "localhost",
        "port": parts.port or 5432,
        "database": parts.path.lstrip("/") or None,
    }
    if parts.username:
        options["user"] = urllib.parse.unquote(parts.username)
    if parts.password:
        options["password"] = urllib.parse.unquote(parts.password)
    try:
        return ibis.postgres.connect(**options)
    except Exception as error:
        raise EngineUnavailable(f"cannot connect to PostgreSQL: {error}") from error


def _spark(master: str) -> Any:
    try:
        from pyspark.sql import SparkSession  # optional dependency
    except ImportError:
        raise EngineUnavailable(
            "the spark engine needs PySpark: pip install 'accord[spark]' (and Java 17)"
        ) from None
    builder: Any = SparkSession.builder
    session = (
        builder.master(master)
        .appName("accord-strategy")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", SPARK_SHUFFLE_PARTITIONS)
        .config("spark.default.parallelism", SPARK_SHUFFLE_PARTITIONS)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.pyspark.fallback.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    backend = ibis.pyspark.connect(session)

    def register(op: Any) -> None:
        # Arrow straight into Spark (PySpark >= 4.0); ibis 12 goes through pandas, which
        # pandas 3's Arrow-backed strings break.
        frame = session.createDataFrame(op.data.to_pyarrow(op.schema))
        frame.createOrReplaceTempView(op.name)

    backend._register_in_memory_table = register
    return backend


def to_arrow(backend: Any, expression: ir.Table) -> pa.Table:
    """Execute ``expression`` on ``backend`` and return the result as an Arrow table.

    Spark hands its result over as Arrow (PySpark >= 4.0) instead of through pandas.
    """
    if getattr(backend, "name", "") != "pyspark":
        result: pa.Table = backend.to_pyarrow(expression)
        return result
    backend._run_pre_execute_hooks(expression)
    sql = backend.compile(expression)
    arrow: pa.Table = backend._session.sql(sql).toArrow()
    return arrow


def input_table(name: str, schema: pa.Schema) -> ir.Table:
    """Return the unbound Ibis table that stands for the input ``name`` in an expression.

    An expression over input tables holds no data, so it is built (and, on DuckDB,
    compiled) once and executed on every range of accounts with :func:`execute`.
    """
    return ibis.table(sch.Schema.from_pyarrow(schema), name=INPUT_PREFIX + name)


def execute(backend: Any, expression: ir.Table, inputs: Mapping[str, pa.Table]) -> pa.Table:
    """Execute ``expression`` over ``inputs`` (Arrow tables named as its input tables).

    DuckDB: the expression's SQL is compiled once and kept while the expression is in use;
    the Arrow inputs are registered as views for the query and scanned in place. Other
    engines: each input is bound as an Ibis in-memory table, which the engine uploads
    (PostgreSQL: temporary tables; Spark: temporary views).
    """
    if getattr(backend, "name", "") == "duckdb":
        sql = _compiled(backend, expression)
        raw = backend.con
        for name, data in inputs.items():
            raw.register(INPUT_PREFIX + name, data)
        try:
            result: pa.Table = raw.execute(sql).to_arrow_table()
        finally:
            for name in inputs:
                raw.unregister(INPUT_PREFIX + name)
        # DuckDB's own result types (a sum of BIGINT is a HUGEINT) become the expression's.
        return result.cast(expression.schema().to_pyarrow())
    bound = {
        input_table(name, data.schema).op(): ibis.memtable(data).op()
        for name, data in inputs.items()
    }
    return to_arrow(backend, expression.op().replace(bound).to_expr())


_compiled_sql: collections.OrderedDict[int, tuple[ir.Table, str]] = collections.OrderedDict()
_compiled_lock = threading.Lock()


def _compiled(backend: Any, expression: ir.Table) -> str:
    """Return the DuckDB SQL of ``expression``, compiled on its first use only."""
    key = id(expression)
    with _compiled_lock:
        kept = _compiled_sql.get(key)
        if kept is not None and kept[0] is expression:
            _compiled_sql.move_to_end(key)
            return kept[1]
    sql = str(backend.compile(expression))
    with _compiled_lock:
        _compiled_sql[key] = (expression, sql)  # holding it keeps its id from being reused
        while len(_compiled_sql) > _COMPILED_KEPT:
            _compiled_sql.popitem(last=False)
    return sql
