"""The validation notice prints as a one-page PDF with every element 12 CFR 1006.34 requires."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import io
import re

import pypdf
import pytest

from accord.channels import validation_letter
from accord.domain import money
from accord.domain import validation_notice as vn


def usd(text: str) -> money.Money:
    return money.Money(decimal.Decimal(text), "USD")


NOTICE = vn.build(
    collector=vn.Collector(
        name="Northwind Services LLC",
        address=("PO Box 1234", "Springfield, IL 62701"),
        phone="(555) 555-0100",
        hours="Mon-Fri 8 a.m.-8 p.m. CT",
        email="disputes@northwind.invalid",
    ),
    consumer=vn.Party(name="Ana García", address=("1 Main Street", "Chicago, IL 60601")),
    creditor_on_itemization_date="Example Bank",
    current_creditor="Example Bank",
    account_number="4111222233334444",
    reference="C-ANA-1",
    itemization=vn.Itemization(
        itemization_date=datetime.date(2026, 1, 2),
        kind=vn.ItemizationDateKind.LAST_STATEMENT,
        amount_on_itemization_date=usd("2234.56"),
        interest=usd("75.00"),
        fees=usd("25.00"),
        payments=usd("40.00"),
        credits=usd("10.00"),
        current_amount=usd("2284.56"),
    ),
    sent_on=datetime.date(2026, 5, 4),
)

COMMON = [
    # 1006.34(c)(2)(ii), (iii): the collector's and the consumer's names and mailing addresses
    "Northwind Services LLC",
    "PO Box 1234",
    "Springfield, IL 62701",
    "Ana García",
    "1 Main Street",
    "Chicago, IL 60601",
    # (c)(2)(v): the account number, truncated; never the whole number
    "****4444",
    # (c)(2)(vii)-(x): itemization, in US dollars
    "$2,234.56",
    "+ $75.00",
    "+ $25.00",
    "\u2212 $50.00",
    "$2,284.56",
    # (c)(3)(iv), (v): electronic disputes and the CFPB's website
    "disputes@northwind.invalid",
    "www.cfpb.gov/debt-collection",
    # (c)(4): the reference for the reply
    "C-ANA-1",
]

REQUIRED = {
    "en": [
        # 1006.34(c)(2)(i), 1006.18(e)(1): from a debt collector, attempting to collect a debt
        "Northwind Services LLC is a debt collector.",
        "We are trying to collect a debt that you owe to Example Bank.",
        "We will use any information you give us to help collect the debt.",
        # (c)(2)(iv), (vi): the creditor on the itemization date
        "You had an account from Example Bank with account number ****4444.",
        # (c)(2)(vii)-(x)
        "As of January 2, 2026, you owed: $2,234.56",
        "Between January 2, 2026 and today:",
        "You were charged this amount in interest: + $75.00",
        "You were charged this amount in fees: + $25.00",
        "You paid or were credited this amount toward the debt: \u2212 $50.00",
        "Total amount of the debt now: $2,284.56",
        # (c)(3)(i), (iii): the end date, the dispute statement, the assumed-valid statement
        "Call or write to us by June 10, 2026, to dispute all or part of the debt.",
        "If you do not, we will assume that our information is correct.",
        "If you write to us by June 10, 2026, we must stop collection on any amount you "
        "dispute until we send you information that shows you owe the debt.",
        # (c)(3)(ii): the original creditor
        "Write to ask for the name and address of the original creditor, if different from "
        "the current creditor. If you write by June 10, 2026, we must stop collection until "
        "we send you that information.",
        # (c)(4): the response form
        "How do you want to respond?",
        "I want to dispute the debt because I think:",
        "This is not my debt.",
        "The amount is wrong.",
        "Other (please describe on reverse or attach additional information).",
        "I want you to send me the name and address of the original creditor.",
        "I enclosed this amount:",
        "Mail this form to: Northwind Services LLC PO Box 1234 Springfield, IL 62701",
    ],
    "es": [
        "Northwind Services LLC es un cobrador de deudas.",
        "Estamos tratando de cobrar una deuda que usted le debe a Example Bank.",
        "Usaremos cualquier información que usted nos dé para ayudar a cobrar la deuda.",
        "Usted tenía una cuenta de Example Bank con el número de cuenta ****4444.",
        "Al 2 de enero de 2026, usted debía: $2,234.56",
        "Entre el 2 de enero de 2026 y hoy:",
        "Se le cobró esta cantidad en intereses: + $75.00",
        "Se le cobró esta cantidad en cargos: + $25.00",
        "Usted pagó o se le acreditó esta cantidad a la deuda: \u2212 $50.00",
        "Cantidad total de la deuda ahora: $2,284.56",
        "Llámenos o escríbanos a más tardar el 10 de junio de 2026 para disputar toda la "
        "deuda o parte de ella.",
        "Si no lo hace, supondremos que nuestra información es correcta.",
        "Si nos escribe a más tardar el 10 de junio de 2026, debemos dejar de cobrar "
        "cualquier cantidad que usted dispute hasta que le enviemos información que "
        "demuestre que usted debe la deuda.",
        "Escríbanos para pedir el nombre y la dirección del acreedor original, si es "
        "diferente del acreedor actual. Si nos escribe a más tardar el 10 de junio de 2026, "
        "debemos dejar de cobrar hasta que le enviemos esa información.",
        "¿Cómo quiere responder?",
        "Quiero disputar la deuda porque creo que:",
        "Esta no es mi deuda.",
        "La cantidad es incorrecta.",
        "Otro (describa en el reverso o adjunte información adicional).",
        "Quiero que me envíen el nombre y la dirección del acreedor original.",
        "Adjunté esta cantidad:",
        "Envíe este formulario por correo a: Northwind Services LLC PO Box 1234 "
        "Springfield, IL 62701",
    ],
}


def pdf_text(pdf: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module", params=["en", "es"])
def printed(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    language: str = request.param
    return language, validation_letter.render_pdf(NOTICE, language)


class TestValidationNoticePdf:
    def test_is_a_real_one_page_pdf(self, printed: tuple[str, bytes]) -> None:
        """Model form B-1 (12 CFR 1006, Appendix B) fits the notice and form on one page."""
        _, pdf = printed
        assert pdf.startswith(b"%PDF")
        pages, _ = pdf_text(pdf)
        assert pages == 1

    def test_holds_every_element_1006_34_c_requires(self, printed: tuple[str, bytes]) -> None:
        """12 CFR 1006.34(c)(1)-(c)(4) and 1006.18(e), in the reader's language."""
        language, pdf = printed
        _, text = pdf_text(pdf)
        missing = [phrase for phrase in [*COMMON, *REQUIRED[language]] if phrase not in text]
        assert missing == []

    def test_never_prints_the_whole_account_number(self, printed: tuple[str, bytes]) -> None:
        """12 CFR 1006.34(c)(2)(v): a truncated version of the account number."""
        _, pdf = printed
        assert "4111222233334444" not in pdf_text(pdf)[1]


