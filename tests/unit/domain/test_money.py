from __future__ import annotations

import decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.domain import money

D = decimal.Decimal

EXPECTED_CURRENCIES = [
    "USD",
    "EUR",
    "GBP",
    "CAD",
    "AUD",
    "NZD",
    "MXN",
    "BRL",
    "ARS",
    "CLP",
    "COP",
    "PEN",
    "INR",
    "JPY",
    "KRW",
    "CHF",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "HUF",
    "ZAR",
    "SGD",
    "HKD",
    "CNY",
    "AED",
    "SAR",
    "KWD",
    "BHD",
    "OMR",
    "JOD",
    "TND",
    "ILS",
    "TRY",
    "PHP",
    "IDR",
    "THB",
    "VND",
    "NGN",
    "KES",
    "EGP",
    "MAD",
    "UYU",
]

currencies = st.sampled_from(sorted(money.known_currencies()))


def usd(text: str) -> money.Money:
    return money.Money(D(text), "USD")


class TestMinorUnits:
    def test_covers_every_currency_the_platform_expects(self) -> None:
        missing = [code for code in EXPECTED_CURRENCIES if not money.is_known_currency(code)]
        assert missing == []

    @pytest.mark.parametrize("code", ["USD", "EUR", "GBP", "MXN", "INR"])
    def test_gives_two_places_for_most_currencies(self, code: str) -> None:
        assert money.minor_units(code) == 2

    @pytest.mark.parametrize("code", ["JPY", "KRW", "CLP", "VND"])
    def test_gives_no_places_for_currencies_without_a_minor_unit(self, code: str) -> None:
        assert money.minor_units(code) == 0

    @pytest.mark.parametrize("code", ["KWD", "BHD", "OMR", "JOD", "TND"])
    def test_gives_three_places_for_the_dinars_and_rials_that_use_fils(self, code: str) -> None:
        assert money.minor_units(code) == 3

    @pytest.mark.parametrize("code", ["XYZ", "usd", "", "US"])
    def test_raises_unknown_currency_for_unsupported_codes(self, code: str) -> None:
        with pytest.raises(money.UnknownCurrency):
            money.minor_units(code)


class TestIsKnownCurrency:
    def test_accepts_an_upper_case_iso_code(self) -> None:
        assert money.is_known_currency("EUR")

    def test_rejects_a_lower_case_code(self) -> None:
        assert not money.is_known_currency("eur")


class TestMoney:
    def test_refuses_a_float_amount(self) -> None:
        with pytest.raises(TypeError, match="float"):
            money.Money(1.5, "USD")  # type: ignore[arg-type]

    def test_refuses_an_int_amount(self) -> None:
        with pytest.raises(TypeError):
            money.Money(1, "USD")  # type: ignore[arg-type]

    @pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
    def test_refuses_non_finite_amounts(self, text: str) -> None:
        with pytest.raises(ValueError, match="finite"):
            money.Money(D(text), "USD")

    def test_refuses_an_unknown_currency(self) -> None:
        with pytest.raises(money.UnknownCurrency):
            money.Money(D("1"), "XXX")

    def test_adds_amounts_in_the_same_currency(self) -> None:
        assert usd("1.10") + usd("2.25") == usd("3.35")

    def test_subtracts_amounts_in_the_same_currency(self) -> None:
        assert usd("1.10") - usd("2.25") == usd("-1.15")

    def test_negates(self) -> None:
        assert -usd("4.20") == usd("-4.20")

    def test_refuses_to_add_different_currencies(self) -> None:
        with pytest.raises(money.CurrencyMismatch):
            _ = usd("1") + money.Money(D("1"), "EUR")

    def test_refuses_to_subtract_different_currencies(self) -> None:
        with pytest.raises(money.CurrencyMismatch):
            _ = usd("1") - money.Money(D("1"), "EUR")

    def test_refuses_to_compare_different_currencies(self) -> None:
        with pytest.raises(money.CurrencyMismatch):
            _ = usd("1") < money.Money(D("2"), "EUR")

    def test_orders_amounts_in_one_currency(self) -> None:
        assert usd("1") < usd("2") <= usd("2.00") < usd("10")
        assert usd("10") > usd("2") >= usd("2")

    def test_equals_an_amount_with_the_same_value_and_different_scale(self) -> None:
        assert usd("1.5") == usd("1.50")
        assert hash(usd("1.5")) == hash(usd("1.50"))

    def test_does_not_equal_the_same_number_in_another_currency(self) -> None:
        assert usd("1") != money.Money(D("1"), "EUR")

    def test_makes_zero_in_any_currency(self) -> None:
        zero = money.Money.zero("JPY")
        assert zero.is_zero()
        assert zero.currency == "JPY"

    def test_reports_its_sign(self) -> None:
        assert usd("0.01").is_positive()
        assert usd("-0.01").is_negative()
        assert not usd("0").is_positive()
        assert not usd("0").is_negative()

    def test_treats_negative_zero_as_zero(self) -> None:
        assert str(usd("-0.00")) == "0.00 USD"
        assert str(-usd("0")) == "0 USD"

    def test_prints_the_amount_then_the_currency_without_exponents(self) -> None:
        assert str(usd("1234.56")) == "1234.56 USD"
        assert str(usd("1E+3")) == "1000 USD"

    @given(
        left=st.integers(-(10**12), 10**12),
        right=st.integers(-(10**12), 10**12),
        currency=currencies,
    )
    def test_adds_exactly_like_integer_minor_units(
        self, left: int, right: int, currency: str
    ) -> None:
        total = money.Money.from_minor_units(left, currency) + money.Money.from_minor_units(
            right, currency
        )
        assert total.to_minor_units() == left + right


