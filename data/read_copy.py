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
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from data import arrow_memory  # noqa: F401 - imported for its effect: Arrow's faster allocator
from data.atomic import atomic_write_bytes
from data.errors import StoreError
from data.store_manifest import ManifestEntry

log = logging.getLogger(__name__)
_LOCAL = pafs.LocalFileSystem()

CACHE_KEY = b"stopsearch_manifest_key"
REPAIR = "Run `python -m data verify --repair` (it marks the month failed), then fetch or import it again."

# (path, inode, size, mtime_ns) -> sha256 of files hashed by this process, so a copied store is hashed once
_HASHED: dict[tuple[str, int, int, int], str] = {}
_HASHED_GUARD = threading.Lock()


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def damaged(entry: ManifestEntry, path: str | Path, what: str) -> StoreError:
    return StoreError(f"{path} ({entry.force} {entry.month}) {what}; its records are not used.", hint=REPAIR,
                      force=entry.force, month=entry.month, file=str(path))


def check_file(entry: ManifestEntry, path: str | Path) -> None:
    """Raise StoreError unless `path` is the file `entry` describes (stat first, hash only on a difference)."""
    try:
        stat = os.stat(path)
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


def check_files(entries: list[ManifestEntry], path_for: Callable[[str, str], str | Path]) -> list[str | Path]:
    """check_file for each entry, with every file's size and mtime read in one call.

    One call, not one os.stat per file: each os.stat lets go of the interpreter and must wait to get it
    back, so while another thread was busy (the server answering the browser, the prefetch) the 5,280
    stats of ten national years took 0.4 s on the first page, and seconds against a busy loop, for 0.02 s
    alone. pyarrow's file system stats the whole list in C++ and lets go once. (`path_for` may give plain
    strings: 5,280 pathlib joins held the interpreter for 0.15 s of the first page's run, py-spy --gil.)"""
    paths = [path_for(entry.force, entry.month) for entry in entries]
    infos = _LOCAL.get_file_info([os.fspath(path) for path in paths])
    for entry, path, info in zip(entries, paths, infos, strict=True):
        if info.type == pafs.FileType.File and entry.size is not None and entry.size == info.size \
                and entry.mtime_ns == info.mtime_ns:
            continue
        check_file(entry, path)  # missing or different: the one-file check says which, or hashes it
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
        with pq.ParquetFile(path) as parquet:
            metadata = parquet.metadata.metadata or {}
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
    return _rows_in(table, forces, months).select(columns)


def _rows_in(table: pa.Table, forces: set[str] | None, months: set[str] | None) -> pa.Table:
    """The rows of these forces and months (None: any)."""
    masks = [_member(table.column(name), allowed) for name, allowed in (("force", forces), ("month", months))
             if allowed is not None]
    if not masks or not table.num_rows:
        return table
    return table.filter(masks[0] if len(masks) == 1 else pc.and_(*masks))


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
        metadata = pq.read_metadata(path).metadata or {}
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
ONE_PIECE_ROWS = 2_000_000  # up to this many records (a few national years) all columns are read at once


def read_cache_frame(path: Path, key: bytes, *, columns: list[str], forces: set[str] | None,
                     months: set[str] | None, rows: int) -> pd.DataFrame | None:
    """The selection from the read copy as a frame (a few columns at a time, each part checked against
    `key` as read_cache does), or None when the copy is absent, stale, unreadable or not `rows` long."""
    parts = []
    step = max(len(columns), 1) if rows <= ONE_PIECE_ROWS else COLUMN_GROUP
    for start in range(0, max(len(columns), 1), step):
        table = read_cache(path, key, columns=columns[start:start + step], forces=forces, months=months)
        if table is None or table.num_rows != rows:
            return None
        parts.append(to_frame(table))
        del table
    if len(parts) == 1:
        return parts[0]
    return pd.concat(parts, axis=1)


