"""Record a customer's complaint: one transaction with its audit event.

A complaint is any expression of dissatisfaction, however made. The summary is the
customer's own account of it, so it stays out of the audit log (which keeps the category
and channel only); experiment results count complaints per 1,000 accounts per arm as a
customer-harm guardrail (ADR 0017).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from accord.audit import events, log
from accord.storage import models

MAX_SUMMARY = 4000


class UnknownCustomer(Exception):
    """No customer has that id."""


class AccountNotTheCustomers(Exception):
    """The account does not exist or belongs to another customer."""


class EmptySummary(Exception):
    """A complaint needs a summary of what the customer is unhappy about."""


class ReceivedInFuture(Exception):
    """A complaint cannot have been received after now."""


def record_complaint(
    *,
    customer_id: int,
    account_id: int | None,
    category: models.ComplaintCategory,
    summary: str,
    received_via: models.Channel | None,
    recorded_by: str,
    now: datetime,
    received_at: datetime | None = None,
) -> models.Complaint:
    """Record a complaint about the customer's debt or how we collect it.

    ``received_at`` defaults to ``now``. Raises ``UnknownCustomer``,
    ``AccountNotTheCustomers``, ``EmptySummary`` and ``ReceivedInFuture``.
    """
    text = summary.strip()
    if not text:
        raise EmptySummary("say briefly what the customer is unhappy about")
    if len(text) > MAX_SUMMARY:
        raise EmptySummary(f"keep the summary to {MAX_SUMMARY} characters")
    received = received_at or now
    if received > now:
        raise ReceivedInFuture(f"received {received.isoformat()} is after now")
    with transaction.atomic():
        try:
            customer = models.Customer.objects.select_for_update().get(pk=customer_id)
        except models.Customer.DoesNotExist:
            raise UnknownCustomer(f"no customer with id {customer_id}") from None
        account = None
        if account_id is not None:
            account = models.Account.objects.filter(pk=account_id, customer=customer).first()
            if account is None:
                raise AccountNotTheCustomers(
                    f"account {account_id} is not an account of customer {customer_id}"
                )
        complaint = models.Complaint.objects.create(
            customer=customer,
            account=account,
            category=category,
            summary=text,
            received_at=received,
            received_via=received_via or "",
            recorded_by=recorded_by,
        )
        log.record(
            actor=recorded_by,
            event_type=events.EventType.COMPLAINT_RECORDED,
            subject_type="customer",
            subject_id=customer.pk,
            # Never the summary: it is the customer's own words and may hold anything.
            parameters={
                "complaint_id": complaint.pk,
                "account_id": account.pk if account else None,
                "category": str(category),
                "received_via": str(received_via or ""),
                "received_at": received.isoformat(),
            },
            now=now,
        )
    return complaint
