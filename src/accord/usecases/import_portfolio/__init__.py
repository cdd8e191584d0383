"""Import a portfolio: customers, accounts, charges and payments, all or nothing.

The CLI (``accord import``), the demo seeder and the API's create endpoints all
come through :func:`import_table`, so every record meets the same validation.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from django.db import connection, transaction

from accord.audit import events, log
from accord.storage import bulk, models
from accord.usecases.import_portfolio import columns as cols
from accord.usecases.import_portfolio import reading, validation

RecordKind = cols.RecordKind
Progress = Callable[[str, int, int], None]


class Mode(enum.StrEnum):
    UPSERT = "UPSERT"  # insert new references, update changed ones
    CREATE = "CREATE"  # every reference must be new


@dataclasses.dataclass(frozen=True, kw_only=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImportReport:
    """What an import did, or why it did nothing."""

    kind: RecordKind
    source: str
    accepted: bool
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    sha256: str = ""
    batch_id: int | None = None
    ids: dict[str, int] = dataclasses.field(default_factory=dict)
    problem: str = ""
    errors: tuple[RowError, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["kind"] = self.kind.value
        del data["ids"]
        return data


class ImportRejected(Exception):
    """Nothing was written: the file or some rows are invalid. ``report`` says why."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(report.problem or f"{len(report.errors)} invalid value(s)")
        self.report = report


MAX_ERRORS = 10_000

_MODEL: Mapping[RecordKind, Any] = {
    RecordKind.CUSTOMERS: models.Customer,
    RecordKind.ACCOUNTS: models.Account,
    RecordKind.CHARGES: models.Charge,
    RecordKind.PAYMENTS: models.Payment,
}
_LOAD_COLUMNS: Mapping[RecordKind, tuple[str, ...]] = {
    RecordKind.CUSTOMERS: bulk.CUSTOMER_COLUMNS,
    RecordKind.ACCOUNTS: bulk.ACCOUNT_COLUMNS,
    RecordKind.CHARGES: bulk.CHARGE_COLUMNS,
    RecordKind.PAYMENTS: bulk.PAYMENT_COLUMNS,
}
_IMPORTED: Mapping[RecordKind, events.EventType] = {
    RecordKind.CUSTOMERS: events.EventType.CUSTOMERS_IMPORTED,
    RecordKind.ACCOUNTS: events.EventType.ACCOUNTS_IMPORTED,
    RecordKind.CHARGES: events.EventType.CHARGES_IMPORTED,
    RecordKind.PAYMENTS: events.EventType.PAYMENTS_IMPORTED,
}
# Stable advisory-lock keys (Python's hash() differs between processes).
_LOCK_KEYS: Mapping[RecordKind, int] = {
    RecordKind.CUSTOMERS: 71_001,
    RecordKind.ACCOUNTS: 71_002,
    RecordKind.CHARGES: 71_003,
    RecordKind.PAYMENTS: 71_004,
}
_CREATED: Mapping[RecordKind, events.EventType] = {
    RecordKind.CUSTOMERS: events.EventType.CUSTOMER_CREATED,
    RecordKind.ACCOUNTS: events.EventType.ACCOUNT_CREATED,
    RecordKind.CHARGES: events.EventType.CHARGE_CREATED,
    RecordKind.PAYMENTS: events.EventType.PAYMENT_CREATED,
}


