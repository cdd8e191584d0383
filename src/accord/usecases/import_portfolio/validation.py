"""Validate a whole file drop as frames: every row, every column, every reason.

Checks run column-wise on Polars frames; values whose rules need Python (phone
numbers, e-mail addresses, time zones) are computed once per distinct value.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import json
import multiprocessing
import os
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import date

import polars as pl

from accord.domain import contactpoints, money, timezones
from accord.usecases.import_portfolio import columns as cols
from accord.usecases.import_portfolio import reading

LINE = "_line"
ERROR_SCHEMA = pl.Schema({"row": pl.Int64(), "column": pl.String(), "reason": pl.String()})
EARLIEST_DATE = date(1900, 1, 1)
MAX_AMOUNT_DIGITS = 15
_DATE_SHAPE = r"^\d{4}-\d{2}-\d{2}$"
_TIME_SHAPE = r"^\d{2}:\d{2}$"
_AMOUNT_SHAPE = r"^(-?)(\d+)(?:\.(\d+))?$"
_LANGUAGE_SHAPE = r"^[a-z]{2}(-[a-z]{2})?$"
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


@dataclasses.dataclass(frozen=True, kw_only=True)
class References:
    """What the file's references point at, read from the database.

    ``customers``: external_ref, id; ``accounts``: external_ref, id, currency.
    """

    customers: pl.DataFrame
    accounts: pl.DataFrame


@dataclasses.dataclass(frozen=True, kw_only=True)
class Validated:
    """The clean frame ready to load (when ``errors`` is empty) and every error."""

    frame: pl.DataFrame
    contact_points: pl.DataFrame | None
    errors: pl.DataFrame


def frame_of(table: reading.Table, kind: cols.RecordKind) -> pl.DataFrame:
    """Return the table as a frame with every column of ``kind`` (absent ones empty)."""
    given = table.frame
    frame = pl.DataFrame(
        [
            given.get_column(c.name)
            if c.name in given.columns
            else pl.repeat("", given.height, dtype=pl.String, eager=True).alias(c.name)
            for c in cols.COLUMNS[kind]
        ]
    ).with_columns(pl.col(pl.String).str.strip_chars())
    defaults = [
        pl.when(pl.col(c.name) == "")
        .then(pl.lit(c.default))
        .otherwise(pl.col(c.name))
        .alias(c.name)
        for c in cols.COLUMNS[kind]
        if c.default
    ]
    if defaults:
        frame = frame.with_columns(defaults)
    return frame.with_columns(pl.Series(LINE, table.line_numbers, pl.Int64))


def validate(
    *,
    kind: cols.RecordKind,
    frame: pl.DataFrame,
    references: References,
    today: date,
    bad_rows: list[tuple[int, str]] | None = None,
) -> Validated:
    """Check every row of ``frame``; return typed values and all errors found."""
    errors: list[pl.DataFrame] = []
    if bad_rows:
        errors.append(
            pl.DataFrame(
                {
                    "row": [r for r, _ in bad_rows],
                    "column": [""] * len(bad_rows),
                    "reason": [m for _, m in bad_rows],
                },
                schema=ERROR_SCHEMA,
            )
        )
    frame = _canonical_case(frame, kind)
    for column in cols.COLUMNS[kind]:
        errors.extend(_column_errors(frame, column))
    errors.append(_duplicate_errors(frame))
    check = _CHECKS[kind]
    frame, contact_points, more = check(frame, references, today)
    errors.extend(more)
    all_errors = (
        pl.concat([e.select(list(ERROR_SCHEMA)).cast(ERROR_SCHEMA) for e in errors])
        .unique(maintain_order=True)
        .sort("row", "column", maintain_order=True)
    )
    return Validated(frame=frame, contact_points=contact_points, errors=all_errors)


def _error(frame: pl.DataFrame, mask: pl.Expr, column: str, reason: pl.Expr | str) -> pl.DataFrame:
    reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
    return frame.filter(mask.fill_null(value=False)).select(
        pl.col(LINE).alias("row"), pl.lit(column).alias("column"), reason_expr.alias("reason")
    )


def _canonical_case(frame: pl.DataFrame, kind: cols.RecordKind) -> pl.DataFrame:
    upper = [
        c.name
        for c in cols.COLUMNS[kind]
        if c.type in {cols.ColumnType.CHOICE, cols.ColumnType.CURRENCY, cols.ColumnType.COUNTRY}
    ]
    lower = [c.name for c in cols.COLUMNS[kind] if c.type is cols.ColumnType.LANGUAGE]
    return frame.with_columns(
        *(pl.col(n).str.to_uppercase() for n in upper),
        *(pl.col(n).str.to_lowercase() for n in lower),
    )


def _quoted(name: str) -> pl.Expr:
    return pl.lit("'") + pl.col(name).str.slice(0, 40) + pl.lit("'")


def _column_errors(frame: pl.DataFrame, column: cols.Column) -> list[pl.DataFrame]:
    c = pl.col(column.name)
    present = c != ""
    out = []
    if column.required:
        out.append(_error(frame, ~present, column.name, "is required but empty"))
    out.append(
        _error(
            frame,
            c.str.len_chars() > column.max_length,
            column.name,
            f"is longer than {column.max_length} characters",
        )
    )
    out.append(_error(frame, c.str.contains(_CONTROL), column.name, "contains control characters"))
    kind = column.type
    if kind is cols.ColumnType.CHOICE:
        out.append(
            _error(
                frame,
                present & ~c.is_in(column.choices),
                column.name,
                _quoted(column.name) + pl.lit(f" is not one of {', '.join(column.choices)}"),
            )
        )
    elif kind is cols.ColumnType.DATE:
        out.append(
            _error(
                frame,
                present & _parse_date(c).is_null(),
                column.name,
                _quoted(column.name) + pl.lit(" is not a valid date in YYYY-MM-DD form"),
            )
        )
    elif kind is cols.ColumnType.TIME:
        out.append(
            _error(
                frame,
                present & _parse_time(c).is_null(),
                column.name,
                _quoted(column.name) + pl.lit(" is not a valid time in HH:MM form (00:00-23:59)"),
            )
        )
    elif kind is cols.ColumnType.CURRENCY:
        out.append(
            _error(
                frame,
                present & ~c.is_in(sorted(money.known_currencies())),
                column.name,
                _quoted(column.name) + pl.lit(" is not a known ISO 4217 currency code"),
            )
        )
    elif kind is cols.ColumnType.COUNTRY:
        out.append(
            _error(
                frame,
                present & ~c.is_in(sorted(_countries())),
                column.name,
                _quoted(column.name) + pl.lit(" is not an ISO 3166-1 alpha-2 country code"),
            )
        )
    elif kind is cols.ColumnType.LANGUAGE:
        out.append(
            _error(
                frame,
                present & ~c.str.contains(_LANGUAGE_SHAPE),
                column.name,
                _quoted(column.name) + pl.lit(" is not an ISO 639-1 language code such as en"),
            )
        )
    elif kind is cols.ColumnType.TIME_ZONE:
        out.append(
            _error(
                frame,
                present & ~c.is_in(sorted(_time_zones())),
                column.name,
                _quoted(column.name) + pl.lit(" is not an IANA time zone such as Europe/London"),
            )
        )
    elif kind is cols.ColumnType.AMOUNT:
        out.append(
            _error(
                frame,
                present & ~c.str.contains(_AMOUNT_SHAPE),
                column.name,
                _quoted(column.name)
                + pl.lit(" is not a plain decimal amount such as 1234.56 (no separators)"),
            )
        )
        digits = c.str.extract(_AMOUNT_SHAPE, 2).str.strip_chars_start("0").str.len_chars()
        out.append(
            _error(
                frame,
                digits > MAX_AMOUNT_DIGITS,
                column.name,
                f"is too large (more than {MAX_AMOUNT_DIGITS} digits before the decimal point)",
            )
        )
    return out


def _parse_date(c: pl.Expr) -> pl.Expr:
    parsed = c.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    return pl.when(c.str.contains(_DATE_SHAPE)).then(parsed).otherwise(None)


def _parse_time(c: pl.Expr) -> pl.Expr:
    parsed = c.str.strptime(pl.Time, "%H:%M", strict=False)
    return pl.when(c.str.contains(_TIME_SHAPE)).then(parsed).otherwise(None)


def _minor_units(amount: str, currency: str) -> tuple[pl.Expr, pl.Expr]:
    """Return (minor units, too-precise mask) for an amount column in a currency column."""
    a = pl.col(amount)
    exponent = pl.col(currency).replace_strict(
        {c: money.minor_units(c) for c in money.known_currencies()},
        default=None,
        return_dtype=pl.Int64,
    )
    sign = a.str.extract(_AMOUNT_SHAPE, 1)
    whole = a.str.extract(_AMOUNT_SHAPE, 2).cast(pl.Int64, strict=False)
    fraction = a.str.extract(_AMOUNT_SHAPE, 3).fill_null("").str.strip_chars_end("0")
    places = fraction.str.len_chars()
    fraction_value = pl.when(places > 0).then(fraction.cast(pl.Int64, strict=False)).otherwise(0)
    units = whole * pl.lit(10, pl.Int64).pow(exponent) + fraction_value * pl.lit(10, pl.Int64).pow(
        (exponent - places).clip(lower_bound=0)
    )
    signed = pl.when(sign == "-").then(-units).otherwise(units)
    return signed, places > exponent


def _duplicate_errors(frame: pl.DataFrame) -> pl.DataFrame:
    ref = pl.col("external_ref")
    repeated = frame.filter((ref != "") & ref.is_duplicated())
    marked = repeated.with_columns(pl.col(LINE).min().over("external_ref").alias("_first"))
    return _error(
        marked,
        pl.col(LINE) != pl.col("_first"),
        "external_ref",
        _quoted("external_ref")
        + pl.lit(" appears more than once in this file (first on row ")
        + pl.col("_first").cast(pl.String)
        + pl.lit(")"),
    )


def _amount(
    frame: pl.DataFrame, column: str, *, currency: str, allow_zero: bool
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    units, too_precise = _minor_units(column, currency)
    name = f"{column}_minor"
    frame = frame.with_columns(units.alias(name), too_precise.alias("_too_precise"))
    errors = [
        _error(
            frame,
            (pl.col(column) != "")
            & pl.col("_too_precise")
            & pl.col(currency).is_in(sorted(money.known_currencies())),
            column,
            _quoted(column)
            + pl.lit(" has more decimal places than ")
            + pl.col(currency)
            + pl.lit(" allows"),
        ),
        _error(
            frame,
            (pl.col(name) < 0) if allow_zero else (pl.col(name) <= 0),
            column,
            "must be zero or more" if allow_zero else "must be more than zero",
        ),
    ]
    return frame.drop("_too_precise"), errors


def _not_in_future(frame: pl.DataFrame, column: str, today: date) -> pl.DataFrame:
    return _error(
        frame,
        _parse_date(pl.col(column)) > pl.lit(today),
        column,
        f"is in the future (after {today.isoformat()})",
    )


def _resolve(
    frame: pl.DataFrame, *, column: str, target: pl.DataFrame, what: str, hint: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    renamed = target.rename({"external_ref": column, "id": f"{what}_id"})
    joined = frame.join(renamed, on=column, how="left", maintain_order="left")
    error = _error(
        joined,
        (pl.col(column) != "") & pl.col(f"{what}_id").is_null(),
        column,
        pl.lit(f"unknown {what} ") + _quoted(column) + pl.lit(f" ({hint})"),
    )
    return joined, error


def _customers(
    frame: pl.DataFrame, references: References, today: date
) -> tuple[pl.DataFrame, pl.DataFrame | None, list[pl.DataFrame]]:
    errors = [
        _not_in_future(frame, "date_of_birth", today),
        _error(
            frame,
            _parse_date(pl.col("date_of_birth")) < pl.lit(EARLIEST_DATE),
            "date_of_birth",
            f"is before {EARLIEST_DATE.isoformat()}",
        ),
        _error(
            frame,
            (pl.col("contact_hours_start") == "") != (pl.col("contact_hours_end") == ""),
            "contact_hours_end",
            "contact_hours_start and contact_hours_end must be given together",
        ),
        _error(
            frame,
            _parse_time(pl.col("contact_hours_start")) >= _parse_time(pl.col("contact_hours_end")),
            "contact_hours_end",
            "must be later than contact_hours_start",
        ),
    ]
    frame = _with_address_time_zones(frame)
    phones, phone_errors = _phones(frame)
    emails, email_errors = _emails(frame)
    errors += [phone_errors, email_errors]
    frame = frame.with_columns(
        _parse_date(pl.col("date_of_birth")).alias("date_of_birth"),
        _parse_time(pl.col("contact_hours_start")).alias("contact_hours_start"),
        _parse_time(pl.col("contact_hours_end")).alias("contact_hours_end"),
    )
    frame = _narrowed_by_phones(frame, phones)
    contact_points = pl.concat([phones.drop("zones"), emails])
    return frame, contact_points, errors


def _split(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    return (
        frame.select(
            LINE,
            "external_ref",
            "country",
            pl.col("_certain").alias("certain"),
            pl.col(column).str.split(";").alias("raw"),
        )
        .with_columns(pl.int_ranges(pl.col("raw").list.len()).alias("position"))
        .explode("raw", "position")
        .with_columns(pl.col("raw").str.strip_chars())
        .filter(pl.col("raw") != "")
    )


def _phones(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    exploded = _split(frame, "phones")
    # Zones are looked up only for numbers of customers whose address leaves doubt.
    distinct = exploded.group_by("raw", "country").agg((~pl.col("certain")).any().alias("want"))
    results = _normalise_phones(
        [
            (raw, country if contactpoints.is_valid_country(country) else None, want)
            for raw, country, want in distinct.iter_rows()
        ]
    )
    lookup = distinct.drop("want").with_columns(
        pl.Series("value", [v for v, _, _ in results], pl.String),
        pl.Series("problem", [p for _, p, _ in results], pl.String),
        pl.Series("zones", [list(z) for _, _, z in results], pl.List(pl.String)),
    )
    checked = exploded.join(lookup, on=["raw", "country"], how="left", maintain_order="left")
    errors = _error(
        checked,
        pl.col("problem").is_not_null(),
        "phones",
        pl.lit("'") + pl.col("raw") + pl.lit("': ") + pl.col("problem"),
    )
    points = _points(checked.filter(pl.col("problem").is_null()), "PHONE")
    return points, errors


# A plain ASCII address that every rule of contactpoints.normalise_email accepts
# (a test holds the two together); anything else gets the full check, one by one.
PLAIN_EMAIL = (
    r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@"
    r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


MAX_EMAIL_LENGTH = 254
MAX_EMAIL_LOCAL_LENGTH = 64


def _emails(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    exploded = _split(frame, "emails")
    distinct = exploded.select("raw").unique()
    plain = distinct.filter(
        pl.col("raw").str.contains(PLAIN_EMAIL)
        & (pl.col("raw").str.len_bytes() <= MAX_EMAIL_LENGTH)
        & (pl.col("raw").str.extract(r"^([^@]*)@", 1).str.len_bytes() <= MAX_EMAIL_LOCAL_LENGTH)
    ).with_columns(
        (
            pl.col("raw").str.extract(r"^(.*)@", 1)
            + pl.lit("@")
            + pl.col("raw").str.extract(r"@(.*)$", 1).str.to_lowercase()
        ).alias("value"),
        pl.lit(None, pl.String).alias("problem"),
    )
    other = distinct.join(plain.select("raw"), on="raw", how="anti")
    results = [_normalise_email(raw) for (raw,) in other.iter_rows()]
    lookup = pl.concat(
        [
            plain,
            other.with_columns(
                pl.Series("value", [v for v, _ in results], pl.String),
                pl.Series("problem", [p for _, p in results], pl.String),
            ),
        ]
    )
    checked = exploded.join(lookup, on="raw", how="left", maintain_order="left")
    errors = _error(
        checked,
        pl.col("problem").is_not_null(),
        "emails",
        pl.lit("'") + pl.col("raw").str.slice(0, 60) + pl.lit("': ") + pl.col("problem"),
    )
    points = _points(checked.filter(pl.col("problem").is_null()), "EMAIL")
    return points, errors


def _points(checked: pl.DataFrame, kind: str) -> pl.DataFrame:
    # A number given twice for one customer is kept once, at its first position.
    extra = ["zones"] if "zones" in checked.columns else []
    return (
        checked.select("external_ref", pl.lit(kind).alias("kind"), "value", "position", *extra)
        .unique(["external_ref", "value"], keep="first", maintain_order=True)
        .with_columns(pl.col("position").cast(pl.Int64))
    )


PARALLEL_PHONES = 50_000


def _normalise_phones(
    pairs: list[tuple[str, str | None, bool]],
) -> list[contactpoints.PhoneCheck]:
    """Normalise distinct phone numbers, on every core when there are many.

    libphonenumber takes ~30 µs a number in pure Python; a million customers'
    numbers are worth spreading over worker processes (spawned, so they inherit
    no database connection).
    """
    workers = min(os.cpu_count() or 1, 8)
    if len(pairs) < PARALLEL_PHONES or workers < 2:
        return contactpoints.normalise_phones(pairs)
    size = -(-len(pairs) // (workers * 4))
    chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return [r for part in pool.map(contactpoints.normalise_phones, chunks) for r in part]


def _normalise_email(raw: str) -> tuple[str | None, str | None]:
    try:
        return contactpoints.normalise_email(raw), None
    except contactpoints.InvalidEmail as error:
        return None, str(error)


def _with_address_time_zones(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the zones the given zone or the address implies, and whether they are certain."""
    keys = ["time_zone", "country", "region"]
    distinct = frame.select(keys).unique()
    guesses = [_guess(tz, country, region, ()) for tz, country, region in distinct.iter_rows()]
    distinct = distinct.with_columns(
        pl.Series("time_zones", [json.dumps(list(z)) for z, _ in guesses], pl.String),
        pl.Series("time_zone_source", [s for _, s in guesses], pl.String),
        pl.Series("_certain", [len(z) == 1 for z, _ in guesses], pl.Boolean),
    )
    return frame.join(distinct, on=keys, how="left", maintain_order="left")


