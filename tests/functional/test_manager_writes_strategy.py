"""A manager writes a strategy with three segments and a 50/50 challenger in the browser,
dry-runs it, activates it, runs it and sees the accounts of each arm."""

from __future__ import annotations

import datetime
import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.utils import timezone

from accord.analytics import dry_runs
from accord.domain.access import Role
from accord.storage import models
from accord.usecases import dry_runs as usecase_dry_runs
from accord.usecases import strategies, strategy_run
from tests.integration import strategy_data

PASSWORD = "correct horse battery staple"
EARLY_ACCOUNTS = 40

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def manager() -> User:
    user = User.objects.create_user(
        username="mara", password=PASSWORD, first_name="Mara", last_name="Okafor"
    )
    user.groups.add(Group.objects.get(name=Role.MANAGER.value))
    return user


def _account(n: int, *, days_overdue: int, vulnerable: bool = False) -> models.Account:
    """Return an account whose only charge fell due ``days_overdue`` days ago (negative: ahead)."""
    now = timezone.now()
    stamp = {"created_at": now, "updated_at": now}
    customer = models.Customer.objects.create(
        external_ref=f"C-{n}",
        debtor_type=models.DebtorType.CONSUMER,
        name=f"Customer {n}",
        country="GB",
        address_line1=f"{n} High Street",
        time_zones=["Europe/London"],
        time_zone_source=models.TimeZoneSource.ADDRESS,
        **stamp,
    )
    models.ContactPoint.objects.create(
        customer=customer, kind=models.ContactPointKind.EMAIL, value=f"c{n}@example.com"
    )
    if vulnerable:
        models.Vulnerability.objects.create(
            customer=customer,
            category=models.VulnerabilityCategory.HEALTH,
            consent_to_record=False,
            review_date=timezone.localdate() + datetime.timedelta(days=60),
            recorded_at=now,
            recorded_by="agent-bo",
        )
    account = models.Account.objects.create(
        external_ref=f"ACC-{n:03d}",
        customer=customer,
        product_type=models.ProductType.LOAN,
        currency="GBP",
        opened_date=datetime.date(2025, 1, 1),
        status=models.AccountStatus.OPEN,
        **stamp,
    )
    models.Charge.objects.create(
        external_ref=f"CH-{n}",
        account=account,
        kind=models.ChargeKind.INSTALMENT,
        amount_minor=12_000,
        currency="GBP",
        due_date=timezone.localdate() - datetime.timedelta(days=days_overdue),
        **stamp,
    )
    return account


@pytest.fixture
def book() -> None:
    """Early arrears (both arms of the experiment), later arrears and two vulnerable customers."""
    for n in range(EARLY_ACCOUNTS):
        _account(n, days_overdue=1 + n % 25)
    for n in range(EARLY_ACCOUNTS, EARLY_ACCOUNTS + 8):
        _account(n, days_overdue=40 + n)
    for n in range(EARLY_ACCOUNTS + 8, EARLY_ACCOUNTS + 10):
        _account(n, days_overdue=20, vulnerable=True)


def sign_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill("mara")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", level=1, name="Portfolio dashboard").wait_for()


def shoot(page: Any, name: str, tmp_path: Path) -> None:
    shots = Path(os.environ.get("ACCORD_SCREENSHOTS", tmp_path))
    page.screenshot(path=str(shots / name), full_page=True)
    assert (shots / name).stat().st_size > 0


