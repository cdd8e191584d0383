"""Build small engine inputs account by account, with every fact a strategy reads."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa

from accord.strategy import definition, engine

AS_OF = date(2026, 11, 25)
# 15:00 UTC: inside default contact hours in Madrid.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
UTC_US = pa.timestamp("us", tz="UTC")


@dataclasses.dataclass
class Book:
    """Collect accounts and the facts about them, then give the engine's inputs."""

    rows: dict[str, list[dict[str, Any]]] = dataclasses.field(
        default_factory=lambda: {name: [] for name in _SCHEMAS}
    )
    paused: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def account(
        self,
        account_id: int,
        *,
        days_late: int | None = 12,
        due_in: int | None = None,
        amount: int = 1_000,
        status: str = "OPEN",
        currency: str = "EUR",
        product: str = "LOAN",
        customer_id: int | None = None,
        paid: tuple[tuple[int, int], ...] = (),
        email: bool = True,
        phone: bool = True,
        address: bool = True,
        preferred: str = "",
        language: str = "en",
        debtor_type: str = "CONSUMER",
        region: str = "",
        country: str = "ES",
        marks: tuple[str, ...] = (),
    ) -> int:
        """Add an account (and its customer, unless shared): ``days_late`` or ``due_in`` days.

        ``paid`` holds (days ago, amount) payments; ``marks`` any of: vulnerable,
        breathing_space, cease, dispute, unverified_dispute, promise, plan, and
        ``opted_<CHANNEL>``.
        """
        customer = customer_id or account_id
        self.rows["accounts"].append(
            {
                "account_id": account_id,
                "customer_id": customer,
                "currency": currency,
                "status": status,
                "product_type": product,
            }
        )
        if days_late is not None:
            self.charge(account_id, due=AS_OF - timedelta(days=days_late), amount=amount)
        if due_in is not None:
            self.charge(account_id, due=AS_OF + timedelta(days=due_in), amount=amount)
        for days_ago, paid_amount in paid:
            self.rows["payments"].append(
                {
                    "account_id": account_id,
                    "received_date": AS_OF - timedelta(days=days_ago),
                    "amount_minor": paid_amount,
                }
            )
        if customer_id is None:
            self.rows["customers"].append(
                {
                    "customer_id": customer,
                    "language": language,
                    "preferred_channel": preferred,
                    "time_zones": ["Europe/Madrid"],
                    "contact_hours_start": None,
                    "contact_hours_end": None,
                    "has_address": address,
                    "debtor_type": debtor_type,
                    "region": region,
                    "country": country,
                }
            )
            if email:
                self.point(customer, "EMAIL", f"c{customer}@example.com")
            if phone:
                self.point(customer, "PHONE", f"+3460000{customer}")
        for mark in marks:
            self._mark(mark, account_id=account_id, customer_id=customer)
        return account_id

    def charge(self, account_id: int, *, due: date, amount: int) -> None:
        """Add a charge falling due on ``due``."""
        self.rows["charges"].append(
            {
                "account_id": account_id,
                "due_date": due,
                "amount_minor": amount,
            }
        )

    def point(self, customer_id: int, kind: str, value: str, position: int = 0) -> None:
        """Add a contact point."""
        self.rows["contact_points"].append(
            {"customer_id": customer_id, "kind": kind, "value": value, "position": position}
        )

    def contact(
        self,
        account_id: int | None,
        *,
        customer_id: int,
        template: str,
        days_ago: int,
        status: str = "SENT",
        channel: str = "EMAIL",
        direction: str = "OUTBOUND",
    ) -> None:
        """Add a past contact ``days_ago`` days before the as-of date (same hour)."""
        at = NOW - timedelta(days=days_ago)
        self.rows["history"].append(
            {
                "account_id": account_id,
                "customer_id": customer_id,
                "template": template,
                "channel": channel,
                "status": status,
                "direction": direction,
                "connected": None,
                "planned_at": at,
                "sent_at": at if status in ("SENT", "COMPLETED") else None,
            }
        )

    def decided(self, account_id: int) -> None:
        """Mark an account as already decided for the as-of date."""
        self.rows["decided"].append({"account_id": account_id})

    def _mark(self, mark: str, *, account_id: int, customer_id: int) -> None:
        if mark.startswith("opted_"):
            self.rows["opt_outs"].append(
                {"customer_id": customer_id, "channel": mark.removeprefix("opted_")}
            )
            return
        table, key, extra = _MARKS[mark]
        row: dict[str, Any] = {key: account_id if key == "account_id" else customer_id}
        self.rows[table].append({**row, **extra})

    def inputs(self) -> engine.Inputs:
        """Return the engine's inputs."""
        tables = {
            name: pa.Table.from_pylist(rows, schema=_SCHEMAS[name])
            for name, rows in self.rows.items()
        }
        tables["paused_arms"] = pa.Table.from_pylist(
            [{"experiment": e, "arm": a} for e, a in self.paused],
            schema=engine.PAUSED_ARMS_SCHEMA,
        )
        return engine.Inputs(**tables)


