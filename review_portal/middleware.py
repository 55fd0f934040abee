"""Faults answer cleanly: an unreachable database or job queue is a 503 with Retry-After (JSON
under /api/, a plain page elsewhere), not a 500 page.

The middleware catches what views raise; what other middleware raises (loading the session, for
one) reaches handler500 (review_portal.api.server_error), which answers the same way.
"""

import logging
import sqlite3

from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from kombu.exceptions import OperationalError as QueueOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30

# (exception types, code, what is unreachable). Only connection-level errors: a broken query is
# a bug and stays a 500.
OUTAGES = (
    ((DatabaseOperationalError, DatabaseInterfaceError), "database_unavailable",
     "The database is unreachable."),
    ((QueueOperationalError, RedisConnectionError, RedisTimeoutError), "queue_unavailable",
     "The job queue is unreachable."),
)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _is_sqlite_mistake(exc: BaseException) -> bool:
    # SQLite reports a missing table or a syntax error as an OperationalError too: a bug or an
    # unmigrated database, not an outage.
    cause = exc.__cause__
    return isinstance(cause, sqlite3.OperationalError) and (
        str(cause).startswith("no such ") or "syntax error" in str(cause))


def outage_of(exc: BaseException | None) -> tuple[str, str] | None:
    """(code, detail) when `exc` says a backing service is unreachable, else None."""
    if exc is None or _is_sqlite_mistake(exc):
        return None
    for types, code, detail in OUTAGES:
        if isinstance(exc, types):
            return code, f"{detail} Try again in a minute."
    return None


def outage_response(request: HttpRequest, exc: BaseException | None) -> HttpResponse | None:
    """The 503 for an outage, or None. Touches neither the database nor the session: the page
    is rendered without a request context, so no context processor runs."""
    outage = outage_of(exc)
    if outage is None:
        return None
    code, detail = outage
    if is_api(request):
        response = JsonResponse({"detail": detail, "code": code}, status=503)
    else:
        response = HttpResponse(loader.render_to_string("503.html", {"detail": detail}),
                                status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def log_outage(request: HttpRequest, exc: BaseException) -> None:
    # One line, no traceback: during an outage every request fails the same way.
    first_line = (str(exc).strip().splitlines() or [""])[0]
    logger.warning("%s: answering %s %s with 503 (%s: %s)", outage_of(exc)[0], request.method,
                   request.path, type(exc).__name__, first_line)


class FaultResponseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        response = outage_response(request, exception)
        if response is not None:
            log_outage(request, exception)
        return response
