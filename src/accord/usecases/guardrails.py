"""Pause challenger arms that harm customers more than their champion; pause and resume by hand.

The customer-harm guardrails (ADR 0017, docs/metrics.md "Experiments"): for every experiment
of a strategy, each challenger arm is compared with the champion over the latest
:data:`WINDOW_DAYS` days of decisions. Once both arms have at least
``guardrails.min_accounts`` accounts, a challenger whose opt-outs, complaints, disputes or
broken promises per 1,000 accounts exceed the champion's by more than the experiment's
threshold is paused: its accounts follow the champion's path (reason ``ARM_PAUSED``) until a
manager resumes it. Every pause and resume is audited with its reason and figures.

A strategy run calls :func:`check_guardrails` before it extracts the book, so a pause takes
effect on that very run. The check reads the experiment assignments
(``accord.storage.experiment_assignments``, folded after every run and caught up here), not
28 days of decisions: on a million accounts it takes milliseconds, not seconds.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accord.audit import events, log
from accord.storage import experiment_assignments, experiment_harm, models
from accord.strategy import definition

logger = logging.getLogger(__name__)

# How many days of decisions, ending on the day of the check, the guardrails look at.
WINDOW_DAYS = 28
GUARDRAILS_ACTOR = "system:guardrails"


class ArmAlreadyPaused(Exception):
    """The arm already has an open pause."""


class ArmNotPaused(Exception):
    """The arm has no open pause to resume."""


class UnknownArm(Exception):
    """The strategy has no such experiment, or the experiment no such arm."""


class ChampionNotPausable(Exception):
    """The champion is what paused arms fall back to; it cannot itself be paused."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Breach:
    """Hold one measure on which a challenger exceeded its champion by more than allowed."""

    measure: experiment_harm.Measure
    challenger_rate: Decimal
    champion_rate: Decimal
    threshold: Decimal

    @property
    def excess(self) -> Decimal:
        """Return how far the challenger's rate is above the champion's."""
        return self.challenger_rate - self.champion_rate


