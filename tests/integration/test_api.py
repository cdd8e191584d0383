"""The HTTP API: bearer tokens, roles on every endpoint, lists, creates and error shapes."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.test import Client

from accord.audit import models as audit_models
from accord.domain.access import Role
from accord.storage import models
from accord.usecases import api_tokens, import_portfolio
from accord.web.api import auth
from accord.web.api.api import api
from tests.integration import portfolio
from tests.integration.test_api_complaints import ENDPOINTS as RECORD_ENDPOINTS
from tests.integration.test_api_complaints import WORKERS as RECORDERS
from tests.integration.test_api_issue4 import ENDPOINTS as ISSUE4_ENDPOINTS

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
IMPORTED_AT = NOW - timedelta(hours=1)
Kind = import_portfolio.RecordKind


@pytest.fixture(autouse=True)
def _static_root(settings: Any) -> None:
    """Give WhiteNoise its folder, which it warns about (an error here) when missing."""
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def make_user(name: str, *roles: Role, active: bool = True) -> User:
    # No password: API users authenticate with tokens (and hashing one is slow).
    user = User.objects.create(username=name, is_active=active)
    user.groups.set([Group.objects.get(name=r.value) for r in roles])
    return user


def issue(user: User) -> str:
    return api_tokens.issue_api_token(user=user, name="tests", actor="test", now=NOW)


class Caller:
    """Call the API as one token holder."""

    def __init__(self, client: Client, token: str | None) -> None:
        self.client = client
        self.headers = {} if token is None else {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return self.client.post(
            f"/api/v1{path}", data, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def as_role(client: Client) -> Callable[[Role], Caller]:
    def caller(role: Role) -> Caller:
        return Caller(client, issue(make_user(f"{role.value}-user", role)))

    return caller


@pytest.fixture
def admin(as_role: Callable[[Role], Caller]) -> Caller:
    return as_role(Role.ADMIN)


@pytest.fixture
def manager(as_role: Callable[[Role], Caller]) -> Caller:
    return as_role(Role.MANAGER)


@pytest.fixture
def loaded(tmp_path: Path) -> None:
    for kind, text in [
        (Kind.CUSTOMERS, portfolio.CUSTOMERS),
        (Kind.ACCOUNTS, portfolio.ACCOUNTS),
        (Kind.CHARGES, portfolio.CHARGES),
        (Kind.PAYMENTS, portfolio.PAYMENTS),
    ]:
        path = portfolio.write(tmp_path, f"{kind.value}.csv", text)
        import_portfolio.import_file(kind=kind, path=path, actor="test", now=IMPORTED_AT)


def fields(response: Any) -> set[str]:
    return {item["field"] for item in response.json()["detail"]}


def reasons(response: Any) -> dict[str, str]:
    return {item["field"]: item["reason"] for item in response.json()["detail"]}


CUSTOMER = {
    "external_ref": "C9",
    "debtor_type": "consumer",
    "name": "Carla Ruiz",
    "country": "ES",
    "phones": ["+34 612 000 111", "+34 612 000 222"],
    "emails": "carla@example.com",
    "contact_hours_start": "09:00",
    "contact_hours_end": "20:00",
    "preferred_channel": "EMAIL",
}
ACCOUNT = {
    "external_ref": "A9",
    "customer_ref": "C1",
    "product_type": "LOAN",
    "currency": "EUR",
    "credit_limit": "2500",
    "opened_date": "2025-03-01",
}
CHARGE = {
    "external_ref": "CH9",
    "account_ref": "A1",
    "kind": "FEE",
    "amount": "12.5",
    "currency": "EUR",
    "due_date": "2026-10-01",
}
PAYMENT = {
    "external_ref": "P9",
    "account_ref": "A1",
    "amount": "75.25",
    "currency": "EUR",
    "received_date": "2026-09-20",
    "method": "BANK_TRANSFER",
}


class TestTokens:
    def test_issuing_stores_only_the_hash_and_audits_it(self) -> None:
        user = make_user("alice", Role.ADMIN)
        token = api_tokens.issue_api_token(user=user, name="laptop", actor="cli:ops", now=NOW)
        row = models.ApiToken.objects.get(user=user)
        assert token.startswith("acc_")
        assert len(token) > 40
        assert row.key_hash == hashlib.sha256(token.encode()).hexdigest()
        assert row.prefix == token[:8]
        assert row.name == "laptop"
        assert token not in json.dumps(list(models.ApiToken.objects.values_list()), default=str)
        event = audit_models.AuditEvent.objects.get(event_type="API_TOKEN_ISSUED")
        assert (event.subject_type, event.subject_id, event.actor) == (
            "user",
            str(user.pk),
            "cli:ops",
        )
        assert event.parameters == {"token_id": row.pk, "name": "laptop", "prefix": row.prefix}

    def test_each_token_is_different(self) -> None:
        user = make_user("alice", Role.ADMIN)
        assert issue(user) != issue(user)

    def test_an_inactive_user_gets_no_token(self) -> None:
        user = make_user("gone", Role.ADMIN, active=False)
        with pytest.raises(api_tokens.InactiveUser, match="inactive"):
            issue(user)
        assert not models.ApiToken.objects.exists()
        assert not audit_models.AuditEvent.objects.exists()

    def test_an_empty_name_is_refused(self) -> None:
        with pytest.raises(api_tokens.InvalidTokenName):
            api_tokens.issue_api_token(
                user=make_user("alice", Role.ADMIN), name="  ", actor="test", now=NOW
            )

    def test_the_cli_prints_a_working_token_once(self, client: Client) -> None:
        make_user("alice", Role.AGENT)
        out, err = io.StringIO(), io.StringIO()
        call_command(
            "token", "issue", "--user", "alice", "--name", "laptop", stdout=out, stderr=err
        )
        token = out.getvalue().strip()
        assert token.startswith("acc_")
        assert "cannot be shown again" in err.getvalue()
        assert Caller(client, token).get("/customers").status_code == 200
        assert models.ApiToken.objects.get().name == "laptop"

    @pytest.mark.parametrize("username", ["nobody", "gone"])
    def test_the_cli_refuses_unknown_and_inactive_users(self, username: str) -> None:
        make_user("gone", Role.ADMIN, active=False)
        with pytest.raises(CommandError, match=username):
            call_command("token", "issue", "--user", username, stdout=io.StringIO())


class TestAuthentication:
    @pytest.mark.parametrize(
        "header",
        [
            None,
            "",
            "Bearer",
            "Bearer ",
            "Bearer acc_wrong",
            "Token {token}",
            "Basic {token}",
            "{token}",
        ],
    )
    def test_a_missing_or_wrong_token_is_401(self, client: Client, header: str | None) -> None:
        token = issue(make_user("alice", Role.ADMIN))
        headers = {} if header is None else {"Authorization": header.format(token=token)}
        response = client.get("/api/v1/customers", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Bearer" in response.json()["detail"]

    def test_a_revoked_token_is_401(self, client: Client) -> None:
        token = issue(make_user("alice", Role.ADMIN))
        assert Caller(client, token).get("/customers").status_code == 200
        api_tokens.revoke_api_token(prefix=token[:8], actor="user:admin", now=NOW)
        assert Caller(client, token).get("/customers").status_code == 401
        event = audit_models.AuditEvent.objects.latest("pk")
        assert event.event_type == "API_TOKEN_REVOKED"

    def test_a_deactivated_users_token_is_401(self, client: Client) -> None:
        user = make_user("alice", Role.ADMIN)
        token = issue(user)
        User.objects.filter(pk=user.pk).update(is_active=False)
        assert Caller(client, token).get("/customers").status_code == 401

    def test_a_valid_token_works_and_its_use_is_noted(self, client: Client) -> None:
        token = issue(make_user("alice", Role.AGENT))
        assert Caller(client, token).get("/customers").status_code == 200
        assert models.ApiToken.objects.get().last_used_at is not None

    def test_the_schema_is_public_and_lists_the_bearer_scheme(self, client: Client) -> None:
        schema = client.get("/api/v1/openapi.json").json()
        assert schema["components"]["securitySchemes"]["BearerToken"] == {
            "type": "http",
            "scheme": "bearer",
        }


VIEWERS = {Role.AGENT, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN, Role.AUDITOR}
CREATORS = {Role.MANAGER, Role.ADMIN}
AUDIT_READERS = {Role.AUDITOR, Role.ADMIN}
ENDPOINTS: list[tuple[str, str, set[Role]]] = [
    ("GET", "/customers", VIEWERS),
    ("GET", "/customers/{id}", VIEWERS),
    ("POST", "/customers", CREATORS),
    ("GET", "/accounts", VIEWERS),
    ("GET", "/accounts/{id}", VIEWERS),
    ("POST", "/accounts", CREATORS),
    ("GET", "/charges", VIEWERS),
    ("GET", "/charges/{id}", VIEWERS),
    ("POST", "/charges", CREATORS),
    ("GET", "/payments", VIEWERS),
    ("GET", "/payments/{id}", VIEWERS),
    ("POST", "/payments", CREATORS),
    ("GET", "/audit-events", AUDIT_READERS),
    ("GET", "/audit-events/{id}", AUDIT_READERS),
]


class TestRoles:
    @pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS)
    @pytest.mark.parametrize("role", list(Role))
    def test_every_endpoint_checks_the_role(
        self,
        as_role: Callable[[Role], Caller],
        role: Role,
        method: str,
        path: str,
        allowed: set[Role],
    ) -> None:
        caller = as_role(role)
        template, path = path, path.format(id=999)
        # An empty body is invalid: a permitted caller gets 422, a forbidden one 403 first.
        response = caller.get(path) if method == "GET" else caller.post(path, {})
        if role in allowed:
            expected = {"GET": 404 if "{id}" in template else 200, "POST": 422}[method]
            assert response.status_code == expected
        else:
            assert response.status_code == 403
            assert "permission" in response.json()["detail"]

    @pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS)
    def test_a_user_without_a_role_may_do_nothing(
        self, client: Client, method: str, path: str, allowed: set[Role]
    ) -> None:
        caller = Caller(client, issue(make_user("norole")))
        path = path.format(id=1)
        response = caller.get(path) if method == "GET" else caller.post(path, CUSTOMER)
        assert response.status_code == 403

    def test_the_matrix_covers_every_operation_and_each_declares_a_permission(self) -> None:
        schema = api.get_openapi_schema(path_prefix="/api/v1")
        documented = {
            (method.upper(), re.sub(r"\{[a-z_]+\}", "{id}", path.removeprefix("/api/v1")))
            for path, item in schema["paths"].items()
            for method in item
        }
        # Issue 4's and the complaint/breathing-space roles are tested in their own modules.
        every = ENDPOINTS + ISSUE4_ENDPOINTS + [("POST", p, RECORDERS) for p in RECORD_ENDPOINTS]
        assert documented == {(method, path) for method, path, _ in every}
        operations = [
            operation
            for _prefix, router in api._routers
            for path_operation in router.path_operations.values()
            for operation in path_operation.operations
        ]
        assert len(operations) == len(every)
        for operation in operations:
            assert operation.auth_callbacks, operation.view_func.__name__
            assert all(isinstance(a, auth.BearerToken) for a in operation.auth_callbacks)


@pytest.mark.usefixtures("loaded")
class TestReading:
    def test_customers_carry_contact_points_time_zones_and_hours(self, admin: Caller) -> None:
        body = admin.get("/customers").json()
        assert body["count"] == 2
        assert (body["limit"], body["offset"]) == (50, 0)
        bob = next(c for c in body["items"] if c["external_ref"] == "C2")
        assert bob["phones"] == ["+15122345678"]
        assert bob["emails"] == ["bob@example.com"]
        assert bob["time_zones"] == ["America/Chicago"]
        assert bob["time_zone_source"] == "ADDRESS_AND_PHONE"
        assert bob["time_zone"] is None
        assert bob["preferred_channel"] is None
        assert bob["contact_hours"] is None
        assert bob["date_of_birth"] == "1975-05-01"

    def test_one_customer_by_id(self, admin: Caller) -> None:
        ana = models.Customer.objects.get(external_ref="C1")
        body = admin.get(f"/customers/{ana.pk}").json()
        assert (body["id"], body["name"], body["country"]) == (ana.pk, "Ana García", "ES")

    def test_money_is_a_decimal_string_with_its_currency(self, admin: Caller) -> None:
        a1 = admin.get("/accounts", external_ref="A1").json()["items"][0]
        assert a1["credit_limit"] == {"amount": "1500.00", "currency": "EUR"}
        assert a1["customer_ref"] == "C1"
        a2 = admin.get("/accounts", external_ref="A2").json()["items"][0]
        assert a2["credit_limit"] is None
        ch1 = admin.get("/charges", external_ref="CH1").json()["items"][0]
        assert ch1["amount"] == {"amount": "120.50", "currency": "EUR"}
        assert ch1["account_ref"] == "A1"
        p1 = admin.get("/payments").json()["items"][0]
        assert p1["amount"] == {"amount": "50.00", "currency": "EUR"}
        assert (p1["method"], p1["provider_reference"]) == ("CARD", "PSP-1")

    def test_pages_are_stable_and_ordered_by_id(self, admin: Caller) -> None:
        for n in range(5):
            response = admin.post("/customers", {**CUSTOMER, "external_ref": f"X{n}", "phones": []})
            assert response.status_code == 201, response.json()
        all_ids = sorted(models.Customer.objects.values_list("pk", flat=True))
        seen: list[int] = []
        for offset in range(0, 8, 3):
            body = admin.get("/customers", limit=3, offset=offset).json()
            assert (body["count"], body["limit"], body["offset"]) == (7, 3, offset)
            seen += [c["id"] for c in body["items"]]
        assert seen == all_ids
        assert admin.get("/customers", offset=100).json()["items"] == []

    def test_filters_by_reference(self, admin: Caller) -> None:
        assert [
            c["external_ref"] for c in admin.get("/customers", external_ref="C2").json()["items"]
        ] == ["C2"]
        assert admin.get("/customers", external_ref="nope").json() == {
            "items": [],
            "count": 0,
            "limit": 50,
            "offset": 0,
        }
        accounts = admin.get("/accounts", customer_ref="C2").json()["items"]
        assert [a["external_ref"] for a in accounts] == ["A2"]
        charges = admin.get("/charges", account_ref="A2").json()["items"]
        assert [c["external_ref"] for c in charges] == ["CH2"]
        assert admin.get("/payments", account_ref="A2").json()["count"] == 0
        assert admin.get("/payments", account_ref="A1").json()["count"] == 1

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"limit": 0}, "limit"),
            ({"limit": 501}, "limit"),
            ({"limit": "ten"}, "limit"),
            ({"offset": -1}, "offset"),
            ({"offset": 10**20}, "offset"),
            ({"external_ref": "x" * 65}, "external_ref"),
            ({"external_ref": "a\x00b"}, "external_ref"),
        ],
    )
    def test_bad_query_parameters_are_422_with_the_field(
        self, admin: Caller, params: dict[str, Any], field: str
    ) -> None:
        response = admin.get("/customers", **params)
        assert response.status_code == 422
        assert fields(response) == {field}

    def test_limit_500_is_allowed(self, admin: Caller) -> None:
        assert admin.get("/charges", limit=500).json()["limit"] == 500

    @pytest.mark.parametrize("path", ["/customers", "/accounts", "/charges", "/payments"])
    def test_an_unknown_id_is_404_json(self, admin: Caller, path: str) -> None:
        response = admin.get(f"{path}/999999")
        assert response.status_code == 404
        assert "999999 does not exist" in response.json()["detail"]

    @pytest.mark.parametrize("record_id", ["0", "abc", "-3", str(2**64)])
    def test_a_malformed_id_is_422(self, admin: Caller, record_id: str) -> None:
        response = admin.get(f"/customers/{record_id}")
        assert response.status_code == 422
        assert fields(response) == {"customer_id"}


@pytest.mark.usefixtures("loaded")
class TestAuditEvents:
    def test_lists_events_in_order_with_their_chain(
        self, as_role: Callable[[Role], Caller]
    ) -> None:
        body = as_role(Role.AUDITOR).get("/audit-events").json()
        types = [e["event_type"] for e in body["items"]]
        assert types[:4] == [
            "CUSTOMERS_IMPORTED",
            "ACCOUNTS_IMPORTED",
            "CHARGES_IMPORTED",
            "PAYMENTS_IMPORTED",
        ]
        assert types[4:] == ["API_TOKEN_ISSUED"]  # the auditor's own token
        first, second = body["items"][:2]
        assert second["previous_hash"] == first["hash"]
        event = audit_models.AuditEvent.objects.get(pk=first["id"])
        assert as_role(Role.ADMIN).get(f"/audit-events/{event.pk}").json()["hash"] == event.hash

    def test_filters_by_type_subject_and_time(self, admin: Caller) -> None:
        only = admin.get("/audit-events", event_type="API_TOKEN_ISSUED").json()
        assert [e["subject_type"] for e in only["items"]] == ["user"]
        user_id = only["items"][0]["subject_id"]
        by_subject = admin.get("/audit-events", subject_type="user", subject_id=user_id).json()
        assert by_subject["count"] == 1
        occurred = datetime.fromisoformat(only["items"][0]["occurred_at"])
        after = admin.get("/audit-events", occurred_after=occurred.isoformat()).json()
        assert [e["event_type"] for e in after["items"]] == ["API_TOKEN_ISSUED"]
        before = admin.get("/audit-events", occurred_before=occurred.isoformat()).json()
        assert before["count"] == 4
        naive = (occurred + timedelta(seconds=1)).astimezone(UTC).replace(tzinfo=None)
        assert admin.get("/audit-events", occurred_after=naive.isoformat()).json()["count"] == 0

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"event_type": "NOT_A_TYPE"}, "event_type"),
            ({"occurred_after": "yesterday"}, "occurred_after"),
            ({"occurred_before": "0001-01-01T00:00:00+05:00"}, "occurred_before"),
        ],
    )
    def test_bad_filters_are_422(self, admin: Caller, params: dict[str, str], field: str) -> None:
        response = admin.get("/audit-events", **params)
        assert response.status_code == 422
        assert fields(response) == {field}


@pytest.mark.usefixtures("loaded")
class TestCreating:
    @pytest.mark.parametrize(
        ("path", "body", "model", "event_type", "subject_type"),
        [
            ("/customers", CUSTOMER, models.Customer, "CUSTOMER_CREATED", "customer"),
            ("/accounts", ACCOUNT, models.Account, "ACCOUNT_CREATED", "account"),
            ("/charges", CHARGE, models.Charge, "CHARGE_CREATED", "charge"),
            ("/payments", PAYMENT, models.Payment, "PAYMENT_CREATED", "payment"),
        ],
    )
    def test_creates_the_record_with_its_audit_event(
        self,
        manager: Caller,
        path: str,
        body: dict[str, Any],
        model: type[Any],
        event_type: str,
        subject_type: str,
    ) -> None:
        response = manager.post(path, body)
        assert response.status_code == 201, response.json()
        created = response.json()
        row = model.objects.get(external_ref=body["external_ref"])
        assert created["id"] == row.pk
        assert created["external_ref"] == body["external_ref"]
        event = audit_models.AuditEvent.objects.latest("pk")
        assert (event.event_type, event.subject_type, event.subject_id) == (
            event_type,
            subject_type,
            str(row.pk),
        )
        assert event.actor == "user:manager-user"
        assert event.parameters["source"] == "api"
        assert manager.get(f"{path}/{row.pk}").json() == created

    def test_a_customer_is_normalised_like_an_imported_one(self, manager: Caller) -> None:
        created = manager.post("/customers", CUSTOMER).json()
        assert created["debtor_type"] == "CONSUMER"
        assert created["phones"] == ["+34612000111", "+34612000222"]
        assert created["emails"] == ["carla@example.com"]
        assert created["contact_hours"] == {"start": "09:00", "end": "20:00"}
        assert created["preferred_channel"] == "EMAIL"
        assert "Europe/Madrid" in created["time_zones"]
        assert created["time_zone_source"] == "ADDRESS_AND_PHONE"
        assert created["language"] == "en"

    def test_amounts_come_back_in_the_currencys_minor_units(self, manager: Caller) -> None:
        created = manager.post("/charges", CHARGE).json()
        assert created["amount"] == {"amount": "12.50", "currency": "EUR"}
        assert models.Charge.objects.get(external_ref="CH9").amount_minor == 1250

    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/customers", {**CUSTOMER, "external_ref": "C1"}),
            ("/accounts", {**ACCOUNT, "external_ref": "A1"}),
            ("/charges", {**CHARGE, "external_ref": "CH1"}),
            ("/payments", {**PAYMENT, "external_ref": "P1"}),
        ],
    )
    def test_an_existing_reference_is_409(
        self, manager: Caller, path: str, body: dict[str, Any]
    ) -> None:
        before = audit_models.AuditEvent.objects.count()
        response = manager.post(path, body)
        assert response.status_code == 409
        assert response.json() == {
            "detail": [{"field": "external_ref", "reason": "already exists"}]
        }
        assert audit_models.AuditEvent.objects.count() == before

    def test_an_existing_reference_with_other_errors_is_422(self, manager: Caller) -> None:
        response = manager.post("/payments", {**PAYMENT, "external_ref": "P1", "currency": "XXX"})
        assert response.status_code == 422
        assert fields(response) == {"external_ref", "currency"}

    @pytest.mark.parametrize(
        ("path", "change", "field", "fragment"),
        [
            ("/accounts", {"currency": "EURO"}, "currency", "not a known ISO 4217"),
            ("/accounts", {"customer_ref": "NOPE"}, "customer_ref", "unknown customer 'NOPE'"),
            ("/charges", {"account_ref": "AX"}, "account_ref", "unknown account 'AX'"),
            ("/charges", {"amount": "12.345"}, "amount", "more decimal places than EUR"),
            ("/charges", {"amount": "-5"}, "amount", "must be more than zero"),
            ("/payments", {"currency": "USD"}, "currency", ""),
            ("/payments", {"received_date": "2026-02-30"}, "received_date", "not a valid date"),
            (
                "/payments",
                {"provider_reference": "4111 1111 1111 1111"},
                "provider_reference",
                "card number",
            ),
            ("/customers", {"country": "XX"}, "country", "ISO 3166-1"),
            ("/customers", {"phones": ["12"]}, "phones", "'12'"),
            ("/customers", {"name": ""}, "name", "is required but empty"),
            ("/customers", {"contact_hours_end": None}, "contact_hours_end", "together"),
        ],
    )
    def test_invalid_values_are_422_with_field_and_reason(
        self,
        manager: Caller,
        path: str,
        change: dict[str, Any],
        field: str,
        fragment: str,
    ) -> None:
        body = {
            "/accounts": ACCOUNT,
            "/charges": CHARGE,
            "/payments": PAYMENT,
            "/customers": CUSTOMER,
        }[path]
        before = audit_models.AuditEvent.objects.count()
        response = manager.post(path, {**body, **change})
        assert response.status_code == 422
        assert field in fields(response)
        assert fragment in reasons(response)[field]
        assert audit_models.AuditEvent.objects.count() == before
        assert not models.Customer.objects.filter(external_ref="C9").exists()

    @pytest.mark.parametrize(
        ("body", "field", "fragment"),
        [
            ("{not json", "body", "not valid JSON"),
            (b"\xff\xfe\x00garbage", "body", "not valid JSON"),
            ("[" * 100_000 + "]" * 100_000, "body", ""),
            ("[1, 2]", "body", ""),
            ('"text"', "body", ""),
            ("", "body", "is required"),
            ({**PAYMENT, "colour": "red"}, "colour", "is not a known field"),
            ({**PAYMENT, "amount": 75.25}, "amount", "string"),
            ({**PAYMENT, "account_ref": None}, "account_ref", "string"),
            ({k: v for k, v in PAYMENT.items() if k != "currency"}, "currency", "is required"),
            ({**PAYMENT, "external_ref": "P\x009"}, "external_ref", "control characters"),
        ],
    )
    def test_malformed_requests_are_422_never_500(
        self, manager: Caller, body: Any, field: str, fragment: str
    ) -> None:
        response = manager.post("/payments", body)
        assert response.status_code == 422
        assert field in fields(response)
        assert fragment in reasons(response)[field]

    def test_an_oversized_body_is_413_json(self, manager: Caller) -> None:
        response = manager.post("/payments", {**PAYMENT, "description": "x" * 3_000_000})
        assert response.status_code == 413
        assert "larger than" in response.json()["detail"]

    def test_phones_given_as_an_array_must_hold_text(self, manager: Caller) -> None:
        response = manager.post("/customers", {**CUSTOMER, "phones": [1, 2]})
        assert response.status_code == 422
        assert fields(response) == {"phones"}

    def test_the_api_and_a_csv_import_give_the_same_reasons(
        self, manager: Caller, tmp_path: Path
    ) -> None:
        bad = {
            "external_ref": "P50",
            "account_ref": "A1",
            "amount": "1.234",
            "currency": "EUR",
            "received_date": "2026-13-01",
            "method": "BARTER",
        }
        path = portfolio.write(
            tmp_path,
            "bad.csv",
            ",".join(bad) + "\n" + ",".join(bad.values()) + "\n",
        )
        with pytest.raises(import_portfolio.ImportRejected) as caught:
            import_portfolio.import_file(kind=Kind.PAYMENTS, path=path, actor="test", now=NOW)
        from_csv = {(e.column, e.reason) for e in caught.value.report.errors}
        response = manager.post("/payments", bad)
        assert response.status_code == 422
        from_api = {(e["field"], e["reason"]) for e in response.json()["detail"]}
        assert from_api == from_csv
        assert {c for c, _ in from_api} == {"amount", "received_date", "method"}
