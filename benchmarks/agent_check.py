"""Time the live contact check an agent's dialler runs before each call (``check_contact``).

Target (issue 6): p99 < 5 ms. The book is the demo book (``usecases.seed_demo.bulk``) of
``--accounts`` accounts in a scratch SQLite database (or the configured database with
``--configured``, which must then be empty or already hold a book), plus a realistic
contact history written here: every account gets 0-8 outbound calls and 0-3 texts in the
nine days before ``NOW`` (the history ``check_contact`` reads), one call in five with a
conversation, and a few customers get a dated opt-out, a breathing space or a
vulnerability. It then times ``check_contact`` alone and ``lock_customer`` +
``check_contact`` in a transaction (the agent's pre-call path, without the write) for
``--sample`` random accounts, under the packs of ``--policies``, and writes JSON.

    .venv/bin/python benchmarks/agent_check.py --accounts 10000 --sample 2000 \
        --json benchmarks/results/agent-check-10000-sqlite.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

# Wednesday 25 Nov 2026, 15:00 UTC: within convenient hours in every US zone.
NOW = datetime.datetime(2026, 11, 25, 17, 0, tzinfo=datetime.UTC)


def _setup_django(configured: bool) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.config.settings")
    os.environ.setdefault("ACCORD_SECRET_KEY", "benchmark-only")
    if not configured:
        os.environ["ACCORD_DATA_DIR"] = tempfile.mkdtemp(prefix="accord-bench-check-")
        os.environ.pop("ACCORD_DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _history(seed: int) -> dict[str, int]:
    """Write nine days of contact history and a few circumstances; return row counts."""
    from accord.storage import models

    rng = random.Random(seed)
    attempts = []
    circumstances = {"opt_outs": 0, "breathing_spaces": 0, "vulnerabilities": 0}
    rows = models.Account.objects.values_list("pk", "customer_id").order_by("pk")
    for account_id, customer_id in rows.iterator():
        for channel, most in ((models.Channel.CALL, 8), (models.Channel.SMS, 3)):
            for _ in range(rng.randint(0, most)):
                at = NOW - datetime.timedelta(minutes=rng.randint(60, 9 * 24 * 60))
                call = channel is models.Channel.CALL
                attempts.append(
                    models.ContactAttempt(
                        customer_id=customer_id,
                        account_id=account_id,
                        channel=channel,
                        origin=models.ContactOrigin.AGENT
                        if call
                        else models.ContactOrigin.STRATEGY,
                        planned_at=at,
                        sent_at=at,
                        status=models.ContactStatus.COMPLETED
                        if call
                        else models.ContactStatus.SENT,
                        conversation=call and rng.random() < 0.2,
                        connected=True if call else None,
                        idempotency_key=f"bench:{uuid.uuid4()}",
                        created_at=at,
                        updated_at=at,
                    )
                )
        draw = rng.random()
        opted_out = models.ChannelOptOut.objects.filter(
            customer_id=customer_id, channel=models.Channel.SMS, withdrawn_at__isnull=True
        ).exists()
        if draw < 0.02 and not opted_out:
            models.ChannelOptOut.objects.create(
                customer_id=customer_id,
                channel=models.Channel.SMS,
                opted_out_at=NOW - datetime.timedelta(days=20),
                source="bench",
                recorded_by="bench",
            )
            circumstances["opt_outs"] += 1
        elif draw < 0.03:
            models.BreathingSpace.objects.create(
                customer_id=customer_id,
                kind=models.BreathingSpaceKind.STANDARD,
                starts_on=(NOW - datetime.timedelta(days=10)).date(),
                ends_on=(NOW + datetime.timedelta(days=50)).date(),
                recorded_at=NOW - datetime.timedelta(days=10),
                recorded_by="bench",
            )
            circumstances["breathing_spaces"] += 1
        elif draw < 0.04:
            models.Vulnerability.objects.create(
                customer_id=customer_id,
                category=models.VulnerabilityCategory.LIFE_EVENT,
                consent_to_record=True,
                review_date=(NOW + datetime.timedelta(days=60)).date(),
                recorded_at=NOW - datetime.timedelta(days=5),
                recorded_by="bench",
            )
            circumstances["vulnerabilities"] += 1
        if len(attempts) >= 5000:
            models.ContactAttempt.objects.bulk_create(attempts)
            attempts.clear()
    models.ContactAttempt.objects.bulk_create(attempts)
    return {"contact_attempts": models.ContactAttempt.objects.count(), **circumstances}


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49] * 1000, 3),
        "p95_ms": round(cuts[94] * 1000, 3),
        "p99_ms": round(cuts[98] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


def main() -> None:
    """Build the book, time the checks and write the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--policies", default="us-reg-f", help="comma-separated packs")
    parser.add_argument("--configured", action="store_true", help="use ACCORD_DATABASE_URL")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    _setup_django(args.configured)

    from django.db import connection, transaction

    from accord.domain import compliance
    from accord.storage import models
    from accord.usecases import contact_policy
    from accord.usecases.seed_demo import bulk

    build: dict[str, Any] = {}
    if not models.Customer.objects.exists():
        started = time.perf_counter()
        bulk.load_demo_book(accounts=args.accounts, seed=args.seed, actor="bench", now=NOW)
        build["book_seconds"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        build["history"] = _history(args.seed)
        build["history_seconds"] = round(time.perf_counter() - started, 1)
    policy = contact_policy.PolicyConfiguration(
        policies=tuple(compliance.PolicyPack(name.strip()) for name in args.policies.split(",")),
        operator=compliance.NO_OPERATOR_SETTINGS,
    )
    accounts = list(models.Account.objects.values_list("pk", "customer_id"))
    rng = random.Random(args.seed)
    sample = [rng.choice(accounts) for _ in range(args.sample)]

    def check(account_id: int, customer_id: int) -> compliance.Decision:
        return contact_policy.check_contact(
            customer_id=customer_id,
            account_ids=[account_id],
            channel="CALL",
            now=NOW,
            policy=policy,
        )

    for account_id, customer_id in sample[:100]:  # warm the caches and the connection
        check(account_id, customer_id)
    alone: list[float] = []
    allowed = 0
    for account_id, customer_id in sample:
        started = time.perf_counter()
        decision = check(account_id, customer_id)
        alone.append(time.perf_counter() - started)
        allowed += decision.allowed
    locked: list[float] = []
    for account_id, customer_id in sample:
        started = time.perf_counter()
        with transaction.atomic():
            contact_policy.lock_customer(customer_id)
            check(account_id, customer_id)
        locked.append(time.perf_counter() - started)
    result = {
        "benchmark": "agent_check",
        "database": connection.vendor,
        "accounts": models.Account.objects.count(),
        "customers": models.Customer.objects.count(),
        "policies": [pack.value for pack in policy.policies],
        "sample": len(sample),
        "allowed_share": round(allowed / len(sample), 3),
        "build": build,
        "check_contact": _percentiles(alone),
        "lock_and_check": _percentiles(locked),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
