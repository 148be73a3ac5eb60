"""`python -m data verify [--repair]`: prove the store is what its manifest says, or say exactly where not.

Every data file is hashed and compared with its manifest checksum and record count; files the manifest
does not describe (orphans), entries whose file is missing, temporaries left by interrupted writes,
unknown statuses and impossible entries are each reported on one line. `repair=True` removes stale
temporaries (finishing writes that were already committed), rebuilds a missing or unreadable manifest
from the files, corrects an entry from its file when the file's checksum proves it is the one written,
and otherwise marks the month failed (moving its file to <root>/quarantine/) so that the next fetch or
import restores it. Runs under the writer lock, so it never sees a write half done.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from data import reference_data, store_recovery
from data.errors import StopSearchDataError, StoreError
from data.safe_text import escape_controls
from data.store import SOURCE_KEY, STATUSES, ManifestEntry, Store, iter_data_files
from data.store_lock import StoreBusy, writer_lock
from data.store_manifest import parse_journal

WITH_FILE = ("ok", "empty")


@dataclass(frozen=True)
class Finding:
    """One problem: where (a file or 'force month') and what is wrong."""

    where: str
    problem: str

    def line(self) -> str:
        return escape_controls(f"{self.where}: {self.problem}")


@dataclass
class VerifyReport:
    root: str
    files: int = 0
    records: int = 0
    problems: list[Finding] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    busy: str | None = None  # another writer held the lock: nothing was checked
    hashed: bool = True      # False: a quick check (files whose size and time match their entry not hashed)

    @property
    def ok(self) -> bool:
        return not self.problems and self.busy is None

    def summary(self) -> str:
        if self.busy:
            return f"not checked: {self.busy}"
        state = "intact" if not self.problems else f"{len(self.problems)} problem{'' if len(self.problems) == 1 else 's'}"
        how = "checked against the manifest" if self.hashed else \
            "checked against the manifest by size and time (a file that differs is hashed)"
        return f"{self.root}: {self.files} data files, {self.records:,} records {how}; {state}."

    def lines(self) -> list[str]:
        out = [f"problem: {f.line()}" for f in self.problems]
        out += [f"repaired: {escape_controls(r)}" for r in self.repairs]
        out.append(self.summary())
        if self.problems and not self.repairs:
            out.append("Run `python -m data verify --repair` to repair what can be repaired; damaged months are "
                       "marked failed, and the next fetch or import restores them.")
        return out


@dataclass(frozen=True)
class _FileFacts:
    checksum: str
    records: int | None     # None: not a readable Parquet file
    source: str | None
    labels: tuple[set[str], set[str]] | None  # force and month values in the file
    size: int
    mtime_ns: int


def _facts(path: Path, *, labels: bool = False) -> _FileFacts:
    stat = path.stat()
    payload = path.read_bytes()
    checksum = hashlib.sha256(payload).hexdigest()
    try:
        meta = pq.read_metadata(pa.BufferReader(payload))
        source = (meta.schema.to_arrow_schema().metadata or {}).get(SOURCE_KEY)
        values = None
        if labels:
            table = pq.read_table(pa.BufferReader(payload), columns=["force", "month"])
            values = ({str(v) for v in table["force"].to_pylist() if v is not None},
                      {str(v) for v in table["month"].to_pylist() if v is not None})
        return _FileFacts(checksum, meta.num_rows, source.decode("utf-8", "replace") if source else None, values,
                          stat.st_size, stat.st_mtime_ns)
    except (pa.ArrowException, OSError, KeyError, ValueError):
        return _FileFacts(checksum, None, None, None, stat.st_size, stat.st_mtime_ns)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _entry_from_file(force: str, month: str, facts: _FileFacts, *, source: str | None = None,
                     retrieved_at: str | None = None, reason: str | None = None) -> ManifestEntry:
    when = retrieved_at or datetime.fromtimestamp(facts.mtime_ns / 1e9, UTC).replace(microsecond=0) \
        .isoformat().replace("+00:00", "Z")
    return ManifestEntry(force=force, month=month, status="ok" if facts.records else "empty",
                         records=int(facts.records or 0), source=source or facts.source or "rebuilt by verify",
                         retrieved_at=when, checksum=facts.checksum, reason=reason, size=facts.size,
                         mtime_ns=facts.mtime_ns)


class _Verifier:
    def __init__(self, store: Store, repair: bool, quick: bool = False) -> None:
        self.store, self.repair, self.quick = store, repair, quick and not repair
        self.report = VerifyReport(root=str(store.root), hashed=not self.quick)
        self.known_forces = set(reference_data.force_ids())
        self.write: dict[tuple[str, str], ManifestEntry] = {}   # entries to (re)write when repairing
        self.drop: set[tuple[str, str]] = set()
        self.pending: dict[tuple[str, str], Path] = {}  # committed writes whose rename is still to do
        self.journal_damaged = False

    def problem(self, where: object, text: str) -> None:
        self.report.problems.append(Finding(str(where), text))

    def quarantine(self, path: Path) -> None:
        target = self.store.root / "quarantine" / path.parent.name / f"{path.name}.{_stamp()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        self.report.repairs.append(f"{path}: moved to {target}.")

    def run(self) -> VerifyReport:
        temporaries = store_recovery.temporaries(self.store)
        for tmp in temporaries:
            if self.repair:
                self.problem(tmp, "a temporary file left by an interrupted write.")
                self.report.repairs.append(store_recovery.settle(self.store, tmp))
        raw = self._manifest_items()
        if not self.repair:
            self._note_temporaries(temporaries, raw)
        entries = self._check_items(raw) if raw is not None else {}
        files = {(p.parent.name, p.stem): p for p in iter_data_files(self.store)}
        if raw is None:
            self._rebuild(files)
        else:
            self._check_files(entries, files)
        self._check_read_copy()
        if self.repair and self.journal_damaged and raw is not None:
            # the journal cannot be appended to: write everything that was read, repairs included
            for key in self.drop:
                entries.pop(key, None)
            self.write = {**entries, **self.write}
            raw = None
        if self.repair and (self.write or self.drop or raw is None):
            self.store._manifest.update_many(list(self.write.values()), remove=tuple(self.drop),  # noqa: SLF001
                                            replace_all=raw is None)
            self.report.repairs.append(f"{self.store.manifest_path}: {len(self.write)} entries written, "
                                       f"{len(self.drop)} removed.")
        if self.repair:
            self.store.compact_manifest()
        return self.report

    def _note_temporaries(self, temporaries: list[Path], raw: list | None) -> None:
        """Report each temporary once; one whose month's entry already describes it (a write killed between
        its commit and its rename) is what that month's file is until --repair or the next writer renames it."""
        if not temporaries:
            return
        entries = {}
        for item in raw or ():
            with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
                entry = ManifestEntry.from_json(item)
                entries[(entry.force, entry.month)] = entry
        for tmp in temporaries:
            match = store_recovery.TEMPORARY.match(tmp.name)
            key = (tmp.parent.name, Path(match.group("target")).stem) if match else None
            entry = entries.get(key) if key and tmp.parent.parent == self.store.data_dir else None
            if entry is not None and entry.checksum and _facts(tmp).checksum == entry.checksum:
                self.pending[key] = tmp
                self.problem(tmp, "a temporary file left by a write interrupted after its manifest entry was "
                                  "written (committed); --repair or the next fetch or import finishes it.")
            else:
                self.problem(tmp, "a temporary file left by an interrupted write.")

    def _manifest_items(self) -> list | None:
        """The manifest's raw entries, with its journal applied; None when it is missing or unreadable (reported)."""
        path = self.store.manifest_path
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            items = payload["entries"]
            if not isinstance(items, list):
                raise TypeError("'entries' is not a list")
            return self._with_journal(items, payload.get("journal"))
        except FileNotFoundError:
            if self.store._manifest.journal_path.is_file():  # noqa: SLF001 - a store whose first session was cut short
                items = self._with_journal([], None)
                if items:
                    return items
            if any(True for _ in iter_data_files(self.store)):
                self.problem(path, "missing, so the store reads as empty although it holds data files.")
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.problem(path, f"unreadable ({type(exc).__name__}: {exc}).")
            if self.repair:
                aside = path.with_name(f"{path.name}.damaged-{_stamp()}")
                os.replace(path, aside)
                self.report.repairs.append(f"{path}: moved aside to {aside}.")
            return None

    def _with_journal(self, items: list, token: object) -> list:
        """manifest.json's items with the journal's complete lines applied (a torn last line never
        committed; a stale journal already folded in). A damaged line is reported and skipped; --repair
        folds what is readable into manifest.json."""
        journal = self.store._manifest.journal_path  # noqa: SLF001
        try:
            data = journal.read_bytes()
        except FileNotFoundError:
            return items
        read = parse_journal(data, None if token is None else str(token))
        for problem in read.problems:
            self.problem(journal, f"{problem}; --repair folds the readable lines into the manifest.")
        self.journal_damaged = bool(read.problems)
        if read.stale:
            return items
        final: dict[tuple[str, str], dict | None] = {}
        for op in read.ops:
            for force, month in op.get("remove") or ():
                final[(str(force), str(month))] = None
            for item in op.get("set") or ():
                final[(str(item.get("force")), str(item.get("month")))] = item
        kept = [item for item in items if not isinstance(item, dict)
                or (str(item.get("force")), str(item.get("month"))) not in final]
        return kept + [item for item in final.values() if item is not None]

    def _check_items(self, items: list) -> dict[tuple[str, str], ManifestEntry]:
        entries: dict[tuple[str, str], ManifestEntry] = {}
        for number, item in enumerate(items, start=1):
            where = f"manifest entry {number}"
            try:
                entry = ManifestEntry.from_json(item)
                where = f"{entry.force} {entry.month}"
                key = Store._key(entry.force, entry.month)  # noqa: SLF001
                if key != (entry.force, entry.month):
                    raise StoreError(f"not in the store's spelling (expected {key[0]} {key[1]})")
            except (StopSearchDataError, KeyError, TypeError, ValueError, AttributeError) as exc:
                self.problem(where, f"impossible entry ({exc}); removed by --repair.")
                if self.repair and isinstance(item, dict) and "force" in item and "month" in item:
                    self.drop.add((str(item["force"]), str(item["month"])))
                continue
            if entry.force not in self.known_forces:
                self.problem(where, f"unknown force id '{entry.force}'.")
            if (entry.force, entry.month) in entries:
                self.problem(where, "listed twice in the manifest; the last entry counts.")
            entries[(entry.force, entry.month)] = entry
            if entry.status not in STATUSES:
                self.problem(where, f"unknown status '{entry.status}' (expected one of {', '.join(STATUSES)}).")
            if entry.records < 0:
                self.problem(where, f"impossible record count {entry.records}.")
            if entry.status in ("not_published", "failed") and entry.records:
                self.problem(where, f"{entry.records} records on a {entry.status} month (expected 0).")
                if self.repair and entry.status in STATUSES:
                    self.write[(entry.force, entry.month)] = dataclasses.replace(entry, records=0)
            if entry.status == "ok" and entry.records == 0:
                self.problem(where, "status ok with 0 records (expected 'empty').")
            if entry.status in WITH_FILE and not entry.checksum:
                self.problem(where, f"status {entry.status} without a checksum.")
        return entries

    def _check_files(self, entries: dict[tuple[str, str], ManifestEntry], files: dict[tuple[str, str], Path]) -> None:
        for key, entry in sorted(entries.items()):
            path = files.pop(key, None)
            expects_file = entry.status in WITH_FILE or entry.status not in STATUSES
            if key in self.pending:  # said once, on its temporary
                continue
            if path is None:
                if expects_file:
                    self.problem(f"{entry.force} {entry.month}", f"status {entry.status} but "
                                 f"{self.store.path_for(*key)} is missing.")
                    self._fail(entry, "its data file was missing")
                continue
            if not expects_file:
                self.problem(path, f"a data file for a month the manifest records as {entry.status}.")
                if self.repair:
                    self.quarantine(path)
                continue
            if self.quick and _unchanged(entry, path):  # as every read checks files (data.read_copy)
                self.report.files += 1
                self.report.records += entry.records
                continue
            facts = _facts(path)
            self.report.files += 1
            self.report.records += facts.records or 0
            wrong = self._compare(entry, facts)
            if wrong is None:
                if self.repair and (entry.size, entry.mtime_ns) != (facts.size, facts.mtime_ns):
                    self.write[key] = dataclasses.replace(entry, size=facts.size, mtime_ns=facts.mtime_ns)
                continue
            self.problem(path, wrong)
            if facts.checksum == entry.checksum and facts.records is not None:
                # the checksum proves this is the file that was written: the entry is what is wrong
                if self.repair:
                    self.write[key] = _entry_from_file(*key, facts, source=entry.source,
                                                       retrieved_at=entry.retrieved_at, reason=entry.reason)
            else:
                self._fail(entry, wrong)
                if self.repair:
                    self.quarantine(path)
        for key, path in sorted(files.items()):
            self.problem(path, "a data file the manifest does not describe (an orphan).")
            self._adopt(key, path)

    @staticmethod
    def _compare(entry: ManifestEntry, facts: _FileFacts) -> str | None:
        if facts.checksum != entry.checksum:
            what = "not a readable Parquet file" if facts.records is None else f"holds {facts.records:,} records"
            return (f"its checksum is not the manifest's (changed, swapped, truncated or damaged after it was "
                    f"stored; {what}).")
        if facts.records is None:
            return "not a readable Parquet file."
        if facts.records != entry.records:
            return f"the manifest says {entry.records:,} records but the file holds {facts.records:,}."
        if entry.status not in WITH_FILE:
            return f"unknown status '{entry.status}'."
        if (entry.status == "ok") != (facts.records > 0):
            return f"status {entry.status} but the file holds {facts.records:,} records."
        return None

    def _fail(self, entry: ManifestEntry, why: str) -> None:
        if self.repair:
            self.write[(entry.force, entry.month)] = ManifestEntry(
                force=entry.force, month=entry.month, status="failed", records=0, source=entry.source,
                retrieved_at=entry.retrieved_at, reason=f"verify found that {why}; fetch or import it again")
            self.report.repairs.append(f"{entry.force} {entry.month}: marked failed.")

    def _adopt(self, key: tuple[str, str], path: Path) -> bool:
        """Describe a data file from its contents when it is a store file of that force-month."""
        facts = _facts(path, labels=True)
        fits = (facts.records is not None and facts.labels is not None
                and facts.labels[0] <= {key[0]} and facts.labels[1] <= {key[1]})
        try:
            Store._key(*key)  # noqa: SLF001
        except StopSearchDataError:
            fits = False
        if self.repair:
            if fits:
                self.write[key] = _entry_from_file(*key, facts)
                self.report.files += 1
                self.report.records += facts.records or 0
                self.report.repairs.append(f"{path}: described in the manifest from its contents.")
            else:
                self.quarantine(path)
        return fits

    def _rebuild(self, files: dict[tuple[str, str], Path]) -> None:
        for key, path in sorted(files.items()):
            if not self._adopt(key, path) and not self.repair:
                self.problem(path, "not a stop-and-search file of this force-month; --repair moves it aside.")

    def _check_read_copy(self) -> None:
        path = self.store.cache_path
        if not path.exists():
            return
        try:
            pq.read_schema(path)
        except (pa.ArrowException, OSError) as exc:
            self.problem(path, f"the combined read copy is unreadable ({exc}); it is never used like this.")
            if self.repair:
                path.unlink(missing_ok=True)
                self.report.repairs.append(f"{path}: deleted (rebuilt by the next read).")


def _unchanged(entry: ManifestEntry, path: Path) -> bool:
    try:
        stat = path.stat()
    except OSError:
        return False
    return entry.size is not None and (entry.size, entry.mtime_ns) == (stat.st_size, stat.st_mtime_ns)


def verify(store: Store | None = None, *, repair: bool = False, wait: float | None = None,
           quick: bool = False) -> VerifyReport:
    """Check (and with repair=True, repair) the stop-and-search store. `wait`: seconds to wait for a writer.
    `quick`: hash only files whose size or time differs from their entry (what every read checks; the
    Data quality page's first look at ten national years in a tenth of a second instead of seconds)."""
    store = store or Store()
    if not store.root.exists():
        return VerifyReport(root=str(store.root))
    try:
        with writer_lock(store.root, wait=store.lock_wait if wait is None else wait):
            return _Verifier(store, repair, quick).run()
    except StoreBusy as exc:
        return VerifyReport(root=str(store.root), busy=str(exc))
