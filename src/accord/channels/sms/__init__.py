"""Send SMS through a provider port: ``twilio`` in production, ``fake`` for the demo and tests.

A provider adapter only has to implement :class:`SmsProvider`; :func:`configured_provider`
picks one from ``ACCORD_SMS_PROVIDER``: :mod:`accord.channels.sms.twilio` (a
Twilio-compatible HTTP API, ADR 0020) or :mod:`accord.channels.sms.fake`.

The fake provider sends nothing: it keeps each text (sign-in codes included) in a folder.
It is the default so that the demo works offline, but it must never be chosen silently in
production: :func:`production_warning` says so whenever it is configured without
``ACCORD_DEMO`` or ``ACCORD_DEBUG``, and every Accord process logs that at start-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from django.conf import settings

from accord.channels.message import (
    Channel,
    DeliveryStatus,
    OutboundMessage,
    SendFailed,
    SendResult,
    SendUnavailable,
)
from accord.channels.sms.twilio import Receipt, TwilioConfig


class SmsProvider(Protocol):
    """Deliver one text message; return the provider's id for it (and its status, if known)."""

    def send_sms(self, *, to: str, text: str, idempotency_key: str) -> str | Receipt:
        """Send ``text`` to ``to`` (E.164); raise ``SendFailed`` when the provider refuses.

        ``SendRejected`` means "never" and ``SendUnavailable`` "maybe later, with the same key".
        """
        ...


class SmsProviderUnavailable(SendUnavailable):
    """The configured SMS provider cannot be used until its settings are fixed."""


def sms_folder() -> Path:
    """Return the folder where the fake provider keeps the SMS it 'sent'."""
    return Path(settings.ENV.data_dir) / "sms"


FAKE = "fake"
TWILIO = "twilio"
PROVIDERS = (FAKE, TWILIO)


def production_warning(
    *, provider: str, demo: bool, debug: bool, missing: Sequence[str] = ()
) -> str | None:
    """Return why the SMS configuration is unsafe for production, or None when it is fine.

    ``missing`` names the settings the chosen real provider still needs (see
    :func:`missing_settings`); an unknown provider or an incomplete one is warned about
    in every mode, since no text message would leave.
    """
    if provider not in PROVIDERS:
        return (
            f"ACCORD_SMS_PROVIDER={provider} is not a known provider "
            f"({', '.join(PROVIDERS)}): no text message can be sent."
        )
    if missing:
        return (
            f"ACCORD_SMS_PROVIDER={provider} needs {', '.join(missing)}: "
            "no text message can be sent until they are set."
        )
    if provider != FAKE or demo or debug:
        return None
    return (
        "ACCORD_SMS_PROVIDER=fake outside demo/debug mode: no text message reaches a "
        "customer; each is only written to ACCORD_DATA_DIR/sms/. Configure a real provider."
    )


def twilio_config() -> TwilioConfig:
    """Return the Twilio adapter's settings from the environment (``ACCORD_TWILIO_*``)."""
    env = settings.ENV
    return TwilioConfig(
        account_sid=env.twilio_account_sid,
        auth_token=env.twilio_auth_token,
        from_number=env.twilio_from,
        messaging_service_sid=env.twilio_messaging_service_sid,
        base_url=env.twilio_base_url,
        public_url=env.public_url,
        timeout=env.twilio_timeout,
    )


def missing_settings() -> list[str]:
    """Return the settings the configured provider still needs (empty for the fake)."""
    return twilio_config().missing() if settings.ENV.sms_provider == TWILIO else []


def configured_provider() -> SmsProvider:
    """Return the provider named by ``ACCORD_SMS_PROVIDER`` (default ``fake``).

    Raises ``SmsProviderUnavailable`` for an unknown or incompletely configured provider.
    """
    from accord.channels.sms import fake, twilio

    name = settings.ENV.sms_provider
    if name == FAKE:
        return fake.FakeSmsProvider(folder=sms_folder())
    if name == TWILIO:
        missing = missing_settings()
        if missing:
            raise SmsProviderUnavailable(
                f"the Twilio SMS provider is not configured: set {', '.join(missing)}"
            )
        return twilio.TwilioSmsProvider(config=twilio_config())
    raise SmsProviderUnavailable(
        f"SMS provider {name!r} is unknown; set ACCORD_SMS_PROVIDER to {' or '.join(PROVIDERS)}"
    )


class SmsSender:
    """Send an ``OutboundMessage`` through an ``SmsProvider``."""

    def __init__(self, provider: SmsProvider) -> None:
        self._provider = provider

    def send(self, message: OutboundMessage) -> SendResult:
        """Send the message's body as an SMS; raise ``SendFailed`` when it cannot go."""
        if message.channel is not Channel.SMS:
            raise SendFailed(f"the SMS sender cannot send {message.channel}")
        answer = self._provider.send_sms(
            to=message.to, text=message.body, idempotency_key=message.idempotency_key
        )
        if isinstance(answer, Receipt):
            return SendResult(provider_ref=answer.provider_ref, provider_status=answer.status)
        # A provider that only gives an id has taken the message and says nothing more.
        return SendResult(provider_ref=answer, provider_status=DeliveryStatus.QUEUED)
