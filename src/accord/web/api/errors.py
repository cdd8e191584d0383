"""Answer every failure with JSON: ``{"detail": "..."}`` or ``{"detail": [{field, reason}]}``.

Authentication (401), authorisation (403), missing records (404) and
oversized bodies (413) carry a message; invalid input (422) and conflicts (409)
list each offending field with the reason, in the words the CSV import uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from accord.usecases import import_portfolio

BODY = "body"
ALREADY_EXISTS = "already exists"

# Friendlier words for pydantic's most common complaints.
_REASONS: Mapping[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
}


class Message(Schema):
    """Say what went wrong in one sentence (401, 403, 404)."""

    detail: str


class FieldError(Schema):
    """Name one field (``body`` for the request as a whole) and what is wrong with it."""

    field: str
    reason: str


class Invalid(Schema):
    """List every field that was refused (409, 422)."""

    detail: list[FieldError]


class MalformedBody(ValueError):
    """The request body is not JSON."""


class JSONBodyParser(Parser):
    """Parse request bodies as JSON, naming the problem when they are not."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        """Return the decoded JSON body; raise ``MalformedBody`` when it is not JSON."""
        try:
            data: dict[str, Any] = json.loads(request.body)
        except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
            raise MalformedBody(f"is not valid JSON ({error})") from error
        except RecursionError:
            raise MalformedBody("is nested too deeply") from None
        return data


class NotFound(HttpError):
    """No record has the requested id."""

    def __init__(self, what: str, record_id: int) -> None:
        super().__init__(404, f"{what} {record_id} does not exist")


class RecordRejected(Exception):
    """The import use case refused a record created through the API."""

    def __init__(self, report: import_portfolio.ImportReport) -> None:
        super().__init__(report.problem)
        self.report = report


def field_errors(report: import_portfolio.ImportReport) -> list[FieldError]:
    """Return the report's errors as API field errors (``body`` when no column is named)."""
    found = [FieldError(field=e.column or BODY, reason=e.reason) for e in report.errors]
    return found or [FieldError(field=BODY, reason=report.problem or "was refused")]


def is_conflict(errors: list[FieldError]) -> bool:
    """Return whether the only error is that the external reference is taken."""
    return [(e.field, e.reason) for e in errors] == [("external_ref", ALREADY_EXISTS)]


def _field(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    source = parts[0] if parts else BODY
    # Body errors are located as ("body", <parameter>, <field>, ...); others as (source, field).
    rest = parts[2:] if source == BODY else parts[1:]
    return rest[0] if rest else BODY


def validation_errors(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """Translate ninja's validation errors into field errors, without repeats."""
    seen: dict[tuple[str, str], FieldError] = {}
    for error in errors:
        field = _field(error.get("loc", ()))
        reason = _REASONS.get(str(error.get("type")), str(error.get("msg", "is invalid")))
        reason = reason.removeprefix("Value error, ")
        seen.setdefault((field, reason), FieldError(field=field, reason=reason))
    return list(seen.values())


def _invalid(
    api: NinjaAPI, request: HttpRequest, errors: list[FieldError], status: int
) -> HttpResponse:
    body = Invalid(detail=errors).model_dump()
    response: HttpResponse = api.create_response(request, body, status=status)
    return response


def install(api: NinjaAPI) -> None:
    """Register the handlers that give every error response its documented shape."""

    @api.exception_handler(ValidationError)
    def invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return _invalid(api, request, validation_errors(exc.errors), 422)

    @api.exception_handler(RecordRejected)
    def rejected_record(request: HttpRequest, exc: RecordRejected) -> HttpResponse:
        errors = field_errors(exc.report)
        return _invalid(api, request, errors, 409 if is_conflict(errors) else 422)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response: HttpResponse = api.create_response(
            request,
            {"detail": "a valid API token is required: send 'Authorization: Bearer <token>'"},
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="accord"'
        return response

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        response: HttpResponse = api.create_response(
            request, {"detail": f"the request body is larger than {limit} bytes"}, status=413
        )
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, MalformedBody):
            return _invalid(api, request, [FieldError(field=BODY, reason=str(exc.__cause__))], 422)
        response: HttpResponse = api.create_response(
            request, {"detail": exc.message}, status=exc.status_code
        )
        return response
