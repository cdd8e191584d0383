"""The batch extract: ADBC reads the same Arrow tables as Django's cursor, in one snapshot."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from django.db import connection, transaction

from accord.storage import extract, models
from tests.integration.test_strategy_run import NOW, TODAY, account, customer, days_ago

SINCE = NOW - timedelta(days=30)
WHOLE = extract.EVERY_ACCOUNT
READS: dict[str, Callable[..., pa.Table]] = {
    "accounts": lambda snap, within=WHOLE: extract.accounts(within=within, snapshot=snap),
    "charges": lambda snap, within=WHOLE: extract.charges(within=within, snapshot=snap),
    "payments": lambda snap, within=WHOLE: extract.payments(
        as_of=TODAY, within=within, snapshot=snap
    ),
    "customers": lambda snap, within=WHOLE: extract.customers(within=within, snapshot=snap),
    "contact_points": lambda snap, within=WHOLE: extract.contact_points(
        within=within, snapshot=snap
    ),
    "opt_outs": lambda snap, within=WHOLE: extract.opt_outs(within=within, snapshot=snap),
    "cease_requests": lambda snap, within=WHOLE: extract.cease_requests(
        within=within, snapshot=snap
    ),
    "unverified_disputes": lambda snap, within=WHOLE: extract.unverified_disputes(
        within=within, snapshot=snap
    ),
    "open_disputes": lambda snap, within=WHOLE: extract.open_disputes(within=within, snapshot=snap),
    "vulnerable_customers": lambda snap, within=WHOLE: extract.vulnerable_customers(
        within=within, snapshot=snap
    ),
    "breathing_spaces": lambda snap, within=WHOLE: extract.breathing_spaces(
        as_of=TODAY, within=within, snapshot=snap
    ),
    "paused_arms": lambda snap, within=WHOLE: extract.paused_arms(snapshot=snap),
    "history": lambda snap, within=WHOLE: extract.contact_history(
        since=SINCE, as_of=TODAY, within=within, snapshot=snap
    ),
    "superseded": lambda snap, within=WHOLE: extract.superseded_contacts(
        as_of=TODAY, within=within, snapshot=snap
    ),
    "decided": lambda snap, within=WHOLE: extract.decided_accounts(
        as_of=TODAY, within=within, snapshot=snap
    ),
    "keys": lambda snap, within=WHOLE: extract.planned_keys(
        prefix="strategy:", within=within, snapshot=snap
    ),
    "promise_holds": lambda snap, within=WHOLE: extract.promise_holds(
        as_of=TODAY, within=within, snapshot=snap
    ),
    "promises_due": lambda snap, within=WHOLE: extract.promises_due(
        as_of=TODAY, within=within, snapshot=snap
    ),
    "plans": lambda snap, within=WHOLE: extract.active_plans(within=within, snapshot=snap),
    "instalments": lambda snap, within=WHOLE: extract.plan_instalments(
        within=within, snapshot=snap
    ),
}
# Tables keyed by customer: a range reads its accounts' customers.
BY_CUSTOMER = {
    "customers",
    "contact_points",
    "opt_outs",
    "cease_requests",
    "vulnerable_customers",
    "breathing_spaces",
}


def a_varied_book() -> None:
    """Write a book whose every extracted table has rows, NULLs included."""
    owner = customer()
    models.Customer.objects.filter(pk=owner.pk).update(
        contact_hours_start=None, contact_hours_end=None, region="Wales"
    )
    owing = account(owner, due=days_ago(40), paid_minor=2_500)
    account(customer(email=None), due=TODAY + timedelta(days=3))
    old_run = models.StrategyRun.objects.create(
        as_of_date=days_ago(3),
        strategy_name="default",
        strategy_version="x",
        status=models.RunStatus.COMPLETED,
        started_at=NOW - timedelta(days=3),
        started_by="test",
    )
    for n, (status, sent, about, run) in enumerate(
        [
            (models.ContactStatus.PLANNED, None, owing, old_run),  # superseded
            (models.ContactStatus.SENT, NOW - timedelta(days=2), owing, None),
            (models.ContactStatus.COMPLETED, None, None, None),  # about no account
        ]
    ):
        models.ContactAttempt.objects.create(
            customer=owner,
            account=about,
            channel=models.Channel.EMAIL,
            template="late_notice",
            origin=models.ContactOrigin.STRATEGY if run else models.ContactOrigin.AGENT,
            direction=models.ContactDirection.OUTBOUND,
            planned_at=NOW - timedelta(days=3, microseconds=n),
            sent_at=sent,
            status=status,
            run=run,
            idempotency_key=f"strategy:{days_ago(3).isoformat()}:{owing.pk}:{n}",
            created_at=NOW,
            updated_at=NOW,
        )
    models.Decision.objects.create(
        run=old_run,
        account=owing,
        as_of_date=TODAY,
        days_past_due=40,
        bucket="DPD_31_60",
        stage="MID",
        arrears_minor=7_500,
        balance_minor=7_500,
        currency="GBP",
        treatment=models.Treatment.NONE,
        reason_codes=["STAGE_MID"],
        strategy_version="default@x",
        created_at=NOW,
    )
    owner.opt_outs.create(
        channel=models.Channel.SMS, opted_out_at=NOW, source="test", recorded_by="test"
    )
    owner.cease_requests.create(received_at=NOW, recorded_by="test")
    owing.disputes.create(reason="not mine", received_at=NOW, recorded_by="test")
    owner.vulnerabilities.create(
        category=models.VulnerabilityCategory.HEALTH,
        consent_to_record=False,
        review_date=TODAY,
        recorded_at=NOW,
        recorded_by="test",
    )
    models.BreathingSpace.objects.create(
        customer=owner,
        kind=models.BreathingSpaceKind.STANDARD,
        starts_on=days_ago(10),
        ends_on=None,
        recorded_at=NOW,
        recorded_by="test",
    )
    models.ExperimentArmPause.objects.create(
        experiment="early-sms-first", arm="sms_first", paused_at=NOW, paused_by="t", reason="r"
    )
    for promised in (days_ago(1), TODAY + timedelta(days=2)):  # one due, one holding
        models.Promise.objects.create(
            account=owing,
            amount_minor=1_000,
            currency="GBP",
            promised_date=promised,
            status=models.PromiseStatus.OPEN,
            source=models.Source.AGENT,
            created_at=NOW - timedelta(days=5),
            created_by="test",
        )
    plan = models.RepaymentPlan.objects.create(
        account=owing,
        total_minor=2_000,
        currency="GBP",
        instalment_count=1,
        start_date=TODAY,
        status=models.PlanStatus.ACTIVE,
        source=models.Source.PORTAL,
        created_at=NOW - timedelta(days=1),
        created_by="test",
    )
    plan.instalments.create(sequence=1, due_date=TODAY, amount_minor=2_000)


@contextlib.contextmanager
def adbc_copy(tmp_path: Path) -> Iterator[extract.Snapshot]:
    """Yield an ADBC snapshot of the test database (a file copy of SQLite's in-memory one)."""
    if connection.vendor == "postgresql":
        with extract.snapshot() as snap:
            yield snap
        return
    copy = tmp_path / "copy.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(copy)])
    with extract.sqlite_reader(str(copy)) as snap:
        yield snap


def sorted_rows(table: pa.Table) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=repr)


