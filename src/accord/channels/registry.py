"""Choose the sender of each channel from the settings (the composition root)."""

from __future__ import annotations

from accord.channels import email, letter, sms
from accord.channels.message import Channel, Sender


class UnknownChannel(ValueError):
    """Accord has no sender for that channel (calls are agent tasks, not messages)."""


def sender_for(channel: Channel | str) -> Sender:
    """Return the configured sender of ``channel``; raise ``UnknownChannel`` otherwise."""
    match str(channel):
        case Channel.EMAIL:
            return email.EmailSender()
        case Channel.SMS:
            return sms.SmsSender(sms.configured_provider())
        case Channel.LETTER:
            return letter.LetterSender()
    raise UnknownChannel(f"no sender for channel {channel!r}")
