"""Seed a demo portfolio through the real CSV import, then give a few customers
the circumstances a real book has: vulnerability, disputes, cease requests,
opt-outs and consent.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from accord.storage import models
from accord.usecases import circumstances, import_portfolio
from accord.usecases.seed_demo import generator

Kind = import_portfolio.RecordKind
ACTOR = "system:demo"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SeedReport:
    imports: tuple[import_portfolio.ImportReport, ...]
    vulnerable: int
    disputes: int
    cease_requests: int
    opt_outs: int
    consents: int


def seed_demo_portfolio(
    *,
    accounts: int,
    seed: int,
    folder: Path,
    now: datetime,
    progress: Callable[[str, int, int], None] | None = None,
) -> SeedReport:
    """Generate a deterministic portfolio, write it as CSV into ``folder`` and import it.

    Raises ``import_portfolio.ImportRejected`` if the generated files do not validate
    (a bug in the generator, never silently ignored).
    """
    book = generator.generate(accounts=accounts, seed=seed, as_of=now.date())
    folder.mkdir(parents=True, exist_ok=True)
    reports = []
    for kind, frame in [
        (Kind.CUSTOMERS, book.customers),
        (Kind.ACCOUNTS, book.accounts),
        (Kind.CHARGES, book.charges),
        (Kind.PAYMENTS, book.payments),
    ]:
        path = folder / f"demo-{kind.value}.csv"
        frame.write_csv(path)
        reports.append(
            import_portfolio.import_file(
                kind=kind, path=path, actor=ACTOR, now=now, progress=progress
            )
        )
    counts = _circumstances(seed=seed, accounts=accounts, now=now)
    return SeedReport(imports=tuple(reports), **counts)


def _circumstances(*, seed: int, accounts: int, now: datetime) -> dict[str, int]:
    """Give about 1 in 100 customers each circumstance (at least a handful), once."""
    rng = random.Random(seed)
    if models.Vulnerability.objects.filter(recorded_by=ACTOR).exists():
        return {"vulnerable": 0, "disputes": 0, "cease_requests": 0, "opt_outs": 0, "consents": 0}
    customer_ids = list(models.Customer.objects.order_by("pk").values_list("pk", flat=True))
    account_ids = list(models.Account.objects.order_by("pk").values_list("pk", flat=True))
    share = max(3, min(200, accounts // 100))
    vulnerable = rng.sample(customer_ids, min(share, len(customer_ids)))
    categories = list(models.VulnerabilityCategory)
    for index, customer_id in enumerate(vulnerable):
        consent = index % 3 != 0
        circumstances.record_vulnerability(
            customer_id=customer_id,
            category=categories[index % len(categories)],
            consent_to_record=consent,
            detail="Told us about a recent hospital stay." if consent else "",
            review_date=(now + timedelta(days=90)).date(),
            recorded_by=ACTOR,
            now=now,
        )
    disputed = rng.sample(account_ids, min(share, len(account_ids)))
    for account_id in disputed:
        circumstances.raise_dispute(
            account_id=account_id,
            reason="Customer says this charge was already paid.",
            recorded_by=ACTOR,
            now=now,
        )
    ceased = rng.sample(customer_ids, min(max(1, share // 3), len(customer_ids)))
    for customer_id in ceased:
        circumstances.record_cease_request(customer_id=customer_id, recorded_by=ACTOR, now=now)
    opted = rng.sample(customer_ids, min(share, len(customer_ids)))
    channels = [models.Channel.SMS, models.Channel.EMAIL, models.Channel.CALL]
    for index, customer_id in enumerate(opted):
        circumstances.record_opt_out(
            customer_id=customer_id,
            channel=channels[index % len(channels)],
            source="demo seed",
            recorded_by=ACTOR,
            now=now,
        )
    consenting = rng.sample(customer_ids, min(share, len(customer_ids)))
    for customer_id in consenting:
        circumstances.record_consent(
            customer_id=customer_id,
            channel=models.Channel.SMS,
            purpose=models.ConsentPurpose.COLLECTIONS_CONTACT,
            evidence="Ticked the SMS box on the application form.",
            recorded_by=ACTOR,
            now=now,
        )
    return {
        "vulnerable": len(vulnerable),
        "disputes": len(disputed),
        "cease_requests": len(ceased),
        "opt_outs": len(opted),
        "consents": len(consenting),
    }