class TestQuantize:
    def test_rounds_halves_to_even_by_default(self) -> None:
        assert usd("0.125").quantize() == usd("0.12")
        assert usd("0.135").quantize() == usd("0.14")

    def test_rounds_halves_up_when_asked(self) -> None:
        assert usd("0.125").quantize(rounding=money.ROUND_HALF_UP) == usd("0.13")

    def test_rounds_halves_away_from_zero_for_negative_amounts(self) -> None:
        assert usd("-0.125").quantize(rounding=money.ROUND_HALF_UP) == usd("-0.13")

    def test_rounds_to_whole_yen(self) -> None:
        assert money.Money(D("100.5"), "JPY").quantize() == money.Money(D("100"), "JPY")

    def test_rounds_to_thousandths_of_a_dinar(self) -> None:
        rounded = money.Money(D("1.23456"), "KWD").quantize()
        assert rounded.amount.as_tuple().exponent == -3
        assert rounded == money.Money(D("1.235"), "KWD")

    def test_exposes_rounding_names_that_decimal_understands(self) -> None:
        assert money.ROUND_HALF_EVEN == decimal.ROUND_HALF_EVEN
        assert money.ROUND_HALF_UP == decimal.ROUND_HALF_UP


class TestMinorUnitConversion:
    def test_converts_dollars_to_cents(self) -> None:
        assert usd("12.34").to_minor_units() == 1234

    def test_accepts_trailing_zeros_beyond_the_currency_places(self) -> None:
        assert usd("1.500").to_minor_units() == 150

    def test_raises_precision_loss_for_a_fraction_of_a_cent(self) -> None:
        with pytest.raises(money.PrecisionLoss):
            usd("1.005").to_minor_units()

    def test_builds_an_amount_from_minor_units(self) -> None:
        assert money.Money.from_minor_units(1234, "KWD") == money.Money(D("1.234"), "KWD")
        assert money.Money.from_minor_units(-5, "JPY") == money.Money(D("-5"), "JPY")

    def test_refuses_a_float_count_of_minor_units(self) -> None:
        with pytest.raises(TypeError):
            money.Money.from_minor_units(1.0, "USD")  # type: ignore[arg-type]

    @given(units=st.integers(-(10**18), 10**18), currency=currencies)
    def test_round_trips_every_whole_number_of_minor_units(self, units: int, currency: str) -> None:
        assert money.Money.from_minor_units(units, currency).to_minor_units() == units


