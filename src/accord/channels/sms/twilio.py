"""Send SMS through a Twilio-compatible HTTP API, and check the signatures of its webhooks.

A message is created with ``POST {base_url}/2010-04-01/Accounts/{sid}/Messages.json``
(form fields ``To``, ``From`` or ``MessagingServiceSid``, ``Body``, ``StatusCallback``),
authenticated with HTTP Basic (account SID, auth token). The outbox row's idempotency key
travels as the ``I-Twilio-Idempotency-Token`` header, so a provider that honours it answers
a retried send with the first message instead of sending a second one (ADR 0020).

Answers are mapped onto the two failures the dispatcher tells apart:
``SendRejected`` (a 4xx other than 408/429: the same request fails again; the provider's
error code and message are kept) and ``SendUnavailable`` (timeouts, connection errors,
408, 429 and 5xx: whether the message left is unknown and a retry with the same key may
work).

Only the standard library is used (``urllib.request``, ``hmac``).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import http.client
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping

from accord.channels.message import DeliveryStatus, SendRejected, SendUnavailable

logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
SIGNATURE_HEADER = "X-Twilio-Signature"
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
INBOUND_PATH = "/webhooks/twilio/inbound"
# The query parameter of the status callback URL that names the outbox row's key.
KEY_PARAMETER = "key"

# Twilio's message statuses, as Accord records them; "receiving"/"received" are inbound.
STATUSES: Mapping[str, DeliveryStatus] = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.BOUNCED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}

# Client errors that say "not now" rather than "never".
_RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


def delivery_status(raw: str) -> DeliveryStatus | None:
    """Return Accord's name for Twilio's message status ``raw``, or None when it has none."""
    return STATUSES.get(raw.strip().lower())


@dataclasses.dataclass(frozen=True, kw_only=True)
class TwilioConfig:
    """Hold what the adapter needs: where the API is, who we are, where to report back."""

    account_sid: str
    auth_token: str
    from_number: str = ""
    messaging_service_sid: str = ""
    base_url: str = "https://api.twilio.com"
    public_url: str = ""
    timeout: float = 10.0

    def missing(self) -> list[str]:
        """Return the names of the settings still needed to send (empty when complete)."""
        needed = []
        if not self.account_sid:
            needed.append("ACCORD_TWILIO_ACCOUNT_SID")
        if not self.auth_token:
            needed.append("ACCORD_TWILIO_AUTH_TOKEN")
        if not (self.from_number or self.messaging_service_sid):
            needed.append("ACCORD_TWILIO_FROM (or ACCORD_TWILIO_MESSAGING_SERVICE_SID)")
        return needed


@dataclasses.dataclass(frozen=True, kw_only=True)
class Receipt:
    """Say what the provider called the message it took and how far it has gone."""

    provider_ref: str
    status: DeliveryStatus


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would repeat a POST as a GET without its body."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def status_callback_url(public_url: str, idempotency_key: str) -> str:
    """Return the status callback URL for the message with ``idempotency_key``.

    The key names the outbox row, so a callback that arrives before the dispatcher has
    recorded the provider's id still finds its row; Twilio signs the whole URL.
    """
    query = urllib.parse.urlencode({KEY_PARAMETER: idempotency_key})
    return f"{public_url.rstrip('/')}{STATUS_CALLBACK_PATH}?{query}"


class TwilioSmsProvider:
    """Send SMS through a Twilio-compatible REST API."""

    def __init__(self, *, config: TwilioConfig) -> None:
        self._config = config
        self._opener = urllib.request.build_opener(_NoRedirects)

    def send_sms(self, *, to: str, text: str, idempotency_key: str) -> Receipt:
        """Create the message; return its SID and status.

        Raises ``SendRejected`` (final) or ``SendUnavailable`` (retry with the same key).
        """
        config = self._config
        fields = {"To": to, "Body": text}
        if config.messaging_service_sid:
            fields["MessagingServiceSid"] = config.messaging_service_sid
        else:
            fields["From"] = config.from_number
        if config.public_url:
            fields["StatusCallback"] = status_callback_url(config.public_url, idempotency_key)
        account = urllib.parse.quote(config.account_sid, safe="")
        url = f"{config.base_url.rstrip('/')}/{API_VERSION}/Accounts/{account}/Messages.json"
        credentials = base64.b64encode(f"{config.account_sid}:{config.auth_token}".encode()).decode(
            "ascii"
        )
        request = urllib.request.Request(  # noqa: S310 - the URL is the configured API's
            url,
            data=urllib.parse.urlencode(fields).encode("ascii"),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Accept": "application/json",
                IDEMPOTENCY_HEADER: idempotency_key,
                "User-Agent": "accord-sms",
            },
        )
        try:
            with self._opener.open(request, timeout=config.timeout) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, _read(error)
        except TimeoutError as error:
            raise SendUnavailable(f"the SMS provider did not answer in time ({error})") from error
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            raise SendUnavailable(f"the SMS provider could not be reached ({error})") from error
        return _receipt(status, body)


def _read(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read()
    except (OSError, http.client.HTTPException):
        return b""
    finally:
        error.close()


def _receipt(status: int, body: bytes) -> Receipt:
    if 200 <= status < 300:
        data = _json(body)
        sid = str(data.get("sid") or "")
        if not sid:
            # It may have been taken: only a retry with the same key can tell.
            raise SendUnavailable(f"the SMS provider answered {status} without a message SID")
        raw = str(data.get("status") or "queued")
        return Receipt(provider_ref=sid, status=delivery_status(raw) or DeliveryStatus.QUEUED)
    data = _json(body)
    code = str(data.get("code") or "")
    detail = str(data.get("message") or "").strip()
    said = f"error {code}: {detail}" if code else (detail or "no error detail")
    if status >= 500 or status in _RETRYABLE_CLIENT_ERRORS:
        raise SendUnavailable(f"the SMS provider answered {status} ({said})", http_status=status)
    raise SendRejected(
        f"the SMS provider refused the message: {status} ({said})", code=code, http_status=status
    )


def _json(body: bytes) -> dict[str, object]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# --- Webhook signatures ---


def signature(*, auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Return Twilio's signature of a webhook: base64(HMAC-SHA1(token, URL + sorted params)).

    ``url`` is the full URL Twilio requested (scheme, host, path and query string);
    ``params`` are the POST form fields, each name followed by its value, sorted by name
    (a name given more than once contributes each of its values, sorted).
    """
    payload = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_is_valid(
    *, auth_token: str, url: str, params: Iterable[tuple[str, str]], given: str | None
) -> bool:
    """Say whether ``given`` is Twilio's signature of this request (never without a token)."""
    if not auth_token or not given:
        return False
    expected = signature(auth_token=auth_token, url=url, params=params)
    return hmac.compare_digest(expected.encode("ascii"), given.strip().encode("utf-8"))
