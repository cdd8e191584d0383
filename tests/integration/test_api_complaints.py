"""The API's complaints and breathing-space endpoints: roles, answers, refusals and audit."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from accord.audit import models as audit_models
from accord.domain.access import Role
from accord.storage import models
from accord.usecases import api_tokens
from accord.web.api.api import api
from tests.integration import manager_data as data

WORKERS = {Role.AGENT, Role.TEAM_LEAD, Role.ADMIN}
ENDPOINTS = ["/complaints", "/customers/{id}/breathing-spaces"]


@pytest.fixture(autouse=True)
def _static_root() -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


class Caller:
    def __init__(self, client: Client, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            f"/api/v1{path}",
            json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )


@pytest.fixture
def as_role(client: Client) -> Callable[..., Caller]:
    def caller(*roles: Role) -> Caller:
        username = "-".join(role.value for role in roles) or "norole"
        user = User.objects.create(username=username)
        user.groups.set([Group.objects.get(name=role.value) for role in roles])
        token = api_tokens.issue_api_token(user=user, name="t", actor="test", now=data.NOW)
        return Caller(client, token)

    return caller


@pytest.fixture
def account() -> models.Account:
    return data.account("EUR", name="Ana García")


def detail(response: Any) -> list[tuple[str, str]]:
    return [(item["field"], item["reason"]) for item in response.json()["detail"]]


class TestRoles:
    @pytest.mark.parametrize("path", ENDPOINTS)
    @pytest.mark.parametrize("role", list(Role))
    def test_only_those_who_work_accounts_may_record(
        self, as_role: Callable[..., Caller], role: Role, path: str, account: models.Account
    ) -> None:
        response = as_role(role).post(path.format(id=account.customer_id), {})
        if role in WORKERS:
            assert response.status_code == 422, response.content
        else:
            assert response.status_code == 403
            assert "permission" in response.json()["detail"]

    @pytest.mark.parametrize("path", ENDPOINTS)
    def test_no_token_is_401_and_no_role_is_403(
        self, client: Client, as_role: Callable[..., Caller], path: str
    ) -> None:
        concrete = path.format(id=1)
        assert (
            client.post(f"/api/v1{concrete}", "{}", content_type="application/json").status_code
            == 401
        )
        assert as_role().post(concrete, {}).status_code == 403

    def test_the_schema_declares_both_operations_and_their_errors(self) -> None:
        schema = api.get_openapi_schema(path_prefix="/api/v1")
        paths = {
            re.sub(r"\{[a-z_]+\}", "{id}", p.removeprefix("/api/v1")): item
            for p, item in schema["paths"].items()
        }
        for path in ENDPOINTS:
            responses = set(paths[path]["post"]["responses"])
            assert {201, 401, 403, 422} <= responses


class TestComplaints:
    def test_a_complaint_is_recorded_and_audited_without_its_summary(
        self, as_role: Callable[..., Caller], account: models.Account
    ) -> None:
        response = as_role(Role.AGENT).post(
            "/complaints",
            {
                "customer_id": account.customer_id,
                "account_id": account.pk,
                "category": "CONTACT",
                "summary": "Four texts in one day.",
                "received_via": "CALL",
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["customer_id"], body["account_id"], body["category"]) == (
            account.customer_id,
            account.pk,
            "CONTACT",
        )
        assert body["recorded_by"] == "user:agent"
        event = audit_models.AuditEvent.objects.get(event_type="COMPLAINT_RECORDED")
        assert event.parameters["complaint_id"] == body["id"]
        assert "texts" not in json.dumps(event.parameters)

    def test_an_earlier_receipt_time_is_kept(
        self, as_role: Callable[..., Caller], account: models.Account
    ) -> None:
        response = as_role(Role.AGENT).post(
            "/complaints",
            {
                "customer_id": account.customer_id,
                "category": "AMOUNT",
                "summary": "The fee is wrong.",
                "received_at": "2026-01-05T10:00:00+01:00",
            },
        )
        assert response.status_code == 201
        assert response.json()["received_at"].startswith("2026-01-05T09:00:00")

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"summary": "   "}, "summary"),
            ({"customer_id": 999_999}, "customer_id"),
            ({"received_at": "2999-01-01T00:00:00+00:00"}, "received_at"),
            ({"received_at": "2026-01-01T00:00:00"}, "received_at"),
            ({"received_at": "0001-01-01T00:00:00+14:00"}, "received_at"),
        ],
    )
    def test_bad_input_is_refused_by_field(
        self,
        as_role: Callable[..., Caller],
        account: models.Account,
        change: dict[str, Any],
        field: str,
    ) -> None:
        body = {"customer_id": account.customer_id, "category": "OTHER", "summary": "x", **change}
        response = as_role(Role.AGENT).post("/complaints", body)
        assert response.status_code == 422
        assert [f for f, _ in detail(response)] == [field]
        assert not models.Complaint.objects.exists()

    def test_another_customers_account_is_refused(
        self, as_role: Callable[..., Caller], account: models.Account
    ) -> None:
        other = data.account("EUR", name="Someone Else")
        response = as_role(Role.AGENT).post(
            "/complaints",
            {
                "customer_id": account.customer_id,
                "account_id": other.pk,
                "category": "OTHER",
                "summary": "x",
            },
        )
        assert response.status_code == 422
        assert detail(response)[0][0] == "account_id"


class TestBreathingSpaces:
    def test_a_standard_breathing_space_is_recorded_for_sixty_days(
        self, as_role: Callable[..., Caller], account: models.Account
    ) -> None:
        today = timezone.localdate()
        response = as_role(Role.TEAM_LEAD).post(
            f"/customers/{account.customer_id}/breathing-spaces",
            {"kind": "STANDARD", "starts_on": today.isoformat(), "reference": "BS-1"},
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["ends_on"] == (today + datetime.timedelta(days=60)).isoformat()
        assert body["reference"] == "BS-1"
        assert (
            audit_models.AuditEvent.objects.filter(event_type="BREATHING_SPACE_RECORDED").count()
            == 1
        )

    def test_an_unknown_customer_is_404(self, as_role: Callable[..., Caller]) -> None:
        response = as_role(Role.AGENT).post(
            "/customers/999999/breathing-spaces", {"kind": "STANDARD", "starts_on": "2026-11-25"}
        )
        assert response.status_code == 404

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"kind": "STANDARD", "starts_on": "2026-11-25", "ends_on": "2026-11-01"}, "ends_on"),
            ({"kind": "STANDARD", "starts_on": "9999-12-31"}, "starts_on"),
        ],
    )
    def test_impossible_dates_are_refused(
        self,
        as_role: Callable[..., Caller],
        account: models.Account,
        body: dict[str, Any],
        field: str,
    ) -> None:
        response = as_role(Role.AGENT).post(
            f"/customers/{account.customer_id}/breathing-spaces", body
        )
        assert response.status_code == 422
        assert [f for f, _ in detail(response)] == [field]
