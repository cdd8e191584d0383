"""The audit log: written in the change's transaction, append-only, hash-chained."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from accord.audit import events, log, models, triggers

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def append(subject_id: int = 1, **parameters: object) -> models.AuditEvent:
    with transaction.atomic():
        return log.record(
            actor="user:alice",
            event_type=events.EventType.DISPUTE_RAISED,
            subject_type="account",
            subject_id=subject_id,
            parameters=parameters,
            now=NOW,
        )


class TestRecord:
    def test_refuses_to_write_outside_a_transaction(self) -> None:
        # pytest-django wraps each test in a transaction; leave it to test the guard.
        connection.in_atomic_block, saved = False, connection.in_atomic_block
        try:
            with pytest.raises(log.NotInTransaction):
                log.record(
                    actor="x",
                    event_type=events.EventType.DISPUTE_RAISED,
                    subject_type="account",
                    subject_id=1,
                    parameters={},
                    now=NOW,
                )
        finally:
            connection.in_atomic_block = saved

    def test_refuses_a_naive_time(self) -> None:
        with pytest.raises(log.NaiveTimestamp), transaction.atomic():
            log.record(
                actor="x",
                event_type=events.EventType.DISPUTE_RAISED,
                subject_type="account",
                subject_id=1,
                parameters={},
                now=datetime(2026, 11, 25, 9, 0),
            )

    def test_rolls_back_with_the_change_it_records(self) -> None:
        before = models.AuditEvent.objects.count()

        def change_that_fails() -> None:
            with transaction.atomic():
                append(reason="will fail")
                raise RuntimeError("the change failed")

        with pytest.raises(RuntimeError):
            change_that_fails()
        assert models.AuditEvent.objects.count() == before

    def test_chains_each_event_to_the_previous_one(self) -> None:
        first = append(1)
        second = append(2)
        assert second.previous_hash == first.hash
        assert log.verify_chain() == []

    def test_stores_times_in_utc(self) -> None:
        madrid = NOW.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Madrid"))
        with transaction.atomic():
            event = log.record(
                actor="x",
                event_type=events.EventType.DISPUTE_RAISED,
                subject_type="account",
                subject_id=1,
                parameters={},
                now=madrid + timedelta(0),
            )
        event.refresh_from_db()
        assert event.occurred_at == NOW
        assert log.verify_chain() == []


class TestAppendOnly:
    def test_the_application_cannot_update_or_delete_events(self) -> None:
        event = append()
        event.actor = "mallory"
        with pytest.raises(models.AppendOnlyError):
            event.save()
        with pytest.raises(models.AppendOnlyError):
            event.delete()
        with pytest.raises(models.AppendOnlyError):
            models.AuditEvent.objects.filter(pk=event.pk).update(actor="mallory")
        with pytest.raises(models.AppendOnlyError):
            models.AuditEvent.objects.filter(pk=event.pk).delete()

    def test_the_database_refuses_updates_and_deletes_behind_the_application(self) -> None:
        event = append()
        table = models.AuditEvent._meta.db_table
        for statement in (
            f"UPDATE {table} SET actor = 'mallory' WHERE id = %s",
            f"DELETE FROM {table} WHERE id = %s",
        ):
            with (
                pytest.raises((DatabaseError, IntegrityError)),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement, [event.pk])
        event.refresh_from_db()
        assert event.actor == "user:alice"


class TestVerifyCommand:
    def test_reports_an_intact_chain(self) -> None:
        append(1)
        append(2)
        out = io.StringIO()
        call_command("audit", "verify", stdout=out)
        assert "intact" in out.getvalue()

    def test_exits_2_naming_an_event_whose_content_was_altered(self) -> None:
        append(1)
        event = append(2)
        table = models.AuditEvent._meta.db_table
        # Tamper behind the application's back, as a DBA could with the triggers lifted.
        with connection.cursor() as cursor:
            triggers.remove(cursor, connection.vendor)
            cursor.execute(
                f"UPDATE {table} SET actor = 'mallory' WHERE id = %s",
                [event.pk],
            )
            triggers.install(cursor, connection.vendor)
        err = io.StringIO()
        with pytest.raises(SystemExit) as exit_:
            call_command("audit", "verify", stdout=io.StringIO(), stderr=err)
        assert exit_.value.code == 2
        assert f"event {event.pk}: content does not match hash" in err.getvalue()
