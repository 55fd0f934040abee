"""API cross-cutting pieces: the exception handler that turns domain errors into JSON, and the
404 / 500 handlers that answer JSON under /api/."""

import sys

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.defaults import bad_request as bad_request_page
from django.views.defaults import page_not_found
from django.views.defaults import server_error as server_error_page
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from review_portal.errors import ApplicationError
from review_portal.middleware import RETRY_AFTER_SECONDS, log_outage, outage_of, outage_response


def parse_input(serializer_class, request, **kwargs) -> dict:
    """Validate request.data with a serializer; invalid input becomes a 400 with details."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _first_error(detail, prefix: str = "") -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            label = "" if key == "non_field_errors" else f"{prefix}{key}"
            return _first_error(value, f"{label}: " if label else prefix)
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], prefix)
    return f"{prefix}{detail}"


def _refused_request(exc) -> tuple[dict, int] | None:
    """(body, status) for a request Django refuses before any view sees its data: a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, too many fields or files a 400."""
    if isinstance(exc, RequestDataTooBig):
        return {"detail": "The request body is larger than the API accepts "
                          f"({settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes, uploaded files apart).",
                "code": "request_too_large"}, 413
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return {"detail": str(exc), "code": "too_many_fields"}, 400
    return None


def bad_request(request, exception=None):
    """handler400 (Django's SuspiciousOperation, raised outside a view or past DRF): JSON under
    /api/, the normal page elsewhere."""
    if request.path.startswith("/api/"):
        body, code = _refused_request(exception) or ({"detail": "Bad request.",
                                                      "code": "bad_request"}, 400)
        return JsonResponse(body, status=code)
    return bad_request_page(request, exception)


def not_found(request, exception=None):
    """handler404: JSON under /api/, the normal page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def server_error(request):
    """handler500. Django calls it while the exception is being handled, so sys.exc_info() says
    what failed: an unreachable database or queue is a 503 (the middleware's answer, for errors
    raised outside a view), anything else a 500, as JSON under /api/, the plain page elsewhere."""
    response = outage_response(request, sys.exc_info()[1])
    if response is not None:
        return response
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)
    return server_error_page(request)


def exception_handler(exc, context):
    outage = outage_of(exc)
    if outage is not None:  # the database or the queue is unreachable: 503, try again later
        code, detail = outage
        log_outage(context["request"], exc)
        set_rollback()
        return Response({"detail": detail, "code": code}, status=503,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS),
                                 "Cache-Control": "no-store"})
    refused = _refused_request(exc)
    if refused is not None:  # raised while DRF parsed the body
        body, code = refused
        return Response(body, status=code)
    if isinstance(exc, ApplicationError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            return Response({"detail": "Invalid input.", "errors": exc.message_dict},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ValidationError):
        # Same shape as every other error: a readable "detail", plus the per-field errors.
        return Response({"detail": f"Invalid input: {_first_error(exc.detail)}",
                         "errors": exc.detail}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)
