"""A send that fails for a passing reason is retried after a back-off; others are parked."""

from __future__ import annotations

import dataclasses
import datetime
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accord.audit import events
from accord.audit.models import AuditEvent
from accord.channels import message, registry
from accord.domain import backoff
from accord.storage import models
from accord.usecases import dispatch
from tests.integration import outbox_data as data
from tests.integration.outbox_data import NOW

ACTOR = "test:dispatcher"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


class FailingSender:
    """A sender that raises the given failure (the outcome a real adapter maps onto)."""

    def __init__(self, error: message.SendFailed) -> None:
        self.error = error
        self.calls = 0

    def send(self, outbound: message.OutboundMessage) -> message.SendResult:
        self.calls += 1
        raise self.error


def _failing(monkeypatch: pytest.MonkeyPatch, error: message.SendFailed) -> FailingSender:
    sender = FailingSender(error)
    monkeypatch.setattr(registry, "sender_for", lambda channel: sender)
    return sender


def _row(contact: models.ContactAttempt) -> models.ContactAttempt:
    return models.ContactAttempt.objects.get(pk=contact.pk)


def _events(event_type: events.EventType) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("pk"))


def _sms() -> models.ContactAttempt:
    return data.planned(data.account_owing(data.customer()), channel=models.Channel.SMS)


def _dispatch_when_due(contact: models.ContactAttempt) -> dispatch.DispatchReport:
    return dispatch.dispatch_due(now=_row(contact).planned_at, actor=ACTOR)


