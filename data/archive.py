"""Import the bulk files users download from data.police.uk: zip archives, loose CSVs, and folders of them."""
from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pyarrow as pa

from data import normalise
from data.errors import BadFile, InvalidRecords, StopSearchDataError, printable
from data.months import normalise_month
from data.reference_data import check_force
from data.store import Store, to_arrow
from data.store_table import month_slice

log = logging.getLogger(__name__)

# '2024-08-avon-and-somerset-stop-and-search.csv' (the folder part of a zip member does not matter)
STOP_SEARCH_NAME = re.compile(r"^(?P<month>\d{4}-\d{2})-(?P<force>.+)-stop-and-search\.csv$", re.IGNORECASE)
OTHER_POLICE_UK_NAME = re.compile(r"^\d{4}-\d{2}-.+-(street|outcomes)\.csv$", re.IGNORECASE)
MAX_MEMBER_BYTES = 2 * 1024**3     # no stop-and-search CSV comes near this (the Met's largest month is ~5 MB)
MAX_COMPRESSION_RATIO = 200        # CSV deflates ~5-15x; a far higher ratio is a zip bomb
_RATIO_FLOOR = 1 << 20             # tiny members can legitimately compress very well

OtherHandler = Callable[[Path], "list[str] | None"]


@dataclass(frozen=True)
class MonthResult:
    """One force-month read from a file and stored."""

    force: str
    month: str
    status: str        # 'ok' or 'empty'
    records: int
    source: str        # file name, or 'archive.zip:member/path.csv'

    def __post_init__(self) -> None:  # names inside a zip are untrusted: no control character gets out
        object.__setattr__(self, "source", printable(self.source, limit=500))


@dataclass(frozen=True)
class Problem:
    """A file or member that was not imported; no stored record changed because of it (a file refused at the
    door is noted as a failure in its force-month's manifest entry)."""

    where: str
    message: str

    def __post_init__(self) -> None:  # messages quote file names and content: no control character gets out
        object.__setattr__(self, "where", printable(self.where, limit=500))
        object.__setattr__(self, "message", printable(self.message, limit=2000))


