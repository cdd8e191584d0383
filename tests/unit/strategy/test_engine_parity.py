"""One portfolio through every engine: DuckDB, PostgreSQL and Spark decide identically.

The portfolio has every feature a strategy reads (experiments with a paused arm, holds,
disputes, vulnerability, breathing space, cease requests, opt-outs, contact history, five
currencies including zero- and three-decimal ones); the strategy uses every kind of segment
condition. DuckDB's decisions are the yardstick; PostgreSQL (marker ``postgres``, server from
ACCORD_TEST_POSTGRES_URL) and Spark (marker ``spark``, needs Java 17) must match them row by
row and column by column, and so must the outbox. With CI=true neither may be skipped.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from accord.strategy import backends, definition, engine
from tests.conftest import IN_CI
from tests.unit.strategy.engine_book import AS_OF, NOW
from tests.unit.strategy.engine_portfolio import portfolio

# Every kind of segment condition, three paths, two experiments and no catch-all segment.
STRATEGY = Path(__file__).with_name("every_condition.yaml")
ACCOUNTS = 3000


def unavailable(message: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def book() -> engine.Inputs:
    return portfolio(
        ACCOUNTS, as_of=AS_OF, now=NOW, seed=11, paused=(("risky-test", "firm_first"),)
    )


@pytest.fixture(scope="module")
def strategy() -> definition.Strategy:
    return definition.load(STRATEGY)


@pytest.fixture(scope="module")
def on_duckdb(book: engine.Inputs, strategy: definition.Strategy) -> engine.Outcome:
    connection = backends.connect(backends.Engine.DUCKDB)
    try:
        return run(book, strategy, connection)
    finally:
        connection.disconnect()


def run(book: engine.Inputs, strategy: definition.Strategy, backend: Any) -> engine.Outcome:
    return engine.decide(inputs=book, strategy=strategy, as_of=AS_OF, now=NOW, backend=backend)


def differences(expected: pa.Table, actual: pa.Table, *, limit: int = 5) -> list[str]:
    """Return the first rows (by position, both sorted by account) that differ, column-wise."""
    assert actual.schema == expected.schema
    if actual.num_rows != expected.num_rows:
        return [f"{actual.num_rows} rows instead of {expected.num_rows}"]
    found = []
    for index, (want, got) in enumerate(zip(expected.to_pylist(), actual.to_pylist(), strict=True)):
        if want != got:
            changed = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
            found.append(f"row {index} (account {want['account_id']}): {changed}")
            if len(found) == limit:
                break
    return found


def assert_same(expected: engine.Outcome, actual: engine.Outcome) -> None:
    assert differences(expected.decisions, actual.decisions) == []
    assert differences(expected.outbox, actual.outbox) == []
    assert actual.counts == expected.counts
    assert actual.contacts_blocked == expected.contacts_blocked


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    url = os.environ.get("ACCORD_TEST_POSTGRES_URL")
    if not url:
        unavailable("needs PostgreSQL (set ACCORD_TEST_POSTGRES_URL; scripts/with-postgres)")
    connection = backends.connect(backends.Engine.POSTGRES, postgres_url=url)
    yield connection
    connection.disconnect()


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        unavailable("needs PySpark (pip install -e '.[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unavailable("needs Java 17 for Spark")
    connection = backends.connect(backends.Engine.SPARK)
    yield connection
    connection.disconnect()


class TestPortfolio:
    def test_the_portfolio_exercises_every_feature_of_the_strategy(
        self, on_duckdb: engine.Outcome, strategy: definition.Strategy
    ) -> None:
        counts = on_duckdb.counts
        assert set(counts["segment"]) == {"", *(s.name for s in strategy.segments)}
        assert {"risky-test/champion", "risky-test/firm_first", "dpd-split/firm"} <= set(
            counts["arm"]
        )
        assert set(counts["treatment"]) == {t.value for t in definition.Treatment} - {
            "PLAN_OFFER",
            "HARDSHIP_REVIEW",
        }
        codes = {code for row in on_duckdb.decisions["reason_codes"].to_pylist() for code in row}
        assert {
            "ARM_PAUSED",
            "NO_SEGMENT",
            "NO_STEP",
            "STEP_WAIT",
            "CADENCE_WAIT",
            "NO_CONTACT_POINT",
            "POLICY_BLOCKED",
            "POLICY_DEFERRED",
            *(c.value for c in definition.StopCondition),
        } <= codes
        assert on_duckdb.outbox.num_rows > 100


@pytest.mark.postgres
class TestPostgres:
    def test_postgresql_decides_exactly_as_duckdb(
        self,
        postgres: Any,
        book: engine.Inputs,
        strategy: definition.Strategy,
        on_duckdb: engine.Outcome,
    ) -> None:
        assert_same(on_duckdb, run(book, strategy, postgres))


@pytest.mark.spark
# py4j leaves its local sockets to the garbage collector.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
class TestSpark:
    def test_spark_decides_exactly_as_duckdb(
        self,
        spark: Any,
        book: engine.Inputs,
        strategy: definition.Strategy,
        on_duckdb: engine.Outcome,
    ) -> None:
        assert_same(on_duckdb, run(book, strategy, spark))
