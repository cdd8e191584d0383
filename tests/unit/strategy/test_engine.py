"""The engine turns Arrow frames into v1 decisions and outbox rows, with no database."""

from __future__ import annotations

import collections
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from accord.domain import compliance
from accord.strategy import contact_filter, definition, engine
from tests.unit.strategy.engine_book import NOW, UTC_US, Book, allow_all, by_account, decide

STANDARD_PATH = """
  main:
    stop_when: [PAYMENT_RECEIVED, PROMISE_OPEN, PLAN_ACTIVE, DISPUTE_OPEN, BREATHING_SPACE,
                CEASE_REQUESTED, VULNERABLE]
    steps:
      - {step: PRE_DUE_REMINDER, days_before_due: 5, template: pre_due_reminder,
         channels: [EMAIL, SMS, LETTER], every_days: 7}
      - {step: PRE_DUE_REMINDER, days_before_due: 1, template: last_reminder,
         channels: [SMS, EMAIL], every_days: 7}
      - {step: LATE_NOTICE, from_dpd: 1, template: late_notice,
         channels: [EMAIL, SMS, LETTER], every_days: 7}
      - {step: PROMISE_REQUEST, from_dpd: 31, template: promise_request,
         channels: [SMS, EMAIL], every_days: 10, wait_days: 3}
      - {step: CALL_TASK, from_dpd: 91, template: call_task, channels: [CALL], every_days: 3}
      - {step: ESCALATION, from_dpd: 181}
"""


def targeted(when: str, *, catch_all: bool = True) -> str:
    """Return a strategy whose first segment ``target`` takes the accounts ``when`` holds."""
    rest = "  - {name: rest, path: main}\n" if catch_all else ""
    return (
        'name: test\nversion: "1"\nsegments:\n'
        f"  - name: target\n    when: {when}\n    path: main\n{rest}"
        f"paths:{STANDARD_PATH}"
    )


def block_customer_two(candidates: pa.Table, *, now: datetime) -> pa.Table:
    answered = allow_all(candidates, now=now)
    blocked = pc.equal(candidates["customer_id"], 2).to_pylist()
    replacements = {
        "allowed": pa.array([not b for b in blocked]),
        "reason_codes": pa.array(
            [["REG_F_CEASE_COMMUNICATION"] if b else [] for b in blocked], pa.list_(pa.string())
        ),
        "planned_at": pa.array([None if b else now for b in blocked], UTC_US),
    }
    for name, values in replacements.items():
        answered = answered.set_column(answered.schema.get_field_index(name), name, values)
    return answered


class TestDecide:
    def test_queue_late_notices_on_each_customers_channel(self) -> None:
        book = Book()
        book.account(1, phone=False)
        book.point(1, "EMAIL", "second@example.com", position=1)
        book.account(2, preferred="SMS", language="es")
        book.account(3, status="CLOSED")
        outcome = decide(book, targeted("{dpd: {min: 1}}"))
        rows = outcome.decisions.to_pylist()
        assert [(r["treatment"], r["channel"]) for r in rows] == [
            ("LATE_NOTICE", "EMAIL"),
            ("LATE_NOTICE", "SMS"),
            ("NONE", None),
        ]
        assert rows[2]["reason_codes"] == ["STAGE_EARLY", "DPD_12", "ACCOUNT_CLOSED"]
        outbox = outcome.outbox.to_pylist()
        assert [(o["destination"], o["language"]) for o in outbox] == [
            ("c1@example.com", "en"),
            ("+34600002", "es"),
        ]
        assert outbox[0]["idempotency_key"] == "strategy:2026-11-25:1:late_notice:EMAIL"
        assert outcome.counts["treatment"] == {"LATE_NOTICE": 2, "NONE": 1}
        assert outcome.counts["segment"] == {"target": 3}
        assert outcome.decisions.schema == engine.DECISION_SCHEMA
        assert outcome.outbox.schema == engine.OUTBOX_SCHEMA

    def test_a_blocked_contact_is_not_queued_and_its_reasons_go_on_the_decision(self) -> None:
        book = Book()
        book.account(1)
        book.account(2)
        outcome = decide(book, targeted("{dpd: {min: 1}}"), prefilter=block_customer_two)
        assert outcome.contacts_blocked == 1
        assert outcome.outbox["account_id"].to_pylist() == [1]
        assert by_account(outcome)[2]["reason_codes"] == [
            "STAGE_EARLY",
            "DPD_12",
            "REG_F_CEASE_COMMUNICATION",
            "POLICY_BLOCKED",
        ]

    def test_accounts_already_decided_for_the_day_are_left_alone(self) -> None:
        book = Book()
        book.account(1)
        book.account(2)
        book.decided(1)
        outcome = decide(book)
        assert outcome.decisions["account_id"].to_pylist() == [2]

    def test_calls_about_no_account_count_against_each_account_of_the_customer(self) -> None:
        book = Book()
        book.account(1, days_late=120)
        book.account(2, days_late=120)
        for hours in range(compliance.CALLS_PER_WINDOW):
            book.rows["history"].append(
                {
                    "account_id": None,
                    "customer_id": 2,
                    "template": "",
                    "channel": "CALL",
                    "status": "COMPLETED",
                    "direction": "OUTBOUND",
                    "connected": None,
                    "planned_at": NOW.replace(hour=14 - hours),
                    "sent_at": None,
                }
            )
        outcome = decide(book, targeted("{dpd: {min: 1}}"), prefilter=contact_filter.prefilter)
        calls = {row["account_id"]: row for row in outcome.outbox.to_pylist()}
        assert calls[2]["policy_reasons"] == ["REG_F_CALL_FREQUENCY_7_IN_7"]
        assert calls[2]["planned_at"] > NOW
        assert calls[1]["planned_at"] == NOW


