"""Keep strategy versions: save drafts, activate one, compare two.

A strategy version is the YAML its author wrote, stored as text (``StrategyVersion.source``)
with its ``name`` and ``version``; the export of a version is that text, unchanged. Exactly
one version is ACTIVE (a partial unique index holds it); activating another retires it in
the same transaction. When no version is active yet, :func:`active_version` stores the
built-in ``strategy/default.yaml`` as the first one, so a fresh installation runs it.

A draft is saved only when it is valid: :func:`accord.strategy.definition.loads` accepts it
and every message template a step uses renders for each of the step's written channels
(EMAIL, SMS, LETTER) in every language Accord has templates for (``en``, ``es``). Call
steps need no message template.

Exceptions::

    StrategyInvalid(message)       the YAML cannot be used; nothing was saved
    VersionExists(label)           a version with that name and version is stored already
    NotActivatable(reason)         the version cannot be made the active one
    └── VersionNotFound            there is no such version
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import enum
import functools
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction

from accord.audit import events, log
from accord.channels import templates
from accord.storage import models
from accord.strategy import definition

DEFAULT_ACTOR = "system:strategy"
SUBJECT = "strategy_version"


class StrategyInvalid(Exception):
    """The strategy's YAML cannot be saved; ``message`` names what is wrong and where."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class VersionExists(Exception):
    """A strategy version with this ``name@version`` label is stored already."""

    def __init__(self, label: str) -> None:
        super().__init__(
            f"{label} is stored already; change `version` to save these rules as a new version"
        )
        self.label = label


