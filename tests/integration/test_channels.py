"""Each channel really delivers: SMTP into the sink, SMS into the fake log, letters to PDF."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core import checks
from pytest_django.fixtures import Settings as SettingsWrapper

from accord.channels import email, letter, mailbox, message, registry, sms, templates
from accord.channels.sms import fake
from tests.integration.outbox_data import free_port, running_sink

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
CONTEXT = {
    "customer_name": "Ana García",
    "reference": "A-ANA-1",
    "amount": "250,50\xa0€",
    "days_past_due": 12,
    "balance": "250,50\xa0€",
    "address_lines": ["Calle Mayor 1", "28013 Madrid"],
    "letter_date": "18 de marzo de 2026",
}


@pytest.fixture
def sink(tmp_path: Path, settings: SettingsWrapper) -> Iterator[Path]:
    """Point Django's SMTP backend at a real sink on a free port; yield its mailbox folder."""
    folder = tmp_path / "mailbox"
    with running_sink(folder) as port:
        # pytest-django swaps in the in-memory backend; these tests want real SMTP.
        settings.EMAIL_BACKEND = SMTP_BACKEND
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        yield folder


def _email(language: str, key: str) -> message.OutboundMessage:
    rendered = templates.render("late_notice", language, CONTEXT)
    return message.OutboundMessage(
        channel=message.Channel.EMAIL,
        to="ana@example.com",
        subject=rendered.subject,
        body=rendered.body,
        html=rendered.html,
        idempotency_key=key,
    )


class TestEmailThroughSmtp:
    def test_the_sink_stores_the_message_with_subject_recipient_and_both_bodies(
        self, sink: Path
    ) -> None:
        result = registry.sender_for(message.Channel.EMAIL).send(_email("en", "smtp:en"))
        (name,) = mailbox.mail_names(sink)
        received = mailbox.read_mail(sink, name)
        assert received is not None
        assert received.subject == "Your account A-ANA-1: 250,50\xa0€ is overdue"
        assert received.to == "ana@example.com"
        assert "Dear Ana García," in received.text
        assert "stop emails from us" in received.text
        assert "<p" in received.html
        assert "stop emails from us" in received.html
        assert ("Message-ID", result.provider_ref) in received.headers
        assert ("X-Accord-Idempotency-Key", "smtp:en") in received.headers

    def test_a_spanish_message_arrives_in_spanish_with_its_opt_out_line(self, sink: Path) -> None:
        registry.sender_for(message.Channel.EMAIL).send(_email("es", "smtp:es"))
        (name,) = mailbox.mail_names(sink)
        received = mailbox.read_mail(sink, name)
        assert received is not None
        assert received.subject == "Su cuenta A-ANA-1: 250,50\xa0€ pendiente de pago"
        assert "Estimado/a Ana García:" in received.text
        assert "dejar de recibir nuestros correos" in received.text

    def test_the_same_key_gives_the_same_message_id(self) -> None:
        assert email.message_id("k:1") == email.message_id("k:1") != email.message_id("k:2")

    def test_a_server_that_is_not_there_is_a_send_failure_with_the_reason(
        self, settings: SettingsWrapper
    ) -> None:
        settings.EMAIL_BACKEND = SMTP_BACKEND
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
        with pytest.raises(message.SendFailed, match="SMTP"):
            registry.sender_for(message.Channel.EMAIL).send(_email("en", "smtp:down"))


class TestFakeSms:
    def test_the_fake_provider_keeps_the_text_where_the_messages_page_reads_it(
        self, tmp_path: Path
    ) -> None:
        sender = registry.sender_for(message.Channel.SMS)
        assert isinstance(sender, sms.SmsSender)
        provider = fake.FakeSmsProvider(folder=tmp_path)
        text = templates.render("late_notice", "en", CONTEXT, channel="SMS").body
        ref = provider.send_sms(to="+34612345678", text=text, idempotency_key="sms:1")
        (stored,) = fake.stored_messages(tmp_path)
        assert stored.provider_ref == ref
        assert stored.to == "+34612345678"
        assert "To stop texts" in stored.text

    def test_a_repeated_key_is_answered_with_the_first_id_and_stored_once(
        self, tmp_path: Path
    ) -> None:
        provider = fake.FakeSmsProvider(folder=tmp_path)
        first = provider.send_sms(to="+1", text="one", idempotency_key="same")
        again = provider.send_sms(to="+1", text="one", idempotency_key="same")
        assert first == again
        assert len(fake.stored_messages(tmp_path)) == 1

    def test_a_malformed_reference_never_reaches_the_file_system(self, tmp_path: Path) -> None:
        assert fake.stored_message(tmp_path, "../../etc/passwd") is None


class TestAFakeSmsProviderInProductionIsNeverSilent:
    @staticmethod
    def _check(settings: SettingsWrapper, **mode: bool) -> list[str]:
        settings.ENV = dataclasses.replace(settings.ENV, sms_provider="fake", **mode)
        return [f"{message.id}: {message.msg}" for message in checks.run_checks()]

    def test_outside_demo_and_debug_mode_the_system_check_warns(
        self, settings: SettingsWrapper
    ) -> None:
        messages = self._check(settings, demo=False, debug=False)
        [warning] = [message for message in messages if message.startswith("accord.W001")]
        assert "SMS is not configured for production" in warning
        assert "ACCORD_SMS_PROVIDER=fake" in warning

    def test_in_demo_mode_the_check_says_nothing_about_sms(self, settings: SettingsWrapper) -> None:
        assert not [m for m in self._check(settings, demo=True, debug=False) if "SMS" in m]


class TestLetters:
    def test_a_letter_is_a_real_pdf_with_the_name_reference_and_amount(
        self, tmp_path: Path, settings: SettingsWrapper
    ) -> None:
        settings.MEDIA_ROOT = tmp_path
        rendered = templates.render("late_notice", "es", CONTEXT, channel="LETTER")
        result = letter.LetterSender().send(
            message.OutboundMessage(
                channel=message.Channel.LETTER,
                to="Ana García\nCalle Mayor 1",
                subject=rendered.subject,
                body=rendered.body,
                html=rendered.html,
                idempotency_key="letter:1",
            )
        )
        path = letter.letter_path(result.provider_ref)
        assert path is not None
        assert path.parent == tmp_path / "letters"
        assert path.read_bytes().startswith(b"%PDF")
        if shutil.which("pdftotext") is None:
            pytest.skip("pdftotext (poppler-utils) is not installed")
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "Ana García" in text
        assert "A-ANA-1" in text
        assert "250,50" in text
        assert "Cómo pagar" in text

    @pytest.mark.parametrize(
        "document", ["../accord.sqlite3", "letters/../../x.pdf", "/etc/passwd", "letters/a b.pdf"]
    )
    def test_only_a_plain_file_name_in_the_letters_folder_is_a_letter(self, document: str) -> None:
        assert letter.letter_path(document) is None
