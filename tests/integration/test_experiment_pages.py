"""The manager's experiment pages: who may see them, the results table and chart, pause/resume."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.domain.access import Role
from accord.storage import models
from accord.strategy import definition
from tests.integration import experiment_data as x

DEFAULT = "early-sms-first"  # the default strategy's experiment
LIST_URL = "/manager/experiments/"
PAGE_URL = f"{LIST_URL}{DEFAULT}/"
PAUSE_URL = f"{PAGE_URL}arms/sms_first/pause/"
RESUME_URL = f"{PAGE_URL}arms/sms_first/resume/"
VIEWERS = {Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN, Role.AUDITOR}
MANAGERS = {Role.MANAGER, Role.ADMIN}


@pytest.fixture(autouse=True)
def _static_root() -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def signed_in(role: Role) -> Client:
    user = User.objects.create(username=f"user-{role.value}")
    user.groups.set([Group.objects.get(name=role.value)])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def decided() -> None:
    """Three champion and two challenger accounts of the default experiment, decided today."""
    today = timezone.localdate()
    run = x.run(today)
    champion, challenger = x.accounts(3), x.accounts(2)
    x.decide(run, champion, arm="champion", experiment=DEFAULT)
    x.decide(run, challenger, arm="sms_first", experiment=DEFAULT)
    x.complaints(challenger[:1], datetime.datetime.now(tz=datetime.UTC))


class TestWhoMaySee:
    @pytest.mark.parametrize("role", list(Role))
    @pytest.mark.parametrize("url", [LIST_URL, PAGE_URL])
    def test_the_pages_open_for_those_who_view_performance(self, role: Role, url: str) -> None:
        response = signed_in(role).get(url)
        assert response.status_code == (200 if role in VIEWERS else 403)

    @pytest.mark.parametrize("url", [LIST_URL, PAGE_URL])
    def test_anonymous_users_are_sent_to_sign_in(self, client: Client, url: str) -> None:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")

    @pytest.mark.parametrize("role", list(Role))
    def test_only_managers_may_pause(self, role: Role) -> None:
        response = signed_in(role).post(PAUSE_URL, {"reason": "Checking the wording"})
        if role in MANAGERS:
            assert response.status_code == 302
            assert models.ExperimentArmPause.objects.filter(arm="sms_first").exists()
        else:
            assert response.status_code == 403
            assert not models.ExperimentArmPause.objects.exists()

    @pytest.mark.parametrize("role", sorted(VIEWERS - MANAGERS))
    def test_viewers_see_no_pause_button(self, role: Role) -> None:
        page = signed_in(role).get(PAGE_URL).content.decode()
        assert "Pause sms_first" not in page

    def test_an_unknown_experiment_is_not_found(self) -> None:
        assert signed_in(Role.MANAGER).get(f"{LIST_URL}no-such-thing/").status_code == 404

    def test_the_navigation_links_to_the_experiments(self) -> None:
        page = signed_in(Role.MANAGER).get("/manager/").content.decode()
        assert f'href="{LIST_URL}"' in page


class TestTheList:
    def test_shows_the_active_strategys_experiment_and_its_arms(self) -> None:
        page = signed_in(Role.MANAGER).get(LIST_URL).content.decode()
        assert f'href="{PAGE_URL}"' in page
        assert "In the active strategy" in page
        assert "sms_first" in page


@pytest.mark.usefixtures("decided")
class TestTheExperimentPage:
    def test_shows_accounts_per_arm(self) -> None:
        page = signed_in(Role.MANAGER).get(PAGE_URL).content.decode()
        table = page[page.index('id="arm-table"') : page.index('id="harm-table"')]
        header = table[: table.index("</thead>")]
        assert header.index(">champion<") < header.index(">sms_first<")
        accounts = re.search(r"<th scope=\"row\">Accounts</th>(.*?)</tr>", table, re.S)
        assert accounts
        assert re.findall(r'cell-figure">([^<]*)<', accounts.group(1)) == ["3", "2"]

    def test_shows_harm_against_the_threshold(self) -> None:
        page = signed_in(Role.MANAGER).get(PAGE_URL).content.decode()
        harm = page[page.index('id="harm-table"') :]
        assert "500.0" in harm  # one complaint for two challenger accounts
        assert "threshold +2.0" in harm
        assert "is-over" in harm
        assert "do not act on so few" in page  # fewer than 200 accounts per arm

    def test_embeds_the_chart_data_with_intervals(self) -> None:
        response = signed_in(Role.MANAGER).get(PAGE_URL)
        page = response.content.decode()
        match = re.search(
            r'<script id="experiment-chart-data" type="application/json">(.*?)</script>', page, re.S
        )
        assert match
        chart = json.loads(match.group(1))
        assert [series["name"] for series in chart["series"]] == ["champion", "sms_first"]
        assert len(chart["series"][0]["plus"]) == len(chart["labels"]) == 4
        assert "vendor/plotly/plotly.min.js" in page
        assert "web/experiment-chart.js" in page

    def test_a_window_can_be_chosen(self) -> None:
        client = signed_in(Role.MANAGER)
        page = client.get(PAGE_URL, {"start": "2020-01-01", "end": "2020-01-31"}).content.decode()
        assert "1 Jan 2020" in page
        assert 'id="experiment-chart"' not in page  # nobody decided then

    def test_a_backwards_window_is_explained(self) -> None:
        page = (
            signed_in(Role.MANAGER)
            .get(PAGE_URL, {"start": "2026-02-01", "end": "2026-01-01"})
            .content.decode()
        )
        assert "must end on or after its first day" in page


class TestPauseAndResume:
    def test_a_manager_pauses_with_a_reason_and_it_is_audited(self) -> None:
        client = signed_in(Role.MANAGER)
        response = client.post(PAUSE_URL, {"reason": "Wrong date in the SMS"}, follow=True)
        page = response.content.decode()
        assert "is paused" in page
        assert "Wrong date in the SMS" in page
        assert "Resume sms_first" in page
        event = AuditEvent.objects.get(event_type="EXPERIMENT_ARM_PAUSED")
        assert event.actor == "user:user-manager"

    def test_a_pause_needs_a_reason(self) -> None:
        response = signed_in(Role.MANAGER).post(PAUSE_URL, {"reason": " "}, follow=True)
        assert "Say why the arm is paused" in response.content.decode()
        assert not models.ExperimentArmPause.objects.exists()

    def test_the_champion_cannot_be_paused(self) -> None:
        response = signed_in(Role.MANAGER).post(
            f"{PAGE_URL}arms/champion/pause/", {"reason": "why not"}, follow=True
        )
        assert "cannot be paused" in response.content.decode()
        assert not models.ExperimentArmPause.objects.exists()

    def test_a_manager_resumes_a_paused_arm(self) -> None:
        client = signed_in(Role.MANAGER)
        client.post(PAUSE_URL, {"reason": "Wrong date in the SMS"})
        response = client.post(RESUME_URL, follow=True)
        assert "is resumed" in response.content.decode()
        assert not models.ExperimentArmPause.objects.filter(resumed_at__isnull=True).exists()
        assert AuditEvent.objects.filter(event_type="EXPERIMENT_ARM_RESUMED").count() == 1

    def test_pausing_refuses_get_and_needs_the_csrf_token(self) -> None:
        client = signed_in(Role.MANAGER)
        assert client.get(PAUSE_URL).status_code == 405
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(User.objects.get(username="user-manager"))
        assert strict.post(PAUSE_URL, {"reason": "x"}).status_code == 403

    def test_a_stored_version_without_the_experiment_still_shows_past_decisions(self) -> None:
        (owner,) = x.accounts(1)
        x.decide(x.run(timezone.localdate()), [owner], arm="old", experiment="retired-test")
        page = signed_in(Role.MANAGER).get(f"{LIST_URL}retired-test/").content.decode()
        assert "not in any stored strategy version" in page
        assert definition.DEFAULT_PATH.exists()
