"""The strategy benchmark writes a generated book in bulk, and the reference agrees on it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accord.audit import events
from accord.audit.models import AuditEvent
from accord.cli.management.commands import bench
from accord.storage import extract, models
from accord.strategy import backends, definition, engine, reference
from accord.usecases import strategy_run
from accord.usecases.seed_demo import bulk, generator

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
ACTOR = "system:bench"


def load(accounts: int = 300, **options: Any) -> bulk.LoadReport:
    return bulk.load_demo_book(accounts=accounts, seed=7, actor=ACTOR, now=NOW, **options)


def column(table: pa.Table, *names: str) -> list[tuple[Any, ...]]:
    return list(zip(*(table[name].to_pylist() for name in names), strict=True))


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


class TestLoadDemoBookInBlocks:
    def test_writes_a_book_that_fits_in_one_block_exactly_as_the_single_block_path(
        self,
    ) -> None:
        report = load(accounts=60)
        assert report.blocks == 1
        book = generator.generate(accounts=60, seed=7, as_of=NOW.date())
        tables = bulk.book_tables(book, now=NOW)
        assert column(tables["customers"], "id", "external_ref", "name") == list(
            models.Customer.objects.order_by("id").values_list("id", "external_ref", "name")
        )
        assert column(tables["accounts"], "id", "external_ref", "customer_id") == list(
            models.Account.objects.order_by("id").values_list("id", "external_ref", "customer")
        )
        charge = ("external_ref", "account_id", "amount_minor", "due_date")
        assert column(tables["charges"], *charge) == list(
            models.Charge.objects.order_by("id").values_list(*charge)
        )
        payment = ("external_ref", "account_id", "amount_minor", "received_date")
        assert column(tables["payments"], *payment) == list(
            models.Payment.objects.order_by("id").values_list(*payment)
        )
        point = ("customer_id", "kind", "value", "position")
        assert column(tables["contact_points"], *point) == list(
            models.ContactPoint.objects.order_by("id").values_list(*point)
        )
        drawn = {
            name: data
            for name, _model, data in bulk._circumstances(
                np.random.default_rng(7),
                customers=tables["customers"]["id"],
                accounts=tables["accounts"]["id"],
                actor=ACTOR,
                now=NOW,
            )
        }
        assert drawn["vulnerabilities"]["customer_id"].to_pylist() == list(
            models.Vulnerability.objects.order_by("customer").values_list("customer", flat=True)
        )
        assert drawn["disputes"]["account_id"].to_pylist() == list(
            models.Dispute.objects.order_by("account").values_list("account", flat=True)
        )
        assert models.ImportBatch.objects.filter(source_name="bench:seed=7").count() == 4

    def test_continues_ids_and_references_across_blocks_with_valid_foreign_keys(self) -> None:
        report = load(accounts=30, block_accounts=7)
        assert report.blocks == 5
        customers = list(models.Customer.objects.order_by("id").values_list("id", "external_ref"))
        assert [i for i, _ in customers] == list(range(1, len(customers) + 1))
        assert [ref for _, ref in customers] == [f"C{i:07d}" for i in range(1, len(customers) + 1)]
        accounts = list(models.Account.objects.order_by("id").values_list("id", "external_ref"))
        assert accounts == [(i, f"A{i:07d}") for i in range(1, 31)]
        charges = list(models.Charge.objects.order_by("id").values_list("external_ref", flat=True))
        assert charges == [f"CH{i:08d}" for i in range(1, len(charges) + 1)]
        payments = list(
            models.Payment.objects.order_by("id").values_list("external_ref", flat=True)
        )
        assert payments == [f"P{i:08d}" for i in range(1, len(payments) + 1)]
        customer_ids = {i for i, _ in customers}
        assert set(models.Account.objects.values_list("customer", flat=True)) == customer_ids
        assert set(models.Charge.objects.values_list("account", flat=True)) <= set(range(1, 31))
        assert set(models.Payment.objects.values_list("account", flat=True)) <= set(range(1, 31))
        assert set(models.ContactPoint.objects.values_list("customer", flat=True)) <= customer_ids
        assert report.rows["customers"] == len(customers)
        assert report.rows["charges"] == len(charges)
        assert report.rows["payments"] == len(payments)
        assert report.rows["contact_points"] == models.ContactPoint.objects.count()

    def test_writes_the_first_block_as_the_generators_book_and_each_block_its_own_customers(
        self,
    ) -> None:
        load(accounts=30, block_accounts=7)
        first = bulk.book_tables(generator.generate(accounts=7, seed=7, as_of=NOW.date()), now=NOW)
        assert column(first["accounts"], "id", "external_ref", "customer_id") == list(
            models.Account.objects.filter(id__lte=7)
            .order_by("id")
            .values_list("id", "external_ref", "customer")
        )
        # No customer holds accounts of two blocks: a block is a book of its own.
        blocks: dict[int, set[int]] = {}
        for account, customer in models.Account.objects.values_list("id", "customer"):
            blocks.setdefault(customer, set()).add((account - 1) // 7)
        assert all(len(held) == 1 for held in blocks.values())

    def test_draws_each_circumstance_in_every_block(self) -> None:
        report = load(accounts=30, block_accounts=7)
        for name in ("vulnerabilities", "disputes", "cease_requests", "opt_outs"):
            assert report.rows[name] >= report.blocks
        assert models.BreathingSpace.objects.count() == report.rows["breathing_spaces"] >= 5
        disputed = models.Dispute.objects.values_list("account", flat=True)
        assert {(account - 1) // 7 for account in disputed} == set(range(5))

    def test_records_the_audited_import_batches_of_each_block(self) -> None:
        load(accounts=30, block_accounts=7)
        assert models.ImportBatch.objects.count() == 4 * 5
        assert models.ImportBatch.objects.filter(source_name="bench:seed=7:block=5/5").count() == 4
        assert AuditEvent.objects.filter(event_type=events.EventType.ACCOUNTS_IMPORTED).count() == 5
        assert (
            sum(
                models.ImportBatch.objects.filter(kind=models.ImportKind.ACCOUNTS).values_list(
                    "rows", flat=True
                )
            )
            == 30
        )

    def test_says_each_block_as_it_goes(self) -> None:
        said: list[tuple[str, int, int]] = []
        load(accounts=15, block_accounts=7, progress=lambda *stage: said.append(stage))
        assert ("block 1 of 3: written", 7, 15) in said
        assert ("block 3 of 3: written", 15, 15) in said
        assert ("block 2 of 3: generating", 7, 15) in said

    def test_leaves_ids_free_after_the_last_block(self) -> None:
        load(accounts=15, block_accounts=7)
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
        assert created.pk == 16

    def test_refuses_blocks_of_no_account(self) -> None:
        with pytest.raises(ValueError, match="block_accounts"):
            load(accounts=10, block_accounts=0)


class TestSampleRange:
    def test_holds_the_sample_size_of_consecutive_accounts_from_a_seeded_place(self) -> None:
        load(accounts=40)
        within = bench.sample_range(size=10, seed=7)
        assert within.low is not None
        assert within.high == within.low + 10
        assert 1 <= within.low <= 31
        assert bench.sample_range(size=10, seed=7) == within
        assert {bench.sample_range(size=10, seed=s).low for s in range(10)} != {within.low}

    def test_is_the_whole_book_when_the_sample_is_no_smaller(self) -> None:
        load(accounts=20)
        assert bench.sample_range(size=20, seed=7) == extract.EVERY_ACCOUNT

    def test_compares_reading_only_the_sampled_accounts(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        load(accounts=60)
        read: list[int] = []
        original = strategy_run.read_book

        def reading(**kwargs: Any) -> strategy_run.Book:
            book = original(**kwargs)
            read.append(book.inputs.accounts.num_rows)
            return book

        monkeypatch.setattr(strategy_run, "read_book", reading)
        compared = bench._compare_on_sample(
            sample=12, seed=7, engine_name=backends.Engine.DUCKDB, now=NOW
        )
        assert read == [12]
        assert compared["reference_accounts"] == 12
        assert compared["reference_agrees"] is True
        # Timed twice: first building and compiling the queries, then as later ranges do.
        assert compared["engine_sample_compiled_seconds"] > 0
        assert compared["speedup_compiled"] >= 0


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