class NotActivatable(Exception):
    """The version cannot become the active one; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VersionNotFound(NotActivatable):
    """There is no strategy version with that id."""


# --- Validation ------------------------------------------------------------------------------

# Figures a collections message may name (docs/channels.md); validation renders each template
# with them so that a template that fails on real values fails here first.
_SAMPLE_CONTEXT: Mapping[str, Any] = {
    "customer_name": "Alex Example",
    "reference": "ACC-0001",
    "amount": "£120.00",
    "balance": "£480.00",
    "days_past_due": 45,
    "due_date": "12 March 2026",
    "total": "£480.00",
    "instalment_count": 4,
    "instalments": [{"number": 1, "amount": "£120.00", "due_date": "12 March 2026"}],
    "address_lines": ["1 High Street", "Springfield 01234"],
    "letter_date": "1 March 2026",
}


def validate(source: str) -> definition.Strategy:
    """Return the strategy ``source`` describes, or raise :class:`StrategyInvalid`.

    Checks the rules (:func:`accord.strategy.definition.loads`) and that every step's
    template renders for each of its written channels in every template language.
    """
    try:
        strategy = definition.loads(source, source="strategy")
    except definition.InvalidStrategy as error:
        raise StrategyInvalid(str(error)) from None
    for path in strategy.paths.values():
        for index, step in enumerate(path.steps):
            if step.template is None:
                continue
            for channel in step.channels:
                if channel not in definition.WRITTEN_CHANNELS:
                    continue  # a call task is read by an agent, not rendered
                for language in sorted(templates.available_languages()):
                    problem = _render_problem(step.template, channel.value, language)
                    if problem:
                        raise StrategyInvalid(
                            f"strategy: paths.{path.name}.steps[{index}] ({step.treatment}): "
                            f"{problem}"
                        )
    return strategy


def _render_problem(template: str, channel: str, language: str) -> str:
    """Return why ``template`` does not render for ``channel`` in ``language`` ("" when it does).

    A language that lacks the file would silently fall back to nothing, so the file must
    exist in that language's own folder.
    """
    name = f"{template}.{channel.lower()}.txt"
    if not (templates.TEMPLATE_DIR / language / name).is_file():
        return f"there is no {channel} message template {template!r} in {language!r} ({name})"
    try:
        templates.render(template, language, _SAMPLE_CONTEXT, channel=channel)
    except Exception as error:  # any failure makes the template unusable
        return f"the {channel} message template {template!r} in {language!r} fails: {error}"
    return ""


# --- Versions ------------------------------------------------------------------------------


def save_draft(
    *,
    source: str,
    note: str,
    based_on_id: int | None,
    actor: str,
    now: datetime.datetime,
) -> models.StrategyVersion:
    """Store ``source`` as a new DRAFT version, exactly as written.

    ``based_on_id`` names the version it was edited from (None for a new strategy).
    Raises :class:`StrategyInvalid` (including an unknown ``based_on_id``) and
    :class:`VersionExists`.
    """
    strategy = validate(source)
    with transaction.atomic():
        based_on = None
        if based_on_id is not None:
            based_on = models.StrategyVersion.objects.filter(pk=based_on_id).first()
            if based_on is None:
                raise StrategyInvalid(f"based_on: there is no strategy version {based_on_id}")
        return _store(
            strategy=strategy,
            source=source,
            note=note.strip(),
            based_on=based_on,
            actor=actor,
            now=now,
        )


def _store(
    *,
    strategy: definition.Strategy,
    source: str,
    note: str,
    based_on: models.StrategyVersion | None,
    actor: str,
    now: datetime.datetime,
    status: models.StrategyStatus = models.StrategyStatus.DRAFT,
) -> models.StrategyVersion:
    if models.StrategyVersion.objects.filter(name=strategy.name, version=strategy.version).exists():
        raise VersionExists(strategy.label)
    try:
        with transaction.atomic():
            version = models.StrategyVersion.objects.create(
                name=strategy.name,
                version=strategy.version,
                source=source,
                description=strategy.description,
                status=status,
                based_on=based_on,
                note=note,
                created_at=now,
                created_by=actor,
                activated_at=now if status == models.StrategyStatus.ACTIVE else None,
                activated_by=actor if status == models.StrategyStatus.ACTIVE else "",
            )
    except IntegrityError:
        # Saved by someone else between our check and our insert.
        raise VersionExists(strategy.label) from None
    log.record(
        actor=actor,
        event_type=events.EventType.STRATEGY_VERSION_SAVED,
        subject_type=SUBJECT,
        subject_id=version.pk,
        parameters={
            "label": version.label,
            "status": version.status,
            "based_on": based_on.label if based_on else None,
            "note": note,
        },
        now=now,
    )
    return version


def activate(*, version_id: int, actor: str, now: datetime.datetime) -> models.StrategyVersion:
    """Make version ``version_id`` the active one; the version it replaces is RETIRED.

    A DRAFT or a RETIRED version (to roll back) can be activated; its rules are checked
    again first. Raises :class:`VersionNotFound` and :class:`NotActivatable`.
    """
    with transaction.atomic():
        locked = _lock(version_id)
        version = locked.get(version_id)
        if version is None:
            raise VersionNotFound(f"there is no strategy version {version_id}")
        if version.status == models.StrategyStatus.ACTIVE:
            raise NotActivatable(f"{version.label} is already the active strategy version")
        try:
            validate(version.source)
        except StrategyInvalid as invalid:
            raise NotActivatable(f"{version.label} is no longer valid: {invalid.message}") from None
        previous = next(
            (v for v in locked.values() if v.status == models.StrategyStatus.ACTIVE), None
        )
        return _activate(version=version, previous=previous, actor=actor, now=now)


def _lock(version_id: int) -> dict[int, models.StrategyVersion]:
    """Lock ``version_id`` and the ACTIVE version (ids ascending); return them by id."""
    rows = (
        models.StrategyVersion.objects.select_for_update()
        .filter(pk__in=[version_id, *_active_ids()])
        .order_by("pk")
    )
    return {row.pk: row for row in rows}


def _active_ids() -> list[int]:
    return list(
        models.StrategyVersion.objects.filter(status=models.StrategyStatus.ACTIVE).values_list(
            "pk", flat=True
        )
    )


def _activate(
    *,
    version: models.StrategyVersion,
    previous: models.StrategyVersion | None,
    actor: str,
    now: datetime.datetime,
) -> models.StrategyVersion:
    try:
        with transaction.atomic():
            if previous is not None:
                # Retired first: the database allows one ACTIVE row at a time.
                previous.status = models.StrategyStatus.RETIRED
                previous.retired_at = now
                previous.save(update_fields=["status", "retired_at"])
            version.status = models.StrategyStatus.ACTIVE
            version.activated_at = now
            version.activated_by = actor
            version.retired_at = None
            version.save(update_fields=["status", "activated_at", "activated_by", "retired_at"])
    except IntegrityError:
        raise NotActivatable(
            "another strategy version was activated at the same moment; try again"
        ) from None
    log.record(
        actor=actor,
        event_type=events.EventType.STRATEGY_VERSION_ACTIVATED,
        subject_type=SUBJECT,
        subject_id=version.pk,
        parameters={
            "label": version.label,
            "replaced": previous.label if previous else None,
            "replaced_id": previous.pk if previous else None,
        },
        now=now,
    )
    return version


def active_version(*, now: datetime.datetime, actor: str = DEFAULT_ACTOR) -> models.StrategyVersion:
    """Return the ACTIVE strategy version.

    When none is active (a new installation), the built-in default strategy is stored and
    activated first (audited), or activated when it is stored already.
    """
    current = models.StrategyVersion.objects.filter(status=models.StrategyStatus.ACTIVE).first()
    if current is not None:
        return current
    source = definition.default_source()
    strategy = definition.loads(source, source=str(definition.DEFAULT_PATH))
    try:
        with transaction.atomic():
            stored = models.StrategyVersion.objects.filter(
                name=strategy.name, version=strategy.version
            ).first()
            if stored is None:
                return _store(
                    strategy=strategy,
                    source=source,
                    note="The built-in default strategy, stored when no version was active.",
                    based_on=None,
                    actor=actor,
                    now=now,
                    status=models.StrategyStatus.ACTIVE,
                )
            locked = _lock(stored.pk)
            if any(v.status == models.StrategyStatus.ACTIVE for v in locked.values()):
                raise _Raced
            return _activate(version=locked[stored.pk], previous=None, actor=actor, now=now)
    except (VersionExists, NotActivatable, _Raced):
        # Another process stored or activated a version at the same moment: use it.
        return models.StrategyVersion.objects.get(status=models.StrategyStatus.ACTIVE)


class _Raced(Exception):
    """Another process activated a version while we looked."""


def parsed(version: models.StrategyVersion) -> definition.Strategy:
    """Return the strategy a stored version describes."""
    return _parse(version.source, version.label)


@functools.lru_cache(maxsize=32)
def _parse(source: str, label: str) -> definition.Strategy:
    return definition.loads(source, source=label)


def export(version: models.StrategyVersion) -> str:
    """Return the YAML of ``version``, exactly as it was saved."""
    return version.source


def find(label_or_id: str) -> models.StrategyVersion | None:
    """Return the version labelled ``name@version`` (or with that id), or None."""
    name, at, number = label_or_id.partition("@")
    if at:
        return models.StrategyVersion.objects.filter(name=name, version=number).first()
    if label_or_id.isdigit():
        return models.StrategyVersion.objects.filter(pk=int(label_or_id)).first()
    return None


# --- Differences ---------------------------------------------------------------------------


class DiffKind(enum.StrEnum):
    """Say what a line of a unified diff is."""

    HUNK = "hunk"
    ADD = "add"
    REMOVE = "remove"
    CONTEXT = "context"


@dataclasses.dataclass(frozen=True, kw_only=True)
class DiffLine:
    """Hold one line of a unified diff of two versions' YAML (without its +/-/space mark)."""

    kind: DiffKind
    text: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class StrategyDiff:
    """Hold how two versions differ: the YAML, line by line, and in plain English."""

    old_label: str
    new_label: str
    lines: list[DiffLine]
    changes: list[str]


