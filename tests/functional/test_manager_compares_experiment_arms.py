"""A manager opens an experiment, sees its arms compared with intervals, and pauses a challenger."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.domain.access import Role
from accord.storage import models
from tests.integration import experiment_data as x
from tests.integration import manager_data as data

PASSWORD = "correct horse battery staple"
EXPERIMENT = "early-sms-first"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def manager() -> User:
    user = User.objects.create_user(
        username="mara", password=PASSWORD, first_name="Mara", last_name="Okafor"
    )
    user.groups.add(Group.objects.get(name=Role.MANAGER.value))
    return user


@pytest.fixture
def trial() -> None:
    """Two weeks of the default experiment: 60 champion and 60 challenger accounts."""
    today = timezone.localdate()
    entered, latest = today - datetime.timedelta(days=14), today - datetime.timedelta(days=1)
    champion, challenger = x.accounts(60), x.accounts(60)
    x.decide(x.run(entered), champion, arm="champion", dpd=12, experiment=EXPERIMENT)
    x.decide(x.run(entered), challenger, arm="sms_first", dpd=12, experiment=EXPERIMENT)
    later = x.run(latest)
    # Champion: 21 cure, 9 roll into 31-60; challenger: 33 cure, 4 roll.
    x.decide(later, champion[:21], arm="", dpd=0, bucket="CURRENT", experiment="")
    x.decide(later, champion[21:30], arm="", dpd=40, bucket="DPD_31_60", experiment="")
    x.decide(later, challenger[:33], arm="", dpd=0, bucket="CURRENT", experiment="")
    x.decide(later, challenger[33:37], arm="", dpd=40, bucket="DPD_31_60", experiment="")
    for owner in champion[:25] + challenger[:36]:
        data.payment(owner, "40.00", latest)
    x.promises(champion[30:40], due=latest, status=models.PromiseStatus.KEPT, resolved=x.at(latest))
    x.promises(
        champion[40:46], due=latest, status=models.PromiseStatus.BROKEN, resolved=x.at(latest)
    )
    x.promises(
        challenger[40:52], due=latest, status=models.PromiseStatus.KEPT, resolved=x.at(latest)
    )
    x.promises(
        challenger[52:55], due=latest, status=models.PromiseStatus.BROKEN, resolved=x.at(latest)
    )
    x.complaints(challenger[:2], x.at(latest))
    x.opt_outs(champion[:1], x.at(latest))


def sign_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill("mara")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", level=1, name="Portfolio dashboard").wait_for()


@pytest.mark.usefixtures("trial")
def test_manager_compares_the_arms_and_pauses_the_challenger(
    page: Any, live_server: Any, manager: User, tmp_path: Path
) -> None:
    sign_in(page, live_server.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Experiments").click()
    page.get_by_role("heading", level=1, name="Experiments").wait_for()
    page.get_by_role("link", name=EXPERIMENT).click()

    page.get_by_role("heading", level=1, name=f"Experiment {EXPERIMENT}").wait_for()
    page.locator("#experiment-chart svg.main-svg").first.wait_for()
    assert page.locator("#experiment-chart g.trace.bars").count() == 2
    outcomes = page.locator("#arm-table").inner_text()
    assert "35.0%" in outcomes  # champion cure rate, 21 / 60
    assert "55.0%" in outcomes  # challenger cure rate, 33 / 60
    assert "95% CI" in outcomes

    shots = Path(os.environ.get("ACCORD_SCREENSHOTS", tmp_path))
    page.screenshot(path=str(shots / "manager-experiment.png"), full_page=True)

    page.get_by_label("Why pause it?").fill("SMS wording under review")
    page.get_by_role("button", name="Pause sms_first").click()
    page.get_by_text("is paused: from the next run").wait_for()
    assert "SMS wording under review" in page.locator("#harm-table").inner_text()
    assert AuditEvent.objects.filter(event_type="EXPERIMENT_ARM_PAUSED").count() == 1
    page.screenshot(path=str(shots / "manager-experiment-paused.png"), full_page=True)

    page.goto(f"{live_server.url}/manager/experiments/")
    page.get_by_text("1 arm paused").wait_for()
    page.screenshot(path=str(shots / "manager-experiments.png"), full_page=True)
