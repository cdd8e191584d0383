"""An account's Regulation F validation notice is planned, printed and sent as a letter."""

from __future__ import annotations

import dataclasses
import datetime
import io
import re
from pathlib import Path
from typing import Any

import pypdf
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accord.audit import events
from accord.audit.models import AuditEvent
from accord.channels import letter
from accord.domain import validation_notice as vn
from accord.storage import models
from accord.usecases import dispatch, validation_notices

ACTOR = "test:letters"
# Monday 4 May 2026, 10:00 in Chicago: the notice is mailed that day.
NOW = datetime.datetime(2026, 5, 4, 15, 0, tzinfo=datetime.UTC)
STAMP = {"created_at": NOW, "updated_at": NOW}


@pytest.fixture(autouse=True)
def _configured(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.ENV = dataclasses.replace(
        settings.ENV,
        collector_name="Northwind Services LLC",
        collector_address=("PO Box 1234", "Springfield, IL 62701"),
        collector_phone="(555) 555-0100",
        collector_email="disputes@northwind.invalid",
        creditor_name="Example Bank",
    )


def customer(*, language: str = "en", address: bool = True) -> models.Customer:
    return models.Customer.objects.create(
        external_ref="C-ANA",
        debtor_type=models.DebtorType.CONSUMER,
        name="Ana García",
        country="US",
        region="IL",
        city="Chicago" if address else "",
        postcode="60601" if address else "",
        address_line1="1 Main Street" if address else "",
        language=language,
        time_zone="America/Chicago",
        time_zones=["America/Chicago"],
        time_zone_source=models.TimeZoneSource.GIVEN,
        **STAMP,
    )


def charge(account: models.Account, ref: str, kind: str, minor: int, issued: str) -> None:
    day = datetime.date.fromisoformat(issued)
    models.Charge.objects.create(
        external_ref=ref,
        account=account,
        kind=kind,
        amount_minor=minor,
        currency="USD",
        issued_date=day,
        due_date=day + datetime.timedelta(days=20),
        **STAMP,
    )


def payment(account: models.Account, ref: str, minor: int, received: str) -> None:
    models.Payment.objects.create(
        external_ref=ref,
        account=account,
        amount_minor=minor,
        currency="USD",
        received_date=datetime.date.fromisoformat(received),
        method=models.PaymentMethod.CARD,
        **STAMP,
    )


def account_in_collection(owner: models.Customer) -> models.Account:
    """Return a card account last billed on 1 Feb 2026, with interest, a fee and a payment since."""
    account = models.Account.objects.create(
        external_ref="4111222233334444",
        customer=owner,
        product_type=models.ProductType.CREDIT_CARD,
        currency="USD",
        opened_date=datetime.date(2024, 1, 10),
        status=models.AccountStatus.CHARGED_OFF,
        **STAMP,
    )
    charge(account, "CH-1", models.ChargeKind.INSTALMENT, 100000, "2026-01-01")
    payment(account, "P-1", 10000, "2026-01-10")
    charge(account, "CH-2", models.ChargeKind.INVOICE, 50000, "2026-02-01")
    charge(account, "CH-3", models.ChargeKind.INTEREST, 1234, "2026-03-01")
    charge(account, "CH-4", models.ChargeKind.FEE, 2500, "2026-03-05")
    payment(account, "P-2", 5000, "2026-03-20")
    return account


def pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def queued_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=events.EventType.VALIDATION_NOTICE_QUEUED))


class TestNoticeFromTheDatabase:
    def test_itemizes_from_the_last_billing_date_and_reconciles(self) -> None:
        """12 CFR 1006.34(b)(3)(i), (c)(2)(vii)-(x)."""
        account = account_in_collection(customer())
        notice = validation_notices.notice_for(account, sent_on=NOW.date())
        items = notice.itemization
        assert items.itemization_date == datetime.date(2026, 2, 1)
        assert items.kind is vn.ItemizationDateKind.LAST_STATEMENT
        assert str(items.amount_on_itemization_date) == "1400.00 USD"
        assert (str(items.interest), str(items.fees), str(items.payments)) == (
            "12.34 USD",
            "25.00 USD",
            "50.00 USD",
        )
        assert str(items.current_amount) == "1387.34 USD"
        assert notice.consumer.address == ("1 Main Street", "Chicago, IL 60601")
        assert notice.account_number == "****4444"
        assert notice.validation_period_end == datetime.date(2026, 6, 10)


class TestQueueValidationNotice:
    def test_plans_one_letter_for_the_account_and_audits_it(self) -> None:
        account = account_in_collection(customer())
        contact, created = validation_notices.queue_validation_notice(
            account_ref=account.external_ref, now=NOW, actor=ACTOR
        )
        assert created
        assert contact.channel == models.Channel.LETTER
        assert contact.purpose == models.ContactPurpose.VALIDATION_NOTICE
        assert contact.status == models.ContactStatus.PLANNED
        (event,) = queued_events()
        assert event.subject_id == str(contact.pk)
        assert event.parameters["current_amount"] == "1387.34 USD"

    def test_planning_it_again_returns_the_same_row(self) -> None:
        account = account_in_collection(customer())
        first, _ = validation_notices.queue_validation_notice(
            account_ref=account.external_ref, now=NOW, actor=ACTOR
        )
        again, created = validation_notices.queue_validation_notice(
            account_ref=account.external_ref, now=NOW, actor=ACTOR
        )
        assert (again.pk, created) == (first.pk, False)
        assert len(queued_events()) == 1

    def test_refuses_a_customer_without_a_postal_address_and_records_nothing(self) -> None:
        """12 CFR 1006.34(c)(2)(iii): the consumer's mailing address."""
        account = account_in_collection(customer(address=False))
        with pytest.raises(vn.MissingFact, match="mailing address"):
            validation_notices.queue_validation_notice(
                account_ref=account.external_ref, now=NOW, actor=ACTOR
            )
        assert not models.ContactAttempt.objects.exists()
        assert queued_events() == []

    def test_refuses_while_no_creditor_is_configured(self, settings: Any) -> None:
        """12 CFR 1006.34(c)(2)(iv): the creditor on the itemization date."""
        settings.ENV = dataclasses.replace(settings.ENV, creditor_name="")
        account = account_in_collection(customer())
        with pytest.raises(vn.MissingFact, match="ACCORD_CREDITOR_NAME"):
            validation_notices.queue_validation_notice(
                account_ref=account.external_ref, now=NOW, actor=ACTOR
            )

    def test_refuses_an_unknown_account(self) -> None:
        with pytest.raises(validation_notices.AccountNotFound):
            validation_notices.queue_validation_notice(account_ref="nope", now=NOW, actor=ACTOR)