def diff(*, old: models.StrategyVersion, new: models.StrategyVersion) -> StrategyDiff:
    """Compare ``old`` with ``new``: a unified diff of their YAML and a summary of changes."""
    return StrategyDiff(
        old_label=old.label,
        new_label=new.label,
        lines=diff_lines(old.source, new.source),
        changes=describe_changes(parsed(old), parsed(new)),
    )


def diff_lines(old: str, new: str, *, context: int = 3) -> list[DiffLine]:
    """Return the unified diff of two texts as typed lines (no file headers)."""
    lines: list[DiffLine] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=context):
        if line.startswith(("---", "+++")) and not lines:
            continue  # the two file headers
        if line.startswith("@@"):
            lines.append(DiffLine(kind=DiffKind.HUNK, text=line))
        elif line.startswith("+"):
            lines.append(DiffLine(kind=DiffKind.ADD, text=line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine(kind=DiffKind.REMOVE, text=line[1:]))
        else:
            lines.append(DiffLine(kind=DiffKind.CONTEXT, text=line[1:]))
    return lines


def describe_changes(old: definition.Strategy, new: definition.Strategy) -> list[str]:
    """Return, in plain English, what changed from ``old`` to ``new``.

    Covers the settings, segments (added, removed, reordered, their conditions, path and
    experiment), paths (added, removed, stop conditions) and steps (added, removed, when
    they start, template, channels, cadence).
    """
    changes: list[str] = []
    if old.name != new.name:
        changes.append(f"Strategy renamed from {old.name} to {new.name}.")
    if old.description != new.description:
        changes.append("Description changed.")
    changes.extend(_setting_changes(old, new))
    changes.extend(_segment_changes(old, new))
    changes.extend(_path_changes(old, new))
    return changes


def _setting_changes(old: definition.Strategy, new: definition.Strategy) -> Iterable[str]:
    if old.thresholds != new.thresholds:
        before, after = dataclasses.asdict(old.thresholds), dataclasses.asdict(new.thresholds)
        for key in before:
            if before[key] != after[key]:
                yield f"Stage threshold {key} changed from {before[key]} to {after[key]}."
    old_edges = [b.code for b in old.buckets.buckets]
    new_edges = [b.code for b in new.buckets.buckets]
    if old_edges != new_edges:
        yield f"Aging buckets changed from {', '.join(old_edges)} to {', '.join(new_edges)}."
    for key, label in (
        ("plan_grace_days", "Plan grace days"),
        ("recent_payment_days", "Recent-payment days"),
    ):
        if getattr(old, key) != getattr(new, key):
            yield f"{label} changed from {getattr(old, key)} to {getattr(new, key)}."


def _show(value: Any) -> str:
    if isinstance(value, frozenset | set):
        return ", ".join(sorted(str(item) for item in value))
    if isinstance(value, definition.IntRange | definition.MoneyBand):
        low = "" if value.min is None else str(value.min)
        high = "" if value.max is None else str(value.max)
        return f"{low or 'any'} to {high or 'any'}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _segment_changes(old: definition.Strategy, new: definition.Strategy) -> Iterable[str]:
    before = {s.name: s for s in old.segments}
    after = {s.name: s for s in new.segments}
    for name in after:
        if name not in before:
            yield f"Segment {name} added (path {after[name].path})."
    for name in before:
        if name not in after:
            yield f"Segment {name} removed."
    common_old = [n for n in before if n in after]
    common_new = [n for n in after if n in before]
    if common_old != common_new:
        yield f"Segments reordered: {', '.join(common_new)} (was {', '.join(common_old)})."
    for name in common_new:
        was, now = before[name], after[name]
        old_given, new_given = was.when.given, now.when.given
        for key in new_given:
            if key not in old_given:
                yield f"Segment {name}: condition {key} added ({_show(new_given[key])})."
            elif old_given[key] != new_given[key]:
                yield (
                    f"Segment {name}: condition {key} changed to {_show(new_given[key])} "
                    f"(was {_show(old_given[key])})."
                )
        for key in old_given:
            if key not in new_given:
                yield f"Segment {name}: condition {key} removed."
        if was.path != now.path:
            yield f"Segment {name}: path changed from {was.path} to {now.path}."
        yield from _experiment_changes(name, was.experiment, now.experiment)


def _arms(experiment: definition.Experiment) -> str:
    return ", ".join(f"{arm.name} {arm.percent}% ({arm.path})" for arm in experiment.arms)


def _experiment_changes(
    segment: str,
    was: definition.Experiment | None,
    now: definition.Experiment | None,
) -> Iterable[str]:
    if was is None and now is not None:
        yield f"Segment {segment}: experiment {now.name} added: {_arms(now)}."
    elif was is not None and now is None:
        yield f"Segment {segment}: experiment {was.name} removed."
    elif was is not None and now is not None:
        if was.name != now.name:
            yield f"Segment {segment}: experiment renamed from {was.name} to {now.name}."
        if was.arms != now.arms:
            yield (
                f"Segment {segment}: experiment {now.name} arms changed to {_arms(now)} "
                f"(was {_arms(was)})."
            )
        if was.guardrails != now.guardrails:
            yield f"Segment {segment}: experiment {now.name} guardrails changed."


def _path_changes(old: definition.Strategy, new: definition.Strategy) -> Iterable[str]:
    for name in new.paths:
        if name not in old.paths:
            yield f"Path {name} added ({len(new.paths[name].steps)} steps)."
    for name in old.paths:
        if name not in new.paths:
            yield f"Path {name} removed."
    for name, path in new.paths.items():
        was = old.paths.get(name)
        if was is None:
            continue
        if was.stop_when != path.stop_when:
            yield (
                f"Path {name}: stops when {', '.join(path.stop_when) or 'never'} "
                f"(was {', '.join(was.stop_when) or 'never'})."
            )
        yield from _step_changes(name, was.steps, path.steps)


def _step_key(steps: tuple[definition.Step, ...]) -> dict[tuple[str, int], definition.Step]:
    """Key steps by treatment and occurrence (a path may repeat a treatment)."""
    seen: dict[str, int] = {}
    keyed: dict[tuple[str, int], definition.Step] = {}
    for step in steps:
        occurrence = seen.get(step.treatment, 0)
        seen[step.treatment] = occurrence + 1
        keyed[(step.treatment.value, occurrence)] = step
    return keyed


def _starts(step: definition.Step) -> str:
    if step.days_before_due is not None:
        return f"{step.days_before_due} days before due"
    return f"{step.from_dpd} days past due"


def _step_changes(
    path: str, old: tuple[definition.Step, ...], new: tuple[definition.Step, ...]
) -> Iterable[str]:
    before, after = _step_key(old), _step_key(new)
    for key, step in after.items():
        if key not in before:
            yield f"Path {path}: step {step.treatment} added ({_starts(step)})."
    for key, step in before.items():
        if key not in after:
            yield f"Path {path}: step {step.treatment} removed."
    for key, step in after.items():
        was = before.get(key)
        if was is None or was == step:
            continue
        where = f"Path {path}: step {step.treatment}"
        if _starts(was) != _starts(step):
            yield f"{where} now starts {_starts(step)} (was {_starts(was)})."
        if was.template != step.template:
            yield f"{where} uses template {step.template} (was {was.template})."
        if was.channels != step.channels:
            yield (f"{where} channels {', '.join(step.channels)} (was {', '.join(was.channels)}).")
        if was.every_days != step.every_days:
            yield f"{where} repeats every {step.every_days} days (was {was.every_days})."
        if was.wait_days != step.wait_days:
            yield f"{where} waits {step.wait_days} days after any contact (was {was.wait_days})."
