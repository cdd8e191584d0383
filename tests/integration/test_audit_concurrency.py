"""Concurrent writers never fork the audit log's hash chain (PostgreSQL row locks)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from accord.audit import events, log, models

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentWriters:
    def test_eight_threads_writing_at_once_leave_one_unbroken_chain(self) -> None:
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def write(worker: int) -> None:
            try:
                barrier.wait()
                for n in range(10):
                    with transaction.atomic():
                        log.record(
                            actor=f"worker:{worker}",
                            event_type=events.EventType.CONSENT_RECORDED,
                            subject_type="customer",
                            subject_id=n,
                            parameters={"n": n},
                            now=NOW,
                        )
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert models.AuditEvent.objects.count() == 80
        assert models.AuditChainHead.objects.get().length == 80
        assert log.verify_chain() == []
