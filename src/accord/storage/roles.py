"""Keep the Django groups that stand for Accord's roles in step with ``domain.access``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from accord.domain import access


def sync_roles(**_: Any) -> None:
    """Create one group per role holding exactly that role's permissions (idempotent)."""
    from accord.storage import models

    content_type = ContentType.objects.get_for_model(models.Authority, for_concrete_model=False)
    permissions = {}
    for perm in access.Permission:
        label = dict(models.Authority._meta.permissions)[perm.value]
        permissions[perm], _created = Permission.objects.get_or_create(
            content_type=content_type, codename=perm.value, defaults={"name": label}
        )
    for role, granted in access.ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        group.permissions.set([permissions[p] for p in granted])


def roles_of(user: Any) -> frozenset[access.Role]:
    """Return the roles a user holds (superusers hold every role)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(access.Role)
    cached = getattr(user, "_accord_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(r for r in access.Role if r.value in names)
        user._accord_roles = cached
    return cached


def has_permission(user: Any, permission: access.Permission) -> bool:
    """Return whether ``user`` holds ``permission`` through one of its roles."""
    return access.may(roles=roles_of(user), permission=permission)
