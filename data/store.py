"""The local store: one Parquet file per force-month plus a manifest saying what each one holds."""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from data import schema
from data.atomic import atomic_write_parquet, atomic_write_text
from data.errors import StoreError
from data.months import normalise_month

try:  # POSIX only: serialises manifest rewrites between processes (threads use a threading.Lock)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[1]
ENV_VAR = "STOPSEARCH_DATA_DIR"
STATUSES: tuple[str, ...] = ("ok", "empty", "not_published", "failed")
MANIFEST_COLUMNS: tuple[str, ...] = ("force", "month", "status", "records", "source", "retrieved_at",
                                     "checksum", "reason")
MANIFEST_FORMAT = 1
_CACHE_KEY = b"stopsearch_manifest_key"
FLUSH_SECONDS = 2.0  # longest a deferred manifest update waits before it is written

# The on-disk Arrow schema: fixed index and value types so that files written at different times (and
# with different category lists) read back together as one table.
_ARROW_TYPES: dict[str, pa.DataType] = {
    "category": pa.dictionary(pa.int32(), pa.string()),
    "boolean": pa.bool_(),
    "datetime64[ns]": pa.timestamp("ns"),
    "float64": pa.float64(),
}
STORE_SCHEMA = pa.schema([pa.field(name, _ARROW_TYPES[dtype]) for name, dtype in schema.RAW_COLUMNS.items()])


def store_root() -> Path:
    """$STOPSEARCH_DATA_DIR when set, otherwise <project>/store (gitignored)."""
    configured = os.environ.get(ENV_VAR, "").strip()
    return Path(configured).expanduser() if configured else PROJECT_DIR / "store"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ManifestEntry:
    """What the store holds for one force-month.

    status: 'ok' (records > 0 stored), 'empty' (a published month with no searches), 'not_published'
    (the source does not list the force for the month: not the same as zero), 'failed' (nothing usable
    stored; `reason` says why). A failed refresh of a month already stored as ok or empty keeps that
    status, its data, source, time and checksum, and puts the failure in `reason`
    ("refresh failed at <time>: ..."), so the status always describes what is on disk.
    """

    force: str
    month: str
    status: str
    records: int
    source: str
    retrieved_at: str
    checksum: str | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, item: dict[str, object]) -> ManifestEntry:
        return cls(force=str(item["force"]), month=str(item["month"]), status=str(item["status"]),
                   records=int(item.get("records") or 0), source=str(item.get("source") or ""),
                   retrieved_at=str(item.get("retrieved_at") or ""),
                   checksum=item.get("checksum") or None, reason=item.get("reason") or None)  # type: ignore[arg-type]


# One lock per manifest file, shared by every Store object of the process (fetch workers are threads).
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    key = path.resolve()
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


