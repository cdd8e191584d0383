"""Place phone calls under the contact policy, and record how they went.

A call takes two steps, the way a dialer works:

1. :func:`start_call` reserves the call before the agent dials. Under the customer's
   row lock it re-checks the contact policy and, if the call is allowed, writes the
   attempt (channel CALL, status SENDING, ``sent_at`` now), taking over the account's
   planned call task if there is one (the work queue then stops listing it as a call
   task). From that moment the call counts toward the call caps, so concurrent agents
   cannot together exceed them.
2. :func:`record_call_outcome` completes that attempt (status COMPLETED) with its outcome
   and what the call brought (a promise, a dispute, a disclosure). The call happened, so
   the policy is not asked again. A call the customer made to us is recorded in one step,
   without the policy: calls the consumer places do not count toward the caps.

How each outcome sets ``connected`` and ``conversation`` (docs/COMPLIANCE.md,
REG_F_EXCLUDED_CALLS and REG_F_CALL_AFTER_CONVERSATION):

- every outcome here is a call that reached the dialled number: a call that rings out
  counts as connected, and a wrong number is connected (just not to the consumer), so
  ``connected`` is true; only a busy line or a dead number would be ``false``, and those
  are not outcomes an agent records here (deny when unsure);
- ``conversation`` is true only when the agent spoke with the right party about the
  debt: right-party contact, refused to discuss, promise made, dispute raised and
  vulnerability disclosed.

Idempotency keys are made here, never taken on trust: a started call gets
``call:<customer>:<uuid>``; an inbound call may bring such a key (made when its form
was rendered), and it is accepted only in that shape and, if a call already has it, only
when that call is the same customer's, account's and agent's.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import uuid

from django.db import transaction
from django.db.models import QuerySet

from accord.audit import events, log
from accord.domain import compliance, money
from accord.storage import models, queue_rank
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

_CALL_KEY = re.compile(r"call:(\d+):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class ContactNotPermitted(Exception):
    """The contact policy does not allow this call now; ``decision`` holds every reason."""

    def __init__(self, decision: compliance.Decision) -> None:
        reasons = "; ".join(reason.message for reason in decision.reasons)
        super().__init__(f"the contact policy does not allow a call now: {reasons}")
        self.decision = decision


class UnknownAccount(Exception):
    """No account with that id belongs to the customer."""


class UnknownCall(Exception):
    """No outbound call with that id is about that customer's account."""


class CallNotStarted(Exception):
    """An outbound call's outcome was given for no started call: start the call first."""


class NotYourCall(Exception):
    """Another agent started the call; only they or a team lead may record its outcome."""


class IdempotencyKeyRefused(Exception):
    """The key is not one Accord made for this customer, or names someone else's call."""


