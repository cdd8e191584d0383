from __future__ import annotations

import pytest

from accord.domain import contactpoints, timezones

Source = timezones.TimeZoneSource

US_STATES_AND_DC = frozenset(
    {
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
    }
)


class TestTimeZoneGuess:
    def test_sorts_and_deduplicates_its_zones(self) -> None:
        guess = timezones.TimeZoneGuess(
            zones=("Europe/Madrid", "Atlantic/Canary", "Europe/Madrid"), source=Source.ADDRESS
        )
        assert guess.zones == ("Atlantic/Canary", "Europe/Madrid")

    def test_is_certain_with_exactly_one_zone(self) -> None:
        assert timezones.TimeZoneGuess(zones=("Europe/London",), source=Source.GIVEN).certain
        assert not timezones.TimeZoneGuess(zones=(), source=Source.UNKNOWN).certain
        assert not timezones.TimeZoneGuess(
            zones=("America/Chicago", "America/Denver"), source=Source.ADDRESS
        ).certain


class TestInferTimeZones:
    def test_uses_the_zone_the_customer_gave(self) -> None:
        guess = timezones.infer_time_zones(
            given="Europe/Lisbon", country="US", region="TX", phones=["+12125551234"]
        )
        assert guess == timezones.TimeZoneGuess(zones=("Europe/Lisbon",), source=Source.GIVEN)

    @pytest.mark.parametrize(
        "name", ["Mars/Olympus_Mons", "europe/london", "../etc/passwd", "GMT+25"]
    )
    def test_rejects_a_given_zone_that_does_not_exist(self, name: str) -> None:
        with pytest.raises(timezones.UnknownTimeZone):
            timezones.infer_time_zones(given=name, country=None, region=None, phones=[])

    def test_treats_a_blank_given_zone_as_absent(self) -> None:
        guess = timezones.infer_time_zones(given="  ", country="GB", region=None, phones=[])
        assert guess == timezones.TimeZoneGuess(zones=("Europe/London",), source=Source.ADDRESS)

    def test_gives_two_uncertain_zones_for_texas(self) -> None:
        guess = timezones.infer_time_zones(given=None, country="US", region="TX", phones=[])
        assert guess.zones == ("America/Chicago", "America/Denver")
        assert guess.source is Source.ADDRESS
        assert not guess.certain

    def test_gives_new_york_for_new_york(self) -> None:
        guess = timezones.infer_time_zones(given=None, country="US", region="NY", phones=[])
        assert guess == timezones.TimeZoneGuess(zones=("America/New_York",), source=Source.ADDRESS)

    def test_accepts_iso_3166_2_region_codes_in_any_case(self) -> None:
        guess = timezones.infer_time_zones(given=None, country="us", region="us-ny", phones=[])
        assert guess.zones == ("America/New_York",)

    def test_narrows_texas_with_an_el_paso_phone(self) -> None:
        guess = timezones.infer_time_zones(
            given=None, country="US", region="TX", phones=["+19155551234"]
        )
        assert guess == timezones.TimeZoneGuess(
            zones=("America/Denver",), source=Source.ADDRESS_AND_PHONE
        )

    def test_keeps_the_address_when_the_phone_points_elsewhere(self) -> None:
        guess = timezones.infer_time_zones(
            given=None, country="US", region="TX", phones=["+442079460000"]
        )
        assert guess.zones == ("America/Chicago", "America/Denver")
        assert guess.source is Source.ADDRESS

    def test_leaves_spain_uncertain_between_the_mainland_and_the_canaries(self) -> None:
        guess = timezones.infer_time_zones(given=None, country="ES", region=None, phones=[])
        assert {"Europe/Madrid", "Atlantic/Canary"} <= set(guess.zones)
        assert guess.source is Source.ADDRESS
        assert not guess.certain

    def test_narrows_spain_to_the_canaries_with_a_tenerife_landline(self) -> None:
        guess = timezones.infer_time_zones(
            given=None, country="ES", region=None, phones=["+34922123456"]
        )
        assert guess == timezones.TimeZoneGuess(
            zones=("Atlantic/Canary",), source=Source.ADDRESS_AND_PHONE
        )

    def test_narrows_spain_to_madrid_with_a_madrid_landline(self) -> None:
        guess = timezones.infer_time_zones(
            given=None, country="ES", region=None, phones=["+34911234567"]
        )
        assert guess.zones == ("Europe/Madrid",)
        assert guess.certain

    def test_keeps_spain_uncertain_with_only_a_mobile(self) -> None:
        guess = timezones.infer_time_zones(
            given=None, country="ES", region=None, phones=["+34612345678"]
        )
        assert guess.zones == ("Atlantic/Canary", "Europe/Madrid")
        assert guess.source is Source.ADDRESS_AND_PHONE

    def test_uses_the_whole_country_for_an_unknown_region(self) -> None:
        guess = timezones.infer_time_zones(given=None, country="US", region="ZZ", phones=[])
        assert len(guess.zones) > 5
        assert guess.source is Source.ADDRESS

    def test_uses_phones_when_there_is_no_country(self) -> None:
        guess = timezones.infer_time_zones(
            given=None, country=None, region="TX", phones=["+442079460000"]
        )
        assert guess == timezones.TimeZoneGuess(zones=("Europe/London",), source=Source.PHONE)

    def test_uses_phones_when_the_country_is_not_recognised(self) -> None:
        guess = timezones.infer_time_zones(
            given=None, country="UK", region=None, phones=["+442079460000"]
        )
        assert guess.source is Source.PHONE

    def test_combines_the_zones_of_every_phone(self) -> None:
        guess = timezones.infer_time_zones(
            given=None, country=None, region=None, phones=["+442079460000", "+34911234567"]
        )
        assert guess.zones == ("Europe/London", "Europe/Madrid")

    def test_ignores_phones_whose_location_is_unknown(self) -> None:
        guess = timezones.infer_time_zones(
            given=None, country=None, region=None, phones=["+80012345678"]
        )
        assert guess == timezones.TimeZoneGuess(zones=(), source=Source.UNKNOWN)

    def test_ignores_text_that_is_not_a_phone_number(self) -> None:
        guess = timezones.infer_time_zones(
            given=None, country=None, region=None, phones=["not a number", "02079460000"]
        )
        assert guess.source is Source.UNKNOWN

    def test_is_unknown_without_any_evidence(self) -> None:
        guess = timezones.infer_time_zones(given=None, country=None, region=None, phones=[])
        assert guess == timezones.TimeZoneGuess(zones=(), source=Source.UNKNOWN)


