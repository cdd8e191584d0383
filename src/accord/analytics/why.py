"""Answer "why did this account get this treatment on this day" in plain words.

Every decision the strategy run stores carries reason codes (docs/strategy.md): fixed codes
(:class:`definition.ReasonCode`), the stop conditions that held the account
(:class:`definition.StopCondition`), codes carrying a value after a prefix
(:class:`definition.ReasonPrefix`: ``STAGE_MID``, ``DPD_45``, ``DUE_IN_3``,
``ACCOUNT_CLOSED``) and the contact policy's rule IDs
(:class:`accord.domain.compliance.RuleCode`). :func:`reason_label` words one code;
:func:`explain` a decision's list. :func:`account_decisions` reads an account's recent
decisions with the segment, path, arm and step that the strategy version behind each one
describes, so the agent and manager pages and the API answer the same way.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import logging
import re
from collections.abc import Sequence

from django.db.models import F, OuterRef, Subquery, TextChoices, Window
from django.db.models.functions import RowNumber

from accord.analytics import strategy_words, work_queue
from accord.domain.arrears import DelinquencyStage
from accord.domain.compliance import OperatorRuleCode, RuleCode
from accord.storage import models
from accord.strategy import definition

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 30
MAX_LIMIT = 200

Code = definition.ReasonCode
Stop = definition.StopCondition

STAGE_REASON_LABELS: dict[str, str] = {
    DelinquencyStage.PRE_DUE: "Payment falls due soon",
    DelinquencyStage.CURRENT: "Up to date",
    DelinquencyStage.EARLY: "Early arrears",
    DelinquencyStage.MID: "Mid-stage arrears",
    DelinquencyStage.LATE: "Late-stage arrears",
    DelinquencyStage.RECOVERY: "Recovery stage",
}

POLICY_REASON_LABELS: dict[str, str] = {
    RuleCode.INCONVENIENT_TIME: "Outside 08:00-21:00 local time",
    RuleCode.CONSUMER_DESIGNATED_TIME: "Outside the customer's contact hours",
    RuleCode.CALL_FREQUENCY_7_IN_7: "Seven calls in seven days already",
    RuleCode.ELECTRONIC_OPT_OUT: "Opted out of this channel",
    RuleCode.REFUSED_MEDIUM: "Asked not to be contacted this way",
    RuleCode.CEASE_COMMUNICATION: "Asked us to stop contacting them",
    RuleCode.DISPUTE_PAUSE: "Debt under unverified dispute",
    RuleCode.CALL_AFTER_CONVERSATION: "Spoke by phone in the last seven days",
    RuleCode.EXCLUDED_CALLS: "Calls with consent or not connected: not counted",
    RuleCode.LIMITED_CONTENT_MESSAGE: "Limited-content voicemail only",
    RuleCode.MA_TELEPHONE_TWO_IN_SEVEN: "Two calls or texts in seven days already (Massachusetts)",
    RuleCode.UK_MORATORIUM_NO_CONTACT: "In breathing space: no collection contact",
    RuleCode.UK_BREATHING_SPACE_DURATION: "Breathing space runs until its recorded end",
    RuleCode.UK_MENTAL_HEALTH_CRISIS_MORATORIUM: "Mental health crisis breathing space",
    RuleCode.UK_CONTACT_TIMES_AND_REQUESTS: "Unreasonable time or against the customer's request",
    RuleCode.UK_VULNERABILITY: "Vulnerable customer: fair treatment required",
    OperatorRuleCode.WEEKLY_CONTACT_BUDGET: "Weekly contact budget used up",
    OperatorRuleCode.CHANNEL_MIN_GAP: "Too soon after the previous contact on this channel",
    OperatorRuleCode.QUIET_DAYS: "Sunday or public holiday: no contact",
    OperatorRuleCode.CUSTOMER_PREFERENCE: "Against the customer's own preferences",
    OperatorRuleCode.VULNERABILITY_TREATMENT: "Vulnerability on record: paused or limited",
}

# What the strategy's stop conditions mean when they hold an account (treatment NONE).
STOP_REASON_LABELS: dict[str, str] = {
    Stop.PAYMENT_RECEIVED: "A payment arrived recently: on hold",
    Stop.PROMISE_OPEN: "A promise to pay is open",
    Stop.PLAN_ACTIVE: "A repayment plan is active",
    Stop.DISPUTE_OPEN: "A dispute is open on the account: on hold",
    Stop.BREATHING_SPACE: "In breathing space: no collection contact",
    Stop.CEASE_REQUESTED: "The customer asked us to stop contact: on hold",
    Stop.VULNERABLE: "A vulnerability is on record: on hold",
}

REASON_LABELS: dict[str, str] = {
    **{f"STAGE_{stage}": label for stage, label in STAGE_REASON_LABELS.items()},
    **STOP_REASON_LABELS,
    Code.NO_SEGMENT: "No segment of the strategy takes this account: no treatment",
    Code.NO_STEP: "Its treatment path has no step for today: no treatment",
    Code.CADENCE_WAIT: "Same message sent recently, so not repeated yet",
    Code.STEP_WAIT: "Contacted recently: waiting before the next message",
    Code.NO_CONTACT_POINT: "No address or number for the channel",
    Code.ARM_PAUSED: "Its experiment arm is paused: following the champion's path",
    Code.POLICY_BLOCKED: "Blocked by the contact policy: nothing queued",
    Code.POLICY_DEFERRED: "Held until the contact policy allows it",
    **POLICY_REASON_LABELS,
}

_DAYS_PAST_DUE = re.compile(r"DPD_(\d+)")
_DUE_IN = re.compile(r"DUE_IN_(\d+)")


def reason_label(code: str) -> str:
    """Return the words an agent reads for a reason code, e.g. ``387 days past due``.

    A code Accord does not know is shown as written, its underscores turned to spaces.
    """
    if code in REASON_LABELS:
        return REASON_LABELS[code]
    if match := _DAYS_PAST_DUE.fullmatch(code):
        count = int(match[1])
        return "Not past due" if count == 0 else f"{strategy_words.days(count)} past due"
    if match := _DUE_IN.fullmatch(code):
        count = int(match[1])
        return {0: "Due today", 1: "Due tomorrow"}.get(
            count, f"Due in {strategy_words.days(count)}"
        )
    if code.startswith(definition.ReasonPrefix.ACCOUNT):
        status = _label(models.AccountStatus, code.removeprefix(definition.ReasonPrefix.ACCOUNT))
        return f"Account {status.lower()}: no treatment"
    if code.startswith(definition.ReasonPrefix.STAGE):
        stage = code.removeprefix(definition.ReasonPrefix.STAGE)
        return f"{work_queue.stage_label(stage)} stage"
    return code.replace("_", " ").capitalize()


def explain(reason_codes: Sequence[str]) -> list[str]:
    """Return one plain-English sentence per reason code, in the same order."""
    return [reason_label(str(code)) for code in reason_codes]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Explanation:
    """A reason code beside what it means."""

    code: str
    text: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class DecisionWhy:
    """One stored decision about an account with everything that explains it.

    ``segment_description``, ``path_description`` and ``step`` come from the strategy
    version the run used; they are empty when that version is not stored (a run of a file)
    or names no such segment or path. ``template`` and ``contact_status`` are those of the
    contact the decision queued, if any.
    """

    id: int
    run_id: int
    as_of_date: datetime.date
    strategy_version: str
    version_id: int | None
    days_past_due: int
    stage: str
    stage_label: str
    bucket: str
    segment: str
    segment_description: str
    path: str
    path_description: str
    experiment: str
    arm: str
    arm_paused: bool
    treatment: str
    treatment_label: str
    step: strategy_words.StepWords | None
    channel: str
    channel_label: str
    template: str
    contact_status: str
    contact_status_label: str
    risk_score: int | None
    collectability_score: int | None
    reasons: tuple[Explanation, ...]

    @property
    def explanations(self) -> list[str]:
        """Return the reasons in words, in the decision's order."""
        return [reason.text for reason in self.reasons]

    @property
    def summary(self) -> str:
        """Return one sentence: the segment, the arm and the treatment chosen."""
        if not self.segment:
            return f"{self.treatment_label}: no segment of the strategy took the account."
        placed = f"Segment {self.segment}"
        if self.experiment:
            placed += f", arm {self.arm} of experiment {self.experiment}"
        if self.path:
            placed += f", path {self.path}"
        outcome = self.treatment_label
        if self.channel_label:
            outcome += f" by {self.channel_label.lower() if self.channel != 'SMS' else 'SMS'}"
        return f"{placed}: {outcome}."


