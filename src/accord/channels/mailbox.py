"""Run the demo's SMTP sink and read what it received (``data_dir/mailbox/*.eml``).

``accord mailsink`` serves :class:`MailboxHandler` with aiosmtpd: a real SMTP server
that delivers every message into a folder instead of onwards, so the demo (and the
integration tests) exercise the same SMTP path production does.
"""

from __future__ import annotations

import dataclasses
import email.parser
import email.policy
import logging
import os
import re
import tempfile
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from django.conf import settings

from accord.channels import journal

logger = logging.getLogger(__name__)

_NAME = re.compile(r"\d{8}T\d{12}-[0-9a-f]{12}\.eml")
NAME_WIDTH = len("20260101T000000000000-0123456789ab.eml")
_FOLD = re.compile(r"[ \t]*\r?\n[ \t]*")
SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "X-Accord-Idempotency-Key")


def mailbox_folder() -> Path:
    """Return the folder the demo sink stores received messages in."""
    return Path(settings.ENV.data_dir) / "mailbox"


class MailboxHandler:
    """Store each message aiosmtpd receives as one ``.eml`` file under ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Write the message to a new file and accept it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, self.folder / name)
        journal.append(
            self.folder / journal.NAME, name, existing=lambda: reversed(mail_names(self.folder))
        )
        logger.debug("Mail sink stored %s for %s", name, ", ".join(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def start_sink(*, host: str, port: int, folder: Path) -> Controller:
    """Start an SMTP sink on ``host:port`` in a background thread and return its controller."""
    controller = Controller(MailboxHandler(folder), hostname=host, port=port)
    try:
        controller.start()
    except BaseException:
        # The controller made its own event loop; close it, or its sockets leak.
        if not controller.loop.is_closed():
            controller.loop.close()
        raise
    return controller


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReceivedMail:
    """Describe one message the sink received."""

    name: str
    received_at: datetime
    headers: tuple[tuple[str, str], ...]
    subject: str
    sender: str
    to: str
    text: str
    html: str


def mail_names(folder: Path) -> list[str]:
    """Return the stored messages' file names, newest first."""
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if _NAME.fullmatch(p.name)), reverse=True)


def received(folder: Path) -> Sequence[str]:
    """Return the stored messages' file names, newest first, read a page at a time.

    The sink's journal lists them in the order they arrived; a folder without one (filled
    by hand) is listed instead.
    """
    found = journal.names(folder / journal.NAME, width=NAME_WIDTH, valid=_NAME)
    return mail_names(folder) if found is None else found


@dataclasses.dataclass(frozen=True, kw_only=True)
class MailSummary:
    """Describe a received message as a list shows it: when, to whom, about what."""

    name: str
    received_at: datetime
    to: str
    subject: str


def read_summary(folder: Path, name: str) -> MailSummary | None:
    """Return the list entry of the stored message ``name`` (its headers only), or None.

    Parsing only the two headers a list shows costs a fifth of :func:`read_mail`.
    """
    if not _NAME.fullmatch(name):
        return None
    try:
        raw = (folder / name).read_bytes()
    except OSError:
        return None
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
        raw, headersonly=True
    )
    assert isinstance(message, EmailMessage)  # policy.default parses to EmailMessage
    return MailSummary(
        name=name,
        received_at=_received_at(name),
        to=_header(message, "To"),
        subject=_header(message, "Subject"),
    )


def read_mail(folder: Path, name: str) -> ReceivedMail | None:
    """Return the stored message ``name``, or None (also for any name the sink did not make)."""
    if not _NAME.fullmatch(name):
        return None
    try:
        raw = (folder / name).read_bytes()
    except OSError:
        return None
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # policy.default parses to EmailMessage
    return ReceivedMail(
        name=name,
        received_at=_received_at(name),
        headers=tuple((h, _header(message, h)) for h in SHOWN_HEADERS if message[h] is not None),
        subject=_header(message, "Subject"),
        sender=_header(message, "From"),
        to=_header(message, "To"),
        text=_part(message, "plain"),
        html=_part(message, "html"),
    )


def _received_at(name: str) -> datetime:
    return datetime.strptime(name[:21], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)


def _header(message: EmailMessage, name: str) -> str:
    # A folded encoded header (Django folds long non-ASCII subjects) keeps a leading space.
    return _FOLD.sub(" ", str(message.get(name, ""))).strip(" \t")


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""
