"""Domain errors. Services raise these; the page middleware and the API exception handler map them once."""

from __future__ import annotations


class ApplicationError(Exception):
    """A business rule said no. `message` tells the user what to do; `status` is 400, or 409 for conflicts."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        status: int = 400,
        field_errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.field_errors = field_errors or {}

    def __str__(self) -> str:
        return self.message


class BulkApplicationError(ApplicationError):
    """Items of a bulk write broke a rule and nothing was saved. `item_errors` maps each refused item's index in
    the `collection` the service was given ("entries", "measurements") to its field errors, so the caller fixes
    them all at once."""

    def __init__(self, message: str, *, collection: str, item_errors: dict[int, dict[str, list[str]]]) -> None:
        super().__init__(message)
        self.collection = collection
        self.item_errors = item_errors
