"""The live contact check applies the configured policy packs to every fact on record."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accord.domain import compliance
from accord.jobs import apps as job_apps
from accord.storage import models
from accord.usecases import call_outcomes, contact_policy, preferences
from tests.integration.test_contact_policy import NOW, log_call, make_account

# Friday 6 Feb 2026, 13:00 in London.
UK_NOW = dt.datetime(2026, 2, 6, 13, 0, tzinfo=dt.UTC)

US = contact_policy.PolicyConfiguration(
    policies=(compliance.PolicyPack.US_REG_F,), operator=compliance.NO_OPERATOR_SETTINGS
)
UK = contact_policy.PolicyConfiguration(
    policies=(compliance.PolicyPack.UK_FCA,), operator=compliance.NO_OPERATOR_SETTINGS
)
MA = contact_policy.PolicyConfiguration(
    policies=(compliance.PolicyPack.US_REG_F, compliance.PolicyPack.US_MA),
    operator=compliance.NO_OPERATOR_SETTINGS,
)


def make_customer(ref: str = "C-PACKS", time_zones: list[str] | None = None) -> models.Customer:
    return models.Customer.objects.create(
        external_ref=ref,
        debtor_type=models.DebtorType.CONSUMER,
        name="Pat Packs",
        country="US",
        time_zones=time_zones or ["America/Chicago"],
        time_zone_source=models.TimeZoneSource.ADDRESS,
        created_at=NOW,
        updated_at=NOW,
    )


def check(
    customer: models.Customer,
    account: models.Account,
    policy: contact_policy.PolicyConfiguration | None = US,
    channel: str = "CALL",
    purpose: str = "COLLECTION",
    now: dt.datetime = NOW,
) -> compliance.Decision:
    return contact_policy.check_contact(
        customer_id=customer.pk,
        account_ids=[account.pk],
        channel=channel,
        purpose=purpose,
        now=now,
        policy=policy,
    )


def uk_customer() -> models.Customer:
    return make_customer(ref=f"C-UK-{uuid.uuid4().hex[:8]}", time_zones=["Europe/London"])


def breathing_space(customer: models.Customer, **fields: object) -> models.BreathingSpace:
    values: dict[str, object] = {
        "kind": models.BreathingSpaceKind.STANDARD,
        "starts_on": dt.date(2026, 1, 20),
        "ends_on": dt.date(2026, 3, 20),
        "recorded_at": NOW - dt.timedelta(days=17),
        "recorded_by": "agent",
    }
    values.update(fields)
    return models.BreathingSpace.objects.create(customer=customer, **values)


def vulnerability(customer: models.Customer, **fields: object) -> models.Vulnerability:
    values: dict[str, object] = {
        "category": models.VulnerabilityCategory.LIFE_EVENT,
        "consent_to_record": True,
        "review_date": dt.date(2026, 5, 1),
        "recorded_at": NOW - dt.timedelta(days=2),
        "recorded_by": "agent",
    }
    values.update(fields)
    return models.Vulnerability.objects.create(customer=customer, **values)


def opt_out(customer: models.Customer, channel: str, at: dt.datetime) -> None:
    models.ChannelOptOut.objects.create(
        customer=customer, channel=channel, opted_out_at=at, source="test", recorded_by="agent"
    )


def sms(account: models.Account, at: dt.datetime, direction: str) -> None:
    models.ContactAttempt.objects.create(
        customer=account.customer,
        account=account,
        channel=models.Channel.SMS,
        origin=models.ContactOrigin.CUSTOMER,
        direction=direction,
        planned_at=at,
        sent_at=at,
        status=models.ContactStatus.SENT,
        idempotency_key=f"test:{uuid.uuid4()}",
        created_at=at,
        updated_at=at,
    )


BEREAVEMENT_PAUSE = contact_policy.PolicyConfiguration(
    policies=(compliance.PolicyPack.US_REG_F,),
    operator=compliance.OperatorSettings(
        vulnerability={
            compliance.VulnerabilityDriver.LIFE_EVENTS: compliance.VulnerabilityTreatment(
                pause=dt.timedelta(days=30)
            )
        }
    ),
)


class TestPolicyConfiguration:
    def test_the_default_is_regulation_f_without_operator_settings(self) -> None:
        assert contact_policy.configured_policy() == US

    def test_the_operator_file_is_read_with_the_strict_check_file_parser(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "operator.json"
        path.write_text(json.dumps({"weekly_contact_budget": 3}), encoding="utf-8")
        env = dataclasses.replace(
            settings.ENV, contact_policies=("us-reg-f", "us-ma"), operator_policy_file=str(path)
        )
        monkeypatch.setattr(settings, "ENV", env)
        chosen = contact_policy.configured_policy()
        assert chosen.policies == (compliance.PolicyPack.US_REG_F, compliance.PolicyPack.US_MA)
        assert chosen.operator.weekly_contact_budget == 3
        assert job_apps._contact_policy_check(None) == []

    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            ('{"weekly_contact_budget": -1}', "$.weekly_contact_budget"),
            ('{"weekly_budget": 3}', "weekly_budget"),
            ("not json", "not JSON"),
        ],
        ids=["negative-budget", "unknown-field", "not-json"],
    )
    def test_an_invalid_operator_file_fails_the_system_check_naming_the_field(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, expected: str
    ) -> None:
        path = tmp_path / f"operator-{uuid.uuid4().hex}.json"
        path.write_text(content, encoding="utf-8")
        monkeypatch.setattr(
            settings, "ENV", dataclasses.replace(settings.ENV, operator_policy_file=str(path))
        )
        with pytest.raises(contact_policy.PolicyConfigurationError, match="ACCORD_OPERATOR"):
            contact_policy.configured_policy()
        [error] = job_apps._contact_policy_check(None)
        assert error.id == "accord.E001"
        assert expected in error.msg

    def test_a_missing_operator_file_fails_the_system_check(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        missing = str(tmp_path / "nowhere.json")
        monkeypatch.setattr(
            settings, "ENV", dataclasses.replace(settings.ENV, operator_policy_file=missing)
        )
        [error] = job_apps._contact_policy_check(None)
        assert "cannot read it" in error.msg

    def test_check_contact_applies_the_configured_operator_settings(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """OP_WEEKLY_CONTACT_BUDGET from ACCORD_OPERATOR_POLICY_FILE."""
        path = tmp_path / "budget.json"
        path.write_text(json.dumps({"weekly_contact_budget": 1}), encoding="utf-8")
        monkeypatch.setattr(
            settings, "ENV", dataclasses.replace(settings.ENV, operator_policy_file=str(path))
        )
        customer = make_customer()
        card = make_account(customer)
        log_call(card, NOW - dt.timedelta(days=1))
        assert check(customer, card, policy=None).codes == ("OP_WEEKLY_CONTACT_BUDGET",)


class TestConversations:
    def test_a_conversation_yesterday_blocks_a_call_under_regulation_f(self) -> None:
        """REG_F_CALL_AFTER_CONVERSATION, 12 CFR 1006.14(b)(2)(i)(B): from the call outcome."""
        customer = make_customer()
        card = make_account(customer)
        talk = log_call(card, NOW - dt.timedelta(days=1))
        talk.conversation = True
        talk.save(update_fields=["conversation"])
        decision = check(customer, card)
        assert decision.codes == ("REG_F_CALL_AFTER_CONVERSATION",)
        # Day 1 is Thu 5 Feb in Chicago; day 8 (Thu 12 Feb) starts at local midnight.
        assert decision.next_allowed_at == dt.datetime(2026, 2, 12, 14, 0, tzinfo=dt.UTC)
        assert check(customer, card, channel="SMS").allowed


class TestCustomerPause:
    def test_a_pause_the_customer_asked_for_blocks_collection_until_it_ends(self) -> None:
        """CUSTOMER_PREFERENCE (COMPLIANCE.md section 4): a self-requested pause."""
        customer = make_customer()
        card = make_account(customer)
        preferences.pause_contact(
            customer_id=customer.pk, days=7, reason="", actor="customer", now=NOW
        )
        decision = check(customer, card, channel="SMS")
        assert decision.codes == ("CUSTOMER_PREFERENCE",)
        assert decision.next_allowed_at is not None
        assert decision.next_allowed_at >= NOW + dt.timedelta(days=7)
        assert check(customer, card, channel="SMS", purpose="RESPONSE_TO_REQUEST").allowed

    def test_a_resumed_pause_no_longer_blocks(self) -> None:
        customer = make_customer()
        card = make_account(customer)
        preferences.pause_contact(
            customer_id=customer.pk, days=7, reason="", actor="customer", now=NOW
        )
        preferences.resume_contact(customer_id=customer.pk, actor="customer", now=NOW)
        assert check(customer, card, channel="SMS").allowed


class TestOptOuts:
    def test_a_dated_opt_out_denies_with_its_date(self) -> None:
        """REG_F_ELECTRONIC_OPT_OUT, 12 CFR 1006.6(e): the opt-out's date is in the reason."""
        customer = make_customer()
        card = make_account(customer)
        opt_out(customer, models.Channel.SMS, dt.datetime(2026, 2, 2, 15, 0, tzinfo=dt.UTC))
        decision = check(customer, card, channel="SMS")
        assert decision.codes == ("REG_F_ELECTRONIC_OPT_OUT",)
        assert "Mon 2 Feb" in decision.reasons[0].message or "2 Feb" in decision.reasons[0].message

    def test_the_customer_texting_after_opting_out_allows_one_reply(self) -> None:
        """REG_F_REFUSED_MEDIUM exception, 12 CFR 1006.14(h)(2)(ii)."""
        customer = make_customer()
        card = make_account(customer)
        opt_out(customer, models.Channel.SMS, NOW - dt.timedelta(days=3))
        sms(card, NOW - dt.timedelta(hours=1), models.ContactDirection.INBOUND)
        assert check(customer, card, channel="SMS", purpose="RESPONSE_TO_REQUEST").allowed
        assert not check(customer, card, channel="SMS").allowed
        sms(card, NOW - dt.timedelta(minutes=30), models.ContactDirection.OUTBOUND)
        assert not check(customer, card, channel="SMS", purpose="RESPONSE_TO_REQUEST").allowed

    def test_a_refused_phone_blocks_voicemail_too(self) -> None:
        """REG_F_REFUSED_MEDIUM, 12 CFR 1006.14(h)(1)."""
        customer = make_customer()
        card = make_account(customer)
        opt_out(customer, models.Channel.CALL, NOW - dt.timedelta(days=3))
        assert check(customer, card, channel="VOICEMAIL").codes == ("REG_F_REFUSED_MEDIUM",)


