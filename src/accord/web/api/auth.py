"""Authenticate ``Authorization: Bearer <token>`` and check the caller's role, per endpoint.

Each endpoint declares ``auth=requires(Permission.X)``: the token is resolved
to an active user (401 otherwise) and that user's roles must grant the
permission (403 otherwise), before the request body or query is even read.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from accord.domain.access import Permission
from accord.storage import roles
from accord.usecases import api_tokens


class BearerToken(HttpBearer):
    """Accept an Accord API token whose user holds ``permission``."""

    def __init__(self, permission: Permission) -> None:
        super().__init__()
        self.permission = permission

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        """Return the token's user; ``None`` (401) for an unknown, revoked or inactive one.

        Raises ``AuthorizationError`` (403) when the user's roles lack the permission.
        """
        user = api_tokens.user_for_token(token.strip(), now=timezone.now())
        if user is None:
            return None
        request.user = user
        if not roles.has_permission(user, self.permission):
            raise AuthorizationError(
                message=f"your role does not include the {self.permission.value} permission"
            )
        return user


def requires(permission: Permission) -> BearerToken:
    """Return the authentication an endpoint needing ``permission`` declares."""
    return BearerToken(permission)
