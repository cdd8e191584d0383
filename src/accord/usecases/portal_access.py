"""Sign customers in to the portal with a one-time code sent to a contact point on file.

Codes are six digits from :mod:`secrets`, stored only as a keyed hash (HMAC with the
installation's secret key, so a copy of the database alone does not reveal them),
valid for :data:`CODE_LIFETIME`, usable once, and dead after :data:`MAX_WRONG_TRIES`
wrong guesses. A new code replaces any earlier unused one for the same destination.
A customer whose codes drew :data:`FAILED_TRIES_PER_CUSTOMER` wrong guesses within
:data:`FAILED_TRIES_WINDOW` is locked out: no code is issued or accepted for them until
the window has passed, whichever address the guesses came from.

The code travels in a background thread started when the transaction commits, so the
time a request takes does not depend on the mail or SMS provider; the plaintext code
lives only in that thread's memory (if the process dies first, the customer asks again).

Nothing here tells the caller whether a destination is on file: :func:`request_code`
returns the same nothing either way, and :func:`verify_code` has one refusal for every
reason. A destination on file for more than one customer is treated as unknown, since
a code sent there could not say whose account it opens. See ADR 0011.
"""

from __future__ import annotations

import dataclasses
import functools
import hmac
import logging
import secrets
import threading
from datetime import datetime, timedelta

from django.db import connections, transaction
from django.utils.crypto import salted_hmac

from accord.audit import events, log
from accord.channels import message, registry, templates
from accord.domain import contactpoints
from accord.storage import models

logger = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=10)
MAX_WRONG_TRIES = 5
# Wrong guesses allowed per customer, over all their codes and addresses, per window.
FAILED_TRIES_PER_CUSTOMER = 10
FAILED_TRIES_WINDOW = timedelta(hours=24)
CODE_DIGITS = 6
CODE_TEMPLATE = "portal_code"
_HMAC_SALT = "accord.portal.one-time-code"

_CHANNEL_BY_KIND = {
    models.ContactPointKind.EMAIL: models.Channel.EMAIL,
    models.ContactPointKind.PHONE: models.Channel.SMS,
}

# Threads still sending a code; :func:`wait_for_sends` joins them.
_sending: set[threading.Thread] = set()
_sending_guard = threading.Lock()


class InvalidDestination(ValueError):
    """The text is neither an email address nor a phone number with its country code."""


class CodeRejected(Exception):
    """The code is wrong, expired, already used, locked or was never sent.

    Deliberately one exception for every reason, so the caller cannot tell them apart.
    """


@dataclasses.dataclass(frozen=True, slots=True)
class Destination:
    """Name where a code goes: a normalised email address or E.164 phone number."""

    kind: models.ContactPointKind
    value: str

    @property
    def key(self) -> str:
        """Return the form codes are filed under (emails compare without case)."""
        return self.value.casefold() if self.kind == models.ContactPointKind.EMAIL else self.value

    @property
    def channel(self) -> models.Channel:
        """Return the channel a code to this destination travels by."""
        return _CHANNEL_BY_KIND[models.ContactPointKind(self.kind)]


def parse_destination(raw: str) -> Destination:
    """Read ``raw`` as an email address or an international phone number.

    Raises ``InvalidDestination`` when it is neither.
    """
    text = raw.strip()
    if "@" in text:
        try:
            return Destination(models.ContactPointKind.EMAIL, contactpoints.normalise_email(text))
        except contactpoints.InvalidEmail:
            raise InvalidDestination("not an email address") from None
    try:
        number = contactpoints.normalise_phone(raw=text, default_region=None)
    except contactpoints.InvalidPhoneNumber:
        raise InvalidDestination("not a phone number with its country code") from None
    return Destination(models.ContactPointKind.PHONE, number)


def _hash(destination: Destination, code: str) -> str:
    return salted_hmac(_HMAC_SALT, f"{destination.key}:{code}", algorithm="sha256").hexdigest()


