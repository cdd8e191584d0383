"""Check a proposed contact against the contact policy, with facts read from the database.

``check_contact`` reads the customer's time zones and contact hours, active channel
opt-outs, cease requests, disputes on the accounts and recent contact attempts, turns
them into the pure inputs of ``accord.domain.compliance`` and returns its decision. It
writes nothing. A caller that is about to place a call or send a message re-checks and
records the attempt in one transaction after ``lock_customer``, so concurrent dialers
and dispatchers cannot exceed a cap together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce

from accord.domain import compliance
from accord.storage import models
from accord.strategy import definition

# Calls older than this cannot be in any seven-local-date window, whatever the zones.
HISTORY_DAYS = 9

# Contact attempts that happened or may be happening; planned, failed, blocked and
# cancelled ones were never made. One definition, shared with the strategy run's count.
COUNTED_STATUSES = definition.COUNTED_STATUSES


class UnknownCustomer(Exception):
    """No customer has that id."""


class UnknownAccount(Exception):
    """An account id does not exist or belongs to another customer."""


def lock_customer(customer_id: int) -> None:
    """Lock the customer's row until the caller's transaction ends (SELECT ... FOR UPDATE).

    Call it inside ``transaction.atomic()`` before re-checking and recording a contact.
    Raises ``UnknownCustomer``; Django raises ``TransactionManagementError`` outside a
    transaction.
    """
    locked = list(
        models.Customer.objects.select_for_update().filter(pk=customer_id).values_list("pk")
    )
    if not locked:
        raise UnknownCustomer(f"no customer with id {customer_id}")


def check_contact(
    *,
    customer_id: int,
    account_ids: Sequence[int],
    channel: str,
    purpose: str = "COLLECTION",
    now: dt.datetime,
    exclude_attempt_id: int | None = None,
) -> compliance.Decision:
    """Decide whether the customer may be contacted now on ``channel`` about the accounts.

    ``exclude_attempt_id`` leaves one contact attempt out of the history (the outbox row
    being re-checked while it is SENDING). Raises ``UnknownCustomer``, ``UnknownAccount``,
    ``ValueError`` for an unknown channel or purpose, and
    ``compliance.NaiveDatetimeError`` for a naive ``now``.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise compliance.NaiveDatetimeError("now")
    attempt_channel = compliance.Channel(channel)
    attempt_purpose = compliance.Purpose(purpose)
    with transaction.atomic():
        try:
            customer = models.Customer.objects.get(pk=customer_id)
        except models.Customer.DoesNotExist:
            raise UnknownCustomer(f"no customer with id {customer_id}") from None
        wanted = set(account_ids)
        accounts = {
            account.pk: account
            for account in models.Account.objects.filter(customer=customer, pk__in=wanted)
        }
        missing = sorted(wanted - accounts.keys())
        if missing:
            raise UnknownAccount(f"accounts {missing} do not exist or belong to another customer")
        return compliance.evaluate(
            consumer=_consumer(customer, now),
            debts=_debts(list(accounts.values()), now),
            history=_history(customer, now, exclude_attempt_id),
            attempt=compliance.Attempt(
                channel=attempt_channel,
                debt_ids=frozenset(str(pk) for pk in accounts),
                purpose=attempt_purpose,
            ),
            now=now,
        )


def _active(now: dt.datetime, start_field: str) -> Q:
    """Match rows that started by ``now`` and were not withdrawn by then."""
    return Q(**{f"{start_field}__lte": now}) & (
        Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=now)
    )


def _consumer(customer: models.Customer, now: dt.datetime) -> compliance.Consumer:
    hours = None
    if customer.contact_hours_start is not None and customer.contact_hours_end is not None:
        hours = (customer.contact_hours_start, customer.contact_hours_end)
    opted_out = frozenset(
        compliance.Channel(channel)
        for channel in models.ChannelOptOut.objects.filter(
            _active(now, "opted_out_at"), customer=customer
        ).values_list("channel", flat=True)
    )
    cease = (
        models.CeaseRequest.objects.filter(_active(now, "received_at"), customer=customer)
        .order_by("received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    zones = customer.time_zones if isinstance(customer.time_zones, list) else []
    return compliance.Consumer(
        id=str(customer.pk),
        time_zones=tuple(str(name) for name in zones),
        contact_hours=hours,
        opted_out_channels=opted_out,
        cease_requested_at=cease,
    )


def _debts(accounts: list[models.Account], now: dt.datetime) -> list[compliance.Debt]:
    # A dispute pauses its account until verified; one resolved by now no longer does.
    unverified: dict[int, dt.datetime] = {}
    disputes = (
        models.Dispute.objects.filter(account__in=accounts, received_at__lte=now)
        .filter(Q(verified_at__isnull=True) | Q(verified_at__gt=now))
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=now))
        .order_by("received_at")
        .values_list("account_id", "received_at")
    )
    for account_id, received_at in disputes:
        unverified.setdefault(account_id, received_at)
    return [
        compliance.Debt(
            id=str(account.pk),
            label=account.external_ref,
            dispute_received_at=unverified.get(account.pk),
        )
        for account in accounts
    ]


def _history(
    customer: models.Customer, now: dt.datetime, exclude_attempt_id: int | None
) -> list[compliance.HistoryItem]:
    rows = (
        models.ContactAttempt.objects.filter(customer=customer, status__in=COUNTED_STATUSES)
        .annotate(happened_at=Coalesce("sent_at", "planned_at"))
        .filter(happened_at__gte=now - dt.timedelta(days=HISTORY_DAYS), happened_at__lte=now)
        .order_by("happened_at", "pk")
        .values_list(
            "happened_at", "channel", "direction", "account_id", "connected", "conversation"
        )
    )
    if exclude_attempt_id is not None:
        rows = rows.exclude(pk=exclude_attempt_id)
    return [
        compliance.HistoryItem(
            at=happened_at,
            channel=compliance.Channel(channel),
            direction=compliance.Direction(direction),
            debt_ids=frozenset() if account_id is None else frozenset({str(account_id)}),
            connected=connected,
            conversation=conversation,
        )
        for happened_at, channel, direction, account_id, connected, conversation in rows
    ]