# Each row: a segment condition, an account it takes, and one it does not.
CONDITIONS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("{stages: [MID]}", {"days_late": 45}, {"days_late": 12}),
    ("{buckets: [DPD_31_60]}", {"days_late": 60}, {"days_late": 61}),
    ("{dpd: {min: 10, max: 12}}", {"days_late": 12}, {"days_late": 13}),
    ("{dpd: {min: 10, max: 12}}", {"days_late": 10}, {"days_late": 9}),
    ("{products: [BNPL, TELCO]}", {"product": "BNPL"}, {"product": "LOAN"}),
    ("{debtor_types: [BUSINESS]}", {"debtor_type": "BUSINESS"}, {"debtor_type": "CONSUMER"}),
    ("{currencies: [jpy]}", {"currency": "JPY"}, {"currency": "EUR"}),
    # 1,000 minor units are 1,000 yen but 10 euros: the band is in major units.
    ("{balance: {min: 1000}}", {"currency": "JPY"}, {"currency": "EUR"}),
    ("{balance: {min: 1, max: 1.001}}", {"currency": "BHD"}, {"currency": "EUR"}),
    # Edges round up to the currency's minor unit: 10.001 EUR is 1,001 cents.
    ("{arrears: {min: 10.001}}", {"amount": 1001}, {"amount": 1000}),
    ("{arrears: {max: 10}}", {"amount": 999}, {"amount": 1000}),
    ("{risk: {min: 62, max: 62}}", {"days_late": 12}, {"days_late": 45}),
    ("{collectability: {max: 39}}", {"phone": False}, {"phone": True}),
    ("{vulnerable: true}", {"marks": ("vulnerable",)}, {}),
    ("{vulnerable: false}", {}, {"marks": ("vulnerable",)}),
    ("{dispute_open: true}", {"marks": ("dispute",)}, {"marks": ("unverified_dispute",)}),
    ("{cease_requested: true}", {"marks": ("cease",)}, {}),
    ("{breathing_space: true}", {"marks": ("breathing_space",)}, {}),
    ("{preferred_channels: [NONE, LETTER]}", {"preferred": ""}, {"preferred": "SMS"}),
    ("{preferred_channels: [SMS]}", {"preferred": "SMS"}, {"preferred": ""}),
    ("{languages: [es]}", {"language": "es"}, {"language": "en"}),
    ("{regions: [north]}", {"region": "north"}, {"region": "North"}),
    ("{countries: [gb]}", {"country": "GB"}, {"country": "ES"}),
    ("{stages: [EARLY], products: [LOAN]}", {}, {"product": "BNPL"}),
]


