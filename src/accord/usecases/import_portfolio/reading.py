"""Read a CSV file drop into a frame of text, or say clearly why it cannot be read.

Well-formed files take a fast path (Polars' CSV reader). Anything unusual (a
record of the wrong width, a blank line, a field spanning lines, an oversized
field, broken quoting) is read again with Python's strict ``csv`` module, which
knows the line of every record, so each problem is reported where it is.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from accord.usecases.import_portfolio import columns as cols

# Larger drops should be split: the whole file is held in memory while it is checked.
MAX_FILE_BYTES = 2 * 1024**3
MAX_FIELD_CHARS = 10_000
_BOM = b"\xef\xbb\xbf"


class UnreadableFile(Exception):
    """The file is not a CSV of the expected kind at all."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Table:
    """A CSV's records as a frame of text columns named by the (normalised) header."""

    header: tuple[str, ...]
    frame: pl.DataFrame
    line_numbers: list[int]  # the file line on which each record starts
    sha256: str
    bad_rows: list[tuple[int, str]]  # (line, reason) for records of the wrong width

    @property
    def row_count(self) -> int:
        return self.frame.height


def read_file(*, path: Path, kind: cols.RecordKind) -> Table:
    """Read ``path`` as UTF-8 CSV with a header row of ``kind``'s columns.

    Raises ``UnreadableFile`` for a missing, empty, binary, non-UTF-8, oversized or
    malformed file, or a header that is not ``kind``'s.
    """
    try:
        size = path.stat().st_size
    except OSError as error:
        raise UnreadableFile(f"cannot open {path}: {error.strerror}") from None
    if not path.is_file():
        raise UnreadableFile(f"{path} is not a file")
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(f"file is {size} bytes; the limit is {MAX_FILE_BYTES}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableFile(f"cannot read {path}: {error.strerror}") from None
    return read_bytes(data=data, kind=kind)


def read_bytes(*, data: bytes, kind: cols.RecordKind) -> Table:
    """Read CSV ``data``; see :func:`read_file`."""
    if not data.strip():
        raise UnreadableFile("file is empty: expected a header row and at least one record")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile("file is UTF-16 text; save it as UTF-8 CSV")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise UnreadableFile(f"file looks binary (a NUL byte on line {line}), not CSV text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UnreadableFile(
            f"file is not UTF-8 text: byte 0x{data[error.start]:02x} on line {line} "
            "(save it as UTF-8 CSV)"
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    header = _header(text, kind)
    payload = data[len(_BOM) :] if data.startswith(_BOM) else data
    frame = _fast(payload, header) if _plainly_shaped(text, len(header)) else None
    if frame is not None:
        return Table(
            header=header,
            frame=frame,
            line_numbers=list(range(2, frame.height + 2)),
            sha256=digest,
            bad_rows=[],
        )
    return _exact(text, header, digest)


def _header(text: str, kind: cols.RecordKind) -> tuple[str, ...]:
    first_line = text.split("\n", 1)[0].rstrip("\r")
    try:
        raw = next(csv.reader([first_line], strict=True))
    except (csv.Error, StopIteration) as error:
        raise UnreadableFile(f"header row is not valid CSV: {error}") from None
    header = tuple(h.strip().lower() for h in raw)
    _check_header(
        header=header,
        expected=cols.column_names(kind),
        required={c.name for c in cols.COLUMNS[kind] if c.required},
        kind=kind,
    )
    return header


_QUOTED = r'"(?:[^"]|"")*"'


def _plainly_shaped(text: str, width: int) -> bool:
    """Return whether every line after the header is one non-blank record of ``width`` fields.

    Checked column-wise on the raw lines: quoted fields are blanked out, then the
    commas are counted. A stray quote or a field spanning lines fails the check.
    """
    lines = pl.Series("line", [text]).str.split("\n").explode().str.strip_suffix("\r")
    body = lines.slice(1)
    if body.len() and body[-1] == "":
        body = body.slice(0, body.len() - 1)  # the newline that ends the last record
    if body.len() == 0:
        return False
    # Most lines hold no quote at all: count their commas directly; blank out quoted
    # fields only on the lines that have some.
    quoted = body.str.contains('"', literal=True)
    plain = body.filter(~quoted)
    bad_plain = (plain == "") | (plain.str.count_matches(",", literal=True) != width - 1)
    unquoted = body.filter(quoted).str.replace_all(_QUOTED, "")
    bad_quoted = (
        unquoted.str.count_matches(",", literal=True) != width - 1
    ) | unquoted.str.contains('"', literal=True)
    # A lone carriage return: let the strict reader decide what it means.
    lone_cr = body.str.contains("\r", literal=True)
    return not (bool(bad_plain.any()) or bool(bad_quoted.any()) or bool(lone_cr.any()))


def _fast(payload: bytes, header: tuple[str, ...]) -> pl.DataFrame | None:
    """Return the records when the file is plainly well formed, else ``None``."""
    try:
        frame = pl.read_csv(
            io.BytesIO(payload),
            has_header=True,
            new_columns=list(header),
            infer_schema=False,
            empty_string_is_null=False,
            raise_if_empty=False,
        )
    except (pl.exceptions.PolarsError, ValueError):
        return None
    if frame.width != len(header) or frame.height == 0:
        return None
    suspicious = frame.select(
        pl.any_horizontal(
            [
                pl.col(name).is_null().any()
                | pl.col(name).str.contains("[\r\n]").any()
                | (pl.col(name).str.len_chars().max() > MAX_FIELD_CHARS)
                for name in header
            ]
        )
    ).item()
    return None if suspicious else frame


def _exact(text: str, header: tuple[str, ...], digest: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    next(reader)
    width = len(header)
    values: list[list[str]] = [[] for _ in header]
    line_numbers: list[int] = []
    bad_rows: list[tuple[int, str]] = []
    csv.field_size_limit(MAX_FIELD_CHARS)
    line = reader.line_num + 1
    try:
        for record in reader:
            if record and len(record) != width:
                bad_rows.append(
                    (line, f"expected {width} fields as in the header, found {len(record)}")
                )
            elif record:  # blank lines carry nothing
                line_numbers.append(line)
                for target, value in zip(values, record, strict=True):
                    target.append(value)
            line = reader.line_num + 1
    except csv.Error as error:
        reason = str(error)
        if "field larger than field limit" in reason:
            reason = f"a field is longer than {MAX_FIELD_CHARS} characters"
        raise UnreadableFile(f"line {reader.line_num}: not valid CSV: {reason}") from None
    if not line_numbers and not bad_rows:
        raise UnreadableFile("file has a header but no records")
    frame = pl.DataFrame(
        {
            name: pl.Series(name, column, pl.String)
            for name, column in zip(header, values, strict=True)
        }
    )
    return Table(
        header=header, frame=frame, line_numbers=line_numbers, sha256=digest, bad_rows=bad_rows
    )


def _check_header(
    *, header: Sequence[str], expected: Sequence[str], required: set[str], kind: cols.RecordKind
) -> None:
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise UnreadableFile(f"header repeats column(s): {', '.join(dupes)}")
    unknown = [h for h in header if h not in expected]
    missing = sorted(required - set(header))
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"missing required column(s): {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s): {', '.join(unknown[:10])}")
        raise UnreadableFile(
            f"this is not a {kind.value} file: {'; '.join(parts)}. "
            f"Expected columns: {', '.join(expected)}"
        )
