"""Evaluate a proposed contact against every v0 rule of docs/COMPLIANCE.md.

Each rule looks at the facts as of ``now`` and at a candidate instant, and returns the
reasons it denies the contact with, each with its release: the earliest instant the
rule would pass (None when it has no known end). ``evaluate`` collects every reason at
``now`` and then walks forward from release to release until every rule passes, which
gives ``next_allowed_at``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence

from accord.domain.compliance import model, windows

# Used when a consumer's location is unknown: every zone of the us-reg-f territory, the
# fifty states and DC (COMPLIANCE.md principle 4). A time is convenient only if it is
# convenient in all of them (about 18:00-01:00 UTC).
DEFAULT_TIME_ZONES: tuple[str, ...] = (
    "America/Adak",
    "America/Anchorage",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/New_York",
    "America/Phoenix",
    "Pacific/Honolulu",
)

# At most this many counted calls per debt in seven local days; the next is denied.
CALLS_PER_WINDOW = 7
WINDOW_DAYS = 7

_MAX_STEPS = 1000


@dataclasses.dataclass(frozen=True, slots=True)
class Facts:
    """Hold the inputs of one evaluation, with history after ``now`` already dropped."""

    consumer: model.Consumer
    debts: dict[str, model.Debt]
    history: tuple[model.HistoryItem, ...]
    attempt: model.Attempt
    now: dt.datetime
    zones: tuple[str, ...]
    until: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """Pair a reason with the earliest instant its rule would pass (None: no known end)."""

    reason: model.Reason
    release: dt.datetime | None


Rule = Callable[[Facts, dt.datetime], list[Finding]]


def _reason(code: model.RuleCode, message: str) -> model.Reason:
    return model.Reason(code=code.value, rule=model.CITATIONS[code], message=message)


def _hhmm(value: dt.time) -> str:
    return value.strftime("%H:%M")


def _day(value: dt.date) -> str:
    return f"{value.day} {value:%b %Y}"


def _span(first: dt.date, last: dt.date) -> str:
    start = f"{first.day} {first:%b}" if first.year == last.year else _day(first)
    return f"{start}\N{EN DASH}{_day(last)}"


def _outside(facts: Facts, at: dt.datetime, window: windows.Window) -> list[str]:
    return [
        f"{_hhmm(windows.local(at, name).time())} in {name}"
        for name in facts.zones
        if not windows.in_window(windows.local(at, name).time(), window)
    ]


def _window_finding(
    facts: Facts, at: dt.datetime, window: windows.Window, code: model.RuleCode, rule: str
) -> list[Finding]:
    outside = _outside(facts, at, window)
    if not outside:
        return []
    release = windows.earliest_permitted(at, facts.zones, [window], until=facts.until)
    message = f"It is {' and '.join(outside)}; {rule}."
    return [Finding(_reason(code, message), release)]


def inconvenient_time(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny outside 08:00-21:00 local in any candidate zone (REG_F_INCONVENIENT_TIME)."""
    start, end = windows.CONVENIENT_HOURS
    return _window_finding(
        facts,
        at,
        windows.CONVENIENT_HOURS,
        model.RuleCode.INCONVENIENT_TIME,
        f"we only contact you between {_hhmm(start)} and {_hhmm(end)} your local time",
    )