class TestRender:
    def test_keeps_the_text_as_sent_without_markup(self) -> None:
        rendered = validation_letter.render(NOTICE, "en")
        assert rendered.subject == "Validation notice"
        assert "<" not in rendered.body
        assert "Total amount of the debt now:\n$2,284.56" in rendered.body

    def test_ends_the_lead_sentence_once_after_a_creditor_name_with_a_full_stop(self) -> None:
        notice = dataclasses.replace(NOTICE, current_creditor="Example Bank, N.A.")
        body = validation_letter.render(notice, "en").body
        assert "a debt that you owe to Example Bank, N.A. We will use" in body

    def test_falls_back_to_english_for_a_language_without_a_notice(self) -> None:
        assert validation_letter.render(NOTICE, "fr").subject == "Validation notice"

    def test_escapes_names_it_prints(self) -> None:
        notice = vn.build(
            collector=NOTICE.collector,
            consumer=vn.Party(name="<b>Bo</b>", address=("1 Main Street",)),
            creditor_on_itemization_date="Example Bank",
            account_number="1234",
            reference="C-1",
            itemization=NOTICE.itemization,
            sent_on=NOTICE.sent_on,
        )
        html = validation_letter.render(notice, "en").html
        assert "<b>Bo</b>" not in html
        assert "&lt;b&gt;Bo&lt;/b&gt;" in html
