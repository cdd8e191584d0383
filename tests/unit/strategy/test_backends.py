"""An expression over named inputs is built once and executed on the data of every range."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from accord.strategy import backends

AMOUNTS = pa.schema([("account_id", pa.int64()), ("amount_minor", pa.int64())])


def _totals() -> Any:
    amounts = backends.input_table("amounts", AMOUNTS)
    return amounts.group_by("account_id").aggregate(total=amounts.amount_minor.sum())


def _rows(result: pa.Table) -> list[tuple[int, int]]:
    return sorted(zip(result["account_id"].to_pylist(), result["total"].to_pylist(), strict=True))


def test_one_expression_gives_each_ranges_own_answer() -> None:
    expression = _totals()
    con = backends.connect(backends.Engine.DUCKDB)
    first = pa.table({"account_id": [1, 1, 2], "amount_minor": [5, 7, 11]}, schema=AMOUNTS)
    second = pa.table({"account_id": [3, 4, 4], "amount_minor": [2, 3, 4]}, schema=AMOUNTS)

    assert _rows(backends.execute(con, expression, {"amounts": first})) == [(1, 12), (2, 11)]
    assert _rows(backends.execute(con, expression, {"amounts": second})) == [(3, 2), (4, 7)]


def test_duckdb_compiles_an_expression_once(monkeypatch: pytest.MonkeyPatch) -> None:
    expression = _totals()
    con = backends.connect(backends.Engine.DUCKDB)
    compiled: list[Any] = []
    compile_once = con.compile
    monkeypatch.setattr(con, "compile", lambda e: compiled.append(e) or compile_once(e))
    data = {"amounts": pa.table({"account_id": [1], "amount_minor": [5]}, schema=AMOUNTS)}

    for _ in range(3):
        backends.execute(con, expression, data)

    assert len(compiled) == 1


def test_results_have_the_expressions_types_not_duckdbs() -> None:
    # DuckDB sums BIGINT into HUGEINT (an Arrow decimal); the expression says int64.
    data = {"amounts": pa.table({"account_id": [1], "amount_minor": [5]}, schema=AMOUNTS)}
    result = backends.execute(backends.connect(backends.Engine.DUCKDB), _totals(), data)

    assert result.schema.field("total").type == pa.int64()


def test_inputs_are_gone_from_the_connection_after_the_query() -> None:
    con = backends.connect(backends.Engine.DUCKDB)
    data = {"amounts": pa.table({"account_id": [1], "amount_minor": [5]}, schema=AMOUNTS)}
    backends.execute(con, _totals(), data)

    views = con.con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    assert views == []
