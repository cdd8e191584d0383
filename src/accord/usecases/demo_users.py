"""Create one demo user per role, so a newcomer can sign in as each of them."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from accord.audit import events, log
from accord.domain import access


@dataclasses.dataclass(frozen=True, kw_only=True)
class DemoUser:
    username: str
    password: str
    role: access.Role


def demo_password(role: access.Role) -> str:
    """Return the demo password of ``role``'s user (printed by ``make demo``; demo only)."""
    return f"accord-{role.value.replace('_', '-')}-demo"


def ensure_demo_users(*, actor: str, now: datetime) -> list[DemoUser]:
    """Create (or reset) the users ``agent``, ``team_lead``, ``manager``, ``admin``, ``auditor``."""
    users = []
    model = get_user_model()
    with transaction.atomic():
        for role in access.Role:
            username = role.value
            password = demo_password(role)
            user, created = model.objects.get_or_create(
                username=username, defaults={"first_name": role.label}
            )
            user.set_password(password)
            user.is_staff = role is access.Role.ADMIN
            user.save()
            user.groups.set([Group.objects.get(name=role.value)])
            if created:
                log.record(
                    actor=actor,
                    event_type=events.EventType.USER_CREATED,
                    subject_type="user",
                    subject_id=user.pk,
                    parameters={"username": username, "role": role.value},
                    now=now,
                )
            users.append(DemoUser(username=username, password=password, role=role))
    return users
