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


class TransitionNotAllowed(ApplicationError):
    def __init__(self, message: str):
        super().__init__(message, status=409, code="transition_not_allowed")
