"""The project's data errors: one root, a few kinds, each carrying what went wrong and what to do next."""
from __future__ import annotations


class StopSearchDataError(Exception):
    """Root of every data problem the project reports to a user (CLI, app, tests)."""

    def __init__(self, message: str, *, hint: str | None = None, **context: object) -> None:
        self.message = message
        self.hint = hint
        self.context = {k: v for k, v in context.items() if v is not None}
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class SourceUnavailable(StopSearchDataError):
    """The remote source could not be reached or kept failing (network, 5xx, timeouts)."""


class RateLimited(SourceUnavailable):
    """The source answered 429 more often than the retry budget allows."""


class BadResponse(StopSearchDataError):
    """The source answered, but not with what the API promises (HTML page, JSON that is not a list...)."""


class BadFile(StopSearchDataError):
    """A file could not be read: corrupt zip, missing or renamed column, unreadable value."""


class UnknownForce(StopSearchDataError):
    """A force id that the project does not know."""


class BadMonthRange(StopSearchDataError):
    """A malformed month, or a range whose end comes before its start."""


class StoreError(StopSearchDataError):
    """The local store is missing, unreadable or inconsistent."""
