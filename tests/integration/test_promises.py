"""record_promise takes a promise to pay, refuses bad ones, and queues its confirmation."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from accord.audit.models import AuditEvent
from accord.domain.money import Money
from accord.storage import models
from accord.usecases import circumstances, outbox, promises
from tests.integration import workspace_data as data
from tests.integration.workspace_data import NOW, TODAY


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def take(
    account: models.Account,
    amount: Money | None = None,
    promised_date: datetime.date | None = None,
    source: models.Source = models.Source.AGENT,
) -> models.Promise:
    return promises.record_promise(
        account_id=account.pk,
        amount=amount or eur("100.00"),
        promised_date=promised_date or TODAY + datetime.timedelta(days=7),
        source=source,
        actor="agent-ana",
        now=NOW,
    )


def refusal(account_id: int, **overrides: object) -> promises.Refusal:
    arguments: dict[str, object] = {
        "account_id": account_id,
        "amount": eur("100.00"),
        "promised_date": TODAY + datetime.timedelta(days=7),
        "source": models.Source.AGENT,
        "actor": "agent-ana",
        "now": NOW,
        **overrides,
    }
    with pytest.raises(promises.PromiseRefused) as refused:
        promises.record_promise(**arguments)  # type: ignore[arg-type]
    assert str(refused.value)
    return refused.value.reason


@pytest.fixture
def account_in_arrears() -> models.Account:
    return data.account_in_arrears(data.customer(), arrears="250.00")


class TestAPromiseIsTaken:
    def test_as_an_open_promise_for_the_amount_and_date(
        self, account_in_arrears: models.Account
    ) -> None:
        promise = take(account_in_arrears, eur("120.50"), TODAY + datetime.timedelta(days=10))

        promise.refresh_from_db()
        assert promise.status == models.PromiseStatus.OPEN
        assert promise.amount_minor == 12050
        assert promise.currency == "EUR"
        assert promise.promised_date == TODAY + datetime.timedelta(days=10)
        assert promise.source == models.Source.AGENT
        assert promise.created_by == "agent-ana"
        assert promise.created_at == NOW

    def test_with_an_audit_event_carrying_its_terms(
        self, account_in_arrears: models.Account
    ) -> None:
        promise = take(account_in_arrears, eur("120.5"))

        event = AuditEvent.objects.get(event_type="PROMISE_RECORDED")
        assert event.subject_type == "account"
        assert event.subject_id == str(account_in_arrears.pk)
        assert event.actor == "agent-ana"
        assert event.parameters["promise_id"] == promise.pk
        assert event.parameters["amount"] == "120.50"
        assert event.parameters["currency"] == "EUR"

    def test_for_exactly_the_balance_today(self, account_in_arrears: models.Account) -> None:
        assert take(account_in_arrears, eur("250.00"), TODAY).amount_minor == 25000

    def test_thirty_days_ahead_at_most(self, account_in_arrears: models.Account) -> None:
        promise = take(account_in_arrears, promised_date=TODAY + datetime.timedelta(days=30))

        assert promise.promised_date == TODAY + datetime.timedelta(days=30)

    def test_after_an_earlier_promise_was_kept(self, account_in_arrears: models.Account) -> None:
        data.promise(account_in_arrears, status=models.PromiseStatus.KEPT)

        assert take(account_in_arrears).status == models.PromiseStatus.OPEN

    def test_on_a_charged_off_account_that_is_still_collected(self) -> None:
        charged_off = data.account(data.customer(), "A-CO", status=models.AccountStatus.CHARGED_OFF)
        data.charge(charged_off, "500.00", TODAY - datetime.timedelta(days=200))

        assert take(charged_off).account_id == charged_off.pk


class TestAPromiseIsRefused:
    def test_for_an_unknown_account(self) -> None:
        assert refusal(987654) == promises.Refusal.UNKNOWN_ACCOUNT

    @pytest.mark.parametrize("status", [models.AccountStatus.CLOSED, models.AccountStatus.SETTLED])
    def test_on_a_closed_account(self, status: str) -> None:
        closed = data.account(data.customer(), "A-CLOSED", status=status)
        data.charge(closed, "100.00", TODAY - datetime.timedelta(days=30))

        assert refusal(closed.pk) == promises.Refusal.ACCOUNT_CLOSED

    @pytest.mark.parametrize("amount", ["0", "-10.00"])
    def test_for_nothing_or_less(self, account_in_arrears: models.Account, amount: str) -> None:
        reason = refusal(account_in_arrears.pk, amount=eur(amount))

        assert reason == promises.Refusal.AMOUNT_NOT_POSITIVE

    def test_for_more_than_the_balance(self, account_in_arrears: models.Account) -> None:
        assert (
            refusal(account_in_arrears.pk, amount=eur("250.01"))
            == promises.Refusal.AMOUNT_OVER_BALANCE
        )

    def test_counting_payments_already_received(self, account_in_arrears: models.Account) -> None:
        data.payment(account_in_arrears, "200.00", TODAY - datetime.timedelta(days=1))

        assert (
            refusal(account_in_arrears.pk, amount=eur("50.01"))
            == promises.Refusal.AMOUNT_OVER_BALANCE
        )

    def test_when_nothing_is_owed(self) -> None:
        paid_up = data.account(data.customer(), "A-PAID")
        data.charge(paid_up, "80.00", TODAY - datetime.timedelta(days=30))
        data.payment(paid_up, "80.00", TODAY - datetime.timedelta(days=20))

        assert refusal(paid_up.pk, amount=eur("1.00")) == promises.Refusal.AMOUNT_OVER_BALANCE

    def test_in_another_currency(self, account_in_arrears: models.Account) -> None:
        dollars = Money(Decimal("10.00"), "USD")

        assert refusal(account_in_arrears.pk, amount=dollars) == promises.Refusal.WRONG_CURRENCY

    def test_for_a_fraction_of_a_cent(self, account_in_arrears: models.Account) -> None:
        reason = refusal(account_in_arrears.pk, amount=eur("10.005"))

        assert reason == promises.Refusal.AMOUNT_NOT_WHOLE_MINOR_UNITS

    def test_for_a_date_in_the_past(self, account_in_arrears: models.Account) -> None:
        yesterday = TODAY - datetime.timedelta(days=1)

        assert refusal(account_in_arrears.pk, promised_date=yesterday) == (
            promises.Refusal.DATE_IN_PAST
        )

    def test_for_a_date_more_than_thirty_days_ahead(
        self, account_in_arrears: models.Account
    ) -> None:
        too_far = TODAY + datetime.timedelta(days=31)

        assert refusal(account_in_arrears.pk, promised_date=too_far) == (
            promises.Refusal.DATE_TOO_FAR_AHEAD
        )

    def test_while_another_promise_is_open(self, account_in_arrears: models.Account) -> None:
        data.promise(account_in_arrears, status=models.PromiseStatus.OPEN)

        assert refusal(account_in_arrears.pk) == promises.Refusal.OPEN_PROMISE_EXISTS

    def test_without_writing_anything(self, account_in_arrears: models.Account) -> None:
        refusal(account_in_arrears.pk, amount=eur("999.00"))

        assert not models.Promise.objects.exists()
        assert not models.ContactAttempt.objects.exists()
        assert not AuditEvent.objects.filter(event_type="PROMISE_RECORDED").exists()


class TestTheConfirmation:
    def test_is_queued_by_email_when_the_customer_has_an_address(
        self, account_in_arrears: models.Account
    ) -> None:
        promise = take(account_in_arrears)

        confirmation = models.ContactAttempt.objects.get(idempotency_key=f"promise:{promise.pk}")
        assert confirmation.channel == models.Channel.EMAIL
        assert confirmation.destination == "ana@example.com"
        assert confirmation.template == "promise_confirmation"
        assert confirmation.status == models.ContactStatus.PLANNED
        assert confirmation.planned_at == NOW
        assert confirmation.origin == models.ContactOrigin.AGENT
        assert confirmation.direction == models.ContactDirection.OUTBOUND
        assert confirmation.language == "es"
        assert confirmation.account_id == account_in_arrears.pk
        assert confirmation.customer_id == account_in_arrears.customer_id

    @pytest.mark.parametrize(
        ("source", "origin"),
        [
            (models.Source.PORTAL, models.ContactOrigin.PORTAL),
            (models.Source.API, models.ContactOrigin.API),
        ],
    )
    def test_says_where_the_promise_came_from(
        self, account_in_arrears: models.Account, source: models.Source, origin: str
    ) -> None:
        promise = take(account_in_arrears, source=source)

        confirmation = models.ContactAttempt.objects.get(idempotency_key=f"promise:{promise.pk}")
        assert confirmation.origin == origin

    def test_goes_by_sms_when_the_customer_prefers_it(self) -> None:
        prefers_sms = data.customer(preferred_channel=models.Channel.SMS)
        promise = take(data.account_in_arrears(prefers_sms))

        confirmation = models.ContactAttempt.objects.get(idempotency_key=f"promise:{promise.pk}")
        assert confirmation.channel == models.Channel.SMS
        assert confirmation.destination == "+34612345678"

    def test_goes_by_sms_when_only_a_phone_is_on_file(self) -> None:
        phone_only = data.customer(email=None)
        promise = take(data.account_in_arrears(phone_only))

        confirmation = models.ContactAttempt.objects.get(idempotency_key=f"promise:{promise.pk}")
        assert confirmation.channel == models.Channel.SMS

    def test_avoids_a_channel_the_customer_opted_out_of(self) -> None:
        opted_out_of_email = data.customer()
        circumstances.record_opt_out(
            customer_id=opted_out_of_email.pk,
            channel=models.Channel.EMAIL,
            source="letter",
            recorded_by="agent-ana",
            now=NOW,
        )
        promise = take(data.account_in_arrears(opted_out_of_email))

        confirmation = models.ContactAttempt.objects.get(idempotency_key=f"promise:{promise.pk}")
        assert confirmation.channel == models.Channel.SMS

    def test_is_not_queued_without_an_email_or_phone(self) -> None:
        unreachable = data.customer(email=None, phone=None)

        promise = take(data.account_in_arrears(unreachable))

        assert not models.ContactAttempt.objects.filter(account=promise.account).exists()
        event = AuditEvent.objects.get(event_type="PROMISE_RECORDED")
        assert event.parameters["confirmation_id"] is None


@pytest.fixture
def announcements() -> Iterator[list[object]]:
    """Collect the ``contacts_queued`` signals sent (the dispatch task's trigger)."""
    heard: list[object] = []

    def listen(sender: object, **kwargs: Any) -> None:
        heard.append(sender)

    outbox.contacts_queued.connect(listen)
    yield heard
    outbox.contacts_queued.disconnect(listen)


class TestTheDispatcherIsTold:
    def test_once_the_promise_and_its_confirmation_commit(
        self,
        account_in_arrears: models.Account,
        announcements: list[object],
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        with django_capture_on_commit_callbacks(execute=False) as on_commit:
            take(account_in_arrears)
            assert announcements == []  # nothing before the commit

        for callback in on_commit:
            callback()
        assert len(announcements) == 1

    def test_not_when_no_confirmation_was_queued(
        self, announcements: list[object], django_capture_on_commit_callbacks: Any
    ) -> None:
        unreachable = data.customer(email=None, phone=None)

        with django_capture_on_commit_callbacks(execute=True):
            take(data.account_in_arrears(unreachable))

        assert announcements == []