class _LabelCounter:
    """Records per label of each label column, counted chunk by chunk on dictionary indices."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {name: {} for name in LABEL_COLUMNS}

    def add(self, table: pa.Table) -> None:
        for name in LABEL_COLUMNS:
            into = self.counts[name]
            for chunk in table.column(name).chunks:
                if not pa.types.is_dictionary(chunk.type):
                    chunk = chunk.dictionary_encode()
                if chunk.null_count:
                    into[""] = into.get("", 0) + chunk.null_count
                tally = np.bincount(chunk.indices.drop_null().to_numpy(), minlength=len(chunk.dictionary))
                for label, n in zip(chunk.dictionary.to_pylist(), tally.tolist(), strict=True):
                    if n:
                        into[label] = into.get(label, 0) + n

    def sorted(self) -> dict[str, dict[str, int]]:
        """Most frequent first, as pandas value_counts."""
        return {name: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for name, c in self.counts.items()}


Group = tuple[str, str, Callable[[], pa.Table]]  # force, year, and how to read that group's records


def _read_ahead(groups: list[Group], *, ahead: int = 2) -> Iterator[tuple[str, str, pa.Table]]:
    """Each group's table in order, the next ones read on other threads meanwhile (Parquet reads release
    the GIL), at most `ahead` groups held besides the one being written."""
    with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="read-copy") as pool:
        pending: deque = deque()
        for force, year, read in groups:
            pending.append((force, year, pool.submit(read)))
            if len(pending) > ahead:
                f, y, future = pending.popleft()
                yield f, y, future.result()
        while pending:
            f, y, future = pending.popleft()
            yield f, y, future.result()


def write_cache(path: Path, key: bytes, groups: list[Group], schema: pa.Schema) -> None:
    """Write the read copy one row group (a force's year) at a time, so that building it holds one group's
    records, never the whole store; the index of row groups and the label counts go in its metadata.
    Errors reading a group (a StoreError naming the file) propagate; a copy that cannot be written is
    only a cache: reads still work from the files."""
    buffer = io.BytesIO()
    index: list[list[str]] = []
    counter = _LabelCounter()
    counted: list[pa.Table] = []
    # one dictionary per column chunk (unified, combined) and no statistics (rows are found by the index):
    # about half the CPU of writing the files' chunks as they come
    writer = pq.ParquetWriter(buffer, schema, compression="zstd", compression_level=1, write_statistics=False)
    try:
        for force, year, table in _read_ahead(groups):
            if table.num_rows:
                table = table.cast(schema).unify_dictionaries().combine_chunks()
                writer.write_table(table, row_group_size=table.num_rows)
                index.append([force, year])
                counter.add(table)
                counted.append(count_table(table))
        writer.add_key_value_metadata({CACHE_KEY: key, ROW_GROUPS_KEY: json.dumps(index).encode(),
                                       LABELS_KEY: json.dumps(counter.sorted()).encode()})
    finally:
        writer.close()
    try:
        counts = pa.concat_tables(counted) if counted else _PLAIN_COUNTS.empty_table()
        write_counts(counts_path(path), counts, key)
        atomic_write_bytes(path, buffer.getvalue())
    except OSError as exc:
        log.warning("could not write the read cache %s: %s", path, exc)


# Counted records: how many records share each (force, month, type, person involved, self- and officer-defined
# ethnicity). Rates, trends and the long view need no more than these (~15 records a row): ten national
# years are ~0.4 million rows instead of 6 million records.
COUNT_KEYS = ("force", "month", "type", "involved_person", "self_defined_ethnicity", "officer_defined_ethnicity")
COUNT_COLUMN = "records"
_LABEL = pa.dictionary(pa.int32(), pa.string())
COUNTS_SCHEMA = pa.schema([*(pa.field(k, pa.bool_() if k == "involved_person" else _LABEL) for k in COUNT_KEYS),
                           pa.field(COUNT_COLUMN, pa.int64())])


def counts_path(path: Path) -> Path:
    return path.with_name("counts.parquet")


_PLAIN_COUNTS = pa.schema([pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type)
                          for f in COUNTS_SCHEMA])


def count_table(table: pa.Table) -> pa.Table:
    """The table's records counted by COUNT_KEYS (missing values are a key of their own), labels as plain
    text: group_by's dictionary output crashes unify_dictionaries in pyarrow 26, and these tables are small."""
    counted = table.select(list(COUNT_KEYS)).group_by(list(COUNT_KEYS), use_threads=False).aggregate(
        [([], "count_all")])
    return counted.rename_columns([*COUNT_KEYS, COUNT_COLUMN]).cast(_PLAIN_COUNTS)


def counts_current(path: Path, key: bytes) -> bool:
    try:
        return (pq.read_schema(path).metadata or {}).get(CACHE_KEY) == key
    except (OSError, pa.ArrowException):
        return False


def write_counts(path: Path, counts: pa.Table, key: bytes) -> None:
    counts = counts.cast(_PLAIN_COUNTS).combine_chunks()
    columns = [pc.dictionary_encode(counts.column(f.name)) if pa.types.is_dictionary(f.type)
               else counts.column(f.name) for f in COUNTS_SCHEMA]
    encoded = pa.Table.from_arrays(columns, schema=COUNTS_SCHEMA.with_metadata({CACHE_KEY: key}))
    buffer = io.BytesIO()
    pq.write_table(encoded, buffer, compression="zstd")
    atomic_write_bytes(path, buffer.getvalue())


def read_counts(path: Path, key: bytes, *, forces: set[str] | None, months: set[str] | None) -> pa.Table | None:
    """The counted records of these forces and months (None: all), or None when the counts are absent or
    stale."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException):
        return None
    if (table.schema.metadata or {}).get(CACHE_KEY) != key:
        return None
    return _rows_in(table, forces, months)


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
