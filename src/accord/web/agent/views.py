"""Serve the agent workspace: the work queue, the customer 360 and its calls.

Every view needs ``Permission.WORK_ACCOUNTS``. Pages render on the server; htmx swaps
parts of them (the queue's results, the pre-call policy check, the call forms) and sends
the CSRF token from ``base.html``'s ``hx-headers``. A call takes two posts: "Start call"
reserves it under the contact policy (``call_outcomes.start_call``), then the outcome
form completes that call. A customer, account or call that does not exist (or not for
that customer) is a 404, whichever layer finds out.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import zoneinfo
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import reswap, retarget
from django_htmx.middleware import HtmxDetails

from accord.analytics import customer_360, why, work_queue
from accord.domain import compliance
from accord.domain.access import Permission
from accord.domain.money import Money
from accord.storage import models, roles
from accord.usecases import call_outcomes, circumstances, contact_policy, promises
from accord.web import access
from accord.web.agent import forms, records

# How many of an account's decisions the "why" panel lists (the latest, then earlier ones).
WHY_HISTORY = 10


class HtmxHttpRequest(HttpRequest):
    """Type a request that went through django-htmx's middleware."""

    htmx: HtmxDetails


# Which form field a refused promise's message belongs beside.
_PROMISE_FIELD: dict[promises.Refusal, str] = {
    promises.Refusal.DATE_IN_PAST: "promise_date",
    promises.Refusal.DATE_TOO_FAR_AHEAD: "promise_date",
    promises.Refusal.OPEN_PROMISE_EXISTS: "__all__",
    promises.Refusal.ACCOUNT_CLOSED: "account",
    promises.Refusal.UNKNOWN_ACCOUNT: "account",
}


# What the use cases raise when the customer, account or call is not there (or belongs to
# someone else): the page asked for does not exist.
_MISSING = (
    contact_policy.UnknownCustomer,
    contact_policy.UnknownAccount,
    call_outcomes.UnknownAccount,
    call_outcomes.UnknownCall,
)


