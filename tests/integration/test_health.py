"""``GET /healthz`` reports the app and its database."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import Client


@pytest.fixture(autouse=True)
def _static_root() -> None:
    """Create STATIC_ROOT, which WhiteNoise warns about (an error here) when missing."""
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def test_healthz_reports_ok_when_the_database_answers(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_503_with_a_reason_when_the_database_is_unreachable(
    client: Client,
) -> None:
    with mock.patch(
        "django.db.connection.cursor", side_effect=OperationalError("connection refused")
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "unreachable"
    assert body["reason"]
    # The driver's message may name hosts and users: it goes to the log, not the public.
    assert "connection refused" not in body["reason"]


def test_healthz_refuses_post(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
