"""Record a complaint or a breathing space from the agent's customer page.

Both need ``WORK_ACCOUNTS``; each POST makes one use-case call
(``usecases.complaints.record_complaint``, ``usecases.circumstances.record_breathing_space``)
and comes back to the customer page with a confirmation. A form with mistakes is shown
again on its own page, with the mistakes next to their fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accord.analytics import customer_records
from accord.domain.access import Permission
from accord.storage import models
from accord.usecases import circumstances, complaints
from accord.web import access

NO_ACCOUNT = ""


class ComplaintForm(forms.Form):
    """Say what the customer complained about, how, and (if it is about one) on which account."""

    account = forms.ChoiceField(label=gettext_lazy("About account"), required=False)
    category = forms.ChoiceField(
        label=gettext_lazy("What it is about"), choices=models.ComplaintCategory.choices
    )
    received_via = forms.ChoiceField(
        label=gettext_lazy("How it came in"),
        required=False,
        choices=[("", gettext_lazy("Not stated")), *models.Channel.choices],
    )
    summary = forms.CharField(
        label=gettext_lazy("What the customer is unhappy about"),
        max_length=complaints.MAX_SUMMARY,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, accounts: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(NO_ACCOUNT, _("The customer in general"))]
        choices += [(str(account_id), ref) for account_id, ref in accounts]
        self.fields["account"].choices = choices  # type: ignore[attr-defined]


class BreathingSpaceForm(forms.Form):
    """Say which moratorium applies, from when, until when, and its register reference."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=models.BreathingSpaceKind.choices)
    starts_on = forms.DateField(
        label=gettext_lazy("Starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=gettext_lazy("Ends on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy(
            "Leave empty: 60 days for a standard breathing space; open-ended for a crisis."
        ),
    )
    reference = forms.CharField(
        label=gettext_lazy("Register reference"),
        required=False,
        max_length=circumstances.MAX_REFERENCE,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Panel:
    """Hold what the customer page's complaints and breathing-space panel shows."""

    customer_id: int
    records: customer_records.CustomerRecords
    complaint_form: ComplaintForm
    breathing_form: BreathingSpaceForm


def _accounts(customer_id: int) -> list[tuple[int, str]]:
    return list(
        models.Account.objects.filter(customer_id=customer_id)
        .order_by("external_ref")
        .values_list("pk", "external_ref")
    )


def panel(customer_id: int) -> Panel:
    """Return the panel of a customer's complaints and breathing spaces, with empty forms."""
    today = timezone.localdate()
    return Panel(
        customer_id=customer_id,
        records=customer_records.for_customer(customer_id, today=today),
        complaint_form=ComplaintForm(accounts=_accounts(customer_id), auto_id="complaint_%s"),
        breathing_form=BreathingSpaceForm(initial={"starts_on": today}, auto_id="breathing_%s"),
    )


def _customer_url(customer_id: int) -> str:
    return reverse("agent:customer", args=[customer_id]) + "#records"


def _actor(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


def _customer_name(customer_id: int) -> str:
    name = models.Customer.objects.filter(pk=customer_id).values_list("name", flat=True).first()
    if name is None:
        raise Http404("no such customer")
    return name


def _again(request: HttpRequest, *, customer_id: int, form: forms.Form, kind: str) -> HttpResponse:
    context = {
        "customer_id": customer_id,
        "customer_name": _customer_name(customer_id),
        "form": form,
        "kind": kind,
    }
    return render(
        request,
        "web/agent/record_form.html",
        {**access.staff_context(request), **context},
        status=422,
    )


@require_POST
@access.require_permission(Permission.WORK_ACCOUNTS)
def record_complaint(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Record the customer's complaint."""
    _customer_name(customer_id)
    form = ComplaintForm(request.POST, accounts=_accounts(customer_id), auto_id="complaint_%s")
    if not form.is_valid():
        return _again(request, customer_id=customer_id, form=form, kind="complaint")
    account = form.cleaned_data["account"]
    try:
        complaints.record_complaint(
            customer_id=customer_id,
            account_id=int(account) if account else None,
            category=models.ComplaintCategory(form.cleaned_data["category"]),
            summary=form.cleaned_data["summary"],
            received_via=(
                models.Channel(form.cleaned_data["received_via"])
                if form.cleaned_data["received_via"]
                else None
            ),
            recorded_by=_actor(request),
            now=timezone.now(),
        )
    except complaints.EmptySummary as refused:
        form.add_error("summary", str(refused))
        return _again(request, customer_id=customer_id, form=form, kind="complaint")
    except (complaints.UnknownCustomer, complaints.AccountNotTheCustomers):
        raise Http404("no such customer or account") from None
    messages.success(request, _("Complaint recorded."))
    return HttpResponseRedirect(_customer_url(customer_id))


@require_POST
@access.require_permission(Permission.WORK_ACCOUNTS)
def record_breathing_space(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Record a breathing-space moratorium for the customer."""
    _customer_name(customer_id)
    form = BreathingSpaceForm(request.POST, auto_id="breathing_%s")
    if not form.is_valid():
        return _again(request, customer_id=customer_id, form=form, kind="breathing")
    try:
        space = circumstances.record_breathing_space(
            customer_id=customer_id,
            kind=models.BreathingSpaceKind(form.cleaned_data["kind"]),
            starts_on=form.cleaned_data["starts_on"],
            ends_on=form.cleaned_data["ends_on"],
            reference=form.cleaned_data["reference"],
            recorded_by=_actor(request),
            now=timezone.now(),
        )
    except circumstances.BreathingSpaceStartsTooLate as refused:
        form.add_error("starts_on", str(refused))
        return _again(request, customer_id=customer_id, form=form, kind="breathing")
    except circumstances.BreathingSpaceEndsBeforeStart as refused:
        form.add_error("ends_on", str(refused))
        return _again(request, customer_id=customer_id, form=form, kind="breathing")
    except circumstances.ReferenceTooLong as refused:
        form.add_error("reference", str(refused))
        return _again(request, customer_id=customer_id, form=form, kind="breathing")
    except circumstances.UnknownCustomer:
        raise Http404("no such customer") from None
    if space.ends_on is None:
        messages.success(request, _("Breathing space recorded, with no end date yet."))
    else:
        messages.success(
            request,
            _("Breathing space recorded until %(date)s: no collection contact until then.")
            % {"date": space.ends_on.strftime("%d %b %Y")},
        )
    return HttpResponseRedirect(_customer_url(customer_id))
