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

import enum
import urllib.parse
from typing import Any

import ibis
import pyarrow as pa
from ibis.expr import types as ir

DEFAULT_SPARK_MASTER = "local[2]"
# A decision run shuffles a few tables keyed by account; more partitions only add overhead
# on a small machine (a cluster can still be given more through its own configuration).
SPARK_SHUFFLE_PARTITIONS = "4"
_POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg", "pgsql")


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
