"""Infer which IANA time zones a customer may live in.

Contact-hours rules are set in the customer's local time, so the platform needs a
time zone before it may call or message. A zone the customer gave wins outright;
otherwise the address (country, narrowed by state or province where a country spans
several zones) and the phone numbers are combined. When the evidence leaves more than
one zone, the guess says so, and callers should respect contact hours in all of them.

Zone data comes from the ``tzdata`` package rather than the operating system, so the
answer is the same on every machine.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import importlib.resources
from collections.abc import Mapping, Sequence

import phonenumbers
from phonenumbers import timezone as phone_timezone


class TimeZoneSource(enum.StrEnum):
    """Name the evidence a time-zone guess rests on."""

    GIVEN = "GIVEN"
    ADDRESS = "ADDRESS"
    PHONE = "PHONE"
    ADDRESS_AND_PHONE = "ADDRESS_AND_PHONE"
    UNKNOWN = "UNKNOWN"


@dataclasses.dataclass(frozen=True, slots=True)
class TimeZoneGuess:
    """Hold the zones a customer may be in, sorted and without repeats, and why."""

    zones: tuple[str, ...]
    source: TimeZoneSource

    def __post_init__(self) -> None:
        object.__setattr__(self, "zones", tuple(sorted(set(self.zones))))

    @property
    def certain(self) -> bool:
        """Return whether the evidence points at exactly one zone."""
        return len(self.zones) == 1


class UnknownTimeZone(ValueError):
    """Signal a time-zone name that is not in the IANA database."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown time zone {name!r}")
        self.name = name


# phonenumbers answers this when a number's location cannot be told.
_PHONE_UNKNOWN_ZONE = "Etc/Unknown"

# Zones by state for the United States. These name the zone phone metadata reports for
# each civil time (America/New_York rather than America/Detroit or America/Indiana/...):
# the zones differ only in history, and matching names let a phone number confirm an
# address. A state that spans civil times keeps every one.
_EASTERN = "America/New_York"
_CENTRAL = "America/Chicago"
_MOUNTAIN = "America/Denver"
_PACIFIC = "America/Los_Angeles"
_US_STATES: Mapping[str, tuple[str, ...]] = {
    "AK": ("America/Adak", "America/Anchorage"),
    "AL": (_CENTRAL,),
    "AR": (_CENTRAL,),
    # Arizona keeps standard time all year except the Navajo Nation, which follows Denver.
    "AZ": ("America/Phoenix", _MOUNTAIN),
    "CA": (_PACIFIC,),
    "CO": (_MOUNTAIN,),
    "CT": (_EASTERN,),
    "DC": (_EASTERN,),
    "DE": (_EASTERN,),
    "FL": (_EASTERN, _CENTRAL),
    "GA": (_EASTERN,),
    "HI": ("Pacific/Honolulu",),
    "IA": (_CENTRAL,),
    "ID": (_MOUNTAIN, _PACIFIC),
    "IL": (_CENTRAL,),
    "IN": (_EASTERN, _CENTRAL),
    "KS": (_CENTRAL, _MOUNTAIN),
    "KY": (_EASTERN, _CENTRAL),
    "LA": (_CENTRAL,),
    "MA": (_EASTERN,),
    "MD": (_EASTERN,),
    "ME": (_EASTERN,),
    "MI": (_EASTERN, _CENTRAL),
    "MN": (_CENTRAL,),
    "MO": (_CENTRAL,),
    "MS": (_CENTRAL,),
    "MT": (_MOUNTAIN,),
    "NC": (_EASTERN,),
    "ND": (_CENTRAL, _MOUNTAIN),
    "NE": (_CENTRAL, _MOUNTAIN),
    "NH": (_EASTERN,),
    "NJ": (_EASTERN,),
    "NM": (_MOUNTAIN,),
    "NV": (_PACIFIC,),
    "NY": (_EASTERN,),
    "OH": (_EASTERN,),
    "OK": (_CENTRAL,),
    "OR": (_PACIFIC, _MOUNTAIN),
    "PA": (_EASTERN,),
    "RI": (_EASTERN,),
    "SC": (_EASTERN,),
    "SD": (_CENTRAL, _MOUNTAIN),
    "TN": (_EASTERN, _CENTRAL),
    "TX": (_CENTRAL, _MOUNTAIN),
    "UT": (_MOUNTAIN,),
    "VA": (_EASTERN,),
    "VT": (_EASTERN,),
    "WA": (_PACIFIC,),
    "WI": (_CENTRAL,),
    "WV": (_EASTERN,),
    "WY": (_MOUNTAIN,),
}