class OutcomeIncomplete(Exception):
    """The outcome needs details that were not given (a promise, a dispute reason...)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Disclosure:
    """What the customer disclosed about their circumstances on the call."""

    category: models.VulnerabilityCategory
    consent_to_record: bool
    detail: str
    review_date: datetime.date


def new_call_key(customer_id: int) -> str:
    """Return a fresh idempotency key for a call with the customer."""
    return f"call:{customer_id}:{uuid.uuid4()}"


def start_call(
    *, customer_id: int, account_id: int, agent: str, now: datetime.datetime
) -> models.ContactAttempt:
    """Reserve an outbound call about ``account_id`` before the agent dials, in one transaction.

    Locks the customer's row, re-checks the contact policy, then takes over the account's
    planned call task or creates the call (origin AGENT): status SENDING, ``sent_at`` =
    ``now``, a server-made idempotency key. Writes ``CALL_STARTED``. An agent who already
    has a call in progress about the account gets that call back, so a double click never
    places two calls.

    Raises ``contact_policy.UnknownCustomer``, ``UnknownAccount`` and
    ``ContactNotPermitted`` (with every reason the policy gave).
    """
    with transaction.atomic():
        contact_policy.lock_customer(customer_id)
        account = _account(customer_id=customer_id, account_id=account_id)
        # The agent's latest call in progress, chosen here: there are few, and an ORDER BY
        # sent_at lets SQLite walk every call ever made by (channel, sent_at) instead.
        ongoing = max(
            _outbound_calls(account).filter(status=models.ContactStatus.SENDING, agent=agent),
            key=lambda call: (call.sent_at or call.planned_at, call.pk),
            default=None,
        )
        if ongoing is not None:
            return ongoing
        decision = contact_policy.check_contact(
            customer_id=customer_id,
            account_ids=[account.pk],
            channel=models.Channel.CALL,
            purpose=models.ContactPurpose.COLLECTION,
            now=now,
        )
        if not decision.allowed:
            raise ContactNotPermitted(decision)
        task = (
            _outbound_calls(account)
            .select_for_update()
            .filter(status=models.ContactStatus.PLANNED)
            .order_by("planned_at", "pk")
            .first()
        )
        started = {
            "status": models.ContactStatus.SENDING,
            "sent_at": now,
            "agent": agent,
            "attempts": 1,
            "updated_at": now,
        }
        if task is not None:
            # The agent works the strategy's call task: the task becomes the call.
            for field, value in started.items():
                setattr(task, field, value)
            task.save(update_fields=list(started))
            call = task
            # The task is taken: the work queue shows the account by stage and arrears now.
            queue_rank.call_task_taken(account_id=account.pk)
        else:
            call = models.ContactAttempt.objects.create(
                customer=account.customer,
                account=account,
                channel=models.Channel.CALL,
                language=account.customer.language,
                purpose=models.ContactPurpose.COLLECTION,
                origin=models.ContactOrigin.AGENT,
                direction=models.ContactDirection.OUTBOUND,
                planned_at=now,
                idempotency_key=new_call_key(customer_id),
                created_at=now,
                **started,
            )
        log.record(
            actor=agent,
            event_type=events.EventType.CALL_STARTED,
            subject_type="account",
            subject_id=account.pk,
            parameters={
                "contact_id": call.pk,
                "customer_id": customer_id,
                "call_task": task is not None,
            },
            now=now,
        )
    return call


def record_call_outcome(
    *,
    customer_id: int,
    account_id: int,
    outcome: models.CallOutcome,
    notes: str,
    agent: str,
    now: datetime.datetime,
    call_id: int | None = None,
    supervisor: bool = False,
    promise: tuple[money.Money, datetime.date] | None = None,
    direction: models.ContactDirection = models.ContactDirection.OUTBOUND,
    dispute_reason: str = "",
    disclosure: Disclosure | None = None,
    idempotency_key: str | None = None,
) -> models.ContactAttempt:
    """Record how a call about ``account_id`` went, and what it brought, in one transaction.

    An outbound call completes the call ``call_id`` that :func:`start_call` started
    (status COMPLETED); the policy is not asked again, because the call happened. Only
    the agent who started it, or a ``supervisor`` (a team lead), may complete it; a call
    already completed is returned unchanged, never recorded twice. An inbound call (the
    customer rang us) is recorded directly, without the policy; the same
    ``idempotency_key`` twice returns the call already recorded, and a new key is made
    when none is given.

    PROMISE_MADE records ``promise`` (amount, date) with ``record_promise``;
    DISPUTE_RAISED raises a dispute with ``dispute_reason`` (or the notes);
    VULNERABILITY_DISCLOSED records ``disclosure``. Writes ``CALL_OUTCOME_RECORDED``.
    When the outcome's own use case refuses, nothing is written and a started call stays
    in progress, to be completed once corrected.

    Raises ``contact_policy.UnknownCustomer``, ``UnknownAccount``, ``OutcomeIncomplete``;
    for an outbound call ``CallNotStarted`` (no ``call_id``, or a call not started),
    ``UnknownCall`` and ``NotYourCall``; for an inbound call ``IdempotencyKeyRefused``;
    and what the outcome's own use case raises (``promises.PromiseRefused``,
    ``circumstances.DetailWithoutConsent``, ``circumstances.ReviewDateInPast``).
    """
    outcome = models.CallOutcome(outcome)
    direction = models.ContactDirection(direction)
    _require_details(
        outcome, promise=promise, dispute_reason=dispute_reason or notes, disclosure=disclosure
    )
    if direction == models.ContactDirection.OUTBOUND and call_id is None:
        raise CallNotStarted("start the call before recording its outcome")
    if idempotency_key is not None:
        _check_key(idempotency_key, customer_id=customer_id)
    with transaction.atomic():
        contact_policy.lock_customer(customer_id)
        account = _account(customer_id=customer_id, account_id=account_id)
        if direction == models.ContactDirection.OUTBOUND:
            call = _started_call(account, call_id=call_id or 0, agent=agent, supervisor=supervisor)
            if call.status == models.ContactStatus.COMPLETED:
                return call
        else:
            key = idempotency_key or new_call_key(customer_id)
            existing = models.ContactAttempt.objects.filter(idempotency_key=key).first()
            if existing is not None:
                if not _same_inbound_call(existing, account=account, agent=agent):
                    raise IdempotencyKeyRefused("the key names another call")
                return existing
            call = models.ContactAttempt(
                customer=account.customer,
                account=account,
                channel=models.Channel.CALL,
                language=account.customer.language,
                purpose=models.ContactPurpose.COLLECTION,
                origin=models.ContactOrigin.AGENT,
                direction=direction,
                planned_at=now,
                sent_at=now,
                idempotency_key=key,
                agent=agent,
                attempts=1,
                created_at=now,
            )
        _complete(call, outcome=outcome, notes=notes, now=now)
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
                "started_by": call.agent,
                "call_task": call.origin == models.ContactOrigin.STRATEGY,
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


def _check_key(key: str, *, customer_id: int) -> None:
    match = _CALL_KEY.fullmatch(key)
    if match is None or int(match[1]) != customer_id:
        raise IdempotencyKeyRefused("the key was not made by Accord for this customer")


def _account(*, customer_id: int, account_id: int) -> models.Account:
    account = (
        models.Account.objects.select_related("customer")
        .filter(pk=account_id, customer_id=customer_id)
        .first()
    )
    if account is None:
        raise UnknownAccount(f"customer {customer_id} has no account {account_id}")
    return account


def _outbound_calls(account: models.Account) -> QuerySet[models.ContactAttempt]:
    return models.ContactAttempt.objects.filter(
        account=account,
        channel=models.Channel.CALL,
        direction=models.ContactDirection.OUTBOUND,
    )


def _started_call(
    account: models.Account, *, call_id: int, agent: str, supervisor: bool
) -> models.ContactAttempt:
    call = _outbound_calls(account).select_for_update().filter(pk=call_id).first()
    if call is None:
        raise UnknownCall(f"no outbound call {call_id} about account {account.pk}")
    if call.status not in (models.ContactStatus.SENDING, models.ContactStatus.COMPLETED):
        raise CallNotStarted(f"call {call_id} is {call.status}, not started")
    if call.agent != agent and not supervisor:
        raise NotYourCall(f"call {call_id} was started by another agent")
    return call


def _same_inbound_call(call: models.ContactAttempt, *, account: models.Account, agent: str) -> bool:
    return (
        call.channel == models.Channel.CALL
        and call.direction == models.ContactDirection.INBOUND
        and call.customer_id == account.customer_id
        and call.account_id == account.pk
        and call.agent == agent
    )


def _complete(
    call: models.ContactAttempt,
    *,
    outcome: models.CallOutcome,
    notes: str,
    now: datetime.datetime,
) -> None:
    call.status = models.ContactStatus.COMPLETED
    call.outcome = outcome
    call.connected = True
    call.conversation = outcome in CONVERSATION_OUTCOMES
    call.notes = notes.strip()
    call.updated_at = now
    call.save()


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
