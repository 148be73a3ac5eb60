"""Bulk files read into memory are normalised in batches and stored one force-month at a time.

Per file, normalise.from_csv costs ~30 ms of fixed overhead against ~2 us per record, and a national
month is ~45 files of a few thousand records: files with the standard header are joined, read once and
normalised together, once per distinct value (data.batch_normalise), into each file's own Arrow table.
Any doubt (an odd header, a value that fails a check, a count that does not add up) sends the batch back
through from_csv one file at a time, whose results and one-line messages are the reference. A big import
normalises its batches on worker processes (data.import_pool); storing always happens here, in order.
"""
from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from data import normalise
from data.batch_normalise import normalise_files
from data.errors import InvalidRecords, StopSearchDataError, StoreError
from data.import_pool import POOL_MIN_BYTES, POOL_MIN_FILES, NormalisePool, planned_workers, usable_cpus
from data.import_results import ImportSummary, MonthResult, Problem
from data.store import STORE_SCHEMA, ManifestEntry, Store

Prepared = tuple[ManifestEntry, bytes]  # a force-month's manifest entry and Parquet file, not yet committed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _File:
    """One stop-and-search CSV read into memory, waiting to be normalised and stored."""

    force: str
    month: str
    source: str
    where: str
    payload: bytes


_HEADER = ",".join(normalise.CSV_COLUMNS).encode()


