"""Serve the manager's strategy pages: versions, the editor, diffs, dry runs, activation.

Reading a strategy needs ``VIEW_PERFORMANCE``; saving, dry-running (and reading dry runs),
activating and starting a run need ``MANAGE_STRATEGY`` (checked on every request, here on
the server). Changes go through :mod:`accord.usecases.strategies`,
:mod:`accord.usecases.dry_runs` and :mod:`accord.usecases.strategy_run`, one call per
request; every form is a POST with Django's CSRF token. A dry run is worked in the
background: its page polls a status fragment with htmx until it finishes.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accord.analytics import dry_runs as analytics_dry_runs
from accord.analytics import strategy_outline, strategy_words, why
from accord.domain.access import Permission
from accord.storage import models, roles
from accord.strategy import definition
from accord.usecases import dry_runs, strategies, strategy_run
from accord.web import access

# A strategy is a page or two of YAML; far larger input is a mistake.
MAX_SOURCE = 200_000


class StrategyForm(forms.Form):
    """Hold a strategy's YAML and the note saved with it."""

    source = forms.CharField(
        label=gettext_lazy("Strategy (YAML)"),
        max_length=MAX_SOURCE,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 32,
                "spellcheck": "false",
                "autocapitalize": "off",
                "autocomplete": "off",
                "wrap": "off",
                "class": "strategy-editor__text",
            }
        ),
    )
    note = forms.CharField(
        label=gettext_lazy("What changed and why"),
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"class": "strategy-editor__note"}),
    )
    based_on = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class DryRunForm(forms.Form):
    """Choose the as-of date a dry run decides for."""

    as_of = forms.DateField(
        label=gettext_lazy("As of"), widget=forms.DateInput(attrs={"type": "date"})
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class CountRow:
    """One value of a dry run's tally beside the active version's, and the difference."""

    value: str
    label: str
    count: int
    active: int | None

    @property
    def difference(self) -> int | None:
        """Return this version's count minus the active one's (None without one)."""
        return None if self.active is None else self.count - self.active


@dataclasses.dataclass(frozen=True, kw_only=True)
class CountTable:
    """One tally of a dry run (per segment, treatment, arm, channel or contact outcome)."""

    key: str
    title: str
    rows: list[CountRow]


_TALLIES = (
    ("segment", gettext_lazy("Segment")),
    ("treatment", gettext_lazy("Treatment")),
    ("arm", gettext_lazy("Experiment arm")),
    ("channel", gettext_lazy("Channel")),
    ("contacts", gettext_lazy("Contacts")),
)
_CONTACT_LABELS = {
    "allowed": gettext_lazy("Allowed now"),
    "deferred": gettext_lazy("Deferred by the policy"),
    "blocked": gettext_lazy("Blocked by the policy"),
}


def _label(key: str, value: str) -> str:
    if key == "treatment":
        try:
            return str(models.Treatment(value).label)
        except ValueError:
            return value
    if key == "channel":
        if not value:
            return _("No channel")
        try:
            return str(models.Channel(value).label)
        except ValueError:
            return value
    if key == "contacts":
        return str(_CONTACT_LABELS.get(value, value))
    if key == "segment" and not value:
        return _("No segment")
    if key == "arm" and "/" in value:
        experiment, arm = value.split("/", 1)
        return _("%(arm)s (%(experiment)s)") % {"arm": arm, "experiment": experiment}
    return value


def count_tables(
    counts: dict[str, dict[str, int]], active: dict[str, dict[str, int]] | None
) -> list[CountTable]:
    """Return one table per tally, each value beside the active version's count."""
    tables = []
    for key, title in _TALLIES:
        mine = {str(k): int(v) for k, v in (counts.get(key) or {}).items()}
        theirs = (
            None if active is None else {str(k): int(v) for k, v in (active.get(key) or {}).items()}
        )
        values = list(mine)
        if theirs is not None:
            values += [value for value in theirs if value not in mine]
        if key == "contacts":
            values = [v for v in _CONTACT_LABELS if v in values] + [
                v for v in values if v not in _CONTACT_LABELS
            ]
        rows = [
            CountRow(
                value=value,
                label=_label(key, value),
                count=mine.get(value, 0),
                active=None if theirs is None else theirs.get(value, 0),
            )
            for value in values
        ]
        tables.append(CountTable(key=key, title=str(title), rows=rows))
    return tables


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    may_manage = roles.has_permission(request.user, Permission.MANAGE_STRATEGY)
    return render(
        request,
        template,
        {**access.staff_context(request), "may_manage": may_manage, **context},
        status=status,
    )


def _actor(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


def _version_or_404(version_id: int) -> models.StrategyVersion:
    found = strategy_outline.version(version_id)
    if found is None:
        raise Http404("no such strategy version")
    return found


def _version_url(version: models.StrategyVersion) -> str:
    return reverse("manager:strategy", args=[version.pk])


# --- Pages -------------------------------------------------------------------------------


@require_safe
@access.require_permission(Permission.VIEW_PERFORMANCE)
def strategy_list(request: HttpRequest) -> HttpResponse:
    """List the strategy versions: the active one, drafts and retired ones."""
    return _page(
        request, "web/manager/strategies/list.html", {"versions": strategy_outline.versions()}
    )


@require_safe
@access.require_permission(Permission.VIEW_PERFORMANCE)
def strategy_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    """Show one version in words (segments, arms, paths, steps) and its YAML."""
    version = _version_or_404(version_id)
    strategy = strategy_outline.parsed(version)
    active = strategy_outline.active()
    context = {
        "version": strategy_outline.VersionRow.of(version),
        "outline": strategy_outline.outline(strategy) if strategy else None,
        "source": version.source,
        "active": strategy_outline.VersionRow.of(active) if active else None,
    }
    return _page(request, "web/manager/strategies/detail.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@access.require_permission(Permission.MANAGE_STRATEGY)
def strategy_editor(request: HttpRequest) -> HttpResponse:
    """Edit a strategy's YAML and save it as a new draft; a refusal keeps what was typed."""
    if request.method == "POST":
        form = StrategyForm(request.POST)
        problem = ""
        if form.is_valid():
            try:
                saved = strategies.save_draft(
                    source=form.cleaned_data["source"],
                    note=form.cleaned_data["note"],
                    based_on_id=form.cleaned_data["based_on"],
                    actor=_actor(request),
                    now=timezone.now(),
                )
            except strategies.StrategyInvalid as invalid:
                problem = invalid.message
            except strategies.VersionExists as exists:
                problem = str(exists)
            else:
                messages.success(
                    request,
                    _("Saved %(label)s as a draft. Dry-run it, then activate it when ready.")
                    % {"label": saved.label},
                )
                return HttpResponseRedirect(_version_url(saved))
        based_on = _based_on(form.data.get("based_on"))
        return _page(
            request,
            "web/manager/strategies/editor.html",
            _editor_context(form, based_on=based_on, problem=problem),
            status=422,
        )
    based_on = _based_on(request.GET.get("from"))
    if based_on is None and request.GET.get("from"):
        raise Http404("no such strategy version")
    if based_on is None:
        based_on = strategy_outline.active()
    source = based_on.source if based_on else definition.default_source()
    form = StrategyForm(initial={"source": source, "based_on": based_on.pk if based_on else None})
    return _page(
        request, "web/manager/strategies/editor.html", _editor_context(form, based_on=based_on)
    )


def _based_on(value: object) -> models.StrategyVersion | None:
    text = str(value or "")
    return strategy_outline.version(int(text)) if text.isdigit() else None


def _editor_context(
    form: StrategyForm, *, based_on: models.StrategyVersion | None, problem: str = ""
) -> dict[str, Any]:
    source = str(form.data.get("source", "")) if form.is_bound else str(form.initial["source"])
    return {
        "form": form,
        "based_on": strategy_outline.VersionRow.of(based_on) if based_on else None,
        "problem": problem,
        "problem_line": strategy_words.problem_line(source, problem) if problem else None,
        "line_numbers": range(1, source.count("\n") + 2),
    }


@require_safe
@access.require_permission(Permission.VIEW_PERFORMANCE)
def strategy_diff(request: HttpRequest, version_id: int) -> HttpResponse:
    """Compare a version with another (by default the active one, else the one it came from)."""
    version = _version_or_404(version_id)
    other_id = request.GET.get("against", "")
    if other_id:
        other = _version_or_404(int(other_id)) if other_id.isdigit() else None
        if other is None:
            raise Http404("no such strategy version")
    else:
        active = strategy_outline.active()
        other = active if active and active.pk != version.pk else version.based_on
    compared = strategies.diff(old=other, new=version) if other else None
    context = {
        "version": strategy_outline.VersionRow.of(version),
        "other": strategy_outline.VersionRow.of(other) if other else None,
        "choices": [row for row in strategy_outline.versions().all if row.id != version.pk],
        "diff": compared,
    }
    return _page(request, "web/manager/strategies/diff.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@access.require_permission(Permission.MANAGE_STRATEGY)
def strategy_dry_run(request: HttpRequest, version_id: int) -> HttpResponse:
    """Show a version's recent dry runs (GET); start one in the background (POST)."""
    version = _version_or_404(version_id)
    now = timezone.now()
    if request.method != "POST":
        form = DryRunForm(initial={"as_of": timezone.localdate(now)})
        return _dry_run_page(request, version, form=form, now=now)
    form = DryRunForm(request.POST)
    problem = ""
    if form.is_valid():
        try:
            started = dry_runs.request(
                version_id=version.pk,
                as_of=form.cleaned_data["as_of"],
                actor=_actor(request),
                now=now,
            )
        except dry_runs.DryRunFutureDated:
            form.add_error("as_of", _("Choose today or an earlier date."))
        except dry_runs.DryRunRefused as refused:
            problem = refused.reason
        else:
            return HttpResponseRedirect(
                reverse("manager:strategy_dry_run_result", args=[version.pk, started.pk])
            )
    return _dry_run_page(request, version, form=form, now=now, problem=problem, status=422)


@require_safe
@access.require_permission(Permission.MANAGE_STRATEGY)
def strategy_dry_run_result(request: HttpRequest, version_id: int, dry_run_id: int) -> HttpResponse:
    """Show one dry run: its progress while it goes on, then what the version would decide."""
    version = _version_or_404(version_id)
    dry_run = _dry_run_or_404(version, dry_run_id)
    form = DryRunForm(initial={"as_of": dry_run.as_of_date})
    return _dry_run_page(request, version, form=form, now=timezone.now(), dry_run=dry_run)


@require_safe
@access.require_permission(Permission.MANAGE_STRATEGY)
def strategy_dry_run_progress(
    request: HttpRequest, version_id: int, dry_run_id: int
) -> HttpResponse:
    """Return one dry run's status fragment, which htmx polls until the dry run finishes."""
    version = _version_or_404(version_id)
    dry_run = _dry_run_or_404(version, dry_run_id)
    context = _dry_run_context(version, dry_run, now=timezone.now())
    may_manage = roles.has_permission(request.user, Permission.MANAGE_STRATEGY)
    # The status, then the list of recent dry runs swapped out of band (its status changes too).
    return render(
        request,
        "web/manager/strategies/_dry_run_progress.html",
        {**context, "may_manage": may_manage, "oob": True},
    )


def _dry_run_or_404(version: models.StrategyVersion, dry_run_id: int) -> models.StrategyDryRun:
    found = analytics_dry_runs.find(version_id=version.pk, dry_run_id=dry_run_id)
    if found is None:
        raise Http404("no such dry run")
    return found


def _dry_run_page(
    request: HttpRequest,
    version: models.StrategyVersion,
    *,
    form: DryRunForm,
    now: datetime.datetime,
    dry_run: models.StrategyDryRun | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "version": strategy_outline.VersionRow.of(version),
        "form": form,
        "problem": problem,
        "today": timezone.localdate(now),
        **(
            _dry_run_context(version, dry_run, now=now)
            if dry_run is not None
            else {"recent": analytics_dry_runs.recent(version_id=version.pk, now=now)}
        ),
    }
    return _page(request, "web/manager/strategies/dry_run.html", context, status=status)


def _dry_run_context(
    version: models.StrategyVersion, dry_run: models.StrategyDryRun, *, now: datetime.datetime
) -> dict[str, Any]:
    """Return what the status fragment shows: progress, or the counts and samples; the list."""
    result = dry_runs.result(dry_run)
    row = analytics_dry_runs.DryRunRow.of(dry_run, now=now)
    samples = []
    if result is not None:
        samples = [
            {
                "sample": sample,
                "treatment_label": _label("treatment", sample.treatment),
                "channel_label": _label("channel", sample.channel) if sample.channel else "",
                "explanations": why.explain(list(sample.reason_codes)),
            }
            for sample in result.samples
        ]
    return {
        "version": strategy_outline.VersionRow.of(version),
        "dry_run": row,
        "result": result,
        "tables": count_tables(result.counts, result.active_counts) if result else [],
        "samples": samples,
        "worker_wait": int(analytics_dry_runs.WORKER_WAIT.total_seconds()),
        "elapsed": _elapsed(row.elapsed_seconds),
        "recent": analytics_dry_runs.recent(version_id=version.pk, now=now),
    }


def _elapsed(seconds: int) -> str:
    """Word a wait: in seconds under two minutes, in minutes after."""
    if seconds < 120:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = seconds // 60
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


@require_http_methods(["GET", "HEAD", "POST"])
@access.require_permission(Permission.MANAGE_STRATEGY)
def strategy_activate(request: HttpRequest, version_id: int) -> HttpResponse:
    """Ask for confirmation (GET), then make the version the active one (POST)."""
    version = _version_or_404(version_id)
    if request.method == "POST":
        try:
            strategies.activate(version_id=version.pk, actor=_actor(request), now=timezone.now())
        except strategies.NotActivatable as refused:
            messages.error(request, refused.reason)
        else:
            messages.success(
                request,
                _("%(label)s is now the active strategy: the next run uses it.")
                % {"label": version.label},
            )
        return HttpResponseRedirect(_version_url(version))
    active = strategy_outline.active()
    compared = (
        strategies.diff(old=active, new=version) if active and active.pk != version.pk else None
    )
    context = {
        "version": strategy_outline.VersionRow.of(version),
        "active": strategy_outline.VersionRow.of(active) if active else None,
        "diff": compared,
    }
    return _page(request, "web/manager/strategies/activate.html", context)


@require_POST
@access.require_permission(Permission.MANAGE_STRATEGY)
def run_now(request: HttpRequest) -> HttpResponse:
    """Run the active strategy as of today now, then show the overview with its counts."""
    try:
        run = strategy_run.start_run(
            as_of=None, actor=_actor(request), now=timezone.now(), clock=timezone.now
        )
    except strategy_run.RunRefused as refused:
        messages.error(
            request, _("The run was not started: %(reason)s") % {"reason": refused.reason}
        )
    else:
        messages.success(
            request,
            _(
                "The strategy run as of %(date)s finished: %(decisions)s decisions, "
                "%(contacts)s contacts planned."
            )
            % {
                "date": run.as_of_date.strftime("%d %b %Y"),
                "decisions": f"{run.decisions:,}",
                "contacts": f"{run.contacts_planned:,}",
            },
        )
    return HttpResponseRedirect(reverse("manager:overview") + "#run-heading")


@require_safe
@access.require_permission(Permission.VIEW_PERFORMANCE)
def account_why(request: HttpRequest, account_id: int) -> HttpResponse:
    """Show why the strategy treated one account as it did, day by day."""
    account = why.account_named(account_id)
    if account is None:
        raise Http404("no such account")
    history = why.account_decisions(account.id, limit=why.DEFAULT_LIMIT)
    context = {
        "account": account,
        "history": history,
        "may_work": roles.has_permission(request.user, Permission.WORK_ACCOUNTS),
    }
    return _page(request, "web/manager/account_why.html", context)
