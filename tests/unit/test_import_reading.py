"""Reading CSV drops: whatever path a file takes, the records come back exactly."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.usecases.import_portfolio import columns as cols
from accord.usecases.import_portfolio import reading

HEADER = ["external_ref", "account_ref", "amount", "currency", "received_date"]
KIND = cols.RecordKind.PAYMENTS

field = st.text(
    alphabet=st.characters(
        # csv.writer leaves a lone "\r" unquoted, which no reader can tell from a line end.
        blacklist_categories=("Cs",),
        blacklist_characters="\x00\r",
        max_codepoint=0x2FF,
    ),
    max_size=12,
)


def as_csv(rows: list[list[str]], *, line_end: str = "\n") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode()


class TestReadBytes:
    @settings(max_examples=200, deadline=None)
    @given(
        rows=st.lists(st.lists(field, min_size=5, max_size=5), min_size=1, max_size=8),
        line_end=st.sampled_from(["\n", "\r\n"]),
    )
    def test_returns_every_record_exactly_as_written(
        self, rows: list[list[str]], line_end: str
    ) -> None:
        # A record that is one empty field reads as a blank line; csv.writer quotes it.
        table = reading.read_bytes(data=as_csv(rows, line_end=line_end), kind=KIND)
        assert table.frame.rows() == [tuple(r) for r in rows]
        assert table.bad_rows == []

    def test_numbers_rows_from_2_under_the_header(self) -> None:
        table = reading.read_bytes(data=as_csv([["a"] * 5, ["b"] * 5]), kind=KIND)
        assert table.line_numbers == [2, 3]

    def test_reports_each_record_of_the_wrong_width_by_its_line(self) -> None:
        data = as_csv([["a"] * 5]) + b"b,b,b\n\nc,c,c,c,c\nd,d,d,d,d,d\n"
        table = reading.read_bytes(data=data, kind=KIND)
        assert table.bad_rows == [
            (3, "expected 5 fields as in the header, found 3"),
            (6, "expected 5 fields as in the header, found 6"),
        ]
        assert table.line_numbers == [2, 5]

    def test_gives_the_line_a_record_starts_on_after_a_multi_line_field(self) -> None:
        data = as_csv([["a\nb", "x", "1", "EUR", "2026-01-01"], ["c", "y", "2", "EUR", "x"]])
        table = reading.read_bytes(data=data, kind=KIND)
        assert table.line_numbers == [2, 4]

    def test_accepts_a_byte_order_mark_and_header_case_and_spaces(self) -> None:
        data = b"\xef\xbb\xbf" + b" External_Ref ,ACCOUNT_REF,amount,currency,received_date\n"
        table = reading.read_bytes(data=data + b"p,a,1,EUR,2026-01-01\n", kind=KIND)
        assert table.header[0] == "external_ref"
        assert table.frame.rows() == [("p", "a", "1", "EUR", "2026-01-01")]

    @pytest.mark.parametrize(
        ("data", "fragment"),
        [
            (b"", "empty"),
            (b"\x00\x01", "binary"),
            (b"external_ref,account_ref,amount,currency,received_date\n" + b"\x00", "line 2"),
            ("é".encode("latin-1"), "not UTF-8"),
            (b"foo\n1\n", "not a payments file"),
        ],
    )
    def test_refuses_unreadable_data(self, data: bytes, fragment: str) -> None:
        with pytest.raises(reading.UnreadableFile, match=fragment):
            reading.read_bytes(data=data, kind=KIND)


class TestReadFile:
    def test_refuses_a_file_it_may_not_read_with_a_clear_reason(
        self, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "payments.csv"
        path.write_bytes(as_csv([["a"] * 5]))

        def refuse(self: Path) -> bytes:
            raise PermissionError(13, "Permission denied")

        # Tests run as root in CI, where chmod cannot make a file unreadable.
        monkeypatch.setattr(Path, "read_bytes", refuse)
        with pytest.raises(reading.UnreadableFile, match=r"cannot read .*Permission denied"):
            reading.read_file(path=path, kind=KIND)

    def test_names_utf16_for_what_it_is(self) -> None:
        data = "external_ref\n".encode("utf-16")
        with pytest.raises(reading.UnreadableFile, match="UTF-16"):
            reading.read_bytes(data=data, kind=KIND)
