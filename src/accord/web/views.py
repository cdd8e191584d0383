"""Serve the staff web app's pages: sign-in, the dashboard and the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from accord.analytics import portfolio_summary
from accord.audit.models import AuditEvent
from accord.domain.access import Permission
from accord.web import access, ratelimit

AUDIT_PAGE_SIZE = 100


class SignInView(LoginView):
    """Sign staff in, refusing attempts once :mod:`accord.web.ratelimit` locks them out."""

    template_name = "web/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Refuse the attempt while locked out; otherwise check the credentials."""
        now = timezone.now()
        locked = ratelimit.lockout(username=self._username(), ip=self._ip(), now=now)
        if locked is None:
            return super().post(request, *args, **kwargs)
        minutes = locked.minutes_left(now)
        message = ngettext(
            "Too many failed sign-in attempts. Please wait %(minutes)d minute and try again.",
            "Too many failed sign-in attempts. Please wait %(minutes)d minutes and try again.",
            minutes,
        ) % {"minutes": minutes}
        # An unbound form: validating the posted one would try the password anyway.
        form = self.get_form_class()(request, initial={"username": self._username()})
        context = self.get_context_data(form=form, lockout_message=message)
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(int(locked.retry_after(now).total_seconds()) + 1)
        return response

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        """Sign the user in and clear the failures counted against their username."""
        ratelimit.forget_username(form.get_user().get_username())
        return super().form_valid(form)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        """Count the failure against the username and the address, then show the errors."""
        ratelimit.record_failure(username=self._username(), ip=self._ip(), now=timezone.now())
        return super().form_invalid(form)

    def _username(self) -> str:
        return str(self.request.POST.get("username", ""))[:150]

    def _ip(self) -> str:
        # REMOTE_ADDR only: X-Forwarded-For is whatever the client says unless a trusted
        # proxy sets it, so honouring it would let anyone pick a fresh address per try.
        return str(self.request.META.get("REMOTE_ADDR", ""))


@require_safe
@access.require_permission(Permission.VIEW_PORTFOLIO)
def home(request: HttpRequest) -> HttpResponse:
    """Show the portfolio dashboard."""
    summary = portfolio_summary.cached_summary(today=timezone.localdate())
    return _page(request, "web/home.html", {"summary": summary})


@require_safe
@access.require_permission(Permission.VIEW_AUDIT_LOG)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Show the latest audit events, newest first."""
    events = latest_audit_events(limit=AUDIT_PAGE_SIZE)
    return _page(request, "web/audit.html", {"events": events, "limit": AUDIT_PAGE_SIZE})


def latest_audit_events(*, limit: int) -> list[AuditEvent]:
    """Return the ``limit`` most recent audit events, newest first."""
    return list(AuditEvent.objects.order_by("-occurred_at", "-pk")[:limit])


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {**access.staff_context(request), **context})