class Manifest:
    """A JSON manifest of ManifestEntry keyed by (force, month), rewritten atomically under a lock.

    Readers never see half a file (atomic replace). Writers in one process serialise on a
    threading.Lock and, on POSIX, between processes on an flock of a sibling `.lock` file; each update
    re-reads the file first, so entries written by another process are kept. Usable for any dataset
    (the use-of-force data keeps its own manifest in `<root>/use_of_force/`).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = _lock_for(self.path)
        # (inode, mtime, size) of the file last parsed and its entries, as one tuple so threads see a pair
        self._cached: tuple[tuple[int, int, int] | None, dict[tuple[str, str], ManifestEntry]] = (None, {})
        self._pending: dict[tuple[str, str], ManifestEntry] = {}  # updates held back by deferred()
        self._deferred = 0
        self._last_flush = 0.0

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Between processes (POSIX flock of a sibling .lock file); callers already hold the thread lock."""
        if fcntl is None:
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def load(self) -> dict[tuple[str, str], ManifestEntry]:
        """All entries (a fresh dict), including updates not yet flushed; absent manifest = empty store."""
        with self._lock:
            entries = self._load_file()
            entries.update(self._pending)
            return entries

    def _load_file(self) -> dict[tuple[str, str], ManifestEntry]:
        for attempt in range(3):
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                return {}
            key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            cached_key, cached = self._cached
            if key == cached_key:
                return dict(cached)
            try:
                text = self.path.read_text(encoding="utf-8")
                payload = json.loads(text)
                entries = {(e.force, e.month): e
                           for e in (ManifestEntry.from_json(item) for item in payload["entries"])}
            except FileNotFoundError:
                continue
            except (ValueError, KeyError, TypeError) as exc:
                # os.replace makes a torn read impossible on a local disk; retry once for odd filesystems
                if attempt < 2:
                    time.sleep(0.05)
                    continue
                raise StoreError(f"The store manifest {self.path} is unreadable ({exc}).",
                                 hint="Restore it from a backup or delete the store folder and fetch again.",
                                 file=str(self.path)) from exc
            self._cached = (key, entries)
            return dict(entries)
        return {}

    def get(self, force: str, month: str) -> ManifestEntry | None:
        return self.load().get((force, month))

    def update(self, entry: ManifestEntry, *,
               merge: Callable[[ManifestEntry | None, ManifestEntry], ManifestEntry] | None = None) -> ManifestEntry:
        """Store one entry. `merge(old, new) -> entry` decides, under the lock, what is written."""
        with self._lock:
            old = self._pending.get((entry.force, entry.month)) or self._load_file().get((entry.force, entry.month))
            if merge is not None:
                entry = merge(old, entry)
            self._pending[(entry.force, entry.month)] = entry
            if not self._deferred or time.monotonic() - self._last_flush > FLUSH_SECONDS:
                self._flush_locked()
            return entry

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._pending:
            return
        with self._file_lock():
            entries = self._load_file()
            entries.update(self._pending)
            # one entry per line: readable, diffable, and much quicker to write than indented JSON
            lines = ",\n".join(json.dumps(entries[k].to_json(), ensure_ascii=False) for k in sorted(entries))
            text = f'{{"format": {MANIFEST_FORMAT}, "updated_at": "{_now()}", "entries": [\n{lines}\n]}}\n'
            atomic_write_text(self.path, text)
            self._pending.clear()
            self._cached = (None, {})
            self._last_flush = time.monotonic()

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold manifest rewrites back (flushing every few seconds and at the end): for bulk imports."""
        with self._lock:
            self._deferred += 1
        try:
            yield
        finally:
            with self._lock:
                self._deferred -= 1
                self._flush_locked()


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


class Store:
    """Canonical stop-and-search records on disk: `<root>/stop_search/<force>/<YYYY-MM>.parquet`."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else store_root()
        self.data_dir = self.root / "stop_search"
        self.manifest_path = self.root / "manifest.json"
        self._manifest = Manifest(self.manifest_path)

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    def path_for(self, force: str, month: str) -> Path:
        return self.data_dir / force / f"{month}.parquet"

    @staticmethod
    def _key(force: str, month: str) -> tuple[str, str]:
        force = str(force).strip().lower()
        if not force or "/" in force or "\\" in force or force.startswith("."):
            raise StoreError(f"'{force}' cannot be a force id in the store.", hint="Use an id from "
                             "`python -m data forces`.", force=force)
        return force, normalise_month(month)

    # ---- writing
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
        table = _to_arrow(frame)
        checksum = atomic_write_parquet(self.path_for(force, month), table)
        entry = ManifestEntry(force=force, month=month, status="ok" if len(frame) else "empty",
                              records=len(frame), source=str(source), retrieved_at=_now(), checksum=checksum)
        log.debug("stored %s %s: %d records from %s", force, month, len(frame), source)
        return self._manifest.update(entry)

    def record_failure(self, force: str, month: str, *, source: str, reason: str) -> ManifestEntry:
        """Note a failed attempt; data already stored (ok/empty) is kept and its status unchanged."""
        force, month = self._key(force, month)
        entry = ManifestEntry(force=force, month=month, status="failed", records=0, source=str(source),
                              retrieved_at=_now(), reason=str(reason))
        return self._manifest.update(entry, merge=_keep_stored_data)

    def record_not_published(self, force: str, month: str, *, source: str) -> ManifestEntry:
        """The source does not list this force for this month (not the same as zero searches).

        Like a failure, it never replaces records already stored: that entry keeps its status."""
        force, month = self._key(force, month)
        entry = ManifestEntry(force=force, month=month, status="not_published", records=0, source=str(source),
                              retrieved_at=_now(), reason="not in the source's list of published months")
        return self._manifest.update(entry, merge=_keep_stored_not_published)

    # ---- reading
    def batch(self) -> contextlib.AbstractContextManager[None]:
        """Group many writes (bulk import): the manifest is rewritten every few seconds and at the end,
        not once per force-month. Data files are still written atomically one by one."""
        return self._manifest.deferred()

    def entry(self, force: str, month: str) -> ManifestEntry | None:
        return self._manifest.get(*self._key(force, month))

    def entries(self) -> list[ManifestEntry]:
        entries = self._manifest.load()
        return [entries[k] for k in sorted(entries)]

    def manifest(self) -> pd.DataFrame:
        """One row per force-month: force, month, status, records, source, retrieved_at, checksum, reason."""
        rows = [e.to_json() for e in self.entries()]
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

    def _files(self, entries: list[ManifestEntry]) -> list[Path]:
        files = []
        for entry in entries:
            path = self.path_for(entry.force, entry.month)
            if not path.is_file():
                raise StoreError(f"The manifest lists {entry.force} {entry.month} but {path} is missing.",
                                 hint=f"Fetch or import it again (python -m data fetch --forces {entry.force} "
                                      f"--from {entry.month} --to {entry.month} --refresh).",
                                 force=entry.force, month=entry.month, file=str(path))
            files.append(path)
        return files

    # A national year is ~530 small files and Parquet costs ~2 ms a file to open, so reads go through one
    # combined copy, <root>/cache/stop_search.parquet, valid while its key (a hash of every ok entry's
    # force, month and checksum) matches the manifest. Any read of the whole store rebuilds a stale copy;
    # a partial read with a stale copy reads the force-month files themselves. Delete the folder at will.
    @property
    def cache_path(self) -> Path:
        return self.root / "cache" / "stop_search.parquet"

    @staticmethod
    def _cache_key(stored: list[ManifestEntry]) -> bytes:
        text = "\n".join(f"{e.force}|{e.month}|{e.checksum}" for e in sorted(stored, key=lambda e: (e.force, e.month)))
        return hashlib.sha256(text.encode()).hexdigest().encode()

    def _read_cache(self, key: bytes, *, columns: list[str], forces: set[str] | None,
                    months: set[str] | None) -> pa.Table | None:
        try:
            if (pq.read_schema(self.cache_path).metadata or {}).get(_CACHE_KEY) != key:
                return None
            filters = [(name, "in", sorted(values)) for name, values in (("force", forces), ("month", months))
                       if values is not None]
            table = pq.read_table(self.cache_path, columns=columns, filters=filters or None)
        except (OSError, pa.ArrowException):
            return None
        # replaced between the two reads by a copy of another state: not ours to use
        return table if (table.schema.metadata or {}).get(_CACHE_KEY) == key else None

    def _write_cache(self, table: pa.Table, key: bytes) -> None:
        try:
            table = table.unify_dictionaries()  # rows stay in manifest order (force, month)
            atomic_write_parquet(self.cache_path, table.replace_schema_metadata({_CACHE_KEY: key}))
        except (OSError, pa.ArrowException) as exc:  # only a cache: reading still works without it
            log.warning("could not write the read cache %s: %s", self.cache_path, exc)

    def read_raw(self, forces: list[str] | None = None, months: list[str] | None = None, *,
                 columns: list[str] | None = None) -> pd.DataFrame:
        """Raw canonical columns (or a subset) of the selected force-months, categoricals kept."""
        chosen, stored = self._selected(forces, months)
        names = list(columns) if columns is not None else list(schema.RAW_COLUMNS)
        if not chosen:
            return schema.coerce_raw(schema.empty_frame()).loc[:, names]
        key = self._cache_key(stored)
        everything = len(chosen) == len(stored)
        table = self._read_cache(key, columns=names,
                                 forces=None if everything else {e.force for e in chosen},
                                 months=None if everything else {e.month for e in chosen})
        if table is None or table.num_rows != sum(e.records for e in chosen):
            files = self._files(chosen)
            try:
                table = pq.read_table([str(p) for p in files],
                                      columns=list(schema.RAW_COLUMNS) if everything else names)
            except (OSError, pa.ArrowException) as exc:
                raise StoreError(f"The store under {self.data_dir} could not be read ({exc}).",
                                 hint="A file may be damaged: fetch or import the affected months again with "
                                      "--refresh.", file=str(self.data_dir)) from exc
            if everything:
                self._write_cache(table, key)
                table = table.select(names)
        frame = table.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get, ignore_metadata=True)
        for name in names:
            dtype = schema.RAW_COLUMNS[name]
            if str(frame[name].dtype) != dtype:
                frame[name] = frame[name].astype(dtype)
        return frame

    def read(self, forces: list[str] | None = None, months: list[str] | None = None) -> pd.DataFrame:
        """Canonical records (raw + derived) of the selected forces and months (None = all)."""
        raw = self.read_raw(forces, months)
        if not len(raw):
            return schema.empty_frame()
        return schema.add_derived_columns(raw)

    def unknown_labels(self) -> pd.DataFrame:
        """Raw labels in the stored records that no mapping table knows: column, label, records."""
        from data import vocab

        raw = self.read_raw(columns=list(vocab.MAPPINGS))
        return schema.unknown_labels(raw)
