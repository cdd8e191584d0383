"""Template filters that present Accord's values to people."""

from __future__ import annotations

from django import template

from accord.domain import money

register = template.Library()


@register.filter
def money_amount(value: money.Money) -> str:
    """Show money with digit grouping and its currency's places, e.g. ``278,485.67 EUR``."""
    places = money.minor_units(value.currency)
    return f"{value.amount:,.{places}f} {value.currency}"


@register.filter
def count(value: int) -> str:
    """Show a count with digit grouping, e.g. ``1,502``."""
    return f"{value:,}"