def window(*, now: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    """Return the guardrail window ending on ``now``'s local date, both days included."""
    end = timezone.localdate(now)
    return end - datetime.timedelta(days=WINDOW_DAYS - 1), end


def breaches(
    *,
    guardrails: definition.Guardrails,
    champion: experiment_harm.ArmHarm,
    challenger: experiment_harm.ArmHarm,
) -> list[Breach]:
    """Return the measures on which ``challenger`` exceeds ``champion`` by more than allowed.

    Nothing is a breach until both arms have ``guardrails.min_accounts`` accounts.
    """
    if min(champion.accounts, challenger.accounts) < guardrails.min_accounts:
        return []
    found = []
    for name, threshold in guardrails.thresholds.items():
        measure = experiment_harm.Measure(name)
        ours, theirs = challenger.rate(measure), champion.rate(measure)
        if ours is None or theirs is None:
            continue
        if ours - theirs > threshold:
            found.append(
                Breach(
                    measure=measure,
                    challenger_rate=ours,
                    champion_rate=theirs,
                    threshold=threshold,
                )
            )
    return found


def _per_thousand(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'))}"


def _reason(*, breaches: list[Breach], champion: str, challenger: str) -> str:
    parts = [
        f"{b.measure.label} {_per_thousand(b.challenger_rate)} per 1,000 accounts against "
        f"{_per_thousand(b.champion_rate)} for the champion {champion}, more than "
        f"{b.threshold} above it"
        for b in breaches
    ]
    return f"Guardrail: {challenger} had " + "; ".join(parts) + "."


def _metrics(
    *,
    start: datetime.date,
    end: datetime.date,
    guardrails: definition.Guardrails,
    champion: experiment_harm.ArmHarm,
    challenger: experiment_harm.ArmHarm,
    breaches: list[Breach],
) -> dict[str, Any]:
    def arm(harm: experiment_harm.ArmHarm) -> dict[str, Any]:
        return {
            "arm": harm.arm,
            "accounts": harm.accounts,
            "events": {measure.value: harm.events[measure] for measure in experiment_harm.Measure},
            "per_1000": {
                measure.value: str(harm.rate(measure)) for measure in experiment_harm.Measure
            },
        }

    return {
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "min_accounts": guardrails.min_accounts,
        "thresholds": {name: str(value) for name, value in guardrails.thresholds.items()},
        "breached": [b.measure.value for b in breaches],
        "champion": arm(champion),
        "challenger": arm(challenger),
    }


def _latest_resumes() -> dict[tuple[str, str], datetime.datetime]:
    latest: dict[tuple[str, str], datetime.datetime] = {}
    rows = models.ExperimentArmPause.objects.filter(resumed_at__isnull=False).values_list(
        "experiment", "arm", "resumed_at"
    )
    for experiment, arm, resumed_at in rows:
        key = (experiment, arm)
        if resumed_at is not None and (key not in latest or resumed_at > latest[key]):
            latest[key] = resumed_at
    return latest


def _is_paused(*, experiment: str, arm: str) -> bool:
    return models.ExperimentArmPause.objects.filter(
        experiment=experiment, arm=arm, resumed_at__isnull=True
    ).exists()


def _create_pause(
    *,
    experiment: str,
    arm: str,
    reason: str,
    metrics: dict[str, Any],
    actor: str,
    now: datetime.datetime,
) -> models.ExperimentArmPause:
    pause = models.ExperimentArmPause.objects.create(
        experiment=experiment,
        arm=arm,
        paused_at=now,
        paused_by=actor,
        reason=reason,
        metrics=metrics,
    )
    log.record(
        actor=actor,
        event_type=events.EventType.EXPERIMENT_ARM_PAUSED,
        subject_type="experiment",
        subject_id=experiment,
        parameters={"arm": arm, "pause_id": pause.pk, "reason": reason, "metrics": metrics},
        now=now,
    )
    return pause


def check_guardrails(
    *,
    strategy: definition.Strategy,
    now: datetime.datetime,
    actor: str = GUARDRAILS_ACTOR,
) -> list[models.ExperimentArmPause]:
    """Pause every challenger of ``strategy`` whose harm rates exceed its champion's.

    Looks at the :data:`WINDOW_DAYS` days of decisions ending on ``now``'s local date, or
    for an arm a manager resumed, at the days after the resume only.
    An arm that is already paused is left alone, so calling this twice pauses nothing
    twice. Returns the pauses made now (audited ``EXPERIMENT_ARM_PAUSED``). Raises nothing
    of its own.
    """
    earliest, end = window(now=now)
    with transaction.atomic():
        # Nothing to do unless the fold after the latest run failed or did not happen.
        experiment_assignments.catch_up()
    resumed = _latest_resumes()
    paused = set(
        models.ExperimentArmPause.objects.filter(resumed_at__isnull=True).values_list(
            "experiment", "arm"
        )
    )
    planned: list[tuple[str, str, str, dict[str, Any]]] = []
    for experiment in strategy.experiments:
        by_start: dict[datetime.date, dict[str, experiment_harm.ArmHarm]] = {}
        for arm in experiment.challengers:
            if (experiment.name, arm.name) in paused:
                continue
            # A manager's resume gives the arm a fresh look: only later days count.
            resumed_at = resumed.get((experiment.name, arm.name))
            start = earliest
            if resumed_at is not None:
                start = max(start, timezone.localdate(resumed_at) + datetime.timedelta(days=1))
            if start > end:
                continue
            if start not in by_start:
                by_start[start] = experiment_harm.recent_harm_by_arm(
                    experiment=experiment.name, start=start, end=end
                )
            champion = by_start[start].get(experiment.champion.name)
            challenger = by_start[start].get(arm.name)
            if champion is None or challenger is None:
                continue
            found = breaches(
                guardrails=experiment.guardrails, champion=champion, challenger=challenger
            )
            if not found:
                continue
            reason = _reason(breaches=found, champion=champion.arm, challenger=arm.name)
            metrics = _metrics(
                start=start,
                end=end,
                guardrails=experiment.guardrails,
                champion=champion,
                challenger=challenger,
                breaches=found,
            )
            planned.append((experiment.name, arm.name, reason, metrics))
    pauses: list[models.ExperimentArmPause] = []
    if not planned:
        return pauses
    with transaction.atomic():
        for experiment_name, arm_name, reason, metrics in planned:
            if _is_paused(experiment=experiment_name, arm=arm_name):
                continue
            pauses.append(
                _create_pause(
                    experiment=experiment_name,
                    arm=arm_name,
                    reason=reason,
                    metrics=metrics,
                    actor=actor,
                    now=now,
                )
            )
            logger.warning("Guardrail paused arm %s of experiment %s", arm_name, experiment_name)
    return pauses


def _check_arm(*, strategy: definition.Strategy | None, experiment: str, arm: str) -> None:
    if strategy is None:
        return
    found = next((e for e in strategy.experiments if e.name == experiment), None)
    if found is None or arm not in {a.name for a in found.arms}:
        raise UnknownArm(f"{strategy.label} has no arm {arm!r} in an experiment {experiment!r}")
    if arm == found.champion.name:
        raise ChampionNotPausable(f"{arm} is the champion of {experiment}; it cannot be paused")


def pause_arm(
    *,
    experiment: str,
    arm: str,
    reason: str,
    actor: str,
    now: datetime.datetime,
    strategy: definition.Strategy | None = None,
) -> models.ExperimentArmPause:
    """Pause a challenger arm by hand: its accounts follow the champion's path from the next run.

    With ``strategy``, the arm is checked against it first. Raises ``UnknownArm``,
    ``ChampionNotPausable`` and ``ArmAlreadyPaused``.
    """
    _check_arm(strategy=strategy, experiment=experiment, arm=arm)
    text = reason.strip() or "Paused by a manager."
    with transaction.atomic():
        if _is_paused(experiment=experiment, arm=arm):
            raise ArmAlreadyPaused(f"{experiment}/{arm} is already paused")
        return _create_pause(
            experiment=experiment, arm=arm, reason=text, metrics={}, actor=actor, now=now
        )


def resume_arm(
    *, experiment: str, arm: str, actor: str, now: datetime.datetime
) -> models.ExperimentArmPause:
    """Resume a paused arm: its accounts follow its own path again from the next run.

    Raises ``ArmNotPaused``.
    """
    with transaction.atomic():
        pause = (
            models.ExperimentArmPause.objects.select_for_update()
            .filter(experiment=experiment, arm=arm, resumed_at__isnull=True)
            .first()
        )
        if pause is None:
            raise ArmNotPaused(f"{experiment}/{arm} is not paused")
        pause.resumed_at = now
        pause.resumed_by = actor
        pause.save(update_fields=["resumed_at", "resumed_by"])
        log.record(
            actor=actor,
            event_type=events.EventType.EXPERIMENT_ARM_RESUMED,
            subject_type="experiment",
            subject_id=experiment,
            parameters={"arm": arm, "pause_id": pause.pk, "paused_at": pause.paused_at.isoformat()},
            now=now,
        )
    return pause
