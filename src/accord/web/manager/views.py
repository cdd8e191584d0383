"""Serve the manager view: the book by aging bucket, the latest strategy run and the KPIs."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from accord.analytics import buckets, kpis
from accord.domain.access import Permission
from accord.storage import roles
from accord.web import access
from accord.web.templatetags.accord_format import money_amount

DEFAULT_PERIOD_DAYS = 30
MAX_PERIOD_DAYS = 366 * 5
NO_VALUE = "—"
# Accord's palette for the chart, one colour per currency (each meets 3:1 on white).
CHART_COLOURS = ("#0b57d0", "#12263a", "#b35c00", "#1f7a6d", "#7b3fa0", "#4a5360")


class PeriodForm(forms.Form):
    """Choose the period the KPIs cover, both days included."""

    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        """Refuse a period that ends before it starts or spans more than five years."""
        cleaned: dict[str, Any] = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The period must end on or after its first day."))
            if (end - start).days > MAX_PERIOD_DAYS:
                raise forms.ValidationError(_("Choose a period of five years or less."))
        return cleaned


@dataclasses.dataclass(frozen=True, kw_only=True)
class KpiTile:
    """Hold one KPI for one currency as the page shows it."""

    currency: str
    value: str
    detail: str


def default_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Return the last ``DEFAULT_PERIOD_DAYS`` days up to and including ``today``."""
    return today - datetime.timedelta(days=DEFAULT_PERIOD_DAYS - 1), today


def percent(rate: Decimal | None) -> str:
    """Show a rate as a percentage to one decimal place; an empty rate as a dash."""
    if rate is None:
        return NO_VALUE
    return f"{(rate * 100).quantize(Decimal('0.1'))}%"


def collection_tiles(rates: list[kpis.CollectionRate]) -> list[KpiTile]:
    """Return one collection-rate tile per currency."""
    return [
        KpiTile(
            currency=rate.currency,
            value=percent(rate.rate),
            detail=_("%(collected)s collected of %(owed)s due")
            % {
                "collected": money_amount(rate.collected),
                "owed": money_amount(rate.to_collect),
            },
        )
        for rate in rates
    ]


def promise_tiles(rates: list[kpis.PromiseKeptRate]) -> list[KpiTile]:
    """Return one promise-kept tile per currency."""
    return [
        KpiTile(
            currency=rate.currency,
            value=percent(rate.rate),
            detail=_("%(kept)d kept of %(resolved)d resolved, %(awaiting)d awaiting")
            % {
                "kept": rate.kept,
                "resolved": rate.kept + rate.broken,
                "awaiting": rate.awaiting,
            },
        )
        for rate in rates
    ]


def chart_data(overview: buckets.RunOverview) -> dict[str, Any]:
    """Return the bucket chart's data: accounts per bucket, one stacked series per currency."""
    counts = overview.bucket_counts
    return {
        "labels": [count.label for count in counts],
        "series": [
            {
                "name": currency,
                "colour": CHART_COLOURS[index % len(CHART_COLOURS)],
                "values": [count.by_currency.get(currency, 0) for count in counts],
            }
            for index, currency in enumerate(overview.currencies)
        ],
        "yTitle": str(_("Accounts")),
    }


@require_safe
@access.require_permission(Permission.VIEW_PERFORMANCE)
def overview(request: HttpRequest) -> HttpResponse:
    """Show the book by aging bucket, the latest strategy run and the KPIs for a period."""
    start, end = default_period(timezone.localdate())
    form = PeriodForm(request.GET if request.GET else None, initial={"start": start, "end": end})
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    runs = buckets.cached_overview()
    figures = kpis.cached_kpis(start=start, end=end)
    context = {
        "form": form,
        "start": start,
        "end": end,
        "runs": runs,
        "collection_tiles": collection_tiles(figures.collection),
        "promise_tiles": promise_tiles(figures.promises),
        "chart": chart_data(runs),
        "may_manage": roles.has_permission(request.user, Permission.MANAGE_STRATEGY),
    }
    return render(
        request, "web/manager/overview.html", {**access.staff_context(request), **context}
    )
