"""An agent works the queue in a real browser and takes a promise to pay on a call."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from accord.domain.access import Role
from accord.storage import models, queue_rank

PASSWORD = "correct horse battery staple"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def daytime_zone(now: datetime.datetime) -> str:
    """Return a fixed-offset IANA zone where it is early afternoon at ``now``.

    The policy check runs on the real clock, so the customer lives where calling is allowed.
    """
    offset = (13 - now.astimezone(datetime.UTC).hour + 12) % 24 - 12  # in [-12, 11]
    # POSIX-style names invert the sign: Etc/GMT-3 is three hours ahead of UTC.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


@pytest.fixture
def agent() -> User:
    user = User.objects.create_user(
        username="sam", password=PASSWORD, first_name="Sam", last_name="Lee"
    )
    user.groups.add(Group.objects.get(name=Role.AGENT.value))
    return user


def _customer(ref: str, name: str, zone: str, now: datetime.datetime) -> models.Customer:
    customer = models.Customer.objects.create(
        external_ref=ref,
        debtor_type=models.DebtorType.CONSUMER,
        name=name,
        country="ES",
        city="Sevilla",
        postcode="41001",
        address_line1="Calle Sierpes 12",
        language="es",
        preferred_channel=models.Channel.EMAIL,
        time_zones=[zone],
        time_zone_source=models.TimeZoneSource.GIVEN,
        created_at=now,
        updated_at=now,
    )
    models.ContactPoint.objects.create(
        customer=customer, kind=models.ContactPointKind.EMAIL, value=f"{ref.lower()}@example.com"
    )
    models.ContactPoint.objects.create(
        customer=customer, kind=models.ContactPointKind.PHONE, value="+34955123456"
    )
    return customer


@pytest.fixture
def book() -> models.Customer:
    """A small book after today's strategy run; Lucía has a call task and is first."""
    now = timezone.now()
    today = timezone.localdate(now)
    zone = daytime_zone(now)
    run = models.StrategyRun.objects.create(
        as_of_date=today,
        strategy_name="default",
        strategy_version="2026.11.1",
        status=models.RunStatus.COMPLETED,
        started_at=now,
        finished_at=now,
        started_by="cli:demo",
    )
    people = [
        ("C-100", "Lucía Fernández", "LATE", 120, 64_250, models.Treatment.CALL_TASK),
        ("C-101", "Tomás Ruiz", "RECOVERY", 210, 182_000, models.Treatment.CALL_TASK),
        ("C-102", "Marta Gil", "MID", 45, 23_000, models.Treatment.PROMISE_REQUEST),
        ("C-103", "Jorge Vidal", "EARLY", 12, 8_990, models.Treatment.LATE_NOTICE),
    ]
    first = None
    for ref, name, stage, dpd, arrears_minor, treatment in people:
        customer = _customer(ref, name, zone, now)
        account = models.Account.objects.create(
            external_ref=f"A-{ref[2:]}-1",
            customer=customer,
            product_type=models.ProductType.CREDIT_CARD,
            currency="EUR",
            opened_date=datetime.date(2023, 5, 2),
            status=models.AccountStatus.OPEN,
            created_at=now,
            updated_at=now,
        )
        models.Charge.objects.create(
            external_ref=f"CH-{ref}",
            account=account,
            kind=models.ChargeKind.INSTALMENT,
            amount_minor=arrears_minor,
            currency="EUR",
            due_date=today - datetime.timedelta(days=dpd),
            created_at=now,
            updated_at=now,
        )
        models.Decision.objects.create(
            run=run,
            account=account,
            as_of_date=today,
            days_past_due=dpd,
            bucket="DPD_91_120",
            stage=stage,
            arrears_minor=arrears_minor,
            balance_minor=arrears_minor,
            currency="EUR",
            treatment=treatment,
            reason_codes=[f"STAGE_{stage}"],
            strategy_version="2026.11.1",
            created_at=now,
        )
        if ref == "C-100":
            first = customer
            models.ContactAttempt.objects.create(
                customer=customer,
                account=account,
                channel=models.Channel.CALL,
                template="call_task",
                origin=models.ContactOrigin.STRATEGY,
                planned_at=now,
                status=models.ContactStatus.PLANNED,
                idempotency_key=f"call-task:{account.pk}",
                created_at=now,
                updated_at=now,
            )
            models.ContactAttempt.objects.create(
                customer=customer,
                account=account,
                channel=models.Channel.EMAIL,
                template="late_notice",
                origin=models.ContactOrigin.STRATEGY,
                planned_at=now - datetime.timedelta(days=6),
                sent_at=now - datetime.timedelta(days=6),
                status=models.ContactStatus.SENT,
                idempotency_key=f"late:{account.pk}",
                destination="c-100@example.com",
                subject="Su pago está vencido",
                body="Hola Lucía: 642,50 EUR están vencidos.",
                created_at=now,
                updated_at=now,
            )
    assert first is not None
    queue_rank.rank_decisions(as_of=today)  # as the strategy run does when it loads them
    return first


