"""Record how a phone call with a customer went, and what was agreed or disclosed on it.

A call is a contact attempt like any other (channel CALL, origin AGENT, status
COMPLETED), so the contact policy counts it. Before an outbound call is recorded the
policy is re-checked under the customer's row lock, so two agents cannot together
exceed a call cap. How each outcome sets ``connected`` and ``conversation``
(docs/COMPLIANCE.md, REG_F_EXCLUDED_CALLS and REG_F_CALL_AFTER_CONVERSATION):

- every outcome here is a call that reached the dialled number: a call that rings out
  counts as connected, and a wrong number is connected (just not to the consumer), so
  ``connected`` is true; only a busy line or a dead number would be ``false``, and those
  are not outcomes an agent records here (deny when unsure);
- ``conversation`` is true only when the agent spoke with the right party about the
  debt: right-party contact, refused to discuss, promise made, dispute raised and
  vulnerability disclosed.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid

from django.db import transaction

from accord.audit import events, log
from accord.domain import compliance, money
from accord.storage import models
from accord.usecases import circumstances, contact_policy, promises

# Outcomes in which the agent spoke with the customer about the debt.
CONVERSATION_OUTCOMES = frozenset(
    {
        models.CallOutcome.RIGHT_PARTY_CONTACT,
        models.CallOutcome.REFUSED,
        models.CallOutcome.PROMISE_MADE,
        models.CallOutcome.DISPUTE_RAISED,
        models.CallOutcome.VULNERABILITY_DISCLOSED,
    }
)


class ContactNotPermitted(Exception):
    """The contact policy does not allow this call now; ``decision`` holds every reason."""

    def __init__(self, decision: compliance.Decision) -> None:
        reasons = "; ".join(reason.message for reason in decision.reasons)
        super().__init__(f"the contact policy does not allow a call now: {reasons}")
        self.decision = decision


class UnknownAccount(Exception):
    """No account with that id belongs to the customer."""


class OutcomeIncomplete(Exception):
    """The outcome needs details that were not given (a promise, a dispute reason...)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Disclosure:
    """What the customer disclosed about their circumstances on the call."""

    category: models.VulnerabilityCategory
    consent_to_record: bool
    detail: str
    review_date: datetime.date


def record_call_outcome(
    *,
    customer_id: int,
    account_id: int,
    outcome: models.CallOutcome,
    notes: str,
    agent: str,
    now: datetime.datetime,
    promise: tuple[money.Money, datetime.date] | None = None,
    direction: models.ContactDirection = models.ContactDirection.OUTBOUND,
    dispute_reason: str = "",
    disclosure: Disclosure | None = None,
    idempotency_key: str | None = None,
) -> models.ContactAttempt:
    """Record a call about ``account_id`` and its outcome, in one transaction.

    An outbound call is re-checked against the contact policy under the customer's row
    lock; an inbound call (the customer rang us) is not. An open call task planned for the
    account is completed by an outbound call rather than left in the queue. PROMISE_MADE
    records ``promise`` (amount, date) with ``record_promise``; DISPUTE_RAISED raises a
    dispute with ``dispute_reason`` (or the notes); VULNERABILITY_DISCLOSED records
    ``disclosure``. Writes ``CALL_OUTCOME_RECORDED``. The same ``idempotency_key`` twice
    returns the call already recorded.

    Raises ``UnknownAccount``, ``OutcomeIncomplete``, ``ContactNotPermitted``, and what
    the outcome's own use case raises (``promises.PromiseRefused``,
    ``circumstances.DetailWithoutConsent``, ``circumstances.ReviewDateInPast``).
    """
    outcome = models.CallOutcome(outcome)
    direction = models.ContactDirection(direction)
    _require_details(
        outcome, promise=promise, dispute_reason=dispute_reason or notes, disclosure=disclosure
    )
    key = idempotency_key or f"call:{uuid.uuid4()}"
    with transaction.atomic():
        contact_policy.lock_customer(customer_id)
        existing = models.ContactAttempt.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
        account = models.Account.objects.filter(pk=account_id, customer_id=customer_id).first()
        if account is None:
            raise UnknownAccount(f"customer {customer_id} has no account {account_id}")
        task = _open_call_task(account) if direction == models.ContactDirection.OUTBOUND else None
        if direction == models.ContactDirection.OUTBOUND:
            decision = contact_policy.check_contact(
                customer_id=customer_id,
                account_ids=[account_id],
                channel=models.Channel.CALL,
                purpose=models.ContactPurpose.COLLECTION,
                now=now,
                exclude_attempt_id=task.pk if task else None,
            )
            if not decision.allowed:
                raise ContactNotPermitted(decision)
        call = _save_call(
            task,
            account=account,
            outcome=outcome,
            direction=direction,
            notes=notes,
            agent=agent,
            key=key,
            now=now,
        )
        follow_up = _follow_up(
            call,
            outcome=outcome,
            promise=promise,
            dispute_reason=dispute_reason or notes,
            disclosure=disclosure,
            agent=agent,
            now=now,
        )
        log.record(
            actor=agent,
            event_type=events.EventType.CALL_OUTCOME_RECORDED,
            subject_type="account",
            subject_id=account.pk,
            parameters={
                "contact_id": call.pk,
                "customer_id": customer_id,
                "outcome": str(outcome),
                "direction": str(direction),
                "connected": call.connected,
                "conversation": call.conversation,
                "call_task_completed": task is not None,
                **follow_up,
            },
            now=now,
        )
    return call


