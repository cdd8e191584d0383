"""Endpoints for contact attempts: the outbox and the contact history, read-only.

A contact attempt carries exactly what the customer received (subject and body) and
where it went, so reading needs the view_messages permission (team leads, managers,
administrators and auditors), not merely view_portfolio: agents see a customer's
contacts in the workspace, one customer at a time, not the whole outbox.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from accord.analytics import activity_records as records
from accord.domain.access import Permission
from accord.web.api import activity_schemas as schemas
from accord.web.api.auth import requires
from accord.web.api.errors import Invalid, Message, NotFound
from accord.web.api.schemas import RecordId, page_of

router = Router(tags=["contact attempts"])
read = requires(Permission.VIEW_MESSAGES)


@router.get(
    "/contact-attempts",
    auth=read,
    response={200: schemas.ContactAttemptPage, 401: Message, 403: Message, 422: Invalid},
)
def list_contact_attempts(request: HttpRequest, filters: Query[schemas.ContactAttemptQuery]) -> Any:
    """List contact attempts (planned, sent, failed, blocked, logged calls), ordered by id."""
    page = records.contact_attempts(
        limit=filters.limit,
        offset=filters.offset,
        status=None if filters.status is None else filters.status.value,
        channel=None if filters.channel is None else filters.channel.value,
        origin=None if filters.origin is None else filters.origin.value,
        customer_id=filters.customer_id,
        account_id=filters.account_id,
        run_id=filters.run_id,
    )
    return page_of(page, schemas.ContactAttemptOut.of)


@router.get(
    "/contact-attempts/{attempt_id}",
    auth=read,
    response={
        200: schemas.ContactAttemptOut,
        401: Message,
        403: Message,
        404: Message,
        422: Invalid,
    },
)
def get_contact_attempt(request: HttpRequest, attempt_id: RecordId) -> Any:
    """Return one contact attempt with what was sent and why it was blocked, if it was."""
    record = records.contact_attempt(attempt_id)
    if record is None:
        raise NotFound("contact attempt", attempt_id)
    return schemas.ContactAttemptOut.of(record)
