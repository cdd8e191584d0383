"""The manager's strategy pages: who may read and change them, the editor, diffs, activation."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accord.audit import events
from accord.audit import models as audit_models
from accord.domain.access import Role
from accord.storage import models
from accord.usecases import dry_runs
from tests.integration import manager_data
from tests.integration import strategy_data as data

READERS = {Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN, Role.AUDITOR}
STRATEGISTS = {Role.MANAGER, Role.ADMIN}
Status = models.StrategyStatus


@pytest.fixture(autouse=True)
def _static_root() -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def signed_in(role: Role, *, csrf: bool = False) -> Client:
    user = User.objects.create(username=f"user-{role.value}")
    user.groups.set([Group.objects.get(name=role.value)])
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return str(response.content.decode())


@pytest.fixture
def versions() -> dict[str, models.StrategyVersion]:
    """The default strategy active, and a three-segment draft based on it."""
    active = data.active_default()
    return {"active": active, "draft": data.draft(based_on=active)}


def saved_events(kind: events.EventType) -> list[audit_models.AuditEvent]:
    return list(audit_models.AuditEvent.objects.filter(event_type=kind).order_by("pk"))


# --- Who may do what ---------------------------------------------------------------------


def read_urls(versions: dict[str, models.StrategyVersion]) -> list[str]:
    draft = versions["draft"].pk
    return [
        "/manager/strategies/",
        f"/manager/strategies/{draft}/",
        f"/manager/strategies/{draft}/diff/",
    ]


def manage_urls(versions: dict[str, models.StrategyVersion]) -> list[str]:
    draft = versions["draft"].pk
    return [
        "/manager/strategies/new/",
        f"/manager/strategies/{draft}/activate/",
    ]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reads_strategies_only_with_view_performance(
    role: Role, versions: dict[str, models.StrategyVersion]
) -> None:
    client = signed_in(role)
    for url in read_urls(versions):
        assert client.get(url).status_code == (200 if role in READERS else 403), url


@pytest.mark.parametrize("role", list(Role))
def test_only_managers_and_admins_open_the_editor_and_activation(
    role: Role, versions: dict[str, models.StrategyVersion]
) -> None:
    client = signed_in(role)
    for url in manage_urls(versions):
        assert client.get(url).status_code == (200 if role in STRATEGISTS else 403), url


@pytest.mark.parametrize("role", [Role.AGENT, Role.AUDITOR, Role.TEAM_LEAD])
def test_agents_auditors_and_team_leads_cannot_save_or_activate(
    role: Role, versions: dict[str, models.StrategyVersion]
) -> None:
    client = signed_in(role)
    stored = models.StrategyVersion.objects.count()

    saved = client.post(
        "/manager/strategies/new/",
        {"source": data.THREE_SEGMENTS.replace("2026.12.2", "9"), "note": "", "based_on": ""},
    )
    activated = client.post(f"/manager/strategies/{versions['draft'].pk}/activate/")
    run = client.post("/manager/run/")

    assert (saved.status_code, activated.status_code, run.status_code) == (403, 403, 403)
    assert models.StrategyVersion.objects.count() == stored
    versions["draft"].refresh_from_db()
    assert versions["draft"].status == Status.DRAFT
    assert not models.StrategyRun.objects.exists()


def test_read_only_users_see_no_buttons_that_change_a_strategy(
    versions: dict[str, models.StrategyVersion],
) -> None:
    page = text(signed_in(Role.AUDITOR).get(f"/manager/strategies/{versions['draft'].pk}/"))

    assert "Activate…" not in page
    assert "Edit as new draft" not in page
    assert "Dry run" not in page
    assert "Compare with default@" in page


def test_anonymous_visitors_are_sent_to_sign_in(
    versions: dict[str, models.StrategyVersion],
) -> None:
    response = Client().get("/manager/strategies/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_changing_a_strategy_needs_the_csrf_token(
    versions: dict[str, models.StrategyVersion],
) -> None:
    client = signed_in(Role.MANAGER, csrf=True)

    response = client.post(f"/manager/strategies/{versions['draft'].pk}/activate/")

    assert response.status_code == 403
    versions["draft"].refresh_from_db()
    assert versions["draft"].status == Status.DRAFT


def test_an_unknown_version_is_not_found() -> None:
    client = signed_in(Role.MANAGER)
    for url in (
        "/manager/strategies/999/",
        "/manager/strategies/999/diff/",
        "/manager/strategies/999/activate/",
        "/manager/strategies/new/?from=999",
    ):
        assert client.get(url).status_code == 404, url


# --- The list and a version ----------------------------------------------------------------


def test_the_list_shows_the_active_version_drafts_and_retired_ones(
    versions: dict[str, models.StrategyVersion],
) -> None:
    older = data.draft(data.THREE_SEGMENTS.replace("2026.12.2", "2026.12.0"))
    models.StrategyVersion.objects.filter(pk=older.pk).update(status=Status.RETIRED)

    page = text(signed_in(Role.MANAGER).get("/manager/strategies/"))

    active_at = page.index('id="active-heading"')
    drafts_at = page.index('id="drafts-heading"')
    retired_at = page.index('id="retired-heading"')
    assert active_at < page.index(versions["active"].label) < drafts_at
    assert drafts_at < page.index("collections@2026.12.2") < retired_at
    assert retired_at < page.index("collections@2026.12.0")


def test_a_version_reads_as_segments_arms_paths_and_steps_in_plain_words(
    versions: dict[str, models.StrategyVersion],
) -> None:
    page = text(signed_in(Role.AUDITOR).get(f"/manager/strategies/{versions['draft'].pk}/"))

    # Segments in order, their conditions in words.
    assert page.index("vulnerable") < page.index(">early<") < page.index("everyone_else")
    assert "A vulnerability is on record" in page
    assert "Stage is Pre-due or Early" in page
    assert "Every account the segments above did not take" in page
    # The experiment's arms with their percentages and paths.
    assert "Experiment early-sms-test" in page
    assert "<strong>champion</strong> 50%" in page
    assert "<strong>sms_first</strong> 50%" in page
    # Paths: stop conditions and steps with when they start, template, channels and waits.
    assert "a payment arrived in the last 7 days" in page
    assert "From 5 days before the due date" in page
    assert "From 31 days past due" in page
    assert "<code>promise_request</code>" in page
    assert "SMS then Email then Letter" in page
    assert "At most every 10 days; 3 days after any contact" in page
    # And the YAML exactly as saved.
    assert "early-sms-test" in page
    assert "name: collections" in page


# --- The editor ------------------------------------------------------------------------------


def test_the_editor_starts_from_the_version_asked_for(
    versions: dict[str, models.StrategyVersion],
) -> None:
    page = text(
        signed_in(Role.MANAGER).get(f"/manager/strategies/new/?from={versions['draft'].pk}")
    )

    assert "Starting from collections@2026.12.2" in page
    assert "name: collections" in page
    assert f'name="based_on" value="{versions["draft"].pk}"' in page


def test_saving_a_valid_strategy_stores_a_draft_and_audits_it(
    versions: dict[str, models.StrategyVersion],
) -> None:
    source = data.THREE_SEGMENTS.replace("2026.12.2", "2026.12.3")
    client = signed_in(Role.MANAGER)

    response = client.post(
        "/manager/strategies/new/",
        {"source": source, "note": "A third segment", "based_on": versions["draft"].pk},
    )

    saved = models.StrategyVersion.objects.get(name="collections", version="2026.12.3")
    assert response.status_code == 302
    assert response["Location"] == f"/manager/strategies/{saved.pk}/"
    assert (saved.status, saved.source, saved.note) == (Status.DRAFT, source, "A third segment")
    assert (saved.based_on_id, saved.created_by) == (versions["draft"].pk, "user:user-manager")
    assert saved_events(events.EventType.STRATEGY_VERSION_SAVED)[-1].actor == "user:user-manager"
    assert "Saved collections@2026.12.3 as a draft" in text(client.get(response["Location"]))


def test_bad_yaml_shows_the_error_beside_the_editor_keeps_the_text_and_stores_nothing(
    versions: dict[str, models.StrategyVersion],
) -> None:
    stored = models.StrategyVersion.objects.count()
    broken = data.THREE_SEGMENTS.replace("2026.12.2", "3") + "segments: [unclosed\n"

    response = signed_in(Role.MANAGER).post(
        "/manager/strategies/new/", {"source": broken, "note": "oops", "based_on": ""}
    )

    page = text(response)
    assert response.status_code == 422
    assert "Not saved: the strategy has a problem." in page
    assert "not valid YAML" in page
    assert 'class="is-problem"' in page  # the line the YAML parser named is marked
    assert "segments: [unclosed" in page  # the text is kept
    assert 'value="oops"' in page
    assert models.StrategyVersion.objects.count() == stored


def test_a_rule_broken_is_named_and_nothing_is_stored(
    versions: dict[str, models.StrategyVersion],
) -> None:
    stored = models.StrategyVersion.objects.count()

    response = signed_in(Role.MANAGER).post(
        "/manager/strategies/new/",
        {"source": data.ARMS_NOT_100.replace("2026.12.2", "4"), "note": "", "based_on": ""},
    )

    assert response.status_code == 422
    assert "the percentages add up to 90, not 100" in text(response)
    assert models.StrategyVersion.objects.count() == stored


def test_saving_a_version_that_exists_asks_for_a_new_version(
    versions: dict[str, models.StrategyVersion],
) -> None:
    response = signed_in(Role.MANAGER).post(
        "/manager/strategies/new/", {"source": data.THREE_SEGMENTS, "note": "", "based_on": ""}
    )

    assert response.status_code == 422
    assert "collections@2026.12.2 is stored already" in text(response)
    assert models.StrategyVersion.objects.filter(name="collections").count() == 1


# --- Diffs and activation ----------------------------------------------------------------------


def test_the_diff_compares_with_the_active_version_in_words_and_line_by_line(
    versions: dict[str, models.StrategyVersion],
) -> None:
    page = text(signed_in(Role.TEAM_LEAD).get(f"/manager/strategies/{versions['draft'].pk}/diff/"))

    assert f"{versions['active'].label} → collections@2026.12.2" in page
    assert "Segment early added (path standard)." in page
    assert "Path gentle added (1 steps)." in page
    assert 'diff__line--add"' in page
    assert 'diff__line--remove"' in page


def test_the_diff_compares_with_any_version_chosen(
    versions: dict[str, models.StrategyVersion],
) -> None:
    newer = data.draft(
        data.THREE_SEGMENTS.replace("2026.12.2", "2026.12.9").replace(
            "every_days: 14", "every_days: 21"
        )
    )

    page = text(
        signed_in(Role.MANAGER).get(
            f"/manager/strategies/{newer.pk}/diff/?against={versions['draft'].pk}"
        )
    )

    assert "collections@2026.12.2 → collections@2026.12.9" in page
    assert "Path gentle: step LATE_NOTICE repeats every 21 days (was 14)." in page


def test_the_confirmation_page_says_what_activation_replaces_and_changes(
    versions: dict[str, models.StrategyVersion],
) -> None:
    page = text(
        signed_in(Role.MANAGER).get(f"/manager/strategies/{versions['draft'].pk}/activate/")
    )

    assert "Activate collections@2026.12.2?" in page
    assert f"It replaces {versions['active'].label}" in page
    assert "Segment early added (path standard)." in page
    assert 'method="post"' in page


def test_activating_retires_the_old_version_and_is_audited(
    versions: dict[str, models.StrategyVersion],
) -> None:
    client = signed_in(Role.MANAGER)

    response = client.post(f"/manager/strategies/{versions['draft'].pk}/activate/")

    versions["draft"].refresh_from_db()
    versions["active"].refresh_from_db()
    assert response.status_code == 302
    assert (versions["draft"].status, versions["active"].status) == (Status.ACTIVE, Status.RETIRED)
    activated = saved_events(events.EventType.STRATEGY_VERSION_ACTIVATED)[-1]
    assert activated.actor == "user:user-manager"
    assert activated.parameters["label"] == "collections@2026.12.2"
    assert activated.parameters["replaced"] == versions["active"].label
    assert "is now the active strategy" in text(client.get(response["Location"]))


def test_activating_the_active_version_again_is_refused_with_its_reason(
    versions: dict[str, models.StrategyVersion],
) -> None:
    client = signed_in(Role.MANAGER)
    before = len(saved_events(events.EventType.STRATEGY_VERSION_ACTIVATED))

    response = client.post(f"/manager/strategies/{versions['active'].pk}/activate/")

    assert "already the active strategy version" in text(client.get(response["Location"]))
    assert len(saved_events(events.EventType.STRATEGY_VERSION_ACTIVATED)) == before


# --- The overview: per-segment and per-arm counts, and Run now ------------------------------


def test_the_overview_counts_the_latest_run_per_segment_and_arm_champion_first() -> None:
    version = data.draft()
    run = manager_data.run(data.NOW.date(), accounts=8)
    models.StrategyRun.objects.filter(pk=run.pk).update(version=version)
    placed = [
        ("vulnerable", "", ""),
        ("vulnerable", "", ""),
        ("early", "early-sms-test", "sms_first"),
        ("early", "early-sms-test", "champion"),
        ("early", "early-sms-test", "sms_first"),
        ("early", "early-sms-test", "champion"),
        ("early", "early-sms-test", "champion"),
        ("everyone_else", "", ""),
    ]
    for segment, experiment, arm in placed:
        decided = manager_data.decision(
            run,
            manager_data.account("EUR"),
            bucket="DPD_1_30",
            dpd=5,
            arrears="10.00",
            balance="10.00",
            treatment=models.Treatment.LATE_NOTICE,
        )
        models.Decision.objects.filter(pk=decided.pk).update(
            segment=segment, experiment=experiment, arm=arm
        )
        manager_data.contact(decided, models.ContactStatus.PLANNED)

    page = text(signed_in(Role.AUDITOR).get("/manager/"))

    segments = page[page.index('id="segment-table"') : page.index('id="arm-heading"')]
    assert segments.index("vulnerable") < segments.index("early") < segments.index("everyone_else")
    arms = page[page.index('id="arm-table"') :]
    assert arms.index("champion") < arms.index("sms_first")
    assert "60.0%" in arms
    assert "40.0%" in arms
    assert "Run now" not in page  # auditors read; they do not run


def test_run_now_is_offered_to_managers_only(versions: dict[str, models.StrategyVersion]) -> None:
    assert "Run now" in text(signed_in(Role.MANAGER).get("/manager/"))
    assert "Run now" not in text(signed_in(Role.TEAM_LEAD).get("/manager/"))


def test_run_now_refused_says_why_and_starts_nothing(
    versions: dict[str, models.StrategyVersion],
) -> None:
    running = manager_data.run(data.NOW.date(), status=models.RunStatus.RUNNING)
    models.StrategyRun.objects.filter(pk=running.pk).update(started_at=timezone.now())
    client = signed_in(Role.MANAGER)

    response = client.post("/manager/run/")

    assert response.status_code == 302
    assert "The run was not started" in text(client.get(response["Location"]))
    assert list(models.StrategyRun.objects.values_list("pk", flat=True)) == [running.pk]


def test_run_now_runs_the_active_strategy_and_shows_its_counts(
    versions: dict[str, models.StrategyVersion],
) -> None:
    owner = manager_data.account("EUR")
    manager_data.charge(owner, "120.00", timezone.localdate() - datetime.timedelta(days=10))
    client = signed_in(Role.MANAGER)

    response = client.post("/manager/run/")

    run = models.StrategyRun.objects.get()
    assert (run.status, run.started_by) == (models.RunStatus.COMPLETED, "user:user-manager")
    assert run.version_id == versions["active"].pk
    page = text(client.get(response["Location"]))
    assert "finished: 1 decisions" in page
    assert 'id="segment-table"' in page


# --- Dry runs ----------------------------------------------------------------------------------


def dry_run_url(version: models.StrategyVersion, dry_run: models.StrategyDryRun) -> str:
    return f"/manager/strategies/{version.pk}/dry-runs/{dry_run.pk}/"


def queued(version: models.StrategyVersion, **changes: Any) -> models.StrategyDryRun:
    """Request a dry run of ``version`` as of today (no worker runs in these tests)."""
    requested = dry_runs.request(
        version_id=version.pk,
        as_of=timezone.localdate(),
        actor="user:user-manager",
        now=timezone.now(),
        background=False,
    )
    if changes:
        models.StrategyDryRun.objects.filter(pk=requested.pk).update(**changes)
        requested.refresh_from_db()
    return requested


def worked(version: models.StrategyVersion) -> models.StrategyDryRun:
    """Request a dry run of ``version`` as of today and work it as the worker would."""
    return dry_runs.execute(
        dry_run_id=queued(version).pk, now=timezone.now(), actor="task:execute_dry_run"
    )


@pytest.mark.parametrize("role", list(Role))
def test_only_managers_and_admins_dry_run_and_read_dry_runs(
    role: Role, versions: dict[str, models.StrategyVersion]
) -> None:
    draft = versions["draft"]
    existing = queued(draft)
    client = signed_in(role)
    allowed = 200 if role in STRATEGISTS else 403

    assert client.get(f"/manager/strategies/{draft.pk}/dry-run/").status_code == allowed
    assert client.get(dry_run_url(draft, existing)).status_code == allowed
    assert client.get(dry_run_url(draft, existing) + "progress/").status_code == allowed
    started = client.post(
        f"/manager/strategies/{draft.pk}/dry-run/", {"as_of": timezone.localdate().isoformat()}
    )
    assert started.status_code == (302 if role in STRATEGISTS else 403)


def test_an_agent_cannot_start_a_dry_run(versions: dict[str, models.StrategyVersion]) -> None:
    response = signed_in(Role.AGENT).post(
        f"/manager/strategies/{versions['draft'].pk}/dry-run/",
        {"as_of": timezone.localdate().isoformat()},
    )

    assert response.status_code == 403
    assert not models.StrategyDryRun.objects.exists()
    assert not saved_events(events.EventType.STRATEGY_DRY_RUN_REQUESTED)


def test_starting_a_dry_run_needs_the_csrf_token(
    versions: dict[str, models.StrategyVersion],
) -> None:
    client = signed_in(Role.MANAGER, csrf=True)
    url = f"/manager/strategies/{versions['draft'].pk}/dry-run/"
    today = timezone.localdate().isoformat()

    refused = client.post(url, {"as_of": today})
    form = text(client.get(url))
    token = client.cookies["csrftoken"].value
    accepted = client.post(url, {"as_of": today, "csrfmiddlewaretoken": token})

    assert refused.status_code == 403
    assert 'name="csrfmiddlewaretoken"' in form
    assert accepted.status_code == 302
    assert models.StrategyDryRun.objects.count() == 1


def test_a_manager_starts_a_dry_run_and_lands_on_its_page_which_polls_while_queued(
    versions: dict[str, models.StrategyVersion],
) -> None:
    draft = versions["draft"]
    client = signed_in(Role.MANAGER)

    response = client.post(
        f"/manager/strategies/{draft.pk}/dry-run/", {"as_of": timezone.localdate().isoformat()}
    )

    started = models.StrategyDryRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == dry_run_url(draft, started)
    assert (started.status, started.requested_by) == (
        models.DryRunStatus.QUEUED,
        "user:user-manager",
    )
    [requested] = saved_events(events.EventType.STRATEGY_DRY_RUN_REQUESTED)
    assert requested.actor == "user:user-manager"
    page = text(client.get(response["Location"]))
    assert f'hx-get="{dry_run_url(draft, started)}progress/"' in page
    assert 'hx-trigger="every 2s"' in page
    assert "Queued" in page
    assert "Waiting for a worker" not in page  # not yet: a worker may be on its way
    assert 'id="recent-heading"' in page
    assert not models.Decision.objects.exists()


def test_the_progress_fragment_shows_the_ranges_done_while_running(
    versions: dict[str, models.StrategyVersion],
) -> None:
    draft = versions["draft"]
    running = queued(
        draft,
        status=models.DryRunStatus.RUNNING,
        started_at=timezone.now() - datetime.timedelta(minutes=5, seconds=10),
        ranges_done=1,
        ranges_total=4,
    )

    fragment = text(signed_in(Role.MANAGER).get(dry_run_url(draft, running) + "progress/"))

    assert fragment.startswith('<div id="dry-run"')
    assert "<html" not in fragment
    assert 'max="4" value="1"' in fragment
    assert "1 of 4 account ranges decided (25%)" in fragment
    assert 'hx-trigger="every 2s"' in fragment
    assert "Working for 5 minutes." in fragment
    assert '<section id="recent-dry-runs" aria-labelledby="recent-heading" hx-swap-oob="true">' in (
        fragment
    )


def test_a_dry_run_no_worker_picked_up_says_how_to_start_one(
    versions: dict[str, models.StrategyVersion],
) -> None:
    draft = versions["draft"]
    waiting = queued(draft, requested_at=timezone.now() - datetime.timedelta(seconds=30))

    fragment = text(signed_in(Role.MANAGER).get(dry_run_url(draft, waiting) + "progress/"))

    assert "Waiting for a worker." in fragment
    assert "Requested 30 seconds ago" in fragment
    assert "<code>accord db_worker</code>" in fragment
    assert f"accord strategy dry-run {draft.label} --as-of {waiting.as_of_date}" in fragment


def test_a_finished_dry_run_stops_polling_and_counts_beside_the_active_version(
    versions: dict[str, models.StrategyVersion],
) -> None:
    today = timezone.localdate()
    for days in (3, 12, 45):
        owner = manager_data.account("EUR")
        manager_data.charge(owner, "80.00", today - datetime.timedelta(days=days))
    draft = versions["draft"]
    done = worked(draft)

    client = signed_in(Role.MANAGER)
    fragment = text(client.get(dry_run_url(draft, done) + "progress/"))
    page = text(client.get(dry_run_url(draft, done)))

    assert "hx-trigger" not in fragment
    assert 'id="counts-segment"' in fragment
    assert f'Compared with</dt><dd class="stat__text">{versions["active"].label}' in page
    for table in ("segment", "treatment", "arm", "channel", "contacts"):
        assert f'id="counts-{table}"' in page
    assert "everyone_else" in page  # the 45-days-past-due account
    assert "early_arrears" in page  # the active version's segment, 0 in the draft
    assert "45 days past due" in page  # a sample explained in words
    assert "Completed" in page
    assert not models.Decision.objects.exists()
    assert not models.StrategyRun.objects.exists()


def test_a_failed_dry_run_shows_its_error(versions: dict[str, models.StrategyVersion]) -> None:
    draft = versions["draft"]
    failed = queued(
        draft, status=models.DryRunStatus.FAILED, error="RuntimeError: the engine fell over"
    )

    page = text(signed_in(Role.MANAGER).get(dry_run_url(draft, failed)))

    assert "The dry run failed." in page
    assert "RuntimeError: the engine fell over" in page
    assert "hx-trigger" not in page


def test_the_dry_run_page_lists_the_versions_recent_dry_runs(
    versions: dict[str, models.StrategyVersion],
) -> None:
    draft = versions["draft"]
    first = worked(draft)
    second = queued(draft)
    queued(versions["active"])  # another version's: not listed

    page = text(signed_in(Role.MANAGER).get(f"/manager/strategies/{draft.pk}/dry-run/"))

    assert page.count('class="pill pill--') == 2
    assert page.index(dry_run_url(draft, second)) < page.index(dry_run_url(draft, first))
    assert ">Results<" in page


def test_a_dry_run_of_another_version_is_not_found(
    versions: dict[str, models.StrategyVersion],
) -> None:
    theirs = queued(versions["active"])

    response = signed_in(Role.MANAGER).get(dry_run_url(versions["draft"], theirs))

    assert response.status_code == 404


def test_a_dry_run_in_the_future_is_refused_beside_the_date(
    versions: dict[str, models.StrategyVersion],
) -> None:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = signed_in(Role.MANAGER).post(
        f"/manager/strategies/{versions['draft'].pk}/dry-run/", {"as_of": tomorrow.isoformat()}
    )

    assert response.status_code == 422
    assert "Choose today or an earlier date." in text(response)
    assert not models.StrategyDryRun.objects.exists()