@pytest.mark.usefixtures("book")
def test_manager_writes_dry_runs_activates_and_runs_a_strategy(
    page: Any, live_server: Any, manager: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The live server runs in this process: say "waiting for a worker" sooner than in life.
    monkeypatch.setattr(dry_runs, "WORKER_WAIT", datetime.timedelta(seconds=3))
    sign_in(page, live_server.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Strategies").click()
    page.get_by_role("heading", level=1, name="Strategies").wait_for()
    page.get_by_role("link", name="Write a new version").click()

    # A first attempt whose arms add up to 90: refused, the text kept, the problem named.
    editor = page.get_by_label("Strategy (YAML)")
    editor.fill(strategy_data.ARMS_NOT_100)
    page.get_by_label("What changed and why").fill("Three segments, SMS first for early arrears")
    page.get_by_role("button", name="Save as draft").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "the percentages add up to 90, not 100" in alert.inner_text()
    assert "percent: 40, path: sms_first" in editor.input_value()
    shoot(page, "strategy-editor-error.png", tmp_path)

    # Fixed: 50/50. Saved as a draft and shown in words.
    editor.fill(strategy_data.THREE_SEGMENTS)
    page.get_by_role("button", name="Save as draft").click()
    page.get_by_role("heading", level=1, name="collections@2026.12.2").wait_for()
    assert "Saved collections@2026.12.2 as a draft" in page.get_by_role("status").inner_text()
    segments = page.locator(".segment")
    assert segments.count() == 3
    assert "Stage is Pre-due or Early" in segments.nth(1).inner_text()
    shoot(page, "strategy-version.png", tmp_path)

    # Dry run: started in the background; its page polls until a worker has decided the book.
    page.get_by_role("link", name="Dry run").first.click()
    page.get_by_role("heading", level=1, name="Dry run of collections@2026.12.2").wait_for()
    assert "No dry run of this version yet." in page.locator("main").inner_text()
    page.get_by_role("button", name="Start dry run").click()
    progress = page.locator(".dry-run-progress")
    progress.wait_for()
    assert "/dry-runs/" in page.url
    assert "Queued" in progress.inner_text()
    # No worker runs here: after a while the page says how to start one.
    page.locator("#waiting-for-worker").wait_for(timeout=15_000)
    assert "accord db_worker" in page.locator("#waiting-for-worker").inner_text()
    shoot(page, "strategy-dry-run-waiting.png", tmp_path)
    # A worker picks it up (here in the test's process, as `accord db_worker` would) and the
    # page shows the results without being reloaded.
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", stdout=io.StringIO()
    )
    page.locator("#counts-arm").wait_for(timeout=15_000)
    assert not page.locator(".dry-run-progress").is_visible()
    assert page.locator('.dry-run-meta .pill:has-text("Completed")').is_visible()
    arms = page.locator("#counts-arm").inner_text()
    assert "early-sms-test/champion" in arms or "champion" in arms
    assert "sms_first" in arms
    assert "vulnerable" in page.locator("#counts-segment").inner_text()
    assert page.locator(".sample-table tbody tr").count() > 0
    assert page.locator(".dry-run-table tbody tr").count() == 1
    assert "Completed" in page.locator(".dry-run-table").inner_text()  # swapped out of band
    assert not models.Decision.objects.exists()
    shoot(page, "strategy-dry-run.png", tmp_path)

    # Activate, after the confirmation page.
    page.get_by_role("link", name="Activate…").first.click()
    page.get_by_role("heading", level=1, name="Activate collections@2026.12.2?").wait_for()
    shoot(page, "strategy-activate.png", tmp_path)
    page.get_by_role("button", name="Activate collections@2026.12.2").click()
    assert "is now the active strategy" in page.get_by_role("status").inner_text()
    assert page.locator("h1 .pill--active").is_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Strategies").click()
    assert "collections@2026.12.2" in page.locator(".strategy-card--active").inner_text()
    shoot(page, "strategy-list.png", tmp_path)

    # Run it now from the performance page and see the accounts of each arm.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Performance").click()
    page.get_by_role("button", name="Run now").click()
    page.get_by_role("heading", level=1, name="Performance").wait_for()
    assert "finished" in page.get_by_role("status").inner_text()
    arm_rows = page.locator("#arm-table tbody tr")
    assert arm_rows.count() == 2
    champion, challenger = arm_rows.nth(0).inner_text(), arm_rows.nth(1).inner_text()
    assert "champion" in champion
    assert "sms_first" in challenger
    decided = [
        int(row.locator("td").first.inner_text().replace(",", ""))
        for row in (arm_rows.nth(0), arm_rows.nth(1))
    ]
    assert sum(decided) == EARLY_ACCOUNTS
    assert all(count > 0 for count in decided)
    segments_table = page.locator("#segment-table").inner_text()
    for segment in ("vulnerable", "early", "everyone_else"):
        assert segment in segments_table
    page.locator("#run-heading").scroll_into_view_if_needed()
    shoot(page, "strategy-run-arms.png", tmp_path)

    # Why one account of the challenger arm got its treatment.
    challenger_account = models.Decision.objects.filter(arm="sms_first").first()
    assert challenger_account is not None
    page.goto(f"{live_server.url}/manager/accounts/{challenger_account.account_id}/why/")
    panel = page.locator("article.why")
    assert "arm sms_first of experiment early-sms-test" in panel.inner_text()
    assert "From 1 day past due" in panel.inner_text()
    shoot(page, "strategy-why.png", tmp_path)


@pytest.fixture
def agent() -> User:
    user = User.objects.create_user(username="sam", password=PASSWORD, first_name="Sam")
    user.groups.add(Group.objects.get(name=Role.AGENT.value))
    return user


@pytest.mark.usefixtures("book")
def test_an_agent_sees_why_the_strategy_treated_an_account(
    page: Any, live_server: Any, agent: User, tmp_path: Path
) -> None:
    version = strategy_data.draft()
    strategies.activate(version_id=version.pk, actor="user:mara", now=timezone.now())
    strategy_run.start_run(as_of=None, actor="user:mara", now=timezone.now())
    decided = models.Decision.objects.select_related("account").get(account__external_ref="ACC-045")

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/agent/customers/{decided.account.customer_id}/")

    panel = page.get_by_role("article", name="Why ACC-045")
    assert "Segment everyone_else, path standard: Promise-to-pay request" in panel.inner_text()
    assert "From 31 days past due" in panel.inner_text()
    assert "85 days past due" in panel.inner_text()
    page.locator("#why").scroll_into_view_if_needed()
    shoot(page, "agent-why.png", tmp_path)


def test_a_narrow_screen_reads_a_version_and_edits_it(
    page: Any, live_server: Any, manager: User, tmp_path: Path
) -> None:
    version = strategy_data.draft()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url)

    page.goto(f"{live_server.url}/manager/strategies/{version.pk}/")
    assert page.locator(".segment").count() == 3
    shoot(page, "strategy-version-mobile.png", tmp_path)
    page.get_by_role("link", name="Edit as new draft").click()
    assert "name: collections" in page.get_by_label("Strategy (YAML)").input_value()
    shoot(page, "strategy-editor-mobile.png", tmp_path)


