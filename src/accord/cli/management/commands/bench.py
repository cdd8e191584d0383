"""``accord bench import|strategy --accounts N --json FILE``: measure Accord on this machine.

``bench import`` times the CSV import of a generated book. ``bench strategy`` writes a
generated book straight into the (empty) database, times the full daily strategy run on
it, and compares the engine with the per-account reference implementation on a sample.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import multiprocessing
import resource
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections
from django.db.models import Max, Min
from django.utils import timezone

from accord.cli import actors, progress
from accord.storage import extract, models
from accord.strategy import backends, engine, reference
from accord.usecases import import_portfolio, strategies, strategy_run
from accord.usecases.seed_demo import bulk, generator

Kind = import_portfolio.RecordKind
REFERENCE_SAMPLE = 100_000


class Command(BaseCommand):
    help = (
        "Benchmark the CSV import (`import`) or the daily strategy run (`strategy`) for N "
        "generated accounts in the configured database, which must be empty (point "
        "ACCORD_DATA_DIR at a scratch folder)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        imp = sub.add_parser("import", help="benchmark the portfolio import")
        imp.add_argument("--accounts", type=int, required=True)
        imp.add_argument("--seed", type=int, default=7)
        imp.add_argument("--json", type=Path, dest="json_file", help="write results here")
        run = sub.add_parser("strategy", help="benchmark the daily strategy run end to end")
        run.add_argument("--accounts", type=int, required=True)
        run.add_argument("--engine", choices=[e.value for e in backends.Engine], default="duckdb")
        run.add_argument("--seed", type=int, default=7)
        run.add_argument(
            "--reference-sample",
            type=int,
            default=REFERENCE_SAMPLE,
            help="accounts the reference implementation and the engine both decide "
            f"(default {REFERENCE_SAMPLE:,}; 0 skips the comparison)",
        )
        run.add_argument("--json", type=Path, dest="json_file", help="write results here")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts: int = options["accounts"]
        if accounts < 1:
            raise CommandError("--accounts must be at least 1")
        if models.Customer.objects.exists():
            raise CommandError(
                "the configured database already holds customers; run the benchmark on an empty "
                f"one, e.g. ACCORD_DATA_DIR=$(mktemp -d) accord migrate && accord bench "
                f"{options['what']} ..."
            )
        if options["what"] == "strategy":
            result = self._strategy(
                accounts=accounts,
                engine_name=backends.Engine(options["engine"]),
                seed=options["seed"],
                sample=options["reference_sample"],
            )
        else:
            result = self._import(accounts=accounts, seed=options["seed"])
        text = json.dumps(result, indent=2)
        if options["json_file"]:
            options["json_file"].write_text(text + "\n")
        self.stdout.write(text)

    def _import(self, *, accounts: int, seed: int) -> dict[str, Any]:
        now = timezone.now()
        started = time.perf_counter()
        book = generator.generate(accounts=accounts, seed=seed, as_of=now.date())
        generated = time.perf_counter() - started
        seconds: dict[str, float] = {}
        rows: dict[str, int] = {}
        with tempfile.TemporaryDirectory(prefix="accord-bench-") as folder:
            files = []
            for kind, frame in [
                (Kind.CUSTOMERS, book.customers),
                (Kind.ACCOUNTS, book.accounts),
                (Kind.CHARGES, book.charges),
                (Kind.PAYMENTS, book.payments),
            ]:
                path = Path(folder) / f"{kind.value}.csv"
                frame.write_csv(path)
                files.append((kind, path))
            del book  # measure the import, not the generator's memory
            for kind, path in files:
                began = time.perf_counter()
                report = import_portfolio.import_file(
                    kind=kind, path=path, actor=actors.cli_actor(), now=now
                )
                seconds[kind.value] = round(time.perf_counter() - began, 3)
                rows[kind.value] = report.rows
                self.stderr.write(f"{kind.value}: {report.rows} rows in {seconds[kind.value]} s")
        total = sum(seconds.values())
        return {
            "benchmark": "import",
            "accounts": accounts,
            "database": connection.vendor,
            "rows": rows,
            "total_rows": sum(rows.values()),
            "seconds": seconds,
            "total_seconds": round(total, 3),
            "rows_per_second": round(sum(rows.values()) / total),
            "generate_seconds": round(generated, 3),
            "peak_rss_mb": _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
            "measured_at": now.isoformat(),
        }

    def _strategy(
        self, *, accounts: int, engine_name: backends.Engine, seed: int, sample: int
    ) -> dict[str, Any]:
        """Load the book, compare reference and engine on a sample, then time the run.

        Loading and the sample run in child processes, so that this process's peak RSS is
        that of the run alone.
        """
        now = timezone.now()
        actor = actors.cli_actor()
        self.stderr.write(f"Writing a generated book of {accounts:,} accounts ...")
        loaded = _in_child(
            _load_book, accounts=accounts, seed=seed, actor=actor, now=now, say=self.stderr.write
        )
        self.stderr.write(
            f"  {loaded['rows']} in {loaded['seconds']} s, peak RSS {loaded['peak_rss_mb']:,} MB"
        )
        compared: dict[str, Any] = {}
        if sample > 0:
            self.stderr.write(f"Deciding a sample of {min(sample, accounts):,} accounts twice ...")
            compared = _in_child(
                _compare_on_sample, sample=sample, seed=seed, engine_name=engine_name, now=now
            )
            self.stderr.write(
                f"  reference {compared['reference_seconds']} s, engine "
                f"{compared['engine_sample_seconds']} s, agree: {compared['reference_agrees']}"
            )
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        self.stderr.write(f"Running the strategy on {engine_name.value} ...")
        with progress.stages(enabled=True, title="Strategy run") as update:
            run_now = timezone.now()
            began = time.perf_counter()
            run = _start_run(actor=actor, now=run_now, engine_name=engine_name, progress=update)
            seconds = time.perf_counter() - began
        # The run's own report times its phases; "other" is what lies outside them
        # (choosing the strategy, connecting the engine, starting and closing the run).
        phases: dict[str, float] = dict(run.counts.get("phases", {}))
        phases["other"] = round(seconds - sum(phases.values()), 3)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        # Children that ran during the run (a Spark JVM) count; the loader's peak does not.
        peak = max(own, children if children > children_before else 0)
        result: dict[str, Any] = {
            "benchmark": "strategy",
            "accounts": accounts,
            "engine": engine_name.value,
            "database": connection.vendor,
            "seconds": round(seconds, 3),
            "accounts_per_second": round(accounts / seconds),
            "peak_rss_mb": _mb(peak),
            "reference_seconds": compared.get("reference_seconds"),
            "reference_accounts": compared.get("reference_accounts"),
            "engine_sample_seconds": compared.get("engine_sample_seconds"),
            "speedup": compared.get("speedup"),
            "engine_sample_compiled_seconds": compared.get("engine_sample_compiled_seconds"),
            "speedup_compiled": compared.get("speedup_compiled"),
            "phases": phases,
            "counts": {
                key: run.counts[key]
                for key in ("treatment", "segment", "arm", "channel")
                if key in run.counts
            },
            "decisions": run.decisions,
            "contacts_planned": run.contacts_planned,
            "contacts_blocked": run.contacts_blocked,
            "reference_agrees": compared.get("reference_agrees"),
            "reference_differences": compared.get("reference_differences"),
            "reference_policy_checks": compared.get("reference_policy_checks"),
            "load_seconds": loaded["seconds"],
            "load_peak_rss_mb": loaded["peak_rss_mb"],
            "load_blocks": loaded["blocks"],
            "rows": loaded["rows"],
            "seed": seed,
            "as_of": run.as_of_date.isoformat(),
            "measured_at": now.isoformat(),
        }
        return result


def _mb(kilobytes: int) -> int:
    """Return ``ru_maxrss`` (kilobytes on Linux) in megabytes."""
    return round(kilobytes / 1024)


def _start_run(
    *,
    actor: str,
    now: datetime.datetime,
    engine_name: backends.Engine,
    progress: Callable[[str, int, int], None],
) -> models.StrategyRun:
    try:
        return strategy_run.start_run(
            as_of=timezone.localdate(now),
            actor=actor,
            now=now,
            engine=engine_name,
            progress=progress,
            clock=timezone.now,
        )
    except strategy_run.RunRefused as refused:
        raise CommandError(f"run refused: {refused.reason}") from None


# --- Child processes -----------------------------------------------------------------------


def _in_child(function: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    """Run ``function(**kwargs)`` in a forked process and return its result.

    The child starts from this process (Django set up, no database connection open) and
    opens its own connection; its memory is its own, so it never raises this process's peak.
    """
    connections.close_all()
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(sender, function, kwargs))
    child.start()
    sender.close()
    try:
        outcome: tuple[str, Any] = receiver.recv()
    except EOFError:
        outcome = ("error", "the child process died without an answer")
    child.join()
    if outcome[0] != "ok":
        raise CommandError(f"{function.__name__} failed:\n{outcome[1]}")
    answer: dict[str, Any] = outcome[1]
    return answer


def _child_main(sender: Any, function: Callable[..., dict[str, Any]], kwargs: Any) -> None:
    try:
        sender.send(("ok", function(**kwargs)))
    except BaseException:
        sender.send(("error", traceback.format_exc()))
    finally:
        connections.close_all()
        sender.close()


def _load_book(
    *,
    accounts: int,
    seed: int,
    actor: str,
    now: datetime.datetime,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Write the book block by block, saying each stage; return rows, time and peak RSS."""
    began = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        peak = _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        say(
            f"  {stage} ({done:,} of {total:,} accounts written, "
            f"{time.perf_counter() - began:.0f} s, peak RSS {peak:,} MB)"
        )

    report = bulk.load_demo_book(
        accounts=accounts, seed=seed, actor=actor, now=now, progress=progress
    )
    return {
        "rows": report.rows,
        "blocks": report.blocks,
        "seconds": round(time.perf_counter() - began, 3),
        "peak_rss_mb": _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
    }


