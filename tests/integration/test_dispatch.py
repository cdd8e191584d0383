"""The dispatcher sends each due outbox row once, re-checking the contact policy at send time."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import threading
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection

from accord.audit import events
from accord.audit.models import AuditEvent
from accord.channels import letter
from accord.channels.sms import fake
from accord.jobs import tasks
from accord.storage import models
from accord.usecases import dispatch
from tests.integration import outbox_data as data
from tests.integration.outbox_data import NOW

ACTOR = "test:dispatcher"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


def _row(contact: models.ContactAttempt) -> models.ContactAttempt:
    return models.ContactAttempt.objects.get(pk=contact.pk)


def _events(event_type: events.EventType) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type))


class TestSending:
    def test_a_due_email_is_sent_and_recorded_with_what_the_customer_received(self) -> None:
        contact = data.planned(data.account_owing(data.customer(language="en")))
        report = dispatch.dispatch_due(now=NOW, actor=ACTOR)
        assert report.sent == 1
        assert report.picked == 1
        (sent,) = mail.outbox
        row = _row(contact)
        assert row.status == models.ContactStatus.SENT
        assert row.sent_at == NOW
        assert row.attempts == 1
        assert row.destination == "ana@example.com" == sent.to[0]
        assert row.subject == sent.subject == "Your account A-ANA-1: €250.50 is overdue"
        assert row.body == sent.body
        assert row.provider_ref == sent.extra_headers["Message-ID"]
        assert "12 days ago" in row.body
        (event,) = _events(events.EventType.CONTACT_SENT)
        assert event.subject_id == str(contact.pk)

    def test_a_customer_whose_language_is_spanish_gets_the_spanish_template(self) -> None:
        contact = data.planned(data.account_owing(data.customer(language="es")))
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        row = _row(contact)
        assert row.language == "es"
        assert row.subject == "Su cuenta A-ANA-1: 250,50\xa0€ pendiente de pago"
        assert "Estimado/a Ana García:" in mail.outbox[0].body

    def test_an_unsupported_language_falls_back_to_english(self) -> None:
        contact = data.planned(data.account_owing(data.customer(language="fr")))
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        assert _row(contact).language == "en"
        assert mail.outbox[0].body.startswith("Dear Ana García,")

    def test_an_sms_goes_to_the_primary_phone_through_the_fake_provider(self) -> None:
        owner = data.customer(language="en")
        contact = data.planned(
            data.account_owing(owner), channel=models.Channel.SMS, key="sms:primary-phone"
        )
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        row = _row(contact)
        assert row.status == models.ContactStatus.SENT
        assert row.destination == "+34612345678"
        stored = fake.stored_message(fake_folder(), row.provider_ref)
        assert stored is not None
        assert stored.text == row.body
        assert "€250.50" in stored.text

    def test_a_letter_is_printed_to_a_pdf_with_the_name_reference_and_amount(self) -> None:
        contact = data.planned(data.account_owing(data.customer()), channel=models.Channel.LETTER)
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        row = _row(contact)
        assert row.status == models.ContactStatus.SENT
        assert row.destination.startswith("Ana García\nCalle Mayor 1")
        path = letter.letter_path(row.document)
        assert path is not None
        assert path.read_bytes().startswith(b"%PDF")
        if shutil.which("pdftotext") is None:
            pytest.skip("pdftotext (poppler-utils) is not installed")
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "Ana García" in text
        assert "A-ANA-1" in text
        assert "250,50" in text

    def test_a_promise_confirmation_states_the_promised_amount_and_date(self) -> None:
        account = data.account_owing(data.customer(language="en"))
        promise = models.Promise.objects.create(
            account=account,
            amount_minor=10000,
            currency="EUR",
            promised_date=datetime.date(2026, 3, 30),
            status=models.PromiseStatus.OPEN,
            source=models.Source.AGENT,
            created_at=NOW,
            created_by="agent",
        )
        data.planned(account, template="promise_confirmation", key=f"promise:{promise.pk}")
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        assert mail.outbox[0].subject == "Thank you: your promise to pay €100.00 by March 30, 2026"


class TestOnlyDueMessagesGo:
    def test_calls_and_future_rows_are_left_alone_and_the_limit_is_kept(self) -> None:
        owner = data.customer(language="en")
        account = data.account_owing(owner)
        call = data.planned(account, channel=models.Channel.CALL, template="")
        later = data.planned(account, key="later", planned_at=NOW + datetime.timedelta(hours=1))
        first = data.planned(account, key="first")
        second = data.planned(account, key="second")
        report = dispatch.dispatch_due(now=NOW, limit=1, actor=ACTOR)
        assert report.picked == 1
        assert _row(first).status == models.ContactStatus.SENT
        assert _row(second).status == models.ContactStatus.PLANNED
        assert _row(call).status == models.ContactStatus.PLANNED
        assert _row(later).status == models.ContactStatus.PLANNED

    def test_running_the_dispatcher_twice_sends_each_message_once(self) -> None:
        contact = data.planned(data.account_owing(data.customer()))
        first = dispatch.dispatch_due(now=NOW, actor=ACTOR)
        second = dispatch.dispatch_due(now=NOW + datetime.timedelta(minutes=1), actor=ACTOR)
        assert (first.sent, second.picked) == (1, 0)
        assert len(mail.outbox) == 1
        assert _row(contact).attempts == 1


class TestThePolicyAtSendTime:
    def test_outside_the_customers_hours_the_message_waits_until_they_open(self) -> None:
        # 10:00 UTC is 03:00 in Los Angeles; 08:00 there (PDT) is 15:00 UTC.
        owner = data.customer(language="en", zone="America/Los_Angeles")
        contact = data.planned(data.account_owing(owner))
        report = dispatch.dispatch_due(now=NOW, actor=ACTOR)
        row = _row(contact)
        assert report.deferred == 1
        assert mail.outbox == []
        assert row.status == models.ContactStatus.PLANNED
        assert row.planned_at == datetime.datetime(2026, 3, 18, 15, 0, tzinfo=datetime.UTC)
        assert [reason["code"] for reason in row.policy_reasons] == ["REG_F_INCONVENIENT_TIME"]
        (event,) = _events(events.EventType.CONTACT_BLOCKED)
        assert event.parameters["deferred_until"] == "2026-03-18T15:00:00+00:00"

    def test_an_opted_out_channel_blocks_the_message_for_good_with_the_reason(self) -> None:
        owner = data.customer()
        models.ChannelOptOut.objects.create(
            customer=owner,
            channel=models.Channel.EMAIL,
            opted_out_at=NOW - datetime.timedelta(days=1),
            source="portal",
            recorded_by="customer",
        )
        contact = data.planned(data.account_owing(owner))
        report = dispatch.dispatch_due(now=NOW, actor=ACTOR)
        row = _row(contact)
        assert report.blocked == 1
        assert mail.outbox == []
        assert row.status == models.ContactStatus.BLOCKED
        assert "REG_F_ELECTRONIC_OPT_OUT" in [reason["code"] for reason in row.policy_reasons]


class TestFailures:
    def test_no_email_address_on_file_fails_the_row_with_the_reason(self) -> None:
        contact = data.planned(data.account_owing(data.customer(email=None)))
        report = dispatch.dispatch_due(now=NOW, actor=ACTOR)
        row = _row(contact)
        assert report.failed == 1
        assert row.status == models.ContactStatus.FAILED
        assert row.failure_reason == "The customer has no email address on file."
        assert row.attempts == 1
        assert len(_events(events.EventType.CONTACT_FAILED)) == 1

    def test_an_smtp_server_that_is_away_fails_the_row_with_the_smtp_error(
        self, settings: Any
    ) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", data.free_port()
        contact = data.planned(data.account_owing(data.customer()))
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        row = _row(contact)
        assert row.status == models.ContactStatus.FAILED
        assert row.failure_reason.startswith("SMTP:")
        assert row.sent_at is None

    def test_a_notice_about_arrears_paid_since_it_was_planned_is_cancelled(self) -> None:
        account = data.account_owing(data.customer())
        models.Payment.objects.create(
            external_ref="P-ALL",
            account=account,
            amount_minor=25050,
            currency="EUR",
            received_date=data.TODAY,
            method=models.PaymentMethod.CARD,
            **data.stamp(),
        )
        contact = data.planned(account)
        report = dispatch.dispatch_due(now=NOW, actor=ACTOR)
        assert report.cancelled == 1
        assert mail.outbox == []
        assert _row(contact).status == models.ContactStatus.CANCELLED


class TestEntryPoints:
    def test_accord_dispatch_prints_its_counts_as_json(self) -> None:
        data.planned(data.account_owing(data.customer()))
        out = StringIO()
        # The command reads the real clock; the row was planned in the past.
        call_command("dispatch", "--json", stdout=out)
        assert json.loads(out.getvalue())["sent"] == 1

    # The worker closes connections between tasks (close_old_connections), which would
    # end the test's wrapping transaction; this test commits instead.
    @pytest.mark.django_db(transaction=True)
    def test_the_background_task_sends_through_the_database_worker(self) -> None:
        contact = data.planned(data.account_owing(data.customer()))
        result = tasks.dispatch_contacts.enqueue()
        call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*")
        result.refresh()
        assert result.return_value["sent"] == 1
        assert _row(contact).status == models.ContactStatus.SENT


def fake_folder() -> Path:
    from accord.channels import sms

    return sms.sms_folder()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentDispatchers:
    def test_two_dispatchers_at_once_send_each_message_exactly_once(self) -> None:
        owners = [data.customer(f"C-{n}", email=f"c{n}@example.com") for n in range(6)]
        for n, owner in enumerate(owners):
            account = data.account_owing(owner, f"A-{n}")
            for channel in (models.Channel.EMAIL, models.Channel.SMS):
                data.planned(account, channel=channel)
        barrier = threading.Barrier(2)
        reports: list[dispatch.DispatchReport] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                barrier.wait()
                reports.append(dispatch.dispatch_due(now=NOW, actor=ACTOR))
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sum(report.sent for report in reports) == 12
        assert sum(report.skipped for report in reports) == sum(r.picked for r in reports) - 12
        assert len(mail.outbox) == 6
        assert len({message.to[0] for message in mail.outbox}) == 6
        assert models.ContactAttempt.objects.filter(status=models.ContactStatus.SENT).count() == 12
        assert len(_events(events.EventType.CONTACT_SENT)) == 12
