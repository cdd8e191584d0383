from __future__ import annotations

import pytest

from accord.domain import contactpoints


class TestNormalisePhone:
    @pytest.mark.parametrize(
        ("raw", "region", "expected"),
        [
            pytest.param("020 7946 0000", "GB", "+442079460000", id="uk-landline"),
            pytest.param("07911 123456", "GB", "+447911123456", id="uk-mobile"),
            pytest.param("+44 (0)20 7946 0000", None, "+442079460000", id="uk-with-trunk-zero"),
            pytest.param("(201) 555-0123", "US", "+12015550123", id="us-national"),
            pytest.param("+1 212-555-1234", None, "+12125551234", id="us-international"),
            pytest.param("612 34 56 78", "ES", "+34612345678", id="es-mobile"),
            pytest.param("91 123 45 67", "ES", "+34911234567", id="es-madrid"),
            pytest.param("55 1234 5678", "MX", "+525512345678", id="mx-mexico-city"),
            pytest.param("+52 55 1234 5678", "GB", "+525512345678", id="plus-beats-region"),
            pytest.param("  020 7946 0000  ", "gb", "+442079460000", id="lower-case-region"),
        ],
    )
    def test_returns_e164(self, raw: str, region: str | None, expected: str) -> None:
        assert contactpoints.normalise_phone(raw=raw, default_region=region) == expected

    @pytest.mark.parametrize(
        ("raw", "region", "reason"),
        [
            pytest.param("12345", "GB", "not a valid number for region GB", id="too-few-digits"),
            pytest.param("+44 20 1234", None, "not a valid number for region GB", id="uk-short"),
            pytest.param("07911123456", None, "needs a country code", id="no-country-code"),
            pytest.param("0791112345", "XX", "XX is not a known region", id="bad-region"),
            pytest.param("hello", "GB", "does not look like a phone number", id="words"),
            pytest.param("", "GB", "does not look like a phone number", id="empty"),
            pytest.param("+44 7911 123456 123456", None, "too long", id="too-long"),
            pytest.param("+1 201 555 012", None, "too short", id="us-short"),
            pytest.param(
                "+1 099 555 0123", None, "not a valid number for region US", id="us-bad-area"
            ),
        ],
    )
    def test_rejects_unusable_numbers_with_a_reason(
        self, raw: str, region: str | None, reason: str
    ) -> None:
        with pytest.raises(contactpoints.InvalidPhoneNumber) as caught:
            contactpoints.normalise_phone(raw=raw, default_region=region)
        assert reason in caught.value.reason


class TestPhoneRegion:
    @pytest.mark.parametrize(
        ("number", "region"),
        [
            ("+442079460000", "GB"),
            ("+12125551234", "US"),
            ("+34612345678", "ES"),
            ("+525512345678", "MX"),
        ],
    )
    def test_returns_the_region_of_a_number(self, number: str, region: str) -> None:
        assert contactpoints.phone_region(number) == region

    def test_is_none_for_a_number_in_no_region(self) -> None:
        assert contactpoints.phone_region("+80012345678") is None

    @pytest.mark.parametrize("text", ["02079460000", "+", "+abc"])
    def test_rejects_text_that_is_not_e164(self, text: str) -> None:
        with pytest.raises(contactpoints.InvalidPhoneNumber):
            contactpoints.phone_region(text)


class TestNormaliseEmail:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            (" Jane.Doe@Example.COM ", "Jane.Doe@example.com"),
            ("a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"),
            ("o'brien@example.ie", "o'brien@example.ie"),
            ("x@xn--bcher-kva.de", "x@xn--bcher-kva.de"),
            ("x@B\u00dccher.de", "x@b\u00fccher.de"),
        ],
    )
    def test_trims_and_lower_cases_only_the_domain(self, raw: str, expected: str) -> None:
        assert contactpoints.normalise_email(raw) == expected

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            ("", "empty"),
            ("   ", "empty"),
            ("jane.example.com", "exactly one @"),
            ("jane@@example.com", "exactly one @"),
            ("a@b@example.com", "exactly one @"),
            ("@example.com", "nothing before the @"),
            ("jane@", "no domain"),
            ("jane@localhost", "must contain a dot"),
            ("jane doe@example.com", "spaces"),
            ("jane@exa mple.com", "spaces"),
            ("jane\u200b@example.com", "invisible"),
            ("jane@example..com", "empty part"),
            ("jane@example.com.", "empty part"),
            ("jane@-example.com", "not a valid part"),
            ("jane@exam_ple.com", "not a valid part"),
            ("jane@" + "a" * 64 + ".com", "not a valid part"),
            (".jane@example.com", "dot"),
            ("ja..ne@example.com", "dot"),
            ("a" * 65 + "@example.com", "longer than 64"),
            ("jane@" + ".".join(["a" * 60] * 5) + ".com", "254"),
            ("jane@192.168.0.1", "IP address"),
        ],
    )
    def test_rejects_malformed_addresses_with_a_reason(self, raw: str, reason: str) -> None:
        with pytest.raises(contactpoints.InvalidEmail) as caught:
            contactpoints.normalise_email(raw)
        assert reason in caught.value.reason


class TestIsValidCountry:
    @pytest.mark.parametrize("code", ["GB", "US", "ES", "MX", "AU", "JP"])
    def test_accepts_iso_3166_alpha_2_codes(self, code: str) -> None:
        assert contactpoints.is_valid_country(code)

    @pytest.mark.parametrize("code", ["UK", "gb", "", "GBR", "ZZ"])
    def test_rejects_anything_else(self, code: str) -> None:
        assert not contactpoints.is_valid_country(code)
