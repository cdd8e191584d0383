"""Complaints and breathing space are recorded, validated and audited."""

from __future__ import annotations

import datetime

import pytest

from accord.audit.models import AuditEvent
from accord.storage import models
from accord.usecases import circumstances, complaints
from tests.integration import manager_data as data

NOW = data.NOW
TODAY = NOW.date()


@pytest.fixture
def account() -> models.Account:
    return data.account("EUR", name="Ana García")


def complain(owner: models.Account, **overrides: object) -> models.Complaint:
    arguments: dict[str, object] = {
        "customer_id": owner.customer_id,
        "account_id": owner.pk,
        "category": models.ComplaintCategory.CONTACT,
        "summary": "  You texted me four times in one day.  ",
        "received_via": models.Channel.CALL,
        "recorded_by": "user:agent",
        "now": NOW,
    }
    arguments.update(overrides)
    return complaints.record_complaint(**arguments)  # type: ignore[arg-type]


class TestRecordComplaint:
    def test_stores_the_complaint_received_now(self, account: models.Account) -> None:
        complaint = complain(account)
        assert (complaint.customer_id, complaint.account_id) == (account.customer_id, account.pk)
        assert complaint.summary == "You texted me four times in one day."
        assert (complaint.received_at, complaint.received_via) == (NOW, "CALL")
        assert complaint.resolved_at is None

    def test_audits_the_category_and_channel_but_never_the_summary(
        self, account: models.Account
    ) -> None:
        complaint = complain(account)
        event = AuditEvent.objects.get(event_type="COMPLAINT_RECORDED")
        assert (event.actor, event.subject_type, event.subject_id) == (
            "user:agent",
            "customer",
            str(account.customer_id),
        )
        assert event.parameters["complaint_id"] == complaint.pk
        assert event.parameters["category"] == "CONTACT"
        assert event.parameters["received_via"] == "CALL"
        assert "texted" not in str(event.parameters)

    def test_may_be_about_the_customer_rather_than_an_account(
        self, account: models.Account
    ) -> None:
        assert complain(account, account_id=None).account is None

    def test_may_have_been_received_earlier(self, account: models.Account) -> None:
        earlier = NOW - datetime.timedelta(days=2)
        assert complain(account, received_at=earlier).received_at == earlier

    def test_refuses_an_empty_summary(self, account: models.Account) -> None:
        with pytest.raises(complaints.EmptySummary):
            complain(account, summary="   ")
        assert not models.Complaint.objects.exists()

    def test_refuses_another_customers_account(self, account: models.Account) -> None:
        other = data.account("EUR", name="Someone Else")
        with pytest.raises(complaints.AccountNotTheCustomers):
            complain(account, account_id=other.pk)

    def test_refuses_an_unknown_customer(self, account: models.Account) -> None:
        with pytest.raises(complaints.UnknownCustomer):
            complain(account, customer_id=999_999, account_id=None)

    def test_refuses_a_complaint_from_the_future(self, account: models.Account) -> None:
        with pytest.raises(complaints.ReceivedInFuture):
            complain(account, received_at=NOW + datetime.timedelta(minutes=5))


def breathing_space(owner: models.Account, **overrides: object) -> models.BreathingSpace:
    arguments: dict[str, object] = {
        "customer_id": owner.customer_id,
        "kind": models.BreathingSpaceKind.STANDARD,
        "starts_on": TODAY,
        "ends_on": None,
        "reference": " BS-12345 ",
        "recorded_by": "user:agent",
        "now": NOW,
    }
    arguments.update(overrides)
    return circumstances.record_breathing_space(**arguments)  # type: ignore[arg-type]


class TestRecordBreathingSpace:
    def test_a_standard_breathing_space_lasts_sixty_days_unless_told(
        self, account: models.Account
    ) -> None:
        space = breathing_space(account)
        assert (space.starts_on, space.ends_on) == (TODAY, TODAY + datetime.timedelta(days=60))
        assert space.reference == "BS-12345"

    def test_a_mental_health_crisis_moratorium_may_be_open_ended(
        self, account: models.Account
    ) -> None:
        space = breathing_space(account, kind=models.BreathingSpaceKind.MENTAL_HEALTH_CRISIS)
        assert space.ends_on is None

    def test_is_audited_with_its_kind_and_dates(self, account: models.Account) -> None:
        space = breathing_space(account, ends_on=TODAY + datetime.timedelta(days=30))
        event = AuditEvent.objects.get(event_type="BREATHING_SPACE_RECORDED")
        assert event.parameters == {
            "breathing_space_id": space.pk,
            "kind": "STANDARD",
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY + datetime.timedelta(days=30)).isoformat(),
            "reference": "BS-12345",
        }

    def test_refuses_one_that_ends_before_it_starts(self, account: models.Account) -> None:
        with pytest.raises(circumstances.BreathingSpaceEndsBeforeStart):
            breathing_space(account, ends_on=TODAY - datetime.timedelta(days=1))

    def test_refuses_an_unknown_customer(self, account: models.Account) -> None:
        with pytest.raises(circumstances.UnknownCustomer):
            breathing_space(account, customer_id=999_999)

    def test_refuses_one_starting_more_than_a_year_ahead(self, account: models.Account) -> None:
        with pytest.raises(circumstances.BreathingSpaceStartsTooLate):
            breathing_space(account, starts_on=datetime.date(9999, 12, 31))

    def test_refuses_a_reference_longer_than_the_register_uses(
        self, account: models.Account
    ) -> None:
        with pytest.raises(circumstances.ReferenceTooLong):
            breathing_space(account, reference="X" * 65)