def import_file(
    *,
    kind: RecordKind,
    path: Path,
    actor: str,
    now: datetime,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate every row of the CSV at ``path`` and load it in one transaction.

    Raises ``ImportRejected`` (nothing written) when the file cannot be read or
    any row is invalid.
    """
    try:
        table = reading.read_file(path=path, kind=kind)
    except reading.UnreadableFile as error:
        raise ImportRejected(
            ImportReport(kind=kind, source=str(path), accepted=False, problem=str(error))
        ) from None
    return _import(
        kind=kind,
        table=table,
        source=path.name,
        actor=actor,
        now=now,
        mode=Mode.UPSERT,
        progress=progress,
    )


def import_records(
    *,
    kind: RecordKind,
    records: Sequence[Mapping[str, str]],
    source: str,
    actor: str,
    now: datetime,
    mode: Mode = Mode.UPSERT,
) -> ImportReport:
    """Validate and load ``records`` (column name -> text) exactly as a file's rows.

    Rows are numbered from 1. Raises ``ImportRejected`` when any is invalid
    (in ``Mode.CREATE`` also when a reference already exists).
    """
    names = cols.column_names(kind)
    unknown = sorted({k for r in records for k in r} - set(names))
    if unknown:
        raise ImportRejected(
            ImportReport(
                kind=kind,
                source=source,
                accepted=False,
                problem=f"unknown field(s): {', '.join(unknown)}",
            )
        )
    table = reading.Table(
        header=names,
        frame=pl.DataFrame(
            {
                n: pl.Series(
                    n, ["" if r.get(n) is None else str(r.get(n)) for r in records], pl.String
                )
                for n in names
            }
        ),
        line_numbers=list(range(1, len(records) + 1)),
        sha256="",
        bad_rows=[],
    )
    return _import(kind=kind, table=table, source=source, actor=actor, now=now, mode=mode)


def _import(
    *,
    kind: RecordKind,
    table: reading.Table,
    source: str,
    actor: str,
    now: datetime,
    mode: Mode,
    progress: Progress | None = None,
) -> ImportReport:
    def step(name: str) -> None:
        if progress is not None:
            progress(name, 0, table.row_count)

    model = _MODEL[kind]
    frame = validation.frame_of(table, kind)
    with transaction.atomic():
        _serialise_imports(kind)
        step("checking references")
        references = _references(kind, frame)
        step("validating")
        checked = validation.validate(
            kind=kind,
            frame=frame,
            references=references,
            today=now.date(),
            bad_rows=table.bad_rows,
        )
        errors = checked.errors
        columns = _LOAD_COLUMNS[kind]
        current = bulk.existing(model, refs=frame.get_column("external_ref"), columns=columns)
        if kind is RecordKind.ACCOUNTS and current.height:
            errors = pl.concat([errors, _currency_changes(checked.frame, current)])
        if mode is Mode.CREATE and current.height:
            errors = pl.concat(
                [
                    errors,
                    checked.frame.join(current.select("external_ref"), on="external_ref").select(
                        pl.col(validation.LINE).alias("row"),
                        pl.lit("external_ref").alias("column"),
                        pl.lit("already exists").alias("reason"),
                    ),
                ]
            )
        if errors.height:
            raise ImportRejected(
                ImportReport(
                    kind=kind,
                    source=source,
                    accepted=False,
                    rows=table.row_count + len(table.bad_rows),
                    sha256=table.sha256,
                    problem=f"{errors.height} invalid value(s); nothing was imported",
                    errors=tuple(
                        RowError(row=r, column=c, reason=m)
                        for r, c, m in errors.head(MAX_ERRORS).iter_rows()
                    ),
                )
            )
        step("loading")
        fresh, changed = _partition(checked.frame, current, columns)
        inserted = bulk.insert(model, frame=fresh, columns=columns, now=now)
        updated_refs = set(changed.get_column("external_ref").to_list())
        bulk.update(model, frame=changed, columns=columns[1:], now=now)
        # Ids are read back only where needed: contact points, and the API's one record.
        ids = (
            bulk.lookup(model, refs=checked.frame.get_column("external_ref"), columns=["id"])
            if checked.contact_points is not None or mode is Mode.CREATE
            else pl.DataFrame(schema={"external_ref": pl.String, "id": pl.Int64})
        )
        if checked.contact_points is not None:
            touched = _contact_points(checked.contact_points, ids)
            # A customer whose phones or e-mails changed has been updated too.
            updated_refs |= touched - set(fresh.get_column("external_ref").to_list())
        updated = len(updated_refs)
        report = ImportReport(
            kind=kind,
            source=source,
            accepted=True,
            rows=table.row_count,
            inserted=inserted,
            updated=updated,
            unchanged=table.row_count - inserted - updated,
            sha256=table.sha256,
            ids=dict(ids.select("external_ref", "id").iter_rows()),
        )
        if inserted or updated:
            report = _record(kind=kind, report=report, actor=actor, now=now, mode=mode)
    return report


def _currency_changes(frame: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """Refuse to change the currency of an account that already has money on it."""
    moved = frame.join(
        current.select("external_ref", "id", pl.col("currency").alias("stored_currency")),
        on="external_ref",
    ).filter((pl.col("currency") != pl.col("stored_currency")) & (pl.col("currency") != ""))
    if moved.height == 0:
        return pl.DataFrame(schema=validation.ERROR_SCHEMA)
    with_money = bulk.accounts_with_money(moved.get_column("id"))
    return moved.filter(pl.col("id").is_in(sorted(with_money))).select(
        pl.col(validation.LINE).alias("row"),
        pl.lit("currency").alias("column"),
        (
            pl.lit("cannot change from ")
            + pl.col("stored_currency")
            + pl.lit(": the account already has charges or payments in it")
        ).alias("reason"),
    )


def _serialise_imports(kind: RecordKind) -> None:
    # SQLite transactions here are IMMEDIATE, which already serialises writers.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEYS[kind]])


def _references(kind: RecordKind, frame: pl.DataFrame) -> validation.References:
    empty_customers = pl.DataFrame(
        {"external_ref": [], "id": []}, schema={"external_ref": pl.String, "id": pl.Int64}
    )
    empty_accounts = pl.DataFrame(
        {"external_ref": [], "id": [], "currency": []},
        schema={"external_ref": pl.String, "id": pl.Int64, "currency": pl.String},
    )
    customers, accounts = empty_customers, empty_accounts
    if kind is RecordKind.ACCOUNTS:
        found = bulk.lookup(models.Customer, refs=frame.get_column("customer_ref"), columns=["id"])
        customers = (
            found.cast({"external_ref": pl.String, "id": pl.Int64}) if found.height else customers
        )
    if kind in {RecordKind.CHARGES, RecordKind.PAYMENTS}:
        found = bulk.lookup(
            models.Account,
            refs=frame.get_column("account_ref"),
            columns=["id", "currency"],
        )
        accounts = (
            found.cast({"external_ref": pl.String, "id": pl.Int64, "currency": pl.String})
            if found.height
            else accounts
        )
    return validation.References(customers=customers, accounts=accounts)


def _partition(
    frame: pl.DataFrame, current: pl.DataFrame, columns: Sequence[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split validated rows into new ones and changed existing ones (with their ``id``)."""
    if current.height == 0:
        return frame, frame.head(0).with_columns(pl.lit(0).alias("id"))
    fresh = frame.join(current.select("external_ref"), on="external_ref", how="anti")
    both = frame.join(current, on="external_ref", how="inner", suffix="_db")
    differs = pl.any_horizontal(
        [
            pl.col(c).ne_missing(pl.col(f"{c}_db").cast(frame.schema[c], strict=False))
            for c in columns[1:]
        ]
    )
    return fresh, both.filter(differs).select("id", *columns)


def _contact_points(points: pl.DataFrame, ids: pl.DataFrame) -> set[str]:
    """Replace contact points; return the refs of customers whose points changed."""
    changed = bulk.replace_contact_points(
        points=points, customer_ids=ids.select("external_ref", "id")
    )
    return set(ids.filter(pl.col("id").is_in(sorted(changed))).get_column("external_ref").to_list())


def _record(
    *, kind: RecordKind, report: ImportReport, actor: str, now: datetime, mode: Mode
) -> ImportReport:
    if mode is Mode.CREATE and report.rows == 1:
        ((ref, record_id),) = report.ids.items()
        log.record(
            actor=actor,
            event_type=_CREATED[kind],
            subject_type=kind.value.removesuffix("s"),
            subject_id=record_id,
            parameters={"external_ref": ref, "source": report.source},
            now=now,
        )
        return report
    batch = models.ImportBatch.objects.create(
        kind=kind.value.upper(),
        source_name=report.source[:255],
        sha256=report.sha256,
        rows=report.rows,
        inserted=report.inserted,
        updated=report.updated,
        unchanged=report.unchanged,
        actor=actor,
        started_at=now,
        finished_at=now,
    )
    log.record(
        actor=actor,
        event_type=_IMPORTED[kind],
        subject_type="import_batch",
        subject_id=batch.pk,
        parameters={
            "source": report.source,
            "sha256": report.sha256,
            "rows": report.rows,
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
        },
        now=now,
    )
    return dataclasses.replace(report, batch_id=batch.pk)