def _narrowed_by_phones(frame: pl.DataFrame, phones: pl.DataFrame) -> pl.DataFrame:
    """Narrow uncertain customers' zones with the zones of their valid phone numbers."""
    keys = ["time_zone", "country", "region"]
    zones = (
        phones.filter(pl.col("zones").list.len() > 0)
        .group_by("external_ref")
        .agg(pl.col("zones").list.explode().unique().sort())
    )
    uncertain = (
        frame.filter(~pl.col("_certain"))
        .select("external_ref", *keys)
        .join(zones, on="external_ref", how="inner")
    )
    if uncertain.height:
        narrowed = [
            _guess(tz, country, region, tuple(found))
            for _, tz, country, region, found in uncertain.iter_rows()
        ]
        update = uncertain.select("external_ref").with_columns(
            pl.Series("_zones", [json.dumps(list(z)) for z, _ in narrowed], pl.String),
            pl.Series("_source", [s for _, s in narrowed], pl.String),
        )
        frame = frame.join(update, on="external_ref", how="left", maintain_order="left")
        frame = frame.with_columns(
            pl.coalesce("_zones", "time_zones").alias("time_zones"),
            pl.coalesce("_source", "time_zone_source").alias("time_zone_source"),
        ).drop("_zones", "_source")
    return frame.drop("_certain")