class TestSegments:
    @pytest.mark.parametrize(("when", "taken", "left"), CONDITIONS)
    def test_the_first_segment_takes_the_accounts_whose_conditions_all_hold(
        self, when: str, taken: dict[str, Any], left: dict[str, Any]
    ) -> None:
        book = Book()
        book.account(1, **taken)
        book.account(2, **left)
        decisions = by_account(decide(book, targeted(when)))
        assert (decisions[1]["segment"], decisions[2]["segment"]) == ("target", "rest")
        assert decisions[1]["path"] == "main"

    def test_an_account_no_segment_takes_gets_none_with_no_segment(self) -> None:
        book = Book()
        book.account(1, days_late=45)
        [row] = decide(book, targeted("{stages: [EARLY]}", catch_all=False)).decisions.to_pylist()
        assert (row["segment"], row["path"], row["treatment"], row["channel"]) == (
            "",
            "",
            "NONE",
            None,
        )
        assert row["reason_codes"] == ["STAGE_MID", "DPD_45", "NO_SEGMENT"]

    def test_segments_are_tried_in_order(self) -> None:
        strategy = (
            'name: test\nversion: "1"\nsegments:\n'
            "  - {name: first, when: {dpd: {min: 1}}, path: main}\n"
            "  - {name: second, when: {dpd: {min: 10}}, path: main}\n"
            f"paths:{STANDARD_PATH}"
        )
        book = Book()
        book.account(1)
        assert decide(book, strategy).decisions["segment"].to_pylist() == ["first"]


EXPERIMENT = """name: test
version: "1"
segments:
  - name: everyone
    path: main
    experiment:
      name: channel-test
      arms:
        - {name: champion, percent: 50}
        - {name: challenger, percent: 50, path: challenger}
paths:
  challenger:
    stop_when: [PAYMENT_RECEIVED]
    steps:
      - {step: LATE_NOTICE, from_dpd: 1, template: late_notice_sms, channels: [SMS], every_days: 7}
""" + STANDARD_PATH.removeprefix("\n")


class TestArms:
    def book(self, accounts: int) -> Book:
        book = Book()
        for account_id in range(1, accounts + 1):
            book.account(account_id)
        return book

    def test_accounts_split_about_evenly_and_each_follows_its_arms_path(self) -> None:
        outcome = decide(self.book(2000), EXPERIMENT)
        arms = outcome.counts["arm"]
        assert set(arms) == {"channel-test/champion", "channel-test/challenger"}
        assert 900 <= arms["channel-test/champion"] <= 1100
        for row in outcome.decisions.to_pylist():
            champion = row["arm"] == "champion"
            assert row["experiment"] == "channel-test"
            assert row["path"] == ("main" if champion else "challenger")
            assert row["channel"] == ("EMAIL" if champion else "SMS")

    def test_the_arm_is_the_stable_hash_of_account_and_experiment(self) -> None:
        first = decide(self.book(300), EXPERIMENT).decisions
        # Another day, another order and fewer accounts: every account keeps its arm.
        book = self.book(300)
        book.rows["accounts"].reverse()
        book.rows["accounts"] = book.rows["accounts"][:200]
        again = by_account(decide(book, EXPERIMENT))
        strategy = definition.loads(EXPERIMENT)
        [experiment] = strategy.experiments
        for row in first.to_pylist():
            expected = experiment.arm_for(definition.arm_bucket(row["account_id"], "channel-test"))
            assert row["arm"] == expected.name
            if row["account_id"] in again:
                assert again[row["account_id"]]["arm"] == row["arm"]

    def test_a_paused_arm_follows_the_champion_path_and_says_so(self) -> None:
        book = self.book(60)
        book.paused.append(("channel-test", "challenger"))
        rows = decide(book, EXPERIMENT).decisions.to_pylist()
        paused = [row for row in rows if row["arm"] == "challenger"]
        assert paused
        for row in paused:
            assert (row["path"], row["treatment"], row["channel"]) == (
                "main",
                "LATE_NOTICE",
                "EMAIL",
            )
            assert row["reason_codes"] == ["STAGE_EARLY", "DPD_12", "ARM_PAUSED"]
        champions = [row for row in rows if row["arm"] == "champion"]
        assert all("ARM_PAUSED" not in row["reason_codes"] for row in champions)

    def test_decisions_outside_an_experiment_have_no_arm(self) -> None:
        book = Book()
        book.account(1)
        outcome = decide(book, targeted("{dpd: {min: 1}}"))
        [row] = outcome.decisions.to_pylist()
        assert (row["experiment"], row["arm"]) == ("", "")
        assert outcome.counts["arm"] == {}


