"""A second customer, signed in with their own code, cannot reach the first one's pages."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from accord.storage import models
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
def first_customer() -> tuple[models.Account, models.ContactAttempt]:
    today = timezone.localdate()
    ana = portal_data.customer(name="Ana García", email="ana@example.com")
    account = portal_data.account(
        ana, overdue_minor=25_000, overdue_since=today - datetime.timedelta(days=15)
    )
    document = Path(settings.MEDIA_ROOT) / "letters" / "ana.pdf"
    document.parent.mkdir(parents=True, exist_ok=True)
    document.write_bytes(b"%PDF-1.4 Ana's private letter")
    now = timezone.now()
    letter = models.ContactAttempt.objects.create(
        customer=ana,
        account=account,
        channel=models.Channel.LETTER,
        origin=models.ContactOrigin.STRATEGY,
        planned_at=now,
        status=models.ContactStatus.SENT,
        sent_at=now,
        idempotency_key="functional-ana-letter",
        subject="Ana's late notice",
        body="Dear Ana",
        document="letters/ana.pdf",
        created_at=now,
        updated_at=now,
    )
    return account, letter


@pytest.fixture
def second_customer() -> models.Customer:
    bob = portal_data.customer(name="Bob Smith", email="bob@example.com")
    portal_data.account(bob, overdue_minor=4_000)
    return bob


def test_a_second_customer_cannot_reach_the_first_customers_pages(
    browser: Any,
    live_server: Any,
    smtp_sink: Sink,  # noqa: F811 - the fixture
    first_customer: tuple[models.Account, models.ContactAttempt],
    second_customer: models.Customer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "CODE_REQUEST_MIN_SECONDS", 0.0)
    account, letter = first_customer
    context = browser.new_context(viewport=MOBILE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in_with_code(page, live_server.url, "bob@example.com", smtp_sink)
        assert "Hello, Bob Smith" in page.locator("h1").inner_text()
        shoot(page, tmp_path, "bob-overview")

        for path in (
            f"/portal/accounts/{account.pk}/",
            f"/portal/accounts/{account.pk}/plan/",
            f"/portal/accounts/{account.pk}/promise/",
            f"/portal/messages/{letter.pk}/letter.pdf",
        ):
            response = page.request.get(f"{live_server.url}{path}")
            assert response.status == 404, path
            assert b"Ana" not in response.body(), path
            assert account.external_ref.encode() not in response.body(), path

        page.goto(f"{live_server.url}/portal/accounts/{account.pk}/")
        assert "Ana" not in page.content()
        shoot(page, tmp_path, "bob-tries-ana")

        for path in ("/portal/", "/portal/messages/", "/portal/payments/"):
            page.goto(f"{live_server.url}{path}")
            assert "Ana" not in page.content(), path
            assert account.external_ref not in page.content(), path
    finally:
        context.close()
