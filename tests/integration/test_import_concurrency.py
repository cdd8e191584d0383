"""Two imports of the same kind at once are serialised: no lost rows, no duplicate keys."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection

from accord.storage import models
from accord.usecases import import_portfolio
from tests.integration import portfolio

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentImports:
    def test_the_same_new_file_imported_twice_at_once_inserts_each_row_once(
        self, tmp_path: Path
    ) -> None:
        path = portfolio.write(tmp_path, "customers.csv", portfolio.CUSTOMERS)
        reports: list[import_portfolio.ImportReport] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def run() -> None:
            try:
                barrier.wait()
                reports.append(
                    import_portfolio.import_file(
                        kind=import_portfolio.RecordKind.CUSTOMERS,
                        path=path,
                        actor="test",
                        now=NOW,
                    )
                )
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(r.inserted for r in reports) == [0, 2]
        assert sorted(r.unchanged for r in reports) == [0, 2]
        assert models.Customer.objects.count() == 2
