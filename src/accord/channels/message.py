"""Describe an outbound message, what a sender answers, and the sender port."""

from __future__ import annotations

import dataclasses
import enum
from typing import Protocol


class Channel(enum.StrEnum):
    """Name a channel Accord sends through (the same strings as the outbox's ``channel``)."""

    EMAIL = "EMAIL"
    SMS = "SMS"
    LETTER = "LETTER"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Attachment:
    """Carry one file attached to an email."""

    filename: str
    content: bytes
    mimetype: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class OutboundMessage:
    """Hold one message ready to send.

    ``to`` is an email address, a phone number (E.164) or, for a letter, the postal
    address lines joined by newlines. ``html`` is the HTML alternative of an email or,
    for a letter, the whole letter to print. ``idempotency_key`` is the outbox row's key:
    adapters pass it to the provider (a Message-ID, an idempotency header, a file name)
    so that a retried send is recognisable as the same message.
    """

    channel: Channel
    to: str
    subject: str
    body: str
    idempotency_key: str
    html: str = ""
    attachments: tuple[Attachment, ...] = ()


class DeliveryStatus(enum.StrEnum):
    """Name what a provider last said about a message it took (the outbox's ``provider_status``).

    ``QUEUED``: taken, not yet handed on; ``SENT``: handed to the carrier or mail server;
    ``DELIVERED``: the handset or mailbox has it; ``FAILED``: the provider gave up before
    handing it on; ``BOUNCED``: handed on but refused downstream (an SMS "undelivered", an
    email bounce).
    """

    QUEUED = "QUEUED"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    BOUNCED = "BOUNCED"


# How far along each status is: a report never moves a message back to a lower rank, and
# the first final report (FAILED or BOUNCED) stands unless DELIVERED, the strongest
# evidence, follows it.
_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.FAILED: 2,
    DeliveryStatus.BOUNCED: 2,
    DeliveryStatus.DELIVERED: 3,
}


def advance(current: DeliveryStatus | None, reported: DeliveryStatus) -> DeliveryStatus | None:
    """Return the status to record when ``reported`` arrives after ``current``, or None to keep it.

    Callbacks arrive out of order ("sent" after "delivered"); a later report only counts
    when it goes further, so a delivered message is never moved back.
    """
    if current is None or _RANK[reported] > _RANK[current]:
        return reported
    return None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SendResult:
    """Say what the provider called the message (a Message-ID, an SMS id, a PDF path).

    ``provider_status`` is what the provider said about it when it took it (None when the
    channel reports nothing, e.g. a letter).
    """

    provider_ref: str
    provider_status: DeliveryStatus | None = None


class SendFailed(Exception):
    """The channel did not take the message; ``reason`` says why, for the outbox row."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SendRejected(SendFailed):
    """The provider refused the message for good: sending it again gives the same answer.

    ``code`` is the provider's error code (e.g. Twilio's 21211 "invalid 'To' number"), or
    "" when it gave none. The dispatcher should not retry it.
    """

    def __init__(self, reason: str, *, code: str = "", http_status: int | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.http_status = http_status


class SendUnavailable(SendFailed):
    """The provider could not be reached or failed on its side: sending again may work.

    Raised for timeouts, connection errors and 5xx answers. Whether the provider took the
    message is unknown, so a retry must reuse the same idempotency key.
    """

    def __init__(self, reason: str, *, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.http_status = http_status


class Sender(Protocol):
    """Send one message through one channel."""

    def send(self, message: OutboundMessage) -> SendResult:
        """Send ``message``, or raise ``SendFailed`` saying why not."""
        ...