def _on_file(destination: Destination) -> dict[int, str]:
    """Return each customer with ``destination`` on file, and how it is written there."""
    points = models.ContactPoint.objects.filter(kind=destination.kind)
    if destination.kind == models.ContactPointKind.EMAIL:
        points = points.filter(value__iexact=destination.value)
    else:
        points = points.filter(value=destination.value)
    return dict(points.order_by("pk").values_list("customer_id", "value"))


def request_code(*, destination: Destination, now: datetime) -> None:
    """Send a sign-in code to ``destination`` if it is on file for exactly one customer.

    Otherwise, and while that customer is locked out (:func:`locked_until`), do the same
    work and send nothing. Writes ``PORTAL_CODE_SENT`` (without the code) when a code is
    issued. The code is sent by a background thread once the transaction commits; a
    failed send is logged, not raised: an error would tell the caller that the
    destination is on file.
    """
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    code_hash = _hash(destination, code)
    with transaction.atomic():
        owners = _on_file(destination)
        if len(owners) != 1:
            return
        ((customer_id, address),) = owners.items()
        customer = models.Customer.objects.select_for_update().get(pk=customer_id)
        if locked_until(customer_id=customer.pk, now=now) is not None:
            logger.info("Sign-in code for customer %s not issued: locked out", customer.pk)
            return
        # A new code replaces the earlier ones, so only the latest one can be used.
        models.OneTimeCode.objects.filter(
            destination=destination.key, used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        issued = models.OneTimeCode.objects.create(
            customer=customer,
            channel=destination.channel,
            destination=destination.key,
            code_hash=code_hash,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        log.record(
            actor=f"customer:{customer.pk}",
            event_type=events.EventType.PORTAL_CODE_SENT,
            subject_type="customer",
            subject_id=customer.pk,
            parameters={"code_id": issued.pk, "channel": str(destination.channel)},
            now=now,
        )
        outbound = _message(customer, destination, address, code, issued)
        transaction.on_commit(functools.partial(_send_in_background, outbound, issued.pk))


def _message(
    customer: models.Customer,
    destination: Destination,
    address: str,
    code: str,
    issued: models.OneTimeCode,
) -> message.OutboundMessage:
    channel = message.Channel(str(destination.channel))
    rendered = templates.render(
        CODE_TEMPLATE,
        customer.language,
        {
            "code": code,
            "customer_name": customer.name,
            "expires_minutes": int(CODE_LIFETIME.total_seconds() // 60),
        },
        channel=channel,
    )
    return message.OutboundMessage(
        channel=channel,
        to=address,
        subject=rendered.subject,
        body=rendered.body,
        html=rendered.html,
        idempotency_key=f"portal-code:{issued.pk}",
    )


def _send_in_background(outbound: message.OutboundMessage, code_id: int) -> None:
    # A daemon thread: a stuck provider never holds up the request or the shutdown.
    thread = threading.Thread(
        target=_send, args=(outbound, code_id), name=f"portal-code-{code_id}", daemon=True
    )
    with _sending_guard:
        _sending.add(thread)
    thread.start()


def _send(outbound: message.OutboundMessage, code_id: int) -> None:
    try:
        registry.sender_for(outbound.channel).send(outbound)
    except message.SendFailed as error:
        # The reason comes from the channel, never the message, so it holds no code.
        logger.warning("Sign-in code %s not sent: %s", code_id, error.reason)
    except Exception:
        logger.exception("Sign-in code %s not sent: the sender raised", code_id)
    finally:
        connections.close_all()
        with _sending_guard:
            _sending.discard(threading.current_thread())


def wait_for_sends(*, timeout: float = 30.0) -> None:
    """Wait until every code handed to a sending thread has been sent or given up on.

    For tests and orderly shutdowns; raises ``TimeoutError`` if one is still sending
    after ``timeout`` seconds.
    """
    with _sending_guard:
        threads = list(_sending)
    for thread in threads:
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"{thread.name} is still sending")


def locked_until(*, customer_id: int, now: datetime) -> datetime | None:
    """Return when the customer's sign-in lock-out ends, or ``None`` if they are not locked.

    A customer is locked while the codes issued to them in the last
    :data:`FAILED_TRIES_WINDOW` drew :data:`FAILED_TRIES_PER_CUSTOMER` wrong guesses or
    more; the lock ends when enough of those codes have aged out of the window.
    """
    recent = (
        models.OneTimeCode.objects.filter(
            customer_id=customer_id,
            created_at__gt=now - FAILED_TRIES_WINDOW,
            failed_attempts__gt=0,
        )
        .order_by("-created_at", "-pk")
        .values_list("created_at", "failed_attempts")
    )
    # At most a handful of rows: a locked customer is issued no more codes.
    failed = 0
    for created_at, attempts in recent:
        failed += attempts
        if failed >= FAILED_TRIES_PER_CUSTOMER:
            return created_at + FAILED_TRIES_WINDOW
    return None


def verify_code(*, destination: Destination, code: str, now: datetime) -> int:
    """Return the id of the customer whose latest code for ``destination`` is ``code``.

    Marks the code used and writes ``PORTAL_SIGNED_IN``. A wrong guess counts against
    the code; after ``MAX_WRONG_TRIES`` of them the code is dead, and the guess that
    locks the customer out (:func:`locked_until`) writes ``PORTAL_SIGN_IN_LOCKED``.
    Raises ``CodeRejected`` for a wrong, expired, used or dead code, for a customer who
    is locked out and for a destination that was never sent one.
    """
    accepted: models.OneTimeCode | None = None
    candidate = _hash(destination, code.strip())
    unused = models.OneTimeCode.objects.filter(
        destination=destination.key, used_at__isnull=True
    ).order_by("-created_at", "-pk")
    with transaction.atomic():
        owner = unused.values_list("customer_id", flat=True).first()
        if owner is not None:
            # The customer's lock first (as request_code takes it), so that guesses at
            # their email and their phone at once cannot both slip under the budget.
            models.Customer.objects.select_for_update().filter(pk=owner).first()
        latest = unused.select_for_update().first()
        if (
            latest is not None
            and latest.customer_id == owner
            and latest.expires_at > now
            and latest.failed_attempts < MAX_WRONG_TRIES
            and locked_until(customer_id=latest.customer_id, now=now) is None
        ):
            if hmac.compare_digest(latest.code_hash, candidate):
                latest.used_at = now
                latest.save(update_fields=["used_at"])
                log.record(
                    actor=f"customer:{latest.customer_id}",
                    event_type=events.EventType.PORTAL_SIGNED_IN,
                    subject_type="customer",
                    subject_id=latest.customer_id,
                    parameters={"code_id": latest.pk, "channel": latest.channel},
                    now=now,
                )
                accepted = latest
            else:
                # Committed before the refusal is raised, so the count survives it.
                latest.failed_attempts += 1
                latest.save(update_fields=["failed_attempts"])
                _record_lock(latest, now=now)
    if accepted is None:
        raise CodeRejected("that code cannot be used")
    return accepted.customer_id


def _record_lock(wrong: models.OneTimeCode, *, now: datetime) -> None:
    until = locked_until(customer_id=wrong.customer_id, now=now)
    if until is None:
        return
    log.record(
        actor=f"customer:{wrong.customer_id}",
        event_type=events.EventType.PORTAL_SIGN_IN_LOCKED,
        subject_type="customer",
        subject_id=wrong.customer_id,
        parameters={
            "code_id": wrong.pk,
            "channel": wrong.channel,
            "failed_attempts": FAILED_TRIES_PER_CUSTOMER,
            "window_hours": int(FAILED_TRIES_WINDOW.total_seconds() // 3600),
            "locked_until": until.isoformat(),
        },
        now=now,
    )
