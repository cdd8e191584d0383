"""The dispatcher sends each due outbox row once, re-checking the contact policy at send time."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import threading
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accord.audit import events
from accord.audit.models import AuditEvent
from accord.channels import letter
from accord.channels.sms import fake
from accord.domain import backoff
from accord.domain.money import Money
from accord.jobs import tasks
from accord.storage import models
from accord.usecases import dispatch, promises
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

    def test_a_batch_still_running_at_21_00_stops_sending_and_stamps_each_real_send_time(
        self,
    ) -> None:
        # 19:50 UTC is 20:50 in Madrid (CET); every reading of the clock takes 4 minutes.
        start = datetime.datetime(2026, 3, 18, 19, 50, tzinfo=datetime.UTC)
        readings: list[datetime.datetime] = []

        def clock() -> datetime.datetime:
            readings.append(start + datetime.timedelta(minutes=4 * len(readings)))
            return readings[-1]

        rows = [
            data.planned(
                data.account_owing(data.customer(f"C-{n}", email=f"c{n}@example.com"), f"A-{n}"),
                planned_at=start - datetime.timedelta(hours=1),
            )
            for n in range(3)
        ]
        report = dispatch.dispatch_due(clock=clock, actor=ACTOR)
        first, *later = (_row(row) for row in rows)
        assert (report.sent, report.deferred) == (1, 2)
        assert first.status == models.ContactStatus.SENT
        assert start < first.sent_at < datetime.datetime(2026, 3, 18, 20, 0, tzinfo=datetime.UTC)
        assert first.sent_at in readings
        tomorrow_8am_madrid = datetime.datetime(2026, 3, 19, 7, 0, tzinfo=datetime.UTC)
        assert [row.planned_at for row in later] == [tomorrow_8am_madrid] * 2
        assert [row.status for row in later] == [models.ContactStatus.PLANNED] * 2
        assert len(mail.outbox) == 1

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

    def test_an_address_removed_since_the_row_was_planned_never_receives_the_message(
        self,
    ) -> None:
        owner = data.customer()
        contact = data.planned(data.account_owing(owner), destination="ana@example.com")
        owner.contact_points.filter(kind=models.ContactPointKind.EMAIL).delete()
        report = dispatch.dispatch_due(now=NOW, actor=ACTOR)
        assert report.failed == 1
        assert mail.outbox == []
        assert _row(contact).failure_reason == "The customer has no email address on file."

    def test_a_number_replaced_since_the_row_was_planned_is_not_texted(self) -> None:
        owner = data.customer(phone="+34600000001")
        contact = data.planned(
            data.account_owing(owner),
            channel=models.Channel.SMS,
            key="sms:replaced-number",
            destination="+34600000001",
        )
        owner.contact_points.filter(kind=models.ContactPointKind.PHONE).update(value="+34600000002")
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        row = _row(contact)
        assert row.status == models.ContactStatus.SENT
        assert row.destination == "+34600000002"
        stored = fake.stored_message(fake_folder(), row.provider_ref)
        assert stored is not None
        assert stored.to == "+34600000002"

    def test_an_smtp_server_that_is_away_plans_the_email_again_after_a_back_off(
        self, settings: Any
    ) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", data.free_port()
        contact = data.planned(data.account_owing(data.customer()))
        report = dispatch.dispatch_due(now=NOW, actor=ACTOR)
        assert report.retrying == 1
        row = _row(contact)
        assert row.status == models.ContactStatus.PLANNED
        assert row.planned_at == NOW + backoff.delay(attempts=1, key=row.idempotency_key)
        assert row.attempts == 1
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
    def test_accord_dispatch_prints_its_counts_as_json(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The command reads Django's clock: stop it at a weekday morning in Madrid, so the
        # contact hours allow the email whatever the real time is.
        monkeypatch.setattr(timezone, "now", lambda: NOW)
        contact = data.planned(data.account_owing(data.customer()))
        out = StringIO()
        call_command("dispatch", "--json", stdout=out)
        assert json.loads(out.getvalue())["sent"] == 1
        assert _row(contact).sent_at == NOW

    # The worker closes connections between tasks (close_old_connections), which would
    # end the test's wrapping transaction; this test commits instead.
    @pytest.mark.django_db(transaction=True)
    def test_the_background_task_sends_through_the_database_worker(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(timezone, "now", lambda: NOW)  # any real hour: see above
        contact = data.planned(data.account_owing(data.customer()))
        result = tasks.dispatch_contacts.enqueue()
        call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*")
        result.refresh()
        assert result.return_value["sent"] == 1
        assert _row(contact).status == models.ContactStatus.SENT


def _stuck(contact: models.ContactAttempt, *, since: datetime.datetime) -> None:
    models.ContactAttempt.objects.filter(pk=contact.pk).update(
        status=models.ContactStatus.SENDING, updated_at=since
    )


def _command(*args: str) -> str:
    out = StringIO()
    call_command("dispatch", *args, stdout=out)
    return out.getvalue()


class TestRowsStuckInSending:
    @pytest.fixture(autouse=True)
    def _stopped_clock(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(timezone, "now", lambda: NOW)

    @pytest.fixture
    def stuck_email(self) -> models.ContactAttempt:
        contact = data.planned(data.account_owing(data.customer(language="en")))
        _stuck(contact, since=NOW - datetime.timedelta(minutes=20))
        return contact

    def test_stuck_lists_the_rows_sending_for_longer_than_the_threshold(
        self, stuck_email: models.ContactAttempt
    ) -> None:
        recent = data.planned(data.account_owing(data.customer("C-NEW"), "A-NEW"), key="recent")
        _stuck(recent, since=NOW - datetime.timedelta(minutes=5))
        data.planned(data.account_owing(data.customer("C-IDLE"), "A-IDLE"), key="idle")
        listed = json.loads(_command("--stuck", "--json"))
        assert [row["id"] for row in listed] == [stuck_email.pk]
        assert listed[0]["sending_since"] == "2026-03-18T09:40:00+00:00"
        wider = json.loads(_command("--stuck", "--older-than", "3", "--json"))
        assert [row["id"] for row in wider] == [stuck_email.pk, recent.pk]
        assert f"  {stuck_email.pk}  EMAIL" in _command("--stuck")

    def test_stuck_rows_are_never_picked_by_a_dispatch(
        self, stuck_email: models.ContactAttempt
    ) -> None:
        assert dispatch.dispatch_due(now=NOW, actor=ACTOR).picked == 0
        assert _row(stuck_email).status == models.ContactStatus.SENDING

    def test_resolving_as_sent_stamps_the_claim_time_and_is_audited(
        self, stuck_email: models.ContactAttempt
    ) -> None:
        output = _command("--resolve", str(stuck_email.pk), "--as", "sent")
        row = _row(stuck_email)
        assert row.status == models.ContactStatus.SENT
        assert row.sent_at == NOW - datetime.timedelta(minutes=20)
        assert "is now SENT" in output
        (event,) = _events(events.EventType.CONTACT_RESOLVED)
        assert event.subject_id == str(stuck_email.pk)
        assert event.parameters["resolution"] == "sent"
        assert event.parameters["stuck_since"] == "2026-03-18T09:40:00+00:00"

    def test_resolving_as_failed_gives_up_on_it_with_the_reason(
        self, stuck_email: models.ContactAttempt
    ) -> None:
        _command("--resolve", str(stuck_email.pk), "--as", "failed")
        row = _row(stuck_email)
        assert row.status == models.ContactStatus.FAILED
        assert "an operator marked it failed" in row.failure_reason
        assert dispatch.dispatch_due(now=NOW, actor=ACTOR).picked == 0

    def test_retrying_an_email_warns_it_may_arrive_twice_and_the_next_dispatch_sends_it(
        self, stuck_email: models.ContactAttempt
    ) -> None:
        output = _command("--resolve", str(stuck_email.pk), "--as", "retry")
        assert "may get this email twice" in output
        assert _row(stuck_email).status == models.ContactStatus.PLANNED
        assert dispatch.dispatch_due(now=NOW, actor=ACTOR).sent == 1
        assert _row(stuck_email).status == models.ContactStatus.SENT
        assert len(mail.outbox) == 1

    def test_retrying_an_sms_says_the_provider_de_duplicates_it(self) -> None:
        contact = data.planned(
            data.account_owing(data.customer()), channel=models.Channel.SMS, key="sms:stuck"
        )
        _stuck(contact, since=NOW - datetime.timedelta(hours=1))
        output = _command("--resolve", str(contact.pk), "--as", "retry")
        assert "de-duplicate" in output
        assert "twice" not in output

    def test_a_row_that_is_not_sending_cannot_be_resolved(self) -> None:
        contact = data.planned(data.account_owing(data.customer()))
        with pytest.raises(CommandError, match="not SENDING"):
            _command("--resolve", str(contact.pk), "--as", "sent")
        assert _row(contact).status == models.ContactStatus.PLANNED
        assert _events(events.EventType.CONTACT_RESOLVED) == []

    def test_an_unknown_row_is_named_as_unknown(self) -> None:
        with pytest.raises(CommandError, match="There is no contact attempt 987654"):
            _command("--resolve", "987654", "--as", "sent")
        assert _events(events.EventType.CONTACT_RESOLVED) == []

    def test_resolve_without_as_is_refused(self, stuck_email: models.ContactAttempt) -> None:
        with pytest.raises(CommandError, match="needs --as"):
            _command("--resolve", str(stuck_email.pk))

    def test_a_resolution_whose_audit_event_fails_changes_nothing(
        self, stuck_email: models.ContactAttempt, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken_log(**_: Any) -> None:
            raise RuntimeError("audit log unavailable")

        monkeypatch.setattr(dispatch.log, "record", broken_log)
        with pytest.raises(RuntimeError):
            dispatch.resolve_stuck(
                contact_id=stuck_email.pk,
                resolution=dispatch.Resolution.SENT,
                actor=ACTOR,
                now=NOW,
            )
        assert _row(stuck_email).status == models.ContactStatus.SENDING


def _waiting_dispatch_tasks() -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(
            task_path=tasks.dispatch_contacts.module_path, status=TaskResultStatus.READY
        )
    )


def _run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*")


def _promise(account: models.Account) -> models.Promise:
    return promises.record_promise(
        account_id=account.pk,
        amount=Money(Decimal("100.00"), "EUR"),
        promised_date=data.TODAY + datetime.timedelta(days=7),
        source=models.Source.AGENT,
        actor="agent:test",
        now=NOW,
    )


# The worker closes connections between tasks, which would end a wrapping transaction;
# these tests commit. The whole process's clock is stopped at NOW (a weekday morning in
# Madrid), so the worker, the task and the backend agree on the time at any real hour.
@pytest.mark.django_db(transaction=True)
class TestQueuedMessagesGoOutWithoutAnOperator:
    @pytest.fixture(autouse=True)
    def _stopped_clock(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(timezone, "now", lambda: NOW)

    def test_a_recorded_promise_enqueues_one_dispatch_task_that_sends_the_confirmation(
        self,
    ) -> None:
        first = data.account_owing(data.customer("C-ONE", language="en"), "A-ONE")
        second = data.account_owing(
            data.customer("C-TWO", language="en", email="two@example.com"), "A-TWO"
        )
        with transaction.atomic():
            _promise(first)
            assert _waiting_dispatch_tasks() == []  # not before the promise is committed
        with transaction.atomic():
            _promise(second)
        assert len(_waiting_dispatch_tasks()) == 1
        _run_worker()
        confirmations = models.ContactAttempt.objects.filter(template="promise_confirmation")
        assert {row.status for row in confirmations} == {models.ContactStatus.SENT}
        assert sorted(message.to[0] for message in mail.outbox) == [
            "ana@example.com",
            "two@example.com",
        ]
        assert _waiting_dispatch_tasks() == []

    def test_a_promise_rolled_back_enqueues_nothing(self) -> None:
        account = data.account_owing(data.customer(language="en"))
        with transaction.atomic():
            _promise(account)
            transaction.set_rollback(True)  # the caller gives up after all
        assert not models.Promise.objects.filter(account=account).exists()
        assert _waiting_dispatch_tasks() == []

    def test_a_deferred_message_is_sent_by_a_task_the_dispatch_scheduled_for_it(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # 10:00 UTC is 03:00 in Los Angeles; the customer's day opens at 15:00 UTC.
        owner = data.customer(language="en", zone="America/Los_Angeles")
        contact = data.planned(data.account_owing(owner))
        tasks.dispatch_contacts.enqueue()
        _run_worker()
        opening = datetime.datetime(2026, 3, 18, 15, 0, tzinfo=datetime.UTC)
        (wake_up,) = _waiting_dispatch_tasks()
        assert wake_up.run_after == opening
        tasks.dispatch_contacts.enqueue()
        _run_worker()  # still 10:00: deferred again, and no second wake-up is queued
        assert [task.run_after for task in _waiting_dispatch_tasks()] == [opening]
        assert mail.outbox == []
        monkeypatch.setattr(timezone, "now", lambda: opening)
        _run_worker()
        row = _row(contact)
        assert row.status == models.ContactStatus.SENT
        assert row.sent_at == opening
        assert _waiting_dispatch_tasks() == []


def fake_folder() -> Path:
    from accord.channels import sms

    return sms.sms_folder()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentDispatchers:
    def test_two_dispatchers_at_once_send_each_message_exactly_once(self) -> None:
        owners = [data.customer(f"C-{n}", email=f"c{n}@example.com") for n in range(6)]
        created: list[int] = []
        for n, owner in enumerate(owners):
            account = data.account_owing(owner, f"A-{n}")
            for channel in (models.Channel.EMAIL, models.Channel.SMS):
                created.append(data.planned(account, channel=channel).pk)
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
        mine = models.ContactAttempt.objects.filter(pk__in=created)
        assert sorted(mine.values_list("status", flat=True)) == [models.ContactStatus.SENT] * 12
        assert sorted(mine.values_list("attempts", flat=True)) == [1] * 12
        sent_events = AuditEvent.objects.filter(
            event_type=events.EventType.CONTACT_SENT, subject_id__in=[str(pk) for pk in created]
        )
        assert sent_events.count() == 12