@dataclass
class ImportSummary:
    imported: list[MonthResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped_members: int = 0                               # street / outcomes / other members of zips
    other_lines: list[str] = field(default_factory=list)   # what the handler of other files reported
    unrecognised: list[str] = field(default_factory=list)  # files nobody recognised

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def records(self) -> int:
        return sum(r.records for r in self.imported)

    def latest(self) -> list[MonthResult]:
        """One result per force-month (a month given twice: the last one counts), sorted."""
        last = {(r.force, r.month): r for r in self.imported}
        return [last[key] for key in sorted(last)]

    def closing_line(self, *, seconds: float | None = None) -> str:
        took = f" in {seconds:.1f} s" if seconds is not None else ""
        return (f"{len(self.imported)} force-months imported ({self.records:,} records){took}; "
                f"{self.skipped_members} other zip members skipped; {len(self.problems)} problem{'' if len(self.problems) == 1 else 's'}.")

    def lines(self, *, seconds: float | None = None) -> list[str]:
        """The summary as the command line and the app show it: per force-month, then totals and problems."""
        lines = [f"{r.force} {r.month}: {r.status}, {r.records:,} records ({r.source})" for r in self.latest()]
        lines += [*self.other_lines, *self.unrecognised, self.closing_line(seconds=seconds)]
        lines += [f"error: {p.message}" for p in self.problems]
        # file names and quoted file content are untrusted: no control character reaches a terminal
        return [printable(line, limit=2000) for line in lines]


def parse_name(name: str) -> tuple[str, str] | None:
    """'.../2024-08-kent-stop-and-search.csv' -> ('kent', '2024-08'); None for any other file name.

    Raises UnknownForce (with suggestions) for a well-formed name whose force id is not known, and
    BadMonthRange for an impossible month."""
    match = STOP_SEARCH_NAME.match(PurePosixPath(name.replace("\\", "/")).name)
    if not match:
        return None
    return check_force(match.group("force")), normalise_month(match.group("month"))


def _escapes(name: str) -> bool:
    """True for member names that would land outside a folder they were extracted into."""
    posix = name.replace("\\", "/")
    return (posix.startswith("/") or re.match(r"^[A-Za-z]:", posix) is not None
            or any(part == ".." for part in posix.split("/")))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, where: str, max_bytes: int,
                 max_ratio: float) -> bytes:
    if info.file_size > max_bytes:
        raise BadFile(f"{where}: the member would unpack to {info.file_size:,} bytes, over the limit of "
                      f"{max_bytes:,}; refused.", hint="Check the file came from data.police.uk.", file=where)
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > _RATIO_FLOOR and ratio > max_ratio:
        raise BadFile(f"{where}: the member expands {ratio:,.0f} times (a zip bomb?); refused.",
                      hint="Check the file came from data.police.uk.", file=where)
    chunks, total = [], 0
    try:
        with archive.open(info) as handle:  # zipfile stops at the declared size; read in bounded chunks anyway
            while chunk := handle.read(1 << 20):
                total += len(chunk)
                if total > max_bytes:
                    raise BadFile(f"{where}: the member unpacks to more than {max_bytes:,} bytes; refused.",
                                  hint="Check the file came from data.police.uk.", file=where)
                chunks.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise BadFile(f"{where}: the member cannot be unpacked ({exc}).",
                      hint="The archive is damaged or truncated: download it again from data.police.uk.",
                      file=where) from exc
    return b"".join(chunks)


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
    """Normalises files in groups and stores each force-month.

    normalise.from_csv costs ~30 ms of fixed overhead per call, against ~2 us per record: a national
    month is ~45 files of a few thousand records, so files with the standard header are joined and
    normalised in one call, then split back by their record counts. Any doubt (an odd header, an
    error, a count that does not add up) sends the group back through from_csv one file at a time, so
    results and error messages are exactly those of from_csv."""

    def __init__(self, store: Store, summary: ImportSummary, *, max_files: int = 64, max_bytes: int = 32 << 20,
                 allow_empty: bool = False, background: bool = False) -> None:
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

    def add(self, item: _File) -> None:
        self.files.append(item)
        self.size += len(item.payload)
        if len(self.files) >= self.max_files or self.size >= self.max_bytes:
            self.flush()

    def flush(self) -> None:
        files, self.files, self.size = self.files, [], 0
        tables = _normalise_together(files) if len(files) > 1 else None
        self.wait()
        if tables is not None and not self.background:
            self._store_together(files, tables)
            return
        if tables is not None:
            if self._committer is None:
                self._committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-store")
            self._pending = self._committer.submit(self._store_together, files, tables)
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
        """Until the batch being stored is stored (its errors raised here)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def shutdown(self) -> None:
        """Stop the storing thread once the batch it is storing is stored."""
        if self._committer is not None:
            self._committer.shutdown(wait=True)
            self._committer = None

    def _store_together(self, files: list[_File], tables: list[pa.Table]) -> None:
        """Files that passed validation together, stored in group commits (Store.write_tables) in file order;
        a month given twice, or an empty file (which looks at what is stored), first commits the group."""
        group: list[tuple[_File, pa.Table]] = []

        def commit() -> None:
            try:
                entries = self.store.write_tables([(f.force, f.month, t, f.source) for f, t in group])
            except StopSearchDataError:  # one at a time, so each file gets its own result
                entries = []
                for item, table in group:
                    try:
                        entries.append(self.store.write_table(item.force, item.month, table, source=item.source))
                    except StopSearchDataError as exc:
                        entries.append(None)
                        self.summary.problems.append(Problem(item.where, str(exc)))
            for (item, _), entry in zip(group, entries, strict=True):
                if entry is not None:
                    log.info("imported %s %s: %d records from %s", item.force, item.month, entry.records, item.source)
                    self.summary.imported.append(MonthResult(force=item.force, month=item.month, status=entry.status,
                                                             records=entry.records, source=item.source))
            group.clear()

        for item, table in zip(files, tables, strict=True):
            if group and (any((f.force, f.month) == (item.force, item.month) for f, _ in group)
                          or not table.num_rows):
                commit()
            if not table.num_rows and not self.allow_empty and self._keeps_stored(item):
                continue
            group.append((item, table))
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


def _body(payload: bytes) -> tuple[bytes, int] | None:
    """The records of a file with the standard header and how many there are; None for anything unusual."""
    if payload.startswith(b"\xef\xbb\xbf"):
        payload = payload[3:]
    header, newline, body = payload.partition(b"\n")
    if header.rstrip(b"\r") != _HEADER or b'"' in body:
        return None
    if body and not body.endswith((b"\n", b"\r")):
        body += b"\n"
    # pyarrow ends a record at \n, \r\n or \r and skips empty lines, as bytes.splitlines does
    return body, sum(1 for line in body.splitlines() if line)


def _normalise_together(files: list[_File]) -> list[pa.Table] | None:
    parts = [_body(f.payload) for f in files]
    if any(p is None for p in parts):
        return None
    counts = [n for _, n in parts]  # type: ignore[misc]
    joined = _HEADER + b"\n" + b"".join(body for body, _ in parts)  # type: ignore[misc]
    months = [item.month for item, n in zip(files, counts, strict=True) for _ in range(n)]
    try:
        frame = normalise.from_csv(joined, force=files[0].force, month=files[0].month, where="several files",
                                   check=True, record_months=months)
    except StopSearchDataError:
        return None
    if len(frame) != sum(counts):
        return None
    table = to_arrow(frame)  # once for the batch; each file's table is a slice (data.store_table)
    tables, start = [], 0
    for item, n in zip(files, counts, strict=True):
        tables.append(month_slice(table, start, n, force=item.force, month=item.month))
        start += n
    return tables


def import_zip(path: Path, *, batch: _Batch, max_member_bytes: int = MAX_MEMBER_BYTES,
               max_ratio: float = MAX_COMPRESSION_RATIO) -> None:
    """Every `*-stop-and-search.csv` member of a data.police.uk zip, read straight from the archive."""
    path, summary = Path(path), batch.summary
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        summary.problems.append(Problem(str(path), str(BadFile(
            f"{path}: not a readable zip archive ({exc}).",
            hint="Download it again from data.police.uk (a half-finished download is the usual cause)."))))
        return
    found = skipped = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            where = printable(f"{path.name}:{info.filename}", limit=500)  # member names are untrusted
            if _escapes(info.filename):
                summary.problems.append(Problem(where, f"{where}: the member's path leaves the archive "
                                                       "(absolute or '..'); refused."))
                continue
            try:
                key = parse_name(info.filename)
            except StopSearchDataError as exc:
                summary.problems.append(Problem(where, f"{where}: {exc}"))
                continue
            if key is None:
                skipped += 1
                continue
            found += 1
            force, month = key
            try:
                payload = _read_member(archive, info, where=where, max_bytes=max_member_bytes, max_ratio=max_ratio)
            except StopSearchDataError as exc:
                summary.problems.append(Problem(where, str(exc)))
                continue
            batch.add(_File(force=force, month=month, source=where, where=where, payload=payload))
    summary.skipped_members += skipped
    if not found and not any(p.where.startswith(printable(f"{path.name}:", limit=500)) for p in summary.problems):
        summary.problems.append(Problem(str(path), f"{path}: the archive holds no stop-and-search files "
                                        f"({skipped} other members skipped). When downloading "
                                        "from data.police.uk, tick 'Include stop and search data'."))


def import_csv(path: Path, *, batch: _Batch) -> None:
    """One loose `YYYY-MM-<force>-stop-and-search.csv`."""
    path = Path(path)
    try:
        try:
            key = parse_name(path.name)
        except StopSearchDataError as exc:  # a bad month or an unknown force in the name: say which file
            raise type(exc)(f"{path}: {exc.message}", hint=exc.hint, file=str(path)) from exc
        if key is None:
            raise BadFile(f"{path}: the name does not look like YYYY-MM-<force>-stop-and-search.csv.",
                          hint="Keep the names data.police.uk gives its files: force and month come from them.",
                          file=str(path))
        force, month = key
        batch.add(_File(force=force, month=month, source=printable(path.name, limit=500), where=printable(path, limit=500),
                        payload=path.read_bytes()))
    except StopSearchDataError as exc:
        batch.summary.problems.append(Problem(str(path), str(exc)))
    except OSError as exc:
        batch.summary.problems.append(Problem(str(path), f"{path}: cannot be read ({exc.strerror or exc})."))


def _files(path: Path) -> Iterator[tuple[Path, bool]]:
    """(file, given explicitly) for a path; folders are walked recursively in name order."""
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and not child.name.startswith("."):
                yield child, False
    else:
        yield path, True


def is_stop_search_file(path: Path) -> bool:
    """A zip, or a CSV named like a data.police.uk stop-and-search file (force and month in the name)."""
    name = Path(path).name
    return name.lower().endswith(".zip") or STOP_SEARCH_NAME.match(name) is not None


def import_paths(store: Store, paths: Iterable[Path | str], *, other: OtherHandler | None = None,
                 max_member_bytes: int = MAX_MEMBER_BYTES, max_ratio: float = MAX_COMPRESSION_RATIO,
                 allow_empty: bool = False) -> ImportSummary:
    """Import zips, CSVs and folders (recursively) into the store.

    A broken file or member is reported in `summary.problems` and leaves its force-month untouched;
    the others are still imported. Files that are not stop-and-search files go to `other(path)`, which
    returns summary lines or None when it does not recognise them either (the CLI passes the
    use-of-force importer).

    Records are checked at the door (data.validate): a file holding anything data.police.uk does not publish
    is refused whole, recorded as failed in the manifest (stored data kept) and reported. A file with no
    records does not replace stored records unless `allow_empty`."""
    summary = ImportSummary()
    batch = _Batch(store, summary, allow_empty=allow_empty, background=True)
    with store.batch():
        try:
            for given in paths:
                given = Path(given)
                if not given.exists():
                    summary.problems.append(Problem(str(given), f"{given}: no such file or folder."))
                    continue
                for path, explicit in _files(given):
                    if path.name.lower().endswith(".zip"):
                        import_zip(path, batch=batch, max_member_bytes=max_member_bytes, max_ratio=max_ratio)
                    elif STOP_SEARCH_NAME.match(path.name):
                        import_csv(path, batch=batch)
                    else:
                        _other(path, explicit=explicit, other=other, summary=summary)
            batch.flush()
            batch.wait()
        finally:
            batch.shutdown()
    return summary


def _other(path: Path, *, explicit: bool, other: OtherHandler | None, summary: ImportSummary) -> None:
    if OTHER_POLICE_UK_NAME.match(path.name):  # street crime / outcomes files: not ours, nobody else's
        summary.unrecognised.append(printable(f"{path}: street-crime or outcomes file; skipped.", limit=2000))
        return
    lines = None
    if other is not None:
        try:
            lines = other(path)
        except StopSearchDataError as exc:
            summary.problems.append(Problem(str(path), str(exc)))
            return
    if lines is not None:
        summary.other_lines.extend(lines)
        return
    message = (f"{path}: neither a stop-and-search file (named YYYY-MM-<force>-stop-and-search.csv, or a "
               "data.police.uk zip) nor a use-of-force file.")
    if explicit and path.suffix.lower() == ".csv":
        summary.problems.append(Problem(str(path), message + " Keep the name data.police.uk gave it."))
    elif explicit:
        summary.problems.append(Problem(str(path), message))
    else:
        summary.unrecognised.append(printable(message + " Skipped.", limit=2000))
