"""Send the outbox's due messages: claim, re-check the policy, render, send, record.

Each due row (``PLANNED``, ``planned_at`` reached, channel EMAIL, SMS or LETTER; calls
are agent tasks and never dispatched) goes through two short transactions with the
send between them (ADR 0010):

1. **Claim and check.** A conditional ``UPDATE ... SET status = 'SENDING' WHERE status =
   'PLANNED'`` claims the row, so two dispatchers never both take it. Under the
   customer's lock the contact policy is re-checked (the row itself left out of the
   history): a time-limited refusal puts the row back to ``PLANNED`` at
   ``next_allowed_at``; a lasting one makes it ``BLOCKED``. Otherwise the message is
   rendered in the customer's language with today's figures and its destination
   resolved; what will be sent is stored on the row and the claim committed.
2. **Send** through the channel's sender (no transaction or lock is held meanwhile).
3. **Record** ``SENT`` with the provider's reference. A failed send whose repeat cannot
   duplicate the message (``retry_is_safe``: the provider was away, or the channel
   de-duplicates by the idempotency key) goes back to ``PLANNED`` after an exponential
   back-off (``accord.domain.backoff``), ``attempts`` counting the tries; after
   ``ACCORD_DISPATCH_MAX_ATTEMPTS`` tries, at once when the provider refused it, and for
   an email whose fate is unknown, the row is ``PARKED`` with the last reason until an
   operator retries or cancels it (``parked_rows``, ``release_parked``; ADR 0022).

Time is read from an injected ``clock`` for every row, not once per batch: a batch
started at 20:50 that is still sending at 21:05 re-checks the contact hours at 21:05, and
``sent_at`` is when that message went out. The destination is looked up when the row is
sent (the customer's primary email address or phone number then), never taken from what
was known when the row was planned.

A row left ``SENDING`` by a crash between 2 and 3 is never picked again: a message is
sent at most once. ``stuck_rows`` lists such rows and ``resolve_stuck`` lets an operator
mark them sent or failed, or put them back in the queue (``accord dispatch --stuck`` and
``--resolve``).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accord.audit import events, log
from accord.channels import message, registry, templates
from accord.domain import arrears, backoff, compliance, money, validation_notice
from accord.storage import models
from accord.usecases import contact_policy, outbox, validation_notices

logger = logging.getLogger(__name__)

DISPATCHED_CHANNELS = (models.Channel.EMAIL, models.Channel.SMS, models.Channel.LETTER)


class Outcome(enum.StrEnum):
    """Name what became of one outbox row."""

    SENT = "SENT"
    FAILED = "FAILED"
    BLOCKED = "BLOCKED"
    DEFERRED = "DEFERRED"
    CANCELLED = "CANCELLED"
    SKIPPED = "SKIPPED"  # another dispatcher claimed it first
    RETRYING = "RETRYING"  # the provider was away: planned again after a back-off
    PARKED = "PARKED"  # given up on: waits for an operator (--parked, --retry, --cancel)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DispatchReport:
    """Count what one dispatch did with the due rows it picked."""

    picked: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    deferred: int = 0
    cancelled: int = 0
    skipped: int = 0
    retrying: int = 0
    parked: int = 0

    def as_dict(self) -> dict[str, int]:
        """Return the counts by name (for ``accord dispatch --json``)."""
        return dataclasses.asdict(self)


class _NotSendable(Exception):
    """The row cannot become a message (no destination, unknown template...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _NothingDue(Exception):
    """What the message was about has been paid since it was planned."""


Clock = Callable[[], datetime.datetime]


def dispatch_due(
    *,
    clock: Clock | None = None,
    now: datetime.datetime | None = None,
    limit: int | None = None,
    actor: str,
) -> DispatchReport:
    """Send the outbox rows that are due (at most ``limit`` of them), oldest first.

    ``clock`` is read for every row: for choosing the due rows, claiming each one,
    re-checking the contact policy and stamping ``sent_at``. Entrypoints pass
    ``django.utils.timezone.now``; ``now`` (instead of a clock) stands for a clock stopped
    at that instant, for tests and callers that decide one moment.

    Safe to run twice or concurrently: each row is sent once. Writes ``CONTACT_SENT``,
    ``CONTACT_FAILED``, ``CONTACT_BLOCKED`` (also when deferred), ``CONTACT_CANCELLED``,
    ``CONTACT_RETRY_SCHEDULED`` or ``CONTACT_PARKED`` per row, each in the row's own
    transaction.
    """
    if clock is None:
        if now is None:
            raise TypeError("dispatch_due needs a clock (or now).")
        clock = _stopped_at(now)
    elif now is not None:
        raise TypeError("dispatch_due takes a clock or now, not both.")
    due = models.ContactAttempt.objects.filter(
        status=models.ContactStatus.PLANNED,
        planned_at__lte=clock(),
        channel__in=DISPATCHED_CHANNELS,
    ).order_by("planned_at", "pk")
    ids = list(
        due.values_list("pk", flat=True)[:limit] if limit else due.values_list("pk", flat=True)
    )
    counts = dict.fromkeys(Outcome, 0)
    for contact_id in ids:
        counts[_dispatch_one(contact_id, clock=clock, actor=actor)] += 1
    return DispatchReport(
        picked=len(ids),
        sent=counts[Outcome.SENT],
        failed=counts[Outcome.FAILED],
        blocked=counts[Outcome.BLOCKED],
        deferred=counts[Outcome.DEFERRED],
        cancelled=counts[Outcome.CANCELLED],
        skipped=counts[Outcome.SKIPPED],
        retrying=counts[Outcome.RETRYING],
        parked=counts[Outcome.PARKED],
    )


def _stopped_at(instant: datetime.datetime) -> Clock:
    return lambda: instant


def next_planned_at(*, after: datetime.datetime) -> datetime.datetime | None:
    """Return when the earliest outbox row planned later than ``after`` falls due (or None)."""
    return (
        models.ContactAttempt.objects.filter(
            status=models.ContactStatus.PLANNED,
            planned_at__gt=after,
            channel__in=DISPATCHED_CHANNELS,
        )
        .order_by("planned_at")
        .values_list("planned_at", flat=True)
        .first()
    )


def _dispatch_one(contact_id: int, *, clock: Clock, actor: str) -> Outcome:
    try:
        prepared = _claim_and_prepare(contact_id, now=clock(), actor=actor)
    except Exception as error:
        logger.exception("Outbox row %s could not be prepared", contact_id)
        return _fail_unclaimed(
            contact_id, reason=f"internal error: {error}", now=clock(), actor=actor
        )
    if isinstance(prepared, Outcome):
        return prepared
    try:
        result = registry.sender_for(prepared.channel).send(prepared)
    except message.SendFailed as error:
        return _record_send_failure(
            contact_id, error, channel=prepared.channel, now=clock(), actor=actor
        )
    except Exception as error:
        logger.exception("Outbox row %s: the sender raised", contact_id)
        return _record_failure(
            contact_id, reason=f"internal error: {error}", now=clock(), actor=actor
        )
    return _record_sent(contact_id, prepared, result, now=clock(), actor=actor)


def _claim_and_prepare(
    contact_id: int, *, now: datetime.datetime, actor: str
) -> message.OutboundMessage | Outcome:
    with transaction.atomic():
        claimed = models.ContactAttempt.objects.filter(
            pk=contact_id, status=models.ContactStatus.PLANNED, planned_at__lte=now
        ).update(status=models.ContactStatus.SENDING, updated_at=now)
        if not claimed:
            return Outcome.SKIPPED
        contact = models.ContactAttempt.objects.select_related("customer", "account").get(
            pk=contact_id
        )
        contact_policy.lock_customer(contact.customer_id)
        decision = contact_policy.check_contact(
            customer_id=contact.customer_id,
            account_ids=[contact.account_id] if contact.account_id else [],
            channel=contact.channel,
            purpose=contact.purpose,
            now=now,
            exclude_attempt_id=contact.pk,
        )
        if not decision.allowed:
            return _hold_back(contact, decision, now=now, actor=actor)
        try:
            outbound = _prepare(contact, now=now)
        except _NothingDue:
            return _cancel(contact, now=now, actor=actor)
        except (_NotSendable, templates.UnknownTemplate) as error:
            reason = error.reason if isinstance(error, _NotSendable) else str(error)
            _mark_failed(contact, reason=reason, now=now, actor=actor)
            return Outcome.FAILED
        contact.save(update_fields=["subject", "body", "destination", "language", "updated_at"])
    return outbound


def _hold_back(
    contact: models.ContactAttempt,
    decision: compliance.Decision,
    *,
    now: datetime.datetime,
    actor: str,
) -> Outcome:
    reasons = [dataclasses.asdict(reason) for reason in decision.reasons]
    deferred_until = decision.next_allowed_at
    contact.policy_reasons = reasons
    contact.updated_at = now
    if deferred_until is not None:
        contact.status = models.ContactStatus.PLANNED
        contact.planned_at = deferred_until
    else:
        contact.status = models.ContactStatus.BLOCKED
    contact.save(update_fields=["status", "planned_at", "policy_reasons", "updated_at"])
    log.record(
        actor=actor,
        event_type=events.EventType.CONTACT_BLOCKED,
        subject_type="contact_attempt",
        subject_id=contact.pk,
        parameters={
            "channel": contact.channel,
            "template": contact.template,
            "deferred_until": deferred_until.isoformat() if deferred_until else None,
            "reasons": [reason["code"] for reason in reasons],
        },
        now=now,
    )
    return Outcome.DEFERRED if deferred_until is not None else Outcome.BLOCKED


def _cancel(contact: models.ContactAttempt, *, now: datetime.datetime, actor: str) -> Outcome:
    contact.status = models.ContactStatus.CANCELLED
    contact.failure_reason = "Nothing is due any more: it was paid after the message was planned."
    contact.updated_at = now
    contact.save(update_fields=["status", "failure_reason", "updated_at"])
    log.record(
        actor=actor,
        event_type=events.EventType.CONTACT_CANCELLED,
        subject_type="contact_attempt",
        subject_id=contact.pk,
        parameters={"channel": contact.channel, "template": contact.template},
        now=now,
    )
    return Outcome.CANCELLED


def _mark_failed(
    contact: models.ContactAttempt, *, reason: str, now: datetime.datetime, actor: str
) -> None:
    contact.status = models.ContactStatus.FAILED
    contact.failure_reason = reason
    contact.attempts = F("attempts") + 1
    contact.updated_at = now
    contact.save(update_fields=["status", "failure_reason", "attempts", "updated_at"])
    log.record(
        actor=actor,
        event_type=events.EventType.CONTACT_FAILED,
        subject_type="contact_attempt",
        subject_id=contact.pk,
        parameters={"channel": contact.channel, "template": contact.template, "reason": reason},
        now=now,
    )


def _fail_unclaimed(contact_id: int, *, reason: str, now: datetime.datetime, actor: str) -> Outcome:
    # The preparing transaction rolled back, so the row is PLANNED again (or was never ours).
    with transaction.atomic():
        contact = (
            models.ContactAttempt.objects.select_for_update()
            .filter(pk=contact_id, status=models.ContactStatus.PLANNED)
            .first()
        )
        if contact is None:
            return Outcome.SKIPPED
        _mark_failed(contact, reason=reason, now=now, actor=actor)
    return Outcome.FAILED


def _record_failure(contact_id: int, *, reason: str, now: datetime.datetime, actor: str) -> Outcome:
    with transaction.atomic():
        contact = models.ContactAttempt.objects.select_for_update().get(pk=contact_id)
        _mark_failed(contact, reason=reason, now=now, actor=actor)
    logger.warning("Outbox row %s failed: %s", contact_id, reason)
    return Outcome.FAILED


# --- Retries and parking ---


def max_attempts() -> int:
    """Return how many times one message is tried before it is parked (a setting)."""
    return int(settings.ENV.dispatch_max_attempts)


def retry_is_safe(channel: message.Channel, error: message.SendFailed) -> bool:
    """Say whether a failed send may be repeated automatically without messaging twice.

    ``SendRejected`` never is (the provider said no for good). ``SendUnavailable`` always
    is: its senders raise it only when a repeat under the same idempotency key cannot
    duplicate the message (Twilio de-duplicates by the key; the email sender raises it only
    when the SMTP server could not even be reached). A plain ``SendFailed`` is safe for SMS
    (the key travels as Twilio's idempotency token) and letters (the PDF is named by the
    key, so a repeat overwrites it), but not for email: an SMTP error after the connection
    may come after the server took the message, and a repeat may reach the customer twice
    (the Message-ID lets a mail program drop the copy, but not every one does). Such an
    email is parked for an operator, who checks the mail server's log by the key first.
    """
    if isinstance(error, message.SendRejected):
        return False
    if isinstance(error, message.SendUnavailable):
        return True
    return channel in (message.Channel.SMS, message.Channel.LETTER)


def _record_send_failure(
    contact_id: int,
    error: message.SendFailed,
    *,
    channel: message.Channel,
    now: datetime.datetime,
    actor: str,
) -> Outcome:
    """Plan the row again after a back-off, or park it; audit which, in one transaction."""
    with transaction.atomic():
        contact = models.ContactAttempt.objects.select_for_update().get(pk=contact_id)
        attempts = contact.attempts + 1
        contact.attempts = attempts
        contact.failure_reason = error.reason
        contact.updated_at = now
        if retry_is_safe(channel, error) and attempts < max_attempts():
            retry_at = backoff.next_attempt_at(
                now=now, attempts=attempts, key=contact.idempotency_key
            )
            contact.status = models.ContactStatus.PLANNED
            contact.planned_at = retry_at
            contact.save(
                update_fields=["status", "planned_at", "attempts", "failure_reason", "updated_at"]
            )
            log.record(
                actor=actor,
                event_type=events.EventType.CONTACT_RETRY_SCHEDULED,
                subject_type="contact_attempt",
                subject_id=contact.pk,
                parameters={
                    "channel": contact.channel,
                    "template": contact.template,
                    "attempts": attempts,
                    "reason": error.reason,
                    "retry_at": retry_at.isoformat(),
                },
                now=now,
            )
            outcome = Outcome.RETRYING
        else:
            if isinstance(error, message.SendRejected):
                why = ParkedBecause.REJECTED
            elif retry_is_safe(channel, error):
                why = ParkedBecause.TOO_MANY_ATTEMPTS
            else:
                why = ParkedBecause.OUTCOME_UNKNOWN
            contact.status = models.ContactStatus.PARKED
            contact.save(update_fields=["status", "attempts", "failure_reason", "updated_at"])
            log.record(
                actor=actor,
                event_type=events.EventType.CONTACT_PARKED,
                subject_type="contact_attempt",
                subject_id=contact.pk,
                parameters={
                    "channel": contact.channel,
                    "template": contact.template,
                    "attempts": attempts,
                    "reason": error.reason,
                    "parked_because": str(why),
                },
                now=now,
            )
            outcome = Outcome.PARKED
    if outcome is Outcome.RETRYING:
        outbox.announce_queued()  # the task wakes up for the retry (see jobs.tasks)
    logger.warning("Outbox row %s: send failed (%s): %s", contact_id, outcome, error.reason)
    return outcome


class ParkedBecause(enum.StrEnum):
    """Name why the dispatcher parked a row."""

    REJECTED = "rejected"  # the provider refused it for good
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # ACCORD_DISPATCH_MAX_ATTEMPTS reached
    OUTCOME_UNKNOWN = "outcome_unknown"  # an email that may have left; not retried blindly


class Release(enum.StrEnum):
    """Name what an operator decided about a parked row."""

    RETRY = "retry"  # plan it again now, with a fresh budget of attempts
    CANCEL = "cancel"  # give up on it for good


class NotParked(Exception):
    """The row is unknown or not PARKED, so there is nothing to release."""


def parked_rows() -> QuerySet[models.ContactAttempt]:
    """Return the rows the dispatcher parked, oldest first."""
    return models.ContactAttempt.objects.filter(status=models.ContactStatus.PARKED).order_by(
        "updated_at", "pk"
    )


def release_parked(
    *, contact_id: int, release: Release, actor: str, now: datetime.datetime
) -> models.ContactAttempt:
    """Release a parked row: plan it again for ``now`` or cancel it; audit the decision.

    ``RETRY`` makes it PLANNED at ``now`` with its attempts reset to 0 (the count before
    is kept in the ``CONTACT_RELEASED`` event), so the next dispatch re-checks the policy,
    renders and sends it under the same idempotency key. ``CANCEL`` makes it CANCELLED,
    keeping the last reason. Raises ``NotParked`` when the row is unknown or not PARKED.
    """
    with transaction.atomic():
        contact = _locked_row(
            contact_id, models.ContactStatus.PARKED, refused=NotParked, action="release"
        )
        attempts_before = contact.attempts
        last_reason = contact.failure_reason
        fields = ["status", "updated_at"]
        if release is Release.RETRY:
            contact.status = models.ContactStatus.PLANNED
            contact.planned_at = now
            contact.attempts = 0
            fields += ["planned_at", "attempts"]
            outbox.announce_queued()
        else:
            contact.status = models.ContactStatus.CANCELLED
            contact.failure_reason = f"{last_reason} (parked; an operator cancelled it)".strip()
            fields += ["failure_reason"]
        contact.updated_at = now
        contact.save(update_fields=fields)
        log.record(
            actor=actor,
            event_type=events.EventType.CONTACT_RELEASED,
            subject_type="contact_attempt",
            subject_id=contact.pk,
            parameters={
                "channel": contact.channel,
                "template": contact.template,
                "resolution": str(release),
                "attempts_before": attempts_before,
                "last_reason": last_reason,
            },
            now=now,
        )
    return contact


def _record_sent(
    contact_id: int,
    sent: message.OutboundMessage,
    result: message.SendResult,
    *,
    now: datetime.datetime,
    actor: str,
) -> Outcome:
    with transaction.atomic():
        contact = models.ContactAttempt.objects.select_for_update().get(pk=contact_id)
        contact.status = models.ContactStatus.SENT
        contact.provider_ref = result.provider_ref[:128]
        contact.sent_at = now
        contact.attempts = F("attempts") + 1
        # An early delivery report's failure (see below) is kept; any older reason is not.
        reported_failure = contact.provider_status in (
            message.DeliveryStatus.FAILED,
            message.DeliveryStatus.BOUNCED,
        )
        contact.failure_reason = contact.failure_reason if reported_failure else ""
        contact.updated_at = now
        if sent.channel is message.Channel.LETTER:
            contact.document = result.provider_ref
        if result.provider_status is not None:
            # A delivery callback may have come first (it finds the row by its key); never
            # move what it recorded back.
            current = (
                message.DeliveryStatus(contact.provider_status) if contact.provider_status else None
            )
            contact.provider_status = (
                message.advance(current, result.provider_status) or contact.provider_status
            )
        contact.save(
            update_fields=[
                "status",
                "provider_ref",
                "provider_status",
                "sent_at",
                "attempts",
                "failure_reason",
                "document",
                "updated_at",
            ]
        )
        log.record(
            actor=actor,
            event_type=events.EventType.CONTACT_SENT,
            subject_type="contact_attempt",
            subject_id=contact.pk,
            parameters={
                "channel": contact.channel,
                "template": contact.template,
                "provider_ref": contact.provider_ref,
            },
            now=now,
        )
    return Outcome.SENT


# --- Rows stuck in SENDING ---

STUCK_AFTER = datetime.timedelta(minutes=15)
"""A row still SENDING this long after its claim was probably left by a crash."""


class Resolution(enum.StrEnum):
    """Name what an operator decided about a row stuck in SENDING."""

    SENT = "sent"  # the sink or provider log shows it left
    FAILED = "failed"  # it did not leave; give up on it
    RETRY = "retry"  # put it back to PLANNED; it is sent (again) by the next dispatch


class NotStuck(Exception):
    """The row is unknown or not SENDING, so there is nothing to resolve."""


def stuck_rows(
    *, now: datetime.datetime, older_than: datetime.timedelta = STUCK_AFTER
) -> QuerySet[models.ContactAttempt]:
    """Return the rows SENDING since more than ``older_than`` before ``now``, oldest first.

    The claim stamps ``updated_at``, and nothing else touches a SENDING row, so it says
    since when the row has been SENDING.
    """
    return models.ContactAttempt.objects.filter(
        status=models.ContactStatus.SENDING, updated_at__lte=now - older_than
    ).order_by("updated_at", "pk")


def resolve_stuck(
    *,
    contact_id: int,
    resolution: Resolution,
    actor: str,
    now: datetime.datetime,
) -> models.ContactAttempt:
    """Settle a row left SENDING: mark it sent or failed, or put it back in the queue.

    ``SENT`` stamps ``sent_at`` with the claim time (the send followed it); ``FAILED``
    records that an operator gave up on it; ``RETRY`` makes it PLANNED for ``now``, so the
    next dispatch re-checks the policy, renders and sends it: safe for SMS, whose provider
    de-duplicates by the idempotency key, but an email may reach the customer twice.
    Writes ``CONTACT_RESOLVED`` in the same transaction. Raises ``NotStuck`` when the row
    is unknown or not SENDING.
    """
    with transaction.atomic():
        contact = _locked_row(
            contact_id, models.ContactStatus.SENDING, refused=NotStuck, action="resolve"
        )
        stuck_since = contact.updated_at
        fields = ["status", "updated_at"]
        if resolution is Resolution.SENT:
            contact.status = models.ContactStatus.SENT
            contact.sent_at = stuck_since
            contact.attempts = F("attempts") + 1
            fields += ["sent_at", "attempts"]
        elif resolution is Resolution.FAILED:
            contact.status = models.ContactStatus.FAILED
            contact.failure_reason = (
                f"Left SENDING since {stuck_since.isoformat()}; an operator marked it failed."
            )
            contact.attempts = F("attempts") + 1
            fields += ["failure_reason", "attempts"]
        else:
            contact.status = models.ContactStatus.PLANNED
            contact.planned_at = now
            fields += ["planned_at"]
            outbox.announce_queued()
        contact.updated_at = now
        contact.save(update_fields=fields)
        log.record(
            actor=actor,
            event_type=events.EventType.CONTACT_RESOLVED,
            subject_type="contact_attempt",
            subject_id=contact.pk,
            parameters={
                "channel": contact.channel,
                "template": contact.template,
                "resolution": str(resolution),
                "stuck_since": stuck_since.isoformat(),
            },
            now=now,
        )
    contact.refresh_from_db()
    return contact


# --- Turning a row into a message ---


def _prepare(contact: models.ContactAttempt, *, now: datetime.datetime) -> message.OutboundMessage:
    """Render the row's message and fill in subject, body, destination and language."""
    customer = contact.customer
    channel = message.Channel(contact.channel)
    language = templates.resolve_language(customer.language)
    today = timezone.localdate(now)
    destination = _destination(contact, channel)
    if contact.template == validation_notices.TEMPLATE:
        rendered = _validation_notice(contact, language=language, today=today)
    else:
        context = {
            **_base_context(contact, language=language, today=today),
            **_template_context(contact, language=language, today=today),
        }
        rendered = templates.render(contact.template, language, context, channel=channel)
    contact.subject = rendered.subject[:200]
    contact.body = rendered.body
    contact.destination = destination
    contact.language = language
    contact.updated_at = now
    return message.OutboundMessage(
        channel=channel,
        to=destination,
        subject=rendered.subject,
        body=rendered.body,
        html=rendered.html,
        idempotency_key=contact.idempotency_key,
    )


def _validation_notice(
    contact: models.ContactAttempt, *, language: str, today: datetime.date
) -> templates.RenderedMessage:
    """Render the row's Regulation F validation notice, mailed today (12 CFR 1006.34)."""
    try:
        return validation_notices.render_for_contact(contact, language=language, sent_on=today)
    except validation_notice.NothingOwed:
        raise _NothingDue from None
    except validation_notice.InvalidNotice as error:
        raise _NotSendable(f"No validation notice: {error.reason}.") from None


def _destination(contact: models.ContactAttempt, channel: message.Channel) -> str:
    customer = contact.customer
    if channel is message.Channel.LETTER:
        lines = _address_lines(customer)
        if not lines:
            raise _NotSendable("The customer has no postal address on file.")
        return "\n".join([customer.name, *lines])
    # Looked up now, not taken from the row: an address removed since the row was
    # planned must not receive the message.
    kind = (
        models.ContactPointKind.EMAIL
        if channel is message.Channel.EMAIL
        else models.ContactPointKind.PHONE
    )
    primary = (
        customer.contact_points.filter(kind=kind)
        .order_by("position", "pk")
        .values_list("value", flat=True)
        .first()
    )
    if not primary:
        label = "email address" if kind == models.ContactPointKind.EMAIL else "phone number"
        raise _NotSendable(f"The customer has no {label} on file.")
    return primary


def _address_lines(customer: models.Customer) -> list[str]:
    if not customer.address_line1.strip():
        return []
    town = " ".join(part for part in (customer.postcode, customer.city) if part.strip())
    lines = [
        customer.address_line1,
        customer.address_line2,
        town,
        customer.region,
        customer.country,
    ]
    return [line.strip() for line in lines if line and line.strip()]


def _base_context(
    contact: models.ContactAttempt, *, language: str, today: datetime.date
) -> dict[str, Any]:
    customer = contact.customer
    return {
        "customer_name": customer.name,
        "reference": contact.account.external_ref if contact.account else customer.external_ref,
        "address_lines": _address_lines(customer),
        "letter_date": templates.format_day(today, language),
    }


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Figures:
    arrears: money.Money
    balance: money.Money
    days_past_due: int
    next_due: tuple[datetime.date, money.Money] | None


def _figures(account: models.Account, *, today: datetime.date) -> _Figures:
    """Work out today's arrears, balance, days past due and next due charge of ``account``."""
    currency = account.currency
    charges = [
        arrears.Charge(
            reference=ref, due_date=due, amount=money.Money.from_minor_units(minor, currency)
        )
        for ref, due, minor in account.charges.values_list(
            "external_ref", "due_date", "amount_minor"
        )
    ]
    payments = [
        arrears.Payment(
            reference=ref,
            received_date=received,
            amount=money.Money.from_minor_units(minor, currency),
        )
        for ref, received, minor in account.payments.values_list(
            "external_ref", "received_date", "amount_minor"
        )
    ]
    facts: Mapping[str, Any] = {"charges": charges, "payments": payments, "as_of": today}
    upcoming = [
        (charge.due_date, unpaid)
        for charge, unpaid in arrears.outstanding_charges(**facts)
        if charge.due_date >= today
    ]
    return _Figures(
        arrears=arrears.arrears(**facts, currency=currency),
        balance=arrears.balance(**facts, currency=currency),
        days_past_due=arrears.days_past_due(**facts),
        next_due=upcoming[0] if upcoming else None,
    )


def _template_context(
    contact: models.ContactAttempt, *, language: str, today: datetime.date
) -> dict[str, Any]:
    account = contact.account
    template = contact.template
    if template == "portal_code":
        raise _NotSendable("Sign-in codes are sent by the portal directly, never from the outbox.")
    if account is None:
        raise _NotSendable(f"The {template} message needs an account.")

    def fmt(amount: money.Money) -> str:
        return templates.format_money(amount, language)

    if template == "promise_confirmation":
        promise = _promise_for(contact)
        return {
            "amount": fmt(money.Money.from_minor_units(promise.amount_minor, promise.currency)),
            "due_date": templates.format_day(promise.promised_date, language),
        }
    if template == "plan_confirmation":
        return _plan_context(contact, fmt=fmt, language=language)
    figures = _figures(account, today=today)
    if template == "pre_due_reminder":
        if figures.next_due is None:
            raise _NothingDue
        due_date, amount = figures.next_due
        return {"amount": fmt(amount), "due_date": templates.format_day(due_date, language)}
    if not figures.arrears.is_positive():
        raise _NothingDue
    return {
        "amount": fmt(figures.arrears),
        "balance": fmt(figures.balance),
        "days_past_due": figures.days_past_due,
    }


def _keyed_id(contact: models.ContactAttempt, prefix: str) -> int | None:
    head, _, tail = contact.idempotency_key.partition(":")
    return int(tail) if head == prefix and tail.isdigit() else None


def _promise_for(contact: models.ContactAttempt) -> models.Promise:
    promises = models.Promise.objects.filter(account=contact.account)
    promise_id = _keyed_id(contact, "promise")
    if promise_id is not None:
        promises = promises.filter(pk=promise_id)
    promise = promises.order_by("-created_at", "-pk").first()
    if promise is None:
        raise _NotSendable("No promise to confirm was found on the account.")
    return promise


def _plan_context(contact: models.ContactAttempt, *, fmt: Any, language: str) -> dict[str, Any]:
    plans = models.RepaymentPlan.objects.filter(account=contact.account)
    plan_id = _keyed_id(contact, "plan")
    plans = (
        plans.filter(pk=plan_id)
        if plan_id is not None
        else plans.filter(status=models.PlanStatus.ACTIVE)
    )
    plan = plans.order_by("-created_at", "-pk").first()
    if plan is None:
        raise _NotSendable("No repayment plan to confirm was found on the account.")
    instalments = [
        {
            "number": instalment.sequence,
            "amount": fmt(money.Money.from_minor_units(instalment.amount_minor, plan.currency)),
            "due_date": templates.format_day(instalment.due_date, language),
        }
        for instalment in plan.instalments.order_by("sequence")
    ]
    return {
        "total": fmt(money.Money.from_minor_units(plan.total_minor, plan.currency)),
        "instalment_count": plan.instalment_count,
        "instalments": instalments,
        "amount": instalments[0]["amount"] if instalments else "",
        "due_date": instalments[0]["due_date"] if instalments else "",
    }


def _locked_row(
    contact_id: int, status: str, *, refused: type[Exception], action: str
) -> models.ContactAttempt:
    """Return the row ``contact_id`` locked if it is in ``status``; else raise ``refused``.

    Call inside a transaction. The message says whether the row is unknown or in which
    status it is instead.
    """
    contact = (
        models.ContactAttempt.objects.select_for_update()
        .filter(pk=contact_id, status=status)
        .first()
    )
    if contact is not None:
        return contact
    found = models.ContactAttempt.objects.filter(pk=contact_id).values_list("status", flat=True)
    actual = found.first()
    if actual is None:
        raise refused(f"There is no contact attempt {contact_id}.")
    raise refused(f"Contact attempt {contact_id} is {actual}, not {status}; nothing to {action}.")
