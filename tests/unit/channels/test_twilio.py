"""The Twilio adapter sends once per key and tells final from retryable failures (local server)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from accord.channels import message
from accord.channels.message import DeliveryStatus
from accord.channels.sms import twilio
from tests.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, running_twilio

TO = "+34612345678"


@pytest.fixture
def server() -> Iterator[FakeTwilio]:
    with running_twilio() as state:
        yield state


def _provider(server: FakeTwilio, **overrides: object) -> twilio.TwilioSmsProvider:
    values: dict[str, object] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": "+15005550006",
        "base_url": server.base_url,
        "public_url": "https://accord.example.com",
        "timeout": 2.0,
        **overrides,
    }
    return twilio.TwilioSmsProvider(config=twilio.TwilioConfig(**values))  # type: ignore[arg-type]


class TestSending:
    def test_a_created_message_gives_its_sid_and_queued_status(self, server: FakeTwilio) -> None:
        receipt = _provider(server).send_sms(to=TO, text="Hello", idempotency_key="late:1")
        assert receipt.provider_ref.startswith("SM")
        assert receipt.status is DeliveryStatus.QUEUED
        assert server.messages_sent == 1

    def test_the_request_carries_to_from_body_and_a_status_callback_naming_the_key(
        self, server: FakeTwilio
    ) -> None:
        _provider(server).send_sms(to=TO, text="Hello", idempotency_key="promise:7")
        (request,) = server.received
        assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        assert request.form["To"] == [TO]
        assert request.form["From"] == ["+15005550006"]
        assert request.form["Body"] == ["Hello"]
        callback = urlsplit(request.form["StatusCallback"][0])
        assert (callback.scheme, callback.netloc, callback.path) == (
            "https",
            "accord.example.com",
            "/webhooks/twilio/status",
        )
        assert parse_qs(callback.query) == {"key": ["promise:7"]}

    def test_a_messaging_service_is_sent_instead_of_a_from_number(self, server: FakeTwilio) -> None:
        provider = _provider(server, from_number="", messaging_service_sid="MG123")
        provider.send_sms(to=TO, text="Hello", idempotency_key="k")
        (request,) = server.received
        assert request.form["MessagingServiceSid"] == ["MG123"]
        assert "From" not in request.form

    def test_the_request_authenticates_with_basic_auth_of_the_account_sid_and_token(
        self, server: FakeTwilio
    ) -> None:
        _provider(server).send_sms(to=TO, text="Hello", idempotency_key="k")
        (request,) = server.received
        scheme, _, encoded = request.headers["authorization"].partition(" ")
        assert scheme == "Basic"
        assert base64.b64decode(encoded).decode() == f"{ACCOUNT_SID}:{AUTH_TOKEN}"

    def test_unicode_text_is_form_encoded_as_utf8(self, server: FakeTwilio) -> None:
        text = "Hola Ana García: 250,50\xa0€ pendiente. ¿Dudas? 📞"
        _provider(server).send_sms(to=TO, text=text, idempotency_key="k")
        (request,) = server.received
        assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
        assert b"Body=Hola+Ana+Garc%C3%ADa" in request.raw
        assert request.form["Body"] == [text]

    def test_the_idempotency_key_is_sent_as_twilios_header(self, server: FakeTwilio) -> None:
        _provider(server).send_sms(to=TO, text="Hello", idempotency_key="late:42")
        (request,) = server.received
        assert request.headers["i-twilio-idempotency-token"] == "late:42"

    def test_a_retried_send_with_the_same_key_is_the_same_message_not_a_second_one(
        self, server: FakeTwilio
    ) -> None:
        provider = _provider(server)
        first = provider.send_sms(to=TO, text="Hello", idempotency_key="late:1")
        again = provider.send_sms(to=TO, text="Hello", idempotency_key="late:1")
        other = provider.send_sms(to=TO, text="Hello", idempotency_key="late:2")
        assert again.provider_ref == first.provider_ref != other.provider_ref
        assert server.messages_sent == 2


class TestFailures:
    def test_a_twilio_error_is_a_final_rejection_with_its_code_and_message(
        self, server: FakeTwilio
    ) -> None:
        server.behaviour = "bad_number"
        with pytest.raises(message.SendRejected) as raised:
            _provider(server).send_sms(to="+1", text="Hello", idempotency_key="k")
        assert raised.value.code == "21211"
        assert raised.value.http_status == 400
        assert "21211" in raised.value.reason
        assert "not a valid phone number" in raised.value.reason

    def test_wrong_credentials_are_a_final_rejection(self, server: FakeTwilio) -> None:
        with pytest.raises(message.SendRejected) as raised:
            _provider(server, auth_token="wrong").send_sms(to=TO, text="x", idempotency_key="k")
        assert raised.value.code == "20003"
        assert "wrong" not in raised.value.reason

    def test_a_server_error_can_be_retried(self, server: FakeTwilio) -> None:
        server.behaviour = "server_error"
        with pytest.raises(message.SendUnavailable) as raised:
            _provider(server).send_sms(to=TO, text="Hello", idempotency_key="k")
        assert raised.value.http_status == 500
        assert not isinstance(raised.value, message.SendRejected)

    def test_no_answer_in_time_can_be_retried(self, server: FakeTwilio) -> None:
        server.behaviour, server.delay = "slow", 1.5
        with pytest.raises(message.SendUnavailable, match="in time"):
            _provider(server, timeout=0.3).send_sms(to=TO, text="Hello", idempotency_key="k")

    def test_a_server_that_is_not_there_can_be_retried(self, server: FakeTwilio) -> None:
        provider = _provider(server, base_url="http://127.0.0.1:9")
        with pytest.raises(message.SendUnavailable, match="could not be reached"):
            provider.send_sms(to=TO, text="Hello", idempotency_key="k")

    def test_a_success_without_a_sid_can_be_retried_with_the_same_key(
        self, server: FakeTwilio
    ) -> None:
        server.behaviour = "no_sid"
        with pytest.raises(message.SendUnavailable, match="without a message SID"):
            _provider(server).send_sms(to=TO, text="Hello", idempotency_key="k")

    @pytest.mark.parametrize("status", [408, 429])
    def test_throttling_and_request_timeouts_can_be_retried(self, status: int) -> None:
        with pytest.raises(message.SendUnavailable):
            twilio._receipt(status, b'{"code": 20429, "message": "Too Many Requests"}')

    def test_an_error_page_that_is_not_json_is_still_a_rejection(self) -> None:
        with pytest.raises(message.SendRejected, match="no error detail"):
            twilio._receipt(403, b"<html>Forbidden</html>")


class TestStatuses:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("queued", DeliveryStatus.QUEUED),
            ("accepted", DeliveryStatus.QUEUED),
            ("sending", DeliveryStatus.QUEUED),
            ("sent", DeliveryStatus.SENT),
            ("delivered", DeliveryStatus.DELIVERED),
            ("undelivered", DeliveryStatus.BOUNCED),
            ("failed", DeliveryStatus.FAILED),
            ("Delivered", DeliveryStatus.DELIVERED),
            ("received", None),
            ("nonsense", None),
        ],
    )
    def test_twilio_statuses_map_onto_accords(self, raw: str, expected: DeliveryStatus) -> None:
        assert twilio.delivery_status(raw) is expected

    def test_missing_settings_are_named(self) -> None:
        config = twilio.TwilioConfig(account_sid="", auth_token="")
        assert config.missing() == [
            "ACCORD_TWILIO_ACCOUNT_SID",
            "ACCORD_TWILIO_AUTH_TOKEN",
            "ACCORD_TWILIO_FROM (or ACCORD_TWILIO_MESSAGING_SERVICE_SID)",
        ]


def _independent_signature(token: str, url: str, params: dict[str, str]) -> str:
    """Compute Twilio's signature the way its documentation spells it out."""
    data = url
    for name in sorted(params):
        data += name + params[name]
    mac = hmac.new(token.encode(), data.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


class TestWebhookSignatures:
    DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
    DOC_PARAMS = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }

    def test_twilios_published_example_gives_its_published_signature(self) -> None:
        given = twilio.signature(
            auth_token="12345", url=self.DOC_URL, params=list(self.DOC_PARAMS.items())
        )
        assert (
            given
            == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
            == _independent_signature("12345", self.DOC_URL, self.DOC_PARAMS)
        )

    def test_parameters_in_any_order_and_unicode_sign_the_same(self) -> None:
        params = {"Body": "Parar ¿sí? 📵", "From": "+34612345678", "MessageSid": "SM1"}
        url = "https://accord.example.com/webhooks/twilio/inbound"
        expected = _independent_signature(AUTH_TOKEN, url, params)
        reversed_items = list(reversed(list(params.items())))
        assert twilio.signature_is_valid(
            auth_token=AUTH_TOKEN, url=url, params=reversed_items, given=expected
        )

    @pytest.mark.parametrize(
        ("token", "url", "change", "given"),
        [
            ("12345", DOC_URL, {"Digits": "9999"}, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
            ("12345", "https://mycompany.com/myapp.php", {}, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
            ("54321", DOC_URL, {}, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
            ("12345", DOC_URL, {}, "0/KCTR6DLpKmkAf8muzZqo1nDgQ"),
            ("12345", DOC_URL, {}, ""),
            ("12345", DOC_URL, {}, None),
            ("", DOC_URL, {}, _independent_signature("", DOC_URL, DOC_PARAMS)),
        ],
        ids=[
            "tampered-param",
            "other-url",
            "other-token",
            "truncated",
            "empty",
            "missing",
            "no-token",
        ],
    )
    def test_anything_twilio_did_not_sign_is_refused(
        self, token: str, url: str, change: dict[str, str], given: str | None
    ) -> None:
        params = {**self.DOC_PARAMS, **change}
        assert not twilio.signature_is_valid(
            auth_token=token, url=url, params=params.items(), given=given
        )