_SCHEMAS = {
    "accounts": engine.ACCOUNTS_SCHEMA,
    "charges": engine.CHARGES_SCHEMA,
    "payments": engine.PAYMENTS_SCHEMA,
    "customers": engine.CUSTOMERS_SCHEMA,
    "contact_points": engine.CONTACT_POINTS_SCHEMA,
    "opt_outs": engine.OPT_OUTS_SCHEMA,
    "cease_requests": engine.CEASE_SCHEMA,
    "unverified_disputes": engine.DISPUTES_SCHEMA,
    "open_disputes": engine.OPEN_DISPUTES_SCHEMA,
    "vulnerable_customers": engine.VULNERABLE_SCHEMA,
    "breathing_spaces": engine.BREATHING_SPACES_SCHEMA,
    "holds": engine.HOLDS_SCHEMA,
    "history": engine.HISTORY_SCHEMA,
    "decided": engine.DECIDED_SCHEMA,
}
_MARKS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "vulnerable": ("vulnerable_customers", "customer_id", {}),
    "breathing_space": ("breathing_spaces", "customer_id", {}),
    "cease": ("cease_requests", "customer_id", {}),
    "dispute": ("open_disputes", "account_id", {}),
    "unverified_dispute": ("unverified_disputes", "account_id", {}),
    "promise": ("holds", "account_id", {"hold": definition.StopCondition.PROMISE_OPEN.value}),
    "plan": ("holds", "account_id", {"hold": definition.StopCondition.PLAN_ACTIVE.value}),
}


def allow_all(candidates: pa.Table, *, now: datetime) -> pa.Table:
    """Answer the contact policy's question with "allowed now" for every candidate."""
    rows = candidates.num_rows
    return (
        candidates.append_column("allowed", pa.array([True] * rows))
        .append_column("reason_codes", pa.array([[]] * rows, pa.list_(pa.string())))
        .append_column("next_allowed_at", pa.array([None] * rows, UTC_US))
        .append_column("planned_at", pa.array([now] * rows, UTC_US))
    )


def decide(
    book: Book,
    strategy: definition.Strategy | str | None = None,
    *,
    prefilter: engine.Prefilter = allow_all,
    backend: Any = None,
) -> engine.Outcome:
    """Run the engine on ``book`` (the default strategy, or YAML text, or a strategy)."""
    chosen = (
        definition.load()
        if strategy is None
        else definition.loads(strategy)
        if isinstance(strategy, str)
        else strategy
    )
    return engine.decide(
        inputs=book.inputs(),
        strategy=chosen,
        as_of=AS_OF,
        now=NOW,
        prefilter=prefilter,
        backend=backend,
    )


def by_account(outcome: engine.Outcome) -> dict[int, dict[str, Any]]:
    """Return the decisions keyed by account id."""
    return {row["account_id"]: row for row in outcome.decisions.to_pylist()}