def _compare_on_sample(
    *, sample: int, seed: int, engine_name: backends.Engine, now: datetime.datetime
) -> dict[str, Any]:
    """Decide the same sample of the run's extract with the reference and with the engine.

    Only the sample is read (:func:`sample_range`), so its memory and time do not grow
    with the book.
    """
    as_of = timezone.localdate(now)
    strategy = strategies.parsed(strategies.active_version(now=now))
    # The run's own extract of one range (before promises and plans are judged: the
    # generated book has none, so no account is held by one).
    inputs = strategy_run.read_book(
        as_of=as_of,
        now=now,
        strategies_read=(strategy,),
        undecided=True,
        within=sample_range(size=sample, seed=seed),
    ).inputs
    began = time.perf_counter()
    mine = reference.decide(inputs=inputs, strategy=strategy, as_of=as_of, now=now)
    reference_seconds = time.perf_counter() - began
    backend = None
    if engine_name is not backends.Engine.DUCKDB:
        backend = backends.connect(
            engine_name,
            postgres_url=extract.postgres_url()
            if engine_name is backends.Engine.POSTGRES
            else None,
            spark_master=settings.ENV.spark_master
            if engine_name is backends.Engine.SPARK
            else None,
        )
    began = time.perf_counter()
    outcome = engine.decide(inputs=inputs, strategy=strategy, as_of=as_of, now=now, backend=backend)
    engine_seconds = time.perf_counter() - began
    # Again, as every range of a run after the first: the queries are built and compiled.
    began = time.perf_counter()
    engine.decide(inputs=inputs, strategy=strategy, as_of=as_of, now=now, backend=backend)
    compiled_seconds = time.perf_counter() - began
    names = reference.DECISION_SCHEMA.names
    theirs = outcome.decisions.select(names).cast(reference.DECISION_SCHEMA)
    differing = _differences(theirs, mine.decisions)
    return {
        "reference_seconds": round(reference_seconds, 3),
        "reference_accounts": mine.decisions.num_rows,
        "engine_sample_seconds": round(engine_seconds, 3),
        "speedup": round(reference_seconds / engine_seconds, 1),
        "engine_sample_compiled_seconds": round(compiled_seconds, 3),
        "speedup_compiled": round(reference_seconds / compiled_seconds, 1),
        "reference_agrees": not differing and _same_outbox(outcome.outbox, mine.outbox),
        "reference_differences": differing,
        "reference_policy_checks": mine.outbox.num_rows
        + sum("POLICY_BLOCKED" in codes for codes in mine.decisions["reason_codes"].to_pylist()),
    }


