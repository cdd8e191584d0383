"""The strategy benchmark writes a generated book in bulk, and the reference agrees on it."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accord.audit import events
from accord.audit.models import AuditEvent
from accord.cli.management.commands import bench
from accord.storage import models
from accord.strategy import definition, engine, reference
from accord.usecases import strategy_run
from accord.usecases.seed_demo import bulk

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
ACTOR = "system:bench"


def load(accounts: int = 300) -> bulk.LoadReport:
    return bulk.load_demo_book(accounts=accounts, seed=7, actor=ACTOR, now=NOW)


class TestLoadDemoBook:
    def test_writes_every_account_with_its_charges_payments_and_contact_points(self) -> None:
        report = load()
        assert report.rows["accounts"] == models.Account.objects.count() == 300
        assert report.rows["customers"] == models.Customer.objects.count()
        assert report.rows["charges"] == models.Charge.objects.count() > 300
        assert models.Payment.objects.filter(account__isnull=True).count() == 0
        phones = models.ContactPoint.objects.filter(kind=models.ContactPointKind.PHONE)
        assert phones.exists()
        assert all(value.startswith("+") for value in phones.values_list("value", flat=True))

    def test_gives_every_customer_a_time_zone_from_their_city(self) -> None:
        load()
        assert not models.Customer.objects.filter(time_zones=[]).exists()

    def test_gives_some_customers_and_accounts_each_circumstance(self) -> None:
        report = load()
        for name in ("vulnerabilities", "disputes", "cease_requests", "opt_outs"):
            assert report.rows[name] >= 1
        assert models.BreathingSpace.objects.count() == report.rows["breathing_spaces"] >= 1

    def test_records_one_audited_import_batch_per_table(self) -> None:
        load()
        imported = AuditEvent.objects.filter(
            event_type__in=[
                events.EventType.CUSTOMERS_IMPORTED,
                events.EventType.ACCOUNTS_IMPORTED,
                events.EventType.CHARGES_IMPORTED,
                events.EventType.PAYMENTS_IMPORTED,
            ]
        )
        assert imported.count() == models.ImportBatch.objects.count() == 4

    def test_leaves_ids_free_for_the_next_account_created(self) -> None:
        load()
        customer = models.Customer.objects.first()
        assert customer is not None
        created = models.Account.objects.create(
            external_ref="AFTER-BENCH",
            customer=customer,
            product_type=models.ProductType.LOAN,
            currency="EUR",
            opened_date=NOW.date(),
            status=models.AccountStatus.OPEN,
            created_at=NOW,
            updated_at=NOW,
        )
        assert created.pk == 301

    def test_refuses_a_database_that_holds_customers(self) -> None:
        load(accounts=20)
        with pytest.raises(bulk.DatabaseNotEmpty):
            load(accounts=20)


class TestReferenceOnTheBenchmarkBook:
    def test_decides_a_sample_of_the_runs_extract_exactly_as_the_engine(self) -> None:
        load()
        strategy = definition.load()
        inputs = strategy_run.read_book(
            as_of=NOW.date(), now=NOW, strategies_read=(strategy,), undecided=True
        ).inputs
        sample = bench.sample_inputs(
            inputs, account_ids=pa.array(list(range(1, 301, 2)), pa.int64())
        )
        assert sample.accounts.num_rows == 150
        outcome = engine.decide(inputs=sample, strategy=strategy, as_of=NOW.date(), now=NOW)
        mine = reference.decide(inputs=sample, strategy=strategy, as_of=NOW.date(), now=NOW)
        theirs = outcome.decisions.select(reference.DECISION_SCHEMA.names)
        assert theirs.cast(reference.DECISION_SCHEMA).equals(mine.decisions)
        outbox = outcome.outbox.select(reference.OUTBOX_SCHEMA.names)
        assert outbox.cast(reference.OUTBOX_SCHEMA).equals(mine.outbox)
        assert mine.outbox.num_rows > 0


class TestSampleInputs:
    def test_keeps_the_sampled_accounts_their_customers_and_contacts_about_no_account(
        self,
    ) -> None:
        load(accounts=40)
        inputs = strategy_run.read_book(
            as_of=NOW.date(),
            now=NOW,
            strategies_read=(definition.load(),),
            undecided=True,
        ).inputs
        owner = inputs.accounts.filter(pc.equal(inputs.accounts["account_id"], 5))
        customer_id = owner["customer_id"][0].as_py()
        about_customer = pa.table(
            {
                "account_id": pa.array([None, None], pa.int64()),
                "customer_id": [customer_id, customer_id + 10_000],
                "template": ["", ""],
                "channel": ["CALL", "CALL"],
                "status": ["COMPLETED", "COMPLETED"],
                "direction": ["OUTBOUND", "OUTBOUND"],
                "connected": pa.array([None, None], pa.bool_()),
                "planned_at": pa.array([NOW, NOW], pa.timestamp("us", tz="UTC")),
                "sent_at": pa.array([None, None], pa.timestamp("us", tz="UTC")),
            }
        ).cast(engine.HISTORY_SCHEMA)
        inputs = engine.Inputs(
            **{
                **{name: getattr(inputs, name) for name in engine.Inputs.__dataclass_fields__},
                "history": about_customer,
            }
        )
        sample = bench.sample_inputs(inputs, account_ids=pa.array([5], pa.int64()))
        assert sample.accounts["account_id"].to_pylist() == [5]
        assert set(sample.customers["customer_id"].to_pylist()) == {customer_id}
        assert set(sample.charges["account_id"].to_pylist()) == {5}
        assert sample.history["customer_id"].to_pylist() == [customer_id]


class TestBenchCommand:
    def test_refuses_a_database_that_already_holds_a_book(self) -> None:
        load(accounts=10)
        with pytest.raises(CommandError, match="already holds customers"):
            call_command("bench", "strategy", "--accounts", "10")
