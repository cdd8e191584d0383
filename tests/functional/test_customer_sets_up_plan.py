"""A customer in arrears signs in with a code from their email and sets up a 3-month plan."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accord.storage import models
from accord.web.portal import views
from tests.functional.portal_helpers import (
    DESKTOP,
    MOBILE,
    Sink,
    shoot,
    sign_in_with_code,
    smtp_sink,  # noqa: F401 - a fixture
)
from tests.integration import portal_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def customer_in_arrears() -> models.Customer:
    today = timezone.localdate()
    customer = portal_data.customer(name="Ana García", email="ana@example.com")
    portal_data.account(
        customer,
        overdue_minor=36_000,
        paid_minor=4_000,
        overdue_since=today - datetime.timedelta(days=40),
        not_yet_due_minor=12_000,
        not_yet_due_date=today + datetime.timedelta(days=12),
    )
    return customer


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["mobile", "desktop"])
def test_customer_signs_in_with_a_code_and_sets_up_a_three_month_plan(
    browser: Any,
    live_server: Any,
    smtp_sink: Sink,  # noqa: F811 - the fixture
    customer_in_arrears: models.Customer,
    tmp_path: Path,
    viewport: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "CODE_REQUEST_MIN_SECONDS", 0.0)
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/portal/sign-in/")
        shoot(page, tmp_path, "1-sign-in")
        sign_in_with_code(page, live_server.url, "ana@example.com", smtp_sink)

        assert "1 payment is overdue: £360.00." in page.locator("main").inner_text()
        shoot(page, tmp_path, "2-overview")

        page.get_by_role("link", name="Spread the cost").first.click()
        page.get_by_role("heading", level=1, name="Spread the cost").wait_for()
        page.get_by_label("3 months").check()
        start = timezone.localdate() + datetime.timedelta(days=5)
        page.get_by_label("Date of the first payment").fill(start.isoformat())
        shoot(page, tmp_path, "3-choose-plan")
        page.get_by_role("button", name="Show me the schedule").click()

        page.get_by_role("heading", level=1, name="Check your plan").wait_for()
        rows = page.locator("table.schedule tbody tr")
        assert rows.count() == 3
        assert rows.all_inner_texts() == [
            f"{n}\t{day}\t£120.00"
            for n, day in zip(
                (1, 2, 3),
                [
                    _long_english(start),
                    _long_english(_add_months(start, 1)),
                    _long_english(_add_months(start, 2)),
                ],
                strict=True,
            )
        ]
        shoot(page, tmp_path, "4-schedule")
        assert not models.RepaymentPlan.objects.exists()

        page.get_by_role("button", name="Confirm this plan").click()
        page.get_by_role("status").filter(has_text="Your plan is set up").wait_for()
        shoot(page, tmp_path, "5-plan-agreed")
        plan = models.RepaymentPlan.objects.get(account__customer=customer_in_arrears)
        assert plan.instalment_count == 3
        assert plan.total_minor == 36_000
        assert plan.source == models.Source.PORTAL
    finally:
        context.close()


def test_customer_is_shown_the_new_schedule_when_a_payment_arrives_before_confirming(
    browser: Any,
    live_server: Any,
    smtp_sink: Sink,  # noqa: F811 - the fixture
    customer_in_arrears: models.Customer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "CODE_REQUEST_MIN_SECONDS", 0.0)
    context = browser.new_context(viewport=MOBILE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in_with_code(page, live_server.url, "ana@example.com", smtp_sink)
        page.get_by_role("link", name="Spread the cost").first.click()
        page.get_by_label("3 months").check()
        start = timezone.localdate() + datetime.timedelta(days=5)
        page.get_by_label("Date of the first payment").fill(start.isoformat())
        page.get_by_role("button", name="Show me the schedule").click()
        page.get_by_role("heading", level=1, name="Check your plan").wait_for()

        # £60.00 arrives while Ana reads the £360.00 schedule.
        account = models.Account.objects.get(customer=customer_in_arrears)
        models.Payment.objects.create(
            external_ref="ARRIVED-WHILE-READING",
            account=account,
            amount_minor=6_000,
            currency="GBP",
            received_date=timezone.localdate(),
            method=models.PaymentMethod.BANK_TRANSFER,
            created_at=timezone.now(),
            updated_at=timezone.now(),
        )
        page.get_by_role("button", name="Confirm this plan").click()

        page.get_by_role("status").filter(has_text="The amount overdue has changed").wait_for()
        assert not models.RepaymentPlan.objects.exists()
        amounts = page.locator("table.schedule tbody td.num").all_inner_texts()
        assert amounts == ["£100.00"] * 3
        shoot(page, tmp_path, "6-arrears-changed")

        page.get_by_role("button", name="Confirm this plan").click()
        page.get_by_role("status").filter(has_text="Your plan is set up").wait_for()
        plan = models.RepaymentPlan.objects.get(account=account)
        assert plan.total_minor == 30_000
        assert models.ContactAttempt.objects.filter(
            idempotency_key=f"plan:{plan.pk}", template="plan_confirmation"
        ).exists()
    finally:
        context.close()


def _add_months(day: datetime.date, months: int) -> datetime.date:
    from accord.domain import plans

    return plans.add_months(day, months)


def _long_english(day: datetime.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"
