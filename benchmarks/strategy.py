"""Time the strategy engine alone on millions of accounts held in memory: no database at all.

``accord bench strategy`` measures the whole daily run (extract from the database, decide,
load decisions and contacts back). This separates the engine from the database I/O: the
demo book of ``--tile`` accounts is generated once, converted to the engine's Arrow inputs
(as the run's extract would give them), and repeated with fresh ids until it holds
``--accounts`` accounts; about one customer (account) in a hundred gets each circumstance
the strategy reads, and some accounts a recent contact. A child process builds the inputs
and writes them as Arrow IPC files, so that the peak RSS reported is the engine's alone.

    .venv/bin/python benchmarks/strategy.py --accounts 10000000 \
        --json benchmarks/results/strategy-engine-10000000.json [--profile FILE]

Without ``--engine`` the engine runs on DuckDB. ``--reference-sample N`` also times the
per-account reference implementation on the first N accounts and the engine on the same.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime
import json
import multiprocessing
import os
import pstats
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

NOW = datetime.datetime(2026, 11, 25, 15, 0, tzinfo=datetime.UTC)
ID = "account_id"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.config.settings")
    os.environ.setdefault("ACCORD_SECRET_KEY", "benchmark-only")
    os.environ.setdefault("ACCORD_DATA_DIR", tempfile.mkdtemp(prefix="accord-bench-engine-"))
    import django

    django.setup()


def _engine_tables(tile: int, seed: int) -> dict[str, Any]:
    """Return the engine's input tables for one generated book of ``tile`` accounts."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from accord.strategy import engine
    from accord.usecases.seed_demo import bulk, generator

    book = generator.generate(accounts=tile, seed=seed, as_of=NOW.date())
    tables = bulk.book_tables(book, now=NOW)
    del book
    customers = tables["customers"]
    charges = tables["charges"]
    rng = np.random.default_rng(seed)
    account_ids = tables["accounts"]["id"].to_numpy()
    customer_ids = customers["id"].to_numpy()

    def some(ids: Any, share: float) -> Any:
        return np.sort(rng.choice(ids, size=max(1, round(len(ids) * share)), replace=False))

    hours = {
        name: pc.utf8_slice_codeunits(customers[name], 0, 5)
        for name in ("contact_hours_start", "contact_hours_end")
    }
    recent = some(account_ids, 0.2)
    opted = some(customer_ids, 0.01)
    promised = some(account_ids, 0.01)
    history_rows = len(recent)
    at = pa.array(
        [NOW - datetime.timedelta(days=int(d)) for d in rng.integers(1, 12, history_rows)],
        pa.timestamp("us", tz="UTC"),
    )
    owners = dict(zip(account_ids, tables["accounts"]["customer_id"].to_numpy(), strict=True))
    return {
        "accounts": tables["accounts"]
        .select(["id", "customer_id", "currency", "status", "product_type"])
        .rename_columns([ID, "customer_id", "currency", "status", "product_type"]),
        "charges": charges.select([ID, "due_date", "amount_minor"]),
        "payments": tables["payments"].select([ID, "received_date", "amount_minor"]),
        "customers": pa.table(
            {
                "customer_id": customers["id"],
                "language": customers["language"],
                "preferred_channel": customers["preferred_channel"],
                "time_zones": customers["time_zones"],
                "contact_hours_start": hours["contact_hours_start"],
                "contact_hours_end": hours["contact_hours_end"],
                "has_address": pc.not_equal(customers["address_line1"], ""),
                "debtor_type": customers["debtor_type"],
                "region": customers["region"],
                "country": customers["country"],
            }
        ),
        "contact_points": tables["contact_points"],
        "opt_outs": pa.table(
            {
                "customer_id": pa.array(opted),
                "channel": pa.array([("SMS", "EMAIL", "CALL")[i % 3] for i in range(len(opted))]),
            }
        ),
        "cease_requests": pa.table({"customer_id": pa.array(some(customer_ids, 0.003))}),
        "unverified_disputes": pa.table({ID: pa.array(some(account_ids, 0.005))}),
        "open_disputes": pa.table({ID: pa.array(some(account_ids, 0.01))}),
        "vulnerable_customers": pa.table({"customer_id": pa.array(some(customer_ids, 0.01))}),
        "breathing_spaces": pa.table({"customer_id": pa.array(some(customer_ids, 0.005))}),
        "holds": pa.table(
            {
                ID: pa.array(promised),
                "hold": pa.array(["PROMISE_OPEN"] * len(promised)),
            }
        ),
        "history": pa.table(
            {
                ID: pa.array(recent),
                "customer_id": pa.array([owners[a] for a in recent], pa.int64()),
                "template": pa.array(
                    [
                        ("late_notice", "pre_due_reminder", "promise_request")[i % 3]
                        for i in range(history_rows)
                    ]
                ),
                "channel": pa.array(
                    [("EMAIL", "SMS", "LETTER")[i % 3] for i in range(history_rows)]
                ),
                "status": pa.array(["SENT"] * history_rows),
                "direction": pa.array(["OUTBOUND"] * history_rows),
                "connected": pa.array([None] * history_rows, pa.bool_()),
                "planned_at": at,
                "sent_at": at,
            }
        ),
        "decided": engine.DECIDED_SCHEMA.empty_table(),
        "paused_arms": pa.table(
            {"experiment": pa.array([], pa.string()), "arm": pa.array([], pa.string())}
        ),
    }


