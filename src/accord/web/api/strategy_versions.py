"""Endpoints for strategy versions: list, read, save a draft, activate.

Reading needs view_portfolio; saving and activating need manage_strategy and call
``usecases.strategies``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from accord.analytics import strategy_versions as records
from accord.domain.access import Permission
from accord.usecases import strategies
from accord.web.api import strategy_schemas as schemas
from accord.web.api.auth import requires
from accord.web.api.errors import Invalid, Message, NotFound
from accord.web.api.refusals import Refused
from accord.web.api.schemas import RecordId, page_of

router = Router()
view = requires(Permission.VIEW_PORTFOLIO)
manage = requires(Permission.MANAGE_STRATEGY)
TAGS = ["strategy versions"]


def _actor(request: HttpRequest) -> str:
    return f"user:{request.auth.get_username()}"  # type: ignore[attr-defined]


@router.get(
    "/strategy-versions",
    auth=view,
    response={200: schemas.VersionPage, 401: Message, 403: Message, 422: Invalid},
    tags=TAGS,
)
def list_strategy_versions(request: HttpRequest, filters: Query[schemas.VersionQuery]) -> Any:
    """List strategy versions, ordered by id (oldest first)."""
    page = records.versions(
        limit=filters.limit,
        offset=filters.offset,
        status=None if filters.status is None else filters.status.value,
    )
    return page_of(page, schemas.VersionOut.of)


@router.get(
    "/strategy-versions/{version_id}",
    auth=view,
    response={
        200: schemas.VersionDetailOut,
        401: Message,
        403: Message,
        404: Message,
        422: Invalid,
    },
    tags=TAGS,
)
def get_strategy_version(request: HttpRequest, version_id: RecordId) -> Any:
    """Return one strategy version with its YAML and a summary of its rules."""
    record = records.version(version_id)
    if record is None:
        raise NotFound("strategy version", version_id)
    return schemas.VersionDetailOut.of_detail(record)


@router.post(
    "/strategy-versions",
    auth=manage,
    response={
        201: schemas.VersionDetailOut,
        401: Message,
        403: Message,
        409: Invalid,
        413: Message,
        422: Invalid,
    },
    tags=TAGS,
)
def save_strategy_version(request: HttpRequest, payload: schemas.VersionIn) -> Any:
    """Save a strategy's YAML as a new DRAFT version.

    Rules that do not validate (or name a message template that does not exist in every
    language) are refused with 422 naming the field; a name@version already stored with 409.
    """
    try:
        version = strategies.save_draft(
            source=payload.source,
            note=payload.note,
            based_on_id=payload.based_on_id,
            actor=_actor(request),
            now=timezone.now(),
        )
    except strategies.StrategyInvalid as invalid:
        field = "based_on_id" if invalid.message.startswith("based_on") else "source"
        raise Refused(422, field=field, reason=invalid.message) from None
    except strategies.VersionExists as exists:
        raise Refused(409, field="source", reason=str(exists)) from None
    return Status(201, schemas.VersionDetailOut.of_detail(records.detail(version)))


@router.post(
    "/strategy-versions/{version_id}/activate",
    auth=manage,
    response={
        200: schemas.VersionOut,
        401: Message,
        403: Message,
        404: Message,
        409: Invalid,
        422: Invalid,
    },
    tags=TAGS,
)
def activate_strategy_version(request: HttpRequest, version_id: RecordId) -> Any:
    """Make a version the active one; the version it replaces is retired.

    The active version, or one whose rules no longer validate, is refused with 409.
    """
    try:
        version = strategies.activate(
            version_id=version_id, actor=_actor(request), now=timezone.now()
        )
    except strategies.VersionNotFound:
        raise NotFound("strategy version", version_id) from None
    except strategies.NotActivatable as refused:
        raise Refused(409, field="body", reason=refused.reason) from None
    found = records.version(version.pk)
    assert found is not None
    return schemas.VersionOut.of(found)
