"""Record how, when and in which language a customer would like to hear from us."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction

from accord.audit import events, log
from accord.domain import compliance
from accord.storage import models

# The languages Accord's portal and message templates speak.
SUPPORTED_LANGUAGES = ("en", "es")
# Channels a customer may prefer (chat is not offered yet).
PREFERABLE_CHANNELS = (
    models.Channel.EMAIL,
    models.Channel.SMS,
    models.Channel.LETTER,
    models.Channel.CALL,
)


# How long a customer may pause collection contact from the portal, in days (capped).
PAUSE_DAYS = (7, 14, 30)
MAX_PAUSE_DAYS = max(PAUSE_DAYS)
MAX_PAUSE_REASON_LENGTH = 500


class UnknownCustomer(Exception):
    """No customer has that id."""


class InvalidContactHours(ValueError):
    """Contact hours need a start before their end, on the same day."""


class UnsupportedLanguage(ValueError):
    """Accord does not speak that language yet."""


class UnsupportedChannel(ValueError):
    """That channel cannot be chosen as the preferred one."""


def set_contact_preferences(
    *,
    customer_id: int,
    preferred_channel: models.Channel | None,
    contact_hours: tuple[time, time] | None,
    language: str,
    actor: str,
    now: datetime,
) -> models.Customer:
    """Set the customer's preferred channel, contact hours and language.

    ``preferred_channel`` ``None`` means no preference; ``contact_hours`` ``None``
    means any lawful time. Writes ``CONTACT_PREFERENCES_CHANGED`` with what changed
    (nothing is written when nothing changed). Raises ``UnknownCustomer``,
    ``UnsupportedChannel``, ``InvalidContactHours`` and ``UnsupportedLanguage``.
    """
    if preferred_channel is not None and preferred_channel not in PREFERABLE_CHANNELS:
        raise UnsupportedChannel(f"{preferred_channel} cannot be preferred")
    if contact_hours is not None and not contact_hours[0] < contact_hours[1]:
        raise InvalidContactHours("the start of the contact hours must be before their end")
    if language not in SUPPORTED_LANGUAGES:
        raise UnsupportedLanguage(f"language {language!r} is not supported")
    wanted = {
        "preferred_channel": str(preferred_channel) if preferred_channel else "",
        "contact_hours_start": contact_hours[0] if contact_hours else None,
        "contact_hours_end": contact_hours[1] if contact_hours else None,
        "language": language,
    }
    with transaction.atomic():
        try:
            customer = models.Customer.objects.select_for_update().get(pk=customer_id)
        except models.Customer.DoesNotExist:
            raise UnknownCustomer(f"no customer with id {customer_id}") from None
        changes = {
            field: {"from": _text(getattr(customer, field)), "to": _text(value)}
            for field, value in wanted.items()
            if getattr(customer, field) != value
        }
        if not changes:
            return customer
        for field, value in wanted.items():
            setattr(customer, field, value)
        customer.updated_at = now
        customer.save(update_fields=[*wanted, "updated_at"])
        log.record(
            actor=actor,
            event_type=events.EventType.CONTACT_PREFERENCES_CHANGED,
            subject_type="customer",
            subject_id=customer.pk,
            parameters={"changes": changes},
            now=now,
        )
    return customer


class InvalidPause(ValueError):
    """A pause lasts one of :data:`PAUSE_DAYS` days and its reason is short."""


class NotPaused(Exception):
    """The customer has no pause in force to end."""


def pause_contact(
    *,
    customer_id: int,
    days: int,
    reason: str,
    actor: str,
    now: datetime,
) -> compliance.Pause:
    """Pause collection contact with the customer for ``days`` days from ``now``.

    The pause is the customer's own preference (``CUSTOMER_PREFERENCE`` in
    docs/contact-policy.md): stored on the customer (``contact_paused_from`` and
    ``contact_paused_until``, read back by :func:`contact_pause`) and audited
    ``CONTACT_PAUSED``. A new pause replaces one in force.
    Raises ``UnknownCustomer`` and ``InvalidPause``.
    """
    if days not in PAUSE_DAYS:
        raise InvalidPause(f"a pause lasts one of {PAUSE_DAYS} days, not {days}")
    reason = reason.strip()
    if len(reason) > MAX_PAUSE_REASON_LENGTH:
        raise InvalidPause(f"the reason is longer than {MAX_PAUSE_REASON_LENGTH} characters")
    pause = compliance.Pause(start=now, end=now + timedelta(days=days))
    with transaction.atomic():
        customer = _locked_customer(customer_id)
        customer.contact_paused_from = pause.start
        customer.contact_paused_until = pause.end
        customer.contact_pause_reason = reason
        customer.updated_at = now
        customer.save(
            update_fields=[
                "contact_paused_from",
                "contact_paused_until",
                "contact_pause_reason",
                "updated_at",
            ]
        )
        log.record(
            actor=actor,
            event_type=events.EventType.CONTACT_PAUSED,
            subject_type="customer",
            subject_id=customer_id,
            parameters={
                "start": pause.start.isoformat(),
                "end": pause.end.isoformat() if pause.end else None,
                "days": days,
                "reason": reason,
            },
            now=now,
        )
    return pause


def resume_contact(*, customer_id: int, actor: str, now: datetime) -> None:
    """End the customer's pause now (audited ``CONTACT_RESUMED``).

    Raises ``UnknownCustomer`` and ``NotPaused``.
    """
    with transaction.atomic():
        customer = _locked_customer(customer_id)
        pause = pause_in_force(customer, now=now)
        if pause is None:
            raise NotPaused(f"customer {customer_id} has no pause in force")
        customer.contact_paused_until = now
        customer.updated_at = now
        customer.save(update_fields=["contact_paused_until", "updated_at"])
        log.record(
            actor=actor,
            event_type=events.EventType.CONTACT_RESUMED,
            subject_type="customer",
            subject_id=customer_id,
            parameters={"end": pause.end.isoformat() if pause.end else None},
            now=now,
        )


def contact_pause(*, customer_id: int, now: datetime) -> compliance.Pause | None:
    """Return the pause the customer asked for that is in force at ``now``, or ``None``.

    This is what the contact policy's ``Preferences.pause`` is built from.
    """
    customer = models.Customer.objects.filter(pk=customer_id).first()
    return pause_in_force(customer, now=now) if customer is not None else None


def pause_in_force(customer: models.Customer, *, now: datetime) -> compliance.Pause | None:
    """Return the customer's self-requested pause in force at ``now`` (from the row), or None."""
    start, end = customer.contact_paused_from, customer.contact_paused_until
    if start is None or start > now or (end is not None and end <= now):
        return None
    return compliance.Pause(start=start, end=end)


def _locked_customer(customer_id: int) -> models.Customer:
    try:
        return models.Customer.objects.select_for_update().get(pk=customer_id)
    except models.Customer.DoesNotExist:
        raise UnknownCustomer(f"no customer with id {customer_id}") from None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)
