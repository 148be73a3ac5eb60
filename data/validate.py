"""Validation at the door: an API reply or a bulk CSV holds stop-and-search records as data.police.uk
publishes them, or it is refused whole (the store never keeps part of a month, nor what was not published).

The same checks run on both sources, on the values as they arrived (before any conversion, so that
`Latitude=north` is refused rather than silently read as missing):

- required fields: every record has a date and a type, and an API record carries an ethnicity field;
- the date is a date, inside the stated month, give or take the published clock's edge hour (UK local
  time written as UTC: summer files hold records stamped 23:xx on the last day of the previous month);
- latitude and longitude are both empty, or both numbers inside the United Kingdom;
- the true/false columns hold True, False or nothing;
- labels are text, without control characters (newline, escape codes, NUL) and of sane length.

Checked against every real file in the shared archive (2017-2025, 273 force-months): the largest label is
84 characters, every point lies within 49.9..57.2 N and 8.1 W..1.7 E, and every out-of-month stamp is
23:00-23:59 on the last day of the previous month.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from data.errors import UNPRINTABLE, InvalidRecords, printable

# Whole United Kingdom (data.police.uk also serves Northern Ireland): 49.8..60.9 N, 8.2 W..1.8 E, rounded out.
LATITUDE_RANGE = (49.0, 61.0)
LONGITUDE_RANGE = (-9.0, 2.0)
CLOCK_EDGE = pd.Timedelta(hours=1)
MAX_LABEL_CHARS = 500  # real labels are at most 84 characters; operation names are free text
REQUIRED_VALUES = ("datetime", "type")
REQUIRED_KEYS = ("datetime", "type")
ETHNICITY_KEYS = ("self_defined_ethnicity", "officer_defined_ethnicity")
BOOLEAN_COLUMNS = ("operation", "outcome_linked_to_object", "removal_of_more_than_outer_clothing", "involved_person")
LABEL_COLUMNS = ("type", "gender", "age_range", "self_defined_ethnicity", "officer_defined_ethnicity",
                 "legislation", "object_of_search", "outcome", "operation_name", "street")
_BOOLEAN_TEXT = {"true", "false", "1", "0", "yes", "no"}

# How each canonical column is named in an API reply (others: the same name).
API_NAMES: dict[str, str] = {"latitude": "location.latitude", "longitude": "location.longitude",
                             "street": "location.street.name",
                             "outcome_linked_to_object": "outcome_linked_to_object_of_search"}


def missing_api_keys(item: Mapping) -> str:
    """'' for an API record with the fields every record carries; else which are missing ('datetime, type')."""
    missing = [f"'{k}'" for k in REQUIRED_KEYS if k not in item]
    if not any(k in item for k in ETHNICITY_KEYS):
        missing.append("an ethnicity field (" + " or ".join(f"'{k}'" for k in ETHNICITY_KEYS) + ")")
    return " and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)


def _text(values: pd.Series) -> pd.Series:
    """Values as stripped strings, empty = missing (the CSV reader's and the normaliser's convention)."""
    text = values.astype("string").str.strip()
    return text.mask(text.eq(""))


def parse_datetimes(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(naive datetimes as published, mask of non-empty values that are not ISO 8601 dates)."""
    text = _text(values)
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    bad = text.notna() & parsed.isna()
    return parsed.dt.tz_convert(None).astype("datetime64[ns]"), bad.fillna(False).astype(bool)


def first_bad_date(values: pd.Series, bad: pd.Series, *, where: str, column: str, rows: str,
                   offset: int) -> InvalidRecords:
    """The one-line error for a value that is not a date (used when the other checks are not asked for)."""
    i = int(np.flatnonzero(bad.to_numpy())[0])
    return InvalidRecords(f"{where}: {rows} {i + offset}: column '{column}' holds '{printable(values.iloc[i])}', "
                          "which is not a date.", hint="Dates look like 2023-07-31T15:37:00+00:00.",
                          file=where, column=column)


