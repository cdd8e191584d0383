"""The manager view: who may open it, the book by bucket, the latest run and the KPIs."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.test import Client

from accord.analytics import buckets
from accord.domain.access import Role
from accord.domain.money import Money
from accord.storage import models
from accord.web.manager import views
from tests.integration import manager_data as data

URL = "/manager/"
VIEWERS = {Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN, Role.AUDITOR}
Status = models.ContactStatus
T = models.Treatment


@pytest.fixture(autouse=True)
def _static_root() -> None:
    """Create STATIC_ROOT, which WhiteNoise warns about (an error here) when missing."""
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Start each test without figures cached by another (no audit events: one key)."""
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
def book() -> dict[str, Any]:
    """An old completed run, the latest completed run (EUR and USD) and one still running."""
    eur_current, eur_late, eur_later, usd_late = (
        data.account("EUR"),
        data.account("EUR"),
        data.account("EUR"),
        data.account("USD"),
    )
    old = data.run(datetime.date(2026, 11, 23))
    data.decision(old, eur_current, bucket="DPD_1_30", dpd=3, arrears="1.00", balance="1.00")
    latest = data.run(
        datetime.date(2026, 11, 24), seconds=42, accounts=4, contacts_planned=3, contacts_blocked=1
    )
    data.decision(latest, eur_current, bucket="CURRENT", dpd=0, arrears="0.00", balance="500.00")
    late = data.decision(
        latest,
        eur_late,
        bucket="DPD_31_60",
        dpd=40,
        arrears="120.50",
        balance="900.00",
        treatment=T.LATE_NOTICE,
    )
    later = data.decision(
        latest,
        eur_later,
        bucket="DPD_31_60",
        dpd=55,
        arrears="79.50",
        balance="100.00",
        treatment=T.LATE_NOTICE,
    )
    usd = data.decision(
        latest,
        usd_late,
        bucket="DPD_31_60",
        dpd=33,
        arrears="300.00",
        balance="300.00",
        treatment=T.CALL_TASK,
    )
    data.contact(late, Status.SENT)
    data.contact(later, Status.BLOCKED)
    data.contact(usd, Status.PLANNED, channel=models.Channel.CALL)
    running = data.run(datetime.date(2026, 11, 25), status=models.RunStatus.RUNNING)
    return {"latest": latest, "running": running}


class TestAccess:
    @pytest.mark.parametrize("role", list(Role))
    def test_only_roles_with_view_performance_open_it(self, role: Role) -> None:
        response = signed_in(role).get(URL)
        assert response.status_code == (200 if role in VIEWERS else 403)

    def test_anonymous_visitors_are_sent_to_sign_in(self, client: Client) -> None:
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={URL}"

    def test_it_is_in_the_navigation_of_those_who_may_open_it(self) -> None:
        assert b'href="/manager/"' in signed_in(Role.MANAGER).get("/").content
        assert b'href="/manager/"' not in signed_in(Role.AGENT).get("/").content

    def test_a_post_is_refused(self) -> None:
        assert signed_in(Role.MANAGER).post(URL).status_code == 405


class TestBuckets:
    def test_buckets_come_from_the_latest_completed_run_per_currency(
        self, book: dict[str, Any]
    ) -> None:
        rows = buckets.bucket_rows(run_id=book["latest"].pk)
        assert [(r.code, r.currency, r.accounts, r.accounts_in_arrears) for r in rows] == [
            ("CURRENT", "EUR", 1, 0),
            ("DPD_31_60", "EUR", 2, 2),
            ("DPD_31_60", "USD", 1, 1),
        ]
        eur_late = rows[1]
        assert eur_late.label == "31\N{EN DASH}60"
        assert eur_late.arrears == Money(Decimal("200.00"), "EUR")
        assert eur_late.balance == Money(Decimal("1000.00"), "EUR")
        assert rows[2].arrears == Money(Decimal("300.00"), "USD")

    def test_the_overview_shows_the_running_run_but_counts_the_completed_one(
        self, book: dict[str, Any]
    ) -> None:
        overview = buckets.overview()
        assert overview.latest is not None
        assert overview.completed is not None
        assert overview.latest.id == book["running"].pk
        assert overview.latest.duration is None
        assert overview.completed.id == book["latest"].pk
        assert overview.completed.duration_seconds == Decimal("42.0")
        counts = {c.code: (c.accounts, c.by_currency) for c in overview.bucket_counts}
        assert counts == {"CURRENT": (1, {"EUR": 1}), "DPD_31_60": (3, {"EUR": 2, "USD": 1})}

    def test_treatments_count_decisions_and_contacts_by_status(self, book: dict[str, Any]) -> None:
        rows = {row.treatment: row for row in buckets.treatment_rows(run_id=book["latest"].pk)}
        assert list(rows) == [T.NONE, T.LATE_NOTICE, T.CALL_TASK]
        late = rows[T.LATE_NOTICE]
        assert (late.decisions, late.planned, late.blocked, late.sent, late.failed) == (
            2,
            0,
            1,
            1,
            0,
        )
        call = rows[T.CALL_TASK]
        assert (call.decisions, call.planned, call.sent) == (1, 1, 0)

    def test_without_any_run_everything_is_empty(self) -> None:
        overview = buckets.overview()
        assert (overview.latest, overview.completed, overview.buckets) == (None, None, [])


