"""Write a generated demo book straight into an empty database, in bulk, for benchmarks.

``accord demo seed`` goes through the CSV import, which validates every phone number and
infers every time zone: right for a demo, but minutes at a million accounts. A benchmark
of the strategy run needs the same book in the database fast, so this loads the
generator's frames directly: ids are assigned in file order, amounts become minor units,
time zones come from the customer's city, and about one customer or account in a hundred
gets each circumstance the strategy reads (vulnerability, dispute, cease request, opt-out,
breathing space). Frames go to the tables through :func:`accord.storage.extract.insert`
(``COPY`` on PostgreSQL, batched inserts on SQLite), with one audit event per table.

A large book is generated and written in blocks of at most :data:`BLOCK_ACCOUNTS`
accounts, one transaction each, so that the loader's memory and the database's
write-ahead log stay those of one block: ten million accounts take what one million do.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from django.core.management.color import no_style
from django.db import connection, transaction

from accord.audit import events, log
from accord.domain import money
from accord.storage import extract, models
from accord.usecases.seed_demo import generator

Progress = Callable[[str, int, int], None]
SOURCE = "bench"
# Share of customers (accounts for disputes) given each circumstance.
CIRCUMSTANCE_SHARE = 0.01
BREATHING_SPACE_SHARE = 0.005
CEASE_SHARE = 0.003
# Accounts generated and written together, in one transaction: bounds the loader's memory.
BLOCK_ACCOUNTS = 1_000_000


class DatabaseNotEmpty(Exception):
    """The database already holds customers; a bulk load needs an empty one."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class LoadReport:
    """Say how many rows of each table were written, in how many blocks."""

    rows: dict[str, int]
    blocks: int = 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class Written:
    """Count the rows the blocks before this one wrote: its ids and references follow them."""

    customers: int = 0
    accounts: int = 0
    charges: int = 0
    payments: int = 0


