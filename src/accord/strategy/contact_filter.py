"""Apply the contact policy to a whole frame of candidate contacts at once.

The strategy run proposes thousands of contacts; ``prefilter`` answers, for each row,
what ``accord.domain.compliance.evaluate`` would: allowed now, the reason codes, the
earliest next allowed instant. Time-window results depend only on the candidate zones,
the contact hours and the instant the search starts from, so they are computed once per
distinct combination with the domain's own functions and joined back; everything else
is column-wise. A property test holds ``prefilter`` and ``evaluate`` together (ADR 0009).

``call_windows`` computes the 7-in-7 inputs of ``prefilter`` (how many counted calls
each account has in its current seven-local-date window, and when the cap releases)
from a frame of past contacts, the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pyarrow as pa

from accord.domain import compliance
from accord.domain.compliance import windows

CANDIDATE_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("channel", pa.string()),
        ("time_zones", pa.list_(pa.string())),
        ("contact_hours_start", pa.string()),
        ("contact_hours_end", pa.string()),
        ("opted_out", pa.bool_()),
        ("cease_requested", pa.bool_()),
        ("unverified_dispute", pa.bool_()),
        ("calls_in_window", pa.int64()),
    ]
)
# Optional candidate columns: ``calls_release_at`` (timestamp, UTC: when the account's
# counted calls drop below the cap, as ``call_windows`` gives it; without it a capped
# row has no known release) and ``purpose`` (string, default COLLECTION).
OPTIONAL_COLUMNS = ("calls_release_at", "purpose")

CALLS_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("time_zones", pa.list_(pa.string())),
        ("at", pa.timestamp("us", tz="UTC")),
        ("channel", pa.string()),
        ("direction", pa.string()),
        ("connected", pa.bool_()),
    ]
)

_UTC_US = pl.Datetime("us", "UTC")
_SEPARATOR = "\x1f"
_CALL_CHANNELS = [compliance.Channel.CALL.value, compliance.Channel.VOICEMAIL.value]
_ELECTRONIC = [c.value for c in compliance.Channel if c.is_electronic]


def _require_columns(table: pa.Table, schema: pa.Schema, what: str) -> None:
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise ValueError(f"{what} lacks columns: {', '.join(missing)}")


def _require_aware(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise compliance.NaiveDatetimeError("now")
    return now.astimezone(dt.UTC)


def _zones(key: str) -> tuple[str, ...]:
    # The domain's own reading: sorted, validated, empty means every default zone.
    consumer = compliance.Consumer(id="", time_zones=tuple(key.split(_SEPARATOR)) if key else ())
    return consumer.time_zones or compliance.DEFAULT_TIME_ZONES


def _hours(start: str, end: str) -> tuple[dt.time, dt.time] | None:
    if not start and not end:
        return None
    if not start or not end:
        raise ValueError("contact hours need both a start and an end, or neither")
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end)


def _window_results(keys: pl.DataFrame, now: dt.datetime) -> pl.DataFrame:
    """Compute time-window results for each distinct (zones, hours, start) combination."""
    until = now + windows.HORIZON
    rows: dict[str, list[Any]] = {
        "inconvenient": [],
        "designated": [],
        "window_next": [],
    }
    for zones_key, start, end, start_from in keys.iter_rows():
        zones = _zones(zones_key)
        hours = _hours(start, end)
        rows["inconvenient"].append(
            not all(
                windows.in_window(windows.local(now, name).time(), windows.CONVENIENT_HOURS)
                for name in zones
            )
        )
        rows["designated"].append(
            hours is not None
            and not all(windows.in_window(windows.local(now, name).time(), hours) for name in zones)
        )
        allowed_windows = [windows.CONVENIENT_HOURS] + ([hours] if hours else [])
        rows["window_next"].append(
            windows.earliest_permitted(start_from, zones, allowed_windows, until=until)
        )
    return keys.with_columns(
        pl.Series("inconvenient", rows["inconvenient"], dtype=pl.Boolean),
        pl.Series("designated", rows["designated"], dtype=pl.Boolean),
        pl.Series("window_next", rows["window_next"], dtype=_UTC_US),
    )


def _code(condition: pl.Expr, code: compliance.RuleCode) -> pl.Expr:
    return pl.when(condition).then(pl.lit(code.value)).otherwise(pl.lit(None, pl.String))


def prefilter(candidates: pa.Table, *, now: dt.datetime) -> pa.Table:
    """Return the candidates with the policy's answer for each row.

    Added columns: ``allowed``, ``reason_codes``, ``next_allowed_at``, ``planned_at``.

    Each row answers as ``compliance.evaluate`` would for one contact on ``channel``
    about ``account_id`` (input columns: ``CANDIDATE_SCHEMA``, optionally
    ``OPTIONAL_COLUMNS``). A null fact takes the protective reading: an unknown
    opt-out, cease request or dispute denies, an unknown call count is at the cap.
    ``opted_out`` must already say whether the channel is refused (a call opt-out
    covers voicemail). ``planned_at`` is ``now`` when allowed, ``next_allowed_at`` when
    only time-limited reasons apply, and null when a reason has no known end.
    Raises ``ValueError`` for missing columns or malformed contact hours,
    ``compliance.UnknownTimeZoneError`` and ``compliance.NaiveDatetimeError``.
    """
    now = _require_aware(now)
    _require_columns(candidates, CANDIDATE_SCHEMA, "candidates")
    names = list(CANDIDATE_SCHEMA.names) + [
        name for name in OPTIONAL_COLUMNS if name in candidates.column_names
    ]
    frame = pl.from_arrow(candidates.select(names))
    assert isinstance(frame, pl.DataFrame)
    if "calls_release_at" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, _UTC_US).alias("calls_release_at"))
    if "purpose" not in frame.columns:
        frame = frame.with_columns(pl.lit(compliance.Purpose.COLLECTION.value).alias("purpose"))
    now_lit = pl.lit(now, _UTC_US)
    release = pl.col("calls_release_at").cast(_UTC_US)
    frame = frame.with_columns(
        pl.col("time_zones").list.join(_SEPARATOR).fill_null("").alias("_zones"),
        pl.col("contact_hours_start").fill_null("").alias("_start"),
        pl.col("contact_hours_end").fill_null("").alias("_end"),
        (
            pl.col("channel").is_in(_CALL_CHANNELS)
            & pl.col("calls_in_window")
            .fill_null(compliance.CALLS_PER_WINDOW)
            .ge(compliance.CALLS_PER_WINDOW)
        ).alias("_capped"),
        pl.col("opted_out").fill_null(value=True).alias("_opted_out"),
        pl.col("cease_requested").fill_null(value=True).alias("_cease"),
        (
            pl.col("unverified_dispute").fill_null(value=True)
            & pl.col("purpose").fill_null("").ne(compliance.Purpose.RESPONSE_TO_REQUEST.value)
        ).alias("_dispute"),
    ).with_columns(
        pl.when(pl.col("_capped") & release.is_not_null())
        .then(pl.max_horizontal(release, now_lit))
        .otherwise(now_lit)
        .alias("_start_from"),
    )
    keys = ["_zones", "_start", "_end", "_start_from"]
    distinct = frame.select(keys).unique(maintain_order=True)
    frame = frame.join(_window_results(distinct, now), on=keys, how="left", maintain_order="left")
    electronic = pl.col("channel").is_in(_ELECTRONIC)
    codes = pl.concat_list(
        _code(pl.col("inconvenient"), compliance.RuleCode.INCONVENIENT_TIME),
        _code(pl.col("designated"), compliance.RuleCode.CONSUMER_DESIGNATED_TIME),
        _code(pl.col("_capped"), compliance.RuleCode.CALL_FREQUENCY_7_IN_7),
        _code(pl.col("_opted_out") & electronic, compliance.RuleCode.ELECTRONIC_OPT_OUT),
        _code(pl.col("_opted_out") & ~electronic, compliance.RuleCode.REFUSED_MEDIUM),
        _code(pl.col("_cease"), compliance.RuleCode.CEASE_COMMUNICATION),
        _code(pl.col("_dispute"), compliance.RuleCode.DISPUTE_PAUSE),
    ).list.drop_nulls()
    no_known_end = (
        pl.col("_opted_out")
        | pl.col("_cease")
        | pl.col("_dispute")
        | (pl.col("_capped") & release.is_null())
    )
    result = (
        frame.with_columns(codes.alias("reason_codes"))
        .with_columns((pl.col("reason_codes").list.len() == 0).alias("allowed"))
        .with_columns(
            pl.when(pl.col("allowed") | no_known_end)
            .then(pl.lit(None, _UTC_US))
            .otherwise(pl.col("window_next"))
            .alias("next_allowed_at"),
        )
        .with_columns(
            pl.when(pl.col("allowed"))
            .then(now_lit)
            .otherwise(pl.col("next_allowed_at"))
            .alias("planned_at"),
        )
        .select("allowed", "reason_codes", "next_allowed_at", "planned_at")
        .to_arrow()
    )
    timestamp = pa.timestamp("us", tz="UTC")
    return (
        candidates.append_column("allowed", result["allowed"].cast(pa.bool_()))
        .append_column("reason_codes", result["reason_codes"].cast(pa.list_(pa.string())))
        .append_column("next_allowed_at", result["next_allowed_at"].cast(timestamp))
        .append_column("planned_at", result["planned_at"].cast(timestamp))
    )


def _release_steps(zones_key: str, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """List (from, release) steps: a call from ``from`` until the next step releases then."""
    zones = _zones(zones_key)
    midnights = sorted(
        {
            windows.midnight(name, windows.local_date(now, name) + dt.timedelta(days=offset))
            for name in zones
            for offset in range(-compliance.WINDOW_DAYS - 2, 2)
        }
    )
    return [(start, compliance.call_released_at(start, zones)) for start in midnights]


def call_windows(calls: pa.Table, *, now: dt.datetime) -> pa.Table:
    """Count each account's calls in its current 7-local-date window and when the cap releases.

    ``calls`` (``CALLS_SCHEMA``) lists past contacts with the account's candidate zones;
    those that count (outbound calls and voicemails not known to be unconnected, at or
    before ``now``) are kept. A call about no particular account must be listed once for
    every account of the customer (deny when unsure). Returns ``account_id``,
    ``calls_in_window`` and ``calls_release_at`` (null below the cap): the inputs of
    ``prefilter``.
    """
    now = _require_aware(now)
    _require_columns(calls, CALLS_SCHEMA, "calls")
    frame = pl.from_arrow(calls.select(CALLS_SCHEMA.names))
    assert isinstance(frame, pl.DataFrame)
    counted = frame.with_columns(
        pl.col("at").cast(_UTC_US),
        pl.col("time_zones").list.join(_SEPARATOR).fill_null("").alias("_zones"),
    ).filter(
        pl.col("channel").is_in(_CALL_CHANNELS)
        & (pl.col("direction") == compliance.Direction.OUTBOUND.value)
        & pl.col("connected").fill_null(value=True)
        & (pl.col("at") <= pl.lit(now, _UTC_US))
    )
    steps: dict[str, list[Any]] = {"_zones": [], "_from": [], "_release": []}
    for (zones_key,) in counted.select("_zones").unique().iter_rows():
        for start, released in _release_steps(zones_key, now):
            steps["_zones"].append(zones_key)
            steps["_from"].append(start)
            steps["_release"].append(released)
    step_frame = pl.DataFrame(
        steps, schema={"_zones": pl.String, "_from": _UTC_US, "_release": _UTC_US}
    ).sort("_zones", "_from")
    cap = compliance.CALLS_PER_WINDOW
    result = (
        counted.sort("_zones", "at")
        # Both sides are sorted by zones then time above, so the check can be skipped.
        .join_asof(
            step_frame,
            left_on="at",
            right_on="_from",
            by="_zones",
            strategy="backward",
            check_sortedness=False,
        )
        .filter(pl.col("_release") > pl.lit(now, _UTC_US))
        .group_by("account_id")
        .agg(
            pl.len().cast(pl.Int64).alias("calls_in_window"),
            pl.col("_release").sort().alias("_releases"),
        )
        .with_columns(
            pl.when(pl.col("calls_in_window") >= cap)
            .then(pl.col("_releases").list.get(pl.col("calls_in_window") - cap))
            .otherwise(pl.lit(None, _UTC_US))
            .alias("calls_release_at")
        )
        .select("account_id", "calls_in_window", "calls_release_at")
        .sort("account_id")
        .to_arrow()
    )
    return pa.table(
        {
            "account_id": result["account_id"].cast(pa.int64()),
            "calls_in_window": result["calls_in_window"].cast(pa.int64()),
            "calls_release_at": result["calls_release_at"].cast(pa.timestamp("us", tz="UTC")),
        }
    )
