"""Represent amounts of money exactly, in one currency at a time.

Amounts are :class:`decimal.Decimal`, never ``float``: a collections platform must be
able to say, to the cent, what a customer owes and why. Arithmetic runs in a private
decimal context that traps inexact results, so an amount is never silently rounded;
rounding happens only when :meth:`Money.quantize` is asked for it, with a named mode.
"""

from __future__ import annotations

import dataclasses
import decimal
import enum
import re
from collections.abc import Iterable, Mapping
from typing import Self

# ISO 4217 minor-unit exponents: how many decimal places an amount in the currency has.
_MINOR_UNITS: Mapping[str, int] = {
    "AED": 2,
    "ARS": 2,
    "AUD": 2,
    "BHD": 3,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CLP": 0,
    "CNY": 2,
    "COP": 2,
    "CZK": 2,
    "DKK": 2,
    "EGP": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "ILS": 2,
    "INR": 2,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KES": 2,
    "KRW": 0,
    "KWD": 3,
    "MAD": 2,
    "MXN": 2,
    "MYR": 2,
    "NGN": 2,
    "NOK": 2,
    "NZD": 2,
    "OMR": 3,
    "PEN": 2,
    "PHP": 2,
    "PKR": 2,
    "PLN": 2,
    "PYG": 0,
    "RON": 2,
    "SAR": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TND": 3,
    "TRY": 2,
    "TWD": 2,
    "UAH": 2,
    "UGX": 0,
    "USD": 2,
    "UYU": 2,
    "VND": 0,
    "XAF": 0,
    "XOF": 0,
    "ZAR": 2,
}

# Amounts above this many major units are refused on input: no consumer debt is that
# large, so such a value is a data error (a misplaced column, a pasted account number).
MAX_PARSED_MAJOR_UNITS = 10**15

