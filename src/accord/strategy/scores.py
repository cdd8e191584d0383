"""Score every account's risk of default and collectability, 0-100, in whole numbers.

Both scores are transparent formulas (docs/strategy.md), not a fitted model: a manager can
read why an account scored what it did, and every engine computes the same number. With
``D`` days past due, ``A`` arrears, ``B`` balance and ``P`` the payments received in the
:data:`PAYMENT_WINDOW_DAYS` days ending on the as-of date (all in minor units)::

    risk = 40*min(D,180)//180 + (A>0 ? 30*(A-min(P,A))//A : 0) + (B>0 ? 30*min(max(A,0),B)//B : 0)
    collectability = (A>0 ? 50*min(P,A)//A : 50) + 10*has_email + 10*has_phone
                     + 10*has_address + 20*(365-min(D,365))//365

``//`` divides non-negative whole numbers rounding down. The engines compute it as
``(n - n % d) / d``: the numerator is then an exact multiple of the divisor, so integer
division (PostgreSQL) and floating-point division (DuckDB, Spark) give the same whole number.
"""

from __future__ import annotations

import ibis
from ibis.expr import types as ir

# P counts the payments received in the days (as_of - 90, as_of].
PAYMENT_WINDOW_DAYS = 90
RISK_DPD_CAP = 180
COLLECTABILITY_DPD_CAP = 365


def risk(*, days_past_due: int, arrears_minor: int, balance_minor: int, paid_minor: int) -> int:
    """Return the risk score of one account (``paid_minor``: payments in the window)."""
    d, a, b, p = days_past_due, arrears_minor, balance_minor, paid_minor
    score = 40 * min(d, RISK_DPD_CAP) // RISK_DPD_CAP
    if a > 0:
        score += 30 * (a - min(p, a)) // a
    if b > 0:
        score += 30 * min(max(a, 0), b) // b
    return score


def collectability(
    *,
    days_past_due: int,
    arrears_minor: int,
    paid_minor: int,
    has_email: bool,
    has_phone: bool,
    has_address: bool,
) -> int:
    """Return the collectability score of one account (``paid_minor``: payments in the window)."""
    d, a, p = days_past_due, arrears_minor, paid_minor
    score = 50 * min(p, a) // a if a > 0 else 50
    score += 10 * has_email + 10 * has_phone + 10 * has_address
    return score + 20 * (COLLECTABILITY_DPD_CAP - min(d, COLLECTABILITY_DPD_CAP)) // (
        COLLECTABILITY_DPD_CAP
    )


def floor_divide(numerator: ir.IntegerValue, divisor: ir.IntegerValue | int) -> ir.IntegerValue:
    """Return ``numerator // divisor`` for non-negative whole numbers, exactly on every engine."""
    whole = numerator - numerator % divisor
    return (whole / divisor).round().cast("int64")


def _int(value: int) -> ir.IntegerValue:
    return ibis.literal(value, type="int64")


def risk_expression(
    *,
    days_past_due: ir.IntegerValue,
    arrears_minor: ir.IntegerValue,
    balance_minor: ir.IntegerValue,
    paid_minor: ir.IntegerValue,
) -> ir.IntegerValue:
    """Return :func:`risk` as an Ibis expression."""
    d, a, b, p = days_past_due, arrears_minor, balance_minor, paid_minor
    dpd_part = floor_divide(_int(40) * ibis.least(d, _int(RISK_DPD_CAP)), RISK_DPD_CAP)
    # nullif keeps engines that evaluate both branches (or fail on /0) away from a zero divisor.
    a_safe = a.nullif(0)
    b_safe = b.nullif(0)
    unpaid_part = ibis.ifelse(
        a > 0, floor_divide(_int(30) * (a - ibis.least(p, a)), a_safe), _int(0)
    )
    arrears_part = ibis.ifelse(
        b > 0, floor_divide(_int(30) * ibis.least(ibis.greatest(a, _int(0)), b), b_safe), _int(0)
    )
    return (dpd_part + unpaid_part + arrears_part).cast("int64")


def collectability_expression(
    *,
    days_past_due: ir.IntegerValue,
    arrears_minor: ir.IntegerValue,
    paid_minor: ir.IntegerValue,
    has_email: ir.BooleanValue,
    has_phone: ir.BooleanValue,
    has_address: ir.BooleanValue,
) -> ir.IntegerValue:
    """Return :func:`collectability` as an Ibis expression."""
    d, a, p = days_past_due, arrears_minor, paid_minor
    paying = ibis.ifelse(a > 0, floor_divide(_int(50) * ibis.least(p, a), a.nullif(0)), _int(50))
    reach = sum(
        (ibis.ifelse(flag, _int(10), _int(0)) for flag in (has_email, has_phone, has_address)),
        start=_int(0),
    )
    fresh = floor_divide(
        _int(20) * (_int(COLLECTABILITY_DPD_CAP) - ibis.least(d, _int(COLLECTABILITY_DPD_CAP))),
        COLLECTABILITY_DPD_CAP,
    )
    return (paying + reach + fresh).cast("int64")