class TestPage:
    def test_it_shows_the_chart_table_run_and_treatments(self, book: dict[str, Any]) -> None:
        response = signed_in(Role.MANAGER).get(URL)
        page = response.content.decode()
        assert response.status_code == 200
        assert 'id="bucket-chart"' in page
        assert "/static/vendor/plotly/plotly.min.js" in page
        assert 'id="bucket-chart-data"' in page
        for shown in ("200.00 EUR", "1,000.00 EUR", "300.00 USD", "Late notice", "Call task"):
            assert shown in page
        assert "Running" in page  # the latest run's status
        assert response.context["chart"] == {
            "labels": ["Current", "31\N{EN DASH}60"],
            "series": [
                {"name": "EUR", "colour": views.CHART_COLOURS[0], "values": [1, 2]},
                {"name": "USD", "colour": views.CHART_COLOURS[1], "values": [0, 1]},
            ],
            "yTitle": "Accounts",
        }

    def test_with_no_run_it_explains_what_fills_the_page(self) -> None:
        page = signed_in(Role.MANAGER).get(URL).content.decode()
        assert "No strategy run has completed yet" in page
        assert "plotly.min.js" not in page

    def test_the_default_period_is_the_last_30_days(self) -> None:
        response = signed_in(Role.MANAGER).get(URL)
        start, end = response.context["start"], response.context["end"]
        assert (end - start).days == 29

    def test_the_kpis_cover_the_chosen_period(self) -> None:
        owner = data.account("EUR")
        data.charge(owner, "100.00", datetime.date(2026, 10, 1))
        data.payment(owner, "25.00", datetime.date(2026, 10, 15))
        data.promise(owner, "25.00", datetime.date(2026, 10, 15), models.PromiseStatus.KEPT)
        data.promise(owner, "10.00", datetime.date(2026, 10, 20), models.PromiseStatus.BROKEN)
        response = signed_in(Role.MANAGER).get(URL, {"start": "2026-10-01", "end": "2026-10-31"})
        (collection,) = response.context["collection_tiles"]
        (kept,) = response.context["promise_tiles"]
        assert (collection.currency, collection.value) == ("EUR", "25.0%")
        assert "25.00 EUR collected of 100.00 EUR due" in collection.detail
        assert (kept.value, kept.detail) == ("50.0%", "1 kept of 2 resolved, 0 awaiting")

    def test_an_empty_denominator_shows_a_dash_not_zero(self) -> None:
        owner = data.account("GBP")
        data.payment(owner, "25.00", datetime.date(2026, 10, 15))
        data.promise(owner, "25.00", datetime.date(2026, 10, 15), models.PromiseStatus.OPEN)
        response = signed_in(Role.MANAGER).get(URL, {"start": "2026-10-01", "end": "2026-10-31"})
        assert response.context["collection_tiles"][0].value == "—"
        assert response.context["promise_tiles"][0].value == "—"
        assert "0.0%" not in response.content.decode()

    @pytest.mark.parametrize(
        "query",
        [
            {"start": "2026-10-31", "end": "2026-10-01"},
            {"start": "not a date", "end": "2026-10-01"},
            {"start": "2001-01-01", "end": "2026-10-01"},
        ],
    )
    def test_a_bad_period_is_explained_and_the_default_shown(self, query: dict[str, str]) -> None:
        response = signed_in(Role.MANAGER).get(URL, query)
        assert response.status_code == 200
        assert response.context["form"].errors
        assert (response.context["end"] - response.context["start"]).days == 29


def test_plotly_comes_from_the_installed_package_and_is_served(client: Client) -> None:
    found = finders.find("vendor/plotly/plotly.min.js")
    assert found is not None
    assert "site-packages/plotly/package_data" in str(found).replace("\\", "/")
    response = client.get("/static/vendor/plotly/plotly.min.js")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"plotly.js" in body[:2000]
    assert finders.find("web/manager-chart.js") is not None
