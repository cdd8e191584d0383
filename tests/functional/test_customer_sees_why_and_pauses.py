"""A customer signs in, reads why a late notice came, and pauses contact for two weeks."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accord.domain.compliance import RuleCode
from accord.storage import models
from accord.usecases import preferences
from accord.web.portal import views
from tests.functional.portal_helpers import (
    MOBILE,
    Sink,
    shoot,
    sign_in_with_code,
    smtp_sink,  # noqa: F401 - a fixture
)
from tests.integration import portal_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ana_with_a_late_notice() -> models.Customer:
    ana = portal_data.customer(name="Ana García", email="ana@example.com")
    account = portal_data.account(
        ana,
        overdue_minor=2_500,
        overdue_since=timezone.localdate() - datetime.timedelta(days=12),
    )
    now = timezone.now()
    run = models.StrategyRun.objects.create(
        as_of_date=now.date(),
        strategy_name="default",
        strategy_version="v1",
        status=models.RunStatus.COMPLETED,
        started_at=now,
        started_by="test",
    )
    decision = models.Decision.objects.create(
        run=run,
        account=account,
        as_of_date=now.date(),
        days_past_due=12,
        bucket="1-30",
        stage="EARLY",
        arrears_minor=2_500,
        balance_minor=2_500,
        currency=account.currency,
        treatment=models.Treatment.LATE_NOTICE,
        channel=models.Channel.EMAIL,
        reason_codes=["STAGE_EARLY", "DPD_12"],
        strategy_version="v1",
        created_at=now,
    )
    models.ContactAttempt.objects.create(
        customer=ana,
        account=account,
        decision=decision,
        channel=models.Channel.EMAIL,
        template="late_notice",
        origin=models.ContactOrigin.STRATEGY,
        planned_at=now,
        status=models.ContactStatus.SENT,
        sent_at=now,
        provider_status=models.ProviderStatus.DELIVERED,
        idempotency_key="functional-why-late-notice",
        subject="Your payment is overdue",
        body="Dear Ana, your payment of £25.00 is overdue.",
        policy_reasons=[{"code": RuleCode.INCONVENIENT_TIME, "rule": "", "message": ""}],
        created_at=now,
        updated_at=now,
    )
    return ana


def test_customer_reads_why_a_message_came_and_pauses_contact(
    browser: Any,
    live_server: Any,
    smtp_sink: Sink,  # noqa: F811 - the fixture
    ana_with_a_late_notice: models.Customer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "CODE_REQUEST_MIN_SECONDS", 0.0)
    context = browser.new_context(viewport=MOBILE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in_with_code(page, live_server.url, "ana@example.com", smtp_sink)
        page.get_by_role("link", name="Messages").first.click()
        page.get_by_role("heading", level=1, name="Messages we sent you").wait_for()
        page.get_by_text("Why did I get this?").click()
        why = page.locator("details.why[open]")
        assert "Your payment of £25.00 was due 12 days ago." in why.inner_text()
        assert "We waited until 8 a.m. your time" in why.inner_text()
        assert "Delivered" in page.locator(".portal-card").first.inner_text()
        shoot(page, tmp_path, "messages-why")

        why.get_by_role("link", name="preferences").click()
        page.get_by_role("heading", level=1, name="How we contact you").wait_for()
        page.get_by_label("For how long?").select_option("14")
        page.get_by_label("Anything you would like to tell us? (optional)").fill("In hospital")
        page.locator("#pause").get_by_role("button", name="Pause contact").click()
        page.get_by_text("Contact is paused.").wait_for()
        shoot(page, tmp_path, "preferences-paused")
    finally:
        context.close()
    pause = preferences.contact_pause(customer_id=ana_with_a_late_notice.pk, now=timezone.now())
    assert pause is not None
    assert pause.end is not None
    assert pause.end - pause.start == datetime.timedelta(days=14)