class TestParseAmount:
    @pytest.mark.parametrize(
        ("text", "currency", "expected"),
        [
            ("1234.56", "USD", "1234.56"),
            ("-5", "USD", "-5"),
            ("0.5", "USD", "0.5"),
            ("0", "EUR", "0"),
            ("007.10", "GBP", "7.10"),
            ("  42.00\n", "USD", "42.00"),
            ("1500", "JPY", "1500"),
            ("1.234", "KWD", "1.234"),
            ("999999999999999.99", "USD", "999999999999999.99"),
            ("120.5000", "EUR", "120.50"),
        ],
    )
    def test_accepts_plain_decimal_text(self, text: str, currency: str, expected: str) -> None:
        assert money.parse_amount(text, currency) == money.Money(D(expected), currency)

    @pytest.mark.parametrize(
        ("text", "currency", "reason"),
        [
            ("", "USD", "empty"),
            ("   ", "USD", "empty"),
            ("1,234.56", "USD", "thousands separators"),
            ("1 234", "USD", "thousands separators"),
            ("1e3", "USD", "exponent"),
            ("1.5E+2", "USD", "exponent"),
            ("NaN", "USD", "finite"),
            ("Infinity", "USD", "finite"),
            ("-inf", "USD", "finite"),
            ("1.234", "USD", "at most 2 decimal places"),
            ("1.5", "JPY", "at most 0 decimal places"),
            ("1000000000000000.01", "USD", "less than"),
            ("1000000000000000", "USD", "less than"),
            ("-1000000000000001", "USD", "less than"),
            ("9" * 100, "USD", "longer than"),
            ("+5", "USD", "plus sign"),
            (".5", "USD", "not a plain decimal"),
            ("5.", "USD", "not a plain decimal"),
            ("$5", "USD", "not a plain decimal"),
            ("\u0661\u0662", "USD", "not a plain decimal"),
            ("1.2.3", "USD", "not a plain decimal"),
        ],
    )
    def test_rejects_anything_else_with_a_reason(
        self, text: str, currency: str, reason: str
    ) -> None:
        with pytest.raises(money.InvalidAmount) as caught:
            money.parse_amount(text, currency)
        assert reason in caught.value.reason

    def test_raises_unknown_currency_before_reading_the_text(self) -> None:
        with pytest.raises(money.UnknownCurrency):
            money.parse_amount("1", "XXX")

    @given(units=st.integers(-(10**15) + 1, 10**15 - 1), currency=currencies)
    def test_reads_back_what_money_prints(self, units: int, currency: str) -> None:
        amount = money.Money.from_minor_units(units, currency)
        assert money.parse_amount(f"{amount.amount:f}", currency) == amount


class TestAllocate:
    def test_gives_leftover_cents_to_the_first_parts(self) -> None:
        assert money.allocate(usd("10.00"), parts=3) == [usd("3.34"), usd("3.33"), usd("3.33")]

    def test_splits_a_negative_total_into_negative_parts(self) -> None:
        assert money.allocate(usd("-0.05"), parts=2) == [usd("-0.03"), usd("-0.02")]

    def test_returns_the_total_itself_for_one_part(self) -> None:
        assert money.allocate(usd("7.77"), parts=1) == [usd("7.77")]

    def test_gives_zero_parts_when_there_are_more_parts_than_cents(self) -> None:
        assert money.allocate(usd("0.02"), parts=3) == [usd("0.01"), usd("0.01"), usd("0")]

    @pytest.mark.parametrize("parts", [0, -1])
    def test_refuses_fewer_than_one_part(self, parts: int) -> None:
        with pytest.raises(ValueError, match="parts"):
            money.allocate(usd("1"), parts=parts)

    def test_refuses_a_total_with_a_fraction_of_a_cent(self) -> None:
        with pytest.raises(money.PrecisionLoss):
            money.allocate(usd("1.001"), parts=2)

    @given(
        units=st.integers(-(10**15), 10**15),
        parts=st.integers(1, 500),
        currency=currencies,
    )
    def test_parts_always_sum_to_the_total_and_differ_by_at_most_one_unit(
        self, units: int, parts: int, currency: str
    ) -> None:
        total = money.Money.from_minor_units(units, currency)
        shares = money.allocate(total, parts=parts)
        assert len(shares) == parts
        assert money.sum_amounts(shares, currency=currency) == total
        share_units = [share.to_minor_units() for share in shares]
        assert max(share_units) - min(share_units) <= 1
        assert share_units == sorted(share_units, key=abs, reverse=True)


class TestSumAmounts:
    def test_is_zero_for_no_amounts(self) -> None:
        assert money.sum_amounts([], currency="GBP") == money.Money.zero("GBP")

    def test_refuses_amounts_in_another_currency(self) -> None:
        with pytest.raises(money.CurrencyMismatch):
            money.sum_amounts([usd("1")], currency="EUR")
