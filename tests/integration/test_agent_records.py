"""The agent records a complaint or a breathing space from the customer page."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.domain.access import Role
from accord.storage import models
from tests.integration import workspace_data as data

TODAY = data.TODAY
WORKERS = {Role.AGENT, Role.TEAM_LEAD, Role.ADMIN}


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: data.NOW)


@pytest.fixture(autouse=True)
def _static_root() -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def signed_in(role: Role, *, csrf: bool = False) -> Client:
    user = User.objects.create(username=f"user-{role.value}")
    user.groups.set([Group.objects.get(name=role.value)])
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


@pytest.fixture
def ana() -> models.Customer:
    return data.customer("C-ANA", name="Ana García")


@pytest.fixture
def ana_account(ana: models.Customer) -> models.Account:
    return data.account(ana, "A-ANA-1")


def complaint_url(customer: models.Customer) -> str:
    return f"/agent/customers/{customer.pk}/complaints/"


def breathing_url(customer: models.Customer) -> str:
    return f"/agent/customers/{customer.pk}/breathing-spaces/"


COMPLAINT: dict[str, Any] = {
    "account": "",
    "category": "CONTACT",
    "received_via": "CALL",
    "summary": "Too many calls this week.",
}


class TestTheCustomerPage:
    def test_offers_both_forms(self, ana_account: models.Account) -> None:
        page = signed_in(Role.AGENT).get(f"/agent/customers/{ana_account.customer_id}/")
        html = page.content.decode()
        assert "Record a complaint" in html
        assert "Record breathing space" in html
        assert 'id="records"' in html
        assert "A-ANA-1" in html  # offered as the account the complaint is about

    def test_shows_a_breathing_space_in_force(self, ana_account: models.Account) -> None:
        models.BreathingSpace.objects.create(
            customer=ana_account.customer,
            kind=models.BreathingSpaceKind.STANDARD,
            starts_on=TODAY - datetime.timedelta(days=3),
            ends_on=TODAY + datetime.timedelta(days=57),
            reference="BS-9",
            recorded_at=data.NOW,
            recorded_by="user:agent",
        )
        html = (
            signed_in(Role.AGENT)
            .get(f"/agent/customers/{ana_account.customer_id}/")
            .content.decode()
        )
        assert "In force: no collection contact" in html
        assert "BS-9" in html


class TestRecordingAComplaint:
    @pytest.mark.parametrize("role", list(Role))
    def test_only_those_who_work_accounts_may(self, role: Role, ana: models.Customer) -> None:
        response = signed_in(role).post(complaint_url(ana), COMPLAINT)
        if role in WORKERS:
            assert response.status_code == 302
            assert response["Location"] == f"/agent/customers/{ana.pk}/#records"
            assert models.Complaint.objects.filter(customer=ana).count() == 1
        else:
            assert response.status_code == 403
            assert not models.Complaint.objects.exists()

    def test_about_an_account_is_recorded_audited_and_shown(
        self, ana_account: models.Account
    ) -> None:
        client = signed_in(Role.AGENT)
        response = client.post(
            complaint_url(ana_account.customer),
            {**COMPLAINT, "account": str(ana_account.pk)},
            follow=True,
        )
        html = response.content.decode()
        assert "Complaint recorded." in html
        assert "Too many calls this week." in html
        complaint = models.Complaint.objects.get()
        assert (complaint.account_id, complaint.received_via, complaint.recorded_by) == (
            ana_account.pk,
            "CALL",
            "user:user-agent",
        )
        assert AuditEvent.objects.filter(event_type="COMPLAINT_RECORDED").count() == 1

    def test_without_a_summary_shows_the_form_again(self, ana: models.Customer) -> None:
        response = signed_in(Role.AGENT).post(complaint_url(ana), {**COMPLAINT, "summary": ""})
        assert response.status_code == 422
        assert "This field is required" in response.content.decode()
        assert not models.Complaint.objects.exists()

    def test_another_customers_account_is_not_offered(self, ana: models.Customer) -> None:
        other = data.account(data.customer("C-BO", name="Bo"), "A-BO-1")
        response = signed_in(Role.AGENT).post(
            complaint_url(ana), {**COMPLAINT, "account": str(other.pk)}
        )
        assert response.status_code == 422
        assert not models.Complaint.objects.exists()

    def test_needs_the_csrf_token_and_refuses_get(self, ana: models.Customer) -> None:
        assert (
            signed_in(Role.AGENT, csrf=True).post(complaint_url(ana), COMPLAINT).status_code == 403
        )
        assert signed_in(Role.ADMIN).get(complaint_url(ana)).status_code == 405

    def test_an_unknown_customer_is_not_found(self) -> None:
        assert (
            signed_in(Role.AGENT).post("/agent/customers/999999/complaints/", COMPLAINT).status_code
            == 404
        )


class TestRecordingABreathingSpace:
    @pytest.mark.parametrize("role", list(Role))
    def test_only_those_who_work_accounts_may(self, role: Role, ana: models.Customer) -> None:
        response = signed_in(role).post(
            breathing_url(ana), {"kind": "STANDARD", "starts_on": TODAY.isoformat()}
        )
        assert response.status_code == (302 if role in WORKERS else 403)

    def test_a_standard_one_lasts_sixty_days_and_is_audited(self, ana: models.Customer) -> None:
        response = signed_in(Role.AGENT).post(
            breathing_url(ana),
            {"kind": "STANDARD", "starts_on": TODAY.isoformat(), "reference": "BS-1"},
            follow=True,
        )
        assert "Breathing space recorded until" in response.content.decode()
        space = models.BreathingSpace.objects.get()
        assert space.ends_on == TODAY + datetime.timedelta(days=60)
        assert AuditEvent.objects.filter(event_type="BREATHING_SPACE_RECORDED").count() == 1

    def test_an_end_before_the_start_is_explained(self, ana: models.Customer) -> None:
        response = signed_in(Role.AGENT).post(
            breathing_url(ana),
            {
                "kind": "STANDARD",
                "starts_on": TODAY.isoformat(),
                "ends_on": (TODAY - datetime.timedelta(days=1)).isoformat(),
            },
        )
        assert response.status_code == 422
        assert "before it starts" in response.content.decode()
        assert not models.BreathingSpace.objects.exists()
