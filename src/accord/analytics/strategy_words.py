"""Put a strategy into plain words: segment conditions, path steps and stop conditions.

The manager's strategy pages and the "why" panel read a :class:`definition.Strategy` through
these functions, so a segment reads "Stage is Pre-due or Early" rather than its YAML. The
words say what the engine does (docs/strategy.md); nothing here decides anything.
"""

from __future__ import annotations

import dataclasses
import decimal
import re
from collections.abc import Iterable

import yaml
from django.db.models import TextChoices

from accord.analytics import work_queue
from accord.domain import arrears
from accord.storage import models
from accord.strategy import definition

# What each stop condition holds an account for, as the path page lists them.
STOP_WORDS: dict[definition.StopCondition, str] = {
    definition.StopCondition.PAYMENT_RECEIVED: "a payment arrived in the last {days}",
    definition.StopCondition.PROMISE_OPEN: "a promise to pay is open",
    definition.StopCondition.PLAN_ACTIVE: "a repayment plan is active",
    definition.StopCondition.DISPUTE_OPEN: "a dispute is open on the account",
    definition.StopCondition.BREATHING_SPACE: "the customer is in breathing space",
    definition.StopCondition.CEASE_REQUESTED: "the customer asked us to stop contacting them",
    definition.StopCondition.VULNERABLE: "a vulnerability is on record",
}

