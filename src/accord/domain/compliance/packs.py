"""Apply the us-ma and uk-fca packs of docs/COMPLIANCE.md, beside Regulation F's rules.

Each pack is a tuple of rules with the same shape as ``rules.py``'s, plus the zones of
its territory (used when the consumer's location is unknown, COMPLIANCE.md principle 4).
"""

from __future__ import annotations

import datetime as dt

from accord.domain.compliance import model, rules, windows
from accord.domain.compliance.rules import Facts, Finding

# Massachusetts: at most two telephone communications (calls, texts, recorded audio) per
# debt in each seven-day period to a personal number (940 CMR 7.04(1)(f)).
MA_CALLS_PER_WINDOW = 2

# A standard breathing space lasts 60 days (SI 2020/1311 reg. 26).
BREATHING_SPACE_DAYS = 60


def _reason(code: model.RuleCode, message: str) -> model.Reason:
    return model.Reason(code=code.value, rule=model.CITATIONS[code], message=message)


def counts_toward_ma(item: model.HistoryItem, debt_id: str) -> bool:
    """Return whether a past contact counts toward the Massachusetts two-in-seven cap.

    Outbound calls, voicemails and texts count unless known not to have connected; one
    about no listed debt counts against every debt (deny when unsure).
    """
    return (
        (item.channel.is_call or item.channel is model.Channel.SMS)
        and item.direction is model.Direction.OUTBOUND
        and item.connected is not False
        and (not item.debt_ids or debt_id in item.debt_ids)
    )


def ma_two_in_seven(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny a 3rd telephone contact about a debt in 7 days (US_MA_TELEPHONE_TWO_IN_SEVEN)."""
    channel = facts.attempt.channel
    if not (channel.is_call or channel is model.Channel.SMS):
        return []
    findings = []
    today = windows.local_date(at, facts.zones[0])
    first_day = today - dt.timedelta(days=rules.WINDOW_DAYS - 1)
    for debt_id in sorted(facts.attempt.debt_ids):
        releases = sorted(
            released
            for item in facts.history
            if counts_toward_ma(item, debt_id)
            and (released := rules.call_released_at(item.at, facts.zones)) > at
        )
        if len(releases) < MA_CALLS_PER_WINDOW:
            continue
        name = facts.debts[debt_id].name
        message = (
            f"We already called or texted you {len(releases)} times about account {name} "
            f"within {rules.span_text(first_day, today)}; in Massachusetts we call or text "
            f"at most {MA_CALLS_PER_WINDOW} times about an account in "
            f"{rules.WINDOW_DAYS} days."
        )
        release = releases[len(releases) - MA_CALLS_PER_WINDOW]
        findings.append(
            Finding(_reason(model.RuleCode.MA_TELEPHONE_TWO_IN_SEVEN, message), release)
        )
    return findings


US_MA_RULES: tuple[rules.Rule, ...] = (ma_two_in_seven,)


def active_moratorium(facts: Facts, at: dt.datetime) -> model.Moratorium | None:
    """Return the breathing space in force at ``at``, if any (one starting after now is ignored)."""
    space = facts.consumer.breathing_space
    if space is None or space.start > facts.now or at < space.start:
        return None
    if space.end is not None and at >= space.end:
        return None
    return space


def _ends(space: model.Moratorium) -> str:
    return "" if space.end is None else f" until {rules.day_text(space.end.date())}"


def moratorium_no_contact(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny contact about moratorium debts during a moratorium (UK_MORATORIUM_NO_CONTACT).

    SI 2020/1311 reg. 11(2): a response to the debtor's own request or query is allowed.
    """
    space = active_moratorium(facts, at)
    if space is None or facts.attempt.purpose is model.Purpose.RESPONSE_TO_REQUEST:
        return []
    kind = (
        "breathing space"
        if space.kind is model.MoratoriumKind.STANDARD
        else "mental health crisis breathing space"
    )
    message = (
        f"You are in a {kind}{_ends(space)}; while it lasts we will not contact you about "
        "your debts, except to answer your own questions."
    )
    return [Finding(_reason(model.RuleCode.UK_MORATORIUM_NO_CONTACT, message), space.end)]


def breathing_space_duration(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Release a standard breathing space at its recorded end (UK_BREATHING_SPACE_DURATION).

    SI 2020/1311 reg. 26: it lasts 60 days; without a recorded end it is treated as
    active with no known end (deny when unsure).
    """
    space = active_moratorium(facts, at)
    if (
        space is None
        or space.kind is not model.MoratoriumKind.STANDARD
        or facts.attempt.purpose is model.Purpose.RESPONSE_TO_REQUEST
    ):
        return []
    started = rules.day_text(space.start.date())
    if space.end is None:
        message = (
            f"Your breathing space started on {started} and lasts {BREATHING_SPACE_DAYS} "
            "days; we have no end date on record yet."
        )
    else:
        ends = rules.day_text(space.end.date())
        message = f"Your breathing space started on {started} and ends on {ends}."
    return [Finding(_reason(model.RuleCode.UK_BREATHING_SPACE_DURATION, message), space.end)]


def mental_health_crisis(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Hold a crisis moratorium until its recorded end (UK_MENTAL_HEALTH_CRISIS_MORATORIUM).

    SI 2020/1311 reg. 28: it lasts as long as crisis treatment plus 30 days; while
    treatment continues the end is unknown (``next_allowed_at`` null).
    """
    space = active_moratorium(facts, at)
    if (
        space is None
        or space.kind is not model.MoratoriumKind.MENTAL_HEALTH_CRISIS
        or facts.attempt.purpose is model.Purpose.RESPONSE_TO_REQUEST
    ):
        return []
    if space.end is None:
        message = (
            "Your mental health crisis breathing space lasts while your crisis treatment "
            "continues and 30 days after; no end date is on record yet."
        )
    else:
        message = (
            f"Your mental health crisis breathing space ends on {rules.day_text(space.end.date())}."
        )
    return [Finding(_reason(model.RuleCode.UK_MENTAL_HEALTH_CRISIS_MORATORIUM, message), space.end)]


def contact_times_and_requests(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny unreasonable times and ignored requests (UK_CONTACT_TIMES_AND_REQUESTS).

    FCA CONC 7.9.4 R read as 08:00-21:00 local, the customer's designated times and
    refused channels (with the one reply to a customer's own message).
    """
    code = model.RuleCode.UK_CONTACT_TIMES_AND_REQUESTS
    findings = rules.window_finding(
        facts,
        at,
        windows.CONVENIENT_HOURS,
        code,
        "we only contact you between 08:00 and 21:00 your local time",
    )
    findings += rules.designated_time_findings(facts, at, code)
    findings += rules.refused_findings(facts, lambda _: code)
    return findings


UK_FCA_RULES: tuple[rules.Rule, ...] = (
    moratorium_no_contact,
    breathing_space_duration,
    mental_health_crisis,
    contact_times_and_requests,
)

PACK_RULES: dict[model.PolicyPack, tuple[rules.Rule, ...]] = {
    model.PolicyPack.US_REG_F: rules.US_REG_F_RULES,
    model.PolicyPack.US_MA: US_MA_RULES,
    model.PolicyPack.UK_FCA: UK_FCA_RULES,
}

# Every plausible zone of each pack's territory, for a consumer of unknown location.
PACK_ZONES: dict[model.PolicyPack, tuple[str, ...]] = {
    model.PolicyPack.US_REG_F: rules.DEFAULT_TIME_ZONES,
    model.PolicyPack.US_MA: ("America/New_York",),
    model.PolicyPack.UK_FCA: ("Europe/London",),
}
