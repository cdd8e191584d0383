"""Check a proposed contact against the contact policy, with facts read from the database.

``check_contact`` reads the customer's time zones and contact hours, dated channel
opt-outs, cease requests, disputes on the accounts, breathing spaces, vulnerabilities
and recent contact attempts (with their conversations), turns them into the pure inputs
of ``accord.domain.compliance`` and returns its decision under the policy packs of
``ACCORD_CONTACT_POLICIES`` and the operator settings of ``ACCORD_OPERATOR_POLICY_FILE``
(``configured_policy``; ADR 0023). It writes nothing. A caller that is about to place
a call or send a message re-checks and records the attempt in one transaction after
``lock_customer``, so concurrent dialers and dispatchers cannot exceed a cap together.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import zoneinfo
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce

from accord.domain import compliance
from accord.domain.compliance import checkfile
from accord.storage import models
from accord.strategy import definition
from accord.usecases import preferences

# Calls older than this cannot be in any seven-local-date window, whatever the zones.
HISTORY_DAYS = 9

# Contact attempts that happened or may be happening; planned, failed, blocked and
# cancelled ones were never made. One definition, shared with the strategy run's count.
COUNTED_STATUSES = definition.COUNTED_STATUSES


# Breathing space is recorded in dates of England and Wales (SI 2020/1311): it runs from
# the local midnight its first day starts to the one after its last day.
BREATHING_SPACE_ZONE = zoneinfo.ZoneInfo("Europe/London")

MORATORIUM_KINDS = {
    models.BreathingSpaceKind.STANDARD: compliance.MoratoriumKind.STANDARD,
    models.BreathingSpaceKind.MENTAL_HEALTH_CRISIS: compliance.MoratoriumKind.MENTAL_HEALTH_CRISIS,
}

# The stored categories are FCA FG21/1's four drivers of vulnerability.
VULNERABILITY_DRIVERS = {
    models.VulnerabilityCategory.HEALTH: compliance.VulnerabilityDriver.HEALTH,
    models.VulnerabilityCategory.LIFE_EVENT: compliance.VulnerabilityDriver.LIFE_EVENTS,
    models.VulnerabilityCategory.RESILIENCE: compliance.VulnerabilityDriver.RESILIENCE,
    models.VulnerabilityCategory.CAPABILITY: compliance.VulnerabilityDriver.CAPABILITY,
}


class PolicyConfigurationError(Exception):
    """The configured policy packs or operator settings cannot be used."""


@dataclasses.dataclass(frozen=True, slots=True)
class PolicyConfiguration:
    """Hold what the live checks apply: the policy packs and the operator's settings."""

    policies: tuple[compliance.PolicyPack, ...]
    operator: compliance.OperatorSettings


def configured_policy() -> PolicyConfiguration:
    """Return the packs of ``ACCORD_CONTACT_POLICIES`` and the operator settings file's rules.

    The file is read once per path (restart to change it). Raises
    ``PolicyConfigurationError`` naming the file and the JSON path of the first bad field.
    """
    env = settings.ENV
    return _load_policy(tuple(env.contact_policies), env.operator_policy_file)


