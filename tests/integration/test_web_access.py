"""Who may open which staff page, sign-in protections, and the dashboard's figures."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import timezone

from accord.analytics import portfolio_summary
from accord.audit import log as audit_log
from accord.audit.events import EventType
from accord.domain.access import Role
from accord.domain.money import Money
from accord.storage import models

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _static_root() -> None:
    """Create STATIC_ROOT, which WhiteNoise warns about (an error here) when missing."""
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Hash test passwords cheaply; the real hasher is slow by design."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Start and end every test without sign-in failures remembered."""
    cache.clear()
    yield
    cache.clear()


def make_user(username: str, *roles: Role, first_name: str = "", last_name: str = "") -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, first_name=first_name, last_name=last_name
    )
    user.groups.set([Group.objects.get(name=role.value) for role in roles])
    return user


def signed_in(role: Role) -> Client:
    client = Client()
    client.force_login(make_user(f"user-{role.value}", role))
    return client


# --- The role matrix -----------------------------------------------------------------

PAGES = ["/", "/audit/"]

ALLOWED: dict[Role, set[str]] = {
    Role.AGENT: {"/"},
    Role.TEAM_LEAD: {"/"},
    Role.MANAGER: {"/"},
    Role.AUDITOR: {"/", "/audit/"},
    Role.ADMIN: {"/", "/audit/"},
}


