"""The local store: one Parquet file per force-month plus a manifest saying what each one holds.

Writing a force-month is one critical section under the store's writer lock (data.store_lock): the
new file is written to a temporary name and fsynced, its manifest entry (checksum, size, mtime_ns) is
appended to the manifest's journal (the commit point; data.store_manifest), then the file is renamed
into place; a bulk import commits a group of files with one journal line (write_tables). A kill -9 before the commit leaves the
old file and entry plus a stale temporary; after it, the next writer (or `python -m data verify
--repair`) finishes the rename (data.store_recovery). Reads check every file against its entry
(data.read_copy), so the manifest and the records read can never disagree.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from data import (
    arrow_memory,  # noqa: F401 - imported for its effect: Arrow's faster allocator
    read_copy,
    schema,
    store_lock,
    store_read,
)
from data.atomic import write_temporary
from data.errors import StoreError
from data.months import normalise_month
from data.store_lock import writer_lock
from data.store_manifest import (  # noqa: F401 - re-exported: the store's public names
    JOURNAL_SUFFIX,
    MANIFEST_COLUMNS,
    MANIFEST_FORMAT,
    STATUSES,
    Manifest,
    ManifestEntry,
    now,
)

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[1]
ENV_VAR = "STOPSEARCH_DATA_DIR"
SOURCE_KEY = b"stopsearch.source"  # each data file also carries its source, so a lost manifest can be rebuilt

# The on-disk Arrow schema: fixed index and value types so that files written at different times (and
# with different category lists) read back together as one table.
_ARROW_TYPES: dict[str, pa.DataType] = {
    "category": pa.dictionary(pa.int32(), pa.string()),
    "boolean": pa.bool_(),
    "datetime64[ns]": pa.timestamp("ns"),
    "float64": pa.float64(),
}
STORE_SCHEMA = pa.schema([pa.field(name, _ARROW_TYPES[dtype]) for name, dtype in schema.RAW_COLUMNS.items()])

# One critical-section lock per store root within a process (fetch writes from two threads).
_CRITICAL: dict[Path, threading.Lock] = {}
_CRITICAL_GUARD = threading.Lock()


def _critical(root: Path) -> threading.Lock:
    with _CRITICAL_GUARD:
        return _CRITICAL.setdefault(root.resolve(), threading.Lock())


def store_root() -> Path:
    """$STOPSEARCH_DATA_DIR when set, otherwise <project>/store (gitignored)."""
    configured = os.environ.get(ENV_VAR, "").strip()
    return Path(configured).expanduser() if configured else PROJECT_DIR / "store"


def _keep_stored_data(old: ManifestEntry | None, new: ManifestEntry) -> ManifestEntry:
    """A failure never replaces a month whose data is stored; it is noted in that entry's reason."""
    if old is not None and old.status in ("ok", "empty"):
        return dataclasses.replace(old, reason=f"refresh failed at {new.retrieved_at}: {new.reason}")
    return new