@functools.lru_cache(maxsize=8)
def _load_policy(packs: tuple[str, ...], path: str) -> PolicyConfiguration:
    try:
        policies = tuple(compliance.PolicyPack(name) for name in packs)
    except ValueError as error:
        raise PolicyConfigurationError(f"ACCORD_CONTACT_POLICIES: {error}") from None
    if not policies:
        raise PolicyConfigurationError("ACCORD_CONTACT_POLICIES names no policy pack")
    operator = compliance.NO_OPERATOR_SETTINGS
    if path:
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
            operator = checkfile.parse_operator(document)
        except OSError as error:
            raise PolicyConfigurationError(
                f"ACCORD_OPERATOR_POLICY_FILE {path}: cannot read it ({error.strerror})"
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise PolicyConfigurationError(
                f"ACCORD_OPERATOR_POLICY_FILE {path}: not JSON ({error})"
            ) from None
        except (checkfile.CheckFileError, ValueError) as error:
            raise PolicyConfigurationError(f"ACCORD_OPERATOR_POLICY_FILE {path}: {error}") from None
    return PolicyConfiguration(policies=policies, operator=operator)


class UnknownCustomer(Exception):
    """No customer has that id."""


class UnknownAccount(Exception):
    """An account id does not exist or belongs to another customer."""


def lock_customer(customer_id: int) -> None:
    """Lock the customer's row until the caller's transaction ends (SELECT ... FOR UPDATE).

    Call it inside ``transaction.atomic()`` before re-checking and recording a contact.
    Raises ``UnknownCustomer``; Django raises ``TransactionManagementError`` outside a
    transaction.
    """
    locked = list(
        models.Customer.objects.select_for_update().filter(pk=customer_id).values_list("pk")
    )
    if not locked:
        raise UnknownCustomer(f"no customer with id {customer_id}")


def check_contact(
    *,
    customer_id: int,
    account_ids: Sequence[int],
    channel: str,
    purpose: str = "COLLECTION",
    now: dt.datetime,
    exclude_attempt_id: int | None = None,
    policy: PolicyConfiguration | None = None,
) -> compliance.Decision:
    """Decide whether the customer may be contacted now on ``channel`` about the accounts.

    ``exclude_attempt_id`` leaves one contact attempt out of the history (the outbox row
    being re-checked while it is SENDING). ``policy`` None applies ``configured_policy()``.
    Raises ``UnknownCustomer``, ``UnknownAccount``, ``ValueError`` for an unknown channel
    or purpose, ``compliance.NaiveDatetimeError`` for a naive ``now`` and
    ``PolicyConfigurationError``.
    """
    chosen = configured_policy() if policy is None else policy
    if now.tzinfo is None or now.utcoffset() is None:
        raise compliance.NaiveDatetimeError("now")
    attempt_channel = compliance.Channel(channel)
    attempt_purpose = compliance.Purpose(purpose)
    with transaction.atomic():
        try:
            customer = models.Customer.objects.get(pk=customer_id)
        except models.Customer.DoesNotExist:
            raise UnknownCustomer(f"no customer with id {customer_id}") from None
        wanted = set(account_ids)
        accounts = {
            account.pk: account
            for account in models.Account.objects.filter(customer=customer, pk__in=wanted)
        }
        missing = sorted(wanted - accounts.keys())
        if missing:
            raise UnknownAccount(f"accounts {missing} do not exist or belong to another customer")
        return compliance.evaluate(
            consumer=_consumer(customer, now),
            debts=_debts(list(accounts.values()), now),
            history=_history(customer, now, exclude_attempt_id),
            attempt=compliance.Attempt(
                channel=attempt_channel,
                debt_ids=frozenset(str(pk) for pk in accounts),
                purpose=attempt_purpose,
            ),
            now=now,
            policies=chosen.policies,
            operator=chosen.operator,
        )


def _active(now: dt.datetime, start_field: str) -> Q:
    """Match rows that started by ``now`` and were not withdrawn by then."""
    return Q(**{f"{start_field}__lte": now}) & (
        Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=now)
    )


