"""Answer a use case's refusal as 409 or 422 in the documented ``{"detail": [...]}`` shape."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from accord.web.api.errors import FieldError, Invalid


class Refused(Exception):
    """A use case refused the request; ``status`` is 409 or 422, ``error`` says why."""

    def __init__(self, status: int, *, field: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.error = FieldError(field=field, reason=reason)


def install(api: NinjaAPI) -> None:
    """Register the handler that turns :class:`Refused` into its response."""

    @api.exception_handler(Refused)
    def refused(request: HttpRequest, exc: Refused) -> HttpResponse:
        body = Invalid(detail=[exc.error]).model_dump()
        response: HttpResponse = api.create_response(request, body, status=exc.status)
        return response