# Canadian provinces and territories, by the zones tzdata's zone.tab gives for each.
_CA_PROVINCES: Mapping[str, tuple[str, ...]] = {
    "AB": ("America/Edmonton",),
    "BC": (
        "America/Vancouver",
        "America/Creston",
        "America/Dawson_Creek",
        "America/Fort_Nelson",
        "America/Edmonton",
    ),
    "MB": ("America/Winnipeg",),
    "NB": ("America/Moncton",),
    "NL": ("America/St_Johns", "America/Goose_Bay"),
    "NS": ("America/Halifax", "America/Glace_Bay"),
    "NT": ("America/Edmonton", "America/Inuvik"),
    "NU": (
        "America/Iqaluit",
        "America/Rankin_Inlet",
        "America/Resolute",
        "America/Cambridge_Bay",
        "America/Atikokan",
    ),
    "ON": ("America/Toronto", "America/Winnipeg", "America/Atikokan"),
    "PE": ("America/Halifax",),
    "QC": ("America/Toronto", "America/Blanc-Sablon"),
    "SK": ("America/Regina", "America/Swift_Current", "America/Edmonton"),
    "YT": ("America/Whitehorse", "America/Dawson"),
}

# Australian states and territories. Macquarie Island (Tasmania) is left out: only
# research staff live there, and keeping it would make every Tasmanian uncertain.
_AU_STATES: Mapping[str, tuple[str, ...]] = {
    "ACT": ("Australia/Sydney",),
    "NSW": ("Australia/Sydney", "Australia/Broken_Hill", "Australia/Lord_Howe"),
    "NT": ("Australia/Darwin",),
    "QLD": ("Australia/Brisbane", "Australia/Lindeman"),
    "SA": ("Australia/Adelaide",),
    "TAS": ("Australia/Hobart",),
    "VIC": ("Australia/Melbourne",),
    "WA": ("Australia/Perth", "Australia/Eucla"),
}

# Mexican states by ISO 3166-2:MX code; states not listed use central time.
_MX_CENTRAL = "America/Mexico_City"
_MX_STATES: Mapping[str, tuple[str, ...]] = {
    "AGU": (_MX_CENTRAL,),
    "BCN": ("America/Tijuana",),
    "BCS": ("America/Mazatlan",),
    "CAM": ("America/Merida",),
    "CHH": ("America/Chihuahua", "America/Ciudad_Juarez", "America/Ojinaga"),
    "CHP": (_MX_CENTRAL,),
    "CMX": (_MX_CENTRAL,),
    "COA": ("America/Monterrey", "America/Matamoros"),
    "COL": (_MX_CENTRAL,),
    "DUR": ("America/Monterrey",),
    "GRO": (_MX_CENTRAL,),
    "GUA": (_MX_CENTRAL,),
    "HID": (_MX_CENTRAL,),
    "JAL": (_MX_CENTRAL,),
    "MEX": (_MX_CENTRAL,),
    "MIC": (_MX_CENTRAL,),
    "MOR": (_MX_CENTRAL,),
    "NAY": ("America/Mazatlan", "America/Bahia_Banderas"),
    "NLE": ("America/Monterrey", "America/Matamoros"),
    "OAX": (_MX_CENTRAL,),
    "PUE": (_MX_CENTRAL,),
    "QUE": (_MX_CENTRAL,),
    "ROO": ("America/Cancun",),
    "SIN": ("America/Mazatlan",),
    "SLP": (_MX_CENTRAL,),
    "SON": ("America/Hermosillo",),
    "TAB": (_MX_CENTRAL,),
    "TAM": ("America/Monterrey", "America/Matamoros"),
    "TLA": (_MX_CENTRAL,),
    "VER": (_MX_CENTRAL,),
    "YUC": ("America/Merida",),
    "ZAC": (_MX_CENTRAL,),
}

REGION_ZONES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "AU": _AU_STATES,
    "CA": _CA_PROVINCES,
    "MX": _MX_STATES,
    "US": _US_STATES,
}