# Precision far above any real amount, so that addition never needs to round; the
# Inexact trap turns any rounding that would still happen into an error.
_EXACT = decimal.Context(
    prec=60,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow, decimal.Inexact],
)
# Quantizing rounds by design, so it uses a context without the Inexact trap.
_ROUNDING = decimal.Context(
    prec=60,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


class Rounding(enum.StrEnum):
    """Name a rounding mode; each value is the matching :mod:`decimal` constant."""

    HALF_EVEN = decimal.ROUND_HALF_EVEN
    HALF_UP = decimal.ROUND_HALF_UP
    HALF_DOWN = decimal.ROUND_HALF_DOWN
    UP = decimal.ROUND_UP
    DOWN = decimal.ROUND_DOWN
    CEILING = decimal.ROUND_CEILING
    FLOOR = decimal.ROUND_FLOOR


# Bankers' rounding: halves go to the even neighbour, so rounding errors do not drift
# one way over many amounts. It is the default wherever a rounding mode is optional.
ROUND_HALF_EVEN = Rounding.HALF_EVEN
# Schoolbook rounding, which some contracts and regulators require for interest and fees.
ROUND_HALF_UP = Rounding.HALF_UP


class UnknownCurrency(ValueError):
    """Signal a currency code this module has no minor-unit exponent for."""

    def __init__(self, code: str) -> None:
        super().__init__(f"unknown currency {code!r}")
        self.code = code


def is_known_currency(code: str) -> bool:
    """Return whether ``code`` is a supported ISO 4217 code (upper case, e.g. ``"EUR"``)."""
    return code in _MINOR_UNITS


def minor_units(currency: str) -> int:
    """Return how many decimal places amounts in ``currency`` carry (``2`` for USD).

    Raises :class:`UnknownCurrency` for codes outside the supported list; codes are
    case-sensitive, as ISO 4217 writes them in upper case.
    """
    try:
        return _MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrency(currency) from None


def known_currencies() -> frozenset[str]:
    """Return every supported currency code."""
    return frozenset(_MINOR_UNITS)


class CurrencyMismatch(ValueError):
    """Signal an operation that would mix amounts in different currencies."""

    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot combine {left} with {right}")
        self.left = left
        self.right = right


class PrecisionLoss(ValueError):
    """Signal an amount that cannot be expressed in whole minor units of its currency."""


@dataclasses.dataclass(frozen=True, slots=True)
class Money:
    """Hold an exact amount in one currency.

    The amount may carry more decimal places than the currency has (an interest accrual,
    say); :meth:`quantize` rounds it to the currency's minor units when that is wanted.
    Amounts compare by value, so ``Money(Decimal("1.5"), "USD")`` equals
    ``Money(Decimal("1.50"), "USD")``.
    """

    amount: decimal.Decimal
    currency: str

    def __post_init__(self) -> None:
        # A float has already lost the exact value, so refuse it rather than guess.
        if isinstance(self.amount, float):
            raise TypeError("Money amounts must be Decimal, not float")
        if not isinstance(self.amount, decimal.Decimal):
            raise TypeError(f"Money amounts must be Decimal, not {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise ValueError(f"Money amounts must be finite, not {self.amount}")
        minor_units(self.currency)
        # Normalise negative zero so that zero always prints and hashes the same way.
        if self.amount.is_zero() and self.amount.is_signed():
            object.__setattr__(self, "amount", self.amount.copy_abs())

    @classmethod
    def zero(cls, currency: str) -> Self:
        """Return a zero amount in ``currency``."""
        return cls(decimal.Decimal(0), currency)

    @classmethod
    def from_minor_units(cls, units: int, currency: str) -> Self:
        """Return the amount that is ``units`` minor units (cents, pence...) of ``currency``."""
        if isinstance(units, bool) or not isinstance(units, int):
            raise TypeError(f"minor units must be int, not {type(units).__name__}")
        return cls(decimal.Decimal(units).scaleb(-minor_units(currency), _EXACT), currency)

    def to_minor_units(self) -> int:
        """Return the amount as a whole number of minor units (``12.34 USD`` is ``1234``).

        Raises :class:`PrecisionLoss` if the amount has a fraction of a minor unit; the
        check is on the value, so ``1.500 USD`` converts but ``1.005 USD`` does not.
        """
        scaled = self.amount.scaleb(minor_units(self.currency), _EXACT)
        if scaled != scaled.to_integral_value(context=_EXACT):
            raise PrecisionLoss(f"{self} has a fraction of a minor unit of {self.currency}")
        return int(scaled)

    def quantize(self, *, rounding: Rounding = ROUND_HALF_EVEN) -> Money:
        """Return the amount rounded to the currency's minor units with ``rounding``."""
        exponent = decimal.Decimal(1).scaleb(-minor_units(self.currency), _EXACT)
        rounded = self.amount.quantize(
            exponent, rounding=Rounding(rounding).value, context=_ROUNDING
        )
        return Money(rounded, self.currency)

    def is_zero(self) -> bool:
        """Return whether the amount is zero."""
        return self.amount.is_zero()

    def is_positive(self) -> bool:
        """Return whether the amount is greater than zero."""
        return self.amount > 0

    def is_negative(self) -> bool:
        """Return whether the amount is less than zero."""
        return self.amount < 0

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(_EXACT.add(self.amount, other.amount), self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(_EXACT.subtract(self.amount, other.amount), self.currency)

    def __neg__(self) -> Money:
        return Money(_EXACT.minus(self.amount), self.currency)

    def __abs__(self) -> Money:
        return Money(_EXACT.abs(self.amount), self.currency)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount >= other.amount

    def __str__(self) -> str:
        # The "f" format never switches to exponent notation, unlike str(Decimal).
        return f"{self.amount:f} {self.currency}"


def sum_amounts(amounts: Iterable[Money], *, currency: str) -> Money:
    """Return the sum of ``amounts``, which must all be in ``currency`` (zero if empty)."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result


class InvalidAmount(ValueError):
    """Signal text that is not an acceptable amount; ``reason`` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# An optional minus sign, ASCII digits, and optionally a point followed by more digits.
# Separators, exponents, signs other than "-" and non-ASCII digits are all refused, so
# that "1,234" (a thousands separator or a decimal comma?) is never guessed at.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.([0-9]+))?", re.ASCII)
# Longer than any real amount needs; checked first so huge inputs are cheap to reject.
_MAX_AMOUNT_TEXT = 40


def parse_amount(text: str, currency: str) -> Money:
    """Read a plain decimal amount such as ``"1234.56"``, ``"-5"`` or ``"0.5"``.

    Surrounding whitespace is ignored. Raises :class:`InvalidAmount` for empty text,
    thousands separators, exponents, NaN or infinity, more significant decimal places
    than the currency has (trailing zeros are fine), and magnitudes of 10**15 major
    units or more; raises
    :class:`UnknownCurrency` for an unsupported currency.
    """
    places = minor_units(currency)
    stripped = text.strip()
    if not stripped:
        raise InvalidAmount("the amount is empty")
    if len(stripped) > _MAX_AMOUNT_TEXT:
        raise InvalidAmount(f"the amount is longer than {_MAX_AMOUNT_TEXT} characters")
    match = _PLAIN_DECIMAL.fullmatch(stripped)
    if match is None:
        raise InvalidAmount(_describe_malformed(stripped))
    # Trailing zeros carry no value: "120.5000" from a NUMERIC(18,4) export is 120.50 EUR.
    fraction = (match.group(1) or "").rstrip("0")
    if len(fraction) > places:
        raise InvalidAmount(
            f"{currency} amounts have at most {places} decimal places, "
            f"but {stripped!r} has {len(fraction)}"
        )
    amount = decimal.Decimal(stripped)
    if abs(amount) >= MAX_PARSED_MAJOR_UNITS:
        raise InvalidAmount(f"the amount must be less than {MAX_PARSED_MAJOR_UNITS:,} {currency}")
    return Money(amount.quantize(decimal.Decimal(1).scaleb(-places)), currency)


def _describe_malformed(text: str) -> str:
    lowered = text.lower()
    if lowered.lstrip("+-") in {"nan", "snan", "inf", "infinity"}:
        return "the amount must be a finite number"
    if "," in text or "_" in text or "'" in text or " " in text:
        return "write the amount without thousands separators, e.g. 1234.56"
    if "e" in lowered:
        return "write the amount without an exponent, e.g. 1500 rather than 1.5e3"
    if text.startswith("+"):
        return "write a positive amount without a plus sign"
    return f"{text!r} is not a plain decimal number such as 1234.56"


def allocate(total: Money, *, parts: int) -> list[Money]:
    """Split ``total`` into ``parts`` amounts that differ by at most one minor unit.

    The parts always add up to ``total`` exactly; leftover minor units go to the first
    parts, so ``10.00`` in three parts is ``3.34, 3.33, 3.33``. A negative total splits
    the same way with every part negative. Raises :class:`PrecisionLoss` if ``total``
    has a fraction of a minor unit.
    """
    if isinstance(parts, bool) or not isinstance(parts, int):
        raise TypeError(f"parts must be int, not {type(parts).__name__}")
    if parts < 1:
        raise ValueError(f"cannot allocate into {parts} parts")
    units = total.to_minor_units()
    sign = -1 if units < 0 else 1
    share, leftover = divmod(abs(units), parts)
    return [
        Money.from_minor_units(sign * (share + (1 if index < leftover else 0)), total.currency)
        for index in range(parts)
    ]
