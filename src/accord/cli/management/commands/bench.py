"""``accord bench import --accounts N --json FILE``: measure the import on this machine."""

from __future__ import annotations

import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from accord.cli import actors
from accord.storage import models
from accord.usecases import import_portfolio
from accord.usecases.seed_demo import generator

Kind = import_portfolio.RecordKind


class Command(BaseCommand):
    help = (
        "Benchmark the CSV import of customers + accounts + charges + payments for N accounts "
        "into the configured database, which must be empty (point ACCORD_DATA_DIR at a scratch "
        "folder)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        imp = sub.add_parser("import", help="benchmark the portfolio import")
        imp.add_argument("--accounts", type=int, required=True)
        imp.add_argument("--seed", type=int, default=7)
        imp.add_argument("--json", type=Path, dest="json_file", help="write results here")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts: int = options["accounts"]
        if accounts < 1:
            raise CommandError("--accounts must be at least 1")
        if models.Customer.objects.exists():
            raise CommandError(
                "the configured database already holds customers; run the benchmark on an empty "
                "one, e.g. ACCORD_DATA_DIR=$(mktemp -d) accord migrate && accord bench import ..."
            )
        now = timezone.now()
        started = time.perf_counter()
        book = generator.generate(accounts=accounts, seed=options["seed"], as_of=now.date())
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
        result = {
            "benchmark": "import",
            "accounts": accounts,
            "database": connection.vendor,
            "rows": rows,
            "total_rows": sum(rows.values()),
            "seconds": seconds,
            "total_seconds": round(total, 3),
            "rows_per_second": round(sum(rows.values()) / total),
            "generate_seconds": round(generated, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "measured_at": now.isoformat(),
        }
        text = json.dumps(result, indent=2)
        if options["json_file"]:
            options["json_file"].write_text(text + "\n")
        self.stdout.write(text)
