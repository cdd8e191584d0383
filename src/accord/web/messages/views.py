"""Serve the messages pages: the outbox, the demo mailbox, the fake SMS log and letters.

Every page needs ``VIEW_MESSAGES``. The demo mailbox and the fake SMS log are
development tools: they hold everything sent, customers' portal sign-in codes included,
so they exist only when ``ACCORD_DEMO`` or ``ACCORD_DEBUG`` is on (404 otherwise, and
their tabs are hidden). Received HTML email is shown in a sandboxed frame (no scripts,
no same-origin access); file names and references from the URL are matched against
strict patterns before they reach the file system.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from accord.channels import letter, mailbox, sms
from accord.channels.sms import fake
from accord.domain.access import Permission
from accord.storage import models
from accord.usecases import dispatch
from accord.web import access
from accord.web.messages import keyset

PAGE_SIZE = 50
COUNT_CAP = 10_000
"""The outbox counts matching rows up to here, then says "more than"."""


def demo_tools_enabled() -> bool:
    """Tell whether the demo mailbox and fake SMS log may be shown (demo or debug mode)."""
    return bool(settings.ENV.demo or settings.ENV.debug)


def _demo_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not demo_tools_enabled():
            raise Http404("demo tools are off")
        return view(request, *args, **kwargs)

    return wrapped


def _choice(request: HttpRequest, name: str, choices: Any) -> str:
    value = request.GET.get(name, "")
    return value if value in choices.values else ""


@require_safe
@access.require_permission(Permission.VIEW_MESSAGES)
def index(request: HttpRequest) -> HttpResponse:
    """Show the outbox, newest first, filtered by status and channel; count stuck rows."""
    status = _choice(request, "status", models.ContactStatus)
    channel = _choice(request, "channel", models.Channel)
    contacts = models.ContactAttempt.objects.select_related("customer", "account")
    if status:
        contacts = contacts.filter(status=status)
    if channel:
        contacts = contacts.filter(channel=channel)
    filters = {name: value for name, value in (("status", status), ("channel", channel)) if value}
    shown = _window(request, contacts, key="planned_at")
    # Counting stops at COUNT_CAP: an exact count walks every matching row on each request.
    counted = contacts.order_by().values("pk")[: COUNT_CAP + 1].count()
    return _page(
        request,
        "web/messages/index.html",
        "outbox",
        {
            "window": shown,
            **_links(shown, filters),
            "matching": min(counted, COUNT_CAP),
            "matching_capped": counted > COUNT_CAP,
            "status": status,
            "channel": channel,
            "statuses": models.ContactStatus.choices,
            "channels": models.Channel.choices,
            "stuck_count": dispatch.stuck_rows(now=timezone.now()).count(),
            "stuck_minutes": int(dispatch.STUCK_AFTER.total_seconds() // 60),
        },
    )


@require_safe
@access.require_permission(Permission.VIEW_MESSAGES)
def contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Show one outbox row: its status, why, and exactly what was sent."""
    row = get_object_or_404(
        models.ContactAttempt.objects.select_related("customer", "account"), pk=contact_id
    )
    return _page(request, "web/messages/contact.html", "outbox", {"contact": row})


@require_safe
@access.require_permission(Permission.VIEW_MESSAGES)
@_demo_only
def mailbox_index(request: HttpRequest) -> HttpResponse:
    """List what the demo SMTP sink received, newest first."""
    folder = mailbox.mailbox_folder()
    page = Paginator(mailbox.received(folder), PAGE_SIZE).get_page(request.GET.get("page"))
    mails = [mail for name in page if (mail := mailbox.read_summary(folder, name)) is not None]
    return _page(request, "web/messages/mailbox.html", "mailbox", {"page": page, "mails": mails})


@require_safe
@access.require_permission(Permission.VIEW_MESSAGES)
@_demo_only
def mail(request: HttpRequest, name: str) -> HttpResponse:
    """Show one received email: its headers, its text and its HTML (sandboxed)."""
    received = mailbox.read_mail(mailbox.mailbox_folder(), name)
    if received is None:
        raise Http404("no such message")
    return _page(request, "web/messages/mail.html", "mailbox", {"mail": received})


@require_safe
@access.require_permission(Permission.VIEW_MESSAGES)
@_demo_only
def sms_log(request: HttpRequest) -> HttpResponse:
    """List the text messages the fake SMS provider kept, newest first."""
    folder = sms.sms_folder()
    page = Paginator(fake.sent_refs(folder), PAGE_SIZE).get_page(request.GET.get("page"))
    texts = [text for ref in page if (text := fake.stored_message(folder, ref)) is not None]
    return _page(request, "web/messages/sms.html", "sms", {"page": page, "texts": texts})


@require_safe
@access.require_permission(Permission.VIEW_MESSAGES)
def letters(request: HttpRequest) -> HttpResponse:
    """List the printed letters, newest first."""
    rows = (
        models.ContactAttempt.objects.select_related("customer", "account")
        .filter(channel=models.Channel.LETTER, sent_at__isnull=False)  # printed: sent_at set
        .exclude(document="")
    )
    shown = _window(request, rows, key="sent_at")
    return _page(
        request,
        "web/messages/letters.html",
        "letters",
        {"window": shown, **_links(shown, {})},
    )


@require_safe
@access.require_permission(Permission.VIEW_MESSAGES)
def letter_pdf(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Return the PDF of a printed letter (found through its outbox row, never a path)."""
    row = get_object_or_404(models.ContactAttempt, pk=contact_id, channel=models.Channel.LETTER)
    path = letter.letter_path(row.document)
    if path is None:
        raise Http404("no letter")
    response = HttpResponse(path.read_bytes(), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="letter-{row.pk}.pdf"'
    return response


def _anchor(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def _window(request: HttpRequest, rows: QuerySet[Any], *, key: str) -> keyset.Window:
    return keyset.window(
        rows,
        key=key,
        size=PAGE_SIZE,
        before=_anchor(request, "before"),
        after=_anchor(request, "after"),
    )


def _links(shown: keyset.Window, filters: dict[str, str]) -> dict[str, str]:
    """Return the query strings of the newer and older windows, keeping the filters."""
    links = {"newer_query": "", "older_query": ""}
    if shown.newer is not None:
        links["newer_query"] = urlencode({**filters, "after": shown.newer})
    if shown.older is not None:
        links["older_query"] = urlencode({**filters, "before": shown.older})
    return links


def _page(request: HttpRequest, template: str, tab: str, context: dict[str, Any]) -> HttpResponse:
    return render(
        request,
        template,
        {
            **access.staff_context(request),
            "tab": tab,
            "demo_tools": demo_tools_enabled(),
            **context,
        },
    )
