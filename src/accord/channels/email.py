"""Send email through Django's mail backend (SMTP in every configuration Accord ships)."""

from __future__ import annotations

import hashlib
import logging
import smtplib
import socket

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from accord.channels.message import (
    Channel,
    OutboundMessage,
    SendFailed,
    SendResult,
    SendUnavailable,
)

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30
IDEMPOTENCY_HEADER = "X-Accord-Idempotency-Key"
# Errors raised before the SMTP server could take anything: a repeat cannot duplicate.
_NOT_CONNECTED = (smtplib.SMTPConnectError, ConnectionRefusedError, socket.gaierror)


def message_id(idempotency_key: str) -> str:
    """Return the Message-ID of the message with ``idempotency_key``: the same key, the same id.

    A receiving system that sees the same Message-ID twice can tell it is one message
    delivered twice (ADR 0010).
    """
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    domain = str(settings.DEFAULT_FROM_EMAIL).rpartition("@")[2].strip(" >") or "accord.invalid"
    return f"<{digest}@{domain}>"


class EmailSender:
    """Send an ``OutboundMessage`` as a text email with its HTML alternative."""

    def __init__(self, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        self._timeout = timeout

    def send(self, message: OutboundMessage) -> SendResult:
        """Send ``message`` by SMTP; raise ``SendFailed`` when the server refuses or is away.

        ``SendUnavailable`` when the server could not be reached at all (nothing left, so
        the dispatcher may retry); a plain ``SendFailed`` otherwise (it may have left).
        """
        if message.channel is not Channel.EMAIL:
            raise SendFailed(f"the email sender cannot send {message.channel}")
        msgid = message_id(message.idempotency_key)
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={"Message-ID": msgid, IDEMPOTENCY_HEADER: message.idempotency_key},
            connection=get_connection(timeout=self._timeout),
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        for attachment in message.attachments:
            email.attach(attachment.filename, attachment.content, attachment.mimetype)
        try:
            sent = email.send(fail_silently=False)
        except _NOT_CONNECTED as error:
            logger.warning("Email %s not sent, SMTP server unreachable: %s", msgid, error)
            raise SendUnavailable(f"SMTP: {error}") from error
        except (smtplib.SMTPException, OSError) as error:
            # Anything later (a timeout during DATA...) leaves unknown whether it left.
            logger.warning("Email %s not sent: %s", msgid, error)
            raise SendFailed(f"SMTP: {error}") from error
        if sent != 1:
            raise SendFailed("SMTP: the server accepted no recipient")
        return SendResult(provider_ref=msgid)
