"""Small helpers shared by the server-rendered pages."""

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template import loader

from review_portal.errors import ApplicationError

T = TypeVar("T")


def call_service(request, form: forms.Form | None, fn: Callable[[], T]) -> T | None:
    """Run a service; show its refusal on the form (or as a message) instead of failing."""
    try:
        return fn()
    except ApplicationError as exc:
        _show_refusal(request, form, exc)
        return None


def _show_refusal(request, form: forms.Form | None, exc: ApplicationError) -> None:
    if form is not None:
        # A refusal about a hidden field is the form's as a whole: no one can reach that field.
        field = (exc.field if exc.field in form.fields
                 and not form.fields[exc.field].widget.is_hidden else None)
        form.add_error(field, exc.message)
    else:
        messages.error(request, exc.message)


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



class _Rehearsed(Exception):
    """Raised to roll a rehearsal back."""


def call_service_confirmed(request, form: forms.Form | None, fn: Callable[[], T], *,
                           confirmation: dict) -> T | HttpResponse | None:
    """`call_service` with a confirmation step, for weighty actions.

    A POST without the `confirm` field does not act. The service is rehearsed: run in a
    savepoint that is always rolled back (its rows, audit events, and the notifications and
    jobs it leaves for after the commit all go with it), so a refusal shows at once, on the
    form or as a message, exactly as `call_service` shows it, and a PermissionDenied answers
    403. If the service would accept it, the answer is the confirmation page (`confirmation`:
    the keywords of `confirmation_page`), whose button posts the same fields with `confirm`;
    only that post calls the service for real. Returns the service's result, the confirmation
    page, or None when it was refused.
    """
    if request.POST.get("confirm") == "yes":
        return call_service(request, form, fn)
    try:
        with transaction.atomic():
            fn()
            raise _Rehearsed
    except _Rehearsed:
        pass
    except ApplicationError as exc:
        _show_refusal(request, form, exc)
        return None
    return confirmation_page(request, **confirmation)


def confirmation_page(request, *, title: str, consequence: str, button: str,
                      back_url: str, details: list[tuple[str, str]] | None = None,
                      danger: bool = True) -> HttpResponse:
    """The page that says what will happen, to what, and that it is recorded; its Confirm
    button posts the request's fields again with `confirm` (templates/includes/confirm.html)."""
    carried = [(key, value) for key in request.POST
               if key not in ("csrfmiddlewaretoken", "confirm")
               for value in request.POST.getlist(key)]
    return render(request, "includes/confirm.html", {
        "title": title, "consequence": consequence, "button": button, "back_url": back_url,
        "details": [(label, value) for label, value in details or [] if value],
        "carried": carried, "danger": danger, "action_url": request.get_full_path()})
