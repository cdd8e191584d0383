"""Template filters show money and counts the way people read them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accord.domain import money
from accord.web.templatetags import accord_format


class TestMoneyAmount:
    @pytest.mark.parametrize(
        ("amount", "currency", "shown"),
        [
            ("278485.67", "EUR", "278,485.67 EUR"),
            ("20037010", "CLP", "20,037,010 CLP"),
            ("-5", "USD", "-5.00 USD"),
            ("1.5", "KWD", "1.500 KWD"),
        ],
    )
    def test_groups_digits_and_shows_the_currency_places(
        self, amount: str, currency: str, shown: str
    ) -> None:
        assert accord_format.money_amount(money.Money(Decimal(amount), currency)) == shown


class TestCount:
    def test_groups_digits(self) -> None:
        assert accord_format.count(1234567) == "1,234,567"
