"""Record how, when and in which language a customer would like to hear from us."""

from __future__ import annotations

from datetime import datetime, time

from django.db import transaction

from accord.audit import events, log
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


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)
