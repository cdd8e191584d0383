"""Print letters: the rendered HTML becomes a PDF under ``MEDIA_ROOT/letters/``."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

from django.conf import settings

from accord.channels.message import Channel, OutboundMessage, SendFailed, SendResult

logger = logging.getLogger(__name__)

LETTERS = "letters"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,120}\.pdf")


def render_pdf(html: str) -> bytes:
    """Return ``html`` printed to PDF by WeasyPrint (no network: only inline resources)."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Letters embed everything they need: only data: URLs are fetched, never the network
    # or a local file named in the HTML.
    fetcher = URLFetcher(allowed_protocols=("data",))
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return pdf


def letters_folder() -> Path:
    """Return the folder the letters' PDFs are stored in."""
    return Path(settings.MEDIA_ROOT) / LETTERS


def file_name(idempotency_key: str) -> str:
    """Return the PDF file name of the letter with ``idempotency_key`` (safe, stable)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
    return f"{_UNSAFE.sub('-', idempotency_key)[:80].strip('-')}-{digest}.pdf"


def letter_path(document: str) -> Path | None:
    """Return the file of a stored letter (``letters/<name>.pdf``), or None if it is not one.

    Only a bare file name inside the letters folder is accepted, so a crafted value
    ("../settings.py", an absolute path) never reaches the file system.
    """
    folder, _, name = document.partition("/")
    if folder != LETTERS or not _NAME.fullmatch(name):
        return None
    path = letters_folder() / name
    return path if path.is_file() else None


class LetterSender:
    """'Send' a letter by printing it to PDF; the provider ref is its path under MEDIA_ROOT."""

    def send(self, message: OutboundMessage) -> SendResult:
        """Print ``message.html`` to ``MEDIA_ROOT/letters/``; raise ``SendFailed`` on error."""
        if message.channel is not Channel.LETTER:
            raise SendFailed(f"the letter sender cannot send {message.channel}")
        if not message.html:
            raise SendFailed("the letter has no content to print")
        name = file_name(message.idempotency_key)
        folder = letters_folder()
        try:
            pdf = render_pdf(message.html)
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(pdf)
            os.replace(tmp, folder / name)
        except OSError as error:
            logger.warning("Letter %s not stored: %s", name, error)
            raise SendFailed(f"letter: {error}") from error
        return SendResult(provider_ref=f"{LETTERS}/{name}")