def sign_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_agent_takes_a_promise_from_the_queue(
    page: Any, live_server: Any, agent: User, book: models.Customer, tmp_path: Path
) -> None:
    sign_in(page, live_server.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Work queue").click()

    page.get_by_role("heading", level=1, name="Work queue").wait_for()
    rows = page.locator("#queue-results tbody tr")
    assert rows.count() == 4
    assert "Lucía Fernández" in rows.first.inner_text()
    assert "Call task" in rows.first.inner_text()
    page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)

    page.get_by_role("link", name="Lucía Fernández").click()
    page.get_by_role("heading", level=1, name="Lucía Fernández").wait_for()
    page.get_by_text("OK to call").wait_for()
    page.screenshot(path=str(tmp_path / "before-the-call.png"), full_page=True)

    # Step 1: reserve the call under the contact policy, then dial.
    page.get_by_role("button", name="Start call").click()
    page.get_by_role("heading", name="Call in progress").wait_for()
    call = models.ContactAttempt.objects.get(customer=book, channel=models.Channel.CALL)
    assert call.status == models.ContactStatus.SENDING  # the task, taken over and counted
    form = page.locator("#call-form")
    assert "642.50 EUR" in form.inner_text()

    # Step 2: record what the call brought.
    form.get_by_label("Promise made").check()
    form.get_by_label("Amount promised").fill("200")
    promise_date = timezone.localdate() + datetime.timedelta(days=10)
    form.get_by_label("Pay by").fill(promise_date.isoformat())
    form.get_by_label("Notes").fill("Will pay on the 28th, after payday.")
    page.screenshot(path=str(tmp_path / "customer-360.png"), full_page=True)
    form.get_by_role("button", name="Record outcome").click()

    confirmation = page.get_by_role("status")
    confirmation.wait_for()
    assert "Call recorded." in confirmation.inner_text()
    promises = page.locator("#promises")
    assert "200.00 EUR" in promises.inner_text()
    assert "Open" in promises.inner_text()
    assert "Promise made" in page.locator(".agent-timeline").inner_text()
    assert page.get_by_role("heading", name="Call in progress").count() == 0
    page.screenshot(path=str(tmp_path / "promise-recorded.png"), full_page=True)

    call.refresh_from_db()
    assert (call.status, call.agent) == (models.ContactStatus.COMPLETED, "sam")
    promise = models.Promise.objects.get(account__customer=book)
    assert promise.amount_minor == 20000
    assert promise.promised_date == promise_date
    assert promise.created_by == "sam"


def test_agent_sees_a_refused_promise_inline(
    page: Any, live_server: Any, agent: User, book: models.Customer, tmp_path: Path
) -> None:
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/agent/customers/{book.pk}/")
    page.get_by_text("OK to call").wait_for()
    page.get_by_role("button", name="Start call").click()
    form = page.locator("#call-form")
    form.wait_for()

    form.get_by_label("Promise made").check()
    form.get_by_label("Amount promised").fill("9999")
    form.get_by_label("Pay by").fill(
        (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    )
    form.get_by_role("button", name="Record outcome").click()

    page.get_by_text("more than the balance").wait_for()
    assert page.locator("#call-form").get_by_label("Amount promised").input_value() == "9999"
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "refused-mobile.png"), full_page=True)
    assert not models.Promise.objects.exists()
    call = models.ContactAttempt.objects.get(customer=book, channel=models.Channel.CALL)
    assert call.status == models.ContactStatus.SENDING  # still in progress, nothing lost
