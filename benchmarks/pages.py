"""Time Accord's web pages, server side, on whatever book the configured database holds.

Run on demand against a seeded and strategy-run database, never in the test suite:

    ACCORD_DATA_DIR=/path/to/book .venv/bin/python benchmarks/pages.py --json FILE

Each page is requested through Django's test client (URL routing, middleware, session,
permission checks, queries and template rendering: everything but the network), first once to
warm caches, then ``--repeat`` times; the JSON gives the first (warm-up) request's time, the
median, p95 and maximum per page in milliseconds and the number of accounts in the book.
``--cold`` empties the shared cache first, so that the first request of a cached page (the
KPIs, an experiment's chosen window) pays for the computation.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import time
from pathlib import Path


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(share * (len(ordered) - 1)))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, required=True, help="where to write the result")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    parser.add_argument("--only", default="", help="time only the pages whose name has this")
    parser.add_argument("--cold", action="store_true", help="empty the shared cache first")
    arguments = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.config.settings")
    os.environ.setdefault("ACCORD_SECRET_KEY", "benchmark-only")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from accord.storage import experiment_assignments, models

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    users = get_user_model().objects
    staff = {name: users.get(username=name) for name in ("agent", "manager")}
    latest = models.Decision.objects.order_by("-as_of_date").values_list("as_of_date", flat=True)
    as_of = latest.first()
    # A customer the queue would show: the first call task's customer.
    task = (
        models.ContactAttempt.objects.filter(channel=models.Channel.CALL)
        .order_by("id")
        .values("customer_id", "account_id")
        .first()
    )
    if task is None:
        raise SystemExit("run `accord run` first: the book has no call tasks")
    customer_id = task["customer_id"]
    account_id = task["account_id"]
    # The outbox pages by position ("older than contact N"): page 500 starts after row 24,950.
    outbox = models.ContactAttempt.objects.order_by("-planned_at", "-pk")
    late_anchor = outbox.values_list("pk", flat=True)[499 * 50 - 1]

    agent = Client()
    agent.force_login(staff["agent"])
    manager = Client()
    manager.force_login(staff["manager"])
    customer = Client()
    session = customer.session
    session["accord_portal_customer_id"] = customer_id
    session["accord_portal_seen_at"] = time.time()
    session.save()

    pages = {
        "dashboard": (manager, "/"),
        "agent queue": (agent, "/agent/"),
        "agent queue, late stage": (agent, "/agent/?stage=LATE"),
        "agent queue, page 50": (agent, "/agent/?page=50"),
        "agent queue, call tasks": (agent, "/agent/?focus=CALL_TASKS"),
        "agent queue, promises": (agent, "/agent/?focus=PROMISES"),
        "agent queue, early, page 50": (agent, "/agent/?stage=EARLY&page=50"),
        "customer 360": (agent, f"/agent/customers/{customer_id}/"),
        "pre-call policy check": (agent, f"/agent/customers/{customer_id}/policy-check/"),
        "manager view": (manager, "/manager/"),
        "messages outbox": (manager, "/messages/"),
        "messages outbox, planned": (manager, "/messages/?status=PLANNED"),
        "messages outbox, email": (manager, "/messages/?channel=EMAIL"),
        "messages outbox, letter": (manager, "/messages/?channel=LETTER"),
        "messages outbox, page 500": (manager, f"/messages/?before={late_anchor}"),
        "messages letters": (manager, "/messages/letters/"),
        "messages mailbox": (manager, "/messages/mailbox/"),
        "messages sms": (manager, "/messages/sms/"),
        "portal overview": (customer, "/portal/"),
        "portal account": (customer, f"/portal/accounts/{account_id}/"),
        "portal payments": (customer, "/portal/payments/"),
        "portal messages": (customer, "/portal/messages/"),
    }
    # The experiment pages: the list, the figures counted after the latest run, and a chosen
    # window (28 days ending the day before the latest decision) counted on demand.
    for experiment in experiment_assignments.experiment_names()[:1]:
        dates = experiment_assignments.decided_dates(experiment)
        assert dates is not None
        end = dates[1] - datetime.timedelta(days=1)
        window = f"start={end - datetime.timedelta(days=27)}&end={end}"
        pages["experiments list"] = (manager, "/manager/experiments/")
        pages["experiment results"] = (manager, f"/manager/experiments/{experiment}/")
        pages["experiment, chosen window"] = (
            manager,
            f"/manager/experiments/{experiment}/?{window}",
        )
    if arguments.cold:
        from django.core.cache import cache

        cache.clear()
    results = {}
    for name, (client, url) in pages.items():
        if arguments.only not in name:
            continue
        started = time.perf_counter()
        warm = client.get(url)
        first_ms = (time.perf_counter() - started) * 1000
        if warm.status_code != 200:
            raise SystemExit(f"{name}: {url} answered {warm.status_code}")
        timings = []
        for _ in range(arguments.repeat):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        results[name] = {
            "url": url,
            "first_ms": round(first_ms, 1),
            "median_ms": round(statistics.median(timings), 1),
            "p95_ms": round(_percentile(timings, 0.95), 1),
            "max_ms": round(max(timings), 1),
        }
        timing = results[name]
        print(
            f"{name:28} first {timing['first_ms']:9.1f} ms   median {timing['median_ms']:7.1f} ms"
            f"   p95 {timing['p95_ms']:7.1f} ms"
        )

    output = {
        "accounts": models.Account.objects.count(),
        "customers": models.Customer.objects.count(),
        "decisions_as_of": str(as_of),
        "database": connection.vendor,
        "repeat": arguments.repeat,
        "pages": results,
    }
    arguments.json.parent.mkdir(parents=True, exist_ok=True)
    arguments.json.write_text(json.dumps(output, indent=2) + "\n")


if __name__ == "__main__":
    main()