class _Batch:
    """Normalises files in groups and stores each force-month, in the order the files were added.

    `workers`: 0 or 1 normalise in this process; N >= 2 on N worker processes; None decides by the
    import's size (workers once it passes POOL_MIN_BYTES or POOL_MIN_FILES, one per usable CPU) unless
    $STOPSEARCH_IMPORT_WORKERS says otherwise."""

    def __init__(self, store: Store, summary: ImportSummary, *, max_files: int = 64, max_bytes: int = 32 << 20,
                 allow_empty: bool = False, background: bool = False, workers: int | None = 0) -> None:
        self.store, self.summary = store, summary
        self.background = background  # store batches on a thread (flush returns before they are stored)
        self.allow_empty = allow_empty
        self.max_files, self.max_bytes = max_files, max_bytes
        self.files: list[_File] = []
        self.size = 0
        # one thread stores a batch (Parquet, fsync: mostly waiting on the disk) while the caller reads and
        # normalises the next; batches are stored one at a time, in order
        self._committer: ThreadPoolExecutor | None = None
        self._pending: Future | None = None
        self.workers = planned_workers(workers)
        self._pool: NormalisePool | None = None
        self._queue: deque[tuple[list[_File], Future | None]] = deque()  # batches with the workers, in order
        self._seen_files = self._seen_bytes = 0

    def add(self, item: _File) -> None:
        self.files.append(item)
        self.size += len(item.payload)
        if len(self.files) >= self.max_files or self.size >= self.max_bytes:
            self.flush()

    def flush(self) -> None:
        files, self.files, self.size = self.files, [], 0
        self._seen_files += len(files)
        self._seen_bytes += sum(len(f.payload) for f in files)
        pool = self._workers_for_this_import() if len(files) > 1 else None
        if pool is not None:
            self._queue.append((files, pool.submit(files)))  # the worker answers with the files' Parquet bytes
            self._drain(keep=pool.depth)
            return
        tables = _normalise_together(files) if len(files) > 1 else None
        self._drain(keep=0)
        self._store(files, tables)

    def _workers_for_this_import(self) -> NormalisePool | None:
        if self._pool is None:
            wanted = self.workers
            if wanted is None:
                big = self._seen_bytes >= POOL_MIN_BYTES or self._seen_files >= POOL_MIN_FILES
                wanted = usable_cpus() if big else 0
            if wanted < 2:
                return None
            self._pool = NormalisePool(wanted, _normalise_and_prepare, preload=__name__)
        return self._pool

    def _drain(self, *, keep: int) -> None:
        """Store the batches the workers hold, oldest first, until `keep` are left with them."""
        while len(self._queue) > keep:
            files, future = self._queue.popleft()
            pool = self._pool
            self._store(files, pool.result(future, files) if pool is not None else _normalise_and_prepare(files))

    def _store(self, files: list[_File], made: list[pa.Table] | list[Prepared] | None) -> None:
        """Store a batch (its tables, or their Parquet files made by a worker) after the batch before it; None:
        each file through from_csv, whose results and messages are the reference."""
        self._wait_stored()
        if made is not None and not self.background:
            self._store_together(files, made)
            return
        if made is not None:
            if self._committer is None:
                self._committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-store")
            self._pending = self._committer.submit(self._store_together, files, made)
            return
        for item in files:
            try:
                records = normalise.from_csv(item.payload, force=item.force, month=item.month, where=item.where,
                                             check=True)
                if not len(records) and not self.allow_empty and self._keeps_stored(item):
                    continue
                entry = self.store.write_month(item.force, item.month, records, source=item.source)
            except InvalidRecords as exc:  # refused at the door: said in the manifest too, stored data kept
                self.store.record_failure(item.force, item.month, source=item.source, reason=str(exc))
                self.summary.problems.append(Problem(item.where, str(exc)))
                continue
            except StopSearchDataError as exc:
                self.summary.problems.append(Problem(item.where, str(exc)))
                continue
            log.info("imported %s %s: %d records from %s", item.force, item.month, entry.records, item.source)
            self.summary.imported.append(MonthResult(force=item.force, month=item.month, status=entry.status,
                                                     records=entry.records, source=item.source))

    def wait(self) -> None:
        """Until every batch flushed is stored (their errors raised here)."""
        self._drain(keep=0)
        self._wait_stored()

    def _wait_stored(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def shutdown(self) -> None:
        """Stop the workers, and the storing thread once the batch it is storing is stored."""
        if self._pool is not None:
            self._pool.shutdown()
            self.summary.worker_cpu_seconds += self._pool.cpu_seconds
            self._pool = None
        if self._committer is not None:
            self._committer.shutdown(wait=True)
            self._committer = None

    def _store_together(self, files: list[_File], made: list[pa.Table] | list[Prepared]) -> None:
        """Files that passed validation together, stored in group commits (one journal line, as
        Store.write_tables) in file order; a month given twice, or an empty file (which looks at what is
        stored), first commits the group."""
        prepared = [m if isinstance(m, tuple) else _prepare(f, m) for f, m in zip(files, made, strict=True)]
        group: list[tuple[_File, Prepared]] = []

        def commit() -> None:
            try:
                entries = _commit(self.store, [p for _, p in group])
            except StopSearchDataError:  # one at a time, so each file gets its own result
                entries = []
                for item, one in group:
                    try:
                        entries.append(_commit(self.store, [one])[0])
                    except StopSearchDataError as exc:
                        entries.append(None)
                        self.summary.problems.append(Problem(item.where, str(exc)))
            for (item, _), entry in zip(group, entries, strict=True):
                if entry is not None:
                    log.info("imported %s %s: %d records from %s", item.force, item.month, entry.records, item.source)
                    self.summary.imported.append(MonthResult(force=item.force, month=item.month, status=entry.status,
                                                             records=entry.records, source=item.source))
            group.clear()

        for item, one in zip(files, prepared, strict=True):
            records = one[0].records
            if group and (any((f.force, f.month) == (item.force, item.month) for f, _ in group) or not records):
                commit()
            if not records and not self.allow_empty and self._keeps_stored(item):
                continue
            group.append((item, one))
        if group:
            commit()

    def _keeps_stored(self, item: _File) -> bool:
        """True (and a problem said) when a file with no records would replace stored records."""
        old = self.store.entry(item.force, item.month)
        if old is None or old.status != "ok" or old.records == 0:
            return False
        self.summary.problems.append(Problem(item.where, (
            f"{item.where}: the file holds no records (a header only), but the store holds {old.records:,} "
            f"records for {item.force} {item.month} (from {old.source}); they are kept. If the month really has "
            "no searches now, import the file again allowing empty months (`python -m data import "
            "--allow-empty FILE`, or tick 'Allow empty months' on the Get data page).")))
        return True


def _body(payload: bytes) -> bytes | None:
    """The records of a file with the standard header (ending in a newline); None for anything unusual."""
    if payload.startswith(b"\xef\xbb\xbf"):
        payload = payload[3:]
    header, newline, body = payload.partition(b"\n")
    if header.rstrip(b"\r") != _HEADER or b'"' in body:
        return None
    if body and not body.endswith((b"\n", b"\r")):
        body += b"\n"
    return body


def _record_counts(text: bytes, start: int, sizes: list[int]) -> list[int]:
    """How many records pyarrow reads from each of the bodies of `sizes` bytes joined in text[start:]. It ends
    a record at \\n, \\r\\n or \\r and skips empty lines, as bytes.splitlines does; when every \\r comes
    before a \\n and no line is empty (the published files), each \\n ends one record, counted with numpy."""
    data = np.frombuffer(text, dtype=np.uint8)[start:]
    ends = np.flatnonzero(data == 10)
    crlf = np.zeros(len(ends), dtype=bool)
    crlf[ends > 0] = data[ends[ends > 0] - 1] == 13
    firsts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else ends
    if int(np.count_nonzero(data == 13)) == int(crlf.sum()) and not ((ends - crlf) == firsts).any():
        return np.diff(np.searchsorted(ends, np.cumsum([0, *sizes]))).tolist()
    counts, offset = [], start
    for size in sizes:
        counts.append(sum(1 for line in text[offset:offset + size].splitlines() if line))
        offset += size
    return counts


def _prepare(item: _File, table: pa.Table) -> Prepared:
    """The force-month's manifest entry and Parquet file, made exactly as Store.write_tables makes them.

    Store.write_tables makes and commits in one call; a worker must make the file and this process commit it,
    so its two steps (Store._prepare, Store._commit) are called here. A public pair in data.store would be
    better (data/store.py was being changed by another engineer when this was written)."""
    force, month = Store._key(item.force, item.month)
    if not table.schema.equals(STORE_SCHEMA):
        raise StoreError(f"Records for {force} {month} are not in the store's schema.", force=force, month=month)
    return Store._prepare(force, month, table, source=item.source)


def _commit(store: Store, prepared: list[Prepared]) -> list[ManifestEntry]:
    """Store.write_tables' commit of files made by _prepare (here or on a worker): one journal line."""
    if len({(e.force, e.month) for e, _ in prepared}) != len(prepared):
        raise StoreError("A group of writes names one force-month twice.", hint="Write it in two calls.")
    with store.writing():
        return store._commit(prepared)


def _normalise_and_prepare(files: list[_File]) -> list[Prepared] | None:
    """What a worker process does with a batch: normalise it and make each file's Parquet bytes (compact to
    send back, and the compression runs on the worker); None sends the batch through the one-file path."""
    tables = _normalise_together(files)
    if tables is None:
        return None
    try:
        return [_prepare(item, table) for item, table in zip(files, tables, strict=True)]
    except StopSearchDataError:
        return None


def _normalise_together(files: list[_File]) -> list[pa.Table] | None:
    """Each file's table in the store's schema, or None when any file needs the one-file path."""
    bodies = [_body(f.payload) for f in files]
    if any(b is None for b in bodies):
        return None
    joined = b"".join([_HEADER, b"\n", *bodies])  # type: ignore[list-item]
    counts = _record_counts(joined, len(_HEADER) + 1, [len(b) for b in bodies])  # type: ignore[arg-type]
    try:
        table = normalise.read_csv_arrow(joined, where="several files")
    except StopSearchDataError:
        return None
    return normalise_files(table, keys=[(f.force, f.month) for f in files], counts=counts)
