"""Serve the manager's experiment pages: the list, one experiment's results, pause and resume.

Reading needs ``VIEW_PERFORMANCE``; pausing and resuming an arm need ``MANAGE_STRATEGY``
(checked here on every request) and go through :mod:`accord.usecases.guardrails`, one call
per POST, with Django's CSRF token. The figures come from
:mod:`accord.analytics.experiments` (docs/metrics.md, "Experiments").
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from accord.analytics import confidence, experiments
from accord.domain.access import Permission
from accord.storage import experiment_harm, models, roles
from accord.strategy import definition
from accord.usecases import guardrails
from accord.web import access
from accord.web.templatetags.accord_format import money_amount

MAX_WINDOW_DAYS = 366
NO_VALUE = "—"
# Accord's palette, one colour per arm (each meets 3:1 on white); the champion is first.
ARM_COLOURS = ("#12263a", "#0b57d0", "#b35c00", "#1f7a6d", "#7b3fa0", "#4a5360")
_HARM_LABELS = {
    experiment_harm.Measure.OPT_OUTS: gettext_lazy("Opt-outs"),
    experiment_harm.Measure.COMPLAINTS: gettext_lazy("Complaints"),
    experiment_harm.Measure.DISPUTES: gettext_lazy("Disputes"),
    experiment_harm.Measure.BROKEN_PROMISES: gettext_lazy("Broken promises"),
}
_METRIC_LABELS = {
    experiments.Metric.PAYING: gettext_lazy("Paying accounts"),
    experiments.Metric.CURE: gettext_lazy("Cure rate"),
    experiments.Metric.ROLL: gettext_lazy("Roll rate"),
    experiments.Metric.PROMISE_KEPT: gettext_lazy("Promise-kept rate"),
}


class WindowForm(forms.Form):
    """Choose the window of decisions compared, both days included."""

    start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        """Refuse a window that ends before it starts or spans more than a year."""
        cleaned: dict[str, Any] = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The window must end on or after its first day."))
            if (end - start).days >= MAX_WINDOW_DAYS:
                raise forms.ValidationError(_("Choose a window of a year or less."))
        return cleaned


class PauseForm(forms.Form):
    """Say why an arm is paused."""

    reason = forms.CharField(
        label=gettext_lazy("Why pause it?"),
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cell:
    """Show one figure of an arm and, for a challenger's rates, the difference to the champion."""

    figures: list[str]
    details: list[str] = dataclasses.field(default_factory=list)
    difference: str = ""
    interval: str = ""
    verdict: str = ""  # "better", "worse" or "" (no clear difference)


@dataclasses.dataclass(frozen=True, kw_only=True)
class OutcomeRow:
    """Show one measure across the arms."""

    label: str
    cells: list[Cell]


@dataclasses.dataclass(frozen=True, kw_only=True)
class HarmCell:
    """Show one harm measure of an arm against its guardrail."""

    label: str
    rate: str
    events: int
    above: str
    threshold: str
    over: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class HarmRow:
    """Show one arm's harm measures and its pause status."""

    arm: experiments.ArmResult
    harm: list[HarmCell]


def percent(rate: Decimal | float | None) -> str:
    """Show a share as a percentage to one decimal place; nothing as a dash."""
    if rate is None:
        return NO_VALUE
    return f"{(Decimal(str(rate)) * 100).quantize(Decimal('0.1'))}%"


def points(value: float) -> str:
    """Show a difference of shares in percentage points, signed."""
    figure = (Decimal(str(value)) * 100).quantize(Decimal("0.1"))
    return f"{'+' if figure > 0 else ''}{figure} pp"


def per_thousand(value: Decimal | None, *, signed: bool = False) -> str:
    """Show a rate per 1,000 accounts to one decimal place."""
    if value is None:
        return NO_VALUE
    figure = value.quantize(Decimal("0.1"))
    return f"{'+' if signed and figure > 0 else ''}{figure}"


