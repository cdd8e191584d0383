"""An agent records a complaint and a breathing space from the customer page, in a real browser."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User

from accord.domain.access import Role
from accord.storage import models
from tests.integration import manager_data as data

PASSWORD = "correct horse battery staple"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agent() -> User:
    user = User.objects.create_user(
        username="sam", password=PASSWORD, first_name="Sam", last_name="Lee"
    )
    user.groups.add(Group.objects.get(name=Role.AGENT.value))
    return user


def test_agent_records_a_complaint_and_a_breathing_space(
    page: Any, live_server: Any, agent: User, tmp_path: Path
) -> None:
    account = data.account("EUR", name="Lucía Romero")
    data.charge(account, "180.00", datetime.date.today() - datetime.timedelta(days=20))  # noqa: DTZ011
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/agent/customers/{account.customer_id}/")

    page.get_by_text("Record a complaint").click()
    page.get_by_label("About account").select_option(label=account.external_ref)
    page.get_by_label("What it is about").select_option("CONTACT")
    page.get_by_label("How it came in").select_option("CALL")
    page.get_by_label("What the customer is unhappy about").fill("Three calls before 9am.")
    page.get_by_role("button", name="Record the complaint").click()
    page.get_by_text("Complaint recorded.").wait_for()
    assert "Three calls before 9am." in page.locator("#records").inner_text()

    page.locator("#records summary", has_text="Record breathing space").click()
    page.get_by_label("Kind").select_option("STANDARD")
    page.get_by_label("Register reference").fill("BS-2026-0042")
    page.get_by_role("button", name="Record breathing space").click()
    page.get_by_text("In force: no collection contact").wait_for()
    assert models.BreathingSpace.objects.filter(reference="BS-2026-0042").exists()

    shots = Path(os.environ.get("ACCORD_SCREENSHOTS", tmp_path))
    page.locator("#records").screenshot(path=str(shots / "agent-records.png"))
    page.screenshot(path=str(shots / "agent-customer-records.png"), full_page=True)
