"""The project's data errors: one root, a few kinds, each carrying what went wrong and what to do next."""
from __future__ import annotations

import re


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


class InvalidRecords(StopSearchDataError):
    """A reply or file read fine but holds records that are not what data.police.uk publishes (a record
    without a date, a date outside its month, a point outside the UK, a label with control characters...).
    Refused whole: the store never keeps part of a month."""


# C0 and C1 control characters, DEL, and the Unicode controls that reorder or hide text on a terminal.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: object, *, limit: int = 120) -> str:
    """Untrusted text made safe to quote in a one-line message: control characters written as escapes
    ('\\x1b', '\\n', '\\u202e'), cut to `limit` characters with the full length said."""
    text = str(text)
    cut = text[:limit]
    safe = UNPRINTABLE.sub(lambda m: _NAMED.get(m.group(0)) or (
        f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100 else f"\\u{ord(m.group(0)):04x}"), cut)
    return safe if len(text) <= limit else f"{safe}... ({len(text):,} characters)"
