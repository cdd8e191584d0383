"""The daily strategy run: decisions with reasons, the outbox, idempotency, refusals, promises."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accord.audit import events, log
from accord.audit import models as audit_models
from accord.domain import compliance
from accord.storage import models
from accord.strategy import contact_filter, definition
from accord.usecases import contact_policy, outbox, strategies, strategy_run

# 15:00 in London: inside every customer's convenient hours, so allowed contacts go now.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
ACTOR = "test:strategy"
_serial = iter(range(1, 1_000_000))


def plain_source() -> str:
    """Return the default strategy without its experiment: every channel is predictable."""
    data = yaml.safe_load(definition.default_source())
    data["version"] = "plain"
    for segment in data["segments"]:
        segment.pop("experiment", None)
    used = {segment["path"] for segment in data["segments"]}
    data["paths"] = {name: path for name, path in data["paths"].items() if name in used}
    return str(yaml.safe_dump(data, sort_keys=False))


def activate(source: str) -> models.StrategyVersion:
    version = strategies.save_draft(
        source=source, note="tests", based_on_id=None, actor=ACTOR, now=NOW
    )
    return strategies.activate(version_id=version.pk, actor=ACTOR, now=NOW)


@pytest.fixture(autouse=True)
def plain() -> models.StrategyVersion:
    """Activate the plain strategy (tests of experiments activate the default one)."""
    return activate(plain_source())


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


def audited(event_type: events.EventType) -> list[audit_models.AuditEvent]:
    return list(audit_models.AuditEvent.objects.filter(event_type=event_type).order_by("pk"))


def past_call(
    owner: models.Customer,
    *,
    about: models.Account | None,
    at: datetime,
    status: str = models.ContactStatus.COMPLETED,
) -> models.ContactAttempt:
    """Record an outbound call an agent made (``about`` None: about no particular account)."""
    return models.ContactAttempt.objects.create(
        customer=owner,
        account=about,
        channel=models.Channel.CALL,
        origin=models.ContactOrigin.AGENT,
        direction=models.ContactDirection.OUTBOUND,
        planned_at=at,
        sent_at=at if status == models.ContactStatus.SENT else None,
        status=status,
        idempotency_key=f"call:{next(_serial)}",
        created_at=at,
        updated_at=at,
    )


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
        assert made.strategy_version == "default@plain"
        assert (made.segment, made.path, made.experiment, made.arm) == (
            "early_arrears",
            "standard",
            "",
            "",
        )
        assert made.risk_score is not None
        assert made.collectability_score is not None
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
        assert decision(recovery).treatment == models.Treatment.ESCALATION
        assert contacts(recovery) == []
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


class TestDispatchAnnouncement:
    @pytest.fixture
    def announced(self) -> Any:
        heard: list[object] = []

        def listener(sender: object, **kwargs: Any) -> None:
            heard.append(sender)

        outbox.contacts_queued.connect(listener)
        yield heard
        outbox.contacts_queued.disconnect(listener)

    def test_a_run_that_queued_contacts_announces_them_once_it_commits(
        self, announced: list[object], django_capture_on_commit_callbacks: Any
    ) -> None:
        account(due=days_ago(12))
        account(due=days_ago(45))
        with django_capture_on_commit_callbacks(execute=True):
            assert run().contacts_planned == 2
        assert announced == [None]

    def test_a_run_that_queued_nothing_announces_nothing(
        self, announced: list[object], django_capture_on_commit_callbacks: Any
    ) -> None:
        account(due=TODAY + timedelta(days=20))
        with django_capture_on_commit_callbacks(execute=True):
            assert run().contacts_planned == 0
        assert announced == []


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

    def test_a_run_dated_after_today_is_refused_and_writes_nothing(self) -> None:
        account(due=days_ago(12))
        audited_before = audit_models.AuditEvent.objects.count()
        with pytest.raises(strategy_run.RunFutureDated, match="after today"):
            run(as_of=date(2030, 1, 1))
        assert not models.StrategyRun.objects.exists()
        assert audit_models.AuditEvent.objects.count() == audited_before
        assert run().status == models.RunStatus.COMPLETED

    def test_a_run_dated_today_where_the_operator_is_is_not_future_dated(self) -> None:
        # 15:00 UTC on the 25th is already the 26th in Auckland.
        account(due=days_ago(12))
        with timezone.override(ZoneInfo("Pacific/Auckland")):
            result = run(as_of=TODAY + timedelta(days=1))
            with pytest.raises(strategy_run.RunFutureDated):
                run(as_of=TODAY + timedelta(days=2))
        assert result.status == models.RunStatus.COMPLETED

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

    def test_a_failed_run_finishes_when_the_clock_says(self) -> None:
        def exploding(candidates: pa.Table, *, now: datetime) -> pa.Table:
            raise RuntimeError("policy engine unavailable")

        account(due=days_ago(12))
        with pytest.raises(RuntimeError):
            run(prefilter=exploding, clock=lambda: NOW + timedelta(seconds=7))
        assert models.StrategyRun.objects.get().finished_at == NOW + timedelta(seconds=7)


class TestClock:
    def test_finished_at_and_the_duration_come_from_the_clock_passed_in(self) -> None:
        account(due=days_ago(12))
        result = run(clock=lambda: NOW + timedelta(seconds=90, milliseconds=250))
        assert result.started_at == NOW
        assert result.finished_at == NOW + timedelta(seconds=90, milliseconds=250)
        assert result.counts["duration_seconds"] == 90.25

    def test_without_a_clock_the_run_is_recorded_as_finishing_when_it_started(self) -> None:
        account(due=days_ago(12))
        result = run()
        assert result.finished_at == NOW
        assert result.counts["duration_seconds"] == 0


class TestCadence:
    def test_no_new_contact_with_the_same_template_within_its_cadence(self) -> None:
        late = account(due=days_ago(12))
        run()
        # Dispatched: an unsent contact would be superseded by the next day's run.
        models.ContactAttempt.objects.filter(account=late).update(
            status=models.ContactStatus.SENT, sent_at=NOW
        )
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

    def test_a_cease_request_stops_the_path_and_every_contact(self) -> None:
        owner = customer()
        owner.cease_requests.create(received_at=NOW - timedelta(days=1), recorded_by=ACTOR)
        ceased = account(owner, due=days_ago(45))
        run()
        assert decision(ceased).treatment == models.Treatment.NONE
        assert decision(ceased).reason_codes == ["STAGE_MID", "DPD_45", "CEASE_REQUESTED"]
        assert contacts(ceased) == []

    def test_an_open_dispute_stops_the_path_for_that_account(self) -> None:
        disputed = account(due=days_ago(12))
        disputed.disputes.create(
            reason="not mine", received_at=NOW - timedelta(days=1), recorded_by=ACTOR
        )
        run()
        assert decision(disputed).treatment == models.Treatment.NONE
        assert "DISPUTE_OPEN" in decision(disputed).reason_codes
        assert contacts(disputed) == []

    def test_calls_about_no_account_count_against_every_account_of_the_customer(self) -> None:
        owner = customer()
        late = account(owner, due=days_ago(120))
        other = account(owner, due=days_ago(150))
        for hours in range(1, compliance.CALLS_PER_WINDOW + 1):
            past_call(owner, about=None, at=NOW - timedelta(hours=hours))
        run()
        for capped in (late, other):
            assert decision(capped).treatment == models.Treatment.CALL_TASK
            assert "REG_F_CALL_FREQUENCY_7_IN_7" in decision(capped).reason_codes
            [deferred] = contacts(capped)
            assert deferred.planned_at > NOW
            assert deferred.policy_reasons == ["REG_F_CALL_FREQUENCY_7_IN_7"]

    def test_a_call_being_made_counts_towards_the_cap_as_the_policy_counts_it(self) -> None:
        owner = customer()
        late = account(owner, due=days_ago(120))
        for hours in range(1, compliance.CALLS_PER_WINDOW):
            past_call(owner, about=late, at=NOW - timedelta(hours=hours))
        sending = models.ContactStatus.SENDING
        past_call(owner, about=late, at=NOW - timedelta(minutes=5), status=sending)
        policy = contact_policy.check_contact(
            customer_id=owner.pk, account_ids=[late.pk], channel=models.Channel.CALL, now=NOW
        )
        assert not policy.allowed
        run()
        assert "REG_F_CALL_FREQUENCY_7_IN_7" in decision(late).reason_codes
        assert contacts(late)[-1].planned_at > NOW

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
        [event] = audited(events.EventType.PROMISE_KEPT)
        assert (event.subject_type, event.subject_id, event.actor) == (
            "promise",
            str(kept.pk),
            ACTOR,
        )
        assert event.parameters == {
            "account_id": target.pk,
            "amount": "50.00",
            "currency": "GBP",
            "promised_date": days_ago(2).isoformat(),
            "paid": "50.00",
            "run_id": result.pk,
        }
        assert audited(events.EventType.PROMISE_BROKEN) == []

    def test_a_promise_short_by_its_date_is_broken_even_if_paid_later(self) -> None:
        target = account(due=days_ago(30))
        broken = self.promise(target, amount_minor=5_000, promised=days_ago(3))
        pay(target, 4_999, received=days_ago(3))
        pay(target, 1, received=days_ago(1))
        pay(target, 10_000, received=days_ago(20))  # before the promise was made
        result = run()
        broken.refresh_from_db()
        assert broken.status == models.PromiseStatus.BROKEN
        [event] = audited(events.EventType.PROMISE_BROKEN)
        assert event.subject_id == str(broken.pk)
        assert (event.parameters["amount"], event.parameters["paid"]) == ("50.00", "49.99")
        assert event.parameters["run_id"] == result.pk

    def test_every_promise_judged_is_audited_once_in_an_unbroken_chain(self) -> None:
        owed = [account(due=days_ago(30)) for _ in range(3)]
        judged = [self.promise(target, amount_minor=1_000, promised=days_ago(1)) for target in owed]
        pay(owed[0], 1_000, received=days_ago(1))
        cancelled = self.promise(
            account(due=days_ago(30)), amount_minor=1_000, promised=days_ago(1)
        )
        models.Promise.objects.filter(pk=cancelled.pk).update(status=models.PromiseStatus.CANCELLED)
        run()
        run(as_of=TODAY + timedelta(days=1), now=NOW + timedelta(days=1))
        kept = audited(events.EventType.PROMISE_KEPT)
        broken = audited(events.EventType.PROMISE_BROKEN)
        assert [e.subject_id for e in kept] == [str(judged[0].pk)]
        assert [e.subject_id for e in broken] == [str(judged[1].pk), str(judged[2].pk)]
        assert log.verify_chain() == []

    def test_an_open_promise_not_yet_due_holds_collection_messages(self) -> None:
        target = account(due=days_ago(12))
        pending = self.promise(target, amount_minor=5_000, promised=TODAY + timedelta(days=5))
        run()
        pending.refresh_from_db()
        assert pending.status == models.PromiseStatus.OPEN
        assert decision(target).treatment == models.Treatment.NONE
        assert "PROMISE_OPEN" in decision(target).reason_codes
        assert contacts(target) == []


class TestPlans:
    """Active plans are judged by the payments since they were agreed (grace: 5 days)."""

    def plan(
        self, target: models.Account, *, agreed: date, instalments: list[tuple[date, int]]
    ) -> models.RepaymentPlan:
        made = models.RepaymentPlan.objects.create(
            account=target,
            total_minor=sum(amount for _, amount in instalments),
            currency="GBP",
            instalment_count=len(instalments),
            start_date=instalments[0][0],
            status=models.PlanStatus.ACTIVE,
            source=models.Source.PORTAL,
            created_at=datetime.combine(agreed, datetime.min.time(), tzinfo=UTC)
            + timedelta(hours=12),
            created_by=ACTOR,
        )
        for sequence, (due, amount) in enumerate(instalments, start=1):
            made.instalments.create(sequence=sequence, due_date=due, amount_minor=amount)
        return made

    def status(self, plan: models.RepaymentPlan) -> str:
        plan.refresh_from_db()
        return plan.status

    def test_a_plan_behind_past_the_grace_days_breaks_and_stops_holding(self) -> None:
        target = account(due=days_ago(60), amount_minor=10_000)
        behind = self.plan(
            target,
            agreed=days_ago(40),
            instalments=[(days_ago(30), 5_000), (days_ago(0), 5_000)],
        )
        pay(target, 4_000, received=days_ago(29))
        pay(target, 5_000, received=days_ago(41))  # before the plan: does not count
        result = run()
        assert self.status(behind) == models.PlanStatus.BROKEN
        assert result.counts["plans"] == {"COMPLETED": 0, "BROKEN": 1}
        made = decision(target)
        assert made.treatment == models.Treatment.PROMISE_REQUEST
        assert "PLAN_ACTIVE" not in made.reason_codes
        assert len(contacts(target)) == 1
        [event] = audited(events.EventType.PLAN_BROKEN)
        assert (event.subject_type, event.subject_id) == ("repayment_plan", str(behind.pk))
        assert event.parameters == {
            "account_id": target.pk,
            "currency": "GBP",
            "start_date": days_ago(30).isoformat(),
            "instalment_count": 2,
            "scheduled": "100.00",
            "due": "50.00",
            "paid": "40.00",
            "run_id": result.pk,
        }
        assert log.verify_chain() == []

    def test_a_missed_instalment_within_the_grace_days_keeps_the_plan_and_its_hold(
        self,
    ) -> None:
        target = account(due=days_ago(60))
        late_but_in_grace = self.plan(
            target, agreed=days_ago(20), instalments=[(days_ago(5), 5_000), (TODAY, 5_000)]
        )
        run()
        assert self.status(late_but_in_grace) == models.PlanStatus.ACTIVE
        assert decision(target).treatment == models.Treatment.NONE
        assert "PLAN_ACTIVE" in decision(target).reason_codes
        tomorrow = TODAY + timedelta(days=1)
        run(as_of=tomorrow, now=NOW + timedelta(days=1))
        assert self.status(late_but_in_grace) == models.PlanStatus.BROKEN
        assert "PLAN_ACTIVE" not in decision(target, tomorrow).reason_codes

    def test_a_plan_paid_up_to_date_stays_active(self) -> None:
        target = account(due=days_ago(60))
        on_track = self.plan(
            target,
            agreed=days_ago(40),
            instalments=[(days_ago(30), 5_000), (TODAY + timedelta(days=1), 5_000)],
        )
        pay(target, 5_000, received=days_ago(31))
        result = run()
        assert self.status(on_track) == models.PlanStatus.ACTIVE
        assert result.counts["plans"] == {"COMPLETED": 0, "BROKEN": 0}
        assert "PLAN_ACTIVE" in decision(target).reason_codes
        assert audited(events.EventType.PLAN_BROKEN) == []

    def test_a_plan_whose_instalments_are_all_paid_is_completed(self) -> None:
        target = account(due=days_ago(60))
        paid_off = self.plan(
            target,
            agreed=days_ago(40),
            instalments=[(days_ago(30), 5_000), (TODAY + timedelta(days=20), 5_000)],
        )
        pay(target, 5_000, received=days_ago(40))
        pay(target, 5_000, received=days_ago(2))
        result = run()
        assert self.status(paid_off) == models.PlanStatus.COMPLETED
        assert result.counts["plans"] == {"COMPLETED": 1, "BROKEN": 0}
        [event] = audited(events.EventType.PLAN_COMPLETED)
        assert event.subject_id == str(paid_off.pk)
        assert event.parameters["paid"] == "100.00"

    def test_the_grace_is_a_strategy_setting(self, tmp_path: Any) -> None:
        document = definition.DEFAULT_PATH.read_text().replace(
            "plan_grace_days: 5", "plan_grace_days: 0"
        )
        strict = tmp_path / "strict.yaml"
        strict.write_text(document)
        target = account(due=days_ago(60))
        missed_yesterday = self.plan(
            target, agreed=days_ago(20), instalments=[(days_ago(1), 5_000), (TODAY, 5_000)]
        )
        run(strategy_path=strict)
        assert self.status(missed_yesterday) == models.PlanStatus.BROKEN

    def test_a_plan_cancelled_elsewhere_is_left_alone(self) -> None:
        target = account(due=days_ago(60))
        cancelled = self.plan(target, agreed=days_ago(40), instalments=[(days_ago(30), 5_000)])
        models.RepaymentPlan.objects.filter(pk=cancelled.pk).update(
            status=models.PlanStatus.CANCELLED
        )
        run()
        assert self.status(cancelled) == models.PlanStatus.CANCELLED
        assert audited(events.EventType.PLAN_BROKEN) == []


class TestStoredValues:
    """``strategy`` imports no Django: its enumerations must match the stored choices."""

    @pytest.mark.parametrize(
        ("mirror", "stored"),
        [
            (definition.Treatment, models.Treatment),
            (definition.AccountStatus, models.AccountStatus),
            (definition.ContactPointKind, models.ContactPointKind),
            (definition.ContactStatus, models.ContactStatus),
            (definition.PromiseStatus, models.PromiseStatus),
            (definition.PlanStatus, models.PlanStatus),
            (compliance.Direction, models.ContactDirection),
        ],
    )
    def test_each_enumeration_has_exactly_the_stored_values(self, mirror: Any, stored: Any) -> None:
        assert [member.value for member in mirror] == list(stored.values)

    def test_every_strategy_channel_is_a_stored_channel(self) -> None:
        assert {channel.value for channel in definition.Channel} <= set(models.Channel.values)

    def test_the_run_and_the_contact_policy_count_the_same_contact_statuses(self) -> None:
        assert contact_policy.COUNTED_STATUSES is definition.COUNTED_STATUSES
        assert set(definition.COUNTED_STATUSES) <= set(models.ContactStatus.values)


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

    def test_a_future_as_of_date_is_refused_with_status_two(self) -> None:
        out = io.StringIO()
        with pytest.raises(SystemExit) as exited:
            call_command("run", "--as-of", "2030-01-01", "--json", stdout=out)
        assert exited.value.code == 2
        refused = json.loads(out.getvalue())
        assert refused["status"] == "REFUSED"
        assert "after today" in refused["reason"]
        assert not models.StrategyRun.objects.exists()

    def test_the_command_records_when_the_run_finished(self) -> None:
        account(due=days_ago(12))
        out = io.StringIO()
        call_command("run", "--json", stdout=out)
        summary = json.loads(out.getvalue())
        started = datetime.fromisoformat(summary["started_at"])
        assert datetime.fromisoformat(summary["finished_at"]) > started

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
