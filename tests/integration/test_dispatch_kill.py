"""A worker killed mid-send loses no row, and nobody is texted twice after the recovery."""

from __future__ import annotations

import dataclasses
import datetime
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from accord.storage import models
from accord.usecases import dispatch
from tests.integration import outbox_data as data
from tests.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, running_twilio

ROOT = Path(__file__).resolve().parents[2]
FROM = "+15005550006"
ACCOUNTED_FOR = {
    models.ContactStatus.PLANNED,
    models.ContactStatus.SENDING,
    models.ContactStatus.SENT,
    models.ContactStatus.PARKED,
}


def _midday_zone(now: datetime.datetime) -> str:
    """Return an Etc/GMT zone where it is about noon at ``now``, so the contact hours allow."""
    offset = 12 - now.astimezone(datetime.UTC).hour
    if offset < -12:
        offset += 24
    if offset > 14:
        offset -= 24
    # POSIX signs are inverted: Etc/GMT-5 is five hours ahead of UTC.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


class SharedDatabase:
    """Hand the test's database to a subprocess: PostgreSQL as is, SQLite's memory via a file."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "worker.sqlite3"

    def url(self) -> str:
        """Return the worker's ACCORD_DATABASE_URL, copying an in-memory SQLite to a file."""
        params = connection.settings_dict
        if connection.vendor == "postgresql":
            auth = quote(params["USER"])
            if params["PASSWORD"]:
                auth += ":" + quote(params["PASSWORD"])
            host = params["HOST"] or "localhost"
            port = params["PORT"] or "5432"
            return f"postgresql://{auth}@{host}:{port}/{params['NAME']}"
        connection.ensure_connection()
        with sqlite3.connect(self.file) as target:
            connection.connection.backup(target)
        return f"sqlite:///{self.file}"

    def take_back(self) -> None:
        """Bring what the worker wrote into the test's database (SQLite only)."""
        if connection.vendor == "sqlite":
            source = sqlite3.connect(self.file)
            try:
                source.backup(connection.connection)
            finally:
                source.close()


@pytest.fixture
def twilio(settings: SettingsWrapper) -> Iterator[FakeTwilio]:
    """Run the Twilio stand-in and configure this process for it (the recovery sends here)."""
    with running_twilio() as server:
        settings.ENV = dataclasses.replace(
            settings.ENV,
            sms_provider="twilio",
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_from=FROM,
            twilio_base_url=server.base_url,
            twilio_timeout=5.0,
        )
        yield server
        server.release()


def _worker_env(database_url: str, server: FakeTwilio) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        ACCORD_DATABASE_URL=database_url,
        ACCORD_SMS_PROVIDER="twilio",
        ACCORD_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        ACCORD_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        ACCORD_TWILIO_FROM=FROM,
        ACCORD_TWILIO_BASE_URL=server.base_url,
        ACCORD_TWILIO_TIMEOUT="120",  # the hang must outlast the kill
    )
    return env


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_loses_no_row_and_texts_nobody_twice(
    twilio: FakeTwilio, tmp_path: Path
) -> None:
    """ADR 0010 and 0022: at most once per idempotency key, across a SIGKILL and a retry."""
    now = timezone.now()
    zone = _midday_zone(now)
    rows = []
    for n in range(3):
        owner = data.customer(f"C-K{n}", email=None, phone=f"+3461234560{n}", zone=zone)
        account = data.account_owing(owner, f"A-K{n}")
        rows.append(
            data.planned(
                account,
                channel=models.Channel.SMS,
                planned_at=now - datetime.timedelta(minutes=1),
            ).pk
        )
    twilio.hang_on = 2  # the second message's POST never gets an answer
    shared = SharedDatabase(tmp_path)
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-c", "from accord.cli.main import main; main()", "dispatch"],
            env=_worker_env(shared.url(), twilio),
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            hung = twilio.hanging.wait(timeout=60)
        finally:
            worker.send_signal(signal.SIGKILL)  # mid-send: the POST is out, no answer yet
            worker.wait(timeout=30)
    assert hung, log.read_text()
    assert worker.returncode == -signal.SIGKILL
    shared.take_back()

    statuses = dict(models.ContactAttempt.objects.filter(pk__in=rows).values_list("pk", "status"))
    assert set(statuses.values()) <= ACCOUNTED_FOR  # no row lost or in a state of its own
    assert [statuses[pk] for pk in rows] == [
        models.ContactStatus.SENT,
        models.ContactStatus.SENDING,
        models.ContactStatus.PLANNED,
    ]
    later = timezone.now()
    stuck = list(dispatch.stuck_rows(now=later, older_than=datetime.timedelta(0)))
    assert [row.pk for row in stuck] == [rows[1]]

    # Restart: the operator retries the stuck row; the provider is back.
    twilio.release()
    dispatch.resolve_stuck(
        contact_id=rows[1], resolution=dispatch.Resolution.RETRY, actor="test:op", now=later
    )
    report = dispatch.dispatch_due(clock=timezone.now, actor="test:restart")
    assert report.sent == 2
    final = models.ContactAttempt.objects.filter(pk__in=rows)
    assert set(final.values_list("status", flat=True)) == {models.ContactStatus.SENT}
    keys = [request.headers["i-twilio-idempotency-token"] for request in twilio.received]
    assert len(keys) == 4  # the killed send was posted again, under its own key
    assert Counter(keys)[final.get(pk=rows[1]).idempotency_key] == 2
    assert len(set(keys)) == 3
    assert twilio.messages_sent == 3  # the provider created each message once
    sids = set(final.values_list("provider_ref", flat=True))
    assert len(sids) == 3