class TestBreathingSpace:
    def test_a_breathing_space_under_uk_fca_blocks_until_the_day_after_its_end(self) -> None:
        """UK_MORATORIUM_NO_CONTACT, SI 2020/1311 reg. 7 and reg. 11.

        It ends with 20 Mar (London): contact is next allowed at 08:00 on 21 Mar.
        """
        customer = uk_customer()
        card = make_account(customer)
        breathing_space(customer)
        decision = check(customer, card, policy=UK, channel="LETTER", now=UK_NOW)
        assert decision.codes == ("UK_MORATORIUM_NO_CONTACT", "UK_BREATHING_SPACE_DURATION")
        assert decision.next_allowed_at == dt.datetime(2026, 3, 21, 8, 0, tzinfo=dt.UTC)

    def test_a_breathing_space_allows_an_answer_to_the_customers_question(self) -> None:
        """SI 2020/1311 reg. 11(2)."""
        customer = uk_customer()
        card = make_account(customer)
        breathing_space(customer)
        assert check(
            customer, card, UK, channel="LETTER", purpose="RESPONSE_TO_REQUEST", now=UK_NOW
        ).allowed

    def test_a_crisis_moratorium_without_an_end_has_no_release(self) -> None:
        """UK_MENTAL_HEALTH_CRISIS_MORATORIUM, SI 2020/1311 reg. 28."""
        customer = uk_customer()
        card = make_account(customer)
        breathing_space(customer, kind=models.BreathingSpaceKind.MENTAL_HEALTH_CRISIS, ends_on=None)
        decision = check(customer, card, policy=UK, channel="LETTER", now=UK_NOW)
        assert decision.codes == ("UK_MORATORIUM_NO_CONTACT", "UK_MENTAL_HEALTH_CRISIS_MORATORIUM")
        assert decision.next_allowed_at is None

    def test_a_cancelled_ended_or_future_breathing_space_does_not_block(self) -> None:
        customer = uk_customer()
        card = make_account(customer)
        breathing_space(customer, cancelled_at=NOW - dt.timedelta(days=1))
        breathing_space(customer, starts_on=dt.date(2025, 11, 1), ends_on=dt.date(2025, 12, 30))
        breathing_space(customer, starts_on=dt.date(2026, 2, 7), ends_on=None)
        assert check(customer, card, policy=UK, channel="LETTER", now=UK_NOW).allowed

    def test_a_breathing_space_does_not_block_under_regulation_f_alone(self) -> None:
        customer = uk_customer()
        card = make_account(customer)
        breathing_space(customer)
        assert check(customer, card, policy=US, channel="LETTER", now=UK_NOW).allowed


