"""Send SMS through a provider port: ``fake`` for the demo and tests, ``http`` later.

A provider adapter only has to implement :class:`SmsProvider`; :func:`configured_provider`
picks one from ``ACCORD_SMS_PROVIDER``. The real HTTP adapter belongs in ``sms/http.py``
beside :mod:`accord.channels.sms.fake`.

The fake provider sends nothing: it keeps each text (sign-in codes included) in a folder.
It is the default so that the demo works offline, but it must never be chosen silently in
production: :func:`production_warning` says so whenever it is configured without
``ACCORD_DEMO`` or ``ACCORD_DEBUG``, and every Accord process logs that at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from django.conf import settings

from accord.channels.message import Channel, OutboundMessage, SendFailed, SendResult


class SmsProvider(Protocol):
    """Deliver one text message; return the provider's id for it."""

    def send_sms(self, *, to: str, text: str, idempotency_key: str) -> str:
        """Send ``text`` to ``to`` (E.164); raise ``SendFailed`` when the provider refuses."""
        ...


class SmsProviderUnavailable(SendFailed):
    """The configured SMS provider cannot be used in this installation."""


def sms_folder() -> Path:
    """Return the folder where the fake provider keeps the SMS it 'sent'."""
    return Path(settings.ENV.data_dir) / "sms"


FAKE = "fake"


def production_warning(*, provider: str, demo: bool, debug: bool) -> str | None:
    """Return why the SMS configuration is unsafe for production, or None when it is fine."""
    if provider != FAKE or demo or debug:
        return None
    return (
        "ACCORD_SMS_PROVIDER=fake outside demo/debug mode: no text message reaches a "
        "customer; each is only written to ACCORD_DATA_DIR/sms/. Configure a real provider."
    )


def configured_provider() -> SmsProvider:
    """Return the provider named by ``ACCORD_SMS_PROVIDER`` (default ``fake``)."""
    from accord.channels.sms import fake

    name = settings.ENV.sms_provider
    if name == FAKE:
        return fake.FakeSmsProvider(folder=sms_folder())
    raise SmsProviderUnavailable(
        f"SMS provider {name!r} is not available yet; set ACCORD_SMS_PROVIDER=fake"
    )


class SmsSender:
    """Send an ``OutboundMessage`` through an ``SmsProvider``."""

    def __init__(self, provider: SmsProvider) -> None:
        self._provider = provider

    def send(self, message: OutboundMessage) -> SendResult:
        """Send the message's body as an SMS; raise ``SendFailed`` when it cannot go."""
        if message.channel is not Channel.SMS:
            raise SendFailed(f"the SMS sender cannot send {message.channel}")
        ref = self._provider.send_sms(
            to=message.to, text=message.body, idempotency_key=message.idempotency_key
        )
        return SendResult(provider_ref=ref)