class TestStops:
    @pytest.mark.parametrize(
        ("facts", "code"),
        [
            ({"paid": ((6, 100),)}, "PAYMENT_RECEIVED"),
            ({"marks": ("promise",)}, "PROMISE_OPEN"),
            ({"marks": ("plan",)}, "PLAN_ACTIVE"),
            ({"marks": ("dispute",)}, "DISPUTE_OPEN"),
            ({"marks": ("breathing_space",)}, "BREATHING_SPACE"),
            ({"marks": ("cease",)}, "CEASE_REQUESTED"),
            ({"marks": ("vulnerable",)}, "VULNERABLE"),
        ],
    )
    def test_each_stop_condition_holds_the_account_with_its_code(
        self, facts: dict[str, Any], code: str
    ) -> None:
        book = Book()
        book.account(1, **facts)
        outcome = decide(book, targeted("{dpd: {min: 1}}"))
        [row] = outcome.decisions.to_pylist()
        assert (row["treatment"], row["channel"]) == ("NONE", None)
        assert row["reason_codes"] == ["STAGE_EARLY", "DPD_12", code]
        assert outcome.outbox.num_rows == 0

    def test_a_payment_older_than_recent_payment_days_does_not_hold(self) -> None:
        book = Book()
        book.account(1, paid=((7, 100),))
        [row] = decide(book, targeted("{dpd: {min: 1}}")).decisions.to_pylist()
        assert row["treatment"] == "LATE_NOTICE"

    def test_stop_codes_follow_the_paths_order_and_only_its_conditions(self) -> None:
        strategy = (
            'name: test\nversion: "1"\nsegments:\n  - {name: all, path: main}\n'
            "paths:\n  main:\n    stop_when: [CEASE_REQUESTED, PROMISE_OPEN]\n    steps:\n"
            "      - {step: LATE_NOTICE, from_dpd: 1, template: late_notice, channels: [EMAIL], "
            "every_days: 7}\n"
        )
        book = Book()
        book.account(1, marks=("promise", "cease", "vulnerable", "dispute"))
        book.account(2, marks=("vulnerable", "dispute"))
        rows = by_account(decide(book, strategy))
        assert rows[1]["reason_codes"] == [
            "STAGE_EARLY",
            "DPD_12",
            "CEASE_REQUESTED",
            "PROMISE_OPEN",
        ]
        assert rows[2]["treatment"] == "LATE_NOTICE"

    def test_a_closed_account_gets_its_status_and_no_stop_codes(self) -> None:
        book = Book()
        book.account(1, status="CHARGED_OFF", marks=("promise",))
        [row] = decide(book, targeted("{dpd: {min: 1}}")).decisions.to_pylist()
        assert row["treatment"] == "NONE"
        assert row["reason_codes"] == ["STAGE_EARLY", "DPD_12", "ACCOUNT_CHARGED_OFF"]