def consumer_designated_time(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny outside the hours the customer chose (REG_F_CONSUMER_DESIGNATED_TIME)."""
    hours = facts.consumer.contact_hours
    if hours is None:
        return []
    start, end = hours
    if start == end:
        message = (
            f"You set your contact hours to start and end at {_hhmm(start)}, "
            "which leaves no time we may contact you."
        )
        return [Finding(_reason(model.RuleCode.CONSUMER_DESIGNATED_TIME, message), None)]
    return _window_finding(
        facts,
        at,
        hours,
        model.RuleCode.CONSUMER_DESIGNATED_TIME,
        f"you asked us to contact you only between {_hhmm(start)} and {_hhmm(end)}",
    )


def call_released_at(call_at: dt.datetime, zone_names: Sequence[str]) -> dt.datetime:
    """Return when a call leaves the seven-local-date window in every candidate zone.

    The call's local date is day 1; it stops counting at the start of day 8, and with
    several zones at the last of their midnights (COMPLIANCE.md principle 6).
    """
    return max(
        windows.midnight(name, windows.local_date(call_at, name) + dt.timedelta(days=WINDOW_DAYS))
        for name in zone_names
    )


def counts_toward_calls(item: model.HistoryItem, debt_id: str) -> bool:
    """Return whether a past contact counts toward the 7-in-7 cap of this debt.

    Outbound calls and voicemails count unless known not to have connected; a call
    about no listed debt counts against every debt (deny when unsure).
    """
    return (
        item.channel.is_call
        and item.direction is model.Direction.OUTBOUND
        and item.connected is not False
        and (not item.debt_ids or debt_id in item.debt_ids)
    )


def call_frequency(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny the 8th call about a debt in 7 local days (REG_F_CALL_FREQUENCY_7_IN_7)."""
    if not facts.attempt.channel.is_call:
        return []
    findings = []
    shown_zone = facts.zones[0]
    today = windows.local_date(at, shown_zone)
    first_day = today - dt.timedelta(days=WINDOW_DAYS - 1)
    for debt_id in sorted(facts.attempt.debt_ids):
        releases = sorted(
            released
            for item in facts.history
            if counts_toward_calls(item, debt_id)
            and (released := call_released_at(item.at, facts.zones)) > at
        )
        if len(releases) < CALLS_PER_WINDOW:
            continue
        name = facts.debts[debt_id].name
        message = (
            f"This would be call number {len(releases) + 1} about account {name} within "
            f"{_span(first_day, today)}; we make at most "
            f"{CALLS_PER_WINDOW} calls about an account in {WINDOW_DAYS} days."
        )
        release = releases[len(releases) - CALLS_PER_WINDOW]
        findings.append(Finding(_reason(model.RuleCode.CALL_FREQUENCY_7_IN_7, message), release))
    return findings


_CHANNEL_WORDS = {
    model.Channel.CALL: "phone calls",
    model.Channel.VOICEMAIL: "voicemails",
    model.Channel.SMS: "text messages",
    model.Channel.EMAIL: "emails",
    model.Channel.LETTER: "letters",
    model.Channel.CHAT: "chat messages",
}


def refused_channel(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny a medium the customer refused (REG_F_ELECTRONIC_OPT_OUT / REG_F_REFUSED_MEDIUM)."""
    channel = facts.attempt.channel
    refused = facts.consumer.opted_out_channels
    if channel not in refused and not (
        channel is model.Channel.VOICEMAIL and model.Channel.CALL in refused
    ):
        return []
    if channel.is_electronic:
        code = model.RuleCode.ELECTRONIC_OPT_OUT
        message = f"You opted out of {_CHANNEL_WORDS[channel]} from us."
    else:
        code = model.RuleCode.REFUSED_MEDIUM
        refused_word = _CHANNEL_WORDS[channel if channel in refused else model.Channel.CALL]
        message = f"You asked us not to contact you by {refused_word}."
    return [Finding(_reason(code, message), None)]


def cease_communication(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny everything after a cease request (REG_F_CEASE_COMMUNICATION)."""
    received_at = facts.consumer.cease_requested_at
    if received_at is None or received_at > facts.now:
        return []
    message = (
        f"You asked us on {_day(received_at.date())} to stop contacting you, "
        "so we will not contact you about this."
    )
    return [Finding(_reason(model.RuleCode.CEASE_COMMUNICATION, message), None)]


def under_unverified_dispute(debt: model.Debt, now: dt.datetime) -> bool:
    """Return whether a debt is under a dispute not yet verified as of ``now``.

    A verification dated before the dispute, or after ``now``, does not count.
    """
    received = debt.dispute_received_at
    if received is None or received > now:
        return False
    verified = debt.dispute_verified_at
    return verified is None or not received <= verified <= now


def dispute_pause(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny collection of a debt under unverified dispute (REG_F_DISPUTE_PAUSE)."""
    if facts.attempt.purpose is model.Purpose.RESPONSE_TO_REQUEST:
        return []
    findings = []
    for debt_id in sorted(facts.attempt.debt_ids):
        debt = facts.debts[debt_id]
        if under_unverified_dispute(debt, facts.now):
            assert debt.dispute_received_at is not None
            message = (
                f"You disputed account {debt.name} on {_day(debt.dispute_received_at.date())}; "
                "we have paused collecting it until we send you our verification."
            )
            findings.append(Finding(_reason(model.RuleCode.DISPUTE_PAUSE, message), None))
    return findings


RULES: tuple[Rule, ...] = (
    inconvenient_time,
    consumer_designated_time,
    call_frequency,
    refused_channel,
    cease_communication,
    dispute_pause,
)


def _facts(
    consumer: model.Consumer,
    debts: Sequence[model.Debt],
    history: Sequence[model.HistoryItem],
    attempt: model.Attempt,
    now: dt.datetime,
) -> Facts:
    if now.tzinfo is None or now.utcoffset() is None:
        raise model.NaiveDatetimeError("now")
    by_id = {debt.id: debt for debt in debts}
    unknown = sorted(attempt.debt_ids - by_id.keys())
    if unknown:
        raise ValueError(f"the attempt names debts that are not in debts: {', '.join(unknown)}")
    now = now.astimezone(windows.UTC)
    return Facts(
        consumer=consumer,
        debts=by_id,
        history=tuple(item for item in history if item.at <= now),
        attempt=attempt,
        now=now,
        zones=consumer.time_zones or DEFAULT_TIME_ZONES,
        until=now + windows.HORIZON,
    )


def _findings(facts: Facts, at: dt.datetime) -> list[Finding]:
    return [finding for rule in RULES for finding in rule(facts, at)]


def evaluate(
    *,
    consumer: model.Consumer,
    debts: Sequence[model.Debt],
    history: Sequence[model.HistoryItem],
    attempt: model.Attempt,
    now: dt.datetime,
) -> model.Decision:
    """Decide whether the attempt may be made at ``now``, with every reason that applies.

    Raises ``NaiveDatetimeError`` when ``now`` is naive and ``ValueError`` when the
    attempt names a debt missing from ``debts``.
    """
    facts = _facts(consumer, debts, history, attempt, now)
    findings = _findings(facts, facts.now)
    if not findings:
        return model.Decision(allowed=True, reasons=(), next_allowed_at=None)
    reasons = tuple(finding.reason for finding in findings)
    return model.Decision(
        allowed=False, reasons=reasons, next_allowed_at=_next_allowed_at(facts, findings)
    )


def _next_allowed_at(facts: Facts, findings: list[Finding]) -> dt.datetime | None:
    # Each release is the earliest instant its rule passes, so jumping to the latest
    # release never skips an allowed instant; stop when every rule passes.
    for _ in range(_MAX_STEPS):
        releases = [finding.release for finding in findings]
        if any(release is None for release in releases):
            return None
        at = max(release for release in releases if release is not None)
        if at > facts.until:
            return None
        findings = _findings(facts, at)
        if not findings:
            return at
    return None