def _small(table: Any) -> Any:
    """Return ``table`` with 32-bit offsets (``string``, ``list``), as the run's extract has."""
    import pyarrow as pa

    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_large_string(kind):
            kind = pa.string()
        elif pa.types.is_large_list(kind):
            kind = pa.list_(pa.string())
        fields.append(pa.field(field.name, kind))
    return table.cast(pa.schema(fields))


def _shifted(table: Any, *, copy: int, accounts: int, customers: int) -> Any:
    """Return ``table`` with its account and customer ids moved to copy number ``copy``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for column, step in ((ID, accounts), ("customer_id", customers)):
        if column in table.column_names and copy:
            index = table.schema.get_field_index(column)
            shifted = pc.add(table[column], pa.scalar(copy * step, pa.int64()))
            table = table.set_column(index, column, shifted)
    return table


def _prepare(folder: str, *, accounts: int, tile: int, seed: int) -> dict[str, int]:
    """Build the inputs of ``accounts`` accounts and write them to ``folder`` (in a child).

    The generated tile is written again and again with shifted ids, one batch per copy, so
    that only one tile is ever in memory.
    """
    import pyarrow as pa

    _setup_django()
    tile = min(tile, accounts)
    tables = {name: _small(table) for name, table in _engine_tables(tile, seed).items()}
    copies = -(-accounts // tile)
    customers = int(max(tables["customers"]["customer_id"].to_numpy()))
    rows = {}
    for name, table in tables.items():
        path = os.path.join(folder, f"{name}.arrow")
        repeat = 1 if name == "paused_arms" else copies
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            rows[name] = 0
            for copy in range(repeat):
                part = _shifted(table, copy=copy, accounts=tile, customers=customers)
                if name == "accounts":
                    part = part.slice(0, max(0, accounts - copy * tile))
                writer.write_table(part)
                rows[name] += part.num_rows
    return rows


def _read(folder: str) -> Any:
    import pyarrow as pa

    from accord.strategy import engine

    names = [field.name for field in dataclasses.fields(engine.Inputs)]
    tables = {}
    for name in names:
        with pa.memory_map(os.path.join(folder, f"{name}.arrow")) as source:
            tables[name] = pa.ipc.open_file(source).read_all()
    return engine.Inputs(**tables)


def _duckdb(memory_limit: str | None, folder: str) -> Any:
    import ibis

    if not memory_limit:
        return None
    return ibis.duckdb.connect(memory_limit=memory_limit, temp_directory=folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000_000)
    parser.add_argument("--tile", type=int, default=1_000_000, help="accounts generated once")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", default="duckdb", choices=["duckdb", "postgres", "spark"])
    parser.add_argument("--reference-sample", type=int, default=0)
    parser.add_argument(
        "--memory-limit", help="DuckDB's memory_limit (e.g. 4GB; it spills to disk beyond)"
    )
    parser.add_argument("--profile", type=Path, help="write a cProfile of engine.decide here")
    parser.add_argument("--json", type=Path, help="where to write the result")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="accord-engine-inputs-") as folder:
        began = time.perf_counter()
        context = multiprocessing.get_context("fork")
        with context.Pool(1) as pool:
            rows = pool.apply(
                _prepare,
                (folder,),
                {"accounts": arguments.accounts, "tile": arguments.tile, "seed": arguments.seed},
            )
        prepared = time.perf_counter() - began
        print(f"inputs ready in {prepared:.1f} s: {rows}", flush=True)
        _setup_django()
        from accord.strategy import backends, definition, engine, reference

        inputs = _read(folder)
        strategy = definition.load()
        backend = (
            _duckdb(arguments.memory_limit, folder)
            if arguments.engine == "duckdb"
            else backends.connect(
                backends.Engine(arguments.engine),
                postgres_url=os.environ.get("ACCORD_DATABASE_URL"),
            )
        )
        profile = cProfile.Profile() if arguments.profile else None
        from accord.strategy import contact_filter

        policy: dict[str, float] = {"seconds": 0.0, "candidates": 0}

        def timed_prefilter(candidates: Any, *, now: Any) -> Any:
            # The contact policy's vectorised pre-filter, timed on its own.
            started = time.perf_counter()
            answered = contact_filter.prefilter(candidates, now=now)
            policy["seconds"] += time.perf_counter() - started
            policy["candidates"] += candidates.num_rows
            return answered

        began = time.perf_counter()
        if profile:
            profile.enable()
        outcome = engine.decide(
            inputs=inputs,
            strategy=strategy,
            as_of=NOW.date(),
            now=NOW,
            backend=backend,
            prefilter=timed_prefilter,
        )
        if profile:
            profile.disable()
            profile.dump_stats(str(arguments.profile))
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        seconds = time.perf_counter() - began
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result: dict[str, Any] = {
            "benchmark": "strategy-engine",
            "accounts": arguments.accounts,
            "engine": arguments.engine,
            "seconds": round(seconds, 3),
            "accounts_per_second": round(arguments.accounts / seconds),
            "peak_rss_mb": round(peak / 1024),
            "decisions": outcome.decisions.num_rows,
            "contacts": outcome.outbox.num_rows,
            "contacts_blocked": outcome.contacts_blocked,
            "prefilter_candidates": int(policy["candidates"]),
            "prefilter_seconds": round(policy["seconds"], 3),
            "prefilter_decisions_per_second": round(
                policy["candidates"] / policy["seconds"] if policy["seconds"] else 0
            ),
            "input_rows": rows,
            "prepare_seconds": round(prepared, 3),
            "duckdb_memory_limit": arguments.memory_limit,
            "cpus": os.cpu_count(),
        }
        if arguments.reference_sample:
            from accord.cli.management.commands import bench

            sample = bench.sample_inputs(
                inputs,
                account_ids=inputs.accounts["account_id"].slice(0, arguments.reference_sample),
            )
            began = time.perf_counter()
            mine = reference.decide(inputs=sample, strategy=strategy, as_of=NOW.date(), now=NOW)
            result["reference_seconds"] = round(time.perf_counter() - began, 3)
            began = time.perf_counter()
            engine.decide(inputs=sample, strategy=strategy, as_of=NOW.date(), now=NOW)
            result["engine_sample_seconds"] = round(time.perf_counter() - began, 3)
            result["reference_accounts"] = mine.decisions.num_rows
            result["speedup"] = round(
                result["reference_seconds"] / result["engine_sample_seconds"], 1
            )
    text = json.dumps(result, indent=2)
    if arguments.json:
        arguments.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