def a_book_in_ranges() -> None:
    """Write the varied book, then accounts whose customers' accounts are far apart by id."""
    a_varied_book()
    first = models.Customer.objects.order_by("pk").first()
    assert first is not None
    for _ in range(3):
        account(customer(), due=days_ago(20))
    account(first, due=days_ago(5))  # the first customer's accounts now span ranges


def expected_in(
    name: str, whole: pa.Table, *, accounts: set[int], customers: set[int], plans: set[int]
) -> list[dict[str, Any]]:
    """Return the rows of a whole-book read that a range's read must give."""
    rows = whole.to_pylist()
    if name == "paused_arms":
        return sorted(rows, key=repr)
    if name == "instalments":
        kept = [row for row in rows if row["plan_id"] in plans]
    elif name == "keys":  # the keys of contacts about the range's accounts
        about = models.ContactAttempt.objects.filter(account_id__in=accounts)
        mine = set(about.values_list("idempotency_key", flat=True))
        kept = [row for row in rows if row["idempotency_key"] in mine]
    elif name == "history":
        kept = [
            row
            for row in rows
            if row["account_id"] in accounts
            or (row["account_id"] is None and row["customer_id"] in customers)
        ]
    elif name in BY_CUSTOMER:
        kept = [row for row in rows if row["customer_id"] in customers]
    else:
        kept = [row for row in rows if row["account_id"] in accounts]
    return sorted(kept, key=repr)


class TestRanges:
    def test_ranges_cover_every_account_once_in_about_equal_parts(self) -> None:
        made = [account(due=days_ago(n)) for n in range(7)]
        ranges = extract.account_ranges(size=3)
        assert len(ranges) == 3
        assert (ranges[0].low, ranges[-1].high) == (None, None)
        assert [r.low for r in ranges[1:]] == [made[3].pk, made[6].pk]
        assert [r.high for r in ranges[:-1]] == [made[3].pk, made[6].pk]
        assert extract.account_ranges(size=1_000) == [extract.EVERY_ACCOUNT]

    def test_without_accounts_there_is_one_range_the_whole_book(self) -> None:
        assert extract.account_ranges(size=5) == [extract.EVERY_ACCOUNT]

    def test_a_range_reads_its_accounts_rows_and_their_customers_rows(self) -> None:
        a_book_in_ranges()
        whole = {name: read(None) for name, read in READS.items()}
        ranges = extract.account_ranges(size=2)
        assert len(ranges) == 3  # six accounts
        seen: dict[str, int] = dict.fromkeys(READS, 0)
        for within in ranges:
            part = {name: read(None, within) for name, read in READS.items()}
            accounts = set(part["accounts"]["account_id"].to_pylist())
            customers = set(part["accounts"]["customer_id"].to_pylist())
            plans = set(part["plans"]["plan_id"].to_pylist())
            for name, table in part.items():
                assert table.schema == whole[name].schema, name
                assert sorted_rows(table) == expected_in(
                    name, whole[name], accounts=accounts, customers=customers, plans=plans
                ), name
                seen[name] += table.num_rows
        # Each account's rows are read once; a customer's once per range holding its accounts.
        assert seen["accounts"] == whole["accounts"].num_rows
        assert seen["charges"] == whole["charges"].num_rows
        assert seen["history"] >= whole["history"].num_rows
        assert seen["customers"] > whole["customers"].num_rows


