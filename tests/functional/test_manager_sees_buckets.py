"""A manager signs in, opens the performance page and sees the bucket chart drawn by Plotly."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from accord.domain.access import Role
from accord.storage import models
from tests.integration import manager_data as data

PASSWORD = "correct horse battery staple"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def manager() -> User:
    user = User.objects.create_user(
        username="mara", password=PASSWORD, first_name="Mara", last_name="Okafor"
    )
    user.groups.add(Group.objects.get(name=Role.MANAGER.value))
    return user


@pytest.fixture
def book() -> None:
    """A completed run over EUR and USD accounts, with contacts, payments and promises."""
    today = timezone.localdate()
    run = data.run(today, seconds=37, accounts=9, contacts_planned=5, contacts_blocked=1)
    spread = [
        ("EUR", "CURRENT", 0, "0.00", "820.00", models.Treatment.NONE),
        ("EUR", "CURRENT", 0, "0.00", "310.00", models.Treatment.PRE_DUE_REMINDER),
        ("EUR", "DPD_1_30", 12, "95.00", "640.00", models.Treatment.LATE_NOTICE),
        ("EUR", "DPD_1_30", 25, "150.00", "150.00", models.Treatment.LATE_NOTICE),
        ("EUR", "DPD_31_60", 44, "410.00", "1200.00", models.Treatment.PROMISE_REQUEST),
        ("EUR", "DPD_91_120", 101, "980.00", "980.00", models.Treatment.CALL_TASK),
        ("USD", "CURRENT", 0, "0.00", "1500.00", models.Treatment.NONE),
        ("USD", "DPD_1_30", 9, "60.00", "700.00", models.Treatment.LATE_NOTICE),
        ("USD", "DPD_180_PLUS", 230, "2400.00", "2400.00", models.Treatment.CALL_TASK),
    ]
    statuses = [models.ContactStatus.SENT, models.ContactStatus.BLOCKED]
    for index, (currency, bucket, dpd, arrears, balance, treatment) in enumerate(spread):
        owner = data.account(currency)
        decided = data.decision(
            run,
            owner,
            bucket=bucket,
            dpd=dpd,
            arrears=arrears,
            balance=balance,
            treatment=treatment,
        )
        if treatment != models.Treatment.NONE:
            data.contact(decided, statuses[index % 2])
        if dpd:
            data.charge(owner, arrears, today - datetime.timedelta(days=dpd))
    payer = data.account("EUR")
    data.charge(payer, "200.00", today - datetime.timedelta(days=40))
    data.payment(payer, "150.00", today - datetime.timedelta(days=3))
    data.promise(payer, "150.00", today - datetime.timedelta(days=3), models.PromiseStatus.KEPT)
    data.promise(payer, "50.00", today - datetime.timedelta(days=10), models.PromiseStatus.BROKEN)
    data.promise(payer, "60.00", today - datetime.timedelta(days=12), models.PromiseStatus.KEPT)


def sign_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill("mara")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", level=1, name="Portfolio dashboard").wait_for()


@pytest.mark.usefixtures("book")
def test_manager_sees_the_bucket_chart_table_and_kpis(
    page: Any, live_server: Any, manager: User, tmp_path: Path
) -> None:
    sign_in(page, live_server.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Performance").click()

    page.get_by_role("heading", level=1, name="Performance").wait_for()
    page.locator("#bucket-chart svg.main-svg").first.wait_for()
    assert page.locator("#bucket-chart .plotly").count() == 1
    # One bar group per bucket present in the run (five buckets) and two currencies.
    assert page.locator("#bucket-chart g.trace.bars").count() == 2
    table = page.get_by_role("region", name="Accounts, arrears and balance per aging bucket")
    assert table.is_visible()
    assert "2,400.00 USD" in table.inner_text()
    # EUR: 150.00 collected of 95 + 150 + 410 + 980 + 200 = 1,835.00 due.
    assert "8.2%" in page.locator("#collection-rate").inner_text()
    assert "66.7%" in page.locator("#promise-kept-rate").inner_text()

    shots = Path(os.environ.get("ACCORD_SCREENSHOTS", tmp_path))
    page.screenshot(path=str(shots / "manager-overview.png"), full_page=True)
    assert (shots / "manager-overview.png").stat().st_size > 0


def test_a_narrow_screen_still_gets_the_chart(
    page: Any, live_server: Any, manager: User, book: None, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/manager/")
    page.locator("#bucket-chart svg.main-svg").first.wait_for()
    shots = Path(os.environ.get("ACCORD_SCREENSHOTS", tmp_path))
    page.screenshot(path=str(shots / "manager-overview-mobile.png"), full_page=True)
    assert (shots / "manager-overview-mobile.png").stat().st_size > 0
