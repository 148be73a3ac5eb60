"""The store's manifest: what each force-month holds.

On disk: `manifest.json` (every entry, rewritten atomically now and then) plus `manifest.journal`, JSON
lines appended since that rewrite. A commit is one fsynced append of one line (all of an update, or none
of it), so a write costs the same with 50 or 5,000 force-months stored; the whole manifest was once
rewritten and fsynced on every commit, which made a ten-year import quadratic. The journal's first line
names the rewrite it follows ({"base": token}; manifest.json carries the same token as "journal"), so a
journal already folded into manifest.json is never applied again. Reading is manifest.json, then every
complete line of a journal with the right base; a last line without its newline (a writer killed while
appending) was never committed and is ignored (and cut off by the next append). Compaction folds the
journal into manifest.json (atomic rewrite with a new token, then the journal is deleted): when the
journal passes COMPACT_LINES lines, and when a store's writing session ends (data.store).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from data.atomic import atomic_write_bytes, atomic_write_text
from data.errors import StoreError

try:  # POSIX only: serialises manifest rewrites between processes (threads use a threading.Lock)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

STATUSES: tuple[str, ...] = ("ok", "empty", "not_published", "failed")
MANIFEST_COLUMNS: tuple[str, ...] = ("force", "month", "status", "records", "source", "retrieved_at",
                                     "checksum", "reason")
MANIFEST_FORMAT = 1
JOURNAL_SUFFIX = ".journal"   # manifest.json -> manifest.journal
COMPACT_LINES = 500           # fold the journal into manifest.json when it grows past this many lines


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


# The last state read of each manifest file in this process, shared by every Manifest object of it (the app
# makes a Store per cached read): a new object re-reads only what changed since, never all 5,000 entries.
# States are never changed in place (readers copy the entries), so sharing needs no lock.
_READ: dict[Path, _State] = {}


def _lock_for(path: Path) -> threading.Lock:
    key = path.resolve()
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class JournalRead:
    """What a journal's bytes say: its operations (in order), any complete line that is not JSON (damage),
    whether it follows another rewrite of manifest.json (stale: ignored), and how far it was read."""

    ops: list[dict]
    problems: list[str]
    stale: bool
    end: int          # byte offset after the last complete line read (a torn last line starts here)
    lines: int        # complete operation lines (the header not counted)


def parse_journal(data: bytes, token: str | None, *, start: int = 0, first_line: int = 1) -> JournalRead:
    """Read journal bytes from `start` (0: from its header line). A last line without a newline is ignored."""
    complete = data[:data.rfind(b"\n") + 1]
    ops, problems, number = [], [], first_line - 1
    for raw in complete.splitlines():
        number += 1
        try:
            op = json.loads(raw)
            if not isinstance(op, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            problems.append(f"line {number} is not a journal entry ({exc})")
            if number == 1:  # without its header nobody can say which manifest.json it follows
                return JournalRead([], problems, True, start + len(data), 0)
            continue
        if number == 1:
            if "base" not in op or op["base"] != token:
                return JournalRead([], problems, True, start + len(data), 0)
            continue
        ops.append(op)
    return JournalRead(ops, problems, False, start + len(complete), len(ops))


def apply_op(entries: dict[tuple[str, str], ManifestEntry], op: dict) -> None:
    """One journal line: {"remove": [[force, month], ...], "set": [entry, ...]} (removals first)."""
    for force, month in op.get("remove") or ():
        entries.pop((str(force), str(month)), None)
    for item in op.get("set") or ():
        entry = ManifestEntry.from_json(item)
        entries[(entry.force, entry.month)] = entry


@dataclass(frozen=True)
class _State:
    key: tuple[tuple[int, int, int] | None, tuple[int, int, int] | None]   # (manifest.json, journal) stats
    token: str | None                                 # the journal token manifest.json carries
    base: dict[tuple[str, str], ManifestEntry]        # entries of manifest.json alone
    entries: dict[tuple[str, str], ManifestEntry]     # after the journal
    journal_ino: int | None = None                    # the journal read, when it applies (not stale)
    journal_end: int = 0
    journal_lines: int = 0


class Manifest:
    """ManifestEntry keyed by (force, month): manifest.json plus its append-only journal (module docstring).

    Writers in one process serialise on a threading.Lock and, on POSIX, between processes on an flock of
    a sibling `.lock` file (the store's writer lock is held as well). Every update is on disk (fsynced)
    when update() returns: the store commits a force-month by writing its entry. Readers take no lock:
    they re-read when either file's (inode, mtime, size) changed, only the new lines of a grown journal.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.journal_path = self.path.with_suffix(JOURNAL_SUFFIX)
        self._lock = _lock_for(self.path)
        self._state: _State | None = None
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
        return self.path.is_file() or self.journal_path.is_file()

    def load(self) -> dict[tuple[str, str], ManifestEntry]:
        """All entries (a fresh dict); an absent manifest is an empty store."""
        with self._lock:
            return self._load_file()

    def _unreadable(self, path: Path, why: str) -> StoreError:
        return StoreError(f"The store manifest {path} is unreadable ({why}).",
                          hint="Run `python -m data verify --repair` to rebuild it from the stored files.",
                          file=str(path))

    def _read_base(self) -> tuple[tuple[int, int, int] | None, str | None, dict[tuple[str, str], ManifestEntry]]:
        for attempt in range(3):
            try:
                with open(self.path, "rb") as handle:
                    stat = os.fstat(handle.fileno())
                    text = handle.read().decode("utf-8")
                payload = json.loads(text)
                entries = {(e.force, e.month): e
                           for e in (ManifestEntry.from_json(item) for item in payload["entries"])}
                token = payload.get("journal")
                return (stat.st_ino, stat.st_mtime_ns, stat.st_size), None if token is None else str(token), entries
            except FileNotFoundError:
                return None, None, {}
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                # os.replace makes a torn read impossible on a local disk; retry for odd filesystems
                if attempt < 2:
                    time.sleep(0.05)
                    continue
                raise self._unreadable(self.path, f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    def _read(self) -> _State:
        old = self._state
        mkey = _stat_key(self.path)
        if old is not None and old.key[0] == mkey:
            mkey, token, base, entries = old.key[0], old.token, old.base, dict(old.entries)
            ino, end, lines = old.journal_ino, old.journal_end, old.journal_lines
        else:
            mkey, token, base = self._read_base()
            entries, ino, end, lines = dict(base), None, 0, 0
        try:
            with open(self.journal_path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                if stat.st_ino != ino or stat.st_size < end:  # another journal: read it from its start
                    entries, end, lines = dict(base), 0, 0
                handle.seek(end)
                data = handle.read()
        except FileNotFoundError:
            return _State((mkey, None), token, base, dict(base))
        jkey = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        read = parse_journal(data, token, start=end, first_line=lines + 2 if end else 1)
        if read.problems:
            raise self._unreadable(self.journal_path, read.problems[0])
        if read.stale:
            return _State((mkey, jkey), token, base, dict(base))
        try:
            for op in read.ops:
                apply_op(entries, op)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise self._unreadable(self.journal_path, f"{type(exc).__name__}: {exc}") from exc
        return _State((mkey, jkey), token, base, entries, stat.st_ino, read.end, lines + read.lines)

    def _load_file(self) -> dict[tuple[str, str], ManifestEntry]:
        if self._state is None:  # what another Manifest of this file in this process read last
            self._state = _READ.get(self.path)
        for _ in range(5):
            key = (_stat_key(self.path), _stat_key(self.journal_path))
            if self._state is not None and self._state.key == key:
                return dict(self._state.entries)
            state = self._read()
            # a compaction between reading manifest.json and its journal: read both again
            if _stat_key(self.path) == state.key[0]:
                self._state = _READ[self.path] = state
                return dict(state.entries)
        self._state = state
        return dict(state.entries)

    def get(self, force: str, month: str) -> ManifestEntry | None:
        with self._lock:
            self._load_file()
            return self._state.entries.get((force, month)) if self._state else None

    def update(self, entry: ManifestEntry, *,
               merge: Callable[[ManifestEntry | None, ManifestEntry], ManifestEntry] | None = None) -> ManifestEntry:
        """Store one entry now. `merge(old, new) -> entry` decides, under the lock, what is written."""
        return self.update_many([entry], merge=merge)[0]

    def update_many(self, new: list[ManifestEntry], *, remove: tuple[tuple[str, str], ...] = (),
                    merge: Callable[[ManifestEntry | None, ManifestEntry], ManifestEntry] | None = None,
                    replace_all: bool = False) -> list[ManifestEntry]:
        """Write entries (and drop `remove` keys) as one journal line, all or nothing; `replace_all` ignores
        what is stored (manifest.json and journal) and rewrites manifest.json with exactly these entries."""
        with self._lock, self._file_lock():
            entries = {} if replace_all else self._load_file()
            for key in remove:
                entries.pop(key, None)
            written = []
            for entry in new:
                if merge is not None:
                    entry = merge(entries.get((entry.force, entry.month)), entry)
                entries[(entry.force, entry.month)] = entry
                written.append(entry)
            if replace_all:
                self._rewrite(entries)
                return written
            self._append({"remove": [list(k) for k in remove], "set": [e.to_json() for e in written]}, entries)
            if self._state is not None and self._state.journal_lines >= COMPACT_LINES:
                self._compact_locked()
            return written

    def _append(self, op: dict, entries: dict[tuple[str, str], ManifestEntry]) -> None:
        """One fsynced line: the commit point. Cuts off a torn last line first; starts a journal when
        there is none for the current manifest.json (a new file renamed into place with its header)."""
        line = (json.dumps(op, ensure_ascii=False) + "\n").encode("utf-8")
        state = self._state or _State((None, None), None, {}, {})
        if state.journal_ino is not None:
            fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND)
            try:
                if os.fstat(fd).st_size > state.journal_end:
                    os.ftruncate(fd, state.journal_end)  # a torn line a killed writer left: never committed
                try:
                    view = memoryview(line)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                except BaseException:
                    with contextlib.suppress(OSError):  # not committed: leave no half line behind
                        os.ftruncate(fd, state.journal_end)
                    raise
                stat = os.fstat(fd)
            finally:
                os.close(fd)
            end, lines = state.journal_end + len(line), state.journal_lines + 1
        else:
            header = (json.dumps({"base": state.token}) + "\n").encode("utf-8")
            atomic_write_bytes(self.journal_path, header + line)
            _fsync_dir(self.journal_path.parent)
            stat = self.journal_path.stat()
            end, lines = len(header) + len(line), 1
        self._state = dataclasses.replace(state, key=(state.key[0], (stat.st_ino, stat.st_mtime_ns, stat.st_size)),
                                          entries=entries, journal_ino=stat.st_ino, journal_end=end,
                                          journal_lines=lines)

    def compact(self) -> bool:
        """Fold the journal into manifest.json (True when there was one). Safe at any time: a kill between
        the rewrite and the journal's deletion leaves a stale journal, which is ignored."""
        with self._lock, self._file_lock():
            if not self.journal_path.exists():
                return False
            self._load_file()
            self._compact_locked()
            return True

    def _compact_locked(self) -> None:
        state = self._state
        if state is not None and state.entries != state.base:
            self._rewrite(state.entries)
        else:  # the journal changed nothing (a write undone): manifest.json stays byte for byte
            self.journal_path.unlink(missing_ok=True)
            _fsync_dir(self.path.parent)
            self._state = None

    def _rewrite(self, entries: dict[tuple[str, str], ManifestEntry]) -> None:
        token = uuid.uuid4().hex
        lines = {}
        for key in sorted(entries):
            entry = entries[key]
            lines[entry] = self._lines.get(entry) or json.dumps(entry.to_json(), ensure_ascii=False)
        # one entry per line: readable, diffable, and much quicker to write than indented JSON
        body = ",\n".join(lines.values())
        atomic_write_text(self.path, f'{{"format": {MANIFEST_FORMAT}, "updated_at": "{now()}", "journal": '
                                     f'"{token}", "entries": [\n{body}\n]}}\n')
        _fsync_dir(self.path.parent)  # the new manifest.json is durable before the journal goes
        self.journal_path.unlink(missing_ok=True)  # stale from here on (its base is the old token)
        _fsync_dir(self.path.parent)
        self._lines = lines
        self._state = None