def test_every_role_is_a_group_after_migrate() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in Role}


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_users_are_sent_to_sign_in(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", PAGES)
def test_each_role_sees_exactly_its_pages(role: Role, path: str) -> None:
    response = signed_in(role).get(path)

    if path in ALLOWED[role]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "You do not have access to this page" in response.content.decode()


def test_agent_sees_the_dashboard_but_not_the_audit_log() -> None:
    client = signed_in(Role.AGENT)

    assert client.get("/").status_code == 200
    assert client.get("/audit/").status_code == 403


def test_a_user_without_a_role_is_refused_the_dashboard() -> None:
    client = Client()
    client.force_login(make_user("nobody"))

    assert client.get("/").status_code == 403


def test_navigation_shows_only_the_links_the_role_allows() -> None:
    agent_page = signed_in(Role.AGENT).get("/").content.decode()
    auditor_page = signed_in(Role.AUDITOR).get("/").content.decode()

    assert 'href="/audit/"' not in agent_page
    assert 'href="/audit/"' in auditor_page
    assert 'href="/" aria-current="page"' in auditor_page


def test_auditor_sees_the_latest_audit_events() -> None:
    with transaction.atomic():
        audit_log.record(
            actor="cli:ops",
            event_type=EventType.CUSTOMERS_IMPORTED,
            subject_type="import_batch",
            subject_id=7,
            parameters={"rows": 2},
            now=timezone.now(),
        )

    page = signed_in(Role.AUDITOR).get("/audit/").content.decode()

    assert "CUSTOMERS_IMPORTED" in page
    assert "cli:ops" in page


def test_the_pages_are_accessible_by_construction() -> None:
    page = signed_in(Role.ADMIN).get("/").content.decode()

    assert '<html lang="en">' in page
    assert '<meta name="viewport"' in page
    assert 'href="#main"' in page
    assert '<main id="main"' in page
    assert "<nav " in page
    assert "htmx" in page


# --- Signing in and out --------------------------------------------------------------


def test_sign_in_page_labels_its_fields(client: Client) -> None:
    page = client.get("/login/").content.decode()

    assert '<label for="id_username">' in page
    assert '<label for="id_password">' in page


def test_sign_in_then_out() -> None:
    make_user("ana", Role.MANAGER, first_name="Ana", last_name="García")
    client = Client()

    response = client.post("/login/", {"username": "ana", "password": PASSWORD}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert "Ana García" in response.content.decode()

    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_sign_out_refuses_get() -> None:
    assert signed_in(Role.AGENT).get("/logout/").status_code == 405


def test_sign_in_enforces_csrf() -> None:
    make_user("ana", Role.MANAGER)
    client = Client(enforce_csrf_checks=True)

    refused = client.post("/login/", {"username": "ana", "password": PASSWORD})
    assert refused.status_code == 403

    client.get("/login/")
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/login/", {"username": "ana", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 302
    assert accepted["Location"] == "/"


def test_wrong_password_shows_an_error(client: Client) -> None:
    make_user("ana", Role.MANAGER)

    response = client.post("/login/", {"username": "ana", "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_sign_in_locks_after_five_failures_for_a_username(client: Client) -> None:
    make_user("ana", Role.MANAGER)
    for _ in range(5):
        response = client.post("/login/", {"username": "ana", "password": "wrong"})
        assert response.status_code == 200

    refused = client.post("/login/", {"username": "ana", "password": PASSWORD})

    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_the_username_lock_holds_from_another_address() -> None:
    make_user("ana", Role.MANAGER)
    for _ in range(5):
        Client(REMOTE_ADDR="10.0.0.1").post("/login/", {"username": "ana", "password": "x"})

    refused = Client(REMOTE_ADDR="10.0.0.2").post(
        "/login/", {"username": "ANA", "password": PASSWORD}
    )

    assert refused.status_code == 429


def test_sign_in_locks_after_five_failures_from_one_address() -> None:
    make_user("ana", Role.MANAGER)
    client = Client(REMOTE_ADDR="10.0.0.9")
    for n in range(5):
        client.post("/login/", {"username": f"guess-{n}", "password": "wrong"})

    refused = client.post("/login/", {"username": "ana", "password": PASSWORD})

    assert refused.status_code == 429


def test_four_failures_do_not_lock_and_success_clears_them(client: Client) -> None:
    make_user("ana", Role.MANAGER)
    for _ in range(4):
        client.post("/login/", {"username": "ana", "password": "wrong"})

    assert client.post("/login/", {"username": "ana", "password": PASSWORD}).status_code == 302

    elsewhere = Client(REMOTE_ADDR="10.0.0.3")
    for _ in range(4):
        elsewhere.post("/login/", {"username": "ana", "password": "wrong"})
    assert elsewhere.post("/login/", {"username": "ana", "password": PASSWORD}).status_code == 302


# --- Dashboard figures ---------------------------------------------------------------

TODAY = datetime.date(2026, 3, 15)


def _stamp() -> dict[str, object]:
    now = timezone.now()
    return {"created_at": now, "updated_at": now}


def _customer(ref: str) -> models.Customer:
    return models.Customer.objects.create(
        external_ref=ref,
        debtor_type=models.DebtorType.CONSUMER,
        name=f"Customer {ref}",
        country="ES",
        time_zone_source=models.TimeZoneSource.UNKNOWN,
        **_stamp(),
    )


def _account(
    ref: str, customer: models.Customer, product: str, currency: str, status: str
) -> models.Account:
    return models.Account.objects.create(
        external_ref=ref,
        customer=customer,
        product_type=product,
        currency=currency,
        opened_date=datetime.date(2024, 1, 1),
        status=status,
        **_stamp(),
    )


def _charge(ref: str, account: models.Account, minor: int, due: datetime.date) -> None:
    models.Charge.objects.create(
        external_ref=ref,
        account=account,
        kind=models.ChargeKind.INVOICE,
        amount_minor=minor,
        currency=account.currency,
        due_date=due,
        **_stamp(),
    )


def _payment(ref: str, account: models.Account, minor: int) -> None:
    models.Payment.objects.create(
        external_ref=ref,
        account=account,
        amount_minor=minor,
        currency=account.currency,
        received_date=datetime.date(2026, 2, 1),
        method=models.PaymentMethod.CARD,
        **_stamp(),
    )


def tiny_portfolio(today: datetime.date) -> None:
    """Build three accounts whose figures are easy to check by hand.

    A1 (EUR): charges 100.00 past due + 50.00 not yet due, payments 20.00 + 10.00:
        balance 120.00, arrears 70.00.
    A2 (EUR): charge 20.00 past due, payment 50.00: balance -30.00, arrears 0 (not -30).
    A3 (USD): nothing billed: balance 0.00, arrears 0.00.
    """
    ana, bob = _customer("C1"), _customer("C2")
    a1 = _account("A1", ana, models.ProductType.CREDIT_CARD, "EUR", models.AccountStatus.OPEN)
    a2 = _account("A2", ana, models.ProductType.LOAN, "EUR", models.AccountStatus.CLOSED)
    _account("A3", bob, models.ProductType.CREDIT_CARD, "USD", models.AccountStatus.OPEN)
    _charge("CH1", a1, 100_00, today - datetime.timedelta(days=10))
    _charge("CH2", a1, 50_00, today + datetime.timedelta(days=20))
    _charge("CH3", a1, 1, today)  # Due today is not yet in arrears.
    _payment("P1", a1, 20_00)
    _payment("P2", a1, 10_00)
    _charge("CH4", a2, 20_00, today - datetime.timedelta(days=1))
    _payment("P3", a2, 50_00)
    now = timezone.now()
    models.ImportBatch.objects.create(
        kind=models.ImportKind.ACCOUNTS,
        source_name="accounts-march.csv",
        sha256="0" * 64,
        rows=3,
        inserted=3,
        updated=0,
        unchanged=0,
        actor="cli:ops",
        started_at=now,
        finished_at=now,
    )


def test_summary_counts_and_money_per_currency() -> None:
    tiny_portfolio(TODAY)

    summary = portfolio_summary.summarise(today=TODAY)

    assert summary.customers == 2
    assert summary.accounts == 3
    assert {(t.value, t.count) for t in summary.by_product_type} == {
        ("CREDIT_CARD", 2),
        ("LOAN", 1),
    }
    assert {(t.value, t.count) for t in summary.by_status} == {("OPEN", 2), ("CLOSED", 1)}
    eur, usd = summary.currencies
    assert eur.currency == "EUR"
    assert eur.accounts == 2
    assert eur.accounts_in_arrears == 1
    assert eur.balance == Money(Decimal("90.01"), "EUR")
    assert eur.arrears == Money(Decimal("70.00"), "EUR")
    assert usd.balance == Money.zero("USD")
    assert usd.arrears == Money.zero("USD")
    assert isinstance(eur.balance.amount, Decimal)
    assert summary.accounts_in_arrears == 1
    assert [b.source_name for b in summary.latest_imports] == ["accounts-march.csv"]


def test_summary_of_an_empty_portfolio() -> None:
    summary = portfolio_summary.summarise(today=TODAY)

    assert (summary.customers, summary.accounts, summary.currencies) == (0, 0, [])


def test_dashboard_shows_the_figures_and_who_is_signed_in() -> None:
    tiny_portfolio(timezone.localdate())
    client = Client()
    client.force_login(make_user("ana", Role.MANAGER, Role.AUDITOR, first_name="Ana"))

    page = client.get("/").content.decode()

    assert "Portfolio dashboard" in page
    assert "Ana" in page
    assert "Auditor, Collections manager" in page
    assert "90.01 EUR" in page
    assert "70.00 EUR" in page
    assert "0.00 USD" in page
    assert "Credit card" in page
    assert "accounts-march.csv" in page
