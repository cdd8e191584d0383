from __future__ import annotations

import contextlib
import datetime
import re
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils.timezone import now as django_now

from accord.audit import events
from accord.audit import models as audit_models
from accord.channels import message, registry
from accord.channels.sms import fake
from accord.domain.access import Role
from accord.storage import models
from accord.usecases import portal_access
from accord.web.portal import throttle, views
from tests.integration import portal_data
from tests.integration.portal_data import NOW, codes_delivered

SIGN_IN = "/portal/sign-in/"
ENTER_CODE = "/portal/sign-in/code/"
CODE = re.compile(r"\b([0-9]{6})\b")


@pytest.fixture(autouse=True)
def _fresh_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The portal pads code requests to a floor; tests of other things need not wait.
    monkeypatch.setattr(views, "CODE_REQUEST_MIN_SECONDS", 0.0)
    cache.clear()
    yield
    portal_access.wait_for_sends()
    cache.clear()


@pytest.fixture
def ana() -> models.Customer:
    return portal_data.customer(name="Ana García", email="ana@example.com", phone="+447911123456")


def email_destination(address: str) -> portal_access.Destination:
    return portal_access.parse_destination(address)


def code_from_latest_email() -> str:
    match = CODE.search(mail.outbox[-1].body)
    assert match is not None
    return match.group(1)


class TestRequestCode:
    def test_sends_a_six_digit_code_by_email_to_a_customer_on_file(
        self, ana: models.Customer
    ) -> None:
        with codes_delivered():
            portal_access.request_code(destination=email_destination("Ana@Example.com"), now=NOW)

        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["ana@example.com"]
        code = code_from_latest_email()
        stored = models.OneTimeCode.objects.get(customer=ana)
        assert stored.expires_at == NOW + datetime.timedelta(minutes=10)
        assert code not in stored.code_hash

    def test_sends_the_code_by_sms_to_a_phone_on_file(self, ana: models.Customer) -> None:
        with codes_delivered():
            portal_access.request_code(
                destination=portal_access.parse_destination("+44 7911 123456"), now=NOW
            )
        folder = Path(settings.ENV.data_dir) / "sms"
        texts = [sms.text for sms in fake.stored_messages(folder) if sms.to == "+447911123456"]
        assert texts
        assert CODE.search(texts[0])
        assert models.OneTimeCode.objects.get(customer=ana).channel == models.Channel.SMS

    def test_keeps_the_code_out_of_the_audit_log(self, ana: models.Customer) -> None:
        with codes_delivered():
            portal_access.request_code(destination=email_destination("ana@example.com"), now=NOW)
        code = code_from_latest_email()
        event = audit_models.AuditEvent.objects.get(event_type=events.EventType.PORTAL_CODE_SENT)
        assert event.subject_id == str(ana.pk)
        assert code not in str(event.parameters)
        assert "ana@example.com" not in str(event.parameters)

    def test_sends_nothing_to_an_unknown_destination(self) -> None:
        with codes_delivered():
            portal_access.request_code(destination=email_destination("nobody@example.com"), now=NOW)
        assert mail.outbox == []
        assert not models.OneTimeCode.objects.filter(destination="nobody@example.com").exists()

    def test_treats_a_destination_shared_by_two_customers_as_unknown(self) -> None:
        portal_data.customer(name="One", email="family@example.com")
        portal_data.customer(name="Two", email="family@example.com")
        with codes_delivered():
            portal_access.request_code(destination=email_destination("family@example.com"), now=NOW)
        assert mail.outbox == []
        assert not models.OneTimeCode.objects.exists()

    @pytest.mark.parametrize("text", ["", "ana", "12345", "ana@", "07911 123456"])
    def test_refuses_text_that_is_no_email_or_international_number(self, text: str) -> None:
        with pytest.raises(portal_access.InvalidDestination):
            portal_access.parse_destination(text)


