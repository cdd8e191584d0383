"""Serve the customer portal: sign-in with a one-time code, then the customer's own pages.

Portal sign-in is separate from staff sign-in: the session holds only the customer's
id under :data:`CUSTOMER_KEY`, a staff session grants nothing here, and a portal
session grants nothing to staff views. Every page passes the signed-in customer's id
to :mod:`accord.analytics.customer_portal`, which scopes every query by it, so an id
in a URL that is not the customer's is a 404.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages as flash
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accord.analytics import customer_portal
from accord.channels import templates as message_templates
from accord.domain import money, plans
from accord.storage import models
from accord.usecases import circumstances, portal_access, preferences, promises
from accord.usecases import plans as plan_usecases
from accord.web.portal import forms, throttle
from accord.web.portal import why as portal_why

CUSTOMER_KEY = "accord_portal_customer_id"
SEEN_KEY = "accord_portal_seen_at"
DESTINATION_KEY = "accord_portal_destination"
LANGUAGE_KEY = "accord_portal_language"
IDLE_TIMEOUT = datetime.timedelta(minutes=30)
# Asking for a code takes at least this long whether or not the destination is on
# file, so the response time does not tell (issuing a code is database work; the
# message itself goes out in the background, after the response).
CODE_REQUEST_MIN_SECONDS = 0.8

CustomerView = Callable[..., HttpResponseBase]


def _activate_language(request: HttpRequest) -> None:
    requested = request.GET.get("lang", "")
    if requested in preferences.SUPPORTED_LANGUAGES:
        request.session[LANGUAGE_KEY] = requested
    language = request.session.get(LANGUAGE_KEY) or translation.get_language() or "en"
    if language not in preferences.SUPPORTED_LANGUAGES:
        language = "en"
    translation.activate(language)
    request.LANGUAGE_CODE = language


def _private(response: HttpResponseBase) -> HttpResponseBase:
    # The pages show personal data: no shared cache and no back-button copy after sign-out.
    add_never_cache_headers(response)
    return response


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponseBase]:
    """Serve a page that needs no sign-in, in the language asked for."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        _activate_language(request)
        return _private(view(request, *args, **kwargs))

    return wrapped


def customer_required(view: CustomerView) -> Callable[..., HttpResponseBase]:
    """Serve a page only to a signed-in customer, passing their id to the view.

    Sessions idle for longer than :data:`IDLE_TIMEOUT` are signed out.
    """

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        _activate_language(request)
        customer_id = request.session.get(CUSTOMER_KEY)
        now = timezone.now()
        seen = request.session.get(SEEN_KEY)
        if not isinstance(customer_id, int):
            return redirect("portal:sign_in")
        if (
            not isinstance(seen, (int, float))
            or now.timestamp() - seen > IDLE_TIMEOUT.total_seconds()
        ):
            _forget_customer(request)
            flash.info(request, _("You were signed out after 30 minutes without activity."))
            return redirect("portal:sign_in")
        if customer_portal.customer_name(customer_id=customer_id) is None:
            _forget_customer(request)
            return redirect("portal:sign_in")
        request.session[SEEN_KEY] = now.timestamp()
        return _private(view(request, customer_id, *args, **kwargs))

    return wrapped


def _forget_customer(request: HttpRequest) -> None:
    for key in (CUSTOMER_KEY, SEEN_KEY, DESTINATION_KEY):
        request.session.pop(key, None)
    request.session.cycle_key()


def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only, as for staff sign-in (see accord.web.views.SignInView._ip).
    return str(request.META.get("REMOTE_ADDR", ""))


def _page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    customer_id: int | None = None,
    status: int = 200,
) -> HttpResponse:
    base = {
        "org": message_templates.ORGANISATION,
        "signed_in": customer_id is not None,
        "customer_name": (
            customer_portal.customer_name(customer_id=customer_id) if customer_id else ""
        ),
        "current": request.resolver_match.url_name if request.resolver_match else "",
        "languages": [("en", "English"), ("es", "Español")],
    }
    return render(request, template, {**base, **context}, status=status)


# --- Signing in ---


