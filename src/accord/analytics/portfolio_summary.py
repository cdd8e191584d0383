"""Summarise the portfolio for the staff dashboard, with aggregate SQL only.

Every figure is computed by the database: balances and arrears are summed per
account and then per currency in one SQL statement, so no Python loop ever walks
the accounts. Money leaves this module as :class:`~accord.domain.money.Money`.
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, TextChoices

from accord.audit import models as audit_models
from accord.domain.money import Money
from accord.storage import models

LATEST_IMPORTS = 5


@dataclasses.dataclass(frozen=True, kw_only=True)
class Tally:
    """Count the accounts that share one value of a field (a product type, a status)."""

    value: str
    label: str
    count: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class CurrencyTotals:
    """Hold the balance and arrears of every account in one currency."""

    currency: str
    accounts: int
    accounts_in_arrears: int
    balance: Money
    arrears: Money


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImportSummary:
    """Describe one accepted import batch."""

    kind: str
    kind_label: str
    source_name: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    actor: str
    finished_at: datetime.datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class PortfolioSummary:
    """Hold the dashboard's figures as of ``today``."""

    today: datetime.date
    customers: int
    accounts: int
    by_product_type: list[Tally]
    by_status: list[Tally]
    currencies: list[CurrencyTotals]
    latest_imports: list[ImportSummary]

    @property
    def accounts_in_arrears(self) -> int:
        """Return how many accounts, in any currency, have arrears."""
        return sum(totals.accounts_in_arrears for totals in self.currencies)


def summarise(*, today: datetime.date, latest_imports: int = LATEST_IMPORTS) -> PortfolioSummary:
    """Return the portfolio's counts, balances and arrears as of ``today``.

    An account's balance is its charges minus its payments; its arrears are the
    charges due before ``today`` minus its payments, never below zero. Both are
    summed per currency of the account.
    """
    return PortfolioSummary(
        today=today,
        customers=models.Customer.objects.count(),
        accounts=models.Account.objects.count(),
        by_product_type=_tally("product_type", models.ProductType),
        by_status=_tally("status", models.AccountStatus),
        currencies=currency_totals(today=today),
        latest_imports=_latest_imports(latest_imports),
    )


CACHE_SECONDS = 24 * 60 * 60


def cache_key(*, today: datetime.date) -> str:
    """Return the key the summary is cached under: it changes with any state change.

    Every write to the portfolio appends to the audit log in the same transaction,
    so the hash of the chain's latest event names the book's version (unlike the
    chain's length, it never repeats after the database is emptied).
    """
    latest = (
        audit_models.AuditChainHead.objects.filter(pk=1)
        .values_list("latest_hash", flat=True)
        .first()
    )
    return f"accord:portfolio-summary:{today.isoformat()}:{latest or 'empty'}"


def cached_summary(*, today: datetime.date) -> PortfolioSummary:
    """Return the summary from the shared cache, computing it only after a change.

    The full aggregate reads every charge and payment (seconds on a book of a
    million accounts); pages must not pay that on every view.
    """
    key = cache_key(today=today)
    summary: PortfolioSummary | None = cache.get(key)
    if summary is None:
        summary = summarise(today=today)
        cache.set(key, summary, CACHE_SECONDS)
    return summary


def currency_totals(*, today: datetime.date) -> list[CurrencyTotals]:
    """Return balance and arrears per currency, in currency order, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_currency_totals_sql(), {"today": today})
        rows = cursor.fetchall()
    return [
        CurrencyTotals(
            currency=currency,
            accounts=int(accounts),
            accounts_in_arrears=int(in_arrears),
            balance=Money.from_minor_units(_whole(balance), currency),
            arrears=Money.from_minor_units(_whole(arrears), currency),
        )
        for currency, accounts, in_arrears, balance, arrears in rows
    ]


def _currency_totals_sql() -> str:
    # Charges and payments are each summed per account in their own derived table
    # before the join: joining the raw rows would count each charge once per payment.
    # CASE rather than GREATEST/MAX, which SQLite and PostgreSQL spell differently.
    q = connection.ops.quote_name
    account, charge, payment = (
        q(model._meta.db_table) for model in (models.Account, models.Charge, models.Payment)
    )
    return f"""
        WITH per_account AS (
            SELECT
                a.currency AS currency,
                COALESCE(c.charged, 0) - COALESCE(p.paid, 0) AS balance,
                CASE WHEN COALESCE(c.charged_due, 0) > COALESCE(p.paid, 0)
                     THEN COALESCE(c.charged_due, 0) - COALESCE(p.paid, 0)
                     ELSE 0 END AS arrears
            FROM {account} a
            LEFT JOIN (
                SELECT account_id,
                       SUM(amount_minor) AS charged,
                       SUM(CASE WHEN due_date < %(today)s THEN amount_minor ELSE 0 END)
                           AS charged_due
                FROM {charge}
                GROUP BY account_id
            ) c ON c.account_id = a.id
            LEFT JOIN (
                SELECT account_id, SUM(amount_minor) AS paid
                FROM {payment}
                GROUP BY account_id
            ) p ON p.account_id = a.id
        )
        SELECT currency,
               COUNT(*),
               SUM(CASE WHEN arrears > 0 THEN 1 ELSE 0 END),
               SUM(balance),
               SUM(arrears)
        FROM per_account
        GROUP BY currency
        ORDER BY currency
    """


def _whole(value: int | Decimal | None) -> int:
    # PostgreSQL sums bigint into numeric, which psycopg hands back as Decimal.
    if value is None:
        return 0
    whole = int(value)
    if whole != value:
        raise ValueError(f"a sum of minor units is not whole: {value!r}")
    return whole


def _tally(field: str, choices: type[TextChoices]) -> list[Tally]:
    labels = dict(choices.choices)
    rows = (
        models.Account.objects.order_by()
        .values(field)
        .annotate(count=Count("pk"))
        .order_by("-count", field)
    )
    return [
        Tally(value=row[field], label=str(labels.get(row[field], row[field])), count=row["count"])
        for row in rows
    ]


def _latest_imports(limit: int) -> list[ImportSummary]:
    labels = dict(models.ImportKind.choices)
    batches = models.ImportBatch.objects.order_by("-finished_at", "-pk")[:limit]
    return [
        ImportSummary(
            kind=batch.kind,
            kind_label=str(labels.get(batch.kind, batch.kind)),
            source_name=batch.source_name,
            rows=batch.rows,
            inserted=batch.inserted,
            updated=batch.updated,
            unchanged=batch.unchanged,
            actor=batch.actor,
            finished_at=batch.finished_at,
        )
        for batch in batches
    ]