def _require_details(
    outcome: models.CallOutcome,
    *,
    promise: tuple[money.Money, datetime.date] | None,
    dispute_reason: str,
    disclosure: Disclosure | None,
) -> None:
    if outcome == models.CallOutcome.PROMISE_MADE and promise is None:
        raise OutcomeIncomplete("a promise needs an amount and a date")
    if outcome == models.CallOutcome.DISPUTE_RAISED and not dispute_reason.strip():
        raise OutcomeIncomplete("a dispute needs the customer's reason")
    if outcome == models.CallOutcome.VULNERABILITY_DISCLOSED and disclosure is None:
        raise OutcomeIncomplete("a disclosure needs a category and a review date")


def _open_call_task(account: models.Account) -> models.ContactAttempt | None:
    return (
        models.ContactAttempt.objects.select_for_update()
        .filter(
            account=account,
            channel=models.Channel.CALL,
            status=models.ContactStatus.PLANNED,
            direction=models.ContactDirection.OUTBOUND,
        )
        .order_by("planned_at", "pk")
        .first()
    )


def _save_call(
    task: models.ContactAttempt | None,
    *,
    account: models.Account,
    outcome: models.CallOutcome,
    direction: models.ContactDirection,
    notes: str,
    agent: str,
    key: str,
    now: datetime.datetime,
) -> models.ContactAttempt:
    result = {
        "status": models.ContactStatus.COMPLETED,
        "outcome": outcome,
        "connected": True,
        "conversation": outcome in CONVERSATION_OUTCOMES,
        "agent": agent,
        "notes": notes.strip(),
        "attempts": 1,
        "updated_at": now,
    }
    if task is not None:
        # The agent worked the strategy's call task: the task becomes the attempt.
        for field, value in result.items():
            setattr(task, field, value)
        task.planned_at = now
        task.save(update_fields=[*result, "planned_at"])
        return task
    customer = account.customer
    return models.ContactAttempt.objects.create(
        customer=customer,
        account=account,
        channel=models.Channel.CALL,
        language=customer.language,
        purpose=models.ContactPurpose.COLLECTION,
        origin=models.ContactOrigin.AGENT,
        direction=direction,
        planned_at=now,
        idempotency_key=key,
        created_at=now,
        **result,
    )


def _follow_up(
    call: models.ContactAttempt,
    *,
    outcome: models.CallOutcome,
    promise: tuple[money.Money, datetime.date] | None,
    dispute_reason: str,
    disclosure: Disclosure | None,
    agent: str,
    now: datetime.datetime,
) -> dict[str, int]:
    if outcome == models.CallOutcome.PROMISE_MADE and promise is not None:
        amount, promised_date = promise
        taken = promises.record_promise(
            account_id=call.account_id or 0,
            amount=amount,
            promised_date=promised_date,
            source=models.Source.AGENT,
            actor=agent,
            now=now,
            contact_id=call.pk,
        )
        return {"promise_id": taken.pk}
    if outcome == models.CallOutcome.DISPUTE_RAISED:
        dispute = circumstances.raise_dispute(
            account_id=call.account_id or 0, reason=dispute_reason, recorded_by=agent, now=now
        )
        return {"dispute_id": dispute.pk}
    if outcome == models.CallOutcome.VULNERABILITY_DISCLOSED and disclosure is not None:
        flag = circumstances.record_vulnerability(
            customer_id=call.customer_id,
            category=disclosure.category,
            consent_to_record=disclosure.consent_to_record,
            detail=disclosure.detail,
            review_date=disclosure.review_date,
            recorded_by=agent,
            now=now,
        )
        return {"vulnerability_id": flag.pk}
    return {}
