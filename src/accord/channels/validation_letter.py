"""Lay a Regulation F validation notice out as a letter (model form B-1), English or Spanish.

The notice's content is decided in ``accord.domain.validation_notice``; this module only
words it in the reader's language (``templates/<lang>/validation_notice.html``, both
extending ``_validation_notice_base.html``) and prints it with the letter channel's
WeasyPrint (``letter.render_pdf``). The page follows model form B-1 of Appendix B to
12 CFR 1006: the notice on top, the response form below a cut line (1006.34(c)(4)).
"""

from __future__ import annotations

import datetime
import functools
import re
from html import unescape
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, get_currency_symbol
from django.template import Context, Engine
from django.utils.html import strip_tags

from accord.channels import letter, templates
from accord.domain import money, validation_notice

TEMPLATE = "validation_notice"
CFPB_URL = "www.cfpb.gov/debt-collection"
_BLANK_LINES = re.compile(r"\n\s*\n+")
_SPACES = re.compile(r"[ \t\xa0]+")


def context(notice: validation_notice.ValidationNotice, language: str) -> dict[str, Any]:
    """Return the template values of ``notice`` in ``language``: amounts and dates formatted."""
    lang = templates.resolve_language(language)
    # Regulation F notices go to US consumers: "$2,234.56" in Spanish too, not "2.234,56 US$".
    locale = f"{lang}_US"
    items = notice.itemization

    def fmt(amount: money.Money) -> str:
        return str(format_currency(amount.amount, amount.currency, locale=locale))

    def day(value: datetime.date) -> str:
        return str(format_date(value, format="long", locale=locale))

    return {
        "language": lang,
        "collector": notice.collector,
        "consumer": notice.consumer,
        "creditor": notice.creditor_on_itemization_date,
        "current_creditor": notice.current_creditor,
        # The lead sentence ends with the creditor: "Example Bank N.A." must not end in "..".
        "current_creditor_at_end": notice.current_creditor.rstrip("."),
        "account_number": notice.account_number,
        "reference": notice.reference,
        "letter_date": day(notice.sent_on),
        "itemization_date": day(items.itemization_date),
        "end_date": day(notice.validation_period_end),
        "amount_on_itemization_date": fmt(items.amount_on_itemization_date),
        "interest": fmt(items.interest),
        "fees": fmt(items.fees),
        "payments_and_credits": fmt(items.payments_and_credits),
        "current_amount": fmt(items.current_amount),
        "currency_symbol": get_currency_symbol(notice.currency, locale=locale),
        "cfpb_url": CFPB_URL,
    }


def render(notice: validation_notice.ValidationNotice, language: str) -> templates.RenderedMessage:
    """Return the notice as a letter in ``language`` (English when Accord has no such language).

    ``html`` is the page WeasyPrint prints; ``body`` is the same text without markup, kept
    on the outbox row as what the consumer received; ``subject`` is the notice's title.
    """
    values = context(notice, language)
    html = (
        _engine()
        .get_template(f"{values['language']}/{TEMPLATE}.html")
        .render(Context(values, autoescape=True))
    )
    title = re.search(r"<title>(.*?)</title>", html, re.DOTALL)
    return templates.RenderedMessage(
        subject=title.group(1).strip() if title else TEMPLATE,
        body=plain_text(html),
        html=html,
    )


def render_pdf(notice: validation_notice.ValidationNotice, language: str) -> bytes:
    """Return the notice printed to PDF in ``language``."""
    return letter.render_pdf(render(notice, language).html)


def plain_text(html: str) -> str:
    """Return the visible text of a rendered notice, one block per line."""
    body = html.split("<body>", 1)[-1]
    body = re.sub(r'(<span class="label">[^<]*)</span>', "\\1\n", body)
    body = re.sub(r"<(br|/p|/li|/h2|/th|/tr|/div|/dd|/dt|/section)\b[^>]*>", "\n", body)
    text = strip_tags(body)
    lines = [_SPACES.sub(" ", line).strip() for line in unescape(text).splitlines()]
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


@functools.cache
def _engine() -> Engine:
    return Engine(dirs=[str(templates.TEMPLATE_DIR)], autoescape=True, debug=False)
