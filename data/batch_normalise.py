"""Normalise a batch of bulk CSV files once per DISTINCT value, straight into the store's Arrow tables.

normalise.from_csv works on every record with pandas string operations (strip, masks, parsing); a
national year holds ~600,000 records but only a few thousand distinct labels, stamps and coordinates.
Here each column of the joined batch is dictionary-encoded (exact raw text -> code), the very same pandas
functions the per-record path uses (validate._text, validate.parse_datetimes, pd.to_numeric,
normalise.parse_bool) run on the distinct values only, and the answers are taken back per record by code.
The checks that span columns or depend on the record's month (required fields, both coordinates or
neither, the month's window) run on those per-record answers with numpy.

This path never explains a refusal: on any doubt (a value that fails a check, anything unusual) it answers
None and the caller sends the files through normalise.from_csv one at a time, whose results and one-line
messages are the reference. What it returns is exactly what data.store would make from each file's
records alone (tests/test_import_identical.py compares tables, Parquet bytes and manifests).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from data import normalise, validate
from data.errors import UNPRINTABLE, StopSearchDataError
from data.store import STORE_SCHEMA

_LABELS = ("type", "gender", "age_range", "self_defined_ethnicity", "officer_defined_ethnicity", "legislation",
           "object_of_search", "outcome", "operation_name")
_BOOLEANS = ("operation", "outcome_linked_to_object", "removal_of_more_than_outer_clothing")
_STRING = pd.StringDtype()  # what normalise.read_csv_table gives the per-record path


class _Doubt(Exception):
    """Something the per-record path must look at (and, if it is wrong, explain)."""


class _Distinct:
    """One raw column as (code per record, distinct raw values); the last distinct value is the missing one."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        encoded = pc.dictionary_encode(column.combine_chunks() if column.num_chunks != 1 else column.chunk(0))
        self.size = len(encoded.dictionary)
        self.codes = encoded.indices.fill_null(self.size).to_numpy(zero_copy_only=False).astype(np.intp)
        self.has_missing = encoded.null_count > 0
        raw = pa.concat_arrays([encoded.dictionary, pa.nulls(1, pa.string())])
        self.values = pd.Series(raw.to_pandas(types_mapper={pa.string(): _STRING}.get))

    def any(self, mask: pd.Series | np.ndarray) -> bool:
        """True when a value some record holds is flagged in `mask` (one flag per distinct value)."""
        flags = np.asarray(mask, dtype=bool)
        return bool(flags[:self.size].any() or (self.has_missing and flags[self.size]))

    def rows(self, per_value: np.ndarray) -> np.ndarray:
        return per_value[self.codes]


def _labels(raw: _Distinct, *, required: bool) -> tuple[np.ndarray, pa.Array]:
    """(code per record into the sorted labels, -1 = missing; the sorted labels), as coerce_raw's categories."""
    text = validate._text(raw.values)
    if required and raw.any(text.isna()):
        raise _Doubt
    present = text.dropna()
    if any(UNPRINTABLE.search(str(v)) is not None or len(str(v)) > validate.MAX_LABEL_CHARS
           for v in present.unique()):
        raise _Doubt
    labels = pa.array(sorted(set(present.tolist())), type=pa.string())  # code point order = pandas' order
    per_value = np.full(len(text), -1, dtype=np.int32)
    if len(present):
        found = pc.index_in(pa.array(present.tolist(), type=pa.string()), value_set=labels)
        per_value[present.index.to_numpy()] = found.to_numpy(zero_copy_only=False)
    return raw.rows(per_value), labels


def _booleans(raw: _Distinct, *, column: str) -> pa.Array:
    text = validate._text(raw.values)
    if any(str(v).lower() not in validate._BOOLEAN_TEXT for v in text.dropna().unique()):
        raise _Doubt
    try:
        parsed = normalise.parse_bool(raw.values, where="batch", column=column)
    except StopSearchDataError as exc:
        raise _Doubt from exc
    values = parsed.to_numpy(dtype=bool, na_value=False)
    missing = parsed.isna().to_numpy()
    return pa.array(raw.rows(values), type=pa.bool_(), mask=raw.rows(missing))


def _coordinates(lat: _Distinct, lon: _Distinct) -> tuple[pa.Array, pa.Array]:
    out, missing = [], []
    for raw, (low, high) in ((lat, validate.LATITUDE_RANGE), (lon, validate.LONGITUDE_RANGE)):
        text = validate._text(raw.values)
        number = pd.to_numeric(text, errors="coerce").astype("float64")
        if raw.any(text.notna() & number.isna()) or raw.any(number.notna() & ~number.between(low, high)):
            raise _Doubt
        out.append(raw.rows(number.to_numpy(dtype=np.float64, na_value=np.nan)))
        missing.append(raw.rows(text.isna().to_numpy()))
    if (missing[0] ^ missing[1]).any():
        raise _Doubt
    # pa.Array.from_pandas (data.store) reads NaN as missing
    return (pa.array(out[0], type=pa.float64(), from_pandas=True),
            pa.array(out[1], type=pa.float64(), from_pandas=True))


