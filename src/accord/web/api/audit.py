"""Endpoints for the audit log: read-only, for auditors and administrators."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from accord.analytics import portfolio_records as records
from accord.domain.access import Permission
from accord.web.api import schemas
from accord.web.api.auth import requires
from accord.web.api.errors import Invalid, Message, NotFound

router = Router(tags=["audit"])
read = requires(Permission.VIEW_AUDIT_LOG)


@router.get(
    "/audit-events",
    auth=read,
    response={200: schemas.AuditEventPage, 401: Message, 403: Message, 422: Invalid},
)
def list_audit_events(request: HttpRequest, filters: Query[schemas.AuditQuery]) -> Any:
    """List audit events in the order they were written, filtered as asked."""
    page = records.audit_events(
        limit=filters.limit,
        offset=filters.offset,
        event_type=None if filters.event_type is None else filters.event_type.value,
        subject_type=filters.subject_type,
        subject_id=filters.subject_id,
        occurred_after=filters.occurred_after,
        occurred_before=filters.occurred_before,
    )
    return schemas.page_of(page, schemas.AuditEventOut.of)


@router.get(
    "/audit-events/{event_id}",
    auth=read,
    response={200: schemas.AuditEventOut, 401: Message, 403: Message, 404: Message, 422: Invalid},
)
def get_audit_event(request: HttpRequest, event_id: schemas.RecordId) -> Any:
    """Return one audit event."""
    record = records.audit_event(event_id)
    if record is None:
        raise NotFound("audit event", event_id)
    return schemas.AuditEventOut.of(record)