def _keep_stored_not_published(old: ManifestEntry | None, new: ManifestEntry) -> ManifestEntry:
    """Records already stored (say, imported from a bulk file) outlive a gap in the API's list."""
    if old is not None and old.status in ("ok", "empty"):
        return dataclasses.replace(old, reason=f"not listed as published by {new.source} at {new.retrieved_at}; "
                                               "the stored records are kept")
    return new


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Raw canonical frame -> Arrow table in STORE_SCHEMA (categoricals stay dictionary-encoded)."""
    arrays = []
    for field in STORE_SCHEMA:
        column = frame[field.name]
        if pa.types.is_dictionary(field.type):
            # keep only the labels this force-month uses (a slice of a bigger frame carries them all)
            codes = column.cat.codes.to_numpy()
            used = np.unique(codes[codes >= 0])
            remap = np.full(len(column.cat.categories) + 1, -1, dtype=np.int32)  # [-1] keeps missing missing
            remap[used] = np.arange(len(used), dtype=np.int32)
            indices = remap[codes]
            labels = column.cat.categories.to_numpy(dtype=object)[used]
            arrays.append(pa.DictionaryArray.from_arrays(pa.array(indices, type=pa.int32(), mask=indices < 0),
                                                         pa.array([str(v) for v in labels], type=pa.string())))
        else:
            arrays.append(pa.Array.from_pandas(column, type=field.type))
    return pa.Table.from_arrays(arrays, schema=STORE_SCHEMA)


def to_arrow(records: pd.DataFrame) -> pa.Table:
    """Raw canonical records (any dtypes schema.coerce_raw accepts) as an Arrow table in STORE_SCHEMA."""
    return _to_arrow(schema.coerce_raw(records))


class Store:
    """Canonical stop-and-search records on disk: `<root>/stop_search/<force>/<YYYY-MM>.parquet`."""

    def __init__(self, root: Path | str | None = None, *, lock_wait: float | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else store_root()
        try:
            if self.root.exists() and not self.root.is_dir():
                raise NotADirectoryError(20, "Not a directory", str(self.root))
            self.root.stat()
        except FileNotFoundError:
            pass
        except NotADirectoryError as exc:
            raise StoreError(f"The store folder {self.root} is not a folder ({exc.filename} is a file).",
                             hint=f"Set {ENV_VAR} to a folder (it is created if missing).",
                             file=str(self.root)) from exc
        self.data_dir = self.root / "stop_search"
        self._data_text = str(self.data_dir)
        self.manifest_path = self.root / "manifest.json"
        self.lock_wait = lock_wait  # None: $STOPSEARCH_LOCK_WAIT or 30 s
        self._manifest = Manifest(self.manifest_path)

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    def path_for(self, force: str, month: str) -> Path:
        return Path(self._path_text(force, month))

    def _path_text(self, force: str, month: str) -> str:
        """path_for as a string: what a check of thousands of files needs, without a pathlib join each."""
        return f"{self._data_text}{os.sep}{force}{os.sep}{month}.parquet"

    @staticmethod
    def _key(force: str, month: str) -> tuple[str, str]:
        force = str(force).strip().lower()
        if not force or "/" in force or "\\" in force or force.startswith("."):
            raise StoreError(f"'{force}' cannot be a force id in the store.", hint="Use an id from "
                             "`python -m data forces`.", force=force)
        return force, normalise_month(month)

    # ---- writing
    @contextlib.contextmanager
    def writing(self, *, wait: float | None = None) -> Iterator[None]:
        """Hold the store's writer lock (one writing process at a time) for a whole fetch or import.

        Every write takes it too; nested holders in one process share it. When this process takes it,
        writes a killed writer left half done are finished or undone first. When the last holder lets go,
        the manifest's journal is folded into manifest.json (one rewrite per session, not per write)."""
        from data.store_recovery import finish_interrupted_writes

        with writer_lock(self.root, wait=self.lock_wait if wait is None else wait,
                         on_acquire=lambda: finish_interrupted_writes(self)):
            try:
                yield
            finally:
                if store_lock._state(self.root).count == 1:  # noqa: SLF001 - the last holder of this process
                    self.compact_manifest()

    def compact_manifest(self) -> None:
        """Fold the manifest's journal into manifest.json now (under the writer lock). A failure loses
        nothing: every commit is already in the journal, so it is logged and the journal kept."""
        try:
            self._manifest.compact()
        except (OSError, StoreError) as exc:
            log.warning("the manifest journal %s was kept (compaction failed: %s)", self._manifest.journal_path, exc)

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """Group many writes (bulk import) under one hold of the writer lock; each is still committed at once."""
        return self.writing()

    def write_month(self, force: str, month: str, records: pd.DataFrame, *, source: str) -> ManifestEntry:
        """Replace one force-month with `records` (raw canonical); status 'ok', or 'empty' for 0 records."""
        force, month = self._key(force, month)
        frame = schema.coerce_raw(records)
        for column, expected in (("force", force), ("month", month)):
            seen = set(frame[column].dropna().astype(str).unique())
            if seen - {expected}:
                raise StoreError(f"Records for {force} {month} carry {column} {sorted(seen)[:3]}.",
                                 hint="Normalise them with force= and month= of the month being stored.",
                                 force=force, month=month)
        return self._write_table(force, month, _to_arrow(frame), source=source)

    def write_table(self, force: str, month: str, table: pa.Table, *, source: str) -> ManifestEntry:
        """write_month for records already in the store's Arrow schema (data.store_table.month_slice)."""
        return self.write_tables([(force, month, table, source)])[0]

    def write_tables(self, items: list[tuple[str, str, pa.Table, str]]) -> list[ManifestEntry]:
        """Several (force, month, table, source) written as one group commit: every file fsynced, then one
        journal line for them all (the commit point), then the renames and one fsync per folder. Each
        force-month at most once (a month given twice goes in separate calls)."""
        prepared = []
        for force, month, table, source in items:
            force, month = self._key(force, month)
            if not table.schema.equals(STORE_SCHEMA):
                raise StoreError(f"Records for {force} {month} are not in the store's schema.",
                                 hint="Make them with data.store_table.month_slice of a batch.", force=force,
                                 month=month)
            for column, expected in (("force", force), ("month", month)):
                seen = set(table.column(column).combine_chunks().dictionary_decode().drop_null().unique().to_pylist())
                if seen - {expected}:
                    raise StoreError(f"Records for {force} {month} carry {column} {sorted(seen)[:3]}.",
                                     hint="Normalise them with force= and month= of the month being stored.",
                                     force=force, month=month)
            prepared.append(self._prepare(force, month, table, source=source))
        if len({(e.force, e.month) for e, _ in prepared}) != len(prepared):
            raise StoreError("A group of writes names one force-month twice.", hint="Write it in two calls.")
        with self.writing():
            return self._commit(prepared)

    def _write_table(self, force: str, month: str, table: pa.Table, *, source: str) -> ManifestEntry:
        prepared = self._prepare(force, month, table, source=source)
        with self.writing():
            return self._commit([prepared])[0]

    @staticmethod
    def _prepare(force: str, month: str, table: pa.Table, *, source: str) -> tuple[ManifestEntry, bytes]:
        table = table.replace_schema_metadata({SOURCE_KEY: str(source).encode("utf-8")})
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        payload = buffer.getvalue()
        entry = ManifestEntry(force=force, month=month, status="ok" if table.num_rows else "empty",
                              records=table.num_rows, source=str(source), retrieved_at=now(),
                              checksum=hashlib.sha256(payload).hexdigest())
        return entry, payload

    def _commit(self, prepared: list[tuple[ManifestEntry, bytes]]) -> list[ManifestEntry]:
        """Temporaries fsynced -> their entries in one journal line (the commit point) -> renames."""
        paths = [self.path_for(e.force, e.month) for e, _ in prepared]
        with _critical(self.root):
            tmps: list[Path] = []
            try:
                entries = []
                for (entry, payload), path in zip(prepared, paths, strict=True):
                    tmps.append(write_temporary(path, payload))
                    stat = tmps[-1].stat()
                    entries.append(dataclasses.replace(entry, size=stat.st_size, mtime_ns=stat.st_mtime_ns))
                stored = self._manifest.load()
                olds = [stored.get((e.force, e.month)) for e in entries]
                self._manifest.update_many(entries)  # the commit point: from here the new files are the months'
            except BaseException:
                for tmp in tmps:
                    tmp.unlink(missing_ok=True)
                raise
            done = 0
            try:
                for tmp, path in zip(tmps, paths, strict=True):
                    os.replace(tmp, path)  # a rename keeps the mtime recorded above
                    done += 1
                for folder in dict.fromkeys(path.parent for path in paths):
                    read_copy.fsync_dir(folder)
            except BaseException:
                with contextlib.suppress(Exception):  # put the old entries back; recovery finishes otherwise
                    rest = list(zip(entries[done:], olds[done:], strict=True))
                    self._manifest.update_many([old for _, old in rest if old],
                                               remove=tuple((e.force, e.month) for e, old in rest if not old))
                    for tmp in tmps[done:]:
                        tmp.unlink(missing_ok=True)
                raise
        log.debug("stored %s", ", ".join(f"{e.force} {e.month}: {e.records} records" for e in entries))
        return entries

    def record_failure(self, force: str, month: str, *, source: str, reason: str) -> ManifestEntry:
        """Note a failed attempt; data already stored (ok/empty) is kept and its status unchanged."""
        force, month = self._key(force, month)
        entry = ManifestEntry(force=force, month=month, status="failed", records=0, source=str(source),
                              retrieved_at=now(), reason=str(reason))
        with self.writing():
            return self._manifest.update(entry, merge=_keep_stored_data)

    def record_not_published(self, force: str, month: str, *, source: str) -> ManifestEntry:
        """The source does not list this force for this month (not the same as zero searches).

        Like a failure, it never replaces records already stored: that entry keeps its status."""
        force, month = self._key(force, month)
        entry = ManifestEntry(force=force, month=month, status="not_published", records=0, source=str(source),
                              retrieved_at=now(), reason="not in the source's list of published months")
        with self.writing():
            return self._manifest.update(entry, merge=_keep_stored_not_published)

    # ---- reading
    def entry(self, force: str, month: str) -> ManifestEntry | None:
        return self._manifest.get(*self._key(force, month))

    def entries(self) -> list[ManifestEntry]:
        entries = self._manifest.load()
        return [entries[k] for k in sorted(entries)]

    def manifest(self) -> pd.DataFrame:
        """One row per force-month: force, month, status, records, source, retrieved_at, checksum, reason."""
        rows = [[getattr(e, name) for name in MANIFEST_COLUMNS] for e in self.entries()]  # scalars: = to_json()
        frame = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
        return frame.astype({"records": "int64"})

    def _selected(self, forces: Iterable[str] | None,
                  months: Iterable[str] | None) -> tuple[list[ManifestEntry], list[ManifestEntry]]:
        """(the selected ok entries, every ok entry)."""
        wanted_forces = None if forces is None else {str(f).strip().lower() for f in forces}
        wanted_months = None if months is None else {normalise_month(m) for m in months}
        stored = [e for e in self.entries() if e.status == "ok" and e.records > 0]
        chosen = [e for e in stored if (wanted_forces is None or e.force in wanted_forces)
                  and (wanted_months is None or e.month in wanted_months)]
        return chosen, stored

    # A national year is ~530 small files and Parquet costs ~2 ms a file to open, so reads go through one
    # combined copy, <root>/cache/stop_search.parquet, tagged with a hash of every ok entry's force, month
    # and checksum, and used only after the selected files pass read_copy.check_files. Any read of the
    # whole store rebuilds a stale copy; a partial read with a stale copy reads the files themselves.
    @property
    def cache_path(self) -> Path:
        return self.root / "cache" / "stop_search.parquet"

    def read_raw(self, forces: list[str] | None = None, months: list[str] | None = None, *,
                 columns: list[str] | None = None) -> pd.DataFrame:
        """Raw canonical columns (or a subset) of the selected force-months, categoricals kept.

        Raises StoreError naming the file (and `python -m data verify --repair`) when a selected file is
        not the one its manifest entry describes: never different numbers in silence."""
        return store_read.read_raw(self, forces, months, columns=columns)

    def refresh_read_copy(self) -> None:
        """Build the combined read copy when it is missing or older than the manifest (a whole-store read)."""
        store_read.refresh_read_copy(self)

    def read_counts(self, forces: list[str] | None, months: list[str] | None) -> pd.DataFrame | None:
        """Counted records of the selected force-months (None while the read copy is stale)."""
        return store_read.read_counts(self, forces, months)

    def label_counts(self) -> dict[str, dict[str, int]]:
        """{raw column: {label: records}} over every stored record (from the read copy, refreshed first)."""
        return store_read.label_counts(self)

    def _check_files(self, chosen: list[ManifestEntry]) -> list[str | Path]:
        """The files of `chosen`, each checked against its entry (read_copy.check_files).

        Between a commit (the entry's journal line) and its rename, the entry describes the write's
        temporary: a live writer renames it within moments, so that is waited for briefly; a writer
        killed there leaves it until the next writer finishes the rename, and meanwhile it is read."""
        try:
            return read_copy.check_files(chosen, self._path_text)
        except StoreError:
            by_key = {(e.force, e.month): e for e in chosen}
            return read_copy.check_files(chosen, lambda force, month: self._committed_path(by_key[force, month]))

    def _committed_path(self, entry: ManifestEntry) -> Path:
        path = self.path_for(entry.force, entry.month)
        for attempt in range(5):
            try:
                read_copy.check_file(entry, path)
                return path
            except StoreError:
                pass
            pending = []
            for tmp in path.parent.glob(f".{path.name}.*.tmp"):
                with contextlib.suppress(OSError):
                    stat = tmp.stat()
                    if (stat.st_size, stat.st_mtime_ns) == (entry.size, entry.mtime_ns) \
                            and read_copy.sha256_file(tmp) == entry.checksum:
                        pending.append(tmp)
            if not pending:
                return path  # no write in flight: check_files names what is wrong with the file
            if attempt == 4:
                return pending[0]
            time.sleep(0.05)
        return path

    def read(self, forces: list[str] | None = None, months: list[str] | None = None, *,
             columns: list[str] | None = None) -> pd.DataFrame:
        """Canonical records (raw + derived) of the selected forces and months (None = all); `columns`
        (raw or derived names) reads only what a view needs."""
        return store_read.read(self, forces, months, columns=columns)

    def unknown_labels(self) -> pd.DataFrame:
        """Raw labels in the stored records that no mapping table knows: column, label, records."""
        return store_read.unknown_labels(self)


def manifest_signature(root: Path | str) -> str:
    """Changes whenever the store's manifest changes (manifest.json or its journal): a cache key for readers.
    'no-manifest' for a store never written."""
    parts = []
    for name in ("manifest.json", "manifest" + JOURNAL_SUFFIX):
        try:
            stat = (Path(root) / name).stat()
        except OSError:
            parts.append("-")
            continue
        parts.append(f"{stat.st_ino}-{stat.st_mtime_ns}-{stat.st_size}")
    return "no-manifest" if parts == ["-", "-"] else "/".join(parts)


def iter_data_files(store: Store) -> Iterator[Path]:
    """Every `<force>/<name>.parquet` under the store's data folder (hidden temporaries excluded)."""
    if not store.data_dir.is_dir():
        return
    # os.scandir and sorting by name: Path objects and their comparisons cost ~0.1 s at ten national years
    with os.scandir(store.data_dir) as found:
        folders = sorted(entry.name for entry in found if entry.is_dir())
    for folder in folders:
        with os.scandir(store.data_dir / folder) as found:
            names = sorted(entry.name for entry in found
                           if entry.name.endswith(".parquet") and not entry.name.startswith("."))
        base = store.data_dir / folder
        yield from (base / name for name in names)
