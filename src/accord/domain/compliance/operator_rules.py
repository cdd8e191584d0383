"""Apply the operator's own contact rules and the customer's preferences (not law).

COMPLIANCE.md section 4: each setting is off unless configured, can only deny what the
law would allow, and gives reasons with an ``OP_...`` code (``CUSTOMER_PREFERENCE`` for
the customer's own choices) and the rule ``Accord operator policy: <setting>``. They
hold only the collection purposes (``model.COLLECTION_PURPOSES``): a validation notice
the law requires and a response the customer asked for are never held by them.
"""

from __future__ import annotations

import datetime as dt

from accord.domain.compliance import model, rules, windows
from accord.domain.compliance.rules import Facts, Finding


def _reason(code: model.OperatorRuleCode, setting: str, message: str) -> model.Reason:
    return model.Reason(
        code=code.value, rule=f"{model.OPERATOR_RULE_PREFIX}{setting}", message=message
    )


def _applies(facts: Facts) -> bool:
    return facts.attempt.purpose in model.COLLECTION_PURPOSES


def weekly_contact_budget(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny past the budget of outbound contacts per seven local days (OP_WEEKLY_CONTACT_BUDGET).

    Every outbound contact counts, whatever its channel, debt or outcome.
    """
    budget = facts.operator.weekly_contact_budget
    if budget is None or not _applies(facts):
        return []
    releases = sorted(
        released
        for item in facts.history
        if item.direction is model.Direction.OUTBOUND
        and (released := rules.call_released_at(item.at, facts.zones)) > at
    )
    if len(releases) < budget:
        return []
    message = (
        f"We have already contacted you {len(releases)} times in the last "
        f"{rules.WINDOW_DAYS} days; we contact you at most {budget} times a week."
    )
    release = releases[len(releases) - budget] if budget > 0 else None
    reason = _reason(model.OperatorRuleCode.WEEKLY_CONTACT_BUDGET, "weekly_contact_budget", message)
    return [Finding(reason, release)]


def channel_min_gap(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny a contact too soon after the latest one on its channel (OP_CHANNEL_MIN_GAP).

    A voicemail is a call; contacts that did not connect count too (rapid unanswered
    calls are what the gap guards against).
    """
    channel = rules.medium(facts.attempt.channel)
    gap = facts.operator.channel_min_gap.get(channel)
    if not gap or not _applies(facts):
        return []
    previous = [
        item.at
        for item in facts.history
        if item.direction is model.Direction.OUTBOUND and rules.medium(item.channel) is channel
    ]
    if not previous or max(previous) + gap <= at:
        return []
    release = max(previous) + gap
    minutes = int(gap.total_seconds() // 60)
    words = rules.CHANNEL_WORDS[channel]
    message = f"We leave at least {minutes} minutes between {words}; our latest was too recent."
    setting = f"channel_min_gap.{channel.value.lower()}"
    return [Finding(_reason(model.OperatorRuleCode.CHANNEL_MIN_GAP, setting, message), release)]


def _quiet_dates(facts: Facts) -> list[tuple[str, frozenset[dt.date]]]:
    quiet = facts.operator.quiet_days
    assert quiet is not None
    dates: frozenset[dt.date] = frozenset().union(
        *(quiet.holidays.get(pack, frozenset()) for pack in facts.policies)
    )
    return [(name, dates) for name in facts.zones]


def _is_quiet(day: dt.date, holidays: frozenset[dt.date], sundays: bool) -> bool:
    return (sundays and day.weekday() == 6) or day in holidays


def quiet_days(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny on a Sunday or public holiday in any candidate zone (OP_QUIET_DAYS).

    Holidays are the explicit dates the operator configured for each listed pack's
    jurisdiction; the release is the first local midnight that is quiet in no zone.
    """
    quiet = facts.operator.quiet_days
    if quiet is None or not _applies(facts):
        return []
    zone_dates = _quiet_dates(facts)
    hit = [
        (name, day)
        for name, holidays in zone_dates
        if _is_quiet(day := windows.local_date(at, name), holidays, quiet.sundays)
    ]
    if not hit:
        return []
    release = at
    for _ in range(400):
        moved = False
        for name, holidays in zone_dates:
            day = windows.local_date(release, name)
            if _is_quiet(day, holidays, quiet.sundays):
                release = windows.midnight(name, day + dt.timedelta(days=1))
                moved = True
        if not moved:
            break
    name, day = hit[0]
    kind = "a Sunday" if quiet.sundays and day.weekday() == 6 else "a public holiday"
    message = (
        f"It is {kind} ({day:%a} {rules.day_text(day)} in {name}); we do not contact you then."
    )
    return [Finding(_reason(model.OperatorRuleCode.QUIET_DAYS, "quiet_days", message), release)]


def customer_preference(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Deny what the customer's own preferences rule out (CUSTOMER_PREFERENCE).

    Preferred channels (``call`` covers voicemail), preferred hours (a local window) and
    a self-requested pause ``[start, end)``; a pause requested after ``now`` is ignored.
    """
    preferences = facts.consumer.preferences
    if preferences is None or not _applies(facts):
        return []
    code = model.OperatorRuleCode.CUSTOMER_PREFERENCE
    findings = []
    channel = facts.attempt.channel
    chosen = preferences.channels
    if chosen and channel not in chosen and rules.medium(channel) not in chosen:
        names = ", ".join(sorted(rules.CHANNEL_WORDS[c] for c in chosen))
        message = f"You asked us to contact you only by {names}."
        findings.append(Finding(_reason(code, "preferences.channels", message), None))
    if preferences.hours is not None:
        start, end = preferences.hours
        hours = rules.window_finding(
            facts,
            at,
            preferences.hours,
            model.RuleCode.CONSUMER_DESIGNATED_TIME,
            f"you prefer to hear from us between {rules.hhmm(start)} and {rules.hhmm(end)}",
        )
        for finding in hours:
            reason = _reason(code, "preferences.hours", finding.reason.message)
            findings.append(Finding(reason, finding.release))
    pause = preferences.pause
    if (
        pause is not None
        and pause.start <= facts.now
        and pause.start <= at
        and (pause.end is None or at < pause.end)
    ):
        until = "" if pause.end is None else f" until {rules.day_text(pause.end.date())}"
        message = f"You asked us to pause contacting you about your debts{until}."
        findings.append(Finding(_reason(code, "preferences.pause", message), pause.end))
    return findings


def _review_ends(facts: Facts, vulnerability: model.Vulnerability) -> dt.datetime | None:
    if vulnerability.review_date is None:
        return None
    day_after = vulnerability.review_date + dt.timedelta(days=1)
    return max(windows.midnight(name, day_after) for name in facts.zones)


def vulnerability_treatment(facts: Facts, at: dt.datetime) -> list[Finding]:
    """Apply the operator's treatment of a recorded vulnerability (OP_VULNERABILITY_TREATMENT).

    FCA CONC 7.2.1 R and FG21/1: a vulnerability recorded with consent, by ``now``, and
    not past its review date (at ``at``) gets its driver's treatment: a pause from
    ``recorded_at`` and a limit on channels.
    """
    if not _applies(facts):
        return []
    findings = []
    code = model.OperatorRuleCode.VULNERABILITY_TREATMENT
    for vulnerability in facts.consumer.vulnerabilities:
        treatment = facts.operator.vulnerability.get(vulnerability.driver)
        if treatment is None or not vulnerability.consent or vulnerability.recorded_at > facts.now:
            continue
        review_ends = _review_ends(facts, vulnerability)
        if review_ends is not None and at >= review_ends:
            continue
        setting = f"vulnerability.{vulnerability.driver.value.lower()}"
        words = vulnerability.driver.value.lower().replace("_", " ")
        pause_ends = vulnerability.recorded_at + treatment.pause
        if at < pause_ends:
            release = pause_ends if review_ends is None else min(pause_ends, review_ends)
            message = (
                f"After what you told us on {rules.day_text(vulnerability.recorded_at.date())} "
                f"({words}), we paused collection contact until "
                f"{rules.day_text(pause_ends.date())}."
            )
            if treatment.routing:
                message += " Our specialist team will look after your account."
            findings.append(Finding(_reason(code, setting, message), release))
        channel = facts.attempt.channel
        if (
            treatment.channels
            and channel not in treatment.channels
            and rules.medium(channel) not in treatment.channels
        ):
            names = ", ".join(sorted(rules.CHANNEL_WORDS[c] for c in treatment.channels))
            message = f"After what you told us ({words}), we contact you only by {names} for now."
            findings.append(Finding(_reason(code, setting, message), review_ends))
    return findings


OPERATOR_RULES: tuple[rules.Rule, ...] = (
    weekly_contact_budget,
    channel_min_gap,
    quiet_days,
    customer_preference,
    vulnerability_treatment,
)
