"""The API's promises, contact attempts, strategy runs and account decisions: roles and answers."""

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

ALL = set(Role)
WORKERS = {Role.AGENT, Role.TEAM_LEAD, Role.ADMIN}
MESSAGE_READERS = {Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN, Role.AUDITOR}
STRATEGISTS = {Role.MANAGER, Role.ADMIN}
# (method, path, who may, a body a permitted caller gets 422 for)
ENDPOINTS: list[tuple[str, str, set[Role]]] = [
    ("GET", "/promises", ALL),
    ("GET", "/promises/{id}", ALL),
    ("POST", "/promises", WORKERS),
    ("GET", "/contact-attempts", MESSAGE_READERS),
    ("GET", "/contact-attempts/{id}", MESSAGE_READERS),
    ("GET", "/strategy-runs", ALL),
    ("GET", "/strategy-runs/{id}", ALL),
    ("POST", "/strategy-runs", STRATEGISTS),
    ("GET", "/accounts/{id}/decisions", ALL),
    ("GET", "/strategy-versions", ALL),
    ("GET", "/strategy-versions/{id}", ALL),
    ("POST", "/strategy-versions", STRATEGISTS),
    ("POST", "/strategy-versions/{id}/activate", STRATEGISTS),
]
INVALID_BODY: dict[str, Any] = {
    "/promises": {},
    "/strategy-runs": {"as_of": "not a date"},
    "/strategy-versions": {"source": ""},
    "/strategy-versions/{id}/activate": {},
}


@pytest.fixture(autouse=True)
def _static_root() -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


class Caller:
    """Call the API as one token holder."""

    def __init__(self, client: Client, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            f"/api/v1{path}",
            json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )


@pytest.fixture
def as_role(client: Client) -> Callable[..., Caller]:
    def caller(*roles: Role, name: str | None = None) -> Caller:
        username = name or "-".join(role.value for role in roles) or "norole"
        user = User.objects.create(username=username)
        user.groups.set([Group.objects.get(name=role.value) for role in roles])
        token = api_tokens.issue_api_token(user=user, name="t", actor="test", now=data.NOW)
        return Caller(client, token)

    return caller


def today() -> datetime.date:
    return timezone.localdate()


def ids(response: Any) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


def detail(response: Any) -> list[tuple[str, str]]:
    return [(item["field"], item["reason"]) for item in response.json()["detail"]]


# --- The role matrix ---------------------------------------------------------------------


class TestRoles:
    @pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS)
    @pytest.mark.parametrize("role", list(Role))
    def test_every_endpoint_checks_the_role(
        self,
        as_role: Callable[..., Caller],
        role: Role,
        method: str,
        path: str,
        allowed: set[Role],
    ) -> None:
        caller = as_role(role)
        concrete = path.format(id=999)
        response = (
            caller.get(concrete) if method == "GET" else caller.post(concrete, INVALID_BODY[path])
        )
        if role in allowed:
            # Activating version 999 (a POST without a body) finds no such version.
            expected = 404 if "{id}" in path else {"GET": 200, "POST": 422}[method]
            assert response.status_code == expected, response.content
        else:
            assert response.status_code == 403
            assert "permission" in response.json()["detail"]

    @pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS)
    def test_no_token_is_401_and_no_role_is_403(
        self,
        client: Client,
        as_role: Callable[..., Caller],
        method: str,
        path: str,
        allowed: set[Role],
    ) -> None:
        concrete = path.format(id=1)
        anonymous = (
            client.get(f"/api/v1{concrete}")
            if method == "GET"
            else client.post(f"/api/v1{concrete}", "{}", content_type="application/json")
        )
        assert anonymous.status_code == 401
        nobody = as_role()
        response = nobody.get(concrete) if method == "GET" else nobody.post(concrete, {})
        assert response.status_code == 403

    def test_the_matrix_covers_every_new_operation_and_the_schema_declares_their_errors(
        self,
    ) -> None:
        schema = api.get_openapi_schema(path_prefix="/api/v1")
        documented = {
            (method.upper(), re.sub(r"\{[a-z_]+\}", "{id}", path.removeprefix("/api/v1")))
            for path, item in schema["paths"].items()
            for method in item
        }
        assert {(method, path) for method, path, _ in ENDPOINTS} <= documented
        for path, item in schema["paths"].items():
            for method, operation in item.items():
                if path.startswith(("/api/v1/promises", "/api/v1/strategy-runs")) or (
                    "contact-attempts" in path or path.endswith("/decisions")
                ):
                    assert {401, 403, 422} <= set(operation["responses"]), (method, path)
                    if method == "post":
                        assert {201, 409, 413} <= set(operation["responses"])


