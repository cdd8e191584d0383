"""Read where accounts stand on a date: days past due, bucket, stage, balance and arrears.

The web pages ask about a handful of accounts; those are computed with the domain's own
functions (:mod:`accord.domain.arrears`) on rows loaded for just those accounts. Larger
sets go through the strategy run's engine (Ibis on DuckDB over an Arrow extract). A
property test proves the engine equal to the domain functions, and an integration test
proves both paths agree on stored data, so a page never disagrees with the latest run's
arithmetic.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Sequence

from accord.domain import arrears
from accord.domain.money import Money
from accord.storage import extract, models
from accord.strategy import delinquency

# Up to this many accounts, load their rows and use the domain functions directly.
SMALL_SET = 200


@dataclasses.dataclass(frozen=True, kw_only=True)
class AccountState:
    """Describe one account on ``as_of``: how late, how much, which bucket and stage."""

    account_id: int
    customer_id: int
    currency: str
    status: str
    as_of: datetime.date
    days_past_due: int
    days_until_next_due: int | None
    bucket: str
    bucket_label: str
    stage: arrears.DelinquencyStage
    balance: Money
    arrears: Money


def account_states(
    *, as_of: datetime.date, account_ids: Sequence[int] | None = None
) -> list[AccountState]:
    """Return the state of every account (or of ``account_ids``) on ``as_of``, by account id.

    Unknown ids are left out. Uses the default bucket scheme and stage thresholds.
    """
    if account_ids is not None and len(account_ids) <= SMALL_SET:
        return _few(as_of=as_of, account_ids=sorted(set(account_ids)))
    return _batch(as_of=as_of, account_ids=account_ids)


def _bucket_labels() -> dict[str, str]:
    return {bucket.code: bucket.label for bucket in arrears.DEFAULT_BUCKETS.buckets}


def _few(*, as_of: datetime.date, account_ids: list[int]) -> list[AccountState]:
    if not account_ids:
        return []
    accounts = list(
        models.Account.objects.filter(pk__in=account_ids)
        .order_by("pk")
        .values_list("pk", "customer_id", "currency", "status")
    )
    charges: dict[int, list[arrears.Charge]] = defaultdict(list)
    for account_id, ref, due_date, amount, currency in models.Charge.objects.filter(
        account_id__in=account_ids
    ).values_list("account_id", "external_ref", "due_date", "amount_minor", "currency"):
        charges[account_id].append(
            arrears.Charge(
                reference=ref, due_date=due_date, amount=Money.from_minor_units(amount, currency)
            )
        )
    payments: dict[int, list[arrears.Payment]] = defaultdict(list)
    for account_id, ref, received, amount, currency in models.Payment.objects.filter(
        account_id__in=account_ids, received_date__lte=as_of
    ).values_list("account_id", "external_ref", "received_date", "amount_minor", "currency"):
        payments[account_id].append(
            arrears.Payment(
                reference=ref,
                received_date=received,
                amount=Money.from_minor_units(amount, currency),
            )
        )
    labels = _bucket_labels()
    states = []
    for account_id, customer_id, currency, status in accounts:
        owed, paid = charges[account_id], payments[account_id]
        dpd = arrears.days_past_due(charges=owed, payments=paid, as_of=as_of)
        until = arrears.days_until_next_due(charges=owed, payments=paid, as_of=as_of)
        bucket = arrears.DEFAULT_BUCKETS.classify(dpd)
        states.append(
            AccountState(
                account_id=account_id,
                customer_id=customer_id,
                currency=currency,
                status=status,
                as_of=as_of,
                days_past_due=dpd,
                days_until_next_due=until,
                bucket=bucket.code,
                bucket_label=labels[bucket.code],
                stage=arrears.delinquency_stage(days_past_due=dpd, days_until_next_due=until),
                balance=arrears.balance(
                    charges=owed, payments=paid, as_of=as_of, currency=currency
                ),
                arrears=arrears.arrears(
                    charges=owed, payments=paid, as_of=as_of, currency=currency
                ),
            )
        )
    return states


def _batch(*, as_of: datetime.date, account_ids: Sequence[int] | None) -> list[AccountState]:
    table = delinquency.compute_states(
        accounts=extract.accounts(account_ids=account_ids),
        charges=extract.charges(account_ids=account_ids),
        payments=extract.payments(as_of=as_of, account_ids=account_ids),
        as_of=as_of,
    )
    labels = _bucket_labels()
    return [
        AccountState(
            account_id=row["account_id"],
            customer_id=row["customer_id"],
            currency=row["currency"],
            status=row["status"],
            as_of=as_of,
            days_past_due=row["days_past_due"],
            days_until_next_due=row["days_until_next_due"],
            bucket=row["bucket"],
            bucket_label=labels[row["bucket"]],
            stage=arrears.DelinquencyStage(row["stage"]),
            balance=Money.from_minor_units(row["balance_minor"], row["currency"]),
            arrears=Money.from_minor_units(row["arrears_minor"], row["currency"]),
        )
        for row in table.to_pylist()
    ]
