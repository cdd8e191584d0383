"""Build experiment arms, their decisions and their harm events for the experiment tests."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence

from accord.storage import models
from accord.strategy import definition
from tests.integration import manager_data as data

EXPERIMENT = "trial"
CHAMPION, CHALLENGER = "champion", "challenger"
# The guardrail check at NOW looks at decisions dated 2026-10-29 .. 2026-11-25.
NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 25)
_refs = itertools.count(1)


def strategy(
    *,
    min_accounts: int = 10,
    opt_outs: str = "5",
    complaints: str = "2",
    disputes: str = "5",
    broken_promises: str = "50",
) -> definition.Strategy:
    """Return a strategy whose one segment runs the 50/50 experiment ``trial``."""
    return definition.parse(
        {
            "name": "trial_strategy",
            "version": "1",
            "bucket_edges": [30, 60, 90],
            "segments": [
                {
                    "name": "everyone",
                    "path": "standard",
                    "experiment": {
                        "name": EXPERIMENT,
                        "arms": [
                            {"name": CHAMPION, "percent": 50},
                            {"name": CHALLENGER, "percent": 50, "path": "gentle"},
                        ],
                        "guardrails": {
                            "min_accounts": min_accounts,
                            "opt_outs": opt_outs,
                            "complaints": complaints,
                            "disputes": disputes,
                            "broken_promises": broken_promises,
                        },
                    },
                }
            ],
            "paths": {
                "standard": {
                    "steps": [
                        {
                            "step": "LATE_NOTICE",
                            "from_dpd": 1,
                            "template": "late_notice",
                            "channels": ["EMAIL"],
                            "every_days": 7,
                        }
                    ]
                },
                "gentle": {
                    "steps": [
                        {
                            "step": "LATE_NOTICE",
                            "from_dpd": 1,
                            "template": "late_notice",
                            "channels": ["SMS"],
                            "every_days": 7,
                        }
                    ]
                },
            },
        }
    )


def run(as_of: datetime.date) -> models.StrategyRun:
    return data.run(as_of)


def accounts(count: int, currency: str = "EUR") -> list[models.Account]:
    """Create ``count`` customers with one open account each, in bulk."""
    batch = next(_refs)
    models.Customer.objects.bulk_create(
        models.Customer(
            external_ref=f"XC-{batch}-{n}",
            debtor_type=models.DebtorType.CONSUMER,
            name=f"Customer {batch}-{n}",
            country="ES",
            time_zones=["Europe/Madrid"],
            time_zone_source=models.TimeZoneSource.GIVEN,
            **data.stamp(),
        )
        for n in range(count)
    )
    customers = list(
        models.Customer.objects.filter(external_ref__startswith=f"XC-{batch}-").order_by("pk")
    )
    models.Account.objects.bulk_create(
        models.Account(
            external_ref=f"XA-{batch}-{n}",
            customer=owner,
            product_type=models.ProductType.LOAN,
            currency=currency,
            opened_date=datetime.date(2024, 1, 10),
            status=models.AccountStatus.OPEN,
            **data.stamp(),
        )
        for n, owner in enumerate(customers)
    )
    return list(
        models.Account.objects.filter(external_ref__startswith=f"XA-{batch}-")
        .select_related("customer")
        .order_by("pk")
    )


def decide(
    of: models.StrategyRun,
    owners: Sequence[models.Account],
    *,
    arm: str,
    dpd: int = 10,
    bucket: str = "DPD_1_30",
    experiment: str = EXPERIMENT,
) -> list[models.Decision]:
    """Record one decision per account in ``arm`` on the run's as-of date, in bulk."""
    models.Decision.objects.bulk_create(
        models.Decision(
            run=of,
            account=owner,
            as_of_date=of.as_of_date,
            days_past_due=dpd,
            bucket=bucket,
            stage="EARLY" if dpd else "CURRENT",
            arrears_minor=1000 if dpd else 0,
            balance_minor=5000,
            currency=owner.currency,
            treatment=models.Treatment.LATE_NOTICE if dpd else models.Treatment.NONE,
            channel=models.Channel.EMAIL if dpd else "",
            reason_codes=[],
            strategy_version="trial_strategy@1",
            segment="everyone",
            path="standard",
            experiment=experiment,
            arm=arm,
            created_at=NOW,
        )
        for owner in owners
    )
    return list(models.Decision.objects.filter(run=of, account__in=owners).order_by("account_id"))


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def complaints(owners: Sequence[models.Account], when: datetime.datetime) -> None:
    models.Complaint.objects.bulk_create(
        models.Complaint(
            customer=owner.customer,
            account=owner,
            category=models.ComplaintCategory.CONTACT,
            summary="Too many messages",
            received_at=when,
            recorded_by="user:agent",
        )
        for owner in owners
    )


def opt_outs(owners: Sequence[models.Account], when: datetime.datetime) -> None:
    models.ChannelOptOut.objects.bulk_create(
        models.ChannelOptOut(
            customer=owner.customer,
            channel=models.Channel.SMS,
            opted_out_at=when,
            source="reply STOP",
            recorded_by="system:sms",
        )
        for owner in owners
    )


def disputes(owners: Sequence[models.Account], when: datetime.datetime) -> None:
    models.Dispute.objects.bulk_create(
        models.Dispute(account=owner, reason="Not mine", received_at=when, recorded_by="user:agent")
        for owner in owners
    )


def promises(
    owners: Sequence[models.Account],
    *,
    due: datetime.date,
    status: str,
    resolved: datetime.datetime | None = None,
    amount_minor: int = 1000,
) -> None:
    models.Promise.objects.bulk_create(
        models.Promise(
            account=owner,
            amount_minor=amount_minor,
            currency=owner.currency,
            promised_date=due,
            status=status,
            source=models.Source.AGENT,
            created_at=NOW - datetime.timedelta(days=30),
            created_by="user:agent",
            resolved_at=resolved,
        )
        for owner in owners
    )
