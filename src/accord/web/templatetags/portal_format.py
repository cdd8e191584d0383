"""Template filters for the customer portal: money and dates the way the reader writes them."""

from __future__ import annotations

import datetime

from django import template
from django.utils import translation

from accord.channels import templates as message_templates
from accord.domain import money

register = template.Library()


@register.filter
def local_money(value: money.Money) -> str:
    """Show money as readers of the active language expect ("£1,234.50", "1234,50 €")."""
    return message_templates.format_money(value, translation.get_language() or "en")


@register.filter
def local_day(value: datetime.date) -> str:
    """Show a date in words in the active language ("12 March 2026", "12 de marzo de 2026")."""
    return message_templates.format_day(value, translation.get_language() or "en")
