"""The one domain error type. Services raise it; the page and API layers turn it into a message."""


class ApplicationError(Exception):
    """A business rule refused the action. `status` says how the API answers (400 or 409)."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400,
                 code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
        self.code = code


def save_or_refuse(obj) -> None:
    """full_clean() and save(), turning the model's own checks (and a uniqueness race past
    them) into the one domain error, so pages and the API show a clear message."""
    from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
    from django.db import IntegrityError

    try:
        obj.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(" ".join(messages),
                               field=None if field == NON_FIELD_ERRORS else field) from exc
    try:
        obj.save()
    except IntegrityError as exc:
        raise ApplicationError("This conflicts with an existing record.", status=409) from exc


class TransitionNotAllowed(ApplicationError):
    def __init__(self, message: str):
        super().__init__(message, status=409, code="transition_not_allowed")
