"""Properties of every contact-policy decision (COMPLIANCE.md principles 1-3 and 8)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.domain import compliance
from tests.unit.domain.compliance import strategies

SETTINGS = settings(max_examples=150, deadline=None)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, object]:
    now = draw(strategies.nows)
    return {
        "consumer": draw(strategies.consumers(now)),
        "debts": draw(strategies.debts(now)),
        "history": draw(strategies.histories(now)),
        "attempt": draw(strategies.attempts()),
        "now": now,
    }


def evaluate(case: dict[str, object], **changes: object) -> compliance.Decision:
    return compliance.evaluate(**{**case, **changes})  # type: ignore[arg-type]


class TestEveryDecision:
    @SETTINGS
    @given(cases())
    def test_an_allowed_decision_has_no_reasons_and_a_denial_has_some(
        self, case: dict[str, object]
    ) -> None:
        decision = evaluate(case)
        assert decision.allowed == (decision.reasons == ())
        if decision.allowed:
            assert decision.next_allowed_at is None

    @SETTINGS
    @given(cases())
    def test_every_reason_cites_its_rule_verbatim(self, case: dict[str, object]) -> None:
        for reason in evaluate(case).reasons:
            assert reason.rule == compliance.CITATIONS[compliance.RuleCode(reason.code)]
            assert reason.message

    @SETTINGS
    @given(cases())
    def test_the_same_attempt_is_allowed_at_next_allowed_at(self, case: dict[str, object]) -> None:
        """Principle 2: the release is real, and it is not in the past."""
        decision = evaluate(case)
        if decision.next_allowed_at is None:
            return
        now = case["now"]
        assert isinstance(now, dt.datetime)
        assert decision.next_allowed_at >= now
        assert evaluate(case, now=decision.next_allowed_at).allowed

    @SETTINGS
    @given(cases())
    def test_nothing_is_allowed_just_before_next_allowed_at(self, case: dict[str, object]) -> None:
        """Principle 2: the release is the earliest one."""
        decision = evaluate(case)
        now = case["now"]
        assert isinstance(now, dt.datetime)
        if decision.next_allowed_at is None or decision.next_allowed_at == now:
            return
        just_before = decision.next_allowed_at - dt.timedelta(microseconds=1)
        assert not evaluate(case, now=max(now, just_before)).allowed

    @SETTINGS
    @given(cases(), st.data())
    def test_more_history_never_turns_a_denial_into_an_allowance(
        self, case: dict[str, object], data: st.DataObject
    ) -> None:
        now = case["now"]
        assert isinstance(now, dt.datetime)
        history = case["history"]
        assert isinstance(history, list)
        more = data.draw(strategies.histories(now))
        if not evaluate(case).allowed:
            assert not evaluate(case, history=history + more).allowed
