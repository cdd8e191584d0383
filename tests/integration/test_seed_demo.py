"""Seeding the demo portfolio goes through the real import and leaves a realistic book."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import CommandError, call_command

from accord.analytics import portfolio_summary
from accord.audit import log
from accord.audit import models as audit_models
from accord.storage import models
from accord.usecases import demo_users
from accord.usecases.seed_demo import portfolio

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class TestSeedDemoPortfolio:
    def test_loads_every_kind_through_the_import_with_circumstances(self, tmp_path: Path) -> None:
        report = portfolio.seed_demo_portfolio(accounts=300, seed=42, folder=tmp_path, now=NOW)
        assert [r.kind.value for r in report.imports] == [
            "customers",
            "accounts",
            "charges",
            "payments",
        ]
        assert models.Account.objects.count() == 300
        assert models.Charge.objects.exists()
        assert models.Payment.objects.exists()
        assert models.Vulnerability.objects.count() == report.vulnerable >= 3
        assert models.Dispute.objects.count() == report.disputes >= 3
        assert models.ChannelOptOut.objects.count() == report.opt_outs >= 3
        assert models.CeaseRequest.objects.count() == report.cease_requests >= 1
        imported = audit_models.AuditEvent.objects.filter(event_type__endswith="_IMPORTED")
        assert imported.count() == 4
        assert log.verify_chain() == []

    def test_seeding_twice_changes_nothing(self, tmp_path: Path) -> None:
        portfolio.seed_demo_portfolio(accounts=100, seed=7, folder=tmp_path, now=NOW)
        events = audit_models.AuditEvent.objects.count()
        again = portfolio.seed_demo_portfolio(accounts=100, seed=7, folder=tmp_path, now=NOW)
        assert all(r.inserted == r.updated == 0 for r in again.imports)
        assert audit_models.AuditEvent.objects.count() == events

    def test_spans_several_countries_currencies_and_time_zones(self, tmp_path: Path) -> None:
        portfolio.seed_demo_portfolio(accounts=400, seed=1, folder=tmp_path, now=NOW)
        countries = set(models.Customer.objects.values_list("country", flat=True))
        currencies = set(models.Account.objects.values_list("currency", flat=True))
        assert len(countries) >= 4
        assert len(currencies) >= 3
        zones = list(models.Customer.objects.values_list("time_zones", flat=True))
        assert any(len(z) > 1 for z in zones)
        assert all(len(z) >= 1 for z in zones)


class TestDemoUsers:
    def test_creates_one_user_per_role_who_can_sign_in(self) -> None:
        users = demo_users.ensure_demo_users(actor="system:demo", now=NOW)
        assert {u.username for u in users} == {"agent", "team_lead", "manager", "admin", "auditor"}
        for user in users:
            stored = User.objects.get(username=user.username)
            assert stored.check_password(user.password)
            assert list(stored.groups.values_list("name", flat=True)) == [user.role.value]

    def test_the_command_prints_names_and_passwords(self, settings: Any) -> None:
        settings.ENV = dataclasses.replace(settings.ENV, demo=True)
        out = io.StringIO()
        call_command("demo", "users", stdout=out)
        assert "manager" in out.getvalue()
        assert demo_users.demo_password(demo_users.access.Role.MANAGER) in out.getvalue()

    def test_the_command_refuses_outside_demo_and_debug(self, settings: Any) -> None:
        settings.ENV = dataclasses.replace(settings.ENV, demo=False, debug=False)
        with pytest.raises(CommandError, match="ACCORD_DEMO"):
            call_command("demo", "users", stdout=io.StringIO())
        assert not User.objects.filter(username="admin").exists()


class TestCachedSummary:
    def test_is_recomputed_after_any_audited_change(self, tmp_path: Path) -> None:
        cache.clear()
        today = NOW.date()
        empty = portfolio_summary.cached_summary(today=today)
        assert empty.accounts == 0
        portfolio.seed_demo_portfolio(accounts=50, seed=3, folder=tmp_path, now=NOW)
        assert portfolio_summary.cached_summary(today=today).accounts == 50
