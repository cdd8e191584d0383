"""Queue the message that confirms what a customer agreed to, in the outbox.

A confirmation goes by the customer's preferred electronic channel (email or text
message) that they have not opted out of, to the primary address of that kind; a
customer with neither gets none. The row is planned for ``now`` and sent by the
dispatcher, which re-checks the contact policy at send time like any other message.
Call :func:`queue_confirmation` inside the transaction that records the agreement.
"""

from __future__ import annotations

import datetime

from accord.storage import models
from accord.usecases import outbox

ORIGIN_BY_SOURCE: dict[str, models.ContactOrigin] = {
    models.Source.AGENT: models.ContactOrigin.AGENT,
    models.Source.PORTAL: models.ContactOrigin.PORTAL,
    models.Source.API: models.ContactOrigin.API,
}


def route(customer: models.Customer) -> tuple[models.Channel | None, str]:
    """Return the customer's preferred electronic channel not opted out of, and its address.

    Email comes first unless the customer prefers text messages; ``(None, "")`` when
    neither is possible.
    """
    # Later rows overwrite earlier ones, so ordering by descending position leaves the
    # primary (lowest position) point of each kind.
    points = dict(customer.contact_points.order_by("-position", "-pk").values_list("kind", "value"))
    by_channel = {
        models.Channel.EMAIL: points.get(models.ContactPointKind.EMAIL),
        models.Channel.SMS: points.get(models.ContactPointKind.PHONE),
    }
    opted_out = set(
        customer.opt_outs.filter(withdrawn_at__isnull=True).values_list("channel", flat=True)
    )
    order = [models.Channel.EMAIL, models.Channel.SMS]
    if customer.preferred_channel == models.Channel.SMS:
        order.reverse()
    for channel in order:
        destination = by_channel[channel]
        if destination and channel not in opted_out:
            return channel, destination
    return None, ""


def queue_confirmation(
    *,
    account: models.Account,
    template: str,
    idempotency_key: str,
    source: models.Source,
    now: datetime.datetime,
) -> models.ContactAttempt | None:
    """Plan the ``template`` message about ``account`` for now; ``None`` if it cannot go.

    ``idempotency_key`` names what is confirmed (``plan:<id>``, ``promise:<id>``); the
    dispatcher reads the figures back through it. A queued message announces itself, so the
    background dispatch runs once the caller's transaction commits.
    """
    customer = account.customer
    channel, destination = route(customer)
    if channel is None:
        return None
    confirmation = models.ContactAttempt.objects.create(
        customer=customer,
        account=account,
        channel=channel,
        template=template,
        language=customer.language,
        purpose=models.ContactPurpose.COLLECTION,
        origin=ORIGIN_BY_SOURCE[source],
        direction=models.ContactDirection.OUTBOUND,
        planned_at=now,
        status=models.ContactStatus.PLANNED,
        idempotency_key=idempotency_key,
        destination=destination,
        created_at=now,
        updated_at=now,
    )
    outbox.announce_queued()
    return confirmation