def _label(choices: type[TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@functools.lru_cache(maxsize=32)
def parsed_source(source: str) -> definition.Strategy | None:
    """Return the strategy a stored version's YAML describes (cached by its text)."""
    try:
        return definition.loads(source, source="stored strategy version")
    except definition.InvalidStrategy:
        logger.warning("A stored strategy version no longer reads as a strategy")
        return None


def _strategies(version_ids: set[int]) -> dict[int, definition.Strategy]:
    sources = models.StrategyVersion.objects.filter(pk__in=version_ids).values_list("pk", "source")
    parsed = {pk: parsed_source(source) for pk, source in sources}
    return {pk: strategy for pk, strategy in parsed.items() if strategy is not None}


@dataclasses.dataclass(frozen=True, kw_only=True)
class AccountNamed:
    """Name an account and its customer for a page heading."""

    id: int
    ref: str
    customer_id: int
    customer_name: str


def account_named(account_id: int) -> AccountNamed | None:
    """Return the account's reference and customer, or None when there is no such account."""
    row = (
        models.Account.objects.filter(pk=account_id)
        .values("external_ref", "customer_id", "customer__name")
        .first()
    )
    if row is None:
        return None
    return AccountNamed(
        id=account_id,
        ref=row["external_ref"],
        customer_id=row["customer_id"],
        customer_name=row["customer__name"],
    )


def account_decisions(account_id: int, *, limit: int = DEFAULT_LIMIT) -> list[DecisionWhy]:
    """Return the account's latest ``limit`` decisions, newest first, each explained."""
    return accounts_decisions([account_id], limit=limit).get(account_id, [])


def accounts_decisions(
    account_ids: Sequence[int], *, limit: int = DEFAULT_LIMIT
) -> dict[int, list[DecisionWhy]]:
    """Return each account's latest ``limit`` decisions, newest first, each explained.

    Two queries whatever the number of accounts: the decisions (numbered per account by a
    window function) with their run's version and their contact, then the sources of the
    strategy versions behind them, each parsed once (and cached by its text) to describe
    its segment, path and step.
    """
    if not account_ids:
        return {}
    limit = max(1, min(limit, MAX_LIMIT))
    contact = models.ContactAttempt.objects.filter(decision=OuterRef("pk")).order_by("pk")
    newest_first = [F("as_of_date").desc(), F("pk").desc()]
    rows = list(
        models.Decision.objects.filter(account_id__in=list(account_ids))
        .annotate(
            place=Window(RowNumber(), partition_by=[F("account_id")], order_by=newest_first),
            version_id=F("run__version_id"),
            contact_template=Subquery(contact.values("template")[:1]),
            contact_status=Subquery(contact.values("status")[:1]),
        )
        .filter(place__lte=limit)
        .order_by("account_id", *newest_first)
    )
    versions = {getattr(row, "version_id", None) for row in rows}
    strategies = _strategies({pk for pk in versions if pk is not None})
    found: dict[int, list[DecisionWhy]] = {}
    for row in rows:
        strategy = strategies.get(getattr(row, "version_id", None) or 0)
        found.setdefault(row.account_id, []).append(_explained(row, strategy))
    return found


def _step(
    path: definition.TreatmentPath, *, row: models.Decision, codes: Sequence[str]
) -> definition.Step | None:
    """Return the step the decision's treatment came from (the path's step rule again)."""
    if row.treatment == models.Treatment.NONE:
        return None
    due_in = next((int(m[1]) for c in codes if (m := _DUE_IN.fullmatch(c))), None)
    found = path.step_for(days_past_due=row.days_past_due, days_until_next_due=due_in)
    return found if found is not None and found.treatment == row.treatment else None


def _explained(row: models.Decision, strategy: definition.Strategy | None) -> DecisionWhy:
    version_id: int | None = getattr(row, "version_id", None)
    segment = (
        next((s for s in strategy.segments if s.name == row.segment), None) if strategy else None
    )
    path = strategy.paths.get(row.path) if strategy and row.path else None
    codes = [str(code) for code in row.reason_codes or []]
    found = _step(path, row=row, codes=codes) if path is not None else None
    step = strategy_words.step(found) if found is not None else None
    status = getattr(row, "contact_status", None) or ""
    return DecisionWhy(
        id=row.pk,
        run_id=row.run_id,
        as_of_date=row.as_of_date,
        strategy_version=row.strategy_version,
        version_id=version_id,
        days_past_due=row.days_past_due,
        stage=row.stage,
        stage_label=work_queue.stage_label(row.stage),
        bucket=row.bucket,
        segment=row.segment,
        segment_description=segment.description if segment else "",
        path=row.path,
        path_description=path.description if path else "",
        experiment=row.experiment,
        arm=row.arm,
        arm_paused=Code.ARM_PAUSED in codes,
        treatment=row.treatment,
        treatment_label=_label(models.Treatment, row.treatment),
        step=step,
        channel=row.channel,
        channel_label=_label(models.Channel, row.channel) if row.channel else "",
        template=getattr(row, "contact_template", None) or "",
        contact_status=status,
        contact_status_label=_label(models.ContactStatus, status) if status else "",
        risk_score=row.risk_score,
        collectability_score=row.collectability_score,
        reasons=tuple(Explanation(code=code, text=reason_label(code)) for code in codes),
    )
