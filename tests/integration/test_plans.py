from __future__ import annotations

import datetime
import decimal

import pytest
from django.core import mail

from accord.audit import events
from accord.audit import models as audit_models
from accord.domain import money, plans
from accord.storage import models
from accord.usecases import dispatch
from accord.usecases import plans as plan_usecases
from tests.integration import portal_data
from tests.integration.portal_data import NOW

D = decimal.Decimal
START = NOW.date() + datetime.timedelta(days=5)


def agree(
    account_id: int,
    count: int = 3,
    start: datetime.date = START,
    expected_total: money.Money | None = None,
) -> models.RepaymentPlan:
    return plan_usecases.agree_plan(
        account_id=account_id,
        instalment_count=count,
        start_date=start,
        source=models.Source.PORTAL,
        actor="customer:1",
        now=NOW,
        expected_total=expected_total,
    )


def gbp(text: str) -> money.Money:
    return money.Money(D(text), "GBP")


@pytest.fixture
def account_in_arrears() -> models.Account:
    owner = portal_data.customer(email="ana@example.com")
    # 100.00 overdue after a 20.00 part payment, plus 50.00 not yet due.
    return portal_data.account(
        owner, overdue_minor=10_000, paid_minor=2_000, not_yet_due_minor=5_000
    )


class TestAgreePlan:
    def test_splits_exactly_the_arrears_into_monthly_instalments(
        self, account_in_arrears: models.Account
    ) -> None:
        plan = agree(account_in_arrears.pk)
        rows = list(plan.instalments.order_by("sequence"))
        assert plan.total_minor == 10_000
        assert plan.status == models.PlanStatus.ACTIVE
        assert [row.amount_minor for row in rows] == [3334, 3333, 3333]
        assert [row.due_date for row in rows] == [
            START,
            plans.add_months(START, 1),
            plans.add_months(START, 2),
        ]

    def test_records_the_agreement_in_the_audit_log(
        self, account_in_arrears: models.Account
    ) -> None:
        plan = agree(account_in_arrears.pk, count=6)
        event = audit_models.AuditEvent.objects.get(
            event_type=events.EventType.PLAN_AGREED, subject_id=str(account_in_arrears.pk)
        )
        assert event.actor == "customer:1"
        assert event.parameters["plan_id"] == plan.pk
        assert event.parameters["instalment_count"] == 6
        assert event.parameters["total"] == "100.00"
        assert len(event.parameters["instalments"]) == 6

    def test_matches_the_proposal_shown_before_confirming(
        self, account_in_arrears: models.Account
    ) -> None:
        proposal = plan_usecases.propose_plan(
            account_id=account_in_arrears.pk, instalment_count=12, start_date=START, now=NOW
        )
        plan = agree(account_in_arrears.pk, count=12)
        stored = [
            (row.due_date, money.Money.from_minor_units(row.amount_minor, "GBP"))
            for row in plan.instalments.order_by("sequence")
        ]
        assert stored == [(item.due_date, item.amount) for item in proposal.instalments]
        assert proposal.total == money.Money(D("100.00"), "GBP")

    def test_refuses_an_account_with_nothing_overdue(self) -> None:
        up_to_date = portal_data.account(portal_data.customer(), not_yet_due_minor=5_000)
        with pytest.raises(plan_usecases.NoArrears):
            agree(up_to_date.pk)
        assert not models.RepaymentPlan.objects.filter(account=up_to_date).exists()

    def test_refuses_a_second_plan_while_one_is_active(
        self, account_in_arrears: models.Account
    ) -> None:
        agree(account_in_arrears.pk)
        with pytest.raises(plan_usecases.PlanAlreadyActive):
            agree(account_in_arrears.pk, count=6)
        assert account_in_arrears.plans.count() == 1

    def test_refuses_instalments_below_one_minor_unit(self) -> None:
        two_yen = portal_data.account(portal_data.customer(), overdue_minor=2, currency="JPY")
        with pytest.raises(plans.InstalmentTooSmall):
            agree(two_yen.pk, count=3)

    def test_splits_yen_into_whole_yen(self) -> None:
        yen = portal_data.account(portal_data.customer(), overdue_minor=10_000, currency="JPY")
        plan = agree(yen.pk, count=3)
        assert [row.amount_minor for row in plan.instalments.order_by("sequence")] == [
            3334,
            3333,
            3333,
        ]

    @pytest.mark.parametrize("days", [-1, plan_usecases.LATEST_START_DAYS + 1])
    def test_refuses_a_start_date_in_the_past_or_too_far_ahead(
        self, account_in_arrears: models.Account, days: int
    ) -> None:
        with pytest.raises(plan_usecases.StartDateOutOfRange):
            agree(account_in_arrears.pk, start=NOW.date() + datetime.timedelta(days=days))

    def test_refuses_a_closed_account(self) -> None:
        closed = portal_data.account(
            portal_data.customer(), overdue_minor=500, status=models.AccountStatus.CLOSED
        )
        with pytest.raises(plan_usecases.AccountNotOpen):
            agree(closed.pk)

    def test_refuses_an_unknown_account(self) -> None:
        with pytest.raises(plan_usecases.UnknownAccount):
            agree(999_999)

    def test_refusals_share_one_base_class(self) -> None:
        for refusal in (
            plan_usecases.NoArrears,
            plan_usecases.PlanAlreadyActive,
            plan_usecases.StartDateOutOfRange,
            plan_usecases.AccountNotOpen,
            plans.InstalmentTooSmall,
        ):
            assert issubclass(refusal, plans.PlanRefused)