def _rate_cell(arm: experiments.ArmResult, metric: experiments.Metric) -> Cell:
    proportion = arm.proportions[metric]
    comparison = arm.comparisons.get(metric)
    verdict = ""
    if comparison is not None and comparison.better is not None:
        verdict = "better" if comparison.better else "worse"
    return Cell(
        figures=[percent(proportion.rate)],
        details=[f"{proportion.successes:,} / {proportion.trials:,}"],
        difference=points(comparison.interval.estimate) if comparison else "",
        interval=(
            f"{points(comparison.interval.lower)} to {points(comparison.interval.upper)}"
            if comparison
            else ""
        ),
        verdict=verdict,
    )


def _contacts_cell(arm: experiments.ArmResult) -> Cell:
    per_account = arm.contacts_per_account
    detail = (
        _("%(n)s per account") % {"n": per_account.quantize(Decimal("0.01"))}
        if per_account is not None
        else ""
    )
    return Cell(figures=[f"{arm.contacts_sent:,}"], details=[detail] if detail else [])


def outcome_rows(results: experiments.ExperimentResults) -> list[OutcomeRow]:
    """Return the outcomes table: one row per measure, one cell per arm."""
    arms = results.arms
    found = [
        OutcomeRow(label=_("Accounts"), cells=[Cell(figures=[f"{a.accounts:,}"]) for a in arms]),
        OutcomeRow(label=_("Contacts sent"), cells=[_contacts_cell(a) for a in arms]),
        OutcomeRow(
            label=_("Payments received"),
            cells=[
                Cell(figures=[money_amount(amount) for amount in a.payments] or [NO_VALUE])
                for a in arms
            ],
        ),
    ]
    found.extend(
        OutcomeRow(label=str(_METRIC_LABELS[metric]), cells=[_rate_cell(a, metric) for a in arms])
        for metric in experiments.Metric
    )
    return found


def harm_rows(results: experiments.ExperimentResults) -> list[HarmRow]:
    """Return the harm table: one row per arm."""
    return [
        HarmRow(
            arm=arm,
            harm=[
                HarmCell(
                    label=str(_HARM_LABELS[harm.measure]),
                    rate=per_thousand(harm.per_1000),
                    events=harm.events,
                    above=("" if arm.champion else per_thousand(harm.above_champion, signed=True)),
                    threshold=per_thousand(harm.threshold),
                    over=harm.over_threshold,
                )
                for harm in arm.harm
            ],
        )
        for arm in results.arms
    ]


def chart_data(results: experiments.ExperimentResults) -> dict[str, Any]:
    """Return the chart's data: each arm's rates with their 95% (Wilson) intervals, in %."""
    series = []
    for index, arm in enumerate(results.arms):
        values: list[float | None] = []
        plus: list[float] = []
        minus: list[float] = []
        for metric in experiments.Metric:
            proportion = arm.proportions[metric]
            if proportion.trials == 0:
                values.append(None)
                plus.append(0.0)
                minus.append(0.0)
                continue
            interval = confidence.wilson(proportion.successes, proportion.trials)
            values.append(round(interval.estimate * 100, 2))
            plus.append(round((interval.upper - interval.estimate) * 100, 2))
            minus.append(round((interval.estimate - interval.lower) * 100, 2))
        series.append(
            {
                "name": arm.name,
                "colour": ARM_COLOURS[index % len(ARM_COLOURS)],
                "values": values,
                "plus": plus,
                "minus": minus,
            }
        )
    return {
        "labels": [str(_METRIC_LABELS[metric]) for metric in experiments.Metric],
        "series": series,
        "yTitle": str(_("Share of accounts (%), with 95% interval")),
    }


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    may_manage = roles.has_permission(request.user, Permission.MANAGE_STRATEGY)
    return render(
        request, template, {**access.staff_context(request), "may_manage": may_manage, **context}
    )


