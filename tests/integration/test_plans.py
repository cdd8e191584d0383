from __future__ import annotations

import datetime
import decimal

import pytest

from accord.audit import events
from accord.audit import models as audit_models
from accord.domain import money, plans
from accord.storage import models
from accord.usecases import plans as plan_usecases
from tests.integration import portal_data
from tests.integration.portal_data import NOW

D = decimal.Decimal
START = NOW.date() + datetime.timedelta(days=5)


def agree(account_id: int, count: int = 3, start: datetime.date = START) -> models.RepaymentPlan:
    return plan_usecases.agree_plan(
        account_id=account_id,
        instalment_count=count,
        start_date=start,
        source=models.Source.PORTAL,
        actor="customer:1",
        now=NOW,
    )


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