class TestExpectedTotal:
    def test_agrees_when_the_arrears_are_the_total_shown(
        self, account_in_arrears: models.Account
    ) -> None:
        plan = agree(account_in_arrears.pk, expected_total=gbp("100.00"))
        assert plan.total_minor == 10_000

    def test_refuses_when_the_arrears_changed_since_the_schedule_was_shown(
        self, account_in_arrears: models.Account
    ) -> None:
        with pytest.raises(plan_usecases.ArrearsChanged) as refused:
            agree(account_in_arrears.pk, expected_total=gbp("120.00"))
        assert refused.value.total == gbp("100.00")
        assert isinstance(refused.value, plans.PlanRefused)
        assert not account_in_arrears.plans.exists()
        assert not models.ContactAttempt.objects.exists()

    def test_refuses_a_total_shown_in_another_currency(
        self, account_in_arrears: models.Account
    ) -> None:
        with pytest.raises(plan_usecases.ArrearsChanged):
            agree(account_in_arrears.pk, expected_total=money.Money(D("100.00"), "EUR"))


class TestConfirmation:
    def test_queues_a_plan_confirmation_by_email_with_the_plan_key(
        self, account_in_arrears: models.Account
    ) -> None:
        plan = agree(account_in_arrears.pk)
        queued = models.ContactAttempt.objects.get(account=account_in_arrears)
        assert queued.idempotency_key == f"plan:{plan.pk}"
        assert queued.template == "plan_confirmation"
        assert (queued.channel, queued.destination) == (models.Channel.EMAIL, "ana@example.com")
        assert (queued.status, queued.planned_at) == (models.ContactStatus.PLANNED, NOW)
        assert queued.origin == models.ContactOrigin.PORTAL
        assert queued.direction == models.ContactDirection.OUTBOUND
        event = audit_models.AuditEvent.objects.get(event_type=events.EventType.PLAN_AGREED)
        assert event.parameters["confirmation_id"] == queued.pk

    def test_sends_a_text_to_a_customer_who_prefers_texts(self) -> None:
        owner = portal_data.customer(email="ana@example.com", phone="+447911123456")
        owner.preferred_channel = models.Channel.SMS
        owner.save()
        account = portal_data.account(owner, overdue_minor=9_000)
        agree(account.pk)
        queued = models.ContactAttempt.objects.get(account=account)
        assert (queued.channel, queued.destination) == (models.Channel.SMS, "+447911123456")

    def test_skips_a_channel_the_customer_opted_out_of(self) -> None:
        owner = portal_data.customer(email="ana@example.com", phone="+447911123456")
        models.ChannelOptOut.objects.create(
            customer=owner,
            channel=models.Channel.EMAIL,
            opted_out_at=NOW,
            source="PORTAL",
            recorded_by="customer",
        )
        account = portal_data.account(owner, overdue_minor=9_000)
        agree(account.pk)
        assert models.ContactAttempt.objects.get(account=account).channel == models.Channel.SMS

    def test_agrees_the_plan_without_a_confirmation_when_there_is_nowhere_to_send_it(
        self,
    ) -> None:
        account = portal_data.account(portal_data.customer(), overdue_minor=9_000)
        plan = agree(account.pk)
        assert plan.status == models.PlanStatus.ACTIVE
        assert not models.ContactAttempt.objects.exists()

    def test_queues_nothing_for_a_refused_plan(self, account_in_arrears: models.Account) -> None:
        agree(account_in_arrears.pk)
        with pytest.raises(plan_usecases.PlanAlreadyActive):
            agree(account_in_arrears.pk, count=6)
        assert models.ContactAttempt.objects.count() == 1

    def test_the_dispatcher_sends_the_schedule_that_was_agreed(
        self, account_in_arrears: models.Account
    ) -> None:
        agree(account_in_arrears.pk)
        report = dispatch.dispatch_due(now=NOW, actor="test")
        assert report.sent == 1, report
        body = mail.outbox[-1].body
        assert "£100.00" in body
        assert "£33.34" in body
