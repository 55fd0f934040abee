"""Small helpers shared by the server-rendered pages."""

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.template import loader

from review_portal.errors import ApplicationError

T = TypeVar("T")


def call_service(request, form: forms.Form | None, fn: Callable[[], T]) -> T | None:
    """Run a service; show its refusal on the form (or as a message) instead of failing."""
    try:
        return fn()
    except ApplicationError as exc:
        if form is not None:
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, exc.message)
        else:
            messages.error(request, exc.message)
        return None


def download_refused(exc: ApplicationError) -> HttpResponse:
    """A download a service refused, as a page: a file that is not there is the 404 page; a
    storage that does not answer is the 503 page with Retry-After; anything else its status with
    the message."""
    if exc.status == 404:
        raise Http404(exc.message)
    if exc.status == 503:
        response = HttpResponse(loader.render_to_string("503.html", {"detail": exc.message}),
                                status=503)
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response
    return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