class TestRetries:
    def test_a_provider_that_is_away_plans_the_sms_again_after_the_back_off(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _failing(monkeypatch, message.SendUnavailable("the SMS provider answered 503"))
        contact = _sms()
        report = dispatch.dispatch_due(now=NOW, actor=ACTOR)
        assert report.retrying == 1
        row = _row(contact)
        assert row.status == models.ContactStatus.PLANNED
        assert row.attempts == 1
        assert row.planned_at == NOW + backoff.delay(attempts=1, key=row.idempotency_key)
        assert row.failure_reason == "the SMS provider answered 503"
        (event,) = _events(events.EventType.CONTACT_RETRY_SCHEDULED)
        assert event.parameters["attempts"] == 1
        assert event.parameters["retry_at"] == row.planned_at.isoformat()

    def test_a_retry_is_not_picked_before_its_time(self, monkeypatch: pytest.MonkeyPatch) -> None:
        sender = _failing(monkeypatch, message.SendUnavailable("timeout"))
        _sms()
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        assert (
            dispatch.dispatch_due(now=NOW + datetime.timedelta(seconds=59), actor=ACTOR).picked == 0
        )
        assert sender.calls == 1

    def test_each_retry_waits_longer_and_the_last_attempt_parks_it(
        self, monkeypatch: pytest.MonkeyPatch, settings: Any
    ) -> None:
        settings.ENV = dataclasses.replace(settings.ENV, dispatch_max_attempts=3)
        sender = _failing(monkeypatch, message.SendUnavailable("timeout"))
        contact = _sms()
        waits = []
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        for _ in range(2):
            before = _row(contact)
            waits.append(before.planned_at - before.updated_at)
            _dispatch_when_due(contact)
        row = _row(contact)
        assert sender.calls == 3
        assert waits[0] < waits[1]
        assert row.status == models.ContactStatus.PARKED
        assert row.attempts == 3
        assert row.failure_reason == "timeout"
        assert len(_events(events.EventType.CONTACT_RETRY_SCHEDULED)) == 2
        (parked,) = _events(events.EventType.CONTACT_PARKED)
        assert parked.parameters["parked_because"] == "too_many_attempts"
        assert parked.parameters["attempts"] == 3

    def test_a_plain_sms_failure_is_retried_under_the_same_key(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _failing(monkeypatch, message.SendFailed("provider hiccup"))
        contact = _sms()
        assert dispatch.dispatch_due(now=NOW, actor=ACTOR).retrying == 1
        assert _row(contact).status == models.ContactStatus.PLANNED


class TestParking:
    def test_a_refusal_parks_the_message_at_once_with_the_reason(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _failing(
            monkeypatch, message.SendRejected("invalid 'To' number", code="21211", http_status=400)
        )
        contact = _sms()
        report = dispatch.dispatch_due(now=NOW, actor=ACTOR)
        assert report.parked == 1
        row = _row(contact)
        assert row.status == models.ContactStatus.PARKED
        assert row.attempts == 1
        assert row.failure_reason == "invalid 'To' number"
        (event,) = _events(events.EventType.CONTACT_PARKED)
        assert event.parameters["parked_because"] == "rejected"

    def test_an_email_that_may_have_left_is_parked_not_sent_again(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _failing(monkeypatch, message.SendFailed("SMTP: timed out"))
        contact = data.planned(data.account_owing(data.customer()))
        assert dispatch.dispatch_due(now=NOW, actor=ACTOR).parked == 1
        assert _row(contact).status == models.ContactStatus.PARKED
        (event,) = _events(events.EventType.CONTACT_PARKED)
        assert event.parameters["parked_because"] == "outcome_unknown"

    def test_a_parked_row_is_never_picked_by_a_dispatch(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        sender = _failing(monkeypatch, message.SendRejected("no"))
        _sms()
        dispatch.dispatch_due(now=NOW, actor=ACTOR)
        assert dispatch.dispatch_due(now=NOW + datetime.timedelta(days=1), actor=ACTOR).picked == 0
        assert sender.calls == 1


def _command(*args: str) -> str:
    out = StringIO()
    call_command("dispatch", *args, stdout=out)
    return out.getvalue()


class TestReleasingParkedRows:
    @pytest.fixture(autouse=True)
    def _stopped_clock(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(timezone, "now", lambda: NOW)

    @pytest.fixture
    def parked(self, monkeypatch: pytest.MonkeyPatch) -> models.ContactAttempt:
        with monkeypatch.context() as patch:
            _failing(patch, message.SendRejected("invalid 'To' number"))
            contact = _sms()
            dispatch.dispatch_due(now=NOW, actor=ACTOR)
        return _row(contact)

    def test_parked_lists_the_row_with_its_reason_and_key(
        self, parked: models.ContactAttempt
    ) -> None:
        out = _command("--parked")
        assert "1 parked message(s):" in out
        assert parked.idempotency_key in out
        assert "invalid 'To' number" in out
        (listed,) = json.loads(_command("--parked", "--json"))
        assert listed["id"] == parked.pk
        assert listed["attempts"] == 1

    def test_retry_plans_it_now_with_a_fresh_budget_and_the_next_dispatch_sends_it(
        self, parked: models.ContactAttempt
    ) -> None:
        out = _command("--retry", str(parked.pk))
        assert "is now PLANNED" in out
        row = _row(parked)
        assert row.planned_at == NOW
        assert row.attempts == 0
        (event,) = _events(events.EventType.CONTACT_RELEASED)
        assert event.actor.startswith("cli:")
        assert event.parameters == {
            "channel": "SMS",
            "template": row.template,
            "resolution": "retry",
            "attempts_before": 1,
            "last_reason": "invalid 'To' number",
        }
        assert dispatch.dispatch_due(now=NOW, actor=ACTOR).sent == 1
        assert _row(parked).status == models.ContactStatus.SENT

    def test_cancel_gives_up_on_it_and_keeps_the_reason(
        self, parked: models.ContactAttempt
    ) -> None:
        assert "is now CANCELLED" in _command("--cancel", str(parked.pk))
        row = _row(parked)
        assert "invalid 'To' number" in row.failure_reason
        (event,) = _events(events.EventType.CONTACT_RELEASED)
        assert event.parameters["resolution"] == "cancel"

    def test_a_row_that_is_not_parked_cannot_be_released(self) -> None:
        contact = _sms()
        with pytest.raises(CommandError, match="is PLANNED, not PARKED"):
            _command("--retry", str(contact.pk))
        with pytest.raises(CommandError, match="no contact attempt 999999"):
            _command("--cancel", "999999")
        assert _events(events.EventType.CONTACT_RELEASED) == []