def test_a_running_dry_run_shows_its_progress_and_follows_it(
    page: Any, live_server: Any, manager: User, tmp_path: Path
) -> None:
    version = strategy_data.draft()
    running = usecase_dry_runs.request(
        version_id=version.pk,
        as_of=timezone.localdate(),
        actor="user:mara",
        now=timezone.now(),
        background=False,
    )
    rows = models.StrategyDryRun.objects.filter(pk=running.pk)
    rows.update(
        status=models.DryRunStatus.RUNNING,
        started_at=timezone.now() - datetime.timedelta(seconds=40),
        ranges_done=2,
        ranges_total=5,
    )
    sign_in(page, live_server.url)

    page.goto(f"{live_server.url}/manager/strategies/{version.pk}/dry-runs/{running.pk}/")
    progress = page.locator(".dry-run-progress")
    assert "2 of 5 account ranges decided (40%)" in progress.inner_text()
    assert (
        page.get_by_role("progressbar", name="Progress of the dry run").get_attribute("value")
        == "2"
    )
    shoot(page, "strategy-dry-run-running.png", tmp_path)

    # The worker moves on: the page follows without being reloaded.
    rows.update(ranges_done=4)
    page.get_by_text("4 of 5 account ranges decided (80%)").wait_for(timeout=10_000)
    assert "Running" in page.locator(".dry-run-table").inner_text()