@functools.lru_cache(maxsize=100_000)
def _guess(
    tz: str, country: str, region: str, phone_zones: tuple[str, ...]
) -> tuple[tuple[str, ...], str]:
    try:
        guess = timezones.infer_time_zones_from(
            given=tz or None,
            country=country or None,
            region=region or None,
            phone_zones=frozenset(phone_zones),
        )
    except timezones.UnknownTimeZone:
        return (), "UNKNOWN"
    return tuple(guess.zones), str(guess.source.value)


def _accounts(
    frame: pl.DataFrame, references: References, today: date
) -> tuple[pl.DataFrame, pl.DataFrame | None, list[pl.DataFrame]]:
    frame, unknown = _resolve(
        frame,
        column="customer_ref",
        target=references.customers.select("external_ref", "id"),
        what="customer",
        hint="import the customer first",
    )
    frame, amount_errors = _amount(frame, "credit_limit", currency="currency", allow_zero=True)
    errors = [unknown, _not_in_future(frame, "opened_date", today), *amount_errors]
    frame = frame.with_columns(
        _parse_date(pl.col("opened_date")).alias("opened_date"),
        pl.when(pl.col("credit_limit") == "")
        .then(None)
        .otherwise(pl.col("credit_limit_minor"))
        .alias("credit_limit_minor"),
    )
    return frame, None, errors


