"""``accord demo seed|users``: a demo portfolio and demo users for every role."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accord.analytics import customer_portal, portfolio_summary
from accord.cli import progress
from accord.usecases import demo_users, import_portfolio
from accord.usecases.seed_demo import portfolio


class Command(BaseCommand):
    help = "Seed a deterministic demo portfolio (`seed`) or create demo users (`users`)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        seed = sub.add_parser("seed", help="generate and import a demo portfolio")
        seed.add_argument("--accounts", type=int, default=5000)
        seed.add_argument("--seed", type=int, default=42)
        sub.add_parser("users", help="create a demo user for every role and print passwords")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.ENV.demo or settings.ENV.debug):
            # Demo users have published passwords: never on a real installation.
            raise CommandError(
                "accord demo runs only with ACCORD_DEMO=1 (or ACCORD_DEBUG=1): it creates "
                "users with published passwords"
            )
        if options["action"] == "seed":
            self._seed(accounts=options["accounts"], seed=options["seed"])
        else:
            self._users()

    def _seed(self, *, accounts: int, seed: int) -> None:
        if accounts < 1:
            raise CommandError("--accounts must be at least 1")
        started = time.perf_counter()
        with progress.stages(enabled=True, title="Seeding demo portfolio") as update:
            try:
                report = portfolio.seed_demo_portfolio(
                    accounts=accounts,
                    seed=seed,
                    folder=settings.ENV.data_dir / "demo",
                    now=timezone.now(),
                    progress=update,
                )
            except import_portfolio.ImportRejected as rejected:
                raise CommandError(f"demo data did not validate: {rejected}") from None
        for imported in report.imports:
            self.stdout.write(
                f"  {imported.kind.value:<10} {imported.rows:>9} rows: {imported.inserted} new, "
                f"{imported.updated} updated, {imported.unchanged} unchanged"
            )
        self.stdout.write(
            f"  circumstances: {report.vulnerable} vulnerable, {report.disputes} disputes, "
            f"{report.cease_requests} cease requests, {report.opt_outs} opt-outs, "
            f"{report.consents} consents"
        )
        portfolio_summary.cached_summary(today=timezone.localdate())  # warm the dashboard
        self.stdout.write(f"Demo portfolio ready in {time.perf_counter() - started:.1f} s.")

    def _users(self) -> None:
        users = demo_users.ensure_demo_users(actor="system:demo", now=timezone.now())
        self.stdout.write("Demo users (sign in at /login/):")
        for user in users:
            self.stdout.write(
                f"  {user.username:<10} password: {user.password:<24} ({user.role.label})"
            )
        email = customer_portal.sample_sign_in_email(as_of=timezone.localdate())
        if email:
            self.stdout.write(
                f"Customer portal: sign in at /portal/ as {email}; the one-time code "
                "arrives in the Messages page's mailbox (/messages/mailbox/)."
            )
