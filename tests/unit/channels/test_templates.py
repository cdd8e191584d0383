"""Message templates: every one in English and Spanish, each carrying help and opt-out lines."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from accord.channels import templates
from accord.channels.message import Channel
from accord.domain.money import Money

CONTEXT = {
    "customer_name": "Ana García",
    "reference": "A-1",
    "amount": "€250.50",
    "balance": "€900.00",
    "due_date": "30 March 2026",
    "days_past_due": 12,
    "total": "€300.00",
    "instalment_count": 3,
    "instalments": [{"number": 1, "amount": "€100.00", "due_date": "1 April 2026"}],
    "code": "123456",
    "expires_minutes": 10,
    "address_lines": ["Calle Mayor 1", "28013 Madrid"],
    "letter_date": "18 March 2026",
}
OPT_OUT = {
    ("en", Channel.EMAIL): "stop emails from us",
    ("es", Channel.EMAIL): "dejar de recibir nuestros correos",
    ("en", Channel.SMS): "To stop texts",
    ("es", Channel.SMS): "Para no recibir más SMS",
}
# Words a respectful collections message never uses (no threats, no pressure).
THREATS = re.compile(
    r"\b(court|lawsuit|sue|arrest|police|bailiff|demanda judicial|embargo)\b", re.I
)

ELECTRONIC = [
    (template, language, channel)
    for template in templates.MESSAGE_TEMPLATES
    for language in ("en", "es")
    for channel in (Channel.EMAIL, Channel.SMS)
]
LETTERS = [
    (template, language)
    for template in templates.MESSAGE_TEMPLATES
    if template != "portal_code"
    for language in ("en", "es")
]


@pytest.mark.parametrize(("template", "language", "channel"), ELECTRONIC)
def test_every_electronic_message_says_how_to_opt_out_and_get_help(
    template: str, language: str, channel: Channel
) -> None:
    rendered = templates.render(template, language, CONTEXT, channel=channel)
    assert OPT_OUT[(language, channel)] in rendered.body
    assert "+1 555 0100" in rendered.body
    assert not THREATS.search(rendered.body)
    if channel is Channel.EMAIL:
        assert rendered.subject
        assert "\n" not in rendered.subject
        assert OPT_OUT[(language, channel)] in rendered.html


@pytest.mark.parametrize(("template", "language"), LETTERS)
def test_every_letter_has_the_address_reference_and_how_to_pay_and_get_help(
    template: str, language: str
) -> None:
    html = templates.render(template, language, CONTEXT, channel=Channel.LETTER).html
    assert "Calle Mayor 1" in html
    assert "A-1" in html
    pay, help_ = (
        ("How to pay", "How to get help")
        if language == "en"
        else (
            "Cómo pagar",
            "Cómo obtener ayuda",
        )
    )
    assert pay in html
    assert help_ in html


def test_a_spanish_customer_gets_the_spanish_text() -> None:
    rendered = templates.render("late_notice", "es", CONTEXT)
    assert rendered.subject == "Su cuenta A-1: €250.50 pendiente de pago"
    assert rendered.body.startswith("Estimado/a Ana García:")


@pytest.mark.parametrize(("language", "expected"), [("es-MX", "es"), ("fr", "en"), ("", "en")])
def test_a_regional_or_unknown_language_resolves_to_a_template_language(
    language: str, expected: str
) -> None:
    assert templates.resolve_language(language) == expected


def test_text_from_the_context_is_escaped_in_the_html_but_kept_in_the_text() -> None:
    rendered = templates.render("late_notice", "en", {**CONTEXT, "customer_name": "<b>Bo</b>"})
    assert "Dear <b>Bo</b>," in rendered.body
    assert "<b>Bo</b>" not in rendered.html
    assert "&lt;b&gt;Bo&lt;/b&gt;" in rendered.html


def test_an_unknown_template_is_refused() -> None:
    with pytest.raises(templates.UnknownTemplate):
        templates.render("final_demand", "en", CONTEXT)


def test_amounts_and_dates_are_written_the_way_each_language_writes_them() -> None:
    amount = Money(Decimal("1234.5"), "EUR")
    assert templates.format_money(amount, "en") == "€1,234.50"
    assert templates.format_money(amount, "es") == "1.234,50\xa0€"