class TestVerifyCode:
    def sent_code(self, address: str = "ana@example.com", now: datetime.datetime = NOW) -> str:
        with codes_delivered():
            portal_access.request_code(destination=email_destination(address), now=now)
        return code_from_latest_email()

    def test_signs_in_the_customer_with_the_right_code(self, ana: models.Customer) -> None:
        code = self.sent_code()
        later = NOW + datetime.timedelta(minutes=2)
        customer_id = portal_access.verify_code(
            destination=email_destination("ana@example.com"), code=code, now=later
        )
        assert customer_id == ana.pk
        assert models.OneTimeCode.objects.get(customer=ana).used_at == later
        assert audit_models.AuditEvent.objects.filter(
            event_type=events.EventType.PORTAL_SIGNED_IN, subject_id=str(ana.pk)
        ).exists()

    def test_accepts_a_code_only_once(self, ana: models.Customer) -> None:
        code = self.sent_code()
        destination = email_destination("ana@example.com")
        portal_access.verify_code(destination=destination, code=code, now=NOW)
        with pytest.raises(portal_access.CodeRejected):
            portal_access.verify_code(destination=destination, code=code, now=NOW)

    def test_refuses_a_code_after_ten_minutes(self, ana: models.Customer) -> None:
        code = self.sent_code()
        with pytest.raises(portal_access.CodeRejected):
            portal_access.verify_code(
                destination=email_destination("ana@example.com"),
                code=code,
                now=NOW + datetime.timedelta(minutes=10),
            )

    def test_accepts_a_code_just_before_it_expires(self, ana: models.Customer) -> None:
        code = self.sent_code()
        assert (
            portal_access.verify_code(
                destination=email_destination("ana@example.com"),
                code=code,
                now=NOW + datetime.timedelta(minutes=9, seconds=59),
            )
            == ana.pk
        )

    def test_kills_a_code_after_five_wrong_tries(self, ana: models.Customer) -> None:
        code = self.sent_code()
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        destination = email_destination("ana@example.com")
        for _ in range(portal_access.MAX_WRONG_TRIES):
            with pytest.raises(portal_access.CodeRejected):
                portal_access.verify_code(destination=destination, code=wrong, now=NOW)
        assert models.OneTimeCode.objects.get(customer=ana).failed_attempts == 5
        with pytest.raises(portal_access.CodeRejected):
            portal_access.verify_code(destination=destination, code=code, now=NOW)

    def test_a_new_code_replaces_the_earlier_one(self, ana: models.Customer) -> None:
        first = self.sent_code()
        second = self.sent_code(now=NOW + datetime.timedelta(minutes=1))
        destination = email_destination("ana@example.com")
        later = NOW + datetime.timedelta(minutes=2)
        if first != second:
            with pytest.raises(portal_access.CodeRejected):
                portal_access.verify_code(destination=destination, code=first, now=later)
        assert portal_access.verify_code(destination=destination, code=second, now=later) == ana.pk

    def test_refuses_any_code_for_a_destination_never_sent_one(self) -> None:
        with pytest.raises(portal_access.CodeRejected):
            portal_access.verify_code(
                destination=email_destination("nobody@example.com"), code="123456", now=NOW
            )


def ask_for_code(client: Client, destination: str) -> str:
    with codes_delivered():
        response = client.post(SIGN_IN, {"destination": destination})
    assert response.status_code == 302, response.content
    page = client.get(ENTER_CODE)
    return _visible_text(page.content.decode())


def _visible_text(html: str) -> str:
    # Everything but the CSRF token, which differs by design.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


class SlowSender:
    """A provider that takes its time (an SMTP server near its timeout, say)."""

    sent: list[message.OutboundMessage] = []

    def __init__(self, *, seconds: float = 0.0, release: threading.Event | None = None) -> None:
        self.seconds = seconds
        self.release = release

    def send(self, outbound: message.OutboundMessage) -> message.SendResult:
        if self.release is not None:
            self.release.wait(timeout=5)
        time.sleep(self.seconds)
        SlowSender.sent.append(outbound)
        return message.SendResult(provider_ref="slow")


