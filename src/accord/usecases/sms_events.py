"""Record what the SMS provider tells us: delivery reports and the texts customers send.

Both arrive as webhooks whose signature the web layer has checked (ADR 0020).

* A **delivery report** moves an outbox row's ``provider_status`` forward (never back:
  "sent" arriving after "delivered" changes nothing) and stamps ``delivered_at``, or keeps
  the provider's error in ``failure_reason``. The row's ``status`` stays ``SENT``: the
  message left Accord once and is never sent again by itself.
* An **inbound text** is a keyword or a message. ``STOP`` (and STOPALL, UNSUBSCRIBE,
  CANCEL, END, QUIT) opts every customer with that number out of SMS at once (source
  ``sms-stop``; the dispatcher re-checks the policy before each send, so nothing planned
  goes out afterwards); ``START``/``UNSTOP`` withdraws those opt-outs; ``HELP``/``INFO`` is
  answered; anything else is stored as an inbound contact for agents. Each answer is
  stored as an outbound SMS (purpose ``RESPONSE_TO_REQUEST``) in the customer's history.

Replays are harmless: Twilio retries a webhook with the same ``MessageSid``, and the
rows' idempotency keys and the "already opted out" check make a replay a no-op.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import logging

from django.db import transaction

from accord.audit import events, log
from accord.channels import message, templates
from accord.channels.sms import keywords
from accord.domain import contactpoints
from accord.storage import models
from accord.usecases import circumstances, contact_policy

logger = logging.getLogger(__name__)

STOP_SOURCE = "sms-stop"
_FINAL_FAILURES = (message.DeliveryStatus.FAILED, message.DeliveryStatus.BOUNCED)


class ReportOutcome(enum.StrEnum):
    """Name what a delivery report did."""

    RECORDED = "RECORDED"
    STALE = "STALE"  # out of order or repeated: the row already says as much or more
    UNKNOWN = "UNKNOWN"  # no outbox row has that key or provider id (e.g. a sign-in code)


def record_delivery_report(
    *,
    provider_ref: str,
    idempotency_key: str | None,
    reported: message.DeliveryStatus,
    provider_said: str,
    error_code: str,
    actor: str,
    now: datetime.datetime,
) -> ReportOutcome:
    """Record the provider's report on one SMS; return whether it changed anything.

    The row is found by ``idempotency_key`` (carried in the callback URL, so a report that
    arrives before the dispatcher has recorded the send still finds it) or else by
    ``provider_ref``. ``provider_said`` is the provider's own word ("undelivered"), kept in
    the audit event. Writes ``CONTACT_DELIVERY_REPORTED`` when the status moves.
    """
    with transaction.atomic():
        rows = models.ContactAttempt.objects.select_for_update().filter(
            channel=models.Channel.SMS, direction=models.ContactDirection.OUTBOUND
        )
        contact = (
            rows.filter(idempotency_key=idempotency_key).first()
            if idempotency_key
            else rows.filter(provider_ref=provider_ref).order_by("pk").first()
        )
        if contact is None or (contact.provider_ref and contact.provider_ref != provider_ref):
            logger.info("Delivery report for unknown SMS %s ignored", provider_ref)
            return ReportOutcome.UNKNOWN
        current = (
            message.DeliveryStatus(contact.provider_status) if contact.provider_status else None
        )
        status = message.advance(current, reported)
        if status is None:
            return ReportOutcome.STALE
        contact.provider_status = status
        fields = ["provider_status", "updated_at"]
        if status is message.DeliveryStatus.DELIVERED:
            contact.delivered_at = now
            fields.append("delivered_at")
        elif status in _FINAL_FAILURES:
            detail = f" (error {error_code})" if error_code else ""
            contact.failure_reason = f"The SMS provider reported it {provider_said}{detail}."
            fields.append("failure_reason")
        contact.updated_at = now
        contact.save(update_fields=fields)
        log.record(
            actor=actor,
            event_type=events.EventType.CONTACT_DELIVERY_REPORTED,
            subject_type="contact_attempt",
            subject_id=contact.pk,
            parameters={
                "channel": contact.channel,
                "provider_ref": provider_ref,
                "provider_status": str(status),
                "provider_said": provider_said,
                "error_code": error_code,
            },
            now=now,
        )
    return ReportOutcome.RECORDED


@dataclasses.dataclass(frozen=True, kw_only=True)
class InboundResult:
    """Say what an inbound text was, who sent it, and what to answer (None: nothing)."""

    keyword: keywords.Keyword
    customer_ids: tuple[int, ...]
    reply: str | None
    changed: bool  # an opt-out recorded or withdrawn, or a message stored


def receive_sms(
    *,
    from_number: str,
    to_number: str,
    body: str,
    message_sid: str,
    sender: keywords.Sender,
    actor: str,
    now: datetime.datetime,
) -> InboundResult:
    """Act on a text a customer sent us; return what to answer.

    ``sender`` names the operator and the help number for the answers. Customers are
    matched by their phone numbers (E.164). Writes ``CHANNEL_OPTED_OUT``,
    ``CHANNEL_OPT_OUT_WITHDRAWN`` or ``INBOUND_MESSAGE_RECEIVED`` per customer, in one
    transaction.
    """
    word = keywords.keyword(body)
    number = _e164(from_number)
    with transaction.atomic():
        customer_ids = sorted(
            set(
                models.ContactPoint.objects.filter(
                    kind=models.ContactPointKind.PHONE, value=number
                ).values_list("customer_id", flat=True)
            )
        )
        for customer_id in customer_ids:
            # The dispatcher checks the policy under this lock: a send it checks after
            # we commit sees the opt-out.
            contact_policy.lock_customer(customer_id)
        customers = list(models.Customer.objects.filter(pk__in=customer_ids).order_by("pk"))
        if word is keywords.Keyword.STOP:
            changed = [c for c in customers if _opt_out(c, actor=actor, now=now)]
            # One confirmation (1006.14(h)(2)(i)); none for a repeated STOP.
            answer = bool(changed) or not customers
        elif word is keywords.Keyword.START:
            changed = [c for c in customers if _opt_back_in(c, actor=actor, now=now)]
            answer = bool(changed) or not customers
        elif word is keywords.Keyword.HELP:
            changed = []
            answer = True
        else:
            changed = [
                c
                for c in customers
                if _store_inbound(
                    c, to_number=to_number, body=body, sid=message_sid, actor=actor, now=now
                )
            ]
            answer = False
        if not customers:
            logger.info("Text from a number no customer has (%s)", str(word))
        reply = None
        if answer:
            reply = keywords.reply(word, _language(customers), sender)
            if reply is not None and not _store_replies(
                customers, number=number, text=reply, sid=message_sid, now=now
            ):
                reply = None  # a replayed webhook: it was answered already
    return InboundResult(
        keyword=word,
        customer_ids=tuple(customer_ids),
        reply=reply,
        changed=bool(changed),
    )


def _e164(raw: str) -> str:
    try:
        return contactpoints.normalise_phone(raw=raw, default_region=None)
    except contactpoints.InvalidPhoneNumber:
        return raw.strip()  # a short code or a sender name: matches no customer


def _language(customers: list[models.Customer]) -> str:
    languages = {templates.resolve_language(c.language) for c in customers}
    return languages.pop() if len(languages) == 1 else templates.DEFAULT_LANGUAGE


def _opt_out(customer: models.Customer, *, actor: str, now: datetime.datetime) -> bool:
    try:
        circumstances.record_opt_out(
            customer_id=customer.pk,
            channel=models.Channel.SMS,
            source=STOP_SOURCE,
            recorded_by=actor,
            now=now,
        )
    except circumstances.AlreadyOptedOut:
        return False
    return True


def _opt_back_in(customer: models.Customer, *, actor: str, now: datetime.datetime) -> bool:
    active = list(customer.opt_outs.filter(channel=models.Channel.SMS, withdrawn_at__isnull=True))
    for opt_out in active:
        opt_out.withdrawn_at = now
        opt_out.save(update_fields=["withdrawn_at"])
        log.record(
            actor=actor,
            event_type=events.EventType.CHANNEL_OPT_OUT_WITHDRAWN,
            subject_type="customer",
            subject_id=customer.pk,
            parameters={
                "channel": str(models.Channel.SMS),
                "source": "sms-start",
                "opted_out_source": opt_out.source,
            },
            now=now,
        )
    return bool(active)


def _store_inbound(
    customer: models.Customer,
    *,
    to_number: str,
    body: str,
    sid: str,
    actor: str,
    now: datetime.datetime,
) -> bool:
    # The customer's row is locked: a replay of the same webhook waits, then finds the key.
    key = f"sms-in:{sid}:{customer.pk}"
    if models.ContactAttempt.objects.filter(idempotency_key=key).exists():
        return False
    contact = models.ContactAttempt.objects.create(
        customer=customer,
        channel=models.Channel.SMS,
        language=templates.resolve_language(customer.language),
        purpose=models.ContactPurpose.RESPONSE_TO_REQUEST,
        origin=models.ContactOrigin.CUSTOMER,
        direction=models.ContactDirection.INBOUND,
        planned_at=now,
        sent_at=now,
        status=models.ContactStatus.COMPLETED,
        idempotency_key=key,
        destination=to_number[:254],
        provider_ref=sid[:128],
        body=body,
        created_at=now,
        updated_at=now,
    )
    log.record(
        actor=actor,
        event_type=events.EventType.INBOUND_MESSAGE_RECEIVED,
        subject_type="contact_attempt",
        subject_id=contact.pk,
        parameters={"channel": str(models.Channel.SMS), "provider_ref": sid},
        now=now,
    )
    return True


def _store_replies(
    customers: list[models.Customer],
    *,
    number: str,
    text: str,
    sid: str,
    now: datetime.datetime,
) -> bool:
    """Store the answer in each customer's history; False when it was answered already."""
    stored = not customers
    for customer in customers:
        key = f"sms-reply:{sid}:{customer.pk}"
        if models.ContactAttempt.objects.filter(idempotency_key=key).exists():
            continue
        models.ContactAttempt.objects.create(
            customer=customer,
            channel=models.Channel.SMS,
            language=templates.resolve_language(customer.language),
            purpose=models.ContactPurpose.RESPONSE_TO_REQUEST,
            origin=models.ContactOrigin.CUSTOMER,
            direction=models.ContactDirection.OUTBOUND,
            planned_at=now,
            sent_at=now,
            status=models.ContactStatus.SENT,
            idempotency_key=key,
            destination=number,
            body=text,
            attempts=1,
            created_at=now,
            updated_at=now,
        )
        stored = True
    return stored