@public_page
@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for an email address or phone number and send a code if it is on file."""
    if isinstance(request.session.get(CUSTOMER_KEY), int):
        return redirect("portal:overview")
    if request.method != "POST":
        return _page(request, "web/portal/sign_in.html", {"form": forms.SignInForm()})
    form = forms.SignInForm(request.POST)
    if not form.is_valid():
        return _page(request, "web/portal/sign_in.html", {"form": form}, status=400)
    destination: portal_access.Destination = form.cleaned_data["destination"]
    started = time.monotonic()
    now = timezone.now()
    blocked = [
        until
        for limit, key in (
            (throttle.CODES_PER_DESTINATION, destination.key),
            (throttle.CODES_PER_ADDRESS, _client_ip(request)),
        )
        if (until := limit.blocked_until(key, now)) is not None
    ]
    if blocked:
        return _too_many(request, "web/portal/sign_in.html", {"form": form}, max(blocked), now)
    throttle.CODES_PER_DESTINATION.hit(destination.key, now)
    throttle.CODES_PER_ADDRESS.hit(_client_ip(request), now)
    portal_access.request_code(destination=destination, now=now)
    request.session[DESTINATION_KEY] = [destination.kind, destination.value]
    time.sleep(max(0.0, CODE_REQUEST_MIN_SECONDS - (time.monotonic() - started)))
    return redirect("portal:enter_code")


def _too_many(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    until: datetime.datetime,
    now: datetime.datetime,
) -> HttpResponse:
    minutes = throttle.minutes_until(until, now)
    message = ngettext(
        "You have tried this a lot in a short time. Please wait %(minutes)d minute and try again.",
        "You have tried this a lot in a short time. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
    response = _page(request, template, {**context, "limit_message": message}, status=429)
    response["Retry-After"] = str(int(max((until - now).total_seconds(), 0)) + 1)
    return response


def _pending_destination(request: HttpRequest) -> portal_access.Destination | None:
    stored = request.session.get(DESTINATION_KEY)
    if not isinstance(stored, list) or len(stored) != 2:
        return None
    kind, value = stored
    if kind not in models.ContactPointKind.values:
        return None
    return portal_access.Destination(models.ContactPointKind(kind), str(value))


@public_page
@require_http_methods(["GET", "HEAD", "POST"])
def enter_code(request: HttpRequest) -> HttpResponse:
    """Take the code and, when it is right, sign the customer in."""
    destination = _pending_destination(request)
    if destination is None:
        return redirect("portal:sign_in")
    context: dict[str, Any] = {"destination": destination.value}
    if request.method != "POST":
        return _page(request, "web/portal/enter_code.html", {**context, "form": forms.CodeForm()})
    form = forms.CodeForm(request.POST)
    context["form"] = form
    now = timezone.now()
    ip = _client_ip(request)
    until = throttle.WRONG_CODES_PER_ADDRESS.blocked_until(ip, now)
    if until is not None:
        return _too_many(request, "web/portal/enter_code.html", context, until, now)
    if not form.is_valid():
        return _page(request, "web/portal/enter_code.html", context, status=400)
    try:
        customer_id = portal_access.verify_code(
            destination=destination, code=form.cleaned_data["code"], now=now
        )
    except portal_access.CodeRejected:
        throttle.WRONG_CODES_PER_ADDRESS.hit(ip, now)
        # One wording for every refusal, a lock-out included, so none of them tells
        # whether the address is on file.
        form.add_error(
            "code",
            _(
                "That code did not work. Check it and try again, or ask for a new code. "
                "Codes work once and for 10 minutes. If it still does not work, please try "
                "again later or call us on %(phone)s."
            )
            % {"phone": message_templates.ORGANISATION.phone},
        )
        form._describe()
        return _page(request, "web/portal/enter_code.html", context, status=400)
    request.session.cycle_key()
    request.session.pop(DESTINATION_KEY, None)
    request.session[CUSTOMER_KEY] = customer_id
    request.session[SEEN_KEY] = now.timestamp()
    language = customer_portal.customer_language(customer_id=customer_id) or "en"
    if language in preferences.SUPPORTED_LANGUAGES:
        request.session[LANGUAGE_KEY] = language
    return redirect("portal:overview")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Sign the customer out (a staff sign-in in the same browser is left alone)."""
    _forget_customer(request)
    _activate_language(request)
    flash.success(request, _("You have signed out. Thank you for visiting."))
    return redirect("portal:sign_in")


