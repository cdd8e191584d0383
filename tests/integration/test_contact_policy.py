"""check_contact and lock_customer read the contact policy's facts from the database."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection, transaction

from accord.domain import compliance
from accord.storage import models
from accord.usecases import contact_policy

# Friday 6 Feb 2026, 15:00 in Chicago.
NOW = dt.datetime(2026, 2, 6, 21, 0, tzinfo=dt.UTC)


def make_customer(ref: str = "C-POLICY", **fields: object) -> models.Customer:
    return models.Customer.objects.create(
        external_ref=ref,
        debtor_type=models.DebtorType.CONSUMER,
        name="Pat Policy",
        country="US",
        time_zones=["America/Chicago"],
        time_zone_source=models.TimeZoneSource.ADDRESS,
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )


def make_account(owner: models.Customer, ref: str = "card-1") -> models.Account:
    return models.Account.objects.create(
        external_ref=ref,
        customer=owner,
        product_type=models.ProductType.values[0],
        currency="USD",
        opened_date=dt.date(2025, 1, 1),
        status=models.AccountStatus.values[0],
        created_at=NOW,
        updated_at=NOW,
    )


def log_call(
    account: models.Account,
    at: dt.datetime,
    *,
    status: str = models.ContactStatus.COMPLETED,
    connected: bool | None = None,
    direction: str = models.ContactDirection.OUTBOUND,
) -> models.ContactAttempt:
    return models.ContactAttempt.objects.create(
        customer=account.customer,
        account=account,
        channel=models.Channel.CALL,
        origin=models.ContactOrigin.AGENT,
        direction=direction,
        planned_at=at,
        status=status,
        connected=connected,
        idempotency_key=f"test:{uuid.uuid4()}",
        created_at=at,
        updated_at=at,
    )


def check(
    customer: models.Customer, account: models.Account, channel: str = "CALL", **kw: object
) -> compliance.Decision:
    return contact_policy.check_contact(
        customer_id=customer.pk,
        account_ids=[account.pk],
        channel=channel,
        now=NOW,
        **kw,  # type: ignore[arg-type]
    )


class TestCheckContact:
    def test_a_customer_with_nothing_against_them_may_be_called(self) -> None:
        customer = make_customer()
        assert check(customer, make_account(customer)).allowed

    def test_seven_counted_calls_this_week_deny_the_eighth(self) -> None:
        """REG_F_CALL_FREQUENCY_7_IN_7, read from ContactAttempt rows."""
        customer = make_customer()
        card = make_account(customer)
        for day in range(2, 9):
            log_call(card, NOW - dt.timedelta(days=day - 2, hours=1))
        decision = check(customer, card)
        assert decision.codes == ("REG_F_CALL_FREQUENCY_7_IN_7",)
        assert "account card-1" in decision.reasons[0].message
        assert decision.next_allowed_at is not None

    def test_planned_failed_unconnected_and_inbound_calls_do_not_count(self) -> None:
        customer = make_customer()
        card = make_account(customer)
        for hours in range(1, 7):
            log_call(card, NOW - dt.timedelta(hours=hours))
        log_call(card, NOW - dt.timedelta(hours=7), status=models.ContactStatus.PLANNED)
        log_call(card, NOW - dt.timedelta(hours=8), status=models.ContactStatus.FAILED)
        log_call(card, NOW - dt.timedelta(hours=9), connected=False)
        log_call(card, NOW - dt.timedelta(hours=10), direction=models.ContactDirection.INBOUND)
        assert check(customer, card).allowed

    def test_the_attempt_being_rechecked_is_left_out(self) -> None:
        customer = make_customer()
        card = make_account(customer)
        for hours in range(1, 7):
            log_call(card, NOW - dt.timedelta(hours=hours))
        sending = log_call(card, NOW, status=models.ContactStatus.SENDING)
        assert not check(customer, card).allowed
        assert check(customer, card, exclude_attempt_id=sending.pk).allowed

    def test_an_active_opt_out_denies_and_a_withdrawn_one_does_not(self) -> None:
        customer = make_customer()
        card = make_account(customer)
        models.ChannelOptOut.objects.create(
            customer=customer,
            channel="EMAIL",
            opted_out_at=NOW - dt.timedelta(days=3),
            source="portal",
            recorded_by="test",
        )
        models.ChannelOptOut.objects.create(
            customer=customer,
            channel="SMS",
            opted_out_at=NOW - dt.timedelta(days=3),
            withdrawn_at=NOW - dt.timedelta(days=1),
            source="portal",
            recorded_by="test",
        )
        assert check(customer, card, "EMAIL").codes == ("REG_F_ELECTRONIC_OPT_OUT",)
        assert check(customer, card, "SMS").allowed

    def test_a_cease_request_denies_until_withdrawn(self) -> None:
        customer = make_customer()
        card = make_account(customer)
        request = models.CeaseRequest.objects.create(
            customer=customer, received_at=NOW - dt.timedelta(days=1), recorded_by="test"
        )
        decision = check(customer, card, "LETTER")
        assert decision.codes == ("REG_F_CEASE_COMMUNICATION",)
        assert decision.next_allowed_at is None
        request.withdrawn_at = NOW - dt.timedelta(hours=1)
        request.save()
        assert check(customer, card, "LETTER").allowed

    def test_an_unverified_dispute_pauses_collection_but_not_a_response(self) -> None:
        customer = make_customer()
        card = make_account(customer)
        models.Dispute.objects.create(
            account=card, reason="not mine", received_at=NOW - dt.timedelta(days=2), recorded_by="t"
        )
        assert check(customer, card, "EMAIL").codes == ("REG_F_DISPUTE_PAUSE",)
        assert check(customer, card, "EMAIL", purpose="RESPONSE_TO_REQUEST").allowed

    def test_verified_and_resolved_disputes_do_not_pause(self) -> None:
        customer = make_customer()
        card = make_account(customer)
        received = NOW - dt.timedelta(days=5)
        models.Dispute.objects.create(
            account=card,
            reason="a",
            received_at=received,
            verified_at=received + dt.timedelta(days=1),
            recorded_by="t",
        )
        models.Dispute.objects.create(
            account=card,
            reason="b",
            received_at=received,
            resolved_at=received + dt.timedelta(days=1),
            recorded_by="t",
        )
        assert check(customer, card, "EMAIL").allowed

    def test_contact_hours_and_zones_come_from_the_customer(self) -> None:
        customer = make_customer(
            contact_hours_start=dt.time(18, 0), contact_hours_end=dt.time(20, 0)
        )
        decision = check(customer, make_account(customer), "SMS")
        assert decision.codes == ("REG_F_CONSUMER_DESIGNATED_TIME",)
        assert decision.next_allowed_at == dt.datetime(2026, 2, 7, 0, 0, tzinfo=dt.UTC)

    def test_another_customers_account_is_refused(self) -> None:
        customer = make_customer()
        stranger = make_customer("C-OTHER")
        with pytest.raises(contact_policy.UnknownAccount):
            check(customer, make_account(stranger, "card-9"))

    def test_an_unknown_customer_is_refused(self) -> None:
        with pytest.raises(contact_policy.UnknownCustomer):
            contact_policy.check_contact(
                customer_id=999_999, account_ids=[], channel="SMS", now=NOW
            )
        with transaction.atomic(), pytest.raises(contact_policy.UnknownCustomer):
            contact_policy.lock_customer(999_999)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentDialers:
    def test_eight_dialers_at_once_place_only_the_seventh_call(self) -> None:
        customer = make_customer()
        card = make_account(customer)
        for hours in range(1, 7):
            log_call(card, NOW - dt.timedelta(hours=hours))
        barrier = threading.Barrier(8)
        placed: list[int] = []
        errors: list[BaseException] = []

        def dial(worker: int) -> None:
            try:
                barrier.wait()
                with transaction.atomic():
                    contact_policy.lock_customer(customer.pk)
                    if check(customer, card).allowed:
                        log_call(card, NOW)
                        placed.append(worker)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=dial, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(placed) == 1
        assert models.ContactAttempt.objects.filter(customer=customer).count() == 7
