"""Guard the staff views by permission and say which navigation links a user may see."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accord.domain.access import Permission
from accord.storage import roles

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


@dataclasses.dataclass(frozen=True, kw_only=True)
class NavLink:
    """Name one entry of the main navigation and the permission it needs."""

    url_name: str
    label: str | Promise
    permission: Permission


NAVIGATION: tuple[NavLink, ...] = (
    NavLink(url_name="web:home", label=_("Dashboard"), permission=Permission.VIEW_PORTFOLIO),
    NavLink(url_name="agent:queue", label=_("Work queue"), permission=Permission.WORK_ACCOUNTS),
    NavLink(
        url_name="manager:overview", label=_("Performance"), permission=Permission.VIEW_PERFORMANCE
    ),
    NavLink(
        url_name="manager:strategies", label=_("Strategies"), permission=Permission.VIEW_PERFORMANCE
    ),
    NavLink(
        url_name="manager:experiments",
        label=_("Experiments"),
        permission=Permission.VIEW_PERFORMANCE,
    ),
    NavLink(url_name="messages:index", label=_("Messages"), permission=Permission.VIEW_MESSAGES),
    NavLink(url_name="web:audit", label=_("Audit log"), permission=Permission.VIEW_AUDIT_LOG),
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ShownLink:
    """Describe a navigation link as the page shows it."""

    url: str
    label: str | Promise
    current: bool


def require_permission(permission: Permission) -> Callable[[View], View]:
    """Make a view answer only users holding ``permission``.

    Anonymous users are redirected to the sign-in page (coming back afterwards);
    signed-in users without the permission get the 403 page.
    """

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not roles.has_permission(request.user, permission):
                logger.warning(
                    "Refused %s to %s: lacks %s",
                    request.path,
                    request.user.get_username(),
                    permission.value,
                )
                return render(request, "web/403.html", staff_context(request), status=403)
            return view(request, *args, **kwargs)

        return guarded

    return decorate


def staff_context(request: HttpRequest) -> dict[str, Any]:
    """Return what every staff page shows: the allowed links and who is signed in."""
    user = request.user
    held = roles.roles_of(user)
    current = request.resolver_match.view_name if request.resolver_match else ""
    links = [
        ShownLink(url=reverse(link.url_name), label=link.label, current=link.url_name == current)
        for link in NAVIGATION
        if roles.has_permission(user, link.permission)
    ]
    # AnonymousUser has no full name; str() stands in for it, returning "".
    full_name = getattr(user, "get_full_name", str)()
    return {
        "nav_links": links,
        "display_name": full_name or user.get_username(),
        "role_labels": sorted(role.label for role in held),
    }