def load_demo_book(
    *,
    accounts: int,
    seed: int,
    actor: str,
    now: datetime.datetime,
    progress: Progress | None = None,
    block_accounts: int = BLOCK_ACCOUNTS,
) -> LoadReport:
    """Generate the demo book of ``accounts`` accounts and write it, one block at a time.

    The book is generated and written in blocks of at most ``block_accounts`` accounts,
    each in its own transaction (with its import batches and their audit events), so
    memory and the write-ahead log stay those of one block whatever the size of the book.
    Block ``k`` is the generator's book for ``_block_seed(seed, k)``: its ids and external
    references continue those of the blocks before it, and its circumstances are drawn at
    the same shares. A book that fits in one block is exactly the single-block book. A
    failure leaves the blocks already written in the database.

    Raises :class:`DatabaseNotEmpty` when customers already exist and ``ValueError`` when
    ``accounts`` or ``block_accounts`` is below 1.
    """
    if accounts < 1:
        raise ValueError(f"accounts must be at least 1, not {accounts}")
    if block_accounts < 1:
        raise ValueError(f"block_accounts must be at least 1, not {block_accounts}")
    report = progress or (lambda stage, done, total: None)
    blocks = -(-accounts // block_accounts)
    written = Written()
    rows: dict[str, int] = {}
    for k in range(blocks):
        size = min(block_accounts, accounts - written.accounts)
        where = f"block {k + 1} of {blocks}: " if blocks > 1 else ""
        source = f"{SOURCE}:seed={seed}" + (f":block={k + 1}/{blocks}" if blocks > 1 else "")
        done = _write_block(
            accounts=size,
            seed=_block_seed(seed, k),
            after=written,
            source=source,
            actor=actor,
            now=now,
            report=_within(report, where=where, done=written.accounts, total=accounts),
        )
        for name, count in done.items():
            rows[name] = rows.get(name, 0) + count
        written = Written(
            customers=written.customers + done["customers"],
            accounts=written.accounts + done["accounts"],
            charges=written.charges + done["charges"],
            payments=written.payments + done["payments"],
        )
        report(f"{where}written", written.accounts, accounts)
    return LoadReport(rows=rows, blocks=blocks)


def _within(report: Progress, *, where: str, done: int, total: int) -> Progress:
    """Return ``report`` for the stages of one block: the book's accounts done so far."""
    return lambda stage, _done, _total: report(where + stage, done, total)


def _block_seed(seed: int, block: int) -> int:
    """Return the generator's seed for block ``block`` (the book's own seed for the first)."""
    if block == 0:
        return seed
    return int(np.random.SeedSequence((seed, block)).generate_state(1)[0])


def _write_block(
    *,
    accounts: int,
    seed: int,
    after: Written,
    source: str,
    actor: str,
    now: datetime.datetime,
    report: Progress,
) -> dict[str, int]:
    """Generate one block of ``accounts`` accounts and write it in one transaction."""
    report("generating", 0, accounts)
    book = generator.generate(accounts=accounts, seed=seed, as_of=now.date())
    tables = book_tables(book, now=now, after=after)
    del book
    rng = np.random.default_rng(seed)
    customers = tables["customers"]["id"]
    account_ids = tables["accounts"]["id"]
    rows: dict[str, int] = {}
    with transaction.atomic():
        if after.accounts == 0 and models.Customer.objects.exists():
            raise DatabaseNotEmpty("the database already holds customers")
        for name, model in (
            ("customers", models.Customer),
            ("contact_points", models.ContactPoint),
            ("accounts", models.Account),
            ("charges", models.Charge),
            ("payments", models.Payment),
        ):
            data = tables.pop(name)  # each table goes once written
            report(f"writing {name}", 0, data.num_rows)
            rows[name] = extract.insert(model, data)
            del data
        report("writing circumstances", 0, accounts)
        for name, model, data in _circumstances(
            rng, customers=customers, accounts=account_ids, actor=actor, now=now
        ):
            rows[name] = extract.insert(model, data)
        _reset_sequences()
        for kind, event_type, name in (
            (models.ImportKind.CUSTOMERS, events.EventType.CUSTOMERS_IMPORTED, "customers"),
            (models.ImportKind.ACCOUNTS, events.EventType.ACCOUNTS_IMPORTED, "accounts"),
            (models.ImportKind.CHARGES, events.EventType.CHARGES_IMPORTED, "charges"),
            (models.ImportKind.PAYMENTS, events.EventType.PAYMENTS_IMPORTED, "payments"),
        ):
            batch = models.ImportBatch.objects.create(
                kind=kind,
                source_name=source,
                sha256="",
                rows=rows[name],
                inserted=rows[name],
                updated=0,
                unchanged=0,
                actor=actor,
                started_at=now,
                finished_at=now,
            )
            log.record(
                actor=actor,
                event_type=event_type,
                subject_type="import_batch",
                subject_id=batch.pk,
                parameters={"source": batch.source_name, "rows": rows[name], "bulk": True},
                now=now,
            )
    return rows


# --- Generator frames to typed tables ------------------------------------------------------


def _city_zones() -> pl.DataFrame:
    """Return each (country, city) of the generator with its time zone."""
    pairs = [
        (country.code, city.name, city.zone)
        for country in generator._COUNTRIES
        for city in country.cities
    ]
    return pl.DataFrame(pairs, schema=["country", "city", "zone"], orient="row")


def _dialling() -> pl.DataFrame:
    """Return each country's calling code and whether national numbers start with a 0."""
    rows = [
        (country.code, country.calling_code, country.national[0] == "0")
        for country in generator._COUNTRIES
    ]
    return pl.DataFrame(rows, schema=["country", "calling_code", "trunk_zero"], orient="row")


def _e164(value: pl.Expr) -> pl.Expr:
    """Return a generated phone number in E.164 (the import's canonical form)."""
    digits = value.str.replace_all(r"[^0-9]", "")
    national = (
        pl.when(pl.col("trunk_zero") & digits.str.starts_with("0"))
        .then(digits.str.slice(1))
        .otherwise(digits)
    )
    return (
        pl.when(value.str.starts_with("+"))
        .then(pl.lit("+") + digits)
        .otherwise(pl.lit("+") + pl.col("calling_code") + national)
    )


def _date(name: str) -> pl.Expr:
    return pl.col(name).replace("", None).str.to_date("%Y-%m-%d").alias(name)


def _time(name: str) -> pl.Expr:
    return pl.when(pl.col(name) == "").then(None).otherwise(pl.col(name) + ":00").alias(name)


def _minor(name: str, *, decimals: pl.Expr) -> pl.Expr:
    """Return the decimal text ``name`` ("1019.55") as integer minor units."""
    parts = pl.col(name).str.split_exact(".", 1)
    whole = parts.struct.field("field_0").cast(pl.Int64)
    fraction = parts.struct.field("field_1").fill_null("")
    padded = (fraction + pl.lit("000000")).str.slice(0, decimals)
    scale = pl.lit(10, pl.Int64).pow(decimals)
    minor = whole * scale + pl.when(decimals > 0).then(padded.cast(pl.Int64)).otherwise(0)
    return pl.when(pl.col(name) == "").then(None).otherwise(minor)


def _ref(prefix: str, *, after: int, width: int) -> pl.Expr:
    """Return the external reference of each row, numbered on from ``after``.

    The generator numbers each table's references 1, 2, ... in row order, as ``prefix``
    and at least ``width`` digits; a later block's go on from the blocks before it. The
    first block keeps the generator's own.
    """
    if after == 0:
        return pl.col("external_ref")
    number = pl.int_range(1, pl.len() + 1, dtype=pl.Int64) + after
    return (pl.lit(prefix) + number.cast(pl.String).str.zfill(width)).alias("external_ref")


def book_tables(
    book: generator.Portfolio, *, now: datetime.datetime, after: Written | None = None
) -> dict[str, pa.Table]:
    """Return the book as Arrow tables named and typed as the database columns.

    Ids and external references follow the rows ``after`` counts (the blocks written
    before this one); without it, ids start at 1 and references are the generator's.
    Each table becomes Arrow as soon as it is built and its intermediate frames are let
    go, so that a million accounts do not hold every stage of every table at once.
    """
    after = after or Written()
    stamp = pl.lit(now.astimezone(datetime.UTC), pl.Datetime("us", "UTC"))
    customers = (
        book.customers.with_row_index("id", offset=after.customers + 1)
        .with_columns(pl.col("id").cast(pl.Int64))
        .join(_city_zones(), on=["country", "city"], how="left", maintain_order="left")
    )
    given = pl.col("time_zone") != ""
    customer_table = customers.select(
        "id",
        _ref("C", after=after.customers, width=7),
        "debtor_type",
        "name",
        _date("date_of_birth"),
        "address_line1",
        "address_line2",
        "city",
        "region",
        "postcode",
        "country",
        pl.col("language").replace("", "en"),
        "preferred_channel",
        _time("contact_hours_start"),
        _time("contact_hours_end"),
        "time_zone",
        time_zones=pl.when(given)
        .then(pl.concat_list(pl.col("time_zone")))
        .when(pl.col("zone").is_not_null())
        .then(pl.concat_list(pl.col("zone")))
        .otherwise(pl.lit([], pl.List(pl.String))),
        time_zone_source=pl.when(given)
        .then(pl.lit(models.TimeZoneSource.GIVEN.value))
        .when(pl.col("zone").is_not_null())
        .then(pl.lit(models.TimeZoneSource.ADDRESS.value))
        .otherwise(pl.lit(models.TimeZoneSource.UNKNOWN.value)),
        created_at=stamp,
        updated_at=stamp,
    ).to_arrow()
    dialling = customers.select("id", "country").join(
        _dialling(), on="country", how="left", maintain_order="left"
    )
    points = pl.concat(
        [
            customers.select(
                customer_id="id",
                kind=pl.lit(kind.value),
                value=pl.col(column).str.split(";"),
            )
            .explode("value")
            .with_columns(pl.col("value").str.strip_chars())
            .join(dialling, left_on="customer_id", right_on="id", how="left", maintain_order="left")
            .select(
                "customer_id",
                "kind",
                value=_e164(pl.col("value"))
                if kind is models.ContactPointKind.PHONE
                else pl.col("value").str.to_lowercase(),
            )
            .filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
            .unique(["customer_id", "value"], keep="first", maintain_order=True)
            .with_columns(position=pl.int_range(pl.len()).over("customer_id").cast(pl.Int64))
            for kind, column in (
                (models.ContactPointKind.PHONE, "phones"),
                (models.ContactPointKind.EMAIL, "emails"),
            )
        ]
    ).to_arrow()
    refs = customers.select(customer_ref="external_ref", customer_id="id")
    del customers, dialling
    currencies = book.accounts.get_column("currency").unique().to_list()
    scales = pl.DataFrame(
        {
            "currency": currencies,
            "_decimals": [money.minor_units(code) for code in currencies],
        },
        schema={"currency": pl.String, "_decimals": pl.Int64},
    )
    decimals = pl.col("_decimals")
    accounts = (
        book.accounts.with_row_index("id", offset=after.accounts + 1)
        .with_columns(pl.col("id").cast(pl.Int64))
        .join(refs, on="customer_ref", how="left", maintain_order="left")
        .join(scales, on="currency", how="left", maintain_order="left")
    )
    account_table = accounts.select(
        "id",
        _ref("A", after=after.accounts, width=7),
        "customer_id",
        "product_type",
        "currency",
        _minor("credit_limit", decimals=decimals).alias("credit_limit_minor"),
        _date("opened_date"),
        "status",
        created_at=stamp,
        updated_at=stamp,
    ).to_arrow()
    account_refs = accounts.select(account_ref="external_ref", account_id="id")
    del accounts, refs
    charge_table = (
        book.charges.join(account_refs, on="account_ref", how="left", maintain_order="left")
        .join(scales, on="currency", how="left", maintain_order="left")
        .select(
            _ref("CH", after=after.charges, width=8),
            "account_id",
            "kind",
            _minor("amount", decimals=decimals).alias("amount_minor"),
            "currency",
            _date("issued_date"),
            _date("due_date"),
            "description",
            created_at=stamp,
            updated_at=stamp,
        )
        .to_arrow()
    )
    payment_table = (
        book.payments.join(account_refs, on="account_ref", how="left", maintain_order="left")
        .join(scales, on="currency", how="left", maintain_order="left")
        .select(
            _ref("P", after=after.payments, width=8),
            "account_id",
            _minor("amount", decimals=decimals).alias("amount_minor"),
            "currency",
            _date("received_date"),
            "method",
            "provider_reference",
            created_at=stamp,
            updated_at=stamp,
        )
        .to_arrow()
    )
    return {
        "customers": customer_table,
        "contact_points": points,
        "accounts": account_table,
        "charges": charge_table,
        "payments": payment_table,
    }


def _sample(rng: np.random.Generator, ids: Any, share: float) -> pa.Array:
    values = np.asarray(ids.to_numpy() if hasattr(ids, "to_numpy") else ids)
    count = max(1, round(len(values) * share))
    return pa.array(np.sort(rng.choice(values, size=min(count, len(values)), replace=False)))


def _circumstances(
    rng: np.random.Generator,
    *,
    customers: Any,
    accounts: Any,
    actor: str,
    now: datetime.datetime,
) -> list[tuple[str, type[Any], pa.Table]]:
    """Return about one in a hundred customers (accounts) with each circumstance."""
    at = now.astimezone(datetime.UTC)
    today = now.date()

    def constant(value: Any, rows: int, kind: pa.DataType) -> pa.Array:
        return pa.array([value] * rows, kind)

    timestamp = pa.timestamp("us", tz="UTC")
    vulnerable = _sample(rng, customers, CIRCUMSTANCE_SHARE)
    categories = [c.value for c in models.VulnerabilityCategory]
    disputed = _sample(rng, accounts, CIRCUMSTANCE_SHARE)
    ceased = _sample(rng, customers, CEASE_SHARE)
    opted = _sample(rng, customers, CIRCUMSTANCE_SHARE)
    opt_channels = [models.Channel.SMS, models.Channel.EMAIL, models.Channel.CALL]
    breathing = _sample(rng, customers, BREATHING_SPACE_SHARE)
    n = len(vulnerable)
    vulnerabilities = pa.table(
        {
            "customer_id": vulnerable,
            "category": pa.array([categories[i % len(categories)] for i in range(n)]),
            "consent_to_record": constant(False, n, pa.bool_()),
            "detail": constant("", n, pa.string()),
            "review_date": constant(today + datetime.timedelta(days=90), n, pa.date32()),
            "recorded_at": constant(at, n, timestamp),
            "recorded_by": constant(actor, n, pa.string()),
        }
    )
    n = len(disputed)
    disputes = pa.table(
        {
            "account_id": disputed,
            "reason": constant("Customer says this charge was already paid.", n, pa.string()),
            "received_at": constant(at, n, timestamp),
            # Half are verified: still open (DISPUTE_OPEN) but no longer pausing collection.
            "verified_at": pa.array([at if i % 2 else None for i in range(n)], timestamp),
            "recorded_by": constant(actor, n, pa.string()),
        }
    )
    n = len(ceased)
    cease_requests = pa.table(
        {
            "customer_id": ceased,
            "received_at": constant(at, n, timestamp),
            "recorded_by": constant(actor, n, pa.string()),
        }
    )
    n = len(opted)
    opt_outs = pa.table(
        {
            "customer_id": opted,
            "channel": pa.array([opt_channels[i % 3].value for i in range(n)]),
            "opted_out_at": constant(at, n, timestamp),
            "source": constant(SOURCE, n, pa.string()),
            "recorded_by": constant(actor, n, pa.string()),
        }
    )
    n = len(breathing)
    breathing_spaces = pa.table(
        {
            "customer_id": breathing,
            "kind": constant(models.BreathingSpaceKind.STANDARD.value, n, pa.string()),
            "starts_on": constant(today - datetime.timedelta(days=10), n, pa.date32()),
            "ends_on": constant(today + datetime.timedelta(days=50), n, pa.date32()),
            "reference": constant("", n, pa.string()),
            "recorded_at": constant(at, n, timestamp),
            "recorded_by": constant(actor, n, pa.string()),
        }
    )
    return [
        ("vulnerabilities", models.Vulnerability, vulnerabilities),
        ("disputes", models.Dispute, disputes),
        ("cease_requests", models.CeaseRequest, cease_requests),
        ("opt_outs", models.ChannelOptOut, opt_outs),
        ("breathing_spaces", models.BreathingSpace, breathing_spaces),
    ]


def _reset_sequences() -> None:
    """Move PostgreSQL's id sequences past the ids written explicitly (nothing on SQLite)."""
    statements = connection.ops.sequence_reset_sql(no_style(), [models.Customer, models.Account])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
