"""SMS through Twilio end to end: the dispatcher sends once, signed webhooks report and opt out."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from django.core import checks
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from accord.audit import events
from accord.audit.models import AuditEvent
from accord.channels import message, registry, sms
from accord.storage import models
from accord.usecases import contact_policy, dispatch
from tests.integration import outbox_data as data
from tests.integration.outbox_data import NOW
from tests.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, running_twilio

PUBLIC = "https://accord.example.com"
STATUS = "/webhooks/twilio/status"
INBOUND = "/webhooks/twilio/inbound"
ANA = "+34612345678"
ACTOR = "test:dispatcher"


@pytest.fixture
def twilio_env(settings: SettingsWrapper) -> Iterator[FakeTwilio]:
    """Configure Accord for Twilio, pointed at a local stand-in."""
    with running_twilio() as server:
        settings.ENV = dataclasses.replace(
            settings.ENV,
            sms_provider="twilio",
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_from="+15005550006",
            twilio_base_url=server.base_url,
            twilio_timeout=2.0,
            public_url=PUBLIC,
            sms_help_phone="+1 555 0199",
        )
        yield server


@pytest.fixture(autouse=True)
def _webhooks_at_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the webhooks read the clock the outbox rows were planned by."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def _sign(path: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """Sign as Twilio does, written out independently of the code under test."""
    payload = PUBLIC + path + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(
        hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    ).decode()


def _post(path: str, params: dict[str, str], *, signature: str | None = "sign") -> Any:
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = _sign(path, params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return Client().post(
        path, urlencode(params), content_type="application/x-www-form-urlencoded", headers=headers
    )


def _text(body: str, *, sid: str = "SMin1", sender: str = ANA) -> Any:
    return _post(INBOUND, {"From": sender, "To": "+15005550006", "Body": body, "MessageSid": sid})


def _reply(response: Any) -> str | None:
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own answer
    assert root.tag == "Response"
    found = root.find("Message")
    return None if found is None else found.text


def _events(event_type: events.EventType) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type))


def _sms_opted_out(customer: models.Customer) -> bool:
    return customer.opt_outs.filter(channel=models.Channel.SMS, withdrawn_at__isnull=True).exists()


def _sent_sms(server: FakeTwilio) -> models.ContactAttempt:
    contact = data.planned(
        data.account_owing(data.customer(language="es")), channel=models.Channel.SMS
    )
    assert dispatch.dispatch_due(now=NOW, actor=ACTOR).sent == 1
    return models.ContactAttempt.objects.get(pk=contact.pk)


def _status(contact: models.ContactAttempt, status: str, **extra: str) -> Any:
    params = {"MessageSid": contact.provider_ref, "MessageStatus": status, **extra}
    path = f"{STATUS}?{urlencode({'key': contact.idempotency_key})}"
    return _post(path, params)


class TestTheDispatcherSendsThroughTwilio:
    def test_a_due_sms_goes_to_twilio_once_with_its_key_and_records_the_sid(
        self, twilio_env: FakeTwilio
    ) -> None:
        row = _sent_sms(twilio_env)
        (request,) = twilio_env.received
        assert request.form["To"] == [ANA]
        assert request.form["Body"] == [row.body]
        assert request.headers["i-twilio-idempotency-token"] == row.idempotency_key
        assert row.status == models.ContactStatus.SENT
        assert row.provider_ref.startswith("SM")
        assert row.provider_status == models.ProviderStatus.QUEUED

    def test_a_row_retried_after_a_crash_is_answered_with_the_first_message(
        self, twilio_env: FakeTwilio
    ) -> None:
        row = _sent_sms(twilio_env)
        models.ContactAttempt.objects.filter(pk=row.pk).update(
            status=models.ContactStatus.PLANNED, provider_ref=""
        )
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        assert twilio_env.messages_sent == 1
        assert models.ContactAttempt.objects.get(pk=row.pk).provider_ref == row.provider_ref

    def test_a_twilio_refusal_parks_the_row_with_the_providers_code(
        self, twilio_env: FakeTwilio
    ) -> None:
        twilio_env.behaviour = "bad_number"
        contact = data.planned(data.account_owing(data.customer()), channel=models.Channel.SMS)
        assert dispatch.dispatch_due(now=NOW, actor=ACTOR).parked == 1
        row = models.ContactAttempt.objects.get(pk=contact.pk)
        assert row.status == models.ContactStatus.PARKED
        assert "21211" in row.failure_reason

    def test_twilio_down_plans_the_sms_again_and_the_retry_is_one_message(
        self, twilio_env: FakeTwilio
    ) -> None:
        twilio_env.behaviour = "server_error"
        contact = data.planned(data.account_owing(data.customer()), channel=models.Channel.SMS)
        assert dispatch.dispatch_due(now=NOW, actor=ACTOR).retrying == 1
        row = models.ContactAttempt.objects.get(pk=contact.pk)
        assert row.status == models.ContactStatus.PLANNED
        assert row.planned_at > NOW
        twilio_env.behaviour = "ok"
        assert dispatch.dispatch_due(now=row.planned_at, actor=ACTOR).sent == 1
        assert twilio_env.messages_sent == 1
        assert models.ContactAttempt.objects.get(pk=contact.pk).attempts == 2

    def test_the_sender_raises_a_retryable_failure_when_twilio_is_down(
        self, twilio_env: FakeTwilio
    ) -> None:
        twilio_env.behaviour = "server_error"
        outbound = message.OutboundMessage(
            channel=message.Channel.SMS, to=ANA, subject="", body="x", idempotency_key="k"
        )
        with pytest.raises(message.SendUnavailable):
            registry.sender_for(message.Channel.SMS).send(outbound)


class TestTheProductionCheck:
    def test_twilio_without_an_auth_token_is_warned_about_and_refuses_to_send(
        self, settings: SettingsWrapper
    ) -> None:
        settings.ENV = dataclasses.replace(
            settings.ENV, sms_provider="twilio", twilio_account_sid="AC1", twilio_from="+1"
        )
        warnings = [m.msg for m in checks.run_checks() if m.id == "accord.W001"]
        assert len(warnings) == 1
        assert "ACCORD_TWILIO_AUTH_TOKEN" in warnings[0]
        with pytest.raises(sms.SmsProviderUnavailable):
            registry.sender_for(message.Channel.SMS)

    def test_configured_twilio_passes_the_check(self, twilio_env: FakeTwilio) -> None:
        assert not [m for m in checks.run_checks() if m.id == "accord.W001"]


class TestDeliveryReports:
    def test_a_delivered_report_stamps_the_row_and_is_audited(self, twilio_env: FakeTwilio) -> None:
        row = _sent_sms(twilio_env)
        assert _status(row, "delivered").status_code == 200
        after = models.ContactAttempt.objects.get(pk=row.pk)
        assert after.provider_status == models.ProviderStatus.DELIVERED
        assert after.delivered_at is not None
        assert after.status == models.ContactStatus.SENT
        (event,) = _events(events.EventType.CONTACT_DELIVERY_REPORTED)
        assert event.subject_id == str(row.pk)
        assert event.parameters["provider_status"] == "DELIVERED"

    def test_a_late_sent_report_never_moves_a_delivered_message_back(
        self, twilio_env: FakeTwilio
    ) -> None:
        row = _sent_sms(twilio_env)
        _status(row, "delivered")
        _status(row, "sent")
        _status(row, "failed", ErrorCode="30008")
        after = models.ContactAttempt.objects.get(pk=row.pk)
        assert after.provider_status == models.ProviderStatus.DELIVERED
        assert after.failure_reason == ""
        assert len(_events(events.EventType.CONTACT_DELIVERY_REPORTED)) == 1

    def test_an_undelivered_report_is_a_bounce_with_the_error_code(
        self, twilio_env: FakeTwilio
    ) -> None:
        row = _sent_sms(twilio_env)
        _status(row, "undelivered", ErrorCode="30003")
        after = models.ContactAttempt.objects.get(pk=row.pk)
        assert after.provider_status == models.ProviderStatus.BOUNCED
        assert after.failure_reason == "The SMS provider reported it undelivered (error 30003)."
        assert after.status == models.ContactStatus.SENT  # never sent again by itself

    def test_a_report_without_the_key_finds_the_row_by_its_sid(
        self, twilio_env: FakeTwilio
    ) -> None:
        row = _sent_sms(twilio_env)
        _post(STATUS, {"MessageSid": row.provider_ref, "MessageStatus": "sent"})
        assert (
            models.ContactAttempt.objects.get(pk=row.pk).provider_status
            == models.ProviderStatus.SENT
        )

    def test_a_report_that_comes_before_the_send_is_recorded_is_kept(
        self, twilio_env: FakeTwilio
    ) -> None:
        contact = data.planned(data.account_owing(data.customer()), channel=models.Channel.SMS)
        path = f"{STATUS}?{urlencode({'key': contact.idempotency_key})}"
        _post(path, {"MessageSid": "SM00000000000000000000000000000001", "MessageStatus": "sent"})
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        row = models.ContactAttempt.objects.get(pk=contact.pk)
        assert row.provider_ref == "SM00000000000000000000000000000001"
        assert row.provider_status == models.ProviderStatus.SENT  # not back to QUEUED

    def test_an_early_failure_report_is_kept_when_the_send_is_recorded(
        self, twilio_env: FakeTwilio
    ) -> None:
        contact = data.planned(data.account_owing(data.customer()), channel=models.Channel.SMS)
        path = f"{STATUS}?{urlencode({'key': contact.idempotency_key})}"
        sid = "SM00000000000000000000000000000001"
        _post(path, {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30005"})
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        row = models.ContactAttempt.objects.get(pk=contact.pk)
        assert row.provider_status == models.ProviderStatus.BOUNCED
        assert "30005" in row.failure_reason

    def test_a_report_on_an_unknown_message_is_acknowledged_and_changes_nothing(
        self, twilio_env: FakeTwilio
    ) -> None:
        response = _post(STATUS, {"MessageSid": "SMunknown", "MessageStatus": "delivered"})
        assert response.status_code == 200
        assert not _events(events.EventType.CONTACT_DELIVERY_REPORTED)

    @pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl", "wrong-token"])
    def test_a_report_without_a_valid_signature_is_refused_and_changes_nothing(
        self, twilio_env: FakeTwilio, signature: str | None
    ) -> None:
        row = _sent_sms(twilio_env)
        params = {"MessageSid": row.provider_ref, "MessageStatus": "delivered"}
        if signature == "wrong-token":
            signature = _sign(STATUS, params, token="another-token")
        assert _post(STATUS, params, signature=signature).status_code == 403
        assert (
            models.ContactAttempt.objects.get(pk=row.pk).provider_status
            == models.ProviderStatus.QUEUED
        )

    def test_nothing_is_accepted_while_twilio_is_not_configured(self) -> None:
        params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
        assert _post(STATUS, params).status_code == 403

    def test_a_get_is_not_allowed(self, twilio_env: FakeTwilio) -> None:
        assert Client().get(STATUS).status_code == 405


class TestStop:
    def test_stop_opts_every_customer_with_the_number_out_of_sms_at_once(
        self, twilio_env: FakeTwilio
    ) -> None:
        """12 CFR 1006.14(h)(1), 1006.6(e): an electronic opt-out is a refused medium."""
        ana = data.customer(language="es")
        shared = data.customer("C-PEDRO", name="Pedro García", email=None, phone=ANA)
        other = data.customer("C-EVA", name="Eva", email=None, phone="+34699999999")
        reply = _reply(_text("  stop "))
        assert _sms_opted_out(ana)
        assert _sms_opted_out(shared)
        assert not _sms_opted_out(other)
        opt_out = ana.opt_outs.get()
        assert opt_out.source == "sms-stop"
        assert len(_events(events.EventType.CHANNEL_OPTED_OUT)) == 2
        assert reply is not None
        assert "confirmamos su solicitud" in reply  # both speak Spanish

    def test_a_planned_sms_is_blocked_by_the_opt_out_at_send_time(
        self, twilio_env: FakeTwilio
    ) -> None:
        """12 CFR 1006.14(h)(1): after STOP, no further text is sent."""
        account = data.account_owing(data.customer())
        contact = data.planned(account, channel=models.Channel.SMS)
        _text("STOP")
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        row = models.ContactAttempt.objects.get(pk=contact.pk)
        assert row.status == models.ContactStatus.BLOCKED
        assert twilio_env.messages_sent == 0

    @pytest.mark.parametrize("word", ["STOPALL", "Unsubscribe", "cancel", "END", "quit.", "Stop!"])
    def test_every_stop_word_opts_out(self, twilio_env: FakeTwilio, word: str) -> None:
        ana = data.customer()
        _text(word)
        assert _sms_opted_out(ana)

    def test_the_confirmation_is_sent_once_and_recorded_as_a_response(
        self, twilio_env: FakeTwilio
    ) -> None:
        """12 CFR 1006.14(h)(2)(i): one confirmation of the opt-out, no more."""
        ana = data.customer(language="en")
        first = _reply(_text("STOP", sid="SM1"))
        again = _reply(_text("STOP", sid="SM2"))
        replay = _reply(_text("STOP", sid="SM1"))
        assert first is not None
        assert "no more text messages" in first
        assert again is None
        assert replay is None
        (answer,) = ana.contacts.filter(direction=models.ContactDirection.OUTBOUND)
        assert answer.purpose == models.ContactPurpose.RESPONSE_TO_REQUEST
        assert answer.body == first
        assert ana.opt_outs.count() == 1

    def test_the_opt_out_reaches_the_contact_policy(self, twilio_env: FakeTwilio) -> None:
        ana = data.customer()
        _text("STOP")
        decision = contact_policy.check_contact(
            customer_id=ana.pk,
            account_ids=[],
            channel=models.Channel.SMS,
            purpose=models.ContactPurpose.COLLECTION,
            now=NOW,
        )
        assert not decision.allowed

    def test_a_stop_from_an_unknown_number_is_confirmed_and_records_nothing(
        self, twilio_env: FakeTwilio
    ) -> None:
        reply = _reply(_text("STOP", sender="+14155550100"))
        assert reply is not None
        assert not models.ChannelOptOut.objects.exists()

    def test_an_unsigned_stop_is_refused_and_records_nothing(self, twilio_env: FakeTwilio) -> None:
        ana = data.customer()
        params = {"From": ANA, "To": "+15005550006", "Body": "STOP", "MessageSid": "SM1"}
        assert _post(INBOUND, params, signature=None).status_code == 403
        assert _post(INBOUND, params, signature=_sign(STATUS, params)).status_code == 403
        assert not _sms_opted_out(ana)


class TestStartAndHelp:
    def test_start_withdraws_the_opt_out_and_is_audited(self, twilio_env: FakeTwilio) -> None:
        ana = data.customer(language="en")
        _text("STOP", sid="SM1")
        reply = _reply(_text("unstop", sid="SM2"))
        assert not _sms_opted_out(ana)
        assert ana.opt_outs.get().withdrawn_at is not None
        (event,) = _events(events.EventType.CHANNEL_OPT_OUT_WITHDRAWN)
        assert event.parameters["opted_out_source"] == "sms-stop"
        assert reply is not None
        assert "again" in reply

    def test_help_answers_with_the_operator_the_help_number_and_how_to_stop(
        self, twilio_env: FakeTwilio
    ) -> None:
        data.customer(language="en")
        reply = _reply(_text("help"))
        assert reply == (
            "Accord Collections: for help, call us on +1 555 0199. "
            "Reply STOP to stop text messages from us."
        )

    def test_help_is_answered_in_spanish_for_a_spanish_speaker(
        self, twilio_env: FakeTwilio
    ) -> None:
        data.customer(language="es")
        reply = _reply(_text("INFO"))
        assert reply is not None
        assert reply.startswith("Accord Collections: para obtener ayuda, llámenos al +1 555 0199.")

    def test_help_from_an_unknown_number_is_answered_in_english(
        self, twilio_env: FakeTwilio
    ) -> None:
        reply = _reply(_text("HELP", sender="+14155550100"))
        assert reply is not None
        assert "for help" in reply


class TestOtherTexts:
    def test_a_message_is_stored_as_an_inbound_sms_for_agents_and_not_answered(
        self, twilio_env: FakeTwilio
    ) -> None:
        ana = data.customer()
        response = _text("¿Puedo pagar el viernes? Stop by later", sid="SMq")
        assert _reply(response) is None
        (inbound,) = ana.contacts.all()
        assert inbound.direction == models.ContactDirection.INBOUND
        assert inbound.channel == models.Channel.SMS
        assert inbound.origin == models.ContactOrigin.CUSTOMER
        assert inbound.status == models.ContactStatus.COMPLETED
        assert inbound.body == "¿Puedo pagar el viernes? Stop by later"
        assert inbound.provider_ref == "SMq"
        assert not _sms_opted_out(ana)
        (event,) = _events(events.EventType.INBOUND_MESSAGE_RECEIVED)
        assert "viernes" not in str(event.parameters)

    def test_a_replayed_webhook_stores_the_message_once(self, twilio_env: FakeTwilio) -> None:
        ana = data.customer()
        _text("Call me", sid="SMx")
        _text("Call me", sid="SMx")
        assert ana.contacts.count() == 1

    def test_a_text_without_a_message_sid_is_a_bad_request(self, twilio_env: FakeTwilio) -> None:
        params = {"From": ANA, "To": "+15005550006", "Body": "hi"}
        assert _post(INBOUND, params).status_code == 400