@pytest.mark.django_db(transaction=True)
class TestAdbc:
    def test_every_table_reads_the_same_through_adbc_as_through_django(
        self, tmp_path: Path
    ) -> None:
        a_varied_book()
        with transaction.atomic():
            through_django = {name: read(None) for name, read in READS.items()}
        with adbc_copy(tmp_path) as snap:
            assert snap.via == "adbc"
            through_adbc = {name: read(snap) for name, read in READS.items()}
        for name, table in through_django.items():
            assert table.num_rows, name  # every table has something to compare
            assert through_adbc[name].schema == table.schema, name
            assert sorted_rows(through_adbc[name]) == sorted_rows(table), name

    def test_a_range_reads_the_same_through_adbc_as_through_django(self, tmp_path: Path) -> None:
        a_book_in_ranges()
        within = extract.account_ranges(size=2)[0]
        with transaction.atomic():
            through_django = {name: read(None, within) for name, read in READS.items()}
        with adbc_copy(tmp_path) as snap:
            through_adbc = {name: read(snap, within) for name, read in READS.items()}
        for name, table in through_django.items():
            assert through_adbc[name].schema == table.schema, name
            assert sorted_rows(through_adbc[name]) == sorted_rows(table), name

    def test_nulls_survive_the_adbc_read(self, tmp_path: Path) -> None:
        a_varied_book()
        with adbc_copy(tmp_path) as snap:
            history = extract.contact_history(since=SINCE, as_of=TODAY, snapshot=snap)
            customers = extract.customers(snapshot=snap)
        assert None in history["account_id"].to_pylist()
        assert None in history["sent_at"].to_pylist()
        assert None in customers["contact_hours_start"].to_pylist()
        assert datetime(2026, 11, 23, 15, 0, tzinfo=UTC) in history["sent_at"].to_pylist()

    def test_the_superseded_contact_is_left_out_of_the_history(self, tmp_path: Path) -> None:
        a_varied_book()
        with adbc_copy(tmp_path) as snap:
            history = extract.contact_history(since=SINCE, as_of=TODAY, snapshot=snap)
            superseded = extract.superseded_contacts(as_of=TODAY, snapshot=snap)
        assert superseded.num_rows == 1
        assert models.ContactStatus.PLANNED not in history["status"].to_pylist()

    def test_a_snapshot_outside_a_transaction_reads_through_adbc_on_a_real_database(
        self,
    ) -> None:
        expected = "" if connection.vendor == "postgresql" else "in-memory"
        assert expected in extract.adbc_reason()
        with transaction.atomic():
            assert "transaction" in extract.adbc_reason()

    @pytest.mark.postgres
    def test_an_adbc_snapshot_does_not_see_writes_made_after_it_began(self) -> None:
        a_varied_book()
        with extract.snapshot() as snap:
            before = extract.accounts(snapshot=snap).num_rows
            account(due=days_ago(1))  # committed by another connection meanwhile
            assert extract.accounts(snapshot=snap).num_rows == before
        with extract.snapshot() as snap:
            assert extract.accounts(snapshot=snap).num_rows == before + 1


def test_the_sqlite_reader_leaves_the_writers_wal_alone(tmp_path: Path) -> None:
    """The ADBC driver's own SQLite, closing in this process, would delete a live WAL."""
    import sqlite3

    path = tmp_path / "live.sqlite3"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE t (id INTEGER)")
    writer.execute("INSERT INTO t VALUES (1)")
    writer.commit()
    with extract.sqlite_reader(str(path)) as snap:
        read = snap.read("SELECT id FROM t", [], {"id": extract.Kind.INT}, nullable=False)
    assert read["id"].to_pylist() == [1]
    assert (tmp_path / "live.sqlite3-wal").exists()
    writer.execute("INSERT INTO t VALUES (2)")
    writer.commit()
    writer.close()
    again = sqlite3.connect(path)
    assert again.execute("SELECT count(*) FROM t").fetchone() == (2,)
    again.close()