def _consumer(customer: models.Customer, now: dt.datetime) -> compliance.Consumer:
    hours = None
    if customer.contact_hours_start is not None and customer.contact_hours_end is not None:
        hours = (customer.contact_hours_start, customer.contact_hours_end)
    opt_outs = tuple(
        compliance.OptOut(channel=compliance.Channel(channel), at=at)
        for channel, at in models.ChannelOptOut.objects.filter(
            _active(now, "opted_out_at"), customer=customer
        )
        .order_by("opted_out_at", "pk")
        .values_list("channel", "opted_out_at")
    )
    cease = (
        models.CeaseRequest.objects.filter(_active(now, "received_at"), customer=customer)
        .order_by("received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    zones = customer.time_zones if isinstance(customer.time_zones, list) else []
    return compliance.Consumer(
        id=str(customer.pk),
        time_zones=tuple(str(name) for name in zones),
        contact_hours=hours,
        opt_outs=opt_outs,
        cease_requested_at=cease,
        breathing_space=_breathing_space(customer, now),
        vulnerabilities=_vulnerabilities(customer, now),
        preferences=_preferences(customer, now),
    )


def _preferences(customer: models.Customer, now: dt.datetime) -> compliance.Preferences | None:
    """Return the customer's own pause as the policy's preferences (None when not paused).

    The contact hours are already the consumer's designated times; the preferred channel
    is a preference, not "only this channel" (ADR 0023).
    """
    pause = preferences.pause_in_force(customer, now=now)
    return compliance.Preferences(pause=pause) if pause is not None else None


def _london_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=BREATHING_SPACE_ZONE)


def _breathing_space(customer: models.Customer, now: dt.datetime) -> compliance.Moratorium | None:
    """Return the breathing space in force at ``now``; the longest when several are."""
    spaces = []
    rows = models.BreathingSpace.objects.filter(customer=customer).filter(
        Q(cancelled_at__isnull=True) | Q(cancelled_at__gt=now)
    )
    for kind, starts_on, ends_on in rows.values_list("kind", "starts_on", "ends_on"):
        start = _london_midnight(starts_on)
        end = None if ends_on is None else _london_midnight(ends_on + dt.timedelta(days=1))
        if start <= now and (end is None or now < end):
            spaces.append(
                compliance.Moratorium(
                    start=start, end=end, kind=MORATORIUM_KINDS[models.BreathingSpaceKind(kind)]
                )
            )
    # An open-ended moratorium outlasts any dated one.
    return max(
        spaces,
        key=lambda space: (space.end is None, space.end or space.start, space.start),
        default=None,
    )


def _vulnerabilities(
    customer: models.Customer, now: dt.datetime
) -> tuple[compliance.Vulnerability, ...]:
    rows = (
        models.Vulnerability.objects.filter(customer=customer, recorded_at__lte=now)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=now))
        .order_by("recorded_at", "pk")
        .values_list("category", "recorded_at", "consent_to_record", "review_date")
    )
    return tuple(
        compliance.Vulnerability(
            driver=VULNERABILITY_DRIVERS[models.VulnerabilityCategory(category)],
            recorded_at=recorded_at,
            consent=consent,
            review_date=review_date,
        )
        for category, recorded_at, consent, review_date in rows
    )


def _debts(accounts: list[models.Account], now: dt.datetime) -> list[compliance.Debt]:
    # A dispute pauses its account until verified; one resolved by now no longer does.
    unverified: dict[int, dt.datetime] = {}
    disputes = (
        models.Dispute.objects.filter(account__in=accounts, received_at__lte=now)
        .filter(Q(verified_at__isnull=True) | Q(verified_at__gt=now))
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=now))
        .order_by("received_at")
        .values_list("account_id", "received_at")
    )
    for account_id, received_at in disputes:
        unverified.setdefault(account_id, received_at)
    return [
        compliance.Debt(
            id=str(account.pk),
            label=account.external_ref,
            dispute_received_at=unverified.get(account.pk),
        )
        for account in accounts
    ]


def _history(
    customer: models.Customer, now: dt.datetime, exclude_attempt_id: int | None
) -> list[compliance.HistoryItem]:
    rows = (
        models.ContactAttempt.objects.filter(customer=customer, status__in=COUNTED_STATUSES)
        .annotate(happened_at=Coalesce("sent_at", "planned_at"))
        .filter(happened_at__gte=now - dt.timedelta(days=HISTORY_DAYS), happened_at__lte=now)
        .order_by("happened_at", "pk")
        .values_list(
            "happened_at", "channel", "direction", "account_id", "connected", "conversation"
        )
    )
    if exclude_attempt_id is not None:
        rows = rows.exclude(pk=exclude_attempt_id)
    return [
        compliance.HistoryItem(
            at=happened_at,
            channel=compliance.Channel(channel),
            direction=compliance.Direction(direction),
            debt_ids=frozenset() if account_id is None else frozenset({str(account_id)}),
            connected=connected,
            conversation=conversation,
        )
        for happened_at, channel, direction, account_id, connected, conversation in rows
    ]
