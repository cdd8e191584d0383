"""Forms of the agent workspace: the queue filters and the call outcome."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accord.analytics import customer_360, work_queue
from accord.storage import models
from accord.usecases import call_outcomes


class QueueFilterForm(forms.Form):
    """Narrow the work queue by stage and kind of work."""

    stage = forms.ChoiceField(
        label=_("Stage"),
        required=False,
        choices=[("", _("All stages"))]
        + [(stage.value, work_queue.stage_label(stage)) for stage in work_queue.STAGE_ORDER],
    )
    focus = forms.ChoiceField(label=_("Work"), required=False, choices=work_queue.Focus.choices)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class StartCallForm(forms.Form):
    """Name the account an outbound call is about (the "Start call" button posts it)."""

    account = forms.IntegerField(min_value=1)


class CallOutcomeForm(forms.Form):
    """Record a call: the call started (or the customer's call), its outcome and what it brought.

    An outbound call's form carries the started call's id; an inbound call's form carries
    an idempotency key Accord made when rendering it (``call:<customer>:<uuid>``).
    """

    account = forms.TypedChoiceField(label=_("Account"), coerce=int)
    direction = forms.ChoiceField(
        choices=[
            (models.ContactDirection.OUTBOUND, _("We called the customer")),
            (models.ContactDirection.INBOUND, _("The customer called us")),
        ],
        initial=models.ContactDirection.OUTBOUND,
        widget=forms.HiddenInput,
    )
    call = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=models.CallOutcome.choices, widget=forms.RadioSelect
    )
    promise_amount = forms.DecimalField(
        label=_("Amount promised"),
        required=False,
        min_value=0,
        max_digits=17,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    promise_date = forms.DateField(
        label=_("Pay by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    dispute_reason = forms.CharField(
        label=_("What the customer disputes"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    vulnerability_category = forms.ChoiceField(
        label=_("Circumstance"),
        required=False,
        choices=[("", _("Choose…")), *models.VulnerabilityCategory.choices],
    )
    vulnerability_consent = forms.BooleanField(
        label=_("The customer agrees that we record the details"), required=False
    )
    vulnerability_detail = forms.CharField(
        label=_("Details (only with consent)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    vulnerability_review_date = forms.DateField(
        label=_("Review on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput, max_length=128)

    def __init__(
        self,
        *args: Any,
        accounts: Sequence[customer_360.AccountView],
        customer_id: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.accounts = {account.id: account for account in accounts}
        account_field = self.fields["account"]
        assert isinstance(account_field, forms.TypedChoiceField)
        account_field.choices = [
            (
                account.id,
                _("%(ref)s · %(product)s · arrears %(arrears)s")
                % {
                    "ref": account.ref,
                    "product": account.product_label,
                    "arrears": f"{account.arrears.amount} {account.currency}",
                },
            )
            for account in accounts
        ]
        if self.inbound:
            # Both forms can be on one page: keep their element ids apart.
            self.auto_id = "id_inbound_%s"
            if not self.is_bound:
                self.initial.setdefault("idempotency_key", call_outcomes.new_call_key(customer_id))

    @property
    def inbound(self) -> bool:
        """Return whether the form records a call the customer made to us."""
        raw = self.data.get("direction") if self.is_bound else self.initial.get("direction")
        return raw == models.ContactDirection.INBOUND

    def selected_account(self) -> customer_360.AccountView | None:
        """Return the account the form is about: the posted one, else the initial one."""
        raw = self.data.get("account") if self.is_bound else self.initial.get("account")
        try:
            return self.accounts.get(int(str(raw)))
        except (TypeError, ValueError):
            return next(iter(self.accounts.values()), None)

    def clean(self) -> dict[str, Any]:
        """Require the details each outcome brings with it."""
        data = super().clean() or {}
        if data.get("direction") == models.ContactDirection.OUTBOUND and not data.get("call"):
            self.add_error(None, _("Start the call before recording its outcome."))
        outcome = data.get("outcome")
        if outcome == models.CallOutcome.PROMISE_MADE:
            if data.get("promise_amount") is None:
                self.add_error("promise_amount", _("Enter the amount the customer promised."))
            if data.get("promise_date") is None:
                self.add_error("promise_date", _("Enter the date the customer will pay by."))
        if outcome == models.CallOutcome.DISPUTE_RAISED and not data.get("dispute_reason"):
            self.add_error("dispute_reason", _("Say what the customer disputes."))
        if outcome == models.CallOutcome.VULNERABILITY_DISCLOSED:
            if not data.get("vulnerability_category"):
                self.add_error("vulnerability_category", _("Choose the circumstance."))
            if data.get("vulnerability_review_date") is None:
                self.add_error("vulnerability_review_date", _("Choose when to review it."))
            if data.get("vulnerability_detail") and not data.get("vulnerability_consent"):
                self.add_error(
                    "vulnerability_detail",
                    _("Details may only be recorded with the customer's consent."),
                )
        return data
