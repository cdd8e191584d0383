"""The import's column-wise rules agree with the domain's one-value rules."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.domain import contactpoints, money
from accord.usecases.import_portfolio import validation

CURRENCIES = ["EUR", "USD", "JPY", "KWD", "CLP", "GBP"]

amount_text = st.one_of(
    st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), allow_nan=False, places=4).map(
        str
    ),
    st.from_regex(r"\A-?[0-9]{1,16}(\.[0-9]{0,5})?\Z", fullmatch=True),
    st.text(alphabet="0123456789.,-+e ", min_size=1, max_size=12),
)


def vectorised(amounts: list[str], currencies: list[str]) -> list[int | None]:
    frame = pl.DataFrame(
        {"amount": amounts, "currency": currencies, validation.LINE: range(len(amounts))}
    )
    units, too_precise = validation._minor_units("amount", "currency")
    shape_ok = pl.col("amount").str.contains(validation._AMOUNT_SHAPE)
    digits = (
        pl.col("amount")
        .str.extract(validation._AMOUNT_SHAPE, 2)
        .str.strip_chars_start("0")
        .str.len_chars()
    )
    result = frame.select(
        pl.when(shape_ok & ~too_precise & (digits <= validation.MAX_AMOUNT_DIGITS))
        .then(units)
        .otherwise(None)
        .alias("units")
    )
    return result.get_column("units").to_list()


def one_by_one(text: str, currency: str) -> int | None:
    try:
        return money.parse_amount(text, currency).to_minor_units()
    except money.InvalidAmount:
        return None


class TestAmountColumn:
    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.tuples(amount_text, st.sampled_from(CURRENCIES)), min_size=1, max_size=20))
    def test_converts_exactly_as_the_domain_parses_one_amount(
        self, rows: list[tuple[str, str]]
    ) -> None:
        texts = [t for t, _ in rows]
        currencies = [c for _, c in rows]
        expected = [one_by_one(t, c) for t, c in rows]
        got = vectorised(texts, currencies)
        for text, currency, want, have in zip(texts, currencies, expected, got, strict=True):
            # The domain also accepts surrounding spaces; the import trims them first.
            if text != text.strip():
                continue
            assert have == want, (text, currency)

    def test_keeps_trailing_zeros_within_the_currency(self) -> None:
        assert vectorised(["1.50", "1.500", "7"], ["EUR", "EUR", "JPY"]) == [150, 150, 7]

    def test_refuses_decimals_a_currency_does_not_have(self) -> None:
        assert vectorised(["1.5", "1.001"], ["JPY", "EUR"]) == [None, None]


class TestPhoneColumn:
    PAIRS = [
        ("+34 612 345 678", "ES", False),
        ("(512) 234-5678", "US", True),
        ("12", "GB", True),
        ("020 7946 0018", "GB", False),
        ("not a number", None, False),
    ]

    def test_worker_processes_give_the_same_answers_as_one_process(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pairs = self.PAIRS * 20
        alone = validation._normalise_phones(pairs)
        monkeypatch.setattr(validation, "PARALLEL_PHONES", 10)
        monkeypatch.setattr(validation.os, "cpu_count", lambda: 2)
        assert validation._normalise_phones(pairs) == alone

    def test_gives_either_a_number_or_a_reason(self) -> None:
        results = validation._normalise_phones(self.PAIRS)
        assert results[0] == ("+34612345678", None, ())
        assert results[1] == ("+15122345678", None, ("America/Chicago",))
        assert results[2][0] is None
        assert results[2][1]
        assert results[3] == ("+442079460018", None, ())


class TestEmailColumn:
    @settings(max_examples=150, deadline=None)
    @given(
        st.one_of(
            st.emails(),
            st.from_regex(validation.PLAIN_EMAIL, fullmatch=True),
            st.text(max_size=30),
        )
    )
    def test_the_fast_path_agrees_with_the_domain_check(self, raw: str) -> None:
        frame = pl.DataFrame(
            {
                validation.LINE: [2],
                "external_ref": ["C1"],
                "country": ["GB"],
                "_certain": [True],
                "emails": [raw.replace(";", "")],
            }
        )
        points, errors = validation._emails(frame)
        value = raw.replace(";", "").strip()
        if not value:
            return
        try:
            expected = contactpoints.normalise_email(value)
        except contactpoints.InvalidEmail:
            assert errors.height == 1
            return
        assert errors.height == 0
        assert points.get_column("value").to_list() == [expected]
