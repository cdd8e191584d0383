"""Integration tests run against the configured database (SQLite, or PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.conftest import IN_CI


@pytest.fixture(autouse=True)
def _database(db: None) -> None:
    """Give every integration test the database, rolled back afterwards."""


@pytest.fixture(autouse=True)
def _postgres_only(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        message = "needs PostgreSQL (set ACCORD_TEST_POSTGRES_URL / ACCORD_DATABASE_URL)"
        if IN_CI:
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
