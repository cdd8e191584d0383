"""``GET /healthz``: is the app up and can it reach its database."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        # The details (host, user, driver message) go to the log, not to the public.
        logger.warning("Health check cannot reach the database: %s", error)
        return JsonResponse(
            {
                "status": "unavailable",
                "database": "unreachable",
                "reason": "the database did not answer; see the server log",
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "database": "ok"})