class TestSteps:
    @pytest.mark.parametrize(
        ("state", "treatment", "template"),
        [
            ({"days_late": None, "due_in": 6}, "NONE", None),
            ({"days_late": None, "due_in": 5}, "PRE_DUE_REMINDER", "pre_due_reminder"),
            ({"days_late": None, "due_in": 2}, "PRE_DUE_REMINDER", "pre_due_reminder"),
            ({"days_late": None, "due_in": 1}, "PRE_DUE_REMINDER", "last_reminder"),
            ({"days_late": None, "due_in": 0}, "PRE_DUE_REMINDER", "last_reminder"),
            ({"days_late": 1}, "LATE_NOTICE", "late_notice"),
            ({"days_late": 30}, "LATE_NOTICE", "late_notice"),
            ({"days_late": 31}, "PROMISE_REQUEST", "promise_request"),
            ({"days_late": 91}, "CALL_TASK", "call_task"),
            ({"days_late": 180}, "CALL_TASK", "call_task"),
            ({"days_late": 181}, "ESCALATION", None),
            ({"days_late": 4000}, "ESCALATION", None),
        ],
    )
    def test_the_step_is_the_paths_step_for_todays_state(
        self, state: dict[str, Any], treatment: str, template: str | None
    ) -> None:
        book = Book()
        book.account(1, **state)
        outcome = decide(book, targeted("{}"))
        [row] = outcome.decisions.to_pylist()
        assert row["treatment"] == treatment
        strategy = definition.loads(targeted("{}"))
        step = strategy.paths["main"].step_for(
            days_past_due=row["days_past_due"],
            days_until_next_due=state.get("due_in"),
        )
        assert (step.treatment.value if step else "NONE") == treatment
        assert [o["template"] for o in outcome.outbox.to_pylist()] == (
            [template] if template else []
        )

    def test_a_pre_due_decision_says_when_the_payment_is_due(self) -> None:
        book = Book()
        book.account(1, days_late=None, due_in=3)
        [row] = decide(book, targeted("{}")).decisions.to_pylist()
        assert row["reason_codes"] == ["STAGE_PRE_DUE", "DPD_0", "DUE_IN_3"]

    def test_an_account_with_no_step_today_gets_no_step(self) -> None:
        book = Book()
        book.account(1, days_late=None, due_in=20)
        [row] = decide(book, targeted("{}")).decisions.to_pylist()
        assert row["treatment"] == "NONE"
        assert row["reason_codes"] == ["STAGE_CURRENT", "DPD_0", "NO_STEP"]

    def test_after_downtime_only_todays_step_is_taken_never_the_missed_ones(self) -> None:
        book = Book()
        # Nothing was sent for 70 days: the run acts on the current state, one contact.
        book.account(1, days_late=70)
        outcome = decide(book, targeted("{}"))
        assert outcome.outbox["template"].to_pylist() == ["promise_request"]

    def test_an_escalation_flags_the_account_and_contacts_nobody(self) -> None:
        book = Book()
        book.account(1, days_late=200, email=False, phone=False, address=False)
        outcome = decide(book, targeted("{}"))
        [row] = outcome.decisions.to_pylist()
        assert (row["treatment"], row["channel"]) == ("ESCALATION", None)
        assert row["reason_codes"] == ["STAGE_RECOVERY", "DPD_200"]
        assert outcome.outbox.num_rows == 0

    def test_a_customer_without_a_usable_channel_has_no_contact_point(self) -> None:
        book = Book()
        book.account(1, email=False, phone=False, address=False)
        [row] = decide(book, targeted("{}")).decisions.to_pylist()
        assert (row["treatment"], row["channel"]) == ("LATE_NOTICE", None)
        assert row["reason_codes"][-1] == "NO_CONTACT_POINT"

    @pytest.mark.parametrize(
        ("facts", "channel"),
        [
            ({"preferred": "LETTER"}, "LETTER"),
            ({"preferred": "LETTER", "marks": ("opted_LETTER",)}, "EMAIL"),
            ({"preferred": "CALL"}, "EMAIL"),
            ({"email": False}, "SMS"),
            ({"marks": ("opted_EMAIL", "opted_SMS", "opted_LETTER")}, "EMAIL"),
        ],
    )
    def test_the_channel_is_the_preferred_one_if_usable_else_the_steps_order(
        self, facts: dict[str, Any], channel: str
    ) -> None:
        book = Book()
        book.account(1, **facts)
        [row] = decide(book, targeted("{}")).decisions.to_pylist()
        assert row["channel"] == channel


class TestWaits:
    def test_a_recent_contact_with_the_same_template_makes_the_account_wait(self) -> None:
        book = Book()
        book.account(1)
        book.account(2)
        book.contact(1, customer_id=1, template="late_notice", days_ago=6)
        book.contact(2, customer_id=2, template="late_notice", days_ago=7)
        outcome = decide(book, targeted("{}"))
        assert outcome.outbox["account_id"].to_pylist() == [2]
        rows = by_account(outcome)
        assert rows[1]["treatment"] == "LATE_NOTICE"
        assert rows[1]["reason_codes"] == ["STAGE_EARLY", "DPD_12", "CADENCE_WAIT"]

    def test_any_recent_outbound_contact_makes_the_account_wait_wait_days(self) -> None:
        book = Book()
        for account_id in (1, 2, 3, 4):
            book.account(account_id, days_late=40)
        book.contact(1, customer_id=1, template="late_notice", days_ago=2)
        book.contact(2, customer_id=2, template="late_notice", days_ago=3)
        book.contact(3, customer_id=3, template="late_notice", days_ago=1, direction="INBOUND")
        book.contact(4, customer_id=4, template="late_notice", days_ago=1, status="FAILED")
        outcome = decide(book, targeted("{}"))
        rows = by_account(outcome)
        assert rows[1]["reason_codes"] == ["STAGE_MID", "DPD_40", "STEP_WAIT"]
        assert outcome.outbox["account_id"].to_pylist() == [2, 3, 4]

    def test_a_contact_about_no_account_does_not_start_the_wait(self) -> None:
        book = Book()
        book.account(1, days_late=40)
        book.contact(None, customer_id=1, template="promise_request", days_ago=1)
        outcome = decide(book, targeted("{}"))
        assert outcome.outbox["account_id"].to_pylist() == [1]


