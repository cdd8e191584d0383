"""Template filters show money and counts the way people read them."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

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


class TestOperatorTime:
    AT = datetime.datetime(2026, 1, 15, 13, 0, tzinfo=datetime.UTC)

    @pytest.mark.parametrize(
        ("zone", "shown"),
        [
            ("UTC", "2026-01-15 13:00\N{NO-BREAK SPACE}UTC"),
            ("Europe/Madrid", "2026-01-15 14:00\N{NO-BREAK SPACE}CET"),
            ("America/Sao_Paulo", "2026-01-15 10:00\N{NO-BREAK SPACE}UTC\N{MINUS SIGN}03:00"),
            ("Asia/Kathmandu", "2026-01-15 18:45\N{NO-BREAK SPACE}UTC+05:45"),
        ],
    )
    def test_shows_the_instant_in_the_operators_zone_with_the_zone_named(
        self, zone: str, shown: str
    ) -> None:
        with timezone.override(zone):
            html = accord_format.operator_time(self.AT).replace("&nbsp;", "\N{NO-BREAK SPACE}")
        assert f">{shown}</time>" in html
        assert f'title="{zone}"' in html
        assert 'datetime="2026-01-15T' in html

    def test_shows_seconds_when_asked(self) -> None:
        with timezone.override("UTC"):
            assert "13:00:00&nbsp;UTC" in accord_format.operator_time(self.AT, "seconds")

    def test_shows_nothing_for_no_time(self) -> None:
        assert accord_format.operator_time(None) == ""


class TestPolicyReasons:
    def test_words_bare_codes_and_the_policys_own_records_alike(self) -> None:
        bare, recorded = accord_format.policy_reasons(
            [
                "REG_F_INCONVENIENT_TIME",
                {
                    "code": "REG_F_DISPUTE_PAUSE",
                    "rule": "12 CFR 1006.38(d)(2)",
                    "message": "Paused.",
                },
            ]
        )

        assert bare.label == "Outside 08:00-21:00 local time"
        assert bare.rule == "12 CFR 1006.6(b)(1)(i)"
        assert bare.message == ""
        assert recorded.label == "Debt under unverified dispute"
        assert recorded.message == "Paused."