# --- Promises ------------------------------------------------------------------------------


@pytest.fixture
def owing() -> models.Account:
    """An EUR account owing 100.00, whose customer has an email address for confirmations."""
    owner = data.account("EUR")
    models.ContactPoint.objects.create(
        customer=owner.customer, kind=models.ContactPointKind.EMAIL, value="ana@example.com"
    )
    data.charge(owner, "100.00", today() - datetime.timedelta(days=20))
    return owner


class TestTakingPromises:
    def test_an_agent_takes_a_promise_which_is_audited_and_confirmed(
        self, as_role: Callable[..., Caller], owing: models.Account
    ) -> None:
        due = today() + datetime.timedelta(days=7)
        response = as_role(Role.AGENT, name="ana-agent").post(
            "/promises",
            {
                "account_id": owing.pk,
                "amount": "40.00",
                "currency": "EUR",
                "promised_date": due.isoformat(),
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["amount"] == {"amount": "40.00", "currency": "EUR"}
        assert (body["status"], body["source"], body["created_by"]) == (
            "OPEN",
            "API",
            "user:ana-agent",
        )
        assert body["promised_date"] == due.isoformat()
        assert body["account_ref"] == owing.external_ref
        event = audit_models.AuditEvent.objects.get(event_type="PROMISE_RECORDED")
        assert event.parameters["promise_id"] == body["id"]
        confirmation = models.ContactAttempt.objects.get(idempotency_key=f"promise:{body['id']}")
        assert confirmation.origin == models.ContactOrigin.API

    @pytest.mark.parametrize(
        ("change", "status", "field"),
        [
            ({"amount": "100.01"}, 422, "amount"),
            ({"amount": "0"}, 422, "amount"),
            ({"amount": "-5"}, 422, "amount"),
            ({"amount": "12.345"}, 422, "amount"),
            ({"amount": "1,000"}, 422, "amount"),
            ({"currency": "USD"}, 422, "currency"),
            ({"currency": "XXZ"}, 422, "currency"),
            ({"promised_date": "2001-01-01"}, 422, "promised_date"),
            ({"account_id": 999_999}, 422, "account_id"),
        ],
    )
    def test_a_refused_promise_names_the_field_and_writes_nothing(
        self,
        as_role: Callable[..., Caller],
        owing: models.Account,
        change: dict[str, Any],
        status: int,
        field: str,
    ) -> None:
        body = {
            "account_id": owing.pk,
            "amount": "40.00",
            "currency": "EUR",
            "promised_date": (today() + datetime.timedelta(days=3)).isoformat(),
            **change,
        }
        response = as_role(Role.AGENT).post("/promises", body)
        assert response.status_code == status, response.content
        assert [f for f, _ in detail(response)] == [field]
        assert not models.Promise.objects.exists()

    def test_a_date_more_than_30_days_ahead_is_refused(
        self, as_role: Callable[..., Caller], owing: models.Account
    ) -> None:
        far = today() + datetime.timedelta(days=31)
        response = as_role(Role.AGENT).post(
            "/promises",
            {
                "account_id": owing.pk,
                "amount": "1.00",
                "currency": "EUR",
                "promised_date": far.isoformat(),
            },
        )
        assert response.status_code == 422
        assert detail(response)[0][0] == "promised_date"

    def test_a_second_open_promise_is_a_conflict(
        self, as_role: Callable[..., Caller], owing: models.Account
    ) -> None:
        agent = as_role(Role.AGENT)
        body = {
            "account_id": owing.pk,
            "amount": "10.00",
            "currency": "EUR",
            "promised_date": today().isoformat(),
        }
        assert agent.post("/promises", body).status_code == 201
        second = agent.post("/promises", body)
        assert second.status_code == 409
        assert detail(second) == [
            ("account_id", "This account already has an open promise to pay.")
        ]

    def test_a_closed_account_is_a_conflict(
        self, as_role: Callable[..., Caller], owing: models.Account
    ) -> None:
        models.Account.objects.filter(pk=owing.pk).update(status=models.AccountStatus.CLOSED)
        response = as_role(Role.AGENT).post(
            "/promises",
            {
                "account_id": owing.pk,
                "amount": "10.00",
                "currency": "EUR",
                "promised_date": today().isoformat(),
            },
        )
        assert response.status_code == 409

    @pytest.mark.parametrize(
        "body",
        [
            {"amount": 10, "currency": "EUR", "promised_date": "2026-12-01", "account_id": 1},
            {
                "amount": "10",
                "currency": "EUR",
                "promised_date": "2026-12-01",
                "account_id": 1,
                "note": "extra",
            },
            {"amount": "10", "currency": "EUR", "account_id": 1},
        ],
    )
    def test_numbers_for_amounts_unknown_and_missing_properties_are_422(
        self, as_role: Callable[..., Caller], body: dict[str, Any]
    ) -> None:
        assert as_role(Role.AGENT).post("/promises", body).status_code == 422


class TestReadingPromises:
    def test_lists_filter_by_status_account_source_and_dates(
        self, as_role: Callable[..., Caller]
    ) -> None:
        first, second = data.account("EUR"), data.account("USD")
        kept = data.promise(first, "10.00", datetime.date(2026, 11, 3), "KEPT")
        broken = data.promise(first, "20.00", datetime.date(2026, 11, 20), "BROKEN")
        other = data.promise(second, "30.00", datetime.date(2026, 12, 1), "OPEN")
        reader = as_role(Role.AUDITOR)
        assert ids(reader.get("/promises")) == [kept.pk, broken.pk, other.pk]
        assert ids(reader.get("/promises", status="KEPT")) == [kept.pk]
        assert ids(reader.get("/promises", account_id=second.pk)) == [other.pk]
        assert ids(reader.get("/promises", source="API")) == []
        window = reader.get("/promises", due_from="2026-11-03", due_to="2026-11-20")
        assert ids(window) == [kept.pk, broken.pk]
        assert reader.get("/promises", status="MAYBE").status_code == 422

    def test_one_promise_reads_as_in_the_list(self, as_role: Callable[..., Caller]) -> None:
        promise = data.promise(data.account("EUR"), "12.50", datetime.date(2026, 11, 3), "OPEN")
        reader = as_role(Role.AGENT)
        one = reader.get(f"/promises/{promise.pk}").json()
        assert one == reader.get("/promises").json()["items"][0]
        assert one["amount"] == {"amount": "12.50", "currency": "EUR"}
        assert reader.get("/promises/999").json() == {"detail": "promise 999 does not exist"}


# --- Contact attempts ----------------------------------------------------------------------


@pytest.fixture
def outbox() -> dict[str, models.ContactAttempt]:
    run = data.run(datetime.date(2026, 11, 24))
    eur, usd = data.account("EUR"), data.account("USD")
    late = data.decision(
        run,
        eur,
        bucket="DPD_1_30",
        dpd=9,
        arrears="9.00",
        balance="9.00",
        treatment=models.Treatment.LATE_NOTICE,
    )
    call = data.decision(
        run,
        usd,
        bucket="DPD_31_60",
        dpd=40,
        arrears="9.00",
        balance="9.00",
        treatment=models.Treatment.CALL_TASK,
    )
    return {
        "sent": data.contact(late, models.ContactStatus.SENT),
        "blocked": data.contact(late, models.ContactStatus.BLOCKED),
        "call": data.contact(call, models.ContactStatus.PLANNED, channel=models.Channel.CALL),
    }


class TestContactAttempts:
    def test_the_outbox_filters_by_status_channel_customer_account_and_run(
        self, as_role: Callable[..., Caller], outbox: dict[str, models.ContactAttempt]
    ) -> None:
        reader = as_role(Role.MANAGER)
        sent, blocked, call = outbox["sent"], outbox["blocked"], outbox["call"]
        assert ids(reader.get("/contact-attempts")) == [sent.pk, blocked.pk, call.pk]
        assert ids(reader.get("/contact-attempts", status="BLOCKED")) == [blocked.pk]
        assert ids(reader.get("/contact-attempts", channel="CALL")) == [call.pk]
        assert ids(reader.get("/contact-attempts", customer_id=call.customer_id)) == [call.pk]
        assert ids(reader.get("/contact-attempts", account_id=sent.account_id)) == [
            sent.pk,
            blocked.pk,
        ]
        assert ids(reader.get("/contact-attempts", run_id=sent.run_id, limit=1)) == [sent.pk]
        assert reader.get("/contact-attempts", channel="PIGEON").status_code == 422

    def test_one_attempt_shows_what_was_sent(
        self, as_role: Callable[..., Caller], outbox: dict[str, models.ContactAttempt]
    ) -> None:
        sent = outbox["sent"]
        body = as_role(Role.AUDITOR).get(f"/contact-attempts/{sent.pk}").json()
        assert (body["status"], body["channel"], body["subject"], body["body"]) == (
            "SENT",
            "EMAIL",
            "Your account",
            "Dear Ana, ...",
        )
        assert body["decision_id"] == sent.decision_id
        assert body["has_document"] is False

    def test_an_agent_cannot_read_the_outbox(
        self, as_role: Callable[..., Caller], outbox: dict[str, models.ContactAttempt]
    ) -> None:
        agent = as_role(Role.AGENT)
        assert agent.get("/contact-attempts").status_code == 403
        assert agent.get(f"/contact-attempts/{outbox['sent'].pk}").status_code == 403


# --- Strategy runs and decisions -----------------------------------------------------------


class TestReadingRuns:
    def test_runs_list_in_id_order_filter_by_status_and_read_one(
        self, as_role: Callable[..., Caller]
    ) -> None:
        done = data.run(datetime.date(2026, 11, 23), accounts=4, contacts_planned=2)
        failed = data.run(datetime.date(2026, 11, 24), status=models.RunStatus.FAILED)
        reader = as_role(Role.AGENT)
        assert ids(reader.get("/strategy-runs")) == [done.pk, failed.pk]
        assert ids(reader.get("/strategy-runs", status="FAILED")) == [failed.pk]
        one = reader.get(f"/strategy-runs/{done.pk}").json()
        assert (one["as_of_date"], one["status"], one["accounts"], one["contacts_planned"]) == (
            "2026-11-23",
            "COMPLETED",
            4,
            2,
        )
        assert one["strategy_version"] == "v1-test"


class TestStartingRuns:
    def test_a_manager_starts_a_run_and_gets_the_finished_run(
        self, as_role: Callable[..., Caller], owing: models.Account
    ) -> None:
        response = as_role(Role.MANAGER, name="mara").post("/strategy-runs", {})
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["status"], body["as_of_date"], body["started_by"]) == (
            "COMPLETED",
            today().isoformat(),
            "user:mara",
        )
        assert (body["accounts"], body["decisions"]) == (1, 1)
        assert body["finished_at"] is not None
        decisions = as_role(Role.AGENT).get(f"/accounts/{owing.pk}/decisions").json()["items"]
        assert [d["run_id"] for d in decisions] == [body["id"]]
        assert decisions[0]["reason_codes"]

    def test_a_run_while_another_is_running_is_a_conflict(
        self, as_role: Callable[..., Caller]
    ) -> None:
        running = data.run(today(), status=models.RunStatus.RUNNING)
        models.StrategyRun.objects.filter(pk=running.pk).update(started_at=timezone.now())
        response = as_role(Role.MANAGER).post("/strategy-runs", {})
        assert response.status_code == 409
        ((field, reason),) = detail(response)
        assert field == "body"
        assert "in progress" in reason or "started" in reason
        assert models.StrategyRun.objects.count() == 1

    def test_a_back_dated_run_is_a_conflict_naming_as_of(
        self, as_role: Callable[..., Caller]
    ) -> None:
        data.run(today())
        earlier = today() - datetime.timedelta(days=1)
        response = as_role(Role.ADMIN).post("/strategy-runs", {"as_of": earlier.isoformat()})
        assert response.status_code == 409
        assert [field for field, _ in detail(response)] == ["as_of"]
        assert models.StrategyRun.objects.count() == 1

    def test_a_future_dated_run_is_a_conflict_naming_as_of(
        self, as_role: Callable[..., Caller]
    ) -> None:
        tomorrow = today() + datetime.timedelta(days=1)
        response = as_role(Role.ADMIN).post("/strategy-runs", {"as_of": tomorrow.isoformat()})
        assert response.status_code == 409
        ((field, reason),) = detail(response)
        assert field == "as_of"
        assert "after today" in reason
        assert not models.StrategyRun.objects.exists()


class TestDecisions:
    def test_an_accounts_decisions_come_newest_first_with_reasons_and_version(
        self, as_role: Callable[..., Caller]
    ) -> None:
        owner, other = data.account("EUR"), data.account("EUR")
        older, newer = data.run(datetime.date(2026, 11, 23)), data.run(datetime.date(2026, 11, 24))
        first = data.decision(
            older,
            owner,
            bucket="DPD_1_30",
            dpd=29,
            arrears="50.00",
            balance="80.00",
            treatment=models.Treatment.LATE_NOTICE,
            reasons=["DPD_1_30", "LATE_NOTICE_DUE"],
        )
        second = data.decision(
            newer,
            owner,
            bucket="DPD_31_60",
            dpd=30 + 1,
            arrears="50.00",
            balance="80.00",
            treatment=models.Treatment.CALL_TASK,
            reasons=["STAGE_MID"],
        )
        data.decision(newer, other, bucket="CURRENT", dpd=0, arrears="0.00", balance="1.00")
        response = as_role(Role.AGENT).get(f"/accounts/{owner.pk}/decisions")
        assert response.status_code == 200
        items = response.json()["items"]
        assert [item["id"] for item in items] == [second.pk, first.pk]
        assert items[1]["reason_codes"] == ["DPD_1_30", "LATE_NOTICE_DUE"]
        assert items[1]["strategy_version"] == "v1-test"
        assert items[0]["arrears"] == {"amount": "50.00", "currency": "EUR"}
        assert (items[0]["treatment"], items[0]["days_past_due"], items[0]["run_id"]) == (
            "CALL_TASK",
            31,
            newer.pk,
        )
        paged = as_role(Role.AUDITOR).get(f"/accounts/{owner.pk}/decisions", limit=1, offset=1)
        assert (ids(paged), paged.json()["count"]) == ([first.pk], 2)

    def test_an_account_without_decisions_has_an_empty_list_and_an_unknown_one_404(
        self, as_role: Callable[..., Caller]
    ) -> None:
        owner = data.account("EUR")
        reader = as_role(Role.AGENT)
        assert reader.get(f"/accounts/{owner.pk}/decisions").json()["items"] == []
        missing = reader.get("/accounts/999999/decisions")
        assert missing.status_code == 404
        assert missing.json() == {"detail": "account 999999 does not exist"}
