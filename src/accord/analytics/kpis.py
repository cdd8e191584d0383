"""Compute the manager's KPIs over a period: collection rate and promise-kept rate.

Both are defined in ``docs/metrics.md``; this module is their single implementation.
Every figure is one aggregate SQL statement, grouped by currency: amounts in different
currencies are never added together. A rate whose denominator is empty is ``None``
(the page shows "—"), never zero.
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Sum

from accord.audit import models as audit_models
from accord.domain.money import Money
from accord.storage import models


class InvalidPeriod(ValueError):
    """The period ends before it starts."""

    def __init__(self, start: datetime.date, end: datetime.date) -> None:
        super().__init__(f"the period ends ({end}) before it starts ({start})")


@dataclasses.dataclass(frozen=True, kw_only=True)
class CollectionRate:
    """Hold what was collected in one currency against what there was to collect.

    ``to_collect`` is, per account, everything due by the end of the period not paid
    before it started (arrears at the start plus charges falling due in the period);
    ``collected`` is, per account, the payments received in the period up to that
    amount; ``received`` is every payment received in the period, uncapped.
    """

    currency: str
    accounts: int
    to_collect: Money
    collected: Money
    received: Money
    rate: Decimal | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class PromiseKeptRate:
    """Hold how many promises falling due in the period were kept, in one currency.

    ``awaiting`` counts promises still OPEN (their date is ahead, or the daily run has
    not evaluated them yet); they are not in the rate.
    """

    currency: str
    kept: int
    broken: int
    awaiting: int
    kept_amount: Money
    broken_amount: Money
    rate: Decimal | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Kpis:
    """Hold both KPIs for one period."""

    start: datetime.date
    end: datetime.date
    collection: list[CollectionRate]
    promises: list[PromiseKeptRate]


def _check(start: datetime.date, end: datetime.date) -> None:
    if end < start:
        raise InvalidPeriod(start, end)


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    return None if denominator == 0 else Decimal(numerator) / Decimal(denominator)


def _whole(value: int | Decimal | None) -> int:
    # PostgreSQL sums bigint into numeric, which psycopg hands back as Decimal.
    return 0 if value is None else int(value)


def collection_rate(*, start: datetime.date, end: datetime.date) -> list[CollectionRate]:
    """Return the collection rate per currency for ``start`` to ``end``, both included.

    Payments are matched to the account they were made on; an account's payments count
    only up to what it had to collect, so paying ahead never lifts the rate above 100%.
    """
    _check(start, end)
    with connection.cursor() as cursor:
        cursor.execute(_collection_sql(), {"start": start, "end": end})
        rows = cursor.fetchall()
    results = []
    for currency, accounts, to_collect, collected, received in rows:
        owed, got = _whole(to_collect), _whole(collected)
        results.append(
            CollectionRate(
                currency=currency,
                accounts=int(accounts),
                to_collect=Money.from_minor_units(owed, currency),
                collected=Money.from_minor_units(got, currency),
                received=Money.from_minor_units(_whole(received), currency),
                rate=_ratio(got, owed),
            )
        )
    return results


def _collection_sql() -> str:
    # Charges and payments are each summed per account before the join (joining raw rows
    # would count each charge once per payment). CASE instead of GREATEST/LEAST, which
    # SQLite and PostgreSQL spell differently.
    q = connection.ops.quote_name
    account, charge, payment = (
        q(model._meta.db_table) for model in (models.Account, models.Charge, models.Payment)
    )
    return f"""
        WITH per_account AS (
            SELECT a.currency AS currency,
                   CASE WHEN COALESCE(c.due, 0) > COALESCE(p.paid_before, 0)
                        THEN COALESCE(c.due, 0) - COALESCE(p.paid_before, 0)
                        ELSE 0 END AS owed,
                   COALESCE(p.paid_in, 0) AS paid_in
            FROM {account} a
            LEFT JOIN (
                SELECT account_id, SUM(amount_minor) AS due
                FROM {charge}
                WHERE due_date <= %(end)s
                GROUP BY account_id
            ) c ON c.account_id = a.id
            LEFT JOIN (
                SELECT account_id,
                       SUM(CASE WHEN received_date < %(start)s THEN amount_minor ELSE 0 END)
                           AS paid_before,
                       SUM(CASE WHEN received_date >= %(start)s THEN amount_minor ELSE 0 END)
                           AS paid_in
                FROM {payment}
                WHERE received_date <= %(end)s
                GROUP BY account_id
            ) p ON p.account_id = a.id
        )
        SELECT currency,
               SUM(CASE WHEN owed > 0 THEN 1 ELSE 0 END),
               SUM(owed),
               SUM(CASE WHEN paid_in < owed THEN paid_in ELSE owed END),
               SUM(paid_in)
        FROM per_account
        WHERE owed > 0 OR paid_in > 0
        GROUP BY currency
        ORDER BY currency
    """


def promise_kept_rate(*, start: datetime.date, end: datetime.date) -> list[PromiseKeptRate]:
    """Return the promise-kept rate per currency for promises due ``start`` to ``end``.

    The rate is kept ÷ (kept + broken), by count; cancelled promises are left out and
    open ones are reported as awaiting.
    """
    _check(start, end)
    status = models.PromiseStatus
    rows = (
        models.Promise.objects.filter(
            promised_date__gte=start,
            promised_date__lte=end,
            status__in=[status.KEPT, status.BROKEN, status.OPEN],
        )
        .order_by()
        .values_list("currency", "status")
        .annotate(count=Count("pk"), amount=Sum("amount_minor"))
    )
    table: dict[str, dict[str, tuple[int, int]]] = {}
    for currency, state, count, amount in rows:
        table.setdefault(currency, {})[state] = (int(count), _whole(amount))
    results = []
    for currency in sorted(table):
        by_status = table[currency]
        kept, kept_minor = by_status.get(status.KEPT, (0, 0))
        broken, broken_minor = by_status.get(status.BROKEN, (0, 0))
        awaiting, _ = by_status.get(status.OPEN, (0, 0))
        results.append(
            PromiseKeptRate(
                currency=currency,
                kept=kept,
                broken=broken,
                awaiting=awaiting,
                kept_amount=Money.from_minor_units(kept_minor, currency),
                broken_amount=Money.from_minor_units(broken_minor, currency),
                rate=_ratio(kept, kept + broken),
            )
        )
    return results


def kpis(*, start: datetime.date, end: datetime.date) -> Kpis:
    """Return both KPIs for ``start`` to ``end``, both included."""
    return Kpis(
        start=start,
        end=end,
        collection=collection_rate(start=start, end=end),
        promises=promise_kept_rate(start=start, end=end),
    )


CACHE_SECONDS = 24 * 60 * 60


def cached_kpis(*, start: datetime.date, end: datetime.date) -> Kpis:
    """Return :func:`kpis` from the shared cache, recomputing only after an audited change.

    As for the dashboard (ADR 0007), the audit chain's latest hash versions the book.
    """
    _check(start, end)
    latest = (
        audit_models.AuditChainHead.objects.filter(pk=1)
        .values_list("latest_hash", flat=True)
        .first()
    )
    key = f"accord:kpis:{start.isoformat()}:{end.isoformat()}:{latest or 'empty'}"
    found: Kpis | None = cache.get(key)
    if found is None:
        found = kpis(start=start, end=end)
        cache.set(key, found, CACHE_SECONDS)
    return found
