"""Reading the store: the selected force-months, only the columns asked for, through the combined read copy.

A national year is ~530 small files and Parquet costs ~2 ms a file to open, so reads go through one
combined copy, <root>/cache/stop_search.parquet (data.read_copy), tagged with a hash of every ok entry's
force, month and checksum and used only after the selected files pass read_copy.check_files. The copy is
written in row groups of one force and year, so a read of some forces or months touches only theirs.
Any read of the whole store (or refresh_read_copy) rebuilds a stale copy; a partial read with a stale
copy reads the files themselves.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from data import read_copy, schema
from data.errors import StoreError
from data.store_manifest import ManifestEntry

if TYPE_CHECKING:
    from data.store import Store


def read_raw(store: Store, forces: list[str] | None, months: list[str] | None, *,
             columns: list[str] | None = None) -> pd.DataFrame:
    """Raw canonical columns (or a subset) of the selected force-months, categoricals kept."""
    chosen, stored = store._selected(forces, months)
    names = list(columns) if columns is not None else list(schema.RAW_COLUMNS)
    if not chosen:
        return schema.coerce_raw(schema.empty_frame()).loc[:, names]
    files = store._check_files(chosen)
    key = read_copy.cache_key(stored)
    forces_in, months_in = _scope(chosen, stored)
    everything = forces_in is None
    expected = sum(e.records for e in chosen)
    frame = read_copy.read_cache_frame(store.cache_path, key, columns=names, rows=expected, forces=forces_in,
                                       months=months_in)
    if frame is None and everything:  # a whole-store read builds the copy, then reads it
        refresh_read_copy(store)
        frame = read_copy.read_cache_frame(store.cache_path, key, columns=names, rows=expected, forces=None,
                                           months=None)
    if frame is None:
        frame = read_copy.to_frame(_read_files(store, files, expected, columns=names))
    return _canonical_dtypes(frame, names)


def _scope(chosen: list[ManifestEntry], stored: list[ManifestEntry]) -> tuple[set[str] | None, set[str] | None]:
    """(forces, months) to pick from the read copy: None, None when every stored month is chosen."""
    if len(chosen) == len(stored):
        return None, None
    return {e.force for e in chosen}, {e.month for e in chosen}


def _canonical_dtypes(frame: pd.DataFrame, names) -> pd.DataFrame:
    for name in names:
        dtype = schema.RAW_COLUMNS[name]
        if str(frame[name].dtype) != dtype:
            frame[name] = frame[name].astype(dtype)
    return frame


def _read_files(store: Store, files: list[str | Path], expected: int, *, columns: list[str]) -> pa.Table:
    try:
        table = pq.read_table([str(p) for p in files], columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"The store under {store.data_dir} could not be read ({exc}).",
                         hint=read_copy.REPAIR, file=str(store.data_dir)) from exc
    if table.num_rows != expected:
        raise StoreError(f"The files of {len(files)} force-months under {store.data_dir} hold "
                         f"{table.num_rows:,} records but the manifest says {expected:,}.",
                         hint="Run `python -m data verify` to see which months disagree, then "
                              "`python -m data verify --repair`.", file=str(store.manifest_path))
    return table


def refresh_read_copy(store: Store) -> None:
    """Build the read copy from the checked files when it is missing or does not match the manifest."""
    _, stored = store._selected(None, None)
    if not stored:
        return
    key = read_copy.cache_key(stored)
    if read_copy.label_counts(store.cache_path, key) is not None and \
            read_copy.counts_current(read_copy.counts_path(store.cache_path), key):
        return
    files = store._check_files(stored)
    by_group: dict[tuple[str, str], list[tuple[ManifestEntry, str | Path]]] = {}
    for entry, path in zip(stored, files, strict=True):
        by_group.setdefault((entry.force, entry.month[:4]), []).append((entry, path))

    def reader(members: list[tuple[ManifestEntry, str | Path]]) -> Callable[[], pa.Table]:
        return lambda: _read_files(store, [p for _, p in members], sum(e.records for e, _ in members),
                                   columns=list(schema.RAW_COLUMNS))

    groups = [(force, year, reader(members)) for (force, year), members in by_group.items()]
    from data.store import STORE_SCHEMA  # here: data.store imports this module

    read_copy.write_cache(store.cache_path, key, groups, STORE_SCHEMA)


def label_counts(store: Store) -> dict[str, dict[str, int]]:
    """{raw column: {label: records}} over every stored record, '' for no label ({} for an empty store)."""
    _, stored = store._selected(None, None)
    if not stored:
        return {}
    key = read_copy.cache_key(stored)
    counts = read_copy.label_counts(store.cache_path, key)
    if counts is None:
        refresh_read_copy(store)
        counts = read_copy.label_counts(store.cache_path, key)
    if counts is None:  # the copy could not be written (read-only store): count from the records
        raw = read_raw(store, None, None, columns=list(read_copy.LABEL_COLUMNS))
        counts = schema.label_counts(raw, read_copy.LABEL_COLUMNS)
    return counts


def read(store: Store, forces: list[str] | None, months: list[str] | None, *,
         columns: list[str] | None = None) -> pd.DataFrame:
    """Canonical records (raw + derived, or only `columns`) of the selected forces and months."""
    raw_names = None if columns is None else schema.raw_columns_for(list(columns))
    raw = read_raw(store, forces, months, columns=raw_names)
    if columns is None:
        return schema.add_derived_columns(raw) if len(raw) else schema.empty_frame()
    derived = [c for c in columns if c in schema.DERIVED_COLUMNS]
    return schema.add_derived_columns(raw, derived).loc[:, list(columns)]


def read_counts(store: Store, forces: list[str] | None, months: list[str] | None) -> pd.DataFrame | None:
    """Counted records of the selected force-months (read_copy.COUNT_KEYS, the ethnic groups derived from
    their labels, and read_copy.COUNT_COLUMN: how many records each row stands for), or None when the
    counts kept with the read copy are missing or stale (read the records instead). None: every force or
    month."""
    chosen, stored = store._selected(forces, months)
    if not chosen:
        return None
    store._check_files(chosen)  # as read_raw: every selected file is the one its entry describes
    forces_in, months_in = _scope(chosen, stored)
    table = read_copy.read_counts(read_copy.counts_path(store.cache_path), read_copy.cache_key(stored),
                                  forces=forces_in, months=months_in)
    if table is None:
        return None
    frame = read_copy.to_frame(table)
    if int(frame[read_copy.COUNT_COLUMN].sum()) != sum(e.records for e in chosen):
        return None
    frame = _canonical_dtypes(frame, read_copy.COUNT_KEYS)
    return schema.add_derived_columns(frame, ["self_defined_group", "self_defined_broad", "officer_defined_broad"])


def unknown_labels(store: Store) -> pd.DataFrame:
    """Raw labels in the stored records that no mapping table knows: column, label, records."""
    from data import vocab

    counts = label_counts(store)
    rows = [{"column": column, "label": label, "records": n}
            for column in vocab.MAPPINGS
            for label, n in counts.get(column, {}).items() if label and vocab.lookup(column, label) is None]
    return pd.DataFrame(rows, columns=["column", "label", "records"])