class TestVulnerability:
    def test_a_vulnerability_with_consent_under_operator_treatment_pauses(self) -> None:
        """OP_VULNERABILITY_TREATMENT, FCA CONC 7.2.1 R and FG21/1 (life events)."""
        customer = make_customer()
        card = make_account(customer)
        vulnerability(customer)
        decision = check(customer, card, policy=BEREAVEMENT_PAUSE)
        assert decision.codes == ("OP_VULNERABILITY_TREATMENT",)
        assert decision.next_allowed_at is not None
        assert decision.next_allowed_at >= NOW - dt.timedelta(days=2) + dt.timedelta(days=30)

    def test_a_vulnerability_without_consent_or_resolved_gets_no_treatment(self) -> None:
        customer = make_customer()
        card = make_account(customer)
        vulnerability(customer, consent_to_record=False)
        vulnerability(customer, resolved_at=NOW - dt.timedelta(hours=1))
        assert check(customer, card, policy=BEREAVEMENT_PAUSE).allowed

    def test_a_vulnerability_past_its_review_date_gets_no_treatment(self) -> None:
        customer = make_customer()
        card = make_account(customer)
        vulnerability(customer, review_date=dt.date(2026, 2, 5))
        assert check(customer, card, policy=BEREAVEMENT_PAUSE).allowed

    def test_without_operator_settings_a_vulnerability_changes_nothing(self) -> None:
        customer = make_customer()
        card = make_account(customer)
        vulnerability(customer)
        assert check(customer, card).allowed


