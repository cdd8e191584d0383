"""Pretend to send SMS: keep each one as a JSON file the messages page can show."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from accord.channels import journal

logger = logging.getLogger(__name__)

# Like a real provider, the fake answers a repeated idempotency key with the first id.
_REF = re.compile(r"fake-sms-[0-9a-f]{24}")
REF_WIDTH = len("fake-sms-") + 24


@dataclasses.dataclass(frozen=True, kw_only=True)
class StoredSms:
    """Describe one SMS the fake provider kept."""

    provider_ref: str
    to: str
    text: str
    idempotency_key: str
    sent_at: datetime


class FakeSmsProvider:
    """Store every SMS under ``folder`` instead of sending it."""

    def __init__(self, *, folder: Path) -> None:
        self._folder = folder

    def send_sms(self, *, to: str, text: str, idempotency_key: str) -> str:
        """Store the SMS as ``<ref>.json`` and return the ref (the same one for the same key)."""
        ref = "fake-sms-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        path = self._folder / f"{ref}.json"
        if path.exists():
            return ref
        self._folder.mkdir(parents=True, exist_ok=True)
        record = {
            "provider_ref": ref,
            "to": to,
            "text": text,
            "idempotency_key": idempotency_key,
            "sent_at": datetime.now(UTC).isoformat(),
        }
        # Written aside then renamed, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=self._folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle, ensure_ascii=False, indent=2)
        os.replace(tmp, path)
        journal.append(
            self._folder / journal.NAME,
            ref,
            existing=lambda: (sms.provider_ref for sms in reversed(stored_messages(self._folder))),
        )
        logger.debug("Fake SMS %s stored", ref)
        return ref


def stored_messages(folder: Path) -> list[StoredSms]:
    """Return the SMS the fake provider stored under ``folder``, newest first."""
    if not folder.is_dir():
        return []
    found = [sms for path in folder.glob("fake-sms-*.json") if (sms := _read(path)) is not None]
    return sorted(found, key=lambda sms: sms.sent_at, reverse=True)


def sent_refs(folder: Path) -> Sequence[str]:
    """Return the refs of the SMS stored under ``folder``, newest first, read a page at a time.

    The provider's journal lists them in the order they were sent; a folder without one
    is read whole instead.
    """
    found = journal.names(folder / journal.NAME, width=REF_WIDTH, valid=_REF)
    return [sms.provider_ref for sms in stored_messages(folder)] if found is None else found


def stored_message(folder: Path, provider_ref: str) -> StoredSms | None:
    """Return the stored SMS called ``provider_ref``, or None (also for a malformed ref)."""
    if not _REF.fullmatch(provider_ref):
        return None
    return _read(folder / f"{provider_ref}.json")


def _read(path: Path) -> StoredSms | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return StoredSms(
            provider_ref=str(data["provider_ref"]),
            to=str(data["to"]),
            text=str(data["text"]),
            idempotency_key=str(data["idempotency_key"]),
            sent_at=datetime.fromisoformat(data["sent_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        logger.warning("Unreadable fake SMS file %s", path)
        return None
