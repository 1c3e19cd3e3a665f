"""Domain exceptions raised by service functions.

Services are shared by the web, the CLI and tests, so they raise these instead of
calling ``abort``; the web layer maps them to 404/403/400 responses.
"""


class DomainError(Exception):
    """A business rule refused the change; ``message`` is shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFoundError(DomainError):
    """The object does not exist *for this actor* (also used to hide other tenants' data)."""

    def __init__(self, message: str = "Not found"):
        super().__init__(message)


class PermissionDeniedError(DomainError):
    """The actor may see the object but not perform the action."""

    def __init__(self, message: str = "Permission denied"):
        super().__init__(message)