# --- The customer's pages ---


@require_safe
@customer_required
def overview(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Show each account's balance and what is overdue, kindly."""
    accounts = customer_portal.accounts(customer_id=customer_id, as_of=timezone.localdate())
    return _page(
        request, "web/portal/overview.html", {"accounts": accounts}, customer_id=customer_id
    )


def _account_or_404(customer_id: int, account_id: int) -> customer_portal.AccountDetail:
    detail = customer_portal.account(
        customer_id=customer_id, account_id=account_id, as_of=timezone.localdate()
    )
    if detail is None:
        raise Http404("no such account")
    return detail


@require_safe
@customer_required
def account(request: HttpRequest, customer_id: int, account_id: int) -> HttpResponse:
    """Show one of the customer's accounts: balance, plan, promise and payments."""
    detail = _account_or_404(customer_id, account_id)
    return _page(
        request,
        "web/portal/account.html",
        {"account": detail.summary, "payments": detail.payments},
        customer_id=customer_id,
    )


@require_safe
@customer_required
def payments(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Show every payment received on the customer's accounts."""
    rows = customer_portal.payments(customer_id=customer_id)
    return _page(request, "web/portal/payments.html", {"payments": rows}, customer_id=customer_id)


MESSAGES_PER_PAGE = 20


def _status_label(message: customer_portal.Message) -> tuple[str, str]:
    # The status in the customer's words, and a tag modifier for its colour.
    failed = message.status == models.ContactStatus.FAILED or message.provider_status in (
        models.ProviderStatus.FAILED,
        models.ProviderStatus.BOUNCED,
    )
    if failed:
        return _("Not delivered"), "off"
    if message.channel == models.Channel.CALL:
        return _("Call made"), ""
    if message.provider_status == models.ProviderStatus.DELIVERED:
        return _("Delivered"), "ok"
    return _("Sent"), ""


@require_safe
@customer_required
def messages(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Show every message Accord sent the customer, newest first, and why each one went."""
    try:
        number = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        number = 1
    page = customer_portal.message_page(
        customer_id=customer_id, page=number, per_page=MESSAGES_PER_PAGE
    )
    pages = max((page.total + MESSAGES_PER_PAGE - 1) // MESSAGES_PER_PAGE, 1)
    if number > pages:
        raise Http404("no such page")
    language = translation.get_language() or "en"
    rows = []
    for row in page.messages:
        status, tone = _status_label(row)
        rows.append(
            {
                "id": row.id,
                "sent_at": row.sent_at,
                "subject": row.subject,
                "body": row.body,
                "has_letter": row.has_letter,
                "channel_label": _CHANNEL_LABELS.get(models.Channel(row.channel), row.channel),
                "status": status,
                "status_tone": tone,
                "reasons": portal_why.reasons(row, language=language),
                "delays": portal_why.delays(row),
            }
        )
    # Not "messages": that name belongs to the flash messages on every page.
    return _page(
        request,
        "web/portal/messages.html",
        {
            "messages_sent": rows,
            "page_number": number,
            "page_count": pages,
            "previous_page": number - 1 if number > 1 else None,
            "next_page": number + 1 if number < pages else None,
        },
        customer_id=customer_id,
    )


@require_safe
@customer_required
def letter(request: HttpRequest, customer_id: int, contact_id: int) -> HttpResponseBase:
    """Download the PDF of a letter sent to the customer (404 for anyone else's)."""
    path = customer_portal.letter_document(
        customer_id=customer_id, contact_id=contact_id, media_root=settings.MEDIA_ROOT
    )
    if path is None:
        raise Http404("no such letter")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"letter-{contact_id}.pdf",
        content_type="application/pdf",
    )


_PROMISE_REFUSALS = {
    promises.Refusal.UNKNOWN_ACCOUNT: "",
    promises.Refusal.ACCOUNT_CLOSED: "",
    promises.Refusal.WRONG_CURRENCY: "",
    promises.Refusal.AMOUNT_NOT_POSITIVE: "amount",
    promises.Refusal.AMOUNT_NOT_WHOLE_MINOR_UNITS: "amount",
    promises.Refusal.AMOUNT_OVER_BALANCE: "amount",
    promises.Refusal.DATE_IN_PAST: "promised_date",
    promises.Refusal.DATE_TOO_FAR_AHEAD: "promised_date",
    promises.Refusal.OPEN_PROMISE_EXISTS: "",
}


def _promise_refusal_text(reason: promises.Refusal) -> str:
    texts = {
        promises.Refusal.UNKNOWN_ACCOUNT: _("We could not find that account."),
        promises.Refusal.ACCOUNT_CLOSED: _("This account is closed, so there is nothing to pay."),
        promises.Refusal.WRONG_CURRENCY: _("Please enter the amount in the account's currency."),
        promises.Refusal.AMOUNT_NOT_POSITIVE: _("Please enter an amount greater than zero."),
        promises.Refusal.AMOUNT_NOT_WHOLE_MINOR_UNITS: _(
            "Please enter the amount with no more decimal places than the currency uses."
        ),
        promises.Refusal.AMOUNT_OVER_BALANCE: _(
            "That is more than you owe on this account. Please enter a smaller amount."
        ),
        promises.Refusal.DATE_IN_PAST: _("Please choose today or a later date."),
        promises.Refusal.DATE_TOO_FAR_AHEAD: _(
            "Please choose a date within 30 days. If you need longer, a payment plan may "
            "suit you better."
        ),
        promises.Refusal.OPEN_PROMISE_EXISTS: _(
            "You already have a payment date set for this account."
        ),
    }
    return texts[reason]


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
def promise(request: HttpRequest, customer_id: int, account_id: int) -> HttpResponse:
    """Let the customer tell us the date they will pay by."""
    summary = _account_or_404(customer_id, account_id).summary
    today = timezone.localdate()
    latest = today + datetime.timedelta(days=promises.MAX_DAYS_AHEAD)
    hints = {
        "help_amount": _("In %(currency)s. You owe %(balance)s in total.")
        % {"currency": summary.balance.currency, "balance": _money(summary.balance)},
        "help_date": _("Any day from today until %(date)s.") % {"date": _day(latest)},
    }
    if request.method != "POST":
        initial = {"amount": f"{summary.arrears.amount:f}"} if summary.is_overdue else {}
        form = forms.PromiseForm(initial=initial, **hints)
    else:
        form = forms.PromiseForm(request.POST, **hints)
        if form.is_valid():
            try:
                amount = money.parse_amount(form.cleaned_data["amount"], summary.balance.currency)
            except money.InvalidAmount:
                form.add_error("amount", _("Enter an amount like 50 or 50.00."))
            else:
                try:
                    promises.record_promise(
                        account_id=summary.id,
                        amount=amount,
                        promised_date=form.cleaned_data["promised_date"],
                        source=models.Source.PORTAL,
                        actor=f"customer:{customer_id}",
                        now=timezone.now(),
                    )
                except promises.PromiseRefused as refused:
                    form.add_error(
                        _PROMISE_REFUSALS[refused.reason] or None,
                        _promise_refusal_text(refused.reason),
                    )
                else:
                    flash.success(
                        request,
                        _("Thank you. We have noted that you will pay %(amount)s by %(date)s.")
                        % {
                            "amount": _money(amount),
                            "date": _day(form.cleaned_data["promised_date"]),
                        },
                    )
                    return redirect("portal:account", account_id=summary.id)
            form._describe()
    return _page(
        request,
        "web/portal/promise.html",
        {"account": summary, "form": form, "today": today, "latest": latest},
        customer_id=customer_id,
        status=400 if form.is_bound and form.errors else 200,
    )


def _plan_refusal_text(refused: plans.PlanRefused) -> str:
    if isinstance(refused, plan_usecases.NoArrears):
        return _("There is nothing overdue on this account, so there is nothing to spread out.")
    if isinstance(refused, plan_usecases.PlanAlreadyActive):
        return _("This account already has a payment plan.")
    if isinstance(refused, plan_usecases.StartDateOutOfRange):
        return _("Please choose a first payment date within the next 31 days.")
    if isinstance(refused, plan_usecases.AccountNotOpen):
        return _("This account is closed, so a plan is not needed.")
    if isinstance(refused, plans.InstalmentTooSmall):
        return _("The amount is too small to split that many ways. Please choose fewer payments.")
    return _("We could not set up that plan. Please call us and we will help.")


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
def plan(request: HttpRequest, customer_id: int, account_id: int) -> HttpResponse:
    """Let the customer pick 3, 6 or 12 monthly payments, see the schedule, then agree.

    Confirming posts back the total of the schedule shown; if the arrears have changed
    since (a payment arrived, say), nothing is agreed and the new schedule is shown.
    """
    summary = _account_or_404(customer_id, account_id).summary
    today = timezone.localdate()
    context: dict[str, Any] = {
        "account": summary,
        "today": today,
        "latest": today + datetime.timedelta(days=plan_usecases.LATEST_START_DAYS),
        "examples": _plan_examples(summary),
    }
    if request.method != "POST":
        form = forms.PlanForm(initial={"start_date": today + datetime.timedelta(days=7)})
        return _page(
            request, "web/portal/plan.html", {**context, "form": form}, customer_id=customer_id
        )
    form = forms.PlanForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return _page(request, "web/portal/plan.html", context, customer_id=customer_id, status=400)
    arguments = {
        "account_id": summary.id,
        "instalment_count": form.cleaned_data["instalment_count"],
        "start_date": form.cleaned_data["start_date"],
        "now": timezone.now(),
    }
    shown = _shown_total(form, summary.arrears.currency)
    try:
        # A confirmation without the total it confirms shows the schedule instead.
        if request.POST.get("step") == "confirm" and shown is not None:
            try:
                plan_usecases.agree_plan(
                    **arguments,
                    source=models.Source.PORTAL,
                    actor=f"customer:{customer_id}",
                    expected_total=shown,
                )
            except plan_usecases.ArrearsChanged:
                context["arrears_changed"] = True
            else:
                flash.success(
                    request,
                    _("Your plan is set up. Thank you for sorting this out."),
                )
                return redirect("portal:account", account_id=summary.id)
        proposal = plan_usecases.propose_plan(**arguments)
    except plans.PlanRefused as refused:
        context["refusal"] = _plan_refusal_text(refused)
        return _page(request, "web/portal/plan.html", context, customer_id=customer_id, status=400)
    context["proposal"] = proposal
    context["expected_total"] = f"{proposal.total.amount:f}"
    return _page(request, "web/portal/plan.html", context, customer_id=customer_id)


def _shown_total(form: forms.PlanForm, currency: str) -> money.Money | None:
    try:
        return money.parse_amount(form.cleaned_data.get("expected_total") or "", currency)
    except money.InvalidAmount:
        return None


def _plan_examples(summary: customer_portal.AccountSummary) -> dict[int, money.Money]:
    # What each offered plan's first (largest) payment would be, to help choose.
    if not summary.arrears.is_positive():
        return {}
    examples = {}
    for count in plans.OFFERED_COUNTS:
        try:
            examples[count] = money.allocate(summary.arrears, parts=count)[0]
        except money.PrecisionLoss:
            continue
    return examples


_CHANNEL_LABELS = {
    models.Channel.EMAIL: gettext_lazy("Email"),
    models.Channel.SMS: gettext_lazy("Text message"),
    models.Channel.LETTER: gettext_lazy("Letter"),
    models.Channel.CALL: gettext_lazy("Phone call"),
}


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
def contact_preferences(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Let the customer choose how, when and in which language we contact them."""
    current = customer_portal.preferences(customer_id=customer_id)
    if current is None:
        raise Http404("no such customer")
    if request.method == "POST":
        form = forms.PreferencesForm(request.POST)
        if form.is_valid():
            channel = form.cleaned_data["preferred_channel"]
            customer = preferences.set_contact_preferences(
                customer_id=customer_id,
                preferred_channel=models.Channel(channel) if channel else None,
                contact_hours=form.contact_hours(),
                language=form.cleaned_data["language"],
                actor=f"customer:{customer_id}",
                now=timezone.now(),
            )
            request.session[LANGUAGE_KEY] = customer.language
            translation.activate(customer.language)
            flash.success(request, _("Your preferences are saved."))
            return redirect("portal:preferences")
    else:
        form = _preferences_form(current)
    channels = _channels(current)
    return _preferences_page(
        request,
        customer_id,
        current,
        form=form,
        pause_form=forms.PauseForm(),
        channels=channels,
        status=400 if form.is_bound else 200,
    )


def _preferences_page(
    request: HttpRequest,
    customer_id: int,
    current: customer_portal.Preferences,
    *,
    form: forms.PreferencesForm,
    pause_form: forms.PauseForm,
    channels: list[dict[str, Any]],
    status: int,
) -> HttpResponse:
    paused = preferences.contact_pause(customer_id=customer_id, now=timezone.now())
    return _page(
        request,
        "web/portal/preferences.html",
        {
            "form": form,
            "pause_form": pause_form,
            "current": current,
            "channels": channels,
            "paused_until": _day(timezone.localdate(paused.end)) if paused and paused.end else "",
        },
        customer_id=customer_id,
        status=status,
    )


def _channels(current: customer_portal.Preferences) -> list[dict[str, Any]]:
    return [
        {
            "value": str(channel),
            "label": _CHANNEL_LABELS[channel],
            "opted_out": channel in current.opted_out,
        }
        for channel in customer_portal.OPT_OUT_CHANNELS
    ]


@require_POST
@customer_required
def pause(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Pause collection contact for the number of days the customer chose."""
    current = customer_portal.preferences(customer_id=customer_id)
    if current is None:
        raise Http404("no such customer")
    pause_form = forms.PauseForm(request.POST)
    if not pause_form.is_valid():
        pause_form._describe()
        return _preferences_page(
            request,
            customer_id,
            current,
            form=_preferences_form(current),
            pause_form=pause_form,
            channels=_channels(current),
            status=400,
        )
    paused = preferences.pause_contact(
        customer_id=customer_id,
        days=pause_form.cleaned_data["days"],
        reason=pause_form.cleaned_data["reason"],
        actor=f"customer:{customer_id}",
        now=timezone.now(),
    )
    end = timezone.localdate(paused.end) if paused.end else timezone.localdate()
    flash.success(
        request,
        _("Done. We will not contact you about your debts until %(date)s.") % {"date": _day(end)},
    )
    return redirect(reverse("portal:preferences") + "#pause")


@require_POST
@customer_required
def resume(request: HttpRequest, customer_id: int) -> HttpResponse:
    """End the customer's pause now, as they asked."""
    with contextlib.suppress(preferences.NotPaused):
        preferences.resume_contact(
            customer_id=customer_id, actor=f"customer:{customer_id}", now=timezone.now()
        )
    flash.success(request, _("Your pause has ended."))
    return redirect(reverse("portal:preferences") + "#pause")


@require_POST
@customer_required
def opt_out(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Stop contact on one channel, as the customer asked."""
    form = forms.OptOutForm(request.POST)
    if not form.is_valid():
        return redirect("portal:preferences")
    channel = models.Channel(form.cleaned_data["channel"])
    with contextlib.suppress(circumstances.AlreadyOptedOut):
        circumstances.record_opt_out(
            customer_id=customer_id,
            channel=channel,
            source="PORTAL",
            recorded_by=f"customer:{customer_id}",
            now=timezone.now(),
        )
    flash.success(
        request,
        _("Done. We will not contact you by %(channel)s any more.")
        % {"channel": str(_CHANNEL_LABELS[channel]).lower()},
    )
    return redirect(reverse("portal:preferences") + "#opt-out")


def _preferences_form(current: customer_portal.Preferences) -> forms.PreferencesForm:
    return forms.PreferencesForm(
        initial={
            "preferred_channel": current.preferred_channel,
            "hours_from": _hhmm(current.contact_hours_start),
            "hours_to": _hhmm(current.contact_hours_end),
            "language": current.language
            if current.language in preferences.SUPPORTED_LANGUAGES
            else "en",
        }
    )


def _hhmm(value: datetime.time | None) -> str:
    return value.strftime("%H:%M") if value else ""


def _money(amount: money.Money) -> str:
    return message_templates.format_money(amount, translation.get_language() or "en")


def _day(day: datetime.date) -> str:
    return message_templates.format_day(day, translation.get_language() or "en")
