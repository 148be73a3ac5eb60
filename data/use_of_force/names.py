"""Force names and financial years as the use-of-force sources spell them, turned into project ids."""
from __future__ import annotations

import re
from functools import cache

import pandas as pd

from data import reference_data
from data.errors import BadFile, StopSearchDataError

PROJECT_ALL = "ALL"
_DROP_WORDS = {"police", "constabulary", "service", "the", "force"}


def _name_key(name: object) -> str:
    text = str(name or "").replace("\u00a0", " ").strip().lower()
    text = text.lstrip("*").strip()
    # "London, City of" -> "city of london"
    match = re.fullmatch(r"(.+?),\s*(.+ of)", text)
    if match:
        text = f"{match.group(2)} {match.group(1)}"
    text = text.replace("&", " and ").replace("-", " ")
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w and w not in _DROP_WORDS]
    return " ".join(words)


@cache
def _force_keys() -> dict[str, str]:
    table = reference_data.forces()
    keys: dict[str, str] = {}
    for column in ("force", "name", "home_office_name", "ons_name"):
        for force, name in zip(table["force"], table[column], strict=True):
            if name:
                keys.setdefault(_name_key(name), force)
    keys.update({"metropolitan": "metropolitan", "met": "metropolitan", "mps": "metropolitan",
                 "btp": "btp", "british transport": "btp"})
    return keys


def force_id(name: object) -> str | None:
    """Project force id for a source's force name ('Devon & Cornwall ', 'London, City of'...), or None."""
    return _force_keys().get(_name_key(name))


def is_total_row(name: object) -> bool:
    """A national or regional total row ('Total England and Wales', 'Total North West ')."""
    return _name_key(name).startswith("total ")


def map_forces(raw: pd.Series, *, column: str, path: object = None) -> pd.Series:
    """Vectorised force-name -> id over distinct values; BadFile naming the unknown names."""
    values = raw.astype("string").fillna("")
    distinct = pd.unique(values)
    mapping = {v: force_id(v) for v in distinct}
    unknown = sorted(v for v, f in mapping.items() if f is None)
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:5])
        raise BadFile(f"Unknown police force name(s) in column '{column}' of {path}: {shown}.",
                      hint="Add the spelling to data/reference/forces.csv (home_office_name) or report it.",
                      file=str(path), column=column)
    return values.map(mapping).astype("string")


_YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def financial_year(text: object) -> str:
    """'2022/23' from '2022/23', '2022-23', '2022_23', '2022 to 2023', 'year ending March 2023', 'FY22-23'."""
    raw = str(text or "").strip()
    low = raw.lower()
    full = [int(y) for y in _YEAR_RE.findall(low)]
    start: int | None = None
    if len(full) >= 2 and full[1] == full[0] + 1:
        start = full[0]
    elif len(full) >= 1:
        after = re.search(rf"{full[0]}\s*[-/_ ]\s*(\d\d)(?!\d)", low)
        if after and int(after.group(1)) == (full[0] + 1) % 100:
            start = full[0]
        elif "ending" in low or "ended" in low or re.search(r"mar(ch)?\s*" + str(full[0]), low):
            start = full[0] - 1
        elif re.search(r"apr(il)?\s*" + str(full[0]), low):
            start = full[0]
    else:
        short = re.search(r"(?<!\d)(\d\d)\s*[-/_]\s*(\d\d)(?!\d)", low)
        if short and int(short.group(2)) == (int(short.group(1)) + 1) % 100:
            start = 2000 + int(short.group(1))
    if start is None:
        raise StopSearchDataError(f"Cannot read a financial year from {raw!r}.",
                                  hint="Give years as YYYY/YY, for example 2022/23.", year=raw)
    return f"{start}/{(start + 1) % 100:02d}"


def year_slug(year: str) -> str:
    """'2022/23' -> '2022-23' (for file names)."""
    return financial_year(year).replace("/", "-")


def year_months(year: str) -> list[str]:
    """The months April..March of a financial year, as 'YYYY-MM'."""
    start = int(financial_year(year)[:4])
    return [f"{start}-{m:02d}" for m in range(4, 13)] + [f"{start + 1}-{m:02d}" for m in range(1, 4)]


def financial_year_of_dates(dates: pd.Series) -> pd.Series:
    """Vectorised financial year of dates ('2022/23' for 2022-04-01 .. 2023-03-31); <NA> for missing."""
    if pd.api.types.is_datetime64_any_dtype(dates):
        parsed = dates
    else:
        text = dates.astype("string").str.strip()
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
        missing = parsed.isna() & text.notna()
        if missing.any():
            parsed = parsed.where(~missing, pd.to_datetime(text[missing], errors="coerce", dayfirst=True,
                                                            format="mixed"))
    start = parsed.dt.year - (parsed.dt.month < 4).astype("Int64")
    out = start.astype("Int64").astype("string") + "/" + ((start + 1) % 100).astype("Int64").astype(
        "string").str.zfill(2)
    return out.where(parsed.notna(), pd.NA)
