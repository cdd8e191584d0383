"""Render customer messages from the templates under ``channels/templates/<lang>/``.

Each message template is a small set of files per language:

- ``<template>.email.txt``: the subject on the first line, a blank line, then the body;
- ``<template>.sms.txt``: the SMS text;
- ``<template>.letter.txt``: the letter's title on the first line, a blank line, then its
  paragraphs.

Shared layouts wrap them, so that every message carries the same help and opt-out
lines: ``_footer.email.txt`` / ``_footer.sms.txt`` are appended to every email and SMS
(how to get help and how to stop messages on that channel), ``_email.html`` turns an
email into its HTML alternative, and ``_letter.html`` lays a letter out on Accord's
letterhead for WeasyPrint. Languages other than those with a folder fall back to English.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency
from django.conf import settings
from django.template import Context, Engine
from django.template.exceptions import TemplateDoesNotExist
from django.utils.html import escape, urlize
from django.utils.safestring import SafeString, mark_safe

from accord.channels.message import Channel
from accord.domain.money import Money

TEMPLATE_DIR = Path(__file__).parent / "templates"
DEFAULT_LANGUAGE = "en"


class UnknownTemplate(LookupError):
    """No such message template exists for that channel (in any language)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class RenderedMessage:
    """Hold a rendered message: the subject, the plain text and the HTML."""

    subject: str
    body: str
    html: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Organisation:
    """Name who is writing and how customers reach them (letterhead, help, payment)."""

    name: str = "Accord Collections"
    phone: str = "+1 555 0100"
    help_email: str = "help@accord.invalid"
    hours: str = "08:00-20:00"
    address: tuple[str, ...] = ("100 Example Street", "Springfield 01234")
    bank_name: str = "Example Bank"
    bank_account: str = "GB00 EXAM 0000 0000 0000 00"


ORGANISATION = Organisation()

MESSAGE_TEMPLATES = (
    "pre_due_reminder",
    "late_notice",
    "promise_request",
    "promise_confirmation",
    "plan_confirmation",
    "plan_offer",
    "hardship_review",
    "portal_code",
)


def render(
    template: str,
    language: str,
    context: Mapping[str, Any],
    *,
    channel: Channel | str = Channel.EMAIL,
) -> RenderedMessage:
    """Render ``template`` for ``channel`` in ``language`` (English when it has none).

    ``context`` holds the values the template names (see docs/channels.md); Accord's
    organisation details are available as ``org`` and the portal link as ``portal_url``
    unless the context gives them. Raises ``UnknownTemplate``.
    """
    lang = resolve_language(language)
    values = {"org": ORGANISATION, "language": lang, "portal_url": portal_url(), **context}
    kind = Channel(str(channel))
    source = _render_text(f"{lang}/{template}.{kind.lower()}.txt", values)
    if kind is Channel.SMS:
        footer = _render_text(f"{lang}/_footer.sms.txt", values)
        return RenderedMessage(subject="", body=_join(source, footer, sep=" "), html="")
    subject, _, text = source.partition("\n")
    text = text.strip()
    if kind is Channel.EMAIL:
        footer = _render_text(f"{lang}/_footer.email.txt", values)
        html = (
            _html_engine()
            .get_template(f"{lang}/_email.html")
            .render(_html_context(values, subject=subject, text=text, footer=footer))
        )
        return RenderedMessage(subject=subject.strip(), body=_join(text, footer), html=html)
    html = (
        _html_engine()
        .get_template(f"{lang}/_letter.html")
        .render(_html_context(values, subject=subject, text=text, footer=""))
    )
    return RenderedMessage(subject=subject.strip(), body=text, html=html)


def resolve_language(language: str) -> str:
    """Return the template language for ``language`` ("es-MX" -> "es"; unknown -> "en")."""
    base = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return base if base in available_languages() else DEFAULT_LANGUAGE


@functools.cache
def available_languages() -> frozenset[str]:
    """Return the languages that have a template folder."""
    return frozenset(p.name for p in TEMPLATE_DIR.iterdir() if p.is_dir())


def portal_url() -> str:
    """Return the customer portal's address (``ACCORD_PUBLIC_URL`` + ``/portal/``)."""
    return f"{settings.ENV.public_url}/portal/"


def format_money(amount: Money, language: str) -> str:
    """Format ``amount`` the way a reader of ``language`` expects ("€1,234.50", "1.234,50 €")."""
    return str(format_currency(amount.amount, amount.currency, locale=resolve_language(language)))


def format_day(day: date, language: str) -> str:
    """Format ``day`` in full words for ``language`` ("12 March 2026", "12 de marzo de 2026")."""
    return str(babel_format_date(day, format="long", locale=resolve_language(language)))


def _join(*parts: str, sep: str = "\n\n") -> str:
    return sep.join(part.strip() for part in parts if part.strip())


def _render_text(name: str, values: Mapping[str, Any]) -> str:
    try:
        template = _text_engine().get_template(name)
    except TemplateDoesNotExist:
        raise UnknownTemplate(f"no message template {name}") from None
    return template.render(Context(dict(values), autoescape=False)).strip()


def _paragraphs(text: str) -> list[SafeString]:
    # Escaped first, then links made clickable; line breaks inside a paragraph are kept.
    return [
        mark_safe(urlize(escape(block.strip()), autoescape=False).replace("\n", "<br>"))  # noqa: S308
        for block in text.split("\n\n")
        if block.strip()
    ]


def _html_context(values: Mapping[str, Any], *, subject: str, text: str, footer: str) -> Context:
    return Context(
        {
            **values,
            "subject": subject.strip(),
            "paragraphs": _paragraphs(text),
            "footer_paragraphs": _paragraphs(footer),
        },
        autoescape=True,
    )


@functools.cache
def _text_engine() -> Engine:
    return Engine(dirs=[str(TEMPLATE_DIR)], autoescape=False, debug=False)


@functools.cache
def _html_engine() -> Engine:
    return Engine(dirs=[str(TEMPLATE_DIR)], autoescape=True, debug=False)
