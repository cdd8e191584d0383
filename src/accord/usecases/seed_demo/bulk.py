"""Write a generated demo book straight into an empty database, in bulk, for benchmarks.

``accord demo seed`` goes through the CSV import, which validates every phone number and
infers every time zone: right for a demo, but minutes at a million accounts. A benchmark
of the strategy run needs the same book in the database fast, so this loads the
generator's frames directly: ids are assigned in file order, amounts become minor units,
time zones come from the customer's city, and about one customer or account in a hundred
gets each circumstance the strategy reads (vulnerability, dispute, cease request, opt-out,
breathing space). Frames go to the tables through :func:`accord.storage.extract.insert`
(``COPY`` on PostgreSQL, batched inserts on SQLite) in one transaction, with one audit
event per table.
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


class DatabaseNotEmpty(Exception):
    """The database already holds customers; a bulk load needs an empty one."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class LoadReport:
    """Say how many rows of each table were written."""

    rows: dict[str, int]


def load_demo_book(
    *,
    accounts: int,
    seed: int,
    actor: str,
    now: datetime.datetime,
    progress: Progress | None = None,
) -> LoadReport:
    """Generate the demo book of ``accounts`` accounts and write it, in one transaction.

    Raises :class:`DatabaseNotEmpty` when customers already exist and ``ValueError`` when
    ``accounts`` is below 1.
    """
    report = progress or (lambda stage, done, total: None)
    report("generating", 0, accounts)
    book = generator.generate(accounts=accounts, seed=seed, as_of=now.date())
    tables = book_tables(book, now=now)
    del book
    rng = np.random.default_rng(seed)
    rows: dict[str, int] = {}
    with transaction.atomic():
        if models.Customer.objects.exists():
            raise DatabaseNotEmpty("the database already holds customers")
        for name, model, data in (
            ("customers", models.Customer, tables["customers"]),
            ("contact_points", models.ContactPoint, tables["contact_points"]),
            ("accounts", models.Account, tables["accounts"]),
            ("charges", models.Charge, tables["charges"]),
            ("payments", models.Payment, tables["payments"]),
        ):
            report(f"writing {name}", 0, data.num_rows)
            rows[name] = extract.insert(model, data)
        customers = tables["customers"]["id"]
        account_ids = tables["accounts"]["id"]
        del tables
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
                source_name=f"{SOURCE}:seed={seed}",
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
    return LoadReport(rows=rows)


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


def book_tables(book: generator.Portfolio, *, now: datetime.datetime) -> dict[str, pa.Table]:
    """Return the book as Arrow tables named and typed as the database columns, ids from 1."""
    stamp = pl.lit(now.astimezone(datetime.UTC), pl.Datetime("us", "UTC"))
    customers = (
        book.customers.with_row_index("id", offset=1)
        .with_columns(pl.col("id").cast(pl.Int64))
        .join(_city_zones(), on=["country", "city"], how="left", maintain_order="left")
    )
    given = pl.col("time_zone") != ""
    customer_table = customers.select(
        "id",
        "external_ref",
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
    )
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
    )
    refs = customers.select(customer_ref="external_ref", customer_id="id")
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
        book.accounts.with_row_index("id", offset=1)
        .with_columns(pl.col("id").cast(pl.Int64))
        .join(refs, on="customer_ref", how="left", maintain_order="left")
        .join(scales, on="currency", how="left", maintain_order="left")
    )
    account_table = accounts.select(
        "id",
        "external_ref",
        "customer_id",
        "product_type",
        "currency",
        _minor("credit_limit", decimals=decimals).alias("credit_limit_minor"),
        _date("opened_date"),
        "status",
        created_at=stamp,
        updated_at=stamp,
    )
    account_refs = accounts.select(account_ref="external_ref", account_id="id")
    charges = book.charges.join(
        account_refs, on="account_ref", how="left", maintain_order="left"
    ).join(scales, on="currency", how="left", maintain_order="left")
    charge_table = charges.select(
        "external_ref",
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
    payments = book.payments.join(
        account_refs, on="account_ref", how="left", maintain_order="left"
    ).join(scales, on="currency", how="left", maintain_order="left")
    payment_table = payments.select(
        "external_ref",
        "account_id",
        _minor("amount", decimals=decimals).alias("amount_minor"),
        "currency",
        _date("received_date"),
        "method",
        "provider_reference",
        created_at=stamp,
        updated_at=stamp,
    )
    return {
        "customers": customer_table.to_arrow(),
        "contact_points": points.to_arrow(),
        "accounts": account_table.to_arrow(),
        "charges": charge_table.to_arrow(),
        "payments": payment_table.to_arrow(),
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
