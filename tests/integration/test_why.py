"""Why an account got its treatment: the explained decisions, the panels and the API."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client

from accord.analytics import why
from accord.domain.access import Role
from accord.storage import models
from accord.usecases import api_tokens
from tests.integration import manager_data as data
from tests.integration import strategy_data

READERS = {Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN, Role.AUDITOR}
TODAY = datetime.date(2026, 11, 25)


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


def decide(
    run: models.StrategyRun, owner: models.Account, *, reasons: list[str], **fields: Any
) -> models.Decision:
    made = data.decision(
        run,
        owner,
        bucket="DPD_1_30",
        dpd=fields.pop("dpd", 12),
        arrears="95.00",
        balance="640.00",
        treatment=fields.pop("treatment", models.Treatment.LATE_NOTICE),
        reasons=reasons,
    )
    models.Decision.objects.filter(pk=made.pk).update(**fields)
    made.refresh_from_db()
    return made


@pytest.fixture
def challenger_account() -> dict[str, Any]:
    """An account in the SMS-first arm, sent a late notice by SMS yesterday and today."""
    version = strategy_data.draft()
    owner = data.account("EUR", name="Ana García")
    yesterday, today = data.run(TODAY - datetime.timedelta(days=1)), data.run(TODAY)
    models.StrategyRun.objects.filter(pk__in=[yesterday.pk, today.pk]).update(version=version)
    arm = {"segment": "early", "experiment": "early-sms-test", "arm": "sms_first"}
    earlier = decide(
        yesterday,
        owner,
        reasons=["STAGE_EARLY", "DPD_11", "CADENCE_WAIT"],
        dpd=11,
        path="sms_first",
        channel=models.Channel.SMS,
        **arm,
    )
    latest = decide(
        today,
        owner,
        reasons=["STAGE_EARLY", "DPD_12", "REG_F_INCONVENIENT_TIME", "POLICY_DEFERRED"],
        path="sms_first",
        channel=models.Channel.SMS,
        risk_score=47,
        collectability_score=72,
        **arm,
    )
    data.contact(latest, models.ContactStatus.PLANNED, channel=models.Channel.SMS)
    return {"owner": owner, "latest": latest, "earlier": earlier, "version": version}


class TestAccountDecisions:
    def test_explains_the_latest_decision_with_segment_arm_step_and_scores(
        self, challenger_account: dict[str, Any]
    ) -> None:
        latest, earlier = why.account_decisions(challenger_account["owner"].pk)

        assert (latest.segment, latest.path, latest.experiment, latest.arm) == (
            "early",
            "sms_first",
            "early-sms-test",
            "sms_first",
        )
        assert latest.segment_description == "Coming due, or up to 30 days past due."
        assert latest.path_description == "The challenger, SMS first."
        assert latest.step is not None
        assert (latest.step.label, latest.step.starts) == ("Late notice", "From 1 day past due")
        assert (latest.channel_label, latest.template, latest.contact_status) == (
            "SMS",
            "late_notice",
            "PLANNED",
        )
        assert (latest.risk_score, latest.collectability_score) == (47, 72)
        assert latest.explanations == [
            "Early arrears",
            "12 days past due",
            "Outside 08:00-21:00 local time",
            "Held until the contact policy allows it",
        ]
        assert latest.summary == (
            "Segment early, arm sms_first of experiment early-sms-test, path sms_first: "
            "Late notice by SMS."
        )
        assert earlier.as_of_date == TODAY - datetime.timedelta(days=1)
        assert "Same message sent recently, so not repeated yet" in earlier.explanations

    def test_keeps_to_the_limit_newest_first(self, challenger_account: dict[str, Any]) -> None:
        (only,) = why.account_decisions(challenger_account["owner"].pk, limit=1)

        assert only.id == challenger_account["latest"].pk

    def test_a_decision_no_segment_took_says_so(self) -> None:
        owner = data.account("EUR")
        decide(
            data.run(TODAY),
            owner,
            reasons=["STAGE_EARLY", "DPD_3", "NO_SEGMENT"],
            treatment=models.Treatment.NONE,
        )

        (decision,) = why.account_decisions(owner.pk)

        assert decision.summary == "No action: no segment of the strategy took the account."
        assert decision.step is None
        assert "No segment of the strategy takes this account: no treatment" in (
            decision.explanations
        )

    def test_a_run_of_a_file_still_explains_its_codes(self) -> None:
        owner = data.account("EUR")
        decide(
            data.run(TODAY),
            owner,
            reasons=["DPD_12", "ARM_PAUSED"],
            segment="early",
            path="standard",
            experiment="x",
            arm="b",
        )

        (decision,) = why.account_decisions(owner.pk)

        assert (decision.segment_description, decision.step) == ("", None)
        assert decision.arm_paused
        assert decision.explanations[1] == (
            "Its experiment arm is paused: following the champion's path"
        )

    def test_reads_many_accounts_in_the_same_two_queries(
        self, challenger_account: dict[str, Any], django_assert_max_num_queries: Any
    ) -> None:
        others = [data.account("EUR") for _ in range(5)]
        run = models.StrategyRun.objects.get(as_of_date=TODAY)
        for owner in others:
            decide(run, owner, reasons=["DPD_12"])

        with django_assert_max_num_queries(2):
            found = why.accounts_decisions(
                [challenger_account["owner"].pk, *(o.pk for o in others)], limit=5
            )

        assert len(found[challenger_account["owner"].pk]) == 2
        assert all(len(found[o.pk]) == 1 for o in others)


class TestPanels:
    def test_the_agent_sees_why_with_the_history_on_the_customer_page(
        self, challenger_account: dict[str, Any]
    ) -> None:
        customer_id = challenger_account["owner"].customer_id

        page = signed_in(Role.AGENT).get(f"/agent/customers/{customer_id}/").content.decode()

        assert "Why: the strategy's decisions" in page
        assert "Segment early, arm sms_first of experiment early-sms-test" in page
        assert "Coming due, or up to 30 days past due." in page
        assert "From 1 day past due" in page
        assert "<strong>47</strong>" in page
        assert "<strong>72</strong>" in page
        assert "Held until the contact policy allows it" in page
        assert "1 earlier decision" in page
        assert "Same message sent recently, so not repeated yet" in page

    @pytest.mark.parametrize("role", list(Role))
    def test_the_manager_why_page_needs_view_performance(
        self, role: Role, challenger_account: dict[str, Any]
    ) -> None:
        url = f"/manager/accounts/{challenger_account['owner'].pk}/why/"

        response = signed_in(role).get(url)

        assert response.status_code == (200 if role in READERS else 403)
        if role in READERS:
            assert "Segment early, arm sms_first" in response.content.decode()

    def test_the_manager_why_page_of_an_unknown_account_is_not_found(self) -> None:
        assert signed_in(Role.MANAGER).get("/manager/accounts/999999/why/").status_code == 404


class TestApi:
    def test_the_decisions_endpoint_gives_segment_arm_scores_and_explanations(
        self, challenger_account: dict[str, Any]
    ) -> None:
        user = User.objects.create(username="reader")
        user.groups.set([Group.objects.get(name=Role.AGENT.value)])
        token = api_tokens.issue_api_token(user=user, name="t", actor="test", now=data.NOW)

        response = Client().get(
            f"/api/v1/accounts/{challenger_account['owner'].pk}/decisions",
            headers={"Authorization": f"Bearer {token}"},
        )

        assert response.status_code == 200
        latest = json.loads(response.content)["items"][0]
        assert {
            key: latest[key]
            for key in (
                "segment",
                "path",
                "experiment",
                "arm",
                "risk_score",
                "collectability_score",
            )
        } == {
            "segment": "early",
            "path": "sms_first",
            "experiment": "early-sms-test",
            "arm": "sms_first",
            "risk_score": 47,
            "collectability_score": 72,
        }
        assert latest["reason_codes"] == [
            "STAGE_EARLY",
            "DPD_12",
            "REG_F_INCONVENIENT_TIME",
            "POLICY_DEFERRED",
        ]
        assert latest["explanations"] == [
            "Early arrears",
            "12 days past due",
            "Outside 08:00-21:00 local time",
            "Held until the contact policy allows it",
        ]
