"""Read a CSV file drop into columns of text, or say clearly why it cannot be read."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
from collections.abc import Callable, Sequence
from pathlib import Path

from accord.usecases.import_portfolio import columns as cols

MAX_FILE_BYTES = 4 * 1024**3
MAX_FIELD_CHARS = 10_000


class UnreadableFile(Exception):
    """The file is not a CSV of the expected kind at all."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Table:
    """A CSV's header and data, column by column, all text."""

    header: tuple[str, ...]
    columns: dict[str, list[str]]
    line_numbers: list[int]  # file line on which each record starts
    sha256: str
    bad_rows: list[tuple[int, str]]  # (line, reason) for records of the wrong width

    @property
    def row_count(self) -> int:
        return len(self.line_numbers)


def read_file(
    *, path: Path, kind: cols.RecordKind, progress: Callable[[int, int], None] | None = None
) -> Table:
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
    data = path.read_bytes()
    return read_bytes(data=data, kind=kind, progress=progress)


def read_bytes(
    *, data: bytes, kind: cols.RecordKind, progress: Callable[[int, int], None] | None = None
) -> Table:
    """Read CSV ``data``; see :func:`read_file`."""
    if not data.strip():
        raise UnreadableFile("file is empty: expected a header row and at least one record")
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
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    expected = cols.column_names(kind)
    required = {c.name for c in cols.COLUMNS[kind] if c.required}
    try:
        raw_header = next(reader)
    except csv.Error as error:
        raise UnreadableFile(f"header row is not valid CSV: {error}") from None
    header = tuple(h.strip().lower() for h in raw_header)
    _check_header(header=header, expected=expected, required=required, kind=kind)
    width = len(header)
    columns: dict[str, list[str]] = {name: [] for name in header}
    lists = [columns[name] for name in header]
    line_numbers: list[int] = []
    bad_rows: list[tuple[int, str]] = []
    csv.field_size_limit(MAX_FIELD_CHARS)
    line = reader.line_num + 1
    try:
        for record in reader:
            if not record:
                line = reader.line_num + 1
                continue  # blank lines carry nothing
            if len(record) != width:
                bad_rows.append(
                    (line, f"expected {width} fields as in the header, found {len(record)}")
                )
            else:
                line_numbers.append(line)
                for target, value in zip(lists, record, strict=True):
                    target.append(value)
            line = reader.line_num + 1
            if progress is not None and not len(line_numbers) % 100_000:
                progress(len(line_numbers), 0)
    except csv.Error as error:
        reason = str(error)
        if "field larger than field limit" in reason:
            reason = f"a field is longer than {MAX_FIELD_CHARS} characters"
        raise UnreadableFile(f"line {reader.line_num}: not valid CSV: {reason}") from None
    if not line_numbers and not bad_rows:
        raise UnreadableFile("file has a header but no records")
    return Table(
        header=header,
        columns=columns,
        line_numbers=line_numbers,
        sha256=digest,
        bad_rows=bad_rows,
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
