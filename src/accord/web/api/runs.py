"""Endpoints for strategy runs (start, list, read) and an account's decisions.

Starting a run needs manage_strategy and calls ``usecases.strategy_run.start_run``
synchronously: the response comes when the run has finished. Reading needs
view_portfolio.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from accord.analytics import activity_records as records
from accord.domain.access import Permission
from accord.usecases import strategy_run
from accord.web.api import activity_schemas as schemas
from accord.web.api.auth import requires
from accord.web.api.errors import Invalid, Message, NotFound
from accord.web.api.refusals import Refused
from accord.web.api.schemas import PageQuery, RecordId, page_of

router = Router()
view = requires(Permission.VIEW_PORTFOLIO)
manage = requires(Permission.MANAGE_STRATEGY)


@router.get(
    "/strategy-runs",
    auth=view,
    response={200: schemas.RunPage, 401: Message, 403: Message, 422: Invalid},
    tags=["strategy runs"],
)
def list_strategy_runs(request: HttpRequest, filters: Query[schemas.RunQuery]) -> Any:
    """List strategy runs, ordered by id (oldest first)."""
    page = records.runs(
        limit=filters.limit,
        offset=filters.offset,
        status=None if filters.status is None else filters.status.value,
    )
    return page_of(page, schemas.RunOut.of)


@router.get(
    "/strategy-runs/{run_id}",
    auth=view,
    response={200: schemas.RunOut, 401: Message, 403: Message, 404: Message, 422: Invalid},
    tags=["strategy runs"],
)
def get_strategy_run(request: HttpRequest, run_id: RecordId) -> Any:
    """Return one strategy run with its counts."""
    record = records.run(run_id)
    if record is None:
        raise NotFound("strategy run", run_id)
    return schemas.RunOut.of(record)


@router.post(
    "/strategy-runs",
    auth=manage,
    response={
        201: schemas.RunOut,
        401: Message,
        403: Message,
        409: Invalid,
        413: Message,
        422: Invalid,
    },
    tags=["strategy runs"],
)
def start_strategy_run(request: HttpRequest, payload: schemas.RunIn) -> Any:
    """Run the strategy as of a date (default today) and answer when it has finished.

    A run while another is in progress, or as of a date before the latest completed
    run or after today, is refused with 409 and the reason.
    """
    try:
        run = strategy_run.start_run(
            as_of=payload.as_of,
            actor=f"user:{request.auth.get_username()}",  # type: ignore[attr-defined]
            now=timezone.now(),
            clock=timezone.now,
        )
    except strategy_run.RunRefused as refused:
        dated = (strategy_run.RunBackdated, strategy_run.RunFutureDated)
        field = "as_of" if isinstance(refused, dated) else "body"
        raise Refused(409, field=field, reason=str(refused)) from None
    return Status(201, schemas.RunOut.of(records.run_record(run)))


@router.get(
    "/accounts/{account_id}/decisions",
    auth=view,
    response={200: schemas.DecisionPage, 401: Message, 403: Message, 404: Message, 422: Invalid},
    tags=["accounts"],
)
def list_account_decisions(
    request: HttpRequest, account_id: RecordId, filters: Query[PageQuery]
) -> Any:
    """List the strategy's decisions for one account, newest as-of date first."""
    if not records.account_exists(account_id):
        raise NotFound("account", account_id)
    page = records.account_decisions(
        account_id=account_id, limit=filters.limit, offset=filters.offset
    )
    return page_of(page, schemas.DecisionOut.of)
