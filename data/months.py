"""Months as 'YYYY-MM' strings: parsing, validating and listing ranges."""
from __future__ import annotations

import re

from data.errors import BadMonthRange

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> tuple[int, int]:
    """'2023-07' -> (2023, 7); anything else raises BadMonthRange naming the value."""
    match = _MONTH.match(str(text).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise BadMonthRange(f"'{text}' is not a month.", hint="Write months as YYYY-MM, e.g. 2023-07.",
                            value=text)
    return int(match.group(1)), int(match.group(2))


def normalise_month(text: str) -> str:
    year, month = parse_month(text)
    return f"{year:04d}-{month:02d}"


def month_range(start: str, end: str) -> list[str]:
    """Every month from start to end inclusive; a reversed range is an error, not an empty list."""
    y0, m0 = parse_month(start)
    y1, m1 = parse_month(end)
    if (y1, m1) < (y0, m0):
        raise BadMonthRange(f"The range {start} to {end} ends before it starts.",
                            hint="Put the earlier month in --from and the later one in --to.",
                            start=start, end=end)
    months = []
    y, m = y0, m0
    while (y, m) <= (y1, m1):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def add_months(month: str, n: int) -> str:
    y, m = parse_month(month)
    index = y * 12 + (m - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(start: str, end: str) -> int:
    """Number of months in the inclusive range."""
    return len(month_range(start, end))