def _actor(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


@require_safe
@access.require_permission(Permission.VIEW_PERFORMANCE)
def experiment_list(request: HttpRequest) -> HttpResponse:
    """List the active strategy's experiments and any other experiment with decisions."""
    return _page(
        request,
        "web/manager/experiments/list.html",
        {"experiments": experiments.experiment_list()},
    )


def _definition(name: str) -> experiments.Found:
    found = experiments.find_experiment(name)
    if found is not None:
        return found
    arms = sorted(
        models.Decision.objects.filter(experiment=name)
        .exclude(experiment="")  # the partial index's condition: SQLite then reads the index
        .order_by()
        .values_list("arm", flat=True)
        .distinct()
    )
    if not arms:
        raise Http404("no such experiment")
    # Decided under a strategy no longer stored: compare with the arm named champion if any.
    arms.sort(key=lambda arm: arm != "champion")
    return experiments.Found(
        experiment=definition.Experiment(
            name=name,
            arms=tuple(definition.Arm(name=arm, percent=0, path="") for arm in arms),
            guardrails=definition.Guardrails(),
        ),
        segment="",
        strategy=experiments.active_strategy(),
        active=False,
    )


@require_safe
@access.require_permission(Permission.VIEW_PERFORMANCE)
def experiment_detail(request: HttpRequest, name: str) -> HttpResponse:
    """Show an experiment's arms compared over a window, with the harm guardrails."""
    found = _definition(name)
    labels = {"segment": found.segment, "source": found.strategy.label}
    # Without a chosen window: the figures counted after the latest run (a snapshot), at once.
    snapshot = None
    if not request.GET:
        snapshot = experiments.latest_snapshot(
            experiment=found.experiment, buckets=found.strategy.buckets, **labels
        )
    if snapshot is not None:
        start, end = snapshot.results.start, snapshot.results.end
    else:
        start, end = experiments.default_window(name, today=timezone.localdate())
    form = WindowForm(request.GET if request.GET else None, initial={"start": start, "end": end})
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    if snapshot is not None:
        results = snapshot.results
    else:
        # Counted now, once per window until the next audited change (cached).
        results = experiments.cached_results(
            experiment=found.experiment,
            buckets=found.strategy.buckets,
            start=start,
            end=end,
            **labels,
        )
    guardrail_start, guardrail_end = guardrails.window(now=timezone.now())
    return _page(
        request,
        "web/manager/experiments/detail.html",
        {
            "found": found,
            "results": results,
            "snapshot": snapshot,
            "outcomes": outcome_rows(results),
            "harm_rows": harm_rows(results),
            "chart": chart_data(results),
            "has_chart": any(arm.accounts for arm in results.arms),
            "form": form,
            "pause_form": PauseForm(),
            "guardrail_start": guardrail_start,
            "guardrail_end": guardrail_end,
            "window_days": guardrails.WINDOW_DAYS,
        },
    )


def _back(name: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("manager:experiment", args=[name]))


@require_POST
@access.require_permission(Permission.MANAGE_STRATEGY)
def arm_pause(request: HttpRequest, name: str, arm: str) -> HttpResponse:
    """Pause a challenger arm by hand, with the reason the manager gives."""
    found = _definition(name)
    form = PauseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the arm is paused."))
        return _back(name)
    try:
        guardrails.pause_arm(
            experiment=name,
            arm=arm,
            reason=form.cleaned_data["reason"],
            actor=_actor(request),
            now=timezone.now(),
            strategy=found.strategy if found.active else None,
        )
    except guardrails.ArmAlreadyPaused:
        messages.error(request, _("Arm %(arm)s is already paused.") % {"arm": arm})
    except (guardrails.UnknownArm, guardrails.ChampionNotPausable) as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            _("Arm %(arm)s is paused: from the next run its accounts follow the champion's path.")
            % {"arm": arm},
        )
    return _back(name)


@require_POST
@access.require_permission(Permission.MANAGE_STRATEGY)
def arm_resume(request: HttpRequest, name: str, arm: str) -> HttpResponse:
    """Resume a paused arm."""
    try:
        guardrails.resume_arm(experiment=name, arm=arm, actor=_actor(request), now=timezone.now())
    except guardrails.ArmNotPaused:
        messages.error(request, _("Arm %(arm)s is not paused.") % {"arm": arm})
    else:
        messages.success(
            request,
            _("Arm %(arm)s is resumed: from the next run its accounts follow its own path again.")
            % {"arm": arm},
        )
    return _back(name)
