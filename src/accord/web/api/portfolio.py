"""Endpoints for customers, accounts, charges and payments: list, read one, create.

Reading needs the view_portfolio permission, creating import_portfolio. Creating
goes through the import use case in CREATE mode, so a record made here meets
exactly the validation of a CSV row and is audited the same way.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from accord.analytics import portfolio_records as records
from accord.domain.access import Permission
from accord.usecases import import_portfolio
from accord.web.api import schemas
from accord.web.api.auth import requires
from accord.web.api.errors import Invalid, Message, NotFound, RecordRejected

router = Router()
view = requires(Permission.VIEW_PORTFOLIO)
create = requires(Permission.IMPORT_PORTFOLIO)


def _list(page: type[Any]) -> dict[int, Any]:
    return {200: page, 401: Message, 403: Message, 422: Invalid}


def _one(out: type[Any]) -> dict[int, Any]:
    return {200: out, 401: Message, 403: Message, 404: Message, 422: Invalid}


def _created(out: type[Any]) -> dict[int, Any]:
    return {201: out, 401: Message, 403: Message, 409: Invalid, 413: Message, 422: Invalid}


def _create(
    request: HttpRequest, kind: import_portfolio.RecordKind, payload: schemas.RecordIn
) -> int:
    """Create one record through the import use case; return its id."""
    try:
        report = import_portfolio.import_records(
            kind=kind,
            records=[payload.as_record()],
            source="api",
            actor=f"user:{request.auth.get_username()}",  # type: ignore[attr-defined]
            now=timezone.now(),
            mode=import_portfolio.Mode.CREATE,
        )
    except import_portfolio.ImportRejected as rejected:
        raise RecordRejected(rejected.report) from None
    (record_id,) = report.ids.values()
    return record_id


def _found(record: Any | None, what: str, record_id: int) -> Any:
    if record is None:
        raise NotFound(what, record_id)
    return record


# Customers ---------------------------------------------------------------------------


@router.get("/customers", auth=view, response=_list(schemas.CustomerPage), tags=["customers"])
def list_customers(request: HttpRequest, filters: Query[schemas.CustomerQuery]) -> Any:
    """List customers, ordered by id."""
    page = records.customers(
        limit=filters.limit, offset=filters.offset, external_ref=filters.external_ref
    )
    return schemas.page_of(page, schemas.CustomerOut.of)


@router.post("/customers", auth=create, response=_created(schemas.CustomerOut), tags=["customers"])
def create_customer(request: HttpRequest, payload: schemas.CustomerIn) -> Any:
    """Create a customer with the same columns and checks as a CSV import."""
    record_id = _create(request, import_portfolio.RecordKind.CUSTOMERS, payload)
    return Status(
        201, schemas.CustomerOut.of(_found(records.customer(record_id), "customer", record_id))
    )


@router.get(
    "/customers/{customer_id}", auth=view, response=_one(schemas.CustomerOut), tags=["customers"]
)
def get_customer(request: HttpRequest, customer_id: schemas.RecordId) -> Any:
    """Return one customer."""
    return schemas.CustomerOut.of(_found(records.customer(customer_id), "customer", customer_id))


# Accounts ----------------------------------------------------------------------------


@router.get("/accounts", auth=view, response=_list(schemas.AccountPage), tags=["accounts"])
def list_accounts(request: HttpRequest, filters: Query[schemas.AccountQuery]) -> Any:
    """List accounts, ordered by id."""
    page = records.accounts(
        limit=filters.limit,
        offset=filters.offset,
        external_ref=filters.external_ref,
        customer_ref=filters.customer_ref,
    )
    return schemas.page_of(page, schemas.AccountOut.of)


@router.post("/accounts", auth=create, response=_created(schemas.AccountOut), tags=["accounts"])
def create_account(request: HttpRequest, payload: schemas.AccountIn) -> Any:
    """Create an account for an existing customer."""
    record_id = _create(request, import_portfolio.RecordKind.ACCOUNTS, payload)
    return Status(
        201, schemas.AccountOut.of(_found(records.account(record_id), "account", record_id))
    )


@router.get(
    "/accounts/{account_id}", auth=view, response=_one(schemas.AccountOut), tags=["accounts"]
)
def get_account(request: HttpRequest, account_id: schemas.RecordId) -> Any:
    """Return one account."""
    return schemas.AccountOut.of(_found(records.account(account_id), "account", account_id))


# Charges -----------------------------------------------------------------------------


@router.get("/charges", auth=view, response=_list(schemas.ChargePage), tags=["charges"])
def list_charges(request: HttpRequest, filters: Query[schemas.AccountLinkedQuery]) -> Any:
    """List charges, ordered by id."""
    page = records.charges(
        limit=filters.limit,
        offset=filters.offset,
        external_ref=filters.external_ref,
        account_ref=filters.account_ref,
    )
    return schemas.page_of(page, schemas.ChargeOut.of)


@router.post("/charges", auth=create, response=_created(schemas.ChargeOut), tags=["charges"])
def create_charge(request: HttpRequest, payload: schemas.ChargeIn) -> Any:
    """Create a charge on an existing account."""
    record_id = _create(request, import_portfolio.RecordKind.CHARGES, payload)
    return Status(201, schemas.ChargeOut.of(_found(records.charge(record_id), "charge", record_id)))


@router.get("/charges/{charge_id}", auth=view, response=_one(schemas.ChargeOut), tags=["charges"])
def get_charge(request: HttpRequest, charge_id: schemas.RecordId) -> Any:
    """Return one charge."""
    return schemas.ChargeOut.of(_found(records.charge(charge_id), "charge", charge_id))


# Payments ----------------------------------------------------------------------------


@router.get("/payments", auth=view, response=_list(schemas.PaymentPage), tags=["payments"])
def list_payments(request: HttpRequest, filters: Query[schemas.AccountLinkedQuery]) -> Any:
    """List payments, ordered by id."""
    page = records.payments(
        limit=filters.limit,
        offset=filters.offset,
        external_ref=filters.external_ref,
        account_ref=filters.account_ref,
    )
    return schemas.page_of(page, schemas.PaymentOut.of)


@router.post("/payments", auth=create, response=_created(schemas.PaymentOut), tags=["payments"])
def create_payment(request: HttpRequest, payload: schemas.PaymentIn) -> Any:
    """Record a payment received on an existing account."""
    record_id = _create(request, import_portfolio.RecordKind.PAYMENTS, payload)
    return Status(
        201, schemas.PaymentOut.of(_found(records.payment(record_id), "payment", record_id))
    )


@router.get(
    "/payments/{payment_id}", auth=view, response=_one(schemas.PaymentOut), tags=["payments"]
)
def get_payment(request: HttpRequest, payment_id: schemas.RecordId) -> Any:
    """Return one payment."""
    return schemas.PaymentOut.of(_found(records.payment(payment_id), "payment", payment_id))
