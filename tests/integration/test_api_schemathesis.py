"""Property-based: cases generated from /api/v1/openapi.json never get a server error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from accord.domain.access import Role
from accord.usecases import api_tokens, import_portfolio
from tests.integration import portfolio

# WhiteNoise warns (an error under filterwarnings=error) when its folder is missing.
Path(django_settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)

from accord.config.wsgi import application  # noqa: E402 - needs the folder above

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

# Loaded in-process through the WSGI application: no server, no network.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def _same_connection() -> Iterator[None]:
    """Keep the test's connection (and its rolled-back transaction) across WSGI requests.

    Django closes "old" connections when a request starts and finishes; the test
    client stops that, and so must a bare WSGI caller.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_headers(tmp_path: Path) -> dict[str, str]:
    """Load a small portfolio and return the headers of an administrator's token."""
    for kind, text in [
        (import_portfolio.RecordKind.CUSTOMERS, portfolio.CUSTOMERS),
        (import_portfolio.RecordKind.ACCOUNTS, portfolio.ACCOUNTS),
        (import_portfolio.RecordKind.CHARGES, portfolio.CHARGES),
        (import_portfolio.RecordKind.PAYMENTS, portfolio.PAYMENTS),
    ]:
        path = portfolio.write(tmp_path, f"{kind.value}.csv", text)
        import_portfolio.import_file(
            kind=kind, path=path, actor="test", now=NOW - timedelta(hours=1)
        )
    user = User.objects.create(username="fuzz-admin")
    user.groups.set([Group.objects.get(name=Role.ADMIN.value)])
    token = api_tokens.issue_api_token(user=user, name="fuzz", actor="test", now=NOW)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.usefixtures("_same_connection")
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_generated_requests_get_no_server_error_and_documented_answers(
    case: schemathesis.Case, admin_headers: dict[str, str]
) -> None:
    case.call_and_validate(
        headers=admin_headers,
        checks=[
            not_a_server_error,
            # The schema is honest: every status, content type and body is documented.
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
