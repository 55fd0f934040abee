"""Small helpers shared by the server-rendered pages."""

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages

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
