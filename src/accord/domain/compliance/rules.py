"""Evaluate a proposed contact against the Regulation F rules of docs/COMPLIANCE.md.

Each rule looks at the facts as of ``now`` and at a candidate instant, and returns the
reasons it denies the contact with, each with its release: the earliest instant the
rule would pass (None when it has no known end). ``accord.domain.compliance.engine``
composes these with the other packs' rules, collects every reason at ``now`` and then
walks forward from release to release until every rule passes, which gives
``next_allowed_at``.
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


@dataclasses.dataclass(frozen=True, slots=True)
class Facts:
    """Hold the inputs of one evaluation, with history after ``now`` already dropped.

    ``zones`` are the candidate zones for the pack being applied: the consumer's, else
    every zone of the pack's territory. ``policies`` are every pack listed.
    """

    consumer: model.Consumer
    debts: dict[str, model.Debt]
    history: tuple[model.HistoryItem, ...]
    attempt: model.Attempt
    now: dt.datetime
    zones: tuple[str, ...]
    until: dt.datetime
    policies: tuple[model.PolicyPack, ...] = ()
    operator: model.OperatorSettings = model.NO_OPERATOR_SETTINGS


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """Pair a reason with the earliest instant its rule would pass (None: no known end)."""

    reason: model.Reason
    release: dt.datetime | None


Rule = Callable[[Facts, dt.datetime], list[Finding]]


def _reason(code: model.RuleCode, message: str) -> model.Reason:
    return model.Reason(code=code.value, rule=model.CITATIONS[code], message=message)


def medium(channel: model.Channel) -> model.Channel:
    """Return the medium a channel uses: a voicemail is left by a telephone call."""
    return model.Channel.CALL if channel.is_call else channel


def seven_day_release(at: dt.datetime, zone_names: Sequence[str]) -> dt.datetime:
    """Return the start of local day 8 counted from ``at`` (day 1), at the last midnight."""
    return call_released_at(at, zone_names)


def hhmm(value: dt.time) -> str:
    """Return a local time as ``HH:MM`` for a message."""
    return value.strftime("%H:%M")


def day_text(value: dt.date) -> str:
    """Return a date as ``6 Feb 2026`` for a message."""
    return f"{value.day} {value:%b %Y}"


def span_text(first: dt.date, last: dt.date) -> str:
    """Return a span of dates as ``31 Jan-6 Feb 2026`` (an en dash) for a message."""
    start = f"{first.day} {first:%b}" if first.year == last.year else day_text(first)
    return f"{start}\N{EN DASH}{day_text(last)}"


def _outside(facts: Facts, at: dt.datetime, window: windows.Window) -> list[str]:
    return [
        f"{hhmm(windows.local(at, name).time())} in {name}"
        for name in facts.zones
        if not windows.in_window(windows.local(at, name).time(), window)
    ]


def window_finding(
    facts: Facts, at: dt.datetime, window: windows.Window, code: model.RuleCode, rule: str
) -> list[Finding]:
    """Deny when ``at`` is outside a permitted local window in any candidate zone.

    The release is the next instant inside the window in every zone (None: never).
    """
    outside = _outside(facts, at, window)
    if not outside:
        return []
    release = windows.earliest_permitted(at, facts.zones, [window], until=facts.until)
    message = f"It is {' and '.join(outside)}; {rule}."
    return [Finding(_reason(code, message), release)]


def inconvenient_time(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny outside 08:00-21:00 local in any candidate zone (REG_F_INCONVENIENT_TIME)."""
    start, end = windows.CONVENIENT_HOURS
    return window_finding(
        facts,
        at,
        windows.CONVENIENT_HOURS,
        model.RuleCode.INCONVENIENT_TIME,
        f"we only contact you between {hhmm(start)} and {hhmm(end)} your local time",
    )


def designated_time_findings(facts: Facts, at: dt.datetime, code: model.RuleCode) -> list[Finding]:
    """Return a finding for contact hours and for each designated inconvenient window."""
    findings = []
    hours = facts.consumer.contact_hours
    if hours is not None:
        start, end = hours
        if start == end:
            message = (
                f"You set your contact hours to start and end at {hhmm(start)}, "
                "which leaves no time we may contact you."
            )
            findings.append(Finding(_reason(code, message), None))
        else:
            findings += window_finding(
                facts,
                at,
                hours,
                code,
                f"you asked us to contact you only between {hhmm(start)} and {hhmm(end)}",
            )
    for start, end in facts.consumer.inconvenient_times:
        if start == end:
            continue
        # The complement of a blocked [start, end) is the permitted [end, start).
        findings += window_finding(
            facts,
            at,
            (end, start),
            code,
            f"you told us {hhmm(start)}\N{EN DASH}{hhmm(end)} is not a good time to contact you",
        )
    return findings


