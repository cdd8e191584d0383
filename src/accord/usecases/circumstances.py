"""Record what changes how we may contact a customer: vulnerability, disputes,
cease requests, channel opt-outs, consent and breathing space. Each call is one
transaction with its audit event.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction

from accord.audit import events, log
from accord.storage import models


class UnknownCustomer(Exception):
    """No customer has that id."""


class UnknownAccount(Exception):
    """No account has that id."""


class DetailWithoutConsent(Exception):
    """Vulnerability details may only be recorded with the customer's consent."""


class ReviewDateInPast(Exception):
    """A vulnerability's review date must be in the future."""


class AlreadyOptedOut(Exception):
    """The customer has already opted out of that channel."""


def _customer(customer_id: int) -> models.Customer:
    try:
        return models.Customer.objects.select_for_update().get(pk=customer_id)
    except models.Customer.DoesNotExist:
        raise UnknownCustomer(f"no customer with id {customer_id}") from None


def record_vulnerability(
    *,
    customer_id: int,
    category: models.VulnerabilityCategory,
    consent_to_record: bool,
    detail: str,
    review_date: date,
    recorded_by: str,
    now: datetime,
) -> models.Vulnerability:
    """Record that a customer is in vulnerable circumstances.

    Raises ``UnknownCustomer``, ``DetailWithoutConsent`` (detail given without
    consent) and ``ReviewDateInPast``.
    """
    if detail.strip() and not consent_to_record:
        raise DetailWithoutConsent("details need the customer's consent to record them")
    if review_date <= now.date():
        raise ReviewDateInPast(f"review date {review_date.isoformat()} is not in the future")
    with transaction.atomic():
        customer = _customer(customer_id)
        vulnerability = models.Vulnerability.objects.create(
            customer=customer,
            category=category,
            consent_to_record=consent_to_record,
            detail=detail.strip(),
            review_date=review_date,
            recorded_at=now,
            recorded_by=recorded_by,
        )
        log.record(
            actor=recorded_by,
            event_type=events.EventType.VULNERABILITY_RECORDED,
            subject_type="customer",
            subject_id=customer.pk,
            # The detail itself stays out of the audit log: it is special-category data.
            parameters={
                "vulnerability_id": vulnerability.pk,
                "category": str(category),
                "consent_to_record": consent_to_record,
                "review_date": review_date.isoformat(),
            },
            now=now,
        )
    return vulnerability


def raise_dispute(
    *, account_id: int, reason: str, recorded_by: str, now: datetime
) -> models.Dispute:
    """Record that the customer disputes an account's debt. Raises ``UnknownAccount``."""
    with transaction.atomic():
        try:
            account = models.Account.objects.select_for_update().get(pk=account_id)
        except models.Account.DoesNotExist:
            raise UnknownAccount(f"no account with id {account_id}") from None
        dispute = models.Dispute.objects.create(
            account=account, reason=reason.strip(), received_at=now, recorded_by=recorded_by
        )
        log.record(
            actor=recorded_by,
            event_type=events.EventType.DISPUTE_RAISED,
            subject_type="account",
            subject_id=account.pk,
            parameters={"dispute_id": dispute.pk},
            now=now,
        )
    return dispute


def record_cease_request(
    *, customer_id: int, recorded_by: str, now: datetime
) -> models.CeaseRequest:
    """Record that the customer asked us to stop contacting them. Raises ``UnknownCustomer``."""
    with transaction.atomic():
        customer = _customer(customer_id)
        request = models.CeaseRequest.objects.create(
            customer=customer, received_at=now, recorded_by=recorded_by
        )
        log.record(
            actor=recorded_by,
            event_type=events.EventType.CEASE_REQUESTED,
            subject_type="customer",
            subject_id=customer.pk,
            parameters={"cease_request_id": request.pk},
            now=now,
        )
    return request


