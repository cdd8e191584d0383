"""Build the ``/api/v1/`` API: token authentication, role checks, JSON errors."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.operation import Operation

from accord.web.api import (
    audit,
    complaints,
    contacts,
    errors,
    portfolio,
    promises,
    refusals,
    runs,
    strategy_versions,
)

DESCRIPTION = """\
Read and create customers, accounts, charges and payments; take promises to pay; read the
contact attempts (the outbox); start and read strategy runs and an account's decisions; save,
read and activate strategy versions; read the audit log.

Send `Authorization: Bearer <token>` (issue one with `accord token issue --user NAME`).
Every endpoint checks the caller's role. Errors are JSON: `{"detail": "..."}` for 401,
403 and 404; `{"detail": [{"field": ..., "reason": ...}]}` for 409 and 422.
"""


class AccordAPI(NinjaAPI):
    """Name each OpenAPI operation after its view function (``list_customers``)."""

    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Return the view function's name."""
        name: str = operation.view_func.__name__
        return name


api = AccordAPI(
    title="Accord API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    parser=errors.JSONBodyParser(),
)
errors.install(api)
api.add_router("/", portfolio.router)
api.add_router("/", audit.router)
# Issue 4: promises, contact attempts, strategy runs and account decisions.
refusals.install(api)
api.add_router("/", promises.router)
api.add_router("/", contacts.router)
api.add_router("/", runs.router)
# Issue 5: strategy versions.
api.add_router("/", strategy_versions.router)
# Issue 5: complaints and breathing space (customer-harm guardrails, strategy stop conditions).
api.add_router("/", complaints.router)