def consumer_designated_time(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny at times the customer designated inconvenient (REG_F_CONSUMER_DESIGNATED_TIME)."""
    return designated_time_findings(facts, at, model.RuleCode.CONSUMER_DESIGNATED_TIME)


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


def consent_windows(facts: Facts, debt_id: str) -> list[tuple[dt.datetime, dt.datetime]]:
    """Return the ``[given, day 8)`` spans of direct prior consent to calls about a debt.

    REG_F_EXCLUDED_CALLS (12 CFR 1006.14(b)(3)(i)): calls placed within seven consecutive
    days of receiving consent (its date is day 1) count toward neither frequency. A
    consent about no listed debt, or given after ``now``, excludes nothing.
    """
    return [
        (given, call_released_at(given, facts.zones))
        for item in facts.history
        if (given := item.consent_given_at) is not None
        and given <= facts.now
        and debt_id in item.debt_ids
    ]


def excluded_by_consent(facts: Facts, debt_id: str, call_at: dt.datetime) -> bool:
    """Return whether a call placed at ``call_at`` falls within a consent (1006.14(b)(3)(i))."""
    return any(given <= call_at < ends for given, ends in consent_windows(facts, debt_id))


def call_frequency(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny the 8th call about a debt in 7 local days (REG_F_CALL_FREQUENCY_7_IN_7).

    Calls placed with consent, and the attempt itself when placed with consent, do not
    count (REG_F_EXCLUDED_CALLS).
    """
    if not facts.attempt.channel.is_call:
        return []
    findings = []
    shown_zone = facts.zones[0]
    today = windows.local_date(at, shown_zone)
    first_day = today - dt.timedelta(days=WINDOW_DAYS - 1)
    for debt_id in sorted(facts.attempt.debt_ids):
        if excluded_by_consent(facts, debt_id, at):
            continue
        releases = sorted(
            released
            for item in facts.history
            if counts_toward_calls(item, debt_id)
            and not excluded_by_consent(facts, debt_id, item.at)
            and (released := call_released_at(item.at, facts.zones)) > at
        )
        if len(releases) < CALLS_PER_WINDOW:
            continue
        name = facts.debts[debt_id].name
        message = (
            f"This would be call number {len(releases) + 1} about account {name} within "
            f"{span_text(first_day, today)}; we make at most "
            f"{CALLS_PER_WINDOW} calls about an account in {WINDOW_DAYS} days."
        )
        release = releases[len(releases) - CALLS_PER_WINDOW]
        findings.append(Finding(_reason(model.RuleCode.CALL_FREQUENCY_7_IN_7, message), release))
    return findings


def call_after_conversation(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny a call within 7 days of a conversation about the debt (REG_F_CALL_AFTER_CONVERSATION).

    12 CFR 1006.14(b)(2)(i)(B): the date of the conversation is day 1, whoever started
    it; a conversation about several debts counts for each, one listing none for every
    debt (deny when unsure). Day 8 is free however few hours have passed.
    """
    if not facts.attempt.channel.is_call:
        return []
    findings = []
    for debt_id in sorted(facts.attempt.debt_ids):
        if excluded_by_consent(facts, debt_id, at):
            continue
        talks = [
            (item.at, released)
            for item in facts.history
            if item.conversation
            and (not item.debt_ids or debt_id in item.debt_ids)
            and (released := call_released_at(item.at, facts.zones)) > at
        ]
        if not talks:
            continue
        talked_at, release = max(talks, key=lambda talk: talk[1])
        name = facts.debts[debt_id].name
        day = windows.local_date(talked_at, facts.zones[0])
        message = (
            f"We spoke with you by phone about account {name} on {day_text(day)}; we wait "
            f"{WINDOW_DAYS} days, counting that day, before calling about it again."
        )
        findings.append(Finding(_reason(model.RuleCode.CALL_AFTER_CONVERSATION, message), release))
    return findings


CHANNEL_WORDS = {
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
        message = f"You opted out of {CHANNEL_WORDS[channel]} from us."
    else:
        code = model.RuleCode.REFUSED_MEDIUM
        refused_word = CHANNEL_WORDS[channel if channel in refused else model.Channel.CALL]
        message = f"You asked us not to contact you by {refused_word}."
    return [Finding(_reason(code, message), None)]


def answers_consumer_contact(
    facts: Facts, channel: model.Channel, refused_at: dt.datetime | None
) -> bool:
    """Return whether a reply through a refused medium is the one allowed response.

    12 CFR 1006.14(h)(2)(ii): when the person initiates contact through the medium, the
    collector may respond once through it. The response must have purpose
    ``RESPONSE_TO_REQUEST``; the person's latest inbound contact through that medium
    (after the refusal, when its time is known) must have had no outbound reply through
    it yet.
    """
    if facts.attempt.purpose is not model.Purpose.RESPONSE_TO_REQUEST:
        return False
    same = [item for item in facts.history if medium(item.channel) is medium(channel)]
    inbound = [
        item.at
        for item in same
        if item.direction is model.Direction.INBOUND
        and (refused_at is None or item.at >= refused_at)
    ]
    if not inbound:
        return False
    latest = max(inbound)
    return not any(
        item.direction is model.Direction.OUTBOUND and item.at >= latest for item in same
    )


def refused_findings(
    facts: Facts, code_for: Callable[[model.RuleCode], model.RuleCode]
) -> list[Finding]:
    """Return the reasons a refused medium or an electronic opt-out denies the attempt.

    ``refused_channels`` and ``opted_out_channels`` have no known time; ``opt_outs``
    count from their ``at`` (those after ``now`` are ignored). ``call`` covers
    ``voicemail``. The one response of 1006.14(h)(2)(ii) passes.
    """
    channel = facts.attempt.channel
    consumer = facts.consumer
    findings = []
    untimed = consumer.refused_channels | consumer.opted_out_channels
    if (medium(channel) in untimed or channel in untimed) and not answers_consumer_contact(
        facts, channel, None
    ):
        refused = channel if channel in untimed else model.Channel.CALL
        if channel.is_electronic and refused not in consumer.refused_channels:
            code = model.RuleCode.ELECTRONIC_OPT_OUT
            message = f"You opted out of {CHANNEL_WORDS[channel]} from us."
        else:
            code = model.RuleCode.REFUSED_MEDIUM
            message = f"You asked us not to contact you by {CHANNEL_WORDS[refused]}."
        findings.append(Finding(_reason(code_for(code), message), None))
    if findings:
        return findings
    opted_at = [
        opt_out.at
        for opt_out in consumer.opt_outs
        if opt_out.at <= facts.now and medium(opt_out.channel) is medium(channel)
    ]
    if opted_at and not answers_consumer_contact(facts, channel, max(opted_at)):
        when = day_text(max(opted_at).date())
        if channel.is_electronic:
            code = model.RuleCode.ELECTRONIC_OPT_OUT
            message = f"You opted out of {CHANNEL_WORDS[channel]} from us on {when}."
        else:
            code = model.RuleCode.REFUSED_MEDIUM
            word = CHANNEL_WORDS[medium(channel)]
            message = f"You asked us on {when} not to contact you by {word}."
        findings.append(Finding(_reason(code_for(code), message), None))
    return findings


def refused_medium(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny a refused medium or opted-out channel, with the (h)(2)(ii) exception.

    REG_F_REFUSED_MEDIUM (12 CFR 1006.14(h)(1), (h)(2)) and REG_F_ELECTRONIC_OPT_OUT
    (12 CFR 1006.6(e); 1006.14(h)(1), (h)(2)(i)).
    """
    return refused_findings(facts, lambda code: code)


def cease_communication(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny everything after a cease request (REG_F_CEASE_COMMUNICATION)."""
    received_at = facts.consumer.cease_requested_at
    if received_at is None or received_at > facts.now:
        return []
    message = (
        f"You asked us on {day_text(received_at.date())} to stop contacting you, "
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
                f"You disputed account {debt.name} on {day_text(debt.dispute_received_at.date())}; "
                "we have paused collecting it until we send you our verification."
            )
            findings.append(Finding(_reason(model.RuleCode.DISPUTE_PAUSE, message), None))
    return findings


# The v0 rule set: what ``evaluate`` applies when no pack is named. It is the us-reg-f
# pack without the conversation wait and the refused-medium exception, which the
# strategy pre-filter (accord.strategy.contact_filter) does not apply yet (ADR 0019).
V0_RULES: tuple[Rule, ...] = (
    inconvenient_time,
    consumer_designated_time,
    call_frequency,
    refused_channel,
    cease_communication,
    dispute_pause,
)

US_REG_F_RULES: tuple[Rule, ...] = (
    inconvenient_time,
    consumer_designated_time,
    call_frequency,
    call_after_conversation,
    refused_medium,
    cease_communication,
    dispute_pause,
)
