"""Endpoints for promises to pay: list, read one, take one.

Reading needs view_portfolio; taking a promise needs work_accounts and goes through
``usecases.promises.record_promise`` (source ``API``), so it meets exactly the checks an
agent's promise meets, is audited, and queues the customer's confirmation.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from accord.analytics import activity_records as records
from accord.domain import money
from accord.domain.access import Permission
from accord.storage import models
from accord.usecases import promises
from accord.web.api import activity_schemas as schemas
from accord.web.api.auth import requires
from accord.web.api.errors import Invalid, Message, NotFound
from accord.web.api.refusals import Refused
from accord.web.api.schemas import RecordId, page_of

router = Router(tags=["promises"])
view = requires(Permission.VIEW_PORTFOLIO)
work = requires(Permission.WORK_ACCOUNTS)

Refusal = promises.Refusal

# The field each refusal is about, and whether it conflicts with the account's state
# (409) rather than being wrong input (422).
REFUSALS: dict[Refusal, tuple[str, int]] = {
    Refusal.UNKNOWN_ACCOUNT: ("account_id", 422),
    Refusal.ACCOUNT_CLOSED: ("account_id", 409),
    Refusal.OPEN_PROMISE_EXISTS: ("account_id", 409),
    Refusal.WRONG_CURRENCY: ("currency", 422),
    Refusal.AMOUNT_NOT_POSITIVE: ("amount", 422),
    Refusal.AMOUNT_NOT_WHOLE_MINOR_UNITS: ("amount", 422),
    Refusal.AMOUNT_OVER_BALANCE: ("amount", 422),
    Refusal.DATE_IN_PAST: ("promised_date", 422),
    Refusal.DATE_TOO_FAR_AHEAD: ("promised_date", 422),
}


@router.get(
    "/promises",
    auth=view,
    response={200: schemas.PromisePage, 401: Message, 403: Message, 422: Invalid},
)
def list_promises(request: HttpRequest, filters: Query[schemas.PromiseQuery]) -> Any:
    """List promises to pay, ordered by id."""
    page = records.promises(
        limit=filters.limit,
        offset=filters.offset,
        status=None if filters.status is None else filters.status.value,
        account_id=filters.account_id,
        source=None if filters.source is None else filters.source.value,
        due_from=filters.due_from,
        due_to=filters.due_to,
    )
    return page_of(page, schemas.PromiseOut.of)


@router.get(
    "/promises/{promise_id}",
    auth=view,
    response={200: schemas.PromiseOut, 401: Message, 403: Message, 404: Message, 422: Invalid},
)
def get_promise(request: HttpRequest, promise_id: RecordId) -> Any:
    """Return one promise to pay."""
    record = records.promise(promise_id)
    if record is None:
        raise NotFound("promise", promise_id)
    return schemas.PromiseOut.of(record)


@router.post(
    "/promises",
    auth=work,
    response={
        201: schemas.PromiseOut,
        401: Message,
        403: Message,
        409: Invalid,
        413: Message,
        422: Invalid,
    },
)
def create_promise(request: HttpRequest, payload: schemas.PromiseIn) -> Any:
    """Take a promise to pay on an account; its confirmation is queued for the customer."""
    amount = _amount(payload.amount, payload.currency)
    try:
        promise = promises.record_promise(
            account_id=payload.account_id,
            amount=amount,
            promised_date=payload.promised_date,
            source=models.Source.API,
            actor=f"user:{request.auth.get_username()}",  # type: ignore[attr-defined]
            now=timezone.now(),
        )
    except promises.PromiseRefused as refused:
        field, status = REFUSALS.get(refused.reason, ("body", 422))
        raise Refused(status, field=field, reason=refused.message) from None
    record = records.promise(promise.pk)
    if record is None:  # pragma: no cover - just created in this request
        raise NotFound("promise", promise.pk)
    return Status(201, schemas.PromiseOut.of(record))


def _amount(text: str, currency: str) -> money.Money:
    try:
        return money.parse_amount(text, currency.upper())
    except money.UnknownCurrency as error:
        raise Refused(422, field="currency", reason=str(error)) from None
    except money.InvalidAmount as error:
        raise Refused(422, field="amount", reason=str(error)) from None
