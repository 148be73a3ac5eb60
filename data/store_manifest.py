"""The store's manifest: what each force-month holds, one JSON file rewritten atomically on every change."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from data.atomic import atomic_write_text
from data.errors import StoreError

try:  # POSIX only: serialises manifest rewrites between processes (threads use a threading.Lock)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

STATUSES: tuple[str, ...] = ("ok", "empty", "not_published", "failed")
MANIFEST_COLUMNS: tuple[str, ...] = ("force", "month", "status", "records", "source", "retrieved_at",
                                     "checksum", "reason")
MANIFEST_FORMAT = 1


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ManifestEntry:
    """What the store holds for one force-month.

    status: 'ok' (records > 0 stored), 'empty' (a published month with no searches), 'not_published'
    (the source does not list the force for the month: not the same as zero), 'failed' (nothing usable
    stored; `reason` says why). A failed refresh of a month already stored as ok or empty keeps that
    status, its data, source, time and checksum, and puts the failure in `reason`
    ("refresh failed at <time>: ..."), so the status always describes what is on disk.
    size and mtime_ns are the data file's as written (a cheap check on every read; None in stores
    written before they were recorded).
    """

    force: str
    month: str
    status: str
    records: int
    source: str
    retrieved_at: str
    checksum: str | None = None
    reason: str | None = None
    size: int | None = None
    mtime_ns: int | None = None

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, item: dict[str, object]) -> ManifestEntry:
        def optional_int(value: object) -> int | None:
            return None if value is None else int(value)  # type: ignore[call-overload]

        return cls(force=str(item["force"]), month=str(item["month"]), status=str(item["status"]),
                   records=int(item.get("records") or 0), source=str(item.get("source") or ""),  # type: ignore[call-overload]
                   retrieved_at=str(item.get("retrieved_at") or ""),
                   checksum=item.get("checksum") or None, reason=item.get("reason") or None,  # type: ignore[arg-type]
                   size=optional_int(item.get("size")), mtime_ns=optional_int(item.get("mtime_ns")))


# One lock per manifest file, shared by every Store object of the process (fetch workers are threads).
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    key = path.resolve()
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


class Manifest:
    """A JSON manifest of ManifestEntry keyed by (force, month), rewritten atomically on every update.

    Readers never see half a file (atomic replace). Writers in one process serialise on a
    threading.Lock and, on POSIX, between processes on an flock of a sibling `.lock` file; each update
    re-reads the file first, so entries written by another process are kept. Every update is on disk
    (fsynced) when update() returns: the store commits a force-month by writing its entry.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = _lock_for(self.path)
        # (inode, mtime, size) of the file last parsed and its entries, as one tuple so threads see a pair
        self._cached: tuple[tuple[int, int, int] | None, dict[tuple[str, str], ManifestEntry]] = (None, {})
        self._lines: dict[ManifestEntry, str] = {}  # serialised entries, reused between rewrites

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

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> dict[tuple[str, str], ManifestEntry]:
        """All entries (a fresh dict); an absent manifest is an empty store."""
        with self._lock:
            return self._load_file()

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
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                # os.replace makes a torn read impossible on a local disk; retry once for odd filesystems
                if attempt < 2:
                    time.sleep(0.05)
                    continue
                raise StoreError(f"The store manifest {self.path} is unreadable ({type(exc).__name__}: {exc}).",
                                 hint="Run `python -m data verify --repair` to rebuild it from the stored files.",
                                 file=str(self.path)) from exc
            self._cached = (key, entries)
            return dict(entries)
        return {}

    def get(self, force: str, month: str) -> ManifestEntry | None:
        return self.load().get((force, month))

    def update(self, entry: ManifestEntry, *,
               merge: Callable[[ManifestEntry | None, ManifestEntry], ManifestEntry] | None = None) -> ManifestEntry:
        """Store one entry now. `merge(old, new) -> entry` decides, under the lock, what is written."""
        return self.update_many([entry], merge=merge)[0]

    def update_many(self, new: list[ManifestEntry], *, remove: tuple[tuple[str, str], ...] = (),
                    merge: Callable[[ManifestEntry | None, ManifestEntry], ManifestEntry] | None = None,
                    replace_all: bool = False) -> list[ManifestEntry]:
        """Write entries (and drop `remove` keys) in one atomic rewrite; `replace_all` ignores the old file."""
        with self._lock, self._file_lock():
            entries = {} if replace_all else self._load_file()
            written = []
            for entry in new:
                if merge is not None:
                    entry = merge(entries.get((entry.force, entry.month)), entry)
                entries[(entry.force, entry.month)] = entry
                written.append(entry)
            for key in remove:
                entries.pop(key, None)
            self._write(entries)
            return written

    def _write(self, entries: dict[tuple[str, str], ManifestEntry]) -> None:
        lines = {}
        for key in sorted(entries):
            entry = entries[key]
            lines[entry] = self._lines.get(entry) or json.dumps(entry.to_json(), ensure_ascii=False)
        # one entry per line: readable, diffable, and much quicker to write than indented JSON
        body = ",\n".join(lines.values())
        atomic_write_text(self.path, f'{{"format": {MANIFEST_FORMAT}, "updated_at": "{now()}", "entries": [\n{body}\n]}}\n')
        self._lines = lines
        self._cached = (None, {})
