"""Normalise and check the ways a customer can be reached: phone numbers and email.

Phone numbers are stored in E.164 (``+447911123456``) so one number has one spelling,
which matters for consent, suppression lists and contact-frequency limits. Validation
uses the ``phonenumbers`` metadata; email checking is deliberately syntactic only, as
the only real test of an address is a message that arrives.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Sequence

import phonenumbers

from accord.domain import timezones


class InvalidPhoneNumber(ValueError):
    """Signal text that is not a usable phone number; ``reason`` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_PARSE_REASONS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: (
        "the country code is missing or not recognised"
    ),
    phonenumbers.NumberParseException.NOT_A_NUMBER: "this does not look like a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: (
        "the number is too short after the international prefix"
    ),
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "the number is too short",
    phonenumbers.NumberParseException.TOO_LONG: "the number is too long",
}

_POSSIBILITY_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "the country code is not recognised",
    phonenumbers.ValidationResult.TOO_SHORT: "the number is too short",
    phonenumbers.ValidationResult.TOO_LONG: "the number is too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "the number has the wrong number of digits",
}

# phonenumbers' code for numbers that belong to no region (+800 freephone and the like).
_NON_GEOGRAPHIC_REGION = "001"
_UNKNOWN_REGION = "ZZ"


def normalise_phone(*, raw: str, default_region: str | None) -> str:
    """Return ``raw`` as an E.164 number such as ``+447911123456``.

    ``default_region`` (ISO 3166-1 alpha-2, e.g. ``"GB"``) says how to read a number
    written without a ``+`` country code; pass ``None`` to require one. Raises
    :class:`InvalidPhoneNumber` if the text cannot be read as a phone number or the
    number is not a valid one for its region.
    """
    number = _parse_valid(raw, default_region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_valid(raw: str, default_region: str | None) -> phonenumbers.PhoneNumber:
    region = default_region.strip().upper() if default_region else None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        reason = _PARSE_REASONS.get(error.error_type, "this does not look like a phone number")
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            if region is None:
                reason = "the number needs a country code such as +44"
            elif region not in phonenumbers.SUPPORTED_REGIONS:
                reason = f"the number has no country code and {region} is not a known region"
        raise InvalidPhoneNumber(reason) from None
    possibility = phonenumbers.is_possible_number_with_reason(number)
    if possibility in _POSSIBILITY_REASONS:
        raise InvalidPhoneNumber(_POSSIBILITY_REASONS[possibility])
    if not phonenumbers.is_valid_number(number):
        number_region = phonenumbers.region_code_for_country_code(number.country_code or 0)
        raise InvalidPhoneNumber(f"not a valid number for region {number_region}")
    return number


PhoneCheck = tuple[str | None, str | None, tuple[str, ...]]


def normalise_phones(items: Sequence[tuple[str, str | None, bool]]) -> list[PhoneCheck]:
    """Check many ``(raw, default_region, want_zones)`` numbers in one call.

    Return ``(e164, problem, zones)`` for each: exactly one of ``e164`` and
    ``problem`` is ``None``; ``zones`` (sorted) only when asked for, as the zone
    look-up costs as much as the check. Plain tuples in and out, so that it can
    run in a worker process.
    """
    results: list[PhoneCheck] = []
    for raw, region, want_zones in items:
        try:
            number = _parse_valid(raw, region)
        except InvalidPhoneNumber as error:
            results.append((None, str(error), ()))
            continue
        zones = tuple(sorted(timezones.number_time_zones(number))) if want_zones else ()
        results.append(
            (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None, zones)
        )
    return results


def phone_region(e164: str) -> str | None:
    """Return the region (``"GB"``, ``"US"``...) an E.164 number belongs to.

    Returns ``None`` for numbers that belong to no single region, such as +800
    freephone numbers, and for numbers whose region cannot be told. Raises
    :class:`InvalidPhoneNumber` if ``e164`` is not an E.164 number at all.
    """
    if not e164.startswith("+"):
        raise InvalidPhoneNumber("an E.164 number starts with +")
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber("this does not look like a phone number") from None
    region = phonenumbers.region_code_for_number(number)
    if region in {None, _NON_GEOGRAPHIC_REGION, _UNKNOWN_REGION}:
        return None
    return str(region)


class InvalidEmail(ValueError):
    """Signal text that is not a usable email address; ``reason`` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# RFC 5321 caps a forward path at 256 octets including the angle brackets.
_MAX_EMAIL_LENGTH = 254
_MAX_LOCAL_LENGTH = 64
_MAX_LABEL_LENGTH = 63
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", re.ASCII)


def normalise_email(raw: str) -> str:
    """Return ``raw`` trimmed, with its domain in lower case, if it looks like an address.

    The local part keeps its case: mail systems may treat it as case-sensitive. The
    check is syntactic: one ``@``, a non-empty local part without spaces, and a domain of
    two or more valid labels. Internationalised domains are accepted if they convert to
    IDNA. Raises :class:`InvalidEmail` otherwise.
    """
    address = raw.strip()
    if not address:
        raise InvalidEmail("the email address is empty")
    if len(address) > _MAX_EMAIL_LENGTH:
        raise InvalidEmail(f"the email address is longer than {_MAX_EMAIL_LENGTH} characters")
    if any(character.isspace() or not character.isprintable() for character in address):
        raise InvalidEmail("the email address contains spaces or invisible characters")
    if address.count("@") != 1:
        raise InvalidEmail("the email address must contain exactly one @")
    local, domain = address.split("@")
    _check_local_part(local)
    domain = domain.lower()
    _check_domain(domain)
    return f"{local}@{domain}"


def _check_local_part(local: str) -> None:
    if not local:
        raise InvalidEmail("there is nothing before the @")
    if len(local) > _MAX_LOCAL_LENGTH:
        raise InvalidEmail(f"the part before the @ is longer than {_MAX_LOCAL_LENGTH} characters")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidEmail(
            "the part before the @ cannot start or end with a dot or have two in a row"
        )


def _check_domain(domain: str) -> None:
    if not domain:
        raise InvalidEmail("there is no domain after the @")
    labels = domain.split(".")
    if len(labels) < 2:
        raise InvalidEmail("the domain must contain a dot, as in example.com")
    for label in labels:
        if not label:
            raise InvalidEmail("the domain has an empty part between dots")
        _check_label(label)
    if labels[-1].isdigit():
        raise InvalidEmail("the domain must be a name, not an IP address")


def _check_label(label: str) -> None:
    ascii_label = label
    if not label.isascii():
        # Internationalised labels are checked in the ASCII form DNS actually carries.
        try:
            ascii_label = label.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidEmail(f"{label!r} is not a valid part of a domain name") from None
    if len(ascii_label) > _MAX_LABEL_LENGTH or _LABEL.fullmatch(ascii_label) is None:
        raise InvalidEmail(f"{label!r} is not a valid part of a domain name")


@functools.cache
def _country_codes() -> frozenset[str]:
    text = (
        importlib.resources.files("tzdata.zoneinfo")
        .joinpath("iso3166.tab")
        .read_text(encoding="utf-8")
    )
    return frozenset(
        line.split("\t", 1)[0] for line in text.splitlines() if line and not line.startswith("#")
    )


def is_valid_country(code: str) -> bool:
    """Return whether ``code`` is an ISO 3166-1 alpha-2 country code, such as ``"GB"``.

    Codes are upper case, as the standard writes them; ``"gb"`` is not accepted, so that
    only one spelling gets stored.
    """
    return code in _country_codes()