class TestMassachusetts:
    def test_two_calls_this_week_deny_the_third_under_us_ma(self) -> None:
        """US_MA_TELEPHONE_TWO_IN_SEVEN, 940 CMR 7.04(1)(f)."""
        customer = make_customer(time_zones=["America/New_York"])
        card = make_account(customer)
        log_call(card, NOW - dt.timedelta(days=1))
        log_call(card, NOW - dt.timedelta(days=2))
        assert check(customer, card, policy=US).allowed
        assert check(customer, card, policy=MA).codes == ("US_MA_TELEPHONE_TWO_IN_SEVEN",)


def counted_calls_per_account() -> Counter[int]:
    """Count the calls that count toward the caps, per account, in the seven days to NOW."""
    rows = models.ContactAttempt.objects.filter(
        channel=models.Channel.CALL,
        direction=models.ContactDirection.OUTBOUND,
        status__in=contact_policy.COUNTED_STATUSES,
        planned_at__gt=NOW - dt.timedelta(days=7),
    ).exclude(connected=False)
    return Counter(rows.values_list("account_id", flat=True))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestFiftyAgentsAtOnce:
    AGENTS = 50
    CUSTOMERS = 3

    def dial_all(self, accounts: list[models.Account]) -> tuple[list[int], Counter[str]]:
        barrier = threading.Barrier(self.AGENTS)
        started: list[int] = []
        refused: Counter[str] = Counter()
        errors: list[BaseException] = []
        lock = threading.Lock()

        def dial(worker: int) -> None:
            account = accounts[worker % len(accounts)]
            try:
                barrier.wait()
                call = call_outcomes.start_call(
                    customer_id=account.customer_id,
                    account_id=account.pk,
                    agent=f"agent-{worker}",
                    now=NOW,
                )
                with lock:
                    started.append(call.pk)
            except call_outcomes.ContactNotPermitted as refusal:
                with lock:
                    refused.update(refusal.decision.codes)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=dial, args=(n,)) for n in range(self.AGENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        return started, refused

    def book(self, earlier_calls: int, zone: str) -> list[models.Account]:
        accounts = []
        for n in range(self.CUSTOMERS):
            customer = make_customer(ref=f"C-RACE-{n}", time_zones=[zone])
            account = make_account(customer, ref=f"race-{n}")
            for day in range(earlier_calls):
                log_call(account, NOW - dt.timedelta(days=day + 1))
            accounts.append(account)
        return accounts

    def test_fifty_agents_never_place_an_eighth_call_in_seven_days(self) -> None:
        """REG_F_CALL_FREQUENCY_7_IN_7, 12 CFR 1006.14(b)(2)(i)(A), under row locks."""
        accounts = self.book(earlier_calls=4, zone="America/Chicago")
        started, refused = self.dial_all(accounts)
        assert len(started) == 3 * self.CUSTOMERS
        assert refused == Counter({"REG_F_CALL_FREQUENCY_7_IN_7": self.AGENTS - len(started)})
        assert counted_calls_per_account() == Counter({a.pk: 7 for a in accounts})

    def test_fifty_agents_never_place_a_third_massachusetts_call_in_seven_days(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """US_MA_TELEPHONE_TWO_IN_SEVEN, 940 CMR 7.04(1)(f), under row locks."""
        monkeypatch.setattr(
            settings,
            "ENV",
            dataclasses.replace(settings.ENV, contact_policies=("us-reg-f", "us-ma")),
        )
        accounts = self.book(earlier_calls=1, zone="America/New_York")
        started, refused = self.dial_all(accounts)
        assert len(started) == self.CUSTOMERS
        assert refused == Counter({"US_MA_TELEPHONE_TWO_IN_SEVEN": self.AGENTS - len(started)})
        assert counted_calls_per_account() == Counter({a.pk: 2 for a in accounts})
