"""Reading the store safely: every data file is checked against its manifest entry before it is used,
directly or through the combined read copy (<root>/cache/stop_search.parquet).

The cheap check, on every read, compares each file's size and mtime_ns with those the manifest recorded
when the file was written; a file that differs (copied, touched, swapped, damaged) is hashed, and only a
file whose sha256 is still the manifest's checksum is used. The read copy is tagged with the checksums
of the entries it was built from, so it is used only while every one of those files passes the check.
`python -m data verify` does the full hash of every file.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data.atomic import atomic_write_bytes
from data.errors import StoreError
from data.store_manifest import ManifestEntry

log = logging.getLogger(__name__)

CACHE_KEY = b"stopsearch_manifest_key"
REPAIR = "Run `python -m data verify --repair` (it marks the month failed), then fetch or import it again."

# (path, inode, size, mtime_ns) -> sha256 of files hashed by this process, so a copied store is hashed once
_HASHED: dict[tuple[str, int, int, int], str] = {}
_HASHED_GUARD = threading.Lock()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def damaged(entry: ManifestEntry, path: Path, what: str) -> StoreError:
    return StoreError(f"{path} ({entry.force} {entry.month}) {what}; its records are not used.", hint=REPAIR,
                      force=entry.force, month=entry.month, file=str(path))


def check_file(entry: ManifestEntry, path: Path) -> None:
    """Raise StoreError unless `path` is the file `entry` describes (stat first, hash only on a difference)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise damaged(entry, path, "is missing although the manifest lists it") from None
    if entry.size is not None and entry.size == stat.st_size and entry.mtime_ns == stat.st_mtime_ns:
        return
    memo = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _HASHED_GUARD:
        known = _HASHED.get(memo)
    if known is None:
        known = sha256_file(path)
        with _HASHED_GUARD:
            _HASHED[memo] = known
    if known != entry.checksum:
        raise damaged(entry, path, "is not the file the manifest describes (its checksum differs: changed, "
                                   "swapped, truncated or damaged after it was stored)")


def check_files(entries: list[ManifestEntry], path_for: Callable[[str, str], Path]) -> list[Path]:
    paths = []
    for entry in entries:
        path = path_for(entry.force, entry.month)
        check_file(entry, path)
        paths.append(path)
    return paths


def cache_key(stored: list[ManifestEntry]) -> bytes:
    text = "\n".join(f"{e.force}|{e.month}|{e.checksum}" for e in sorted(stored, key=lambda e: (e.force, e.month)))
    return hashlib.sha256(text.encode()).hexdigest().encode()


# The read copy is written in row groups of one force and one calendar year (~500 at ten national years),
# listed in its metadata, so that a page reads only the row groups of its forces and years: the latest
# year of every force, or ten years of one force, never the whole store.
ROW_GROUPS_KEY = b"stopsearch_row_groups"   # JSON [[force, year], ...], one per row group, in file order
LABELS_KEY = b"stopsearch_label_counts"     # JSON {column: {label: records}}, "" = no label, whole store
LABEL_COLUMNS = ("type", "gender", "age_range", "legislation", "object_of_search", "self_defined_ethnicity",
                 "officer_defined_ethnicity", "outcome")


def read_cache(path: Path, key: bytes, *, columns: list[str], forces: set[str] | None,
               months: set[str] | None) -> pa.Table | None:
    """The rows of the read copy for the selection, or None when it is absent, stale or unreadable."""
    try:
        parquet = pq.ParquetFile(path)
        metadata = parquet.schema_arrow.metadata or {}
        if metadata.get(CACHE_KEY) != key or ROW_GROUPS_KEY not in metadata:
            return None
        index = json.loads(metadata[ROW_GROUPS_KEY])
        if len(index) != parquet.num_row_groups:
            return None
        years = None if months is None else {m[:4] for m in months}
        groups = [i for i, (force, year) in enumerate(index)
                  if (forces is None or force in forces) and (years is None or year in years)]
        wanted = [c for c in ("force", "month") if c not in columns and
                  (c == "force" and forces is not None or c == "month" and months is not None)]
        table = parquet.read_row_groups(groups, columns=[*columns, *wanted]) if groups else \
            parquet.schema_arrow.empty_table().select([*columns, *wanted])
    except (OSError, pa.ArrowException, ValueError, KeyError, TypeError):
        return None
    mask = None
    for name, allowed in (("force", forces), ("month", months)):
        if allowed is not None and table.num_rows:
            member = _member(table.column(name), allowed)
            mask = member if mask is None else pc.and_(mask, member)
    if mask is not None:
        table = table.filter(mask)
    return table.select(columns)


