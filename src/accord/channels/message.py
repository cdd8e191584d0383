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


@dataclasses.dataclass(frozen=True, kw_only=True)
class SendResult:
    """Say what the provider called the message (a Message-ID, an SMS id, a PDF path)."""

    provider_ref: str


class SendFailed(Exception):
    """The channel did not take the message; ``reason`` says why, for the outbox row."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Sender(Protocol):
    """Send one message through one channel."""

    def send(self, message: OutboundMessage) -> SendResult:
        """Send ``message``, or raise ``SendFailed`` saying why not."""
        ...