def _account_money(
    frame: pl.DataFrame, references: References
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    frame, unknown = _resolve(
        frame,
        column="account_ref",
        target=references.accounts.select(
            "external_ref", "id", pl.col("currency").alias("account_currency")
        ),
        what="account",
        hint="import the account first",
    )
    mismatch = _error(
        frame,
        pl.col("account_currency").is_not_null()
        & (pl.col("currency") != "")
        & (pl.col("currency") != pl.col("account_currency")),
        "currency",
        _quoted("currency")
        + pl.lit(" differs from the account's currency ")
        + pl.col("account_currency"),
    )
    frame, amount_errors = _amount(frame, "amount", currency="currency", allow_zero=False)
    return frame, [unknown, mismatch, *amount_errors]


def _charges(
    frame: pl.DataFrame, references: References, today: date
) -> tuple[pl.DataFrame, pl.DataFrame | None, list[pl.DataFrame]]:
    frame, errors = _account_money(frame, references)
    errors.append(
        _error(
            frame,
            _parse_date(pl.col("issued_date")) > _parse_date(pl.col("due_date")),
            "issued_date",
            "is after due_date",
        )
    )
    frame = frame.with_columns(
        _parse_date(pl.col("issued_date")).alias("issued_date"),
        _parse_date(pl.col("due_date")).alias("due_date"),
    )
    return frame, None, errors


_CARD_LIKE = r"^[0-9][0-9 -]{11,21}[0-9]$"


def _luhn_valid(text: str) -> bool:
    digits = [int(d) for d in text if d.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def _payments(
    frame: pl.DataFrame, references: References, today: date
) -> tuple[pl.DataFrame, pl.DataFrame | None, list[pl.DataFrame]]:
    frame, errors = _account_money(frame, references)
    errors.append(_not_in_future(frame, "received_date", today))
    # Accord never stores card numbers (PCI DSS): refuse anything that looks like one.
    suspects = frame.filter(pl.col("provider_reference").str.contains(_CARD_LIKE))
    card_lines = [
        line
        for line, ref in suspects.select(LINE, "provider_reference").iter_rows()
        if _luhn_valid(ref)
    ]
    errors.append(
        _error(
            frame,
            pl.col(LINE).is_in(card_lines),
            "provider_reference",
            "looks like a card number; Accord never stores card numbers",
        )
    )
    frame = frame.with_columns(_parse_date(pl.col("received_date")).alias("received_date"))
    return frame, None, errors


_Check = Callable[
    [pl.DataFrame, References, date],
    tuple[pl.DataFrame, pl.DataFrame | None, list[pl.DataFrame]],
]
_CHECKS: Mapping[cols.RecordKind, _Check] = {
    cols.RecordKind.CUSTOMERS: _customers,
    cols.RecordKind.ACCOUNTS: _accounts,
    cols.RecordKind.CHARGES: _charges,
    cols.RecordKind.PAYMENTS: _payments,
}


@functools.cache
def _countries() -> frozenset[str]:
    return frozenset(c for c in _all_countries() if contactpoints.is_valid_country(c))


def _all_countries() -> list[str]:
    letters = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    return [a + b for a in letters for b in letters]


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