class TestReasonOrder:
    def test_codes_come_in_the_documented_order(self) -> None:
        book = Book()
        # A closed account in a paused arm: ACCOUNT_ before ARM_PAUSED.
        challenger = next(
            account_id
            for account_id in range(1, 100)
            if definition.arm_bucket(account_id, "channel-test") >= 50
        )
        book.account(challenger, status="CLOSED")
        book.paused.append(("channel-test", "challenger"))
        # Waiting on both clocks with no contact point: STEP_WAIT, CADENCE_WAIT, NO_CONTACT_POINT.
        book.account(500, days_late=40, email=False, phone=False, address=False)
        book.contact(500, customer_id=500, template="promise_request", days_ago=1)
        # Pre-due with no step: DUE_IN_ before NO_STEP.
        book.account(501, days_late=None, due_in=3)
        rows = by_account(decide(book, EXPERIMENT))
        assert rows[challenger]["reason_codes"] == [
            "STAGE_EARLY",
            "DPD_12",
            "ACCOUNT_CLOSED",
            "ARM_PAUSED",
        ]
        assert rows[500]["reason_codes"][2:] == ["STEP_WAIT", "CADENCE_WAIT", "NO_CONTACT_POINT"]
        assert rows[501]["reason_codes"] == ["STAGE_PRE_DUE", "DPD_0", "DUE_IN_3"]


class TestScores:
    def test_risk_and_collectability_follow_the_documented_formulas(self) -> None:
        book = Book()
        # 12 days late, 10.00 owed, nothing paid, e-mail and letter reachable.
        book.account(1, phone=False)
        # 200 days late on 20.00 with 5.00 paid 30 days ago: 15.00 owed.
        book.account(2, days_late=200, amount=2000, paid=((30, 500),))
        # Up to date and in credit: nothing owed.
        book.account(3, days_late=None, paid=((100, 700),), email=False, phone=False)
        rows = by_account(decide(book, targeted("{}")))
        assert (rows[1]["risk_score"], rows[1]["collectability_score"]) == (
            40 * 12 // 180 + 30 + 30,
            0 + 10 + 0 + 10 + 20 * (365 - 12) // 365,
        )
        assert (rows[2]["risk_score"], rows[2]["collectability_score"]) == (
            40 + 30 * (1500 - 500) // 1500 + 30,
            50 * 500 // 1500 + 30 + 20 * 165 // 365,
        )
        assert (rows[3]["risk_score"], rows[3]["collectability_score"]) == (0, 50 + 10 + 20)


class TestCounts:
    def test_count_decisions_per_segment_and_arm(self) -> None:
        book = Book()
        for account_id in range(1, 41):
            book.account(account_id)
        outcome = decide(book, EXPERIMENT)
        arms = collections.Counter(
            f"channel-test/{arm}" for arm in outcome.decisions["arm"].to_pylist()
        )
        assert outcome.counts["arm"] == dict(sorted(arms.items()))
        assert outcome.counts["segment"] == {"everyone": 40}


class TestHolds:
    def test_label_accounts_held_by_a_promise_or_a_plan(self) -> None:
        held = engine.holds(
            promise_accounts=pa.array([3, 1], pa.int64()),
            plan_accounts=pa.chunked_array([[2]], pa.int64()),
        )
        assert held.schema == engine.HOLDS_SCHEMA
        assert held.to_pylist() == [
            {"account_id": 3, "hold": "PROMISE_OPEN"},
            {"account_id": 1, "hold": "PROMISE_OPEN"},
            {"account_id": 2, "hold": "PLAN_ACTIVE"},
        ]