def _stamps(raw: _Distinct, months: np.ndarray, counts: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """(timestamps, date_only) per record; a doubt for a missing or unreadable stamp, or one outside its month."""
    stamps, bad = validate.parse_datetimes(raw.values)
    if raw.any(bad) or raw.any(stamps.isna()):
        raise _Doubt
    ns = raw.rows(stamps.to_numpy(dtype="datetime64[ns]").view(np.int64))
    start = pd.to_datetime(pd.Series(months, dtype="string") + "-01")
    end = start + pd.DateOffset(months=1)
    low = np.repeat((start - validate.CLOCK_EDGE).to_numpy(dtype="datetime64[ns]").view(np.int64), counts)
    high = np.repeat((end + validate.CLOCK_EDGE).to_numpy(dtype="datetime64[ns]").view(np.int64), counts)
    if ((ns < low) | (ns >= high)).any():
        raise _Doubt
    date_only = raw.rows(stamps.eq(stamps.dt.normalize()).to_numpy(dtype=bool))
    return pa.array(ns.view("datetime64[ns]"), type=pa.timestamp("ns")), pa.array(date_only, type=pa.bool_())


def _split(codes: np.ndarray, labels: pa.Array, counts: np.ndarray) -> list[pa.DictionaryArray]:
    """Each file's dictionary column: only the labels it uses, in label order (data.store's compaction)."""
    files = len(counts)
    owner = np.repeat(np.arange(files), counts)
    width = len(labels)
    used = np.zeros((files, width + 1), dtype=bool)  # the last column soaks up missing values (-1)
    used[owner, codes] = True
    used = used[:, :width]
    rank = np.cumsum(used, axis=1, dtype=np.int32) - 1
    indices = np.where(codes >= 0, rank[owner, np.maximum(codes, 0)] if width else -1, -1).astype(np.int32)
    whole = pa.array(indices, type=pa.int32(), mask=indices < 0)  # made once, sliced per file (no copy)
    names = labels.to_pylist()
    arrays, start = [], 0
    for f, n in enumerate(counts):
        mine = [names[i] for i in np.flatnonzero(used[f])]
        arrays.append(pa.DictionaryArray.from_arrays(whole.slice(start, n), pa.array(mine, type=pa.string())))
        start += n
    return arrays


def _single(label: str, n: int) -> pa.DictionaryArray:
    if not n:
        return pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), pa.array([], pa.string()))
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32), pa.int32()), pa.array([label], pa.string()))


def normalise_files(table: pa.Table, *, keys: Sequence[tuple[str, str]], counts: Sequence[int]) -> list[pa.Table] | None:
    """The raw CSV columns of several files joined (normalise.read_csv_arrow), their (force, month) and record
    counts -> each file's table in the store's schema; None when any record needs the per-record path."""
    counts = np.asarray(counts, dtype=np.int64)
    if table.num_rows != int(counts.sum()):
        return None
    raw = {normalise.CSV_COLUMNS[name]: table.column(name) for name in table.column_names}
    try:
        distinct = {name: _Distinct(column) for name, column in raw.items()}
        months = np.asarray([month for _, month in keys], dtype=object)
        stamps, date_only = _stamps(distinct["datetime"], months, counts)
        latitude, longitude = _coordinates(distinct["latitude"], distinct["longitude"])
        booleans = {name: _booleans(distinct[name], column=name) for name in _BOOLEANS}
        labels = {name: _labels(distinct[name], required=name in validate.REQUIRED_VALUES) for name in _LABELS}
    except _Doubt:
        return None
    kind = raw["type"]
    # no involved_person column in the bulk files: a person is involved unless it was a vehicle-only search
    booleans["involved_person"] = pc.not_equal(kind.combine_chunks() if kind.num_chunks != 1 else kind.chunk(0),
                                               pa.scalar("Vehicle search"))
    split = {name: _split(codes, values, counts) for name, (codes, values) in labels.items()}
    street = _split(np.full(int(counts.sum()), -1, np.int32), pa.array([], pa.string()), counts)
    whole = {"datetime": stamps, "date_only": date_only, "latitude": latitude, "longitude": longitude, **booleans}
    tables, start = [], 0
    for f, ((force, month), n) in enumerate(zip(keys, counts, strict=True)):
        n = int(n)
        columns = []
        for field in STORE_SCHEMA:
            name = field.name
            if name in ("force", "month"):
                columns.append(_single(force if name == "force" else month, n))
            elif name == "street":
                columns.append(street[f])
            elif name in split:
                columns.append(split[name][f])
            else:
                columns.append(whole[name].slice(start, n))
        start += n
        tables.append(pa.Table.from_arrays(columns, schema=STORE_SCHEMA))
    return tables
