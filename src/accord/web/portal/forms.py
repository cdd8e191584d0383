"""The portal's forms: labels, hints and errors in the customer's language, linked for
screen readers (each input names its hint and its error with ``aria-describedby``)."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accord.domain import plans
from accord.storage import models
from accord.usecases import portal_access, preferences

_CODE = re.compile(f"[0-9]{{{portal_access.CODE_DIGITS}}}")


class AccessibleForm(forms.Form):
    """Link every input to its hint and its errors, and mark invalid inputs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self._describe()

    def full_clean(self) -> None:
        """Validate, then point each invalid input at its error message."""
        super().full_clean()
        self._describe()

    def _describe(self) -> None:
        errors = getattr(self, "_errors", None) or {}
        for name, field in self.fields.items():
            bound = self[name]
            ids = []
            if field.help_text:
                ids.append(f"{bound.auto_id}_hint")
            if name in errors:
                ids.append(f"{bound.auto_id}_error")
                field.widget.attrs["aria-invalid"] = "true"
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)


class SignInForm(AccessibleForm):
    destination = forms.CharField(
        label=_("Email address or mobile number"),
        help_text=_(
            "Use the email address or mobile number we have for you. Write mobile numbers "
            "with the country code, for example +44 7911 123456."
        ),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
        error_messages={"required": _("Enter your email address or mobile number.")},
    )

    def clean_destination(self) -> portal_access.Destination:
        """Read the text as an email address or an international phone number."""
        try:
            return portal_access.parse_destination(self.cleaned_data["destination"])
        except portal_access.InvalidDestination:
            raise forms.ValidationError(
                _(
                    "Enter an email address, like name@example.com, or a mobile number "
                    "with its country code, like +44 7911 123456."
                )
            ) from None


class CodeForm(AccessibleForm):
    code = forms.CharField(
        label=_("Your 6-digit code"),
        help_text=_("It is in the message we just sent. It works once, for 10 minutes."),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 ]*",
                "class": "input--code",
            }
        ),
        error_messages={"required": _("Enter the 6-digit code.")},
    )

    def clean_code(self) -> str:
        """Accept the six digits with or without spaces."""
        code = re.sub(r"\s+", "", self.cleaned_data["code"])
        if not _CODE.fullmatch(code):
            raise forms.ValidationError(_("The code is 6 digits, like 123456."))
        return code


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class PromiseForm(AccessibleForm):
    amount = forms.CharField(
        label=_("Amount"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={"required": _("Enter the amount you can pay.")},
    )
    promised_date = forms.DateField(
        label=_("Date you will pay by"),
        widget=DateInput(),
        error_messages={
            "required": _("Enter the date you will pay by."),
            "invalid": _("Enter a real date, like 2026-04-15."),
        },
    )

    def __init__(self, *args: Any, help_amount: str, help_date: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = help_amount
        self.fields["promised_date"].help_text = help_date
        self._describe()


class PlanForm(AccessibleForm):
    instalment_count = forms.TypedChoiceField(
        label=_("How many monthly payments?"),
        choices=[(count, count) for count in plans.OFFERED_COUNTS],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how many monthly payments suit you.")},
    )
    start_date = forms.DateField(
        label=_("Date of the first payment"),
        help_text=_("Any day in the next 31 days. Later payments fall on the same day each month."),
        widget=DateInput(),
        error_messages={
            "required": _("Enter the date of the first payment."),
            "invalid": _("Enter a real date, like 2026-04-15."),
        },
    )
    # The total of the schedule the customer was shown, posted back when they confirm it.
    expected_total = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)


def _hour_choices() -> list[tuple[str, str]]:
    return [(f"{hour:02d}:00", f"{hour:02d}:00") for hour in range(8, 22)]


class PreferencesForm(AccessibleForm):
    preferred_channel = forms.ChoiceField(
        label=_("How would you like us to contact you?"),
        required=False,
        choices=[
            ("", _("No preference")),
            (models.Channel.EMAIL, _("Email")),
            (models.Channel.SMS, _("Text message")),
            (models.Channel.LETTER, _("Letter")),
            (models.Channel.CALL, _("Phone call")),
        ],
    )
    hours_from = forms.ChoiceField(
        label=_("From"),
        required=False,
        choices=[("", _("Any time")), *_hour_choices()],
    )
    hours_to = forms.ChoiceField(
        label=_("Until"),
        required=False,
        choices=[("", _("Any time")), *_hour_choices()],
    )
    language = forms.ChoiceField(
        label=_("Language for our messages and this site"),
        choices=[("en", "English"), ("es", "Español")],
    )

    def clean(self) -> dict[str, Any]:
        """Require both ends of the contact hours, the start before the end, or neither."""
        data = super().clean() or {}
        start, end = data.get("hours_from"), data.get("hours_to")
        if bool(start) != bool(end):
            self.add_error("hours_to", _("Choose both times, or 'Any time' for both."))
        elif start and end and not start < end:
            self.add_error("hours_to", _("The end time must be after the start time."))
        return data

    def contact_hours(self) -> tuple[datetime.time, datetime.time] | None:
        """Return the chosen contact hours, or ``None`` for any lawful time."""
        start, end = self.cleaned_data.get("hours_from"), self.cleaned_data.get("hours_to")
        if not start or not end:
            return None
        return datetime.time.fromisoformat(start), datetime.time.fromisoformat(end)


class OptOutForm(forms.Form):
    channel = forms.ChoiceField(
        choices=[(channel, channel) for channel in preferences.PREFERABLE_CHANNELS]
    )


class PauseForm(AccessibleForm):
    """Ask how long to pause contact for (one of ``preferences.PAUSE_DAYS``) and why."""

    days = forms.TypedChoiceField(
        label=_("For how long?"),
        choices=[(7, _("7 days")), (14, _("14 days")), (30, _("30 days"))],
        coerce=int,
    )
    reason = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=preferences.MAX_PAUSE_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