def _member(column: pa.ChunkedArray, allowed: set[str]) -> pa.ChunkedArray:
    """Which values of a dictionary column are in `allowed`: tested once per dictionary entry, not per row."""
    value_set = pa.array(sorted(allowed), type=pa.string())
    chunks = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            known = pc.is_in(chunk.dictionary, value_set=value_set)
            chunks.append(pc.fill_null(pc.take(known, chunk.indices), False))
        else:
            chunks.append(pc.fill_null(pc.is_in(chunk, value_set=value_set), False))
    return pa.chunked_array(chunks, type=pa.bool_())


def label_counts(path: Path, key: bytes) -> dict[str, dict[str, int]] | None:
    """{column: {label: records}} of the whole store, kept in the read copy's metadata (None when stale)."""
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException):
        return None
    if metadata.get(CACHE_KEY) != key or LABELS_KEY not in metadata:
        return None
    return json.loads(metadata[LABELS_KEY])


def to_frame(table: pa.Table) -> pd.DataFrame:
    """The table as pandas (booleans as pd.BooleanDtype, dictionaries as categoricals), without copies
    held at once: each column becomes its own block and arrow frees its buffers as it goes."""
    return table.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get, ignore_metadata=True,
                           split_blocks=True, self_destruct=True)


# Columns read from the read copy at a time: the whole arrow table of ten national years is ~0.45 GB
# beside the ~0.3 GB frame it becomes, so it is read and converted a few columns at a time.
COLUMN_GROUP = 4


def read_cache_frame(path: Path, key: bytes, *, columns: list[str], forces: set[str] | None,
                     months: set[str] | None, rows: int) -> pd.DataFrame | None:
    """The selection from the read copy as a frame (a few columns at a time, each part checked against
    `key` as read_cache does), or None when the copy is absent, stale, unreadable or not `rows` long."""
    parts = []
    for start in range(0, max(len(columns), 1), COLUMN_GROUP):
        table = read_cache(path, key, columns=columns[start:start + COLUMN_GROUP], forces=forces, months=months)
        if table is None or table.num_rows != rows:
            return None
        parts.append(to_frame(table))
        del table
    if len(parts) == 1:
        return parts[0]
    return pd.concat(parts, axis=1)


def _row_groups(table: pa.Table) -> tuple[list[list[str]], list[tuple[int, int]]]:
    """([force, year] of each row group, (offset, length) of each) for rows ordered by force and month."""
    force = table.column("force").to_pandas().astype(str).to_numpy()
    year = table.column("month").to_pandas().astype(str).str[:4].to_numpy()
    if not len(force):
        return [], []
    change = np.flatnonzero((force[1:] != force[:-1]) | (year[1:] != year[:-1])) + 1
    starts = [0, *change.tolist()]
    ends = [*change.tolist(), len(force)]
    return [[str(force[s]), str(year[s])] for s in starts], [(s, e - s) for s, e in zip(starts, ends, strict=True)]


def _label_counts(table: pa.Table) -> dict[str, dict[str, int]]:
    counts = {}
    for name in LABEL_COLUMNS:
        values = table.column(name).to_pandas().value_counts(dropna=False)
        counts[name] = {("" if pd.isna(label) else str(label)): int(n) for label, n in values.items() if n}
    return counts


def write_cache(path: Path, table: pa.Table, key: bytes) -> None:
    try:
        table = table.unify_dictionaries()  # rows stay in manifest order (force, month)
        groups, slices = _row_groups(table)
        metadata = {CACHE_KEY: key, ROW_GROUPS_KEY: json.dumps(groups).encode(),
                    LABELS_KEY: json.dumps(_label_counts(table)).encode()}
        table = table.replace_schema_metadata(metadata)
        buffer = io.BytesIO()
        with pq.ParquetWriter(buffer, table.schema, compression="zstd") as writer:
            for offset, length in slices:
                writer.write_table(table.slice(offset, length), row_group_size=max(length, 1))
        atomic_write_bytes(path, buffer.getvalue())
    except (OSError, pa.ArrowException) as exc:  # only a cache: reading still works without it
        log.warning("could not write the read cache %s: %s", path, exc)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