def sample_range(*, size: int, seed: int) -> extract.AccountRange:
    """Return ``size`` consecutive account ids from a place drawn with ``seed``.

    The generator draws every account independently of its neighbours, so consecutive
    accounts are as fair a sample as any; and a range is read as a run reads one, without
    reading the rest of the book. Only the smallest and largest ids are looked up: the
    benchmark's book numbers its accounts 1 to N, so the range holds ``size`` of them.
    """
    bounds = models.Account.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None or bounds["high"] - bounds["low"] + 1 <= size:
        return extract.EVERY_ACCOUNT
    spare = bounds["high"] - bounds["low"] + 1 - size
    low = bounds["low"] + int(np.random.default_rng(seed).integers(0, spare + 1))
    return extract.AccountRange(low=low, high=low + size)


def sample_inputs(inputs: engine.Inputs, *, account_ids: pa.Array) -> engine.Inputs:
    """Return ``inputs`` restricted to ``account_ids`` and their customers.

    A contact about no particular account stays when it is about one of those customers.
    """
    customers = pc.unique(
        inputs.accounts.filter(pc.is_in(inputs.accounts["account_id"], value_set=account_ids))[
            "customer_id"
        ]
    )
    kept: dict[str, pa.Table] = {}
    for field in dataclasses.fields(inputs):
        table: pa.Table = getattr(inputs, field.name)
        names = table.column_names
        if "account_id" in names:
            mask = pc.is_in(table["account_id"], value_set=account_ids)
            if "customer_id" in names:
                about_customer = pc.and_(
                    pc.is_null(table["account_id"]),
                    pc.is_in(table["customer_id"], value_set=customers),
                )
                mask = pc.or_(pc.fill_null(mask, False), about_customer)
            table = table.filter(mask)
        elif "customer_id" in names:
            table = table.filter(pc.is_in(table["customer_id"], value_set=customers))
        kept[field.name] = table
    return dataclasses.replace(inputs, **kept)


def _differences(expected: pa.Table, actual: pa.Table) -> list[str]:
    """Describe up to five decisions on which the engine and the reference disagree."""
    found: list[str] = []
    if expected.num_rows != actual.num_rows:
        found.append(f"rows: engine {expected.num_rows}, reference {actual.num_rows}")
    for want, got in zip(expected.to_pylist(), actual.to_pylist(), strict=False):
        wrong = {name: [want[name], got[name]] for name in want if want[name] != got[name]}
        if wrong:
            found.append(f"account {want['account_id']}: engine, reference {wrong}")
            if len(found) >= 5:
                break
    return found


def _same_outbox(theirs: pa.Table, mine: pa.Table) -> bool:
    names = reference.OUTBOX_SCHEMA.names
    return bool(theirs.select(names).cast(reference.OUTBOX_SCHEMA).equals(mine))