@pytest.mark.django_db(transaction=True)
class TestSendingInTheBackground:
    def test_request_code_returns_before_the_provider_has_taken_the_message(
        self, ana: models.Customer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        release = threading.Event()
        monkeypatch.setattr(SlowSender, "sent", [])
        monkeypatch.setattr(registry, "sender_for", lambda channel: SlowSender(release=release))
        started = time.perf_counter()
        portal_access.request_code(destination=email_destination("ana@example.com"), now=NOW)
        elapsed = time.perf_counter() - started
        assert SlowSender.sent == []
        release.set()
        portal_access.wait_for_sends()
        assert elapsed < 1.0
        assert [sent.to for sent in SlowSender.sent] == ["ana@example.com"]

    def test_closes_the_sending_threads_database_connections(
        self, ana: models.Customer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        closed: list[str] = []
        monkeypatch.setattr(
            portal_access.connections,
            "close_all",
            lambda: closed.append(threading.current_thread().name),
        )
        portal_access.request_code(destination=email_destination("ana@example.com"), now=NOW)
        portal_access.wait_for_sends()
        code_id = models.OneTimeCode.objects.get(customer=ana).pk
        assert closed == [f"portal-code-{code_id}"]


class TestSendingOnCommit:
    def test_sends_nothing_when_the_transaction_rolls_back(self, ana: models.Customer) -> None:
        class RolledBack(Exception):
            pass

        with codes_delivered(), contextlib.suppress(RolledBack), transaction.atomic():
            portal_access.request_code(destination=email_destination("ana@example.com"), now=NOW)
            raise RolledBack
        assert mail.outbox == []

    def test_a_failed_send_is_logged_without_the_code(
        self,
        ana: models.Customer,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        refused: list[message.OutboundMessage] = []

        class Refusing:
            def send(self, outbound: message.OutboundMessage) -> message.SendResult:
                refused.append(outbound)
                raise message.SendFailed("SMTP: connection refused")

        monkeypatch.setattr(registry, "sender_for", lambda channel: Refusing())
        with codes_delivered():
            portal_access.request_code(destination=email_destination("ana@example.com"), now=NOW)
        code = CODE.search(refused[0].body)
        assert code is not None
        assert "connection refused" in caplog.text
        assert code.group(1) not in caplog.text
        assert mail.outbox == []


def lock_out(destination: str = "ana@example.com", *, now: datetime.datetime = NOW) -> None:
    """Spend a customer's whole budget of wrong codes on two codes, five guesses each."""
    for minutes in (0, 1):
        at = now + datetime.timedelta(minutes=minutes)
        with codes_delivered():
            portal_access.request_code(destination=email_destination(destination), now=at)
        code = code_from_latest_email()
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(portal_access.MAX_WRONG_TRIES):
            with pytest.raises(portal_access.CodeRejected):
                portal_access.verify_code(
                    destination=email_destination(destination), code=wrong, now=at
                )


class TestCustomerLockOut:
    def test_issues_no_code_once_ten_wrong_codes_were_tried(self, ana: models.Customer) -> None:
        lock_out()
        sent = len(mail.outbox)
        later = NOW + datetime.timedelta(hours=1)
        with codes_delivered():
            portal_access.request_code(destination=email_destination("ana@example.com"), now=later)
            portal_access.request_code(
                destination=portal_access.parse_destination("+447911123456"), now=later
            )
        assert len(mail.outbox) == sent
        assert models.OneTimeCode.objects.filter(customer=ana).count() == 2

    def test_accepts_no_code_once_ten_wrong_codes_were_tried(
        self, ana: models.Customer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A code sent to the phone before guesses at the email used the budget up.
        monkeypatch.setattr(SlowSender, "sent", [])
        with monkeypatch.context() as texts, codes_delivered():
            texts.setattr(registry, "sender_for", lambda channel: SlowSender())
            portal_access.request_code(
                destination=portal_access.parse_destination("+447911123456"), now=NOW
            )
        match = CODE.search(SlowSender.sent[0].body)
        assert match is not None
        lock_out()
        with pytest.raises(portal_access.CodeRejected):
            portal_access.verify_code(
                destination=portal_access.parse_destination("+447911123456"),
                code=match.group(1),
                now=NOW + datetime.timedelta(minutes=3),
            )

    def test_records_the_lock_out_once_with_when_it_ends(self, ana: models.Customer) -> None:
        lock_out()
        locked = audit_models.AuditEvent.objects.get(
            event_type=events.EventType.PORTAL_SIGN_IN_LOCKED
        )
        assert locked.subject_id == str(ana.pk)
        assert locked.parameters["locked_until"] == (NOW + datetime.timedelta(hours=24)).isoformat()
        assert "ana@example.com" not in str(locked.parameters)
        assert portal_access.locked_until(customer_id=ana.pk, now=NOW) == NOW + datetime.timedelta(
            hours=24
        )

    def test_nine_wrong_codes_do_not_lock_the_customer_out(self, ana: models.Customer) -> None:
        with codes_delivered():
            portal_access.request_code(destination=email_destination("ana@example.com"), now=NOW)
        code = code_from_latest_email()
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        destination = email_destination("ana@example.com")
        for _ in range(4):
            with pytest.raises(portal_access.CodeRejected):
                portal_access.verify_code(destination=destination, code=wrong, now=NOW)
        assert portal_access.verify_code(destination=destination, code=code, now=NOW) == ana.pk
        assert portal_access.locked_until(customer_id=ana.pk, now=NOW) is None

    def test_the_lock_out_ends_when_the_window_has_passed(self, ana: models.Customer) -> None:
        lock_out()
        # The second code's five guesses leave the window 24 hours after it was issued.
        after = NOW + datetime.timedelta(hours=24, minutes=1)
        with codes_delivered():
            portal_access.request_code(destination=email_destination("ana@example.com"), now=after)
        code = code_from_latest_email()
        assert (
            portal_access.verify_code(
                destination=email_destination("ana@example.com"), code=code, now=after
            )
            == ana.pk
        )

    def test_other_customers_wrong_codes_do_not_count(self, ana: models.Customer) -> None:
        portal_data.customer(name="Bea", email="bea@example.com")
        lock_out("bea@example.com")
        assert portal_access.locked_until(customer_id=ana.pk, now=NOW) is None

    def test_guesses_from_many_addresses_lock_the_customer_out(self, ana: models.Customer) -> None:
        # Within every per-address limit: each address asks once and guesses at most five times.
        for round_number in range(2):
            client = Client(REMOTE_ADDR=f"10.5.0.{round_number}")
            with codes_delivered():
                client.post(SIGN_IN, {"destination": "ana@example.com"})
            right = code_from_latest_email()
            wrong = f"{(int(right) + 1) % 1_000_000:06d}"
            for _ in range(portal_access.MAX_WRONG_TRIES):
                assert client.post(ENTER_CODE, {"code": wrong}).status_code == 400
        sent = len(mail.outbox)

        client = Client(REMOTE_ADDR="10.5.0.9")
        with codes_delivered():
            asked = client.post(SIGN_IN, {"destination": "ana@example.com"})
        refused = client.post(ENTER_CODE, {"code": "123456"})

        assert asked.status_code == 302
        assert asked["Location"] == ENTER_CODE
        assert len(mail.outbox) == sent
        assert refused.status_code == 400
        assert "try again later or call us on" in refused.text

    def test_a_locked_out_customer_gets_the_wording_of_any_wrong_code(
        self, ana: models.Customer
    ) -> None:
        wrong_code = Client(REMOTE_ADDR="10.6.0.1")
        with codes_delivered():
            wrong_code.post(SIGN_IN, {"destination": "zoe@example.com"})
        ordinary = wrong_code.post(ENTER_CODE, {"code": "000000"})
        lock_out(now=django_now())
        locked = Client(REMOTE_ADDR="10.6.0.2")
        locked.post(SIGN_IN, {"destination": "ana@example.com"})
        refusal = locked.post(ENTER_CODE, {"code": "000000"})

        def error(page: str) -> str:
            found = re.search(r'id="id_code_error">(.*?)</div>', page, re.S)
            assert found is not None
            return found.group(1)

        assert refusal.status_code == ordinary.status_code == 400
        assert error(refusal.text) == error(ordinary.text)


class TestNoEnumeration:
    def test_a_known_and_an_unknown_address_get_the_same_page(self, ana: models.Customer) -> None:
        known = ask_for_code(Client(), "ana@example.com")
        unknown = ask_for_code(Client(), "zoe@example.com")
        assert known.replace("ana@example.com", "X") == unknown.replace("zoe@example.com", "X")
        assert "If <strong>ana@example.com</strong> is on file" in known

    @pytest.mark.django_db(transaction=True)
    def test_a_known_and_an_unknown_address_take_similar_time_with_a_slow_provider(
        self, ana: models.Customer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Committed for real, so the send starts on commit as in production.
        monkeypatch.setattr(views, "CODE_REQUEST_MIN_SECONDS", 0.25)
        monkeypatch.setattr(SlowSender, "sent", [])
        monkeypatch.setattr(registry, "sender_for", lambda channel: SlowSender(seconds=1.0))

        def timed(address: str) -> float:
            cache.clear()
            started = time.perf_counter()
            Client().post(SIGN_IN, {"destination": address})
            return time.perf_counter() - started

        known = statistics.median(timed("ana@example.com") for _ in range(3))
        unknown = statistics.median(timed("zoe@example.com") for _ in range(3))
        assert abs(known - unknown) < 0.1
        assert min(known, unknown) >= 0.25
        portal_access.wait_for_sends()
        assert [sent.to for sent in SlowSender.sent] == ["ana@example.com"] * 3

    def test_a_wrong_code_gets_the_same_refusal_whether_or_not_the_address_is_known(
        self, ana: models.Customer
    ) -> None:
        answers = []
        for address in ("ana@example.com", "zoe@example.com"):
            client = Client()
            client.post(SIGN_IN, {"destination": address})
            response = client.post(ENTER_CODE, {"code": "000000"})
            answers.append((response.status_code, "That code did not work" in response.text))
        assert answers[0] == answers[1] == (400, True)

    def test_rate_limits_known_and_unknown_addresses_alike(self, ana: models.Customer) -> None:
        for address in ("ana@example.com", "zoe@example.com"):
            client = Client(REMOTE_ADDR=f"10.0.0.{len(address)}")
            statuses = [
                client.post(SIGN_IN, {"destination": address}).status_code for _ in range(4)
            ]
            assert statuses == [302, 302, 302, 429]


class TestRateLimits:
    def test_limits_codes_per_destination_to_three_in_fifteen_minutes(
        self, ana: models.Customer
    ) -> None:
        with codes_delivered():
            for number in range(3):
                Client(REMOTE_ADDR=f"10.1.0.{number}").post(
                    SIGN_IN, {"destination": "ana@example.com"}
                )
            response = Client(REMOTE_ADDR="10.1.0.9").post(
                SIGN_IN, {"destination": "ana@example.com"}
            )
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert len(mail.outbox) == 3

    def test_limits_code_requests_per_address(self) -> None:
        client = Client(REMOTE_ADDR="10.2.0.1")
        statuses = [
            client.post(SIGN_IN, {"destination": f"person{n}@example.com"}).status_code
            for n in range(throttle.CODES_PER_ADDRESS.max_events + 1)
        ]
        assert statuses[-1] == 429
        assert set(statuses[:-1]) == {302}

    def test_limits_wrong_codes_per_address_even_across_new_codes(
        self, ana: models.Customer
    ) -> None:
        client = Client(REMOTE_ADDR="10.3.0.1")
        client.post(SIGN_IN, {"destination": "ana@example.com"})
        statuses = [
            client.post(ENTER_CODE, {"code": "000000"}).status_code
            for _ in range(throttle.WRONG_CODES_PER_ADDRESS.max_events + 1)
        ]
        assert statuses[-1] == 429

    def test_does_not_touch_the_staff_sign_in_limits(self, ana: models.Customer) -> None:
        client = Client(REMOTE_ADDR="10.4.0.1")
        for _ in range(4):
            client.post(SIGN_IN, {"destination": "ana@example.com"})
        response = client.post("/login/", {"username": "nobody", "password": "x"})
        assert response.status_code == 200


class TestSession:
    def sign_in(self, client: Client, address: str = "ana@example.com") -> None:
        with codes_delivered():
            client.post(SIGN_IN, {"destination": address})
        response = client.post(ENTER_CODE, {"code": code_from_latest_email()})
        assert response.status_code == 302
        assert response["Location"] == "/portal/"

    def test_rotates_the_session_key_and_keeps_only_the_customer_id(
        self, ana: models.Customer
    ) -> None:
        client = Client()
        with codes_delivered():
            client.post(SIGN_IN, {"destination": "ana@example.com"})
        before = client.session.session_key
        client.post(ENTER_CODE, {"code": code_from_latest_email()})
        session = client.session
        assert session.session_key != before
        assert session[views.CUSTOMER_KEY] == ana.pk
        assert views.DESTINATION_KEY not in session
        assert "_auth_user_id" not in session

    def test_signs_out_after_thirty_idle_minutes(self, ana: models.Customer) -> None:
        client = Client()
        self.sign_in(client)
        session = client.session
        session[views.SEEN_KEY] = session[views.SEEN_KEY] - 31 * 60
        session.save()
        response = client.get("/portal/")
        assert response.status_code == 302
        assert response["Location"] == SIGN_IN
        assert views.CUSTOMER_KEY not in client.session

    def test_signing_out_ends_portal_access(self, ana: models.Customer) -> None:
        client = Client()
        self.sign_in(client)
        assert client.get("/portal/").status_code == 200
        client.post("/portal/sign-out/")
        assert client.get("/portal/").status_code == 302

    def test_a_staff_session_gives_no_portal_access(self) -> None:
        user = User.objects.create_user(username="mara", password="pw-123456789")
        user.groups.add(Group.objects.get(name=Role.MANAGER.value))
        client = Client()
        client.force_login(user)
        response = client.get("/portal/")
        assert response.status_code == 302
        assert response["Location"] == SIGN_IN

    def test_a_portal_session_gives_no_staff_access(self, ana: models.Customer) -> None:
        client = Client()
        self.sign_in(client)
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")

    def test_the_sign_in_form_needs_a_csrf_token(self, ana: models.Customer) -> None:
        client = Client(enforce_csrf_checks=True)
        with codes_delivered():
            response = client.post(SIGN_IN, {"destination": "ana@example.com"})
        assert response.status_code == 403
        assert mail.outbox == []
