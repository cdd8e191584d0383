"""Import customers, accounts, charges and payments: all or nothing, idempotent, audited."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from accord.audit import models as audit_models
from accord.storage import models
from accord.usecases import import_portfolio
from tests.integration import portfolio

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
Kind = import_portfolio.RecordKind


def load(tmp_path: Path, kind: Kind, text: str | bytes) -> import_portfolio.ImportReport:
    path = portfolio.write(tmp_path, f"{kind.value}.csv", text)
    return import_portfolio.import_file(kind=kind, path=path, actor="test", now=NOW)


def rejected(tmp_path: Path, kind: Kind, text: str | bytes) -> import_portfolio.ImportReport:
    with pytest.raises(import_portfolio.ImportRejected) as caught:
        load(tmp_path, kind, text)
    return caught.value.report


def snapshot() -> dict[str, list[tuple[object, ...]]]:
    return {
        "customers": list(models.Customer.objects.order_by("pk").values_list()),
        "contact_points": list(models.ContactPoint.objects.order_by("pk").values_list()),
        "accounts": list(models.Account.objects.order_by("pk").values_list()),
        "charges": list(models.Charge.objects.order_by("pk").values_list()),
        "payments": list(models.Payment.objects.order_by("pk").values_list()),
        "batches": list(models.ImportBatch.objects.order_by("pk").values_list()),
        "audit": list(audit_models.AuditEvent.objects.order_by("pk").values_list()),
    }


@pytest.fixture
def loaded_portfolio(tmp_path: Path) -> Path:
    load(tmp_path, Kind.CUSTOMERS, portfolio.CUSTOMERS)
    load(tmp_path, Kind.ACCOUNTS, portfolio.ACCOUNTS)
    load(tmp_path, Kind.CHARGES, portfolio.CHARGES)
    load(tmp_path, Kind.PAYMENTS, portfolio.PAYMENTS)
    return tmp_path


class TestCleanImport:
    def test_loads_every_kind_with_counts(self, tmp_path: Path) -> None:
        report = load(tmp_path, Kind.CUSTOMERS, portfolio.CUSTOMERS)
        assert (report.rows, report.inserted, report.updated) == (2, 2, 0)
        assert load(tmp_path, Kind.ACCOUNTS, portfolio.ACCOUNTS).inserted == 2
        assert load(tmp_path, Kind.CHARGES, portfolio.CHARGES).inserted == 2
        assert load(tmp_path, Kind.PAYMENTS, portfolio.PAYMENTS).inserted == 1

    def test_normalises_phones_emails_and_case(self, loaded_portfolio: Path) -> None:
        ana = models.Customer.objects.get(external_ref="C1")
        points = {(p.kind, p.value) for p in ana.contact_points.all()}
        assert points == {("PHONE", "+34612345678"), ("EMAIL", "ana@example.com")}
        assert ana.debtor_type == "CONSUMER"

    def test_derives_candidate_time_zones_from_address_and_phone(
        self, loaded_portfolio: Path
    ) -> None:
        bob = models.Customer.objects.get(external_ref="C2")
        # Texas spans two zones; a 512 (Austin) number narrows it to Central time.
        assert bob.time_zones == ["America/Chicago"]
        assert bob.time_zone_source == "ADDRESS_AND_PHONE"

    def test_stores_money_as_minor_units_of_the_currency(self, loaded_portfolio: Path) -> None:
        assert models.Charge.objects.get(external_ref="CH1").amount_minor == 12050
        assert models.Account.objects.get(external_ref="A1").credit_limit_minor == 150000
        assert models.Account.objects.get(external_ref="A2").credit_limit_minor is None

    def test_writes_one_audit_event_per_accepted_file_in_the_same_transaction(
        self, loaded_portfolio: Path
    ) -> None:
        types = list(
            audit_models.AuditEvent.objects.order_by("pk").values_list("event_type", flat=True)
        )
        assert types == [
            "CUSTOMERS_IMPORTED",
            "ACCOUNTS_IMPORTED",
            "CHARGES_IMPORTED",
            "PAYMENTS_IMPORTED",
        ]
        event = audit_models.AuditEvent.objects.get(event_type="CHARGES_IMPORTED")
        assert event.parameters["inserted"] == 2
        assert event.subject_id == str(models.ImportBatch.objects.get(kind="CHARGES").pk)


class TestReimport:
    def test_importing_the_same_files_again_changes_nothing(self, loaded_portfolio: Path) -> None:
        before = snapshot()
        for kind, text in [
            (Kind.CUSTOMERS, portfolio.CUSTOMERS),
            (Kind.ACCOUNTS, portfolio.ACCOUNTS),
            (Kind.CHARGES, portfolio.CHARGES),
            (Kind.PAYMENTS, portfolio.PAYMENTS),
        ]:
            report = load(loaded_portfolio, kind, text)
            assert (report.inserted, report.updated) == (0, 0)
            assert report.unchanged == report.rows
        assert snapshot() == before

    def test_a_changed_row_is_updated_and_counted(self, loaded_portfolio: Path) -> None:
        changed = portfolio.CHARGES.replace("120.50", "99.99")
        report = load(loaded_portfolio, Kind.CHARGES, changed)
        assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
        assert models.Charge.objects.get(external_ref="CH1").amount_minor == 9999

    def test_a_changed_phone_list_counts_the_customer_as_updated(
        self, loaded_portfolio: Path
    ) -> None:
        changed = portfolio.CUSTOMERS.replace("+34 612 345 678", "+34 612 345 679")
        report = load(loaded_portfolio, Kind.CUSTOMERS, changed)
        assert report.updated == 1
        values = set(
            models.ContactPoint.objects.filter(customer__external_ref="C1").values_list(
                "value", flat=True
            )
        )
        assert values == {"+34612345679", "ana@example.com"}

    def test_a_customer_whose_fields_and_phones_both_change_counts_once(
        self, loaded_portfolio: Path
    ) -> None:
        changed = portfolio.CUSTOMERS.replace("Ana García", "Ana García López").replace(
            "+34 612 345 678", "+34 612 345 679"
        )
        report = load(loaded_portfolio, Kind.CUSTOMERS, changed)
        assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)

    def test_refuses_to_change_the_currency_of_an_account_with_money_on_it(
        self, loaded_portfolio: Path
    ) -> None:
        before = snapshot()
        report = rejected(loaded_portfolio, Kind.ACCOUNTS, portfolio.ACCOUNTS.replace("EUR", "GBP"))
        assert [(e.row, e.column) for e in report.errors] == [(2, "currency")]
        assert "already has charges or payments" in report.errors[0].reason
        assert snapshot() == before

    def test_may_change_the_currency_of_an_account_without_money(self, tmp_path: Path) -> None:
        load(tmp_path, Kind.CUSTOMERS, portfolio.CUSTOMERS)
        load(tmp_path, Kind.ACCOUNTS, portfolio.ACCOUNTS)
        report = load(tmp_path, Kind.ACCOUNTS, portfolio.ACCOUNTS.replace("EUR", "GBP"))
        assert report.updated == 1
        assert models.Account.objects.get(external_ref="A1").currency == "GBP"

    def test_finds_existing_references_whatever_their_case_and_order(
        self, loaded_portfolio: Path
    ) -> None:
        mixed = (
            "external_ref,account_ref,amount,currency,received_date\n"
            "b-late,A1,1,EUR,2026-09-15\n"
            "A-early,A1,1,EUR,2026-09-15\n"
        )
        assert load(loaded_portfolio, Kind.PAYMENTS, mixed).inserted == 2
        again = load(loaded_portfolio, Kind.PAYMENTS, mixed)
        assert (again.inserted, again.unchanged) == (0, 2)


class TestRejectedFile:
    @pytest.mark.parametrize(
        ("name", "content", "fragment"),
        [
            ("empty", b"", "empty"),
            ("blank", b"\n\n  \n", "empty"),
            (
                "header only",
                b"external_ref,account_ref,amount,currency,received_date\n",
                "no records",
            ),
            ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
            (
                "latin-1",
                "external_ref,account_ref,amount,currency,received_date\nPé,A1,1,EUR,2026-01-01\n".encode(
                    "latin-1"
                ),
                "not UTF-8",
            ),
            ("wrong header", b"id,value\n1,2\n", "not a payments file"),
            (
                "repeated column",
                b"external_ref,external_ref,account_ref,amount,currency,received_date\n",
                "repeats",
            ),
            (
                "huge field",
                b"external_ref,account_ref,amount,currency,received_date\n"
                + b"x" * 20_000
                + b",A1,1,EUR,2026-01-01\n",
                "longer than",
            ),
            (
                "unterminated quote",
                b'external_ref,account_ref,amount,currency,received_date\n"P1,A1,1,EUR,2026-01-01\n',
                "not valid CSV",
            ),
        ],
    )
    def test_is_refused_with_a_clear_reason_and_changes_nothing(
        self, loaded_portfolio: Path, name: str, content: bytes, fragment: str
    ) -> None:
        before = snapshot()
        report = rejected(loaded_portfolio, Kind.PAYMENTS, content)
        assert fragment in report.problem
        assert not report.accepted
        assert snapshot() == before


class TestRejectedRows:
    def test_reports_every_bad_value_with_row_column_and_reason(
        self, loaded_portfolio: Path
    ) -> None:
        before = snapshot()
        report = rejected(
            loaded_portfolio,
            Kind.PAYMENTS,
            "external_ref,account_ref,amount,currency,received_date\n"
            "P2,A1,12.345,EUR,2026-09-15\n"
            "P3,AX,5,EUR,2026-09-15\n"
            "P4,A1,1,USD,2026-09-15\n"
            "P5,A1,abc,EUR,2026-02-30\n"
            "P5,A1,1,EUR,2026-09-15\n"
            "P6,A1,1,EUR\n",
        )
        found = {(e.row, e.column) for e in report.errors}
        assert found == {
            (2, "amount"),
            (3, "account_ref"),
            (4, "currency"),
            (5, "amount"),
            (5, "received_date"),
            (6, "external_ref"),
            (7, ""),
        }
        reasons = {(e.row, e.column): e.reason for e in report.errors}
        assert "more decimal places than EUR" in reasons[(2, "amount")]
        assert "unknown account 'AX'" in reasons[(3, "account_ref")]
        assert "first on row 5" in reasons[(6, "external_ref")]
        assert "expected 5 fields" in reasons[(7, "")]
        assert snapshot() == before

    def test_one_bad_row_keeps_the_good_rows_out_too(self, loaded_portfolio: Path) -> None:
        rejected(
            loaded_portfolio,
            Kind.PAYMENTS,
            "external_ref,account_ref,amount,currency,received_date\n"
            "P10,A1,5,EUR,2026-09-15\n"
            "P11,A1,-5,EUR,2026-09-15\n",
        )
        assert not models.Payment.objects.filter(external_ref="P10").exists()

    def test_refuses_a_reference_to_an_unknown_customer(self, loaded_portfolio: Path) -> None:
        report = rejected(
            loaded_portfolio,
            Kind.ACCOUNTS,
            "external_ref,customer_ref,product_type,currency,opened_date\n"
            "A9,NOPE,LOAN,EUR,2024-01-01\n",
        )
        assert report.errors[0].column == "customer_ref"

    def test_refuses_bad_customer_values(self, tmp_path: Path) -> None:
        report = rejected(
            tmp_path,
            Kind.CUSTOMERS,
            "external_ref,debtor_type,name,country,phones,emails,time_zone,contact_hours_start\n"
            "C1,PERSON,,XX,12,not-an-email,Mars/Base,25:00\n",
        )
        columns = {e.column for e in report.errors}
        assert {
            "debtor_type",
            "name",
            "country",
            "phones",
            "emails",
            "time_zone",
            "contact_hours_start",
            "contact_hours_end",
        } <= columns

    def test_refuses_a_card_number_as_provider_reference(self, loaded_portfolio: Path) -> None:
        report = rejected(
            loaded_portfolio,
            Kind.PAYMENTS,
            "external_ref,account_ref,amount,currency,received_date,provider_reference\n"
            "P20,A1,5,EUR,2026-09-15,4111 1111 1111 1111\n",
        )
        assert "card number" in report.errors[0].reason


class TestCreateMode:
    def test_refuses_an_existing_reference(self, loaded_portfolio: Path) -> None:
        with pytest.raises(import_portfolio.ImportRejected) as caught:
            import_portfolio.import_records(
                kind=Kind.PAYMENTS,
                records=[
                    {
                        "external_ref": "P1",
                        "account_ref": "A1",
                        "amount": "50",
                        "currency": "EUR",
                        "received_date": "2026-09-15",
                    }
                ],
                source="api",
                actor="test",
                now=NOW,
                mode=import_portfolio.Mode.CREATE,
            )
        assert caught.value.report.errors[0].reason == "already exists"

    def test_creates_one_record_with_its_own_audit_event(self, loaded_portfolio: Path) -> None:
        report = import_portfolio.import_records(
            kind=Kind.PAYMENTS,
            records=[
                {
                    "external_ref": "P30",
                    "account_ref": "A1",
                    "amount": "5",
                    "currency": "EUR",
                    "received_date": "2026-09-15",
                }
            ],
            source="api",
            actor="user:alice",
            now=NOW,
            mode=import_portfolio.Mode.CREATE,
        )
        event = audit_models.AuditEvent.objects.latest("pk")
        assert event.event_type == "PAYMENT_CREATED"
        assert event.subject_id == str(report.ids["P30"])
        assert event.actor == "user:alice"