@functools.cache
def _known_zone_names() -> frozenset[str]:
    text = importlib.resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


@functools.cache
def _zones_by_country() -> Mapping[str, tuple[str, ...]]:
    text = (
        importlib.resources.files("tzdata.zoneinfo")
        .joinpath("zone.tab")
        .read_text(encoding="utf-8")
    )
    zones: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        country, _coordinates, zone, *_comments = line.split("\t")
        zones.setdefault(country, []).append(zone)
    return {country: tuple(sorted(names)) for country, names in zones.items()}


def is_known_time_zone(name: str) -> bool:
    """Return whether ``name`` is an IANA time-zone name, such as ``"Europe/London"``."""
    return name in _known_zone_names()


def country_time_zones(country: str) -> tuple[str, ...]:
    """Return the zones tzdata lists for an ISO 3166-1 alpha-2 country, sorted.

    Unknown countries give an empty tuple.
    """
    return _zones_by_country().get(country.strip().upper(), ())


def _blank_to_none(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    return text.strip()


def _address_zones(*, country: str | None, region: str | None) -> frozenset[str]:
    if country is None:
        return frozenset()
    country_code = country.upper()
    candidates = frozenset(country_time_zones(country_code))
    if region is None:
        return candidates
    # Accept both "TX" and the ISO 3166-2 spelling "US-TX".
    region_code = region.upper().removeprefix(f"{country_code}-")
    narrowed = candidates & frozenset(REGION_ZONES.get(country_code, {}).get(region_code, ()))
    # An unrecognised region tells us nothing, so fall back to the whole country.
    return narrowed or candidates


def number_time_zones(number: phonenumbers.PhoneNumber) -> frozenset[str]:
    """Return the zones libphonenumber places a parsed number in (none when unknown)."""
    return frozenset(phone_timezone.time_zones_for_number(number)) - {_PHONE_UNKNOWN_ZONE}


def _phone_zones(phones: Sequence[str]) -> frozenset[str]:
    zones: set[str] = set()
    for phone in phones:
        try:
            number = phonenumbers.parse(phone, None)
        except phonenumbers.NumberParseException:
            # A bad number is no evidence; contact-point validation reports it elsewhere.
            continue
        zones.update(number_time_zones(number))
    return frozenset(zones)


def infer_time_zones(
    *,
    given: str | None,
    country: str | None,
    region: str | None,
    phones: Sequence[str],
) -> TimeZoneGuess:
    """Return the zones the customer may be in, and the evidence used.

    - ``given``, a zone the customer stated, wins if present; an unknown name raises
      :class:`UnknownTimeZone`.
    - Otherwise the address: the ``country``'s zones, narrowed by ``region`` (state or
      province code, e.g. ``"TX"`` or ``"US-TX"``) for the US, Canada, Australia and
      Mexico. If the zones of the ``phones`` (E.164) overlap the address's, the overlap
      is the answer (source ADDRESS_AND_PHONE); otherwise the address's zones are.
    - With no usable country, the zones of all the phones together (source PHONE).
    - With none of these, no zones (source UNKNOWN).

    Blank strings count as absent.
    """
    return infer_time_zones_from(
        given=given, country=country, region=region, phone_zones=_phone_zones(phones)
    )


def infer_time_zones_from(
    *,
    given: str | None,
    country: str | None,
    region: str | None,
    phone_zones: frozenset[str],
) -> TimeZoneGuess:
    """Decide as :func:`infer_time_zones` does, from the phones' zones already looked up."""
    given_name = _blank_to_none(given)
    if given_name is not None:
        if not is_known_time_zone(given_name):
            raise UnknownTimeZone(given_name)
        return TimeZoneGuess(zones=(given_name,), source=TimeZoneSource.GIVEN)
    address = _address_zones(country=_blank_to_none(country), region=_blank_to_none(region))
    phone = phone_zones
    if address:
        if address & phone:
            return TimeZoneGuess(
                zones=tuple(address & phone), source=TimeZoneSource.ADDRESS_AND_PHONE
            )
        return TimeZoneGuess(zones=tuple(address), source=TimeZoneSource.ADDRESS)
    if phone:
        return TimeZoneGuess(zones=tuple(phone), source=TimeZoneSource.PHONE)
    return TimeZoneGuess(zones=(), source=TimeZoneSource.UNKNOWN)