class TestRegionZones:
    def test_covers_every_us_state_and_dc(self) -> None:
        assert set(timezones.REGION_ZONES["US"]) == US_STATES_AND_DC

    @pytest.mark.parametrize(
        "state", ["IN", "KY", "TN", "FL", "MI", "ND", "SD", "NE", "KS", "ID", "OR", "TX"]
    )
    def test_keeps_every_zone_of_a_state_that_spans_two(self, state: str) -> None:
        guess = timezones.infer_time_zones(given=None, country="US", region=state, phones=[])
        assert len(guess.zones) >= 2

    def test_only_names_zones_tzdata_lists_for_the_country(self) -> None:
        stray = {
            (country, region, zone)
            for country, regions in timezones.REGION_ZONES.items()
            for region, zones in regions.items()
            for zone in zones
            if zone not in timezones.country_time_zones(country)
        }
        assert stray == set()

    def test_only_uses_real_country_codes(self) -> None:
        assert all(contactpoints.is_valid_country(code) for code in timezones.REGION_ZONES)


class TestCountryTimeZones:
    def test_lists_the_zones_of_a_country_in_order(self) -> None:
        assert timezones.country_time_zones("ES") == (
            "Africa/Ceuta",
            "Atlantic/Canary",
            "Europe/Madrid",
        )

    def test_is_empty_for_an_unknown_country(self) -> None:
        assert timezones.country_time_zones("UK") == ()


class TestIsKnownTimeZone:
    @pytest.mark.parametrize("name", ["Europe/London", "America/Indiana/Knox", "UTC"])
    def test_accepts_iana_names(self, name: str) -> None:
        assert timezones.is_known_time_zone(name)

    @pytest.mark.parametrize("name", ["", "Europe", "London", "Etc/Unknown"])
    def test_rejects_anything_else(self, name: str) -> None:
        assert not timezones.is_known_time_zone(name)