def _missing_is_not_found(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 404 when a use case finds no such customer, account or call."""

    @functools.wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except _MISSING as missing:
            raise Http404(str(missing)) from missing

    return answer


@require_safe
@access.require_permission(Permission.WORK_ACCOUNTS)
def queue(request: HtmxHttpRequest) -> HttpResponse:
    """Show the agent's prioritised work queue, narrowed by the filters."""
    filters = forms.QueueFilterForm(request.GET)
    filters.is_valid()
    stage = filters.cleaned_data.get("stage") or ""
    focus = work_queue.Focus(filters.cleaned_data.get("focus") or "")
    page = work_queue.work_queue(
        today=timezone.localdate(),
        stages=[stage] if stage else (),
        focus=focus,
        page=filters.cleaned_data.get("page") or 1,
    )
    context = {
        "filters": filters,
        "queue": page,
        "query": _query_without_page(request),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "web/agent/_queue_results.html", context)
    return _page(request, "web/agent/queue.html", context)


@require_safe
@access.require_permission(Permission.WORK_ACCOUNTS)
@_missing_is_not_found
def customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Show the customer 360: everything about the customer on one screen."""
    view = _customer_or_404(customer_id)
    context = _customer_context(
        request,
        view,
        account=request.GET.get("account"),
        call=request.GET.get("call"),
        recorded=request.GET.get("recorded"),
    )
    return _page(request, "web/agent/customer.html", context)


@require_safe
@access.require_permission(Permission.WORK_ACCOUNTS)
@_missing_is_not_found
def policy_check(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Show whether a call to the customer is allowed now, per open account, and why not."""
    subjects = customer_360.policy_subjects(customer_id=customer_id)
    if subjects is None:
        raise Http404
    now = timezone.now()
    checks = [
        _check(subjects, account_id=int(account.code), account_ref=account.label, now=now)
        for account in subjects.accounts
    ]
    return render(
        request,
        "web/agent/_policy_check.html",
        {"checks": checks, "checked_at": now, "customer_id": customer_id},
    )


@require_safe
@access.require_permission(Permission.WORK_ACCOUNTS)
@_missing_is_not_found
def call_form(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Return the inbound call form for another account, keeping what was already typed."""
    view = _customer_or_404(customer_id)
    initial = {k: v for k, v in request.GET.items() if v}
    initial["direction"] = models.ContactDirection.INBOUND
    form = forms.CallOutcomeForm(accounts=_workable(view), customer_id=view.id, initial=initial)
    return render(request, "web/agent/_call_form.html", {"form": form, "customer": view})


@require_POST
@access.require_permission(Permission.WORK_ACCOUNTS)
@_missing_is_not_found
def start_call(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """Reserve an outbound call under the contact policy, then show its outcome form."""
    form = forms.StartCallForm(request.POST)
    if not form.is_valid():
        raise Http404("no such account")
    try:
        call = call_outcomes.start_call(
            customer_id=customer_id,
            account_id=form.cleaned_data["account"],
            agent=request.user.get_username(),
            now=timezone.now(),
        )
    except call_outcomes.ContactNotPermitted as refused:
        view = _customer_or_404(customer_id)
        refusal = _StartRefused(
            account_ref=next(
                (a.ref for a in view.accounts if a.id == form.cleaned_data["account"]), ""
            ),
            decision=refused.decision,
        )
        context = {**_customer_context(request, view), "start_refused": refusal}
        if request.htmx:
            return _swap_customer(request, context)
        return _page(request, "web/agent/customer.html", context, status=422)
    url = reverse("agent:customer", args=[customer_id])
    if not request.htmx:
        return HttpResponseRedirect(f"{url}?call={call.pk}")
    view = _customer_or_404(customer_id)
    return _swap_customer(request, _customer_context(request, view, call=str(call.pk)))


@require_POST
@access.require_permission(Permission.WORK_ACCOUNTS)
@_missing_is_not_found
def record_call(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """Record a call's outcome (and its promise, dispute or disclosure), then show it."""
    view = _customer_or_404(customer_id)
    form = forms.CallOutcomeForm(request.POST, accounts=_workable(view), customer_id=view.id)
    if form.is_valid():
        call = _record(
            form,
            customer_id=customer_id,
            agent=request.user.get_username(),
            supervisor=roles.has_permission(request.user, Permission.SUPERVISE_AGENTS),
        )
        if call is not None:
            return _recorded(request, customer_id=customer_id, call=call)
    if request.htmx:
        response = render(request, "web/agent/_call_form.html", {"form": form, "customer": view})
        target = "#inbound-form" if form.inbound else "#call-form"
        return reswap(retarget(response, target), "outerHTML")
    context = _customer_context(request, view)
    context["inbound_form" if form.inbound else "form"] = form
    if not form.inbound:
        posted = str(form.data.get("call"))
        context["active_call"] = next(
            (call for call in view.calls_in_progress if str(call.id) == posted), None
        )
    return _page(request, "web/agent/customer.html", context, status=422)


def _record(
    form: forms.CallOutcomeForm, *, customer_id: int, agent: str, supervisor: bool
) -> models.ContactAttempt | None:
    """Call the use case; on a refusal put its message on the form and return None."""
    data = form.cleaned_data
    outcome = models.CallOutcome(data["outcome"])
    account = form.accounts[data["account"]]
    promise = None
    if outcome == models.CallOutcome.PROMISE_MADE:
        amount = Money(Decimal(data["promise_amount"]), account.currency)
        promise = (amount, data["promise_date"])
    disclosure = None
    if outcome == models.CallOutcome.VULNERABILITY_DISCLOSED:
        disclosure = call_outcomes.Disclosure(
            category=models.VulnerabilityCategory(data["vulnerability_category"]),
            consent_to_record=data["vulnerability_consent"],
            detail=data["vulnerability_detail"] if data["vulnerability_consent"] else "",
            review_date=data["vulnerability_review_date"],
        )
    try:
        return call_outcomes.record_call_outcome(
            customer_id=customer_id,
            account_id=account.id,
            outcome=outcome,
            notes=data["notes"],
            agent=agent,
            now=timezone.now(),
            call_id=data["call"],
            supervisor=supervisor,
            promise=promise,
            direction=models.ContactDirection(data["direction"]),
            dispute_reason=data["dispute_reason"],
            disclosure=disclosure,
            idempotency_key=data["idempotency_key"] or None,
        )
    except promises.PromiseRefused as refused:
        form.add_error(_promise_field(refused.reason), refused.message)
    except call_outcomes.CallNotStarted:
        form.add_error(None, _("Start the call before recording its outcome."))
    except call_outcomes.NotYourCall:
        form.add_error(
            None, _("Another agent started this call: only they or a team lead may record it.")
        )
    except call_outcomes.IdempotencyKeyRefused:
        form.add_error(None, _("This form is out of date: reload the page and record the call."))
    except call_outcomes.OutcomeIncomplete as incomplete:
        form.add_error(None, str(incomplete))
    except circumstances.ReviewDateInPast:
        form.add_error("vulnerability_review_date", _("Choose a review date in the future."))
    except circumstances.DetailWithoutConsent:
        form.add_error("vulnerability_detail", _("Details need the customer's consent."))
    return None


def _promise_field(reason: promises.Refusal) -> str | None:
    field = _PROMISE_FIELD.get(reason, "promise_amount")
    return None if field == "__all__" else field


def _recorded(
    request: HtmxHttpRequest, *, customer_id: int, call: models.ContactAttempt
) -> HttpResponse:
    url = reverse("agent:customer", args=[customer_id])
    if not request.htmx:
        return HttpResponseRedirect(f"{url}?recorded={call.pk}")
    view = _customer_or_404(customer_id)
    context = _customer_context(request, view, account=str(call.account_id), recorded=str(call.pk))
    return _swap_customer(request, context)


def _swap_customer(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    response = render(request, "web/agent/_customer_body.html", context)
    return reswap(retarget(response, "#customer-360"), "outerHTML")


@dataclasses.dataclass(frozen=True, kw_only=True)
class _StartRefused:
    account_ref: str
    decision: compliance.Decision


@dataclasses.dataclass(frozen=True, kw_only=True)
class _LocalInstant:
    zone: str
    at: datetime.datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class _AccountCheck:
    account_id: int
    account_ref: str
    decision: compliance.Decision
    next_allowed: list[_LocalInstant]


def _check(
    subjects: customer_360.PolicySubjects,
    *,
    account_id: int,
    account_ref: str,
    now: datetime.datetime,
) -> _AccountCheck:
    decision = contact_policy.check_contact(
        customer_id=subjects.customer_id,
        account_ids=[account_id],
        channel=models.Channel.CALL,
        now=now,
    )
    zones = subjects.time_zones or (timezone.get_current_timezone_name(),)
    next_allowed = []
    if decision.next_allowed_at is not None:
        next_allowed = [
            _LocalInstant(zone=zone, at=decision.next_allowed_at.astimezone(_zone(zone)))
            for zone in zones
        ]
    return _AccountCheck(
        account_id=account_id, account_ref=account_ref, decision=decision, next_allowed=next_allowed
    )


def _zone(name: str) -> datetime.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.UTC


def _customer_or_404(customer_id: int) -> customer_360.Customer360:
    now = timezone.now()
    view = customer_360.customer_360(
        customer_id=customer_id, today=timezone.localdate(now), now=now
    )
    if view is None:
        raise Http404
    return view


def _workable(view: customer_360.Customer360) -> list[customer_360.AccountView]:
    open_ids = set(view.open_account_ids)
    return [account for account in view.accounts if account.id in open_ids]


def _inbound_form(view: customer_360.Customer360, *, account: str | None) -> forms.CallOutcomeForm:
    workable = _workable(view)
    chosen = next((a.id for a in workable if str(a.id) == account), None)
    if chosen is None:
        # Start with the account that most needs the call: the one in deepest arrears.
        in_arrears = sorted(workable, key=lambda a: a.days_past_due, reverse=True)
        chosen = in_arrears[0].id if in_arrears else None
    return forms.CallOutcomeForm(
        accounts=workable,
        customer_id=view.id,
        initial={"account": chosen, "direction": models.ContactDirection.INBOUND},
    )


def _may_record(request: HttpRequest, call: customer_360.ContactView) -> bool:
    """Return whether the user may record the outcome of a call in progress."""
    return call.agent == request.user.get_username() or roles.has_permission(
        request.user, Permission.SUPERVISE_AGENTS
    )


def _selected_call(
    request: HttpRequest, view: customer_360.Customer360, wanted: object
) -> customer_360.ContactView | None:
    """Return the call in progress to record: the one asked for, else the user's latest."""
    mine = [call for call in view.calls_in_progress if _may_record(request, call)]
    if wanted:
        return next((call for call in mine if str(call.id) == str(wanted)), None)
    username = request.user.get_username()
    return next((call for call in mine if call.agent == username), None)


def _outcome_form(
    view: customer_360.Customer360, call: customer_360.ContactView
) -> forms.CallOutcomeForm:
    return forms.CallOutcomeForm(
        accounts=_workable(view),
        customer_id=view.id,
        initial={
            "account": call.account_id,
            "direction": models.ContactDirection.OUTBOUND,
            "call": call.id,
        },
    )


def _customer_context(
    request: HttpRequest,
    view: customer_360.Customer360,
    *,
    account: str | None = None,
    call: str | None = None,
    recorded: str | None = None,
) -> dict[str, Any]:
    active = _selected_call(request, view, call)
    histories = why.accounts_decisions([a.id for a in view.accounts], limit=WHY_HISTORY)
    return {
        "customer": view,
        "why_panels": [(a, histories.get(a.id, [])) for a in view.accounts],
        "promise_for": {p.account_ref: p for p in view.promises if p.status == "OPEN"},
        "active_call": active,
        "form": _outcome_form(view, active) if active else None,
        "inbound_form": _inbound_form(view, account=account),
        "other_calls": [
            (other, _may_record(request, other))
            for other in view.calls_in_progress
            if active is None or other.id != active.id
        ],
        "recorded": next((c for c in view.contacts if str(c.id) == recorded), None),
        "start_refused": None,
        "records": records.panel(view.id),
    }


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, template, {**access.staff_context(request), **context}, status=status)