# Yes/no conditions: the words when the condition is true and when it is false.
_FLAG_WORDS: dict[str, tuple[str, str]] = {
    "vulnerable": ("A vulnerability is on record", "No vulnerability on record"),
    "dispute_open": ("A dispute is open on the account", "No open dispute on the account"),
    "cease_requested": (
        "The customer asked us to stop contacting them",
        "The customer has not asked us to stop contact",
    ),
    "breathing_space": ("The customer is in breathing space", "Not in breathing space"),
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepWords:
    """Describe one step of a path as the version page shows it."""

    treatment: str
    label: str
    starts: str
    template: str
    channels: str
    cadence: str


def days(count: int) -> str:
    """Return ``1 day`` or ``N days``, with thousands separated."""
    return "1 day" if count == 1 else f"{count:,} days"


def either(words: Iterable[str], *, joiner: str = "or") -> str:
    """Join ``a``, ``a or b``, ``a, b or c``."""
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {joiner} {items[-1]}"


def _label(choices: type[TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _ordered(values: Iterable[str], order: Iterable[str]) -> list[str]:
    wanted = list(order)
    chosen = set(values)
    return [v for v in wanted if v in chosen] + sorted(chosen - set(wanted))


def _int_range(name: str, band: definition.IntRange, *, unit: str = "") -> str:
    if band.min is not None and band.max is not None:
        if band.min == band.max:
            return f"{name} is {band.min}{unit}"
        return f"{name} from {band.min} to {band.max}{unit}"
    if band.min is not None:
        return f"{name} at least {band.min}{unit}"
    return f"{name} at most {band.max}{unit}"


def _amount(value: decimal.Decimal) -> str:
    """Show an amount with digit grouping, and cents as two places (``5,000.50``)."""
    exponent = value.as_tuple().exponent
    places = max(-exponent, 2) if isinstance(exponent, int) and exponent < 0 else 0
    return f"{value:,.{places}f}"


def _money_band(name: str, band: definition.MoneyBand) -> str:
    suffix = " (in the account's currency)"
    if band.min is not None and band.max is not None:
        return (
            f"{name} from {_amount(band.min)} up to but not including {_amount(band.max)}{suffix}"
        )
    if band.min is not None:
        return f"{name} of {_amount(band.min)} or more{suffix}"
    assert band.max is not None
    return f"{name} below {_amount(band.max)}{suffix}"


def conditions(when: definition.Conditions, *, buckets: arrears.BucketScheme) -> list[str]:
    """Return one sentence per condition a segment sets; empty when it takes every account."""
    found: list[str] = []
    for name, value in when.given.items():
        if name == "stages":
            stages = _ordered(value, [s.value for s in arrears.DelinquencyStage])
            found.append(f"Stage is {either(work_queue.stage_label(s) for s in stages)}")
        elif name == "buckets":
            order = [bucket.code for bucket in buckets.buckets]
            labels = {bucket.code: bucket.label for bucket in buckets.buckets}
            shown = [
                f"{labels.get(code, code)} days" if code != "CURRENT" else "Current"
                for code in _ordered(value, order)
            ]
            found.append(f"Aging bucket is {either(shown)}")
        elif name == "dpd":
            found.append(_int_range("Days past due", value))
        elif name == "products":
            order = [p.value for p in models.ProductType]
            found.append(
                "Product is "
                + either(_label(models.ProductType, p) for p in _ordered(value, order))
            )
        elif name == "debtor_types":
            order = [d.value for d in models.DebtorType]
            found.append(
                "Debtor is "
                + either(_label(models.DebtorType, d).lower() for d in _ordered(value, order))
            )
        elif name == "currencies":
            found.append(f"Currency is {either(sorted(value))}")
        elif name == "balance":
            found.append(_money_band("Balance", value))
        elif name == "arrears":
            found.append(_money_band("Arrears", value))
        elif name == "risk":
            found.append(_int_range("Risk score", value, unit=" (of 100)"))
        elif name == "collectability":
            found.append(_int_range("Collectability score", value, unit=" (of 100)"))
        elif name in _FLAG_WORDS:
            yes, no = _FLAG_WORDS[name]
            found.append(yes if value else no)
        elif name == "preferred_channels":
            order = [c.value for c in definition.Channel]
            shown = [
                "no stated preference"
                if c == definition.NO_PREFERENCE
                else _label(models.Channel, c)
                for c in _ordered(value, [*order, definition.NO_PREFERENCE])
            ]
            found.append(f"Prefers {either(shown)}")
        elif name == "languages":
            found.append(f"Speaks {either(sorted(v.upper() for v in value))}")
        elif name == "regions":
            found.append(f"Region is {either(sorted(value))}")
        elif name == "countries":
            found.append(f"Country is {either(sorted(value))}")
        else:  # a condition added to the model later: say it as written
            found.append(f"{name.replace('_', ' ').capitalize()}: {value}")
    return found


def step(item: definition.Step) -> StepWords:
    """Return when a step starts, what it sends, on which channels and how often."""
    if item.days_before_due is not None:
        starts = (
            "On the due date"
            if item.days_before_due == 0
            else f"From {days(item.days_before_due)} before the due date"
        )
    else:
        assert item.from_dpd is not None
        starts = f"From {days(item.from_dpd)} past due"
    if item.contacts:
        channels = " then ".join(_label(models.Channel, c) for c in item.channels)
        cadence = f"At most every {days(item.every_days)}"
        if item.wait_days:
            cadence += f"; {days(item.wait_days)} after any contact"
    else:
        channels = "No message: flags the account for agents"
        cadence = ""
    return StepWords(
        treatment=item.treatment.value,
        label=_label(models.Treatment, item.treatment.value),
        starts=starts,
        template=item.template or "",
        channels=channels,
        cadence=cadence,
    )


def stops(path: definition.TreatmentPath, *, recent_payment_days: int) -> list[str]:
    """Return the stop conditions of a path in words, in their order."""
    return [
        STOP_WORDS[condition].format(days=days(recent_payment_days)) for condition in path.stop_when
    ]


_WHERE = re.compile(r"^[a-z_][\w-]*(?:\[\d+\])?(?:\.[\w-]+(?:\[\d+\])?)*")
_PART = re.compile(r"([\w-]+)|\[(\d+)\]")
_QUOTED = re.compile(r"'([^']+)'")
_YAML_LINE = re.compile(r"line (\d+)")


def problem_line(source: str, message: str) -> int | None:
    """Return the line of ``source`` a validation ``message`` points at (1-based), if found.

    Messages name a place such as ``segments[1].experiment.arms`` (docs/strategy.md);
    the YAML's own node marks turn it into a line. A YAML syntax error names its line.
    """
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        found = _YAML_LINE.search(message)
        return int(found[1]) if found else None
    if root is None:
        return None
    text = message.split(": ", 1)[1] if message.startswith("strategy: ") else message
    where = _WHERE.match(text)
    node: yaml.Node = root
    found_line: int | None = None
    for key, index in _PART.findall(where[0] if where else ""):
        child = _child(node, key=key or None, index=int(index) if index else None)
        if child is None:
            break
        # A key's own line reads better than where its block value starts.
        named = _child(node, key=key, index=None, key_node=True) if key else None
        node, found_line = child, (named or child).start_mark.line + 1
    # "paths: 'late' is not used" or "unknown key 'foo'": the quoted key, if it is there.
    for name in _QUOTED.findall(text[len(where[0]) if where else 0 :]):
        child = _child(node, key=name, index=None, key_node=True)
        if child is not None:
            return child.start_mark.line + 1
    return found_line


def _child(
    node: yaml.Node, *, key: str | None, index: int | None, key_node: bool = False
) -> yaml.Node | None:
    if index is not None and isinstance(node, yaml.SequenceNode):
        return node.value[index] if index < len(node.value) else None
    if key is not None and isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            if isinstance(name, yaml.ScalarNode) and name.value == key:
                return name if key_node else value
    return None
