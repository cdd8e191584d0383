"""A member of staff signs in with a real browser and reaches the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User

from accord.domain.access import Role

PASSWORD = "correct horse battery staple"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def manager() -> User:
    user = User.objects.create_user(
        username="mara", password=PASSWORD, first_name="Mara", last_name="Okafor"
    )
    user.groups.add(Group.objects.get(name=Role.MANAGER.value))
    return user


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_manager_signs_in_and_sees_the_dashboard(
    page: Any, live_server: Any, manager: User, tmp_path: Path
) -> None:
    sign_in(page, live_server.url, "mara", PASSWORD)

    page.get_by_role("heading", level=1, name="Portfolio dashboard").wait_for()
    assert page.url == f"{live_server.url}/"
    assert "Mara Okafor" in page.locator("header").inner_text()
    # A manager sees the pages their role allows, and no agent work queue or audit log.
    assert page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts() == [
        "Dashboard",
        "Performance",
        "Strategies",
        "Experiments",
        "Messages",
    ]
    screenshot = tmp_path / "dashboard.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 0


def test_wrong_password_shows_an_error(page: Any, live_server: Any, manager: User) -> None:
    sign_in(page, live_server.url, "mara", "not the password")

    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Please enter a correct username and password" in alert.inner_text()
    assert page.url.startswith(f"{live_server.url}/login/")


def test_signing_out_returns_to_sign_in(page: Any, live_server: Any, manager: User) -> None:
    sign_in(page, live_server.url, "mara", PASSWORD)
    page.get_by_role("button", name="Sign out").click()

    page.get_by_role("heading", level=1, name="Sign in to Accord").wait_for()
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/login/")