class TestDispatchingTheNotice:
    @pytest.mark.parametrize(
        ("language", "phrases"),
        [
            (
                "en",
                [
                    "Northwind Services LLC is a debt collector.",
                    "Call or write to us by June 10, 2026, to dispute all or part of the debt.",
                    "Total amount of the debt now: $1,387.34",
                    "I want you to send me the name and address of the original creditor.",
                ],
            ),
            (
                "es",
                [
                    "Northwind Services LLC es un cobrador de deudas.",
                    "Llámenos o escríbanos a más tardar el 10 de junio de 2026",
                    "Cantidad total de la deuda ahora: $1,387.34",
                    "Quiero que me envíen el nombre y la dirección del acreedor original.",
                ],
            ),
        ],
    )
    def test_prints_the_notice_in_the_customers_language_and_records_it_sent(
        self, language: str, phrases: list[str]
    ) -> None:
        """12 CFR 1006.34(c), (b)(5): mailed Mon 4 May 2026, the period ends Wed 10 Jun."""
        account = account_in_collection(customer(language=language))
        contact, _ = validation_notices.queue_validation_notice(
            account_ref=account.external_ref, now=NOW, actor=ACTOR
        )
        report = dispatch.dispatch_due(now=NOW, actor=ACTOR)
        assert report.sent == 1
        row = models.ContactAttempt.objects.get(pk=contact.pk)
        assert row.status == models.ContactStatus.SENT
        path = letter.letter_path(row.document)
        assert path is not None
        text = pdf_text(path)
        assert [phrase for phrase in phrases if phrase not in text] == []
        assert "4111222233334444" not in text
        assert phrases[0] in row.body
        assert row.destination.startswith("Ana García")

    def test_is_cancelled_when_the_debt_was_paid_before_it_went_out(self) -> None:
        account = account_in_collection(customer())
        contact, _ = validation_notices.queue_validation_notice(
            account_ref=account.external_ref, now=NOW, actor=ACTOR
        )
        payment(account, "P-3", 138734, "2026-05-04")
        report = dispatch.dispatch_due(now=NOW, actor=ACTOR)
        assert report.cancelled == 1
        row = models.ContactAttempt.objects.get(pk=contact.pk)
        assert row.status == models.ContactStatus.CANCELLED

    def test_fails_with_the_reason_when_the_facts_no_longer_make_a_notice(
        self, settings: Any
    ) -> None:
        account = account_in_collection(customer())
        contact, _ = validation_notices.queue_validation_notice(
            account_ref=account.external_ref, now=NOW, actor=ACTOR
        )
        settings.ENV = dataclasses.replace(settings.ENV, creditor_name="")
        assert dispatch.dispatch_due(now=NOW, actor=ACTOR).failed == 1
        row = models.ContactAttempt.objects.get(pk=contact.pk)
        assert "ACCORD_CREDITOR_NAME" in row.failure_reason


class TestLettersCommand:
    def test_writes_a_preview_pdf_and_records_nothing(self, tmp_path: Path) -> None:
        account = account_in_collection(customer())
        out = tmp_path / "notice.pdf"
        call_command("letters", "validation-notice", account.external_ref, "--out", str(out))
        assert "is a debt collector" in pdf_text(out)
        assert not models.ContactAttempt.objects.exists()
        assert queued_events() == []

    def test_previews_in_another_language_on_request(self, tmp_path: Path) -> None:
        account = account_in_collection(customer())
        out = tmp_path / "aviso.pdf"
        call_command(
            "letters",
            "validation-notice",
            account.external_ref,
            "--out",
            str(out),
            "--language",
            "es",
        )
        assert "es un cobrador de deudas" in pdf_text(out)

    def test_queues_the_notice(self) -> None:
        account = account_in_collection(customer())
        call_command("letters", "validation-notice", account.external_ref, "--queue")
        assert models.ContactAttempt.objects.get().template == validation_notices.TEMPLATE

    def test_names_an_unknown_account(self, tmp_path: Path) -> None:
        with pytest.raises(CommandError, match="no account"):
            call_command("letters", "validation-notice", "nope", "--out", str(tmp_path / "x"))

    def test_explains_a_notice_that_cannot_be_built(self, tmp_path: Path) -> None:
        account = account_in_collection(customer(address=False))
        with pytest.raises(CommandError, match=r"No validation notice: .*mailing address"):
            call_command(
                "letters", "validation-notice", account.external_ref, "--out", str(tmp_path / "x")
            )
