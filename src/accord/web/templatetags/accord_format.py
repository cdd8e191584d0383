"""Template filters that present Accord's values to people."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accord.analytics.why import reason_label
from accord.domain import money
from accord.domain.compliance import CITATIONS

register = template.Library()

_CITATIONS = {str(code): rule for code, rule in CITATIONS.items()}


@register.filter
def money_amount(value: money.Money) -> str:
    """Show money with digit grouping and its currency's places, e.g. ``278,485.67 EUR``."""
    places = money.minor_units(value.currency)
    return f"{value.amount:,.{places}f} {value.currency}"


@register.filter
def count(value: int) -> str:
    """Show a count with digit grouping, e.g. ``1,502``."""
    return f"{value:,}"


@register.filter
def share(value: Decimal | None) -> str:
    """Show a share between 0 and 1 as a percentage to one decimal place, e.g. ``50.0%``."""
    if value is None:
        return "\N{EM DASH}"
    return f"{(value * 100).quantize(Decimal('0.1'))}%"


def zone_name(moment: datetime.datetime) -> str:
    """Name the zone of an aware datetime: its abbreviation (``CET``), else ``UTC+05:45``."""
    name = moment.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = moment.utcoffset() or datetime.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "\N{MINUS SIGN}"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


@register.filter
def operator_time(value: datetime.datetime | None, precision: str = "minutes") -> SafeString:
    """Show an instant in the operator's time zone with the zone named, in a ``<time>``.

    ``2026-11-25 14:00 CET``; the zone's full name (``Europe/Madrid``) is its title.
    ``precision`` "seconds" adds the seconds.
    """
    if value is None:
        return SafeString("")
    local = timezone.localtime(value)
    shown = local.strftime("%Y-%m-%d %H:%M:%S" if precision == "seconds" else "%Y-%m-%d %H:%M")
    return format_html(
        '<time datetime="{}" title="{}">{}&nbsp;{}</time>',
        local.isoformat(),
        timezone.get_current_timezone_name(),
        shown,
        zone_name(local),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class PolicyReason:
    """One reason the contact policy gave: its code, in words, its rule and its own message."""

    code: str
    label: str
    rule: str
    message: str


@register.filter
def policy_reasons(stored: Iterable[object] | None) -> list[PolicyReason]:
    """Word the reasons stored on an outbox row, whether bare codes or the policy's records."""
    reasons = []
    for item in stored or ():
        record = item if isinstance(item, dict) else {"code": item}
        code = str(record.get("code", ""))
        reasons.append(
            PolicyReason(
                code=code,
                label=reason_label(code),
                rule=str(record.get("rule") or _CITATIONS.get(code, "")),
                message=str(record.get("message") or ""),
            )
        )
    return reasons