class _Findings:
    """Per-check masks of bad records, and how to describe each for one record."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.checks: list[tuple[np.ndarray, object]] = []  # (mask, describe(i) -> str)

    def add(self, mask: pd.Series | np.ndarray, describe) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.checks.append((mask, describe))

    def error(self, *, where: str, rows: str, offset: int, source: str) -> InvalidRecords | None:
        if not self.checks:
            return None
        union = np.logical_or.reduce([m for m, _ in self.checks])
        i = int(np.flatnonzero(union)[0])
        said = "; ".join(describe(i) for mask, describe in self.checks if mask[i])
        refused = int(union.sum())
        others = f" ({refused:,} of {self.n:,} records have problems; the first is shown)" if refused > 1 else ""
        hint = ("The API answered with records that are not stop-and-search records as it publishes them; nothing "
                "was stored and data stored before is kept. Try again later." if source == "api" else
                "Nothing from this file was stored. Check that it is the file data.police.uk published, "
                "unchanged (download it again).")
        return InvalidRecords(f"{where}: refused: {rows} {i + offset}: {said}{others}.", hint=hint, file=where,
                              row=i + offset)


def check_records(frame: pd.DataFrame, *, month: str | Sequence[str] | np.ndarray, where: str, source: str,
                  names: Mapping[str, str], rows: str = "record", offset: int = 1,
                  missing_keys: Sequence[str] | None = None) -> dict[str, pd.Series]:
    """Check records as they arrived (canonical column names, values not yet converted) against the rules in
    the module docstring. Return the values read on the way (so the normaliser does not read them twice):
    'datetime' (naive datetimes), 'latitude' and 'longitude' (floats) and the labels (stripped text, empty =
    missing). Raise InvalidRecords naming the first bad record (its
    number, every field at fault, and how many records have problems).

    `month`: the month every record belongs to, or one month per record (several replies checked at once).
    `names`: how the source names each column (CSV header names or API keys), for the message.
    `rows`/`offset`: how records are counted in the message ('line', 2 for a CSV with its header on line 1).
    """
    n = len(frame)
    found = _Findings(n)

    def name(column: str) -> str:
        return names.get(column, column)

    shapeless = pd.Series(False, index=frame.index)  # records already reported for their shape
    if missing_keys is not None:
        missing = pd.Series(list(missing_keys), index=frame.index, dtype=object)
        found.add(missing.ne(""), lambda i: f"the record lacks {missing.iloc[i]}")
        shapeless |= missing.ne("")

    texts: dict[str, pd.Series] = {}
    for column in (*LABEL_COLUMNS, *BOOLEAN_COLUMNS, "latitude", "longitude", "datetime"):
        values = frame[column]
        if values.dtype == object:  # API values: text, numbers, booleans or null; never objects or lists
            kinds = values.map(type)
            odd = ~kinds.isin([str, int, float, bool, type(None), type(pd.NA)])
            found.add(odd, lambda i, c=column, v=values: f"'{name(c)}' holds a JSON {type(v.iloc[i]).__name__}, "
                                                          "not a value")
            values = values.mask(odd)
            shapeless |= odd
        texts[column] = _text(values)

    for column in REQUIRED_VALUES:
        found.add(texts[column].isna() & ~shapeless,
                  lambda i, c=column: f"'{name(c)}' is empty (every published record has one)")

    stamps, bad_dates = parse_datetimes(texts["datetime"])
    found.add(bad_dates, lambda i: f"'{name('datetime')}' holds '{printable(texts['datetime'].iloc[i])}', "
                                   "which is not a date")
    months = np.asarray([month] * n if isinstance(month, str) else month, dtype=object)
    if n:
        start = pd.Series(pd.to_datetime(pd.Series(months, dtype="string") + "-01").to_numpy(), index=frame.index)
        end = start + pd.DateOffset(months=1)
        outside = stamps.notna() & ((stamps < start - CLOCK_EDGE) | (stamps >= end + CLOCK_EDGE))
        found.add(outside, lambda i: f"'{name('datetime')}' is {stamps.iloc[i].isoformat()}, outside "
                                     f"{months[i]} (the published clock allows an hour either side)")

    clean: dict[str, pd.Series] = {"datetime": stamps}
    for column, (low, high) in (("latitude", LATITUDE_RANGE), ("longitude", LONGITUDE_RANGE)):
        text = texts[column]
        number = clean[column] = pd.to_numeric(text, errors="coerce").astype("float64")
        not_number = text.notna() & number.isna()
        found.add(not_number, lambda i, c=column, t=text: f"'{name(c)}' holds '{printable(t.iloc[i])}', "
                                                           "which is not a number")
        away = number.notna() & ~number.between(low, high)
        found.add(away, lambda i, c=column, x=number, lo=low, hi=high:
                  f"'{name(c)}' is {x.iloc[i]:g}, outside the United Kingdom ({lo:g} to {hi:g})")
    lone = texts["latitude"].isna() ^ texts["longitude"].isna()
    found.add(lone, lambda i: f"only one of '{name('latitude')}' and '{name('longitude')}' is given")

    for column in BOOLEAN_COLUMNS:
        text = texts[column]
        odd = _odd_values(text, lambda v: v.lower() not in _BOOLEAN_TEXT)
        found.add(odd, lambda i, c=column, t=text: f"'{name(c)}' holds '{printable(t.iloc[i])}', which is not "
                                                   "True, False or empty")
    for column in LABEL_COLUMNS:
        text = clean[column] = texts[column]
        control = _odd_values(text, lambda v: UNPRINTABLE.search(v) is not None)
        found.add(control, lambda i, c=column, t=text: f"'{name(c)}' holds control characters "
                                                       f"('{printable(t.iloc[i], limit=60)}')")
        long = _odd_values(text, lambda v: len(v) > MAX_LABEL_CHARS)
        found.add(long, lambda i, c=column, t=text: f"'{name(c)}' is {len(t.iloc[i]):,} characters long, over "
                                                    f"the {MAX_LABEL_CHARS} a label may have")

    error = found.error(where=where, rows=rows, offset=offset, source=source)
    if error is not None:
        raise error
    return clean


def _odd_values(text: pd.Series, is_odd) -> np.ndarray:
    """Mask of records whose value is odd, testing each distinct value once (labels repeat a lot)."""
    distinct = text.dropna().unique()
    odd = [v for v in distinct if is_odd(str(v))]
    if not odd:
        return np.zeros(len(text), dtype=bool)
    return text.isin(odd).fillna(False).to_numpy(bool)
