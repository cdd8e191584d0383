"""Issue API bearer tokens and resolve a presented token to its user.

A token is shown once, when issued; only its SHA-256 is stored, so a leaked
database does not leak working tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from accord.audit import events, log
from accord.storage import models

TOKEN_PREFIX = "acc_"  # noqa: S105 - a marker, not a secret
PREFIX_LENGTH = 8
MAX_NAME_LENGTH = 100
# Write last_used_at at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenRefused(Exception):
    """A token cannot be issued; the message says why, for people."""


class InactiveUser(TokenRefused):
    """Tokens are issued only to active users."""


class InvalidTokenName(TokenRefused):
    """A token's name must be 1 to 100 characters of text."""


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest stored for ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(*, user: Any, name: str, actor: str, now: datetime) -> str:
    """Create a token for ``user`` and record it in the audit log; return the token once.

    Raises ``InactiveUser`` for an inactive user and ``InvalidTokenName`` for an
    empty or over-long ``name``.
    """
    if not user.is_active:
        raise InactiveUser(f"user {user.get_username()!r} is inactive; no token was issued")
    label = name.strip()
    if not label or len(label) > MAX_NAME_LENGTH:
        raise InvalidTokenName(f"the token name must be 1 to {MAX_NAME_LENGTH} characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        row = models.ApiToken.objects.create(
            user=user,
            name=label,
            prefix=token[:PREFIX_LENGTH],
            key_hash=hash_token(token),
            created_at=now,
        )
        log.record(
            actor=actor,
            event_type=events.EventType.API_TOKEN_ISSUED,
            subject_type="user",
            subject_id=user.pk,
            parameters={"token_id": row.pk, "name": label, "prefix": row.prefix},
            now=now,
        )
    return token


class UnknownToken(Exception):
    """No live token has that prefix."""


class AmbiguousToken(Exception):
    """More than one live token starts with that prefix."""


def revoke_api_token(*, prefix: str, actor: str, now: datetime) -> models.ApiToken:
    """Revoke the live token whose shown prefix is ``prefix``; record it in the audit log.

    Raises ``UnknownToken`` when no unrevoked token has that prefix and
    ``AmbiguousToken`` when several do (nothing is revoked then).
    """
    with transaction.atomic():
        rows = list(
            models.ApiToken.objects.select_for_update()
            .filter(prefix=prefix, revoked_at__isnull=True)
            .order_by("pk")[:2]
        )
        if not rows:
            raise UnknownToken(f"no live API token starts with {prefix!r}")
        if len(rows) > 1:
            raise AmbiguousToken(
                f"several live API tokens start with {prefix!r}; revoke them by user instead"
            )
        (row,) = rows
        row.revoked_at = now
        row.save(update_fields=["revoked_at"])
        log.record(
            actor=actor,
            event_type=events.EventType.API_TOKEN_REVOKED,
            subject_type="user",
            subject_id=row.user_id,
            parameters={"token_id": row.pk, "name": row.name, "prefix": row.prefix},
            now=now,
        )
    return row


def user_for_token(token: str, *, now: datetime) -> Any | None:
    """Return the active user a live (unrevoked) ``token`` belongs to, else ``None``.

    Notes when the token was last used, at most once a minute.
    """
    if not token:
        return None
    row = (
        models.ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        models.ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
