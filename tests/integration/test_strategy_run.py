"""The daily strategy run: decisions with reasons, the outbox, idempotency, refusals, promises."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from django.core.management import call_command
from django.db import connection

from accord.audit import events, log
from accord.audit import models as audit_models
from accord.storage import models
from accord.strategy import contact_filter
from accord.usecases import strategy_run

# 15:00 in London: inside every customer's convenient hours, so allowed contacts go now.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
ACTOR = "test:strategy"
_serial = iter(range(1, 1_000_000))


def customer(
    *,
    email: str | None = "someone@example.com",
    phone: str | None = "+447700900123",
    address: str = "1 High Street",
    preferred: str = "",
) -> models.Customer:
    n = next(_serial)
    made = models.Customer.objects.create(
        external_ref=f"CUST-{n}",
        debtor_type=models.DebtorType.CONSUMER,
        name=f"Customer {n}",
        country="GB",
        address_line1=address,
        preferred_channel=preferred,
        time_zones=["Europe/London"],
        time_zone_source=models.TimeZoneSource.ADDRESS,
        created_at=NOW,
        updated_at=NOW,
    )
    if email:
        made.contact_points.create(kind=models.ContactPointKind.EMAIL, value=email)
    if phone:
        made.contact_points.create(kind=models.ContactPointKind.PHONE, value=phone)
    return made


def account(
    owner: models.Customer | None = None,
    *,
    due: date | None = None,
    amount_minor: int = 10_000,
    paid_minor: int = 0,
    status: str = models.AccountStatus.OPEN,
) -> models.Account:
    """Return an account with one charge due on ``due`` (and a payment, if any)."""
    n = next(_serial)
    made = models.Account.objects.create(
        external_ref=f"ACC-{n}",
        customer=owner or customer(),
        product_type=models.ProductType.LOAN,
        currency="GBP",
        opened_date=date(2025, 1, 1),
        status=status,
        created_at=NOW,
        updated_at=NOW,
    )
    if due is not None:
        models.Charge.objects.create(
            external_ref=f"CH-{n}",
            account=made,
            kind=models.ChargeKind.INSTALMENT,
            amount_minor=amount_minor,
            currency="GBP",
            due_date=due,
            created_at=NOW,
            updated_at=NOW,
        )
    if paid_minor:
        pay(made, paid_minor, received=(due or TODAY) - timedelta(days=1))
    return made


def pay(target: models.Account, amount_minor: int, *, received: date) -> None:
    models.Payment.objects.create(
        external_ref=f"PAY-{next(_serial)}",
        account=target,
        amount_minor=amount_minor,
        currency="GBP",
        received_date=received,
        method=models.PaymentMethod.CARD,
        created_at=NOW,
        updated_at=NOW,
    )


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def run(as_of: date = TODAY, now: datetime = NOW, **options: Any) -> models.StrategyRun:
    return strategy_run.start_run(as_of=as_of, actor=ACTOR, now=now, **options)


def decision(target: models.Account, as_of: date = TODAY) -> models.Decision:
    return models.Decision.objects.get(account=target, as_of_date=as_of)


def contacts(target: models.Account) -> list[models.ContactAttempt]:
    return list(models.ContactAttempt.objects.filter(account=target).order_by("pk"))


class TestDecisions:
    def test_an_account_twelve_days_late_gets_a_late_notice_by_email_now(self) -> None:
        late = account(due=days_ago(12))
        result = run()
        made = decision(late)
        assert made.treatment == models.Treatment.LATE_NOTICE
        assert made.channel == models.Channel.EMAIL
        assert made.reason_codes == ["STAGE_EARLY", "DPD_12"]
        assert (made.days_past_due, made.bucket, made.stage) == (12, "DPD_1_30", "EARLY")
        assert (made.arrears_minor, made.balance_minor, made.currency) == (10_000, 10_000, "GBP")
        assert made.strategy_version == "default@2026.11.1"
        assert made.run_id == result.pk
        [queued] = contacts(late)
        assert queued.status == models.ContactStatus.PLANNED
        assert queued.origin == models.ContactOrigin.STRATEGY
        assert (queued.template, queued.channel) == ("late_notice", models.Channel.EMAIL)
        assert queued.destination == "someone@example.com"
        assert queued.planned_at == NOW
        assert queued.decision_id == made.pk
        assert queued.idempotency_key == f"strategy:2026-11-25:{late.pk}:late_notice:EMAIL"

    def test_each_stage_gets_its_treatment(self) -> None:
        pre_due = account(due=TODAY + timedelta(days=3))
        mid = account(due=days_ago(45))
        late = account(due=days_ago(120))
        recovery = account(due=days_ago(400))
        current = account(due=TODAY + timedelta(days=20))
        run()
        assert decision(pre_due).treatment == models.Treatment.PRE_DUE_REMINDER
        assert decision(pre_due).reason_codes == ["STAGE_PRE_DUE", "DPD_0", "DUE_IN_3"]
        assert decision(mid).treatment == models.Treatment.PROMISE_REQUEST
        assert decision(late).treatment == models.Treatment.CALL_TASK
        assert decision(recovery).treatment == models.Treatment.CALL_TASK
        assert decision(current).treatment == models.Treatment.NONE
        assert contacts(current) == []
        [call] = contacts(late)
        assert (call.channel, call.template, call.destination) == (
            models.Channel.CALL,
            "call_task",
            "+447700900123",
        )

    def test_a_closed_account_gets_no_treatment_with_its_status_as_the_reason(self) -> None:
        closed = account(due=days_ago(40), status=models.AccountStatus.CHARGED_OFF)
        run()
        assert decision(closed).treatment == models.Treatment.NONE
        assert "ACCOUNT_CHARGED_OFF" in decision(closed).reason_codes
        assert contacts(closed) == []

    def test_the_preferred_channel_is_used_when_the_customer_can_be_reached_on_it(self) -> None:
        texter = account(customer(preferred=models.Channel.SMS), due=days_ago(5))
        run()
        assert decision(texter).channel == models.Channel.SMS
        assert contacts(texter)[0].destination == "+447700900123"

    def test_a_customer_without_email_or_phone_gets_a_letter(self) -> None:
        postal = account(customer(email=None, phone=None), due=days_ago(5))
        run()
        assert decision(postal).channel == models.Channel.LETTER

    def test_a_customer_who_cannot_be_reached_gets_no_contact_and_says_why(self) -> None:
        unreachable = account(customer(email=None, phone=None, address=""), due=days_ago(5))
        run()
        assert "NO_CONTACT_POINT" in decision(unreachable).reason_codes
        assert contacts(unreachable) == []

    def test_the_run_records_counts_per_treatment_stage_and_bucket(self) -> None:
        account(due=days_ago(12))
        account(due=days_ago(45))
        result = run()
        assert result.status == models.RunStatus.COMPLETED
        assert result.decisions == 2
        assert result.contacts_planned == 2
        assert result.counts["treatment"] == {"LATE_NOTICE": 1, "PROMISE_REQUEST": 1}
        assert result.counts["stage"] == {"EARLY": 1, "MID": 1}
        assert result.counts["bucket"] == {"DPD_1_30": 1, "DPD_31_60": 1}
        assert result.finished_at is not None
        assert result.finished_at >= result.started_at
        kinds = list(
            audit_models.AuditEvent.objects.filter(subject_type="strategy_run").values_list(
                "event_type", flat=True
            )
        )
        assert kinds == [
            events.EventType.STRATEGY_RUN_STARTED,
            events.EventType.STRATEGY_RUN_COMPLETED,
        ]
        assert log.verify_chain() == []


class TestIdempotency:
    def test_the_same_as_of_twice_creates_no_duplicate_decisions_or_contacts(self) -> None:
        late = account(due=days_ago(12))
        first = run()
        again = run(now=NOW + timedelta(hours=1))
        assert (first.decisions, again.decisions) == (1, 0)
        assert again.contacts_planned == 0
        assert again.counts["already_decided"] == 1
        assert models.Decision.objects.filter(account=late).count() == 1
        assert len(contacts(late)) == 1

    def test_a_second_run_the_same_day_decides_accounts_added_since(self) -> None:
        account(due=days_ago(12))
        run()
        newcomer = account(due=days_ago(3))
        again = run(now=NOW + timedelta(hours=1))
        assert again.decisions == 1
        assert decision(newcomer).run_id == again.pk


class TestRefusals:
    def test_a_run_earlier_than_the_latest_completed_run_is_refused(self) -> None:
        account(due=days_ago(12))
        run()
        with pytest.raises(strategy_run.RunBackdated, match="never back-dated"):
            run(as_of=days_ago(1))
        assert models.StrategyRun.objects.count() == 1

    def test_a_run_while_another_is_running_is_refused(self) -> None:
        models.StrategyRun.objects.create(
            as_of_date=TODAY,
            strategy_name="default",
            strategy_version="x",
            status=models.RunStatus.RUNNING,
            started_at=NOW - timedelta(minutes=5),
            started_by="elsewhere",
        )
        with pytest.raises(strategy_run.RunAlreadyInProgress, match="in progress"):
            run()
        assert not models.Decision.objects.exists()

    def test_a_run_left_running_by_a_dead_process_is_failed_by_the_next_run(self) -> None:
        abandoned = models.StrategyRun.objects.create(
            as_of_date=TODAY,
            strategy_name="default",
            strategy_version="x",
            status=models.RunStatus.RUNNING,
            started_at=NOW - strategy_run.STALE_RUN_AFTER - timedelta(minutes=1),
            started_by="crashed",
        )
        account(due=days_ago(12))
        assert run().status == models.RunStatus.COMPLETED
        abandoned.refresh_from_db()
        assert abandoned.status == models.RunStatus.FAILED
        assert "abandoned" in abandoned.error
        assert audit_models.AuditEvent.objects.filter(
            event_type=events.EventType.STRATEGY_RUN_FAILED, subject_id=str(abandoned.pk)
        ).exists()

    def test_an_invalid_strategy_file_is_refused_before_anything_starts(
        self, tmp_path: Any
    ) -> None:
        broken = tmp_path / "broken.yaml"
        broken.write_text("name: x\nversion: 1\ntreatments: []\n")
        with pytest.raises(strategy_run.StrategyNotValid, match="treatments"):
            run(strategy_path=broken)
        assert not models.StrategyRun.objects.exists()

    def test_a_run_that_fails_is_recorded_failed_and_the_next_one_can_start(self) -> None:
        account(due=days_ago(12))

        def exploding(candidates: pa.Table, *, now: datetime) -> pa.Table:
            raise RuntimeError("policy engine unavailable")

        with pytest.raises(RuntimeError, match="unavailable"):
            run(prefilter=exploding)
        failed = models.StrategyRun.objects.get()
        assert failed.status == models.RunStatus.FAILED
        assert "policy engine unavailable" in failed.error
        assert not models.Decision.objects.exists()
        assert run().status == models.RunStatus.COMPLETED


class TestCadence:
    def test_no_new_contact_with_the_same_template_within_its_cadence(self) -> None:
        late = account(due=days_ago(12))
        run()
        second = run(as_of=TODAY + timedelta(days=3), now=NOW + timedelta(days=3))
        assert "CADENCE_WAIT" in decision(late, TODAY + timedelta(days=3)).reason_codes
        assert second.contacts_planned == 0
        run(as_of=TODAY + timedelta(days=7), now=NOW + timedelta(days=7))
        assert len(contacts(late)) == 2


class TestContactPolicy:
    def test_an_opt_out_of_every_reachable_channel_blocks_the_contact(self) -> None:
        owner = customer(phone=None, address="")
        owner.opt_outs.create(
            channel=models.Channel.EMAIL, opted_out_at=NOW, source="test", recorded_by=ACTOR
        )
        opted = account(owner, due=days_ago(12))
        result = run()
        codes = decision(opted).reason_codes
        assert "REG_F_ELECTRONIC_OPT_OUT" in codes
        assert "POLICY_BLOCKED" in codes
        assert decision(opted).treatment == models.Treatment.LATE_NOTICE
        assert contacts(opted) == []
        assert result.contacts_blocked == 1

    def test_an_opt_out_of_the_preferred_channel_falls_back_to_another(self) -> None:
        owner = customer(preferred=models.Channel.EMAIL)
        owner.opt_outs.create(
            channel=models.Channel.EMAIL, opted_out_at=NOW, source="test", recorded_by=ACTOR
        )
        opted = account(owner, due=days_ago(12))
        run()
        assert decision(opted).channel == models.Channel.SMS
        assert len(contacts(opted)) == 1

    def test_a_cease_request_blocks_every_contact(self) -> None:
        owner = customer()
        owner.cease_requests.create(received_at=NOW - timedelta(days=1), recorded_by=ACTOR)
        ceased = account(owner, due=days_ago(45))
        run()
        assert "REG_F_CEASE_COMMUNICATION" in decision(ceased).reason_codes
        assert contacts(ceased) == []

    def test_an_unverified_dispute_blocks_contact_about_that_account(self) -> None:
        disputed = account(due=days_ago(12))
        disputed.disputes.create(
            reason="not mine", received_at=NOW - timedelta(days=1), recorded_by=ACTOR
        )
        run()
        assert "REG_F_DISPUTE_PAUSE" in decision(disputed).reason_codes
        assert contacts(disputed) == []

    def test_a_contact_at_night_is_planned_for_the_morning(self) -> None:
        late = account(due=days_ago(12))
        night = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
        run(now=night)
        [queued] = contacts(late)
        assert queued.planned_at == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
        assert queued.policy_reasons == ["REG_F_INCONVENIENT_TIME"]
        assert "POLICY_DEFERRED" in decision(late).reason_codes


class TestPromises:
    def promise(self, target: models.Account, *, amount_minor: int, promised: date) -> Any:
        return models.Promise.objects.create(
            account=target,
            amount_minor=amount_minor,
            currency="GBP",
            promised_date=promised,
            status=models.PromiseStatus.OPEN,
            source=models.Source.AGENT,
            created_at=NOW - timedelta(days=10),
            created_by=ACTOR,
        )

    def test_a_promise_paid_in_full_by_its_date_is_kept(self) -> None:
        target = account(due=days_ago(30))
        kept = self.promise(target, amount_minor=5_000, promised=days_ago(2))
        pay(target, 3_000, received=days_ago(8))
        pay(target, 2_000, received=days_ago(2))
        result = run()
        kept.refresh_from_db()
        assert kept.status == models.PromiseStatus.KEPT
        assert kept.resolved_at == NOW
        assert result.counts["promises"] == {"KEPT": 1, "BROKEN": 0}

    def test_a_promise_short_by_its_date_is_broken_even_if_paid_later(self) -> None:
        target = account(due=days_ago(30))
        broken = self.promise(target, amount_minor=5_000, promised=days_ago(3))
        pay(target, 4_999, received=days_ago(3))
        pay(target, 1, received=days_ago(1))
        pay(target, 10_000, received=days_ago(20))  # before the promise was made
        run()
        broken.refresh_from_db()
        assert broken.status == models.PromiseStatus.BROKEN

    def test_an_open_promise_not_yet_due_holds_collection_messages(self) -> None:
        target = account(due=days_ago(12))
        pending = self.promise(target, amount_minor=5_000, promised=TODAY + timedelta(days=5))
        run()
        pending.refresh_from_db()
        assert pending.status == models.PromiseStatus.OPEN
        assert decision(target).treatment == models.Treatment.NONE
        assert "PROMISE_OPEN" in decision(target).reason_codes
        assert contacts(target) == []


class TestCommand:
    def test_prints_a_json_summary(self) -> None:
        account(due=days_ago(12))
        out = io.StringIO()
        call_command("run", "--as-of", TODAY.isoformat(), "--json", stdout=out)
        summary = json.loads(out.getvalue())
        assert summary["status"] == "COMPLETED"
        assert summary["decisions"] == 1
        assert summary["counts"]["treatment"] == {"LATE_NOTICE": 1}

    def test_a_refused_run_exits_with_status_two_and_one_line(self) -> None:
        account(due=days_ago(12))
        call_command("run", "--as-of", TODAY.isoformat(), "--json", stdout=io.StringIO())
        out = io.StringIO()
        with pytest.raises(SystemExit) as exited:
            call_command("run", "--as-of", days_ago(1).isoformat(), "--json", stdout=out)
        assert exited.value.code == 2
        assert json.loads(out.getvalue())["status"] == "REFUSED"

    def test_a_malformed_date_is_refused(self) -> None:
        err = io.StringIO()
        with pytest.raises(SystemExit) as exited:
            call_command("run", "--as-of", "25/11/2026", stderr=err)
        assert exited.value.code == 2
        assert "YYYY-MM-DD" in err.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentRuns:
    def test_a_second_run_while_the_first_is_working_is_refused(self) -> None:
        account(due=days_ago(12))
        first_is_working = threading.Event()
        second_has_tried = threading.Event()
        outcomes: dict[str, object] = {}

        def slow_prefilter(candidates: pa.Table, *, now: datetime) -> pa.Table:
            first_is_working.set()
            second_has_tried.wait(timeout=30)
            return contact_filter.prefilter(candidates, now=now)

        def first() -> None:
            try:
                outcomes["first"] = run(prefilter=slow_prefilter)
            except BaseException as error:  # pragma: no cover - reported below
                outcomes["first"] = error
            finally:
                connection.close()

        def second() -> None:
            first_is_working.wait(timeout=30)
            try:
                outcomes["second"] = run()
            except BaseException as error:
                outcomes["second"] = error
            finally:
                second_has_tried.set()
                connection.close()

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert isinstance(outcomes["second"], strategy_run.RunAlreadyInProgress)
        assert isinstance(outcomes["first"], models.StrategyRun)
        assert models.Decision.objects.count() == 1
