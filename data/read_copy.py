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
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from data.atomic import atomic_write_parquet
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


def read_cache(path: Path, key: bytes, *, columns: list[str], forces: set[str] | None,
               months: set[str] | None) -> pa.Table | None:
    """The rows of the read copy for the selection, or None when it is absent, stale or unreadable."""
    try:
        if (pq.read_schema(path).metadata or {}).get(CACHE_KEY) != key:
            return None
        filters = [(name, "in", sorted(values)) for name, values in (("force", forces), ("month", months))
                   if values is not None]
        table = pq.read_table(path, columns=columns, filters=filters or None)
    except (OSError, pa.ArrowException):
        return None
    # replaced between the two reads by a copy of another state: not ours to use
    return table if (table.schema.metadata or {}).get(CACHE_KEY) == key else None


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


def write_cache(path: Path, table: pa.Table, key: bytes) -> None:
    try:
        table = table.unify_dictionaries()  # rows stay in manifest order (force, month)
        atomic_write_parquet(path, table.replace_schema_metadata({CACHE_KEY: key}))
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