def record_opt_out(
    *,
    customer_id: int,
    channel: models.Channel,
    source: str,
    recorded_by: str,
    now: datetime,
) -> models.ChannelOptOut:
    """Record that the customer opted out of a channel.

    Raises ``UnknownCustomer`` and ``AlreadyOptedOut``.
    """
    with transaction.atomic():
        customer = _customer(customer_id)
        if customer.opt_outs.filter(channel=channel, withdrawn_at__isnull=True).exists():
            raise AlreadyOptedOut(f"customer {customer_id} has already opted out of {channel}")
        opt_out = models.ChannelOptOut.objects.create(
            customer=customer,
            channel=channel,
            opted_out_at=now,
            source=source,
            recorded_by=recorded_by,
        )
        log.record(
            actor=recorded_by,
            event_type=events.EventType.CHANNEL_OPTED_OUT,
            subject_type="customer",
            subject_id=customer.pk,
            parameters={"channel": str(channel), "source": source},
            now=now,
        )
    return opt_out


def record_consent(
    *,
    customer_id: int,
    channel: models.Channel,
    purpose: models.ConsentPurpose,
    evidence: str,
    recorded_by: str,
    now: datetime,
) -> models.Consent:
    """Record the customer's consent to be contacted on a channel for a purpose.

    Raises ``UnknownCustomer``.
    """
    with transaction.atomic():
        customer = _customer(customer_id)
        consent = models.Consent.objects.create(
            customer=customer,
            channel=channel,
            purpose=purpose,
            given_at=now,
            evidence=evidence,
            recorded_by=recorded_by,
        )
        log.record(
            actor=recorded_by,
            event_type=events.EventType.CONSENT_RECORDED,
            subject_type="customer",
            subject_id=customer.pk,
            parameters={"channel": str(channel), "purpose": str(purpose)},
            now=now,
        )
    return consent


# A standard breathing space lasts 60 days (Debt Respite Scheme Regulations 2020, reg. 26).
STANDARD_BREATHING_SPACE_DAYS = 60


# A moratorium is recorded when the creditor is told of it, so it cannot start much later.
MAX_DAYS_AHEAD = 366


class BreathingSpaceEndsBeforeStart(Exception):
    """A breathing space must end on or after the day it starts."""


class BreathingSpaceStartsTooLate(Exception):
    """A breathing space must start within a year of being recorded."""


MAX_REFERENCE = 64


class ReferenceTooLong(Exception):
    """A breathing space's reference (the Insolvency Service's) is at most 64 characters."""


def record_breathing_space(
    *,
    customer_id: int,
    kind: models.BreathingSpaceKind,
    starts_on: date,
    ends_on: date | None,
    reference: str,
    recorded_by: str,
    now: datetime,
) -> models.BreathingSpace:
    """Record a debt-respite moratorium: no collection contact while it is in force.

    A standard breathing space without an end date ends
    ``STANDARD_BREATHING_SPACE_DAYS`` after it starts; a mental health crisis moratorium
    may be open-ended (it lasts until 30 days after the crisis treatment ends, which is not
    known in advance). Raises ``UnknownCustomer``, ``BreathingSpaceStartsTooLate``,
    ``BreathingSpaceEndsBeforeStart`` and ``ReferenceTooLong``.
    """
    if len(reference.strip()) > MAX_REFERENCE:
        raise ReferenceTooLong(f"the reference is longer than {MAX_REFERENCE} characters")
    if (starts_on - now.date()).days > MAX_DAYS_AHEAD:
        raise BreathingSpaceStartsTooLate(
            f"a breathing space starting {starts_on.isoformat()} is more than "
            f"{MAX_DAYS_AHEAD} days ahead"
        )
    if ends_on is None and kind == models.BreathingSpaceKind.STANDARD:
        ends_on = starts_on + timedelta(days=STANDARD_BREATHING_SPACE_DAYS)
    if ends_on is not None and ends_on < starts_on:
        raise BreathingSpaceEndsBeforeStart(
            f"the breathing space ends ({ends_on.isoformat()}) before it starts "
            f"({starts_on.isoformat()})"
        )
    with transaction.atomic():
        customer = _customer(customer_id)
        space = models.BreathingSpace.objects.create(
            customer=customer,
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
            reference=reference.strip(),
            recorded_at=now,
            recorded_by=recorded_by,
        )
        log.record(
            actor=recorded_by,
            event_type=events.EventType.BREATHING_SPACE_RECORDED,
            subject_type="customer",
            subject_id=customer.pk,
            parameters={
                "breathing_space_id": space.pk,
                "kind": str(kind),
                "starts_on": starts_on.isoformat(),
                "ends_on": ends_on.isoformat() if ends_on else None,
                "reference": space.reference,
            },
            now=now,
        )
    return space
