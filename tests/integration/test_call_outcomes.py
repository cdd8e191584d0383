"""Calls are started under the contact policy, then completed with what they brought."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection

from accord.audit.models import AuditEvent
from accord.domain.money import Money
from accord.storage import models
from accord.usecases import call_outcomes, circumstances, contact_policy, promises
from tests.integration import workspace_data as data
from tests.integration.workspace_data import NOW, TODAY

Outcome = models.CallOutcome
# 21:30 UTC is 22:30 in Madrid: too late to call.
LATE_EVENING = datetime.datetime(2026, 3, 18, 21, 30, tzinfo=datetime.UTC)


@pytest.fixture
def ana() -> models.Customer:
    return data.customer()


@pytest.fixture
def account_in_arrears(ana: models.Customer) -> models.Account:
    return data.account_in_arrears(ana, arrears="250.00")


def start(
    account: models.Account, *, agent: str = "agent-ana", now: datetime.datetime = NOW
) -> models.ContactAttempt:
    return call_outcomes.start_call(
        customer_id=account.customer_id, account_id=account.pk, agent=agent, now=now
    )


def record(
    account: models.Account,
    outcome: str = Outcome.RIGHT_PARTY_CONTACT,
    *,
    call: models.ContactAttempt | None = None,
    now: datetime.datetime = NOW,
    agent: str = "agent-ana",
    **extra: object,
) -> models.ContactAttempt:
    """Record the outcome of ``call`` (started now when not given)."""
    if call is None and extra.get("direction") != models.ContactDirection.INBOUND:
        call = start(account, agent=agent, now=now)
    return call_outcomes.record_call_outcome(
        customer_id=account.customer_id,
        account_id=account.pk,
        outcome=models.CallOutcome(outcome),
        notes="Spoke about the arrears.",
        agent=agent,
        now=now,
        call_id=call.pk if call else None,
        **extra,  # type: ignore[arg-type]
    )


def call_task(account: models.Account) -> models.ContactAttempt:
    return models.ContactAttempt.objects.create(
        customer=account.customer,
        account=account,
        channel=models.Channel.CALL,
        template="call_task",
        origin=models.ContactOrigin.STRATEGY,
        planned_at=NOW - datetime.timedelta(hours=5),
        status=models.ContactStatus.PLANNED,
        idempotency_key="strategy:2026-03-18:call",
        **data.stamp(),
    )


def earlier_calls(account: models.Account, count: int) -> None:
    """Place ``count`` counted outbound calls about the account earlier this week."""
    for n in range(count):
        data.outbound_call(
            account, at=NOW - datetime.timedelta(days=n % 3, hours=n + 1), key=f"earlier-{n}"
        )


def calls() -> int:
    return models.ContactAttempt.objects.filter(channel=models.Channel.CALL).count()


class TestACallIsStarted:
    def test_as_an_agent_call_in_progress_placed_now(
        self, ana: models.Customer, account_in_arrears: models.Account
    ) -> None:
        call = start(account_in_arrears)

        call.refresh_from_db()
        assert call.channel == models.Channel.CALL
        assert call.origin == models.ContactOrigin.AGENT
        assert call.direction == models.ContactDirection.OUTBOUND
        assert call.status == models.ContactStatus.SENDING
        assert call.sent_at == NOW
        assert call.agent == "agent-ana"
        assert call.outcome == ""
        assert call.account_id == account_in_arrears.pk
        assert call.idempotency_key.startswith(f"call:{ana.pk}:")

    def test_with_an_audit_event(self, account_in_arrears: models.Account) -> None:
        call = start(account_in_arrears)

        event = AuditEvent.objects.get(event_type="CALL_STARTED")
        assert event.actor == "agent-ana"
        assert event.subject_id == str(account_in_arrears.pk)
        assert event.parameters["contact_id"] == call.pk
        assert event.parameters["call_task"] is False

    def test_counting_toward_the_cap_at_once(self, account_in_arrears: models.Account) -> None:
        earlier_calls(account_in_arrears, 6)
        start(account_in_arrears)  # the seventh, not yet completed

        decision = contact_policy.check_contact(
            customer_id=account_in_arrears.customer_id,
            account_ids=[account_in_arrears.pk],
            channel=models.Channel.CALL,
            now=NOW,
        )

        assert "REG_F_CALL_FREQUENCY_7_IN_7" in decision.codes

    def test_by_taking_over_the_open_call_task(self, account_in_arrears: models.Account) -> None:
        task = call_task(account_in_arrears)

        call = start(account_in_arrears)

        assert call.pk == task.pk
        task.refresh_from_db()
        assert task.status == models.ContactStatus.SENDING
        assert task.sent_at == NOW
        assert task.agent == "agent-ana"
        assert task.idempotency_key == "strategy:2026-03-18:call"
        assert AuditEvent.objects.get(event_type="CALL_STARTED").parameters["call_task"] is True

    def test_once_when_the_agent_presses_start_twice(
        self, account_in_arrears: models.Account
    ) -> None:
        first = start(account_in_arrears)
        again = start(account_in_arrears, now=NOW + datetime.timedelta(seconds=2))

        assert again.pk == first.pk
        assert calls() == 1

    def test_separately_for_two_agents(self, account_in_arrears: models.Account) -> None:
        start(account_in_arrears, agent="agent-ana")
        start(account_in_arrears, agent="agent-bo")

        assert calls() == 2


class TestACallIsNotStarted:
    def test_after_a_cease_request(
        self, ana: models.Customer, account_in_arrears: models.Account
    ) -> None:
        circumstances.record_cease_request(
            customer_id=ana.pk, recorded_by="agent-bo", now=NOW - datetime.timedelta(days=1)
        )

        with pytest.raises(call_outcomes.ContactNotPermitted) as refused:
            start(account_in_arrears)

        assert refused.value.decision.allowed is False
        assert "REG_F_CEASE_COMMUNICATION" in refused.value.decision.codes
        assert not models.ContactAttempt.objects.exists()
        assert not AuditEvent.objects.filter(event_type="CALL_STARTED").exists()

    def test_as_the_eighth_in_seven_days(self, account_in_arrears: models.Account) -> None:
        earlier_calls(account_in_arrears, 7)

        with pytest.raises(call_outcomes.ContactNotPermitted) as refused:
            start(account_in_arrears)

        assert "REG_F_CALL_FREQUENCY_7_IN_7" in refused.value.decision.codes
        assert calls() == 7

    def test_at_night_in_the_customers_time_zone_with_every_reason(
        self, ana: models.Customer, account_in_arrears: models.Account
    ) -> None:
        circumstances.raise_dispute(
            account_id=account_in_arrears.pk, reason="Not mine", recorded_by="x", now=NOW
        )
        task = call_task(account_in_arrears)

        with pytest.raises(call_outcomes.ContactNotPermitted) as refused:
            start(account_in_arrears, now=LATE_EVENING)

        codes = refused.value.decision.codes
        assert {"REG_F_INCONVENIENT_TIME", "REG_F_DISPUTE_PAUSE"} <= set(codes)
        task.refresh_from_db()
        assert task.status == models.ContactStatus.PLANNED

    def test_about_another_customers_account(self, ana: models.Customer) -> None:
        someone_else = data.account_in_arrears(data.customer("C-BO", name="Bo Lind"), "A-BO-1")

        with pytest.raises(call_outcomes.UnknownAccount):
            call_outcomes.start_call(
                customer_id=ana.pk, account_id=someone_else.pk, agent="agent-ana", now=NOW
            )

    def test_for_an_unknown_customer(self) -> None:
        with pytest.raises(contact_policy.UnknownCustomer):
            call_outcomes.start_call(customer_id=987654, account_id=1, agent="a", now=NOW)


class TestAStartedCallIsCompleted:
    def test_with_its_outcome_and_notes(self, account_in_arrears: models.Account) -> None:
        started = start(account_in_arrears)

        call = record(account_in_arrears, Outcome.REFUSED, call=started)

        assert call.pk == started.pk
        call.refresh_from_db()
        assert call.status == models.ContactStatus.COMPLETED
        assert call.outcome == Outcome.REFUSED
        assert call.notes == "Spoke about the arrears."
        assert call.sent_at == NOW
        event = AuditEvent.objects.get(event_type="CALL_OUTCOME_RECORDED")
        assert event.subject_id == str(account_in_arrears.pk)
        assert event.parameters["contact_id"] == call.pk
        assert event.parameters["outcome"] == "REFUSED"
        assert event.parameters["conversation"] is True

    @pytest.mark.parametrize(
        ("outcome", "conversation"),
        [
            (Outcome.RIGHT_PARTY_CONTACT, True),
            (Outcome.REFUSED, True),
            (Outcome.NO_ANSWER, False),
            (Outcome.WRONG_NUMBER, False),
        ],
    )
    def test_as_connected_and_a_conversation_only_with_the_right_party(
        self, account_in_arrears: models.Account, outcome: str, conversation: bool
    ) -> None:
        # COMPLIANCE.md: a call that rings out counts as connected; a wrong number reaches
        # the dialled number but not the consumer, so there is no conversation.
        call = record(account_in_arrears, outcome)

        assert call.connected is True
        assert call.conversation is conversation

    def test_with_its_promise_even_when_the_policy_would_now_refuse_a_call(
        self, ana: models.Customer, account_in_arrears: models.Account
    ) -> None:
        # Started at 20:55 in Madrid; the agent records at 21:10, and the customer asked
        # us to stop contact in between. The call happened: it and its promise are kept.
        before_nine = datetime.datetime(2026, 3, 18, 19, 55, tzinfo=datetime.UTC)
        after_nine = before_nine + datetime.timedelta(minutes=15)
        started = start(account_in_arrears, now=before_nine)
        circumstances.record_cease_request(
            customer_id=ana.pk, recorded_by="agent-bo", now=before_nine
        )

        call = record(
            account_in_arrears,
            Outcome.PROMISE_MADE,
            call=started,
            now=after_nine,
            promise=(Money(Decimal("80.00"), "EUR"), TODAY + datetime.timedelta(days=5)),
        )

        assert call.status == models.ContactStatus.COMPLETED
        assert models.Promise.objects.get(account=account_in_arrears).contact_id == call.pk

    def test_by_the_team_lead_for_another_agent(self, account_in_arrears: models.Account) -> None:
        started = start(account_in_arrears, agent="agent-bo")

        call = record(account_in_arrears, call=started, agent="lead-cy", supervisor=True)

        assert call.status == models.ContactStatus.COMPLETED
        assert call.agent == "agent-bo"
        event = AuditEvent.objects.get(event_type="CALL_OUTCOME_RECORDED")
        assert (event.actor, event.parameters["started_by"]) == ("lead-cy", "agent-bo")

    def test_completing_the_call_task_it_took_over(
        self, account_in_arrears: models.Account
    ) -> None:
        task = call_task(account_in_arrears)

        call = record(account_in_arrears, Outcome.NO_ANSWER)

        assert call.pk == task.pk
        task.refresh_from_db()
        assert task.status == models.ContactStatus.COMPLETED
        assert task.outcome == Outcome.NO_ANSWER
        assert not models.ContactAttempt.objects.filter(status=models.ContactStatus.PLANNED)


class TestACallIsCompletedOnce:
    def test_posting_the_same_outcome_twice_on_a_call_task_records_one_call(
        self, account_in_arrears: models.Account
    ) -> None:
        # Regression (C3): the second post used to create a second call beside the task.
        call_task(account_in_arrears)
        started = start(account_in_arrears)
        promise = (Money(Decimal("80.00"), "EUR"), TODAY + datetime.timedelta(days=5))

        first = record(account_in_arrears, Outcome.PROMISE_MADE, call=started, promise=promise)
        again = record(account_in_arrears, Outcome.PROMISE_MADE, call=started, promise=promise)

        assert again.pk == first.pk == started.pk
        assert calls() == 1
        assert models.Promise.objects.count() == 1
        assert AuditEvent.objects.filter(event_type="CALL_OUTCOME_RECORDED").count() == 1

    def test_a_second_completion_changes_nothing(self, account_in_arrears: models.Account) -> None:
        started = start(account_in_arrears)
        record(account_in_arrears, Outcome.NO_ANSWER, call=started)

        again = record(account_in_arrears, Outcome.REFUSED, call=started)

        again.refresh_from_db()
        assert again.outcome == Outcome.NO_ANSWER

    def test_refused_promise_leaves_the_call_in_progress_to_complete_later(
        self, account_in_arrears: models.Account
    ) -> None:
        started = start(account_in_arrears)
        too_much = (Money(Decimal("900.00"), "EUR"), TODAY + datetime.timedelta(days=5))

        with pytest.raises(promises.PromiseRefused):
            record(account_in_arrears, Outcome.PROMISE_MADE, call=started, promise=too_much)

        started.refresh_from_db()
        assert started.status == models.ContactStatus.SENDING
        assert not models.Promise.objects.exists()
        fair = (Money(Decimal("90.00"), "EUR"), TODAY + datetime.timedelta(days=5))
        call = record(account_in_arrears, Outcome.PROMISE_MADE, call=started, promise=fair)
        assert call.status == models.ContactStatus.COMPLETED
        assert calls() == 1


class TestACallIsNotCompleted:
    def test_by_another_agent(self, account_in_arrears: models.Account) -> None:
        started = start(account_in_arrears, agent="agent-bo")

        with pytest.raises(call_outcomes.NotYourCall):
            record(account_in_arrears, call=started, agent="agent-ana")

        started.refresh_from_db()
        assert started.status == models.ContactStatus.SENDING

    def test_without_being_started(self, account_in_arrears: models.Account) -> None:
        with pytest.raises(call_outcomes.CallNotStarted):
            call_outcomes.record_call_outcome(
                customer_id=account_in_arrears.customer_id,
                account_id=account_in_arrears.pk,
                outcome=Outcome.NO_ANSWER,
                notes="",
                agent="agent-ana",
                now=NOW,
            )
        assert calls() == 0

    def test_for_a_call_task_nobody_started(self, account_in_arrears: models.Account) -> None:
        task = call_task(account_in_arrears)

        with pytest.raises(call_outcomes.CallNotStarted):
            record(account_in_arrears, call=task)

    def test_for_a_call_about_another_customer(self, ana: models.Customer) -> None:
        mine = data.account_in_arrears(ana)
        theirs = data.account_in_arrears(data.customer("C-BO", name="Bo Lind"), "A-BO-1")
        their_call = start(theirs)

        with pytest.raises(call_outcomes.UnknownCall):
            record(mine, call=their_call)

    def test_about_another_customers_account(self, ana: models.Customer) -> None:
        someone_else = data.account_in_arrears(data.customer("C-BO", name="Bo Lind"), "A-BO-1")

        with pytest.raises(call_outcomes.UnknownAccount):
            call_outcomes.record_call_outcome(
                customer_id=ana.pk,
                account_id=someone_else.pk,
                outcome=Outcome.NO_ANSWER,
                notes="",
                agent="agent-ana",
                now=NOW,
                call_id=1,
            )

    @pytest.mark.parametrize(
        "outcome",
        [Outcome.PROMISE_MADE, Outcome.VULNERABILITY_DISCLOSED],
    )
    def test_when_the_outcome_lacks_its_details(
        self, account_in_arrears: models.Account, outcome: str
    ) -> None:
        with pytest.raises(call_outcomes.OutcomeIncomplete):
            record(account_in_arrears, outcome)

    def test_for_a_dispute_without_a_reason(self, account_in_arrears: models.Account) -> None:
        started = start(account_in_arrears)

        with pytest.raises(call_outcomes.OutcomeIncomplete):
            call_outcomes.record_call_outcome(
                customer_id=account_in_arrears.customer_id,
                account_id=account_in_arrears.pk,
                outcome=Outcome.DISPUTE_RAISED,
                notes=" ",
                agent="agent-ana",
                now=NOW,
                call_id=started.pk,
            )


class TestACallTheCustomerMade:
    def test_is_recorded_without_the_policy(
        self, ana: models.Customer, account_in_arrears: models.Account
    ) -> None:
        circumstances.record_cease_request(
            customer_id=ana.pk, recorded_by="agent-bo", now=NOW - datetime.timedelta(days=1)
        )

        call = record(
            account_in_arrears, direction=models.ContactDirection.INBOUND, now=LATE_EVENING
        )

        assert call.direction == models.ContactDirection.INBOUND
        assert call.status == models.ContactStatus.COMPLETED
        assert call.conversation is True
        assert call.idempotency_key.startswith(f"call:{ana.pk}:")

    def test_is_recorded_once_for_the_key_its_form_carried(
        self, ana: models.Customer, account_in_arrears: models.Account
    ) -> None:
        key = call_outcomes.new_call_key(ana.pk)
        inbound = models.ContactDirection.INBOUND

        first = record(account_in_arrears, direction=inbound, idempotency_key=key)
        again = record(account_in_arrears, direction=inbound, idempotency_key=key)

        assert again.pk == first.pk
        assert calls() == 1

    @pytest.mark.parametrize(
        "forged",
        [
            "strategy:2026-03-18:1:late_notice:EMAIL",
            "promise:1",
            "call:form-1",
            "call:987654:8a0c5b1e-6d0e-4a55-9a37-0e7e4d5c2f10",
        ],
    )
    def test_refuses_a_key_accord_did_not_make_for_the_customer(
        self, account_in_arrears: models.Account, forged: str
    ) -> None:
        with pytest.raises(call_outcomes.IdempotencyKeyRefused):
            record(
                account_in_arrears,
                direction=models.ContactDirection.INBOUND,
                idempotency_key=forged,
            )

        assert not models.ContactAttempt.objects.exists()

    def test_refuses_a_key_already_naming_another_agents_call(
        self, ana: models.Customer, account_in_arrears: models.Account
    ) -> None:
        key = call_outcomes.new_call_key(ana.pk)
        inbound = models.ContactDirection.INBOUND
        record(account_in_arrears, direction=inbound, idempotency_key=key, agent="agent-bo")

        with pytest.raises(call_outcomes.IdempotencyKeyRefused):
            record(account_in_arrears, direction=inbound, idempotency_key=key, agent="agent-ana")

    def test_cannot_take_a_started_calls_key(
        self, ana: models.Customer, account_in_arrears: models.Account
    ) -> None:
        started = start(account_in_arrears)

        with pytest.raises(call_outcomes.IdempotencyKeyRefused):
            record(
                account_in_arrears,
                direction=models.ContactDirection.INBOUND,
                idempotency_key=started.idempotency_key,
            )

        started.refresh_from_db()
        assert started.status == models.ContactStatus.SENDING


class TestWhatTheCallBrings:
    def test_a_promise_taken_on_the_call(self, account_in_arrears: models.Account) -> None:
        call = record(
            account_in_arrears,
            Outcome.PROMISE_MADE,
            promise=(Money(Decimal("80.00"), "EUR"), TODAY + datetime.timedelta(days=5)),
        )

        promise = models.Promise.objects.get(account=account_in_arrears)
        assert promise.contact_id == call.pk
        assert promise.amount_minor == 8000
        assert promise.source == models.Source.AGENT
        event = AuditEvent.objects.get(event_type="CALL_OUTCOME_RECORDED")
        assert event.parameters["promise_id"] == promise.pk

    def test_a_dispute_raised_on_the_call(self, account_in_arrears: models.Account) -> None:
        record(account_in_arrears, Outcome.DISPUTE_RAISED, dispute_reason="Never had this card")

        dispute = models.Dispute.objects.get(account=account_in_arrears)
        assert dispute.reason == "Never had this card"
        assert dispute.recorded_by == "agent-ana"
        assert dispute.verified_at is None

    def test_a_vulnerability_disclosed_with_consent(
        self, ana: models.Customer, account_in_arrears: models.Account
    ) -> None:
        record(
            account_in_arrears,
            Outcome.VULNERABILITY_DISCLOSED,
            disclosure=call_outcomes.Disclosure(
                category=models.VulnerabilityCategory.LIFE_EVENT,
                consent_to_record=True,
                detail="Recently bereaved",
                review_date=TODAY + datetime.timedelta(days=90),
            ),
        )

        flag = models.Vulnerability.objects.get(customer=ana)
        assert flag.category == models.VulnerabilityCategory.LIFE_EVENT
        assert flag.detail == "Recently bereaved"

    def test_no_detail_without_consent(self, account_in_arrears: models.Account) -> None:
        started = start(account_in_arrears)

        with pytest.raises(circumstances.DetailWithoutConsent):
            record(
                account_in_arrears,
                Outcome.VULNERABILITY_DISCLOSED,
                call=started,
                disclosure=call_outcomes.Disclosure(
                    category=models.VulnerabilityCategory.HEALTH,
                    consent_to_record=False,
                    detail="Hospital stay",
                    review_date=TODAY + datetime.timedelta(days=90),
                ),
            )

        assert not models.Vulnerability.objects.exists()
        started.refresh_from_db()
        assert started.status == models.ContactStatus.SENDING


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentAgents:
    def test_eight_agents_starting_the_seventh_call_at_once_place_exactly_one(self) -> None:
        account = data.account_in_arrears(data.customer())
        earlier_calls(account, 6)
        started: list[int] = []
        refused: list[str] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def dial(worker: int) -> None:
            try:
                barrier.wait()
                call = start(account, agent=f"agent-{worker}")
                started.append(call.pk)
            except call_outcomes.ContactNotPermitted as refusal:
                refused.extend(refusal.decision.codes)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=dial, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        assert len(started) == 1
        assert refused == ["REG_F_CALL_FREQUENCY_7_IN_7"] * 7
        assert (
            models.ContactAttempt.objects.filter(status=models.ContactStatus.SENDING).count() == 1
        )
        assert calls() == 7
