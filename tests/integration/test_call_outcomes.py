"""record_call_outcome logs a call under the contact policy, with what the call brought."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accord.audit.models import AuditEvent
from accord.domain.money import Money
from accord.storage import models
from accord.usecases import call_outcomes, circumstances, promises
from tests.integration import workspace_data as data
from tests.integration.workspace_data import NOW, TODAY

Outcome = models.CallOutcome


@pytest.fixture
def ana() -> models.Customer:
    return data.customer()


@pytest.fixture
def account_in_arrears(ana: models.Customer) -> models.Account:
    return data.account_in_arrears(ana, arrears="250.00")


def record(
    account: models.Account,
    outcome: str = Outcome.RIGHT_PARTY_CONTACT,
    *,
    now: datetime.datetime = NOW,
    **extra: object,
) -> models.ContactAttempt:
    return call_outcomes.record_call_outcome(
        customer_id=account.customer_id,
        account_id=account.pk,
        outcome=models.CallOutcome(outcome),
        notes="Spoke about the arrears.",
        agent="agent-ana",
        now=now,
        **extra,  # type: ignore[arg-type]
    )


class TestACallIsRecorded:
    def test_as_a_completed_agent_call_with_its_outcome(
        self, account_in_arrears: models.Account
    ) -> None:
        call = record(account_in_arrears)

        call.refresh_from_db()
        assert call.channel == models.Channel.CALL
        assert call.origin == models.ContactOrigin.AGENT
        assert call.direction == models.ContactDirection.OUTBOUND
        assert call.status == models.ContactStatus.COMPLETED
        assert call.outcome == Outcome.RIGHT_PARTY_CONTACT
        assert call.agent == "agent-ana"
        assert call.notes == "Spoke about the arrears."
        assert call.planned_at == NOW
        assert call.account_id == account_in_arrears.pk

    def test_with_an_audit_event(self, account_in_arrears: models.Account) -> None:
        call = record(account_in_arrears, Outcome.REFUSED)

        event = AuditEvent.objects.get(event_type="CALL_OUTCOME_RECORDED")
        assert event.subject_type == "account"
        assert event.subject_id == str(account_in_arrears.pk)
        assert event.actor == "agent-ana"
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

    def test_once_for_the_same_idempotency_key(self, account_in_arrears: models.Account) -> None:
        first = record(account_in_arrears, idempotency_key="call:form-1")
        again = record(account_in_arrears, idempotency_key="call:form-1")

        assert again.pk == first.pk
        assert models.ContactAttempt.objects.filter(channel=models.Channel.CALL).count() == 1

    def test_by_completing_the_open_call_task(self, account_in_arrears: models.Account) -> None:
        task = models.ContactAttempt.objects.create(
            customer=account_in_arrears.customer,
            account=account_in_arrears,
            channel=models.Channel.CALL,
            template="call_task",
            origin=models.ContactOrigin.STRATEGY,
            planned_at=NOW - datetime.timedelta(hours=5),
            status=models.ContactStatus.PLANNED,
            idempotency_key="strategy:2026-03-18:call",
            **data.stamp(),
        )

        call = record(account_in_arrears, Outcome.NO_ANSWER)

        assert call.pk == task.pk
        task.refresh_from_db()
        assert task.status == models.ContactStatus.COMPLETED
        assert task.outcome == Outcome.NO_ANSWER
        assert task.agent == "agent-ana"
        assert not models.ContactAttempt.objects.filter(status=models.ContactStatus.PLANNED)


class TestThePolicyIsRecheckedForOutboundCalls:
    def test_refusing_a_call_after_a_cease_request(
        self, ana: models.Customer, account_in_arrears: models.Account
    ) -> None:
        circumstances.record_cease_request(
            customer_id=ana.pk, recorded_by="agent-bo", now=NOW - datetime.timedelta(days=1)
        )

        with pytest.raises(call_outcomes.ContactNotPermitted) as refused:
            record(account_in_arrears)

        assert refused.value.decision.allowed is False
        assert "REG_F_CEASE_COMMUNICATION" in refused.value.decision.codes
        assert not models.ContactAttempt.objects.exists()
        assert not AuditEvent.objects.filter(event_type="CALL_OUTCOME_RECORDED").exists()

    def test_refusing_the_eighth_call_in_seven_days(
        self, account_in_arrears: models.Account
    ) -> None:
        for n in range(7):
            data.outbound_call(
                account_in_arrears,
                at=NOW - datetime.timedelta(days=n % 3, hours=n + 1),
                key=f"earlier-{n}",
            )

        with pytest.raises(call_outcomes.ContactNotPermitted) as refused:
            record(account_in_arrears, Outcome.NO_ANSWER)

        assert "REG_F_CALL_FREQUENCY_7_IN_7" in refused.value.decision.codes

    def test_refusing_a_call_at_night_in_the_customers_time_zone(
        self, account_in_arrears: models.Account
    ) -> None:
        # 21:30 UTC is 22:30 in Madrid.
        late_evening = datetime.datetime(2026, 3, 18, 21, 30, tzinfo=datetime.UTC)

        with pytest.raises(call_outcomes.ContactNotPermitted) as refused:
            record(account_in_arrears, now=late_evening)

        assert "REG_F_INCONVENIENT_TIME" in refused.value.decision.codes
        assert refused.value.decision.next_allowed_at == datetime.datetime(
            2026, 3, 19, 7, 0, tzinfo=datetime.UTC
        )

    def test_but_not_for_a_call_the_customer_made(
        self, ana: models.Customer, account_in_arrears: models.Account
    ) -> None:
        circumstances.record_cease_request(
            customer_id=ana.pk, recorded_by="agent-bo", now=NOW - datetime.timedelta(days=1)
        )

        call = record(account_in_arrears, direction=models.ContactDirection.INBOUND)

        assert call.direction == models.ContactDirection.INBOUND
        assert call.conversation is True


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

    def test_no_call_when_the_promise_is_refused(self, account_in_arrears: models.Account) -> None:
        with pytest.raises(promises.PromiseRefused):
            record(
                account_in_arrears,
                Outcome.PROMISE_MADE,
                promise=(Money(Decimal("900.00"), "EUR"), TODAY + datetime.timedelta(days=5)),
            )

        assert not models.ContactAttempt.objects.exists()
        assert not models.Promise.objects.exists()

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
        with pytest.raises(circumstances.DetailWithoutConsent):
            record(
                account_in_arrears,
                Outcome.VULNERABILITY_DISCLOSED,
                disclosure=call_outcomes.Disclosure(
                    category=models.VulnerabilityCategory.HEALTH,
                    consent_to_record=False,
                    detail="Hospital stay",
                    review_date=TODAY + datetime.timedelta(days=90),
                ),
            )

        assert not models.Vulnerability.objects.exists()
        assert not models.ContactAttempt.objects.exists()


class TestACallIsRefused:
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
        with pytest.raises(call_outcomes.OutcomeIncomplete):
            call_outcomes.record_call_outcome(
                customer_id=account_in_arrears.customer_id,
                account_id=account_in_arrears.pk,
                outcome=Outcome.DISPUTE_RAISED,
                notes=" ",
                agent="agent-ana",
                now=NOW,
            )

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
            )
