"""Compose policy packs and operator settings into one decision.

``evaluate`` applies every rule of every listed pack, and the operator's rules, at
``now``; it never stops at the first failure (COMPLIANCE.md principle 1). Each rule
gives a release with every reason; the engine jumps to the latest release and checks
again until every rule passes, which gives ``next_allowed_at`` (principle 2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from accord.domain.compliance import model, operator_rules, packs, rules, windows
from accord.domain.compliance.rules import Facts, Finding, Rule

_MAX_STEPS = 1000

Plan = tuple[tuple[Facts, tuple[Rule, ...]], ...]


def _plan(
    *,
    consumer: model.Consumer,
    debts: Sequence[model.Debt],
    history: Sequence[model.HistoryItem],
    attempt: model.Attempt,
    now: dt.datetime,
    policies: Sequence[model.PolicyPack] | None,
    operator: model.OperatorSettings,
) -> Plan:
    if now.tzinfo is None or now.utcoffset() is None:
        raise model.NaiveDatetimeError("now")
    by_id = {debt.id: debt for debt in debts}
    unknown = sorted(attempt.debt_ids - by_id.keys())
    if unknown:
        raise ValueError(f"the attempt names debts that are not in debts: {', '.join(unknown)}")
    now = now.astimezone(windows.UTC)
    listed = tuple(dict.fromkeys(model.PolicyPack(pack) for pack in policies or ()))

    def facts(zones: tuple[str, ...]) -> Facts:
        return Facts(
            consumer=consumer,
            debts=by_id,
            history=tuple(item for item in history if item.at <= now),
            attempt=attempt,
            now=now,
            zones=consumer.time_zones or zones,
            until=now + windows.HORIZON,
            policies=listed or (model.PolicyPack.US_REG_F,),
            operator=operator,
        )

    if policies is None:
        plan = [(facts(rules.DEFAULT_TIME_ZONES), rules.V0_RULES)]
    else:
        plan = [(facts(packs.PACK_ZONES[pack]), packs.PACK_RULES[pack]) for pack in listed]
    if operator != model.NO_OPERATOR_SETTINGS or consumer.preferences is not None:
        territory = tuple(
            dict.fromkeys(
                name
                for pack in listed or (model.PolicyPack.US_REG_F,)
                for name in packs.PACK_ZONES[pack]
            )
        )
        plan.append((facts(territory), operator_rules.OPERATOR_RULES))
    return tuple(plan)


def _findings(plan: Plan, at: dt.datetime) -> list[Finding]:
    return [finding for facts, rule_set in plan for rule in rule_set for finding in rule(facts, at)]


def evaluate(
    *,
    consumer: model.Consumer,
    debts: Sequence[model.Debt],
    history: Sequence[model.HistoryItem],
    attempt: model.Attempt,
    now: dt.datetime,
    policies: Sequence[model.PolicyPack] | None = None,
    operator: model.OperatorSettings = model.NO_OPERATOR_SETTINGS,
) -> model.Decision:
    """Decide whether the attempt may be made at ``now``, with every reason that applies.

    ``policies`` lists the packs to apply, in the order their reasons are given; None
    applies the v0 rule set (``rules.V0_RULES``) that the strategy pre-filter mirrors.
    ``operator`` adds the operator's settings; the customer's ``preferences`` apply
    whenever given. Raises ``NaiveDatetimeError`` when ``now`` is naive and
    ``ValueError`` when the attempt names a debt missing from ``debts``.
    """
    plan = _plan(
        consumer=consumer,
        debts=debts,
        history=history,
        attempt=attempt,
        now=now,
        policies=policies,
        operator=operator,
    )
    start = now.astimezone(windows.UTC)
    findings = _findings(plan, start)
    if not findings:
        return model.Decision(allowed=True, reasons=(), next_allowed_at=None)
    reasons = tuple(finding.reason for finding in findings)
    return model.Decision(
        allowed=False,
        reasons=reasons,
        next_allowed_at=_next_allowed_at(plan, findings, until=start + windows.HORIZON),
    )


def _next_allowed_at(
    plan: Plan, findings: list[Finding], *, until: dt.datetime
) -> dt.datetime | None:
    # Each release is the earliest instant its rule passes, so jumping to the latest
    # release never skips an allowed instant; stop when every rule passes.
    for _ in range(_MAX_STEPS):
        releases = [finding.release for finding in findings]
        if any(release is None for release in releases):
            return None
        at = max(release for release in releases if release is not None)
        if at > until:
            return None
        findings = _findings(plan, at)
        if not findings:
            return at
    return None
