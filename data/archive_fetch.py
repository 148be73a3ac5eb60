"""Fetch force-months from data.police.uk's archive zips into the store (the path `data.fetch` takes for
months the API does not serve).

For the requested force-months: read the archive index, plan the fewest zips (data.archive_plan), read
each zip's central directory with Range requests and then only the wanted stop-and-search members
(data.archive_remote), and store each member through the bulk import's own CSV path (data.archive's
batch of normalise.from_csv), so a member and the same file imported by hand give identical records.
Statuses are the fetch's: ok/empty when stored, failed (with the reason) when a member or zip could not
be read, and the force-months no zip holds are handed back for the caller to record as not published.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from data import archive
from data.archive_plan import ArchiveIndex, ArchivePlan, archive_url, months_held, parse_index, plan
from data.archive_remote import (
    DISK_RESERVE,
    HttpRanges,
    Member,
    RangeIgnored,
    ZipReader,
    local_zip,
    remote_zip,
)
from data.atomic import atomic_write_text
from data.errors import StopSearchDataError
from data.ratelimit import RateLimiter

if TYPE_CHECKING:
    from data.store import Store

log = logging.getLogger("data.archive_fetch")

Add = Callable[..., None]  # _Tally.add(status, force, month, *, records=0, reason=None)
Pair = tuple[str, str, str]  # (force, month, source note for a not-published record)
SOURCES_FILE = "archive_sources.json"
PREFER = ("api", "archive")


@dataclass(frozen=True)
class ArchiveOptions:
    """How `data.fetch.fetch` uses the archive: its index URL (None: $STOPSEARCH_ARCHIVE_URL or
    data.police.uk) and which copy wins for a month both serve ('api', the default, or 'archive')."""

    url: str | None = None
    prefer: str = "api"
    timeout: float = 60.0
    max_attempts: int = 6
    backoff_base: float = 1.0
    tmp_dir: Path | None = None  # where a fallback download goes; default <store>/tmp
    disk_reserve: int = DISK_RESERVE  # a fallback download must leave this much disk free

    def __post_init__(self) -> None:
        if self.prefer not in PREFER:
            raise StopSearchDataError(f"--prefer must be 'api' or 'archive', not {self.prefer!r}.")


@dataclass
class ArchiveRun:
    """What reading the archive cost: for the closing summary and the benchmark."""

    zips: list[str] = field(default_factory=list)
    zip_bytes: int = 0           # the full size of the zips read
    requests: int = 0
    retries: int = 0
    bytes: int = 0               # bytes received
    downloads: list[str] = field(default_factory=list)  # zips fetched whole (the server ignored Range)

    def note(self) -> str:
        how = (f"; {len(self.downloads)} downloaded whole because the server ignores Range requests"
               if self.downloads else "")
        return (f"archive: {len(self.zips)} zips read ({self.requests} requests, {self.retries} retries), "
                f"{self.bytes / 1e6:,.1f} MB received of {self.zip_bytes / 1e6:,.1f} MB in the zips{how}.")


def open_index(ranges: HttpRanges, url: str | None = None) -> ArchiveIndex:
    index_url = archive_url(url)
    return parse_index(ranges.get_page(index_url), index_url)


def make_ranges(options: ArchiveOptions, limiter: RateLimiter | None = None) -> HttpRanges:
    return HttpRanges(limiter=limiter, timeout=options.timeout, max_attempts=options.max_attempts,
                      backoff_base=options.backoff_base)


def look_in_archive(store: Store, pairs: list[Pair], add: Add, *, options: ArchiveOptions,
                    limiter: RateLimiter | None = None, workers: int = 4) -> tuple[list[Pair], list[str]]:
    """Store what the archive holds of `pairs`; return the pairs it does not hold (their note says why)
    and the lines for the summary. `add` is called once per stored or failed force-month."""
    ranges = make_ranges(options, limiter)
    run = ArchiveRun()
    index_url = archive_url(options.url)
    try:
        index = open_index(ranges, options.url)
    except StopSearchDataError as exc:
        for force, month, _ in pairs:
            _fail(store, add, force, month, index_url, f"the archive index could not be read: {exc}")
        ranges.close()
        return [], [f"archive: {index_url} could not be read, so {len(pairs)} older force-months failed: {exc}"]
    chosen = plan(index, [m for _, m, _ in pairs])
    left = [(f, m, f"{index_url} (links no zip holding {m}; its zips hold {months_held(index.months[0])[0]}.."
             f"{index.months[-1]})") for f, m, _ in pairs if m in set(chosen.uncovered)]
    before = {(e.force, e.month): e for e in store.entries()}
    seen: dict[str, dict] = {}
    try:
        for choice in chosen.choices:
            mine = [p for p in pairs if p[1] in set(choice.months)]
            left += _read_zip(store, choice.url, mine, add, ranges=ranges, options=options, run=run,
                              workers=workers, seen=seen, before=before)
    finally:
        run.requests, run.retries, run.bytes = ranges.requests, ranges.retries, ranges.bytes
        ranges.close()
        if seen:
            _remember(store, seen)
    return left, [run.note()] if run.zips or run.requests > 1 else []


def _fail(store: Store, add: Add, force: str, month: str, source: str, reason: str) -> None:
    store.record_failure(force, month, source=source, reason=reason)
    add("failed", force, month, reason=reason)


def _tmp_path(store: Store, options: ArchiveOptions, url: str) -> Path:
    folder = options.tmp_dir or store.root / "tmp"
    key = hashlib.sha256(url.encode()).hexdigest()[:12]
    name = PurePosixPath(url.split("?")[0]).name or "archive.zip"
    return folder / f"archive-{key}-{name}.part"


def _open(store: Store, url: str, ranges: HttpRanges, options: ArchiveOptions,
          run: ArchiveRun) -> tuple[ZipReader, Path | None]:
    try:
        return remote_zip(ranges, url), None
    except RangeIgnored as ignored:
        path = _tmp_path(store, options, url)
        size = f"{ignored.size / 1e6:,.1f} MB" if ignored.size else "size unknown"
        log.warning("%s: the server ignores HTTP Range requests, so the whole zip (%s) is downloaded to %s "
                    "instead of only its stop-and-search files; it is deleted afterwards.", url, size, path)
        for stale in path.parent.glob("archive-*.part") if path.parent.is_dir() else []:
            if stale != path:  # bounded disk: one partial download at a time
                stale.unlink(missing_ok=True)
        ranges.download(url, path, size=ignored.size, reserve=options.disk_reserve)
        run.downloads.append(url)
        return local_zip(path, url), path


def _read_zip(store: Store, url: str, pairs: list[Pair], add: Add, *, ranges: HttpRanges, options: ArchiveOptions,
              run: ArchiveRun, workers: int, seen: dict[str, dict], before: dict) -> list[Pair]:
    try:
        reader, downloaded = _open(store, url, ranges, options, run)
    except StopSearchDataError as exc:
        for force, month, _ in pairs:
            _fail(store, add, force, month, url, f"the archive zip could not be read: {exc}")
        return []
    run.zips.append(url)
    run.zip_bytes += reader.size
    try:
        members = _stop_search_members(reader.members)
        wanted = [(f, m, members[(f, m)]) for f, m, _ in pairs if (f, m) in members]
        left = [(f, m, f"{url} (holds no {m}-{f}-stop-and-search.csv)") for f, m, _ in pairs
                if (f, m) not in members]
        with store.batch():
            _read_members(store, reader, wanted, add, workers=workers, seen=seen, before=before)
        return left
    finally:
        reader.close()
        if downloaded is not None:
            downloaded.unlink(missing_ok=True)


def _stop_search_members(members: list[Member]) -> dict[tuple[str, str], Member]:
    """{(force, month): member} for every `YYYY-MM-<force>-stop-and-search.csv` (the force as named)."""
    out = {}
    for member in members:
        found = archive.STOP_SEARCH_NAME.match(PurePosixPath(member.name.replace("\\", "/")).name)
        if found and not member.name.endswith("/"):
            out[(found.group("force").lower(), found.group("month"))] = member
    return out


def _read_members(store: Store, reader: ZipReader, wanted: list[tuple[str, str, Member]], add: Add, *,
                  workers: int, seen: dict[str, dict], before: dict) -> None:
    """Read on `workers` threads; normalise and store in this thread through the bulk import's batch."""
    summary = archive.ImportSummary()
    batch = archive._Batch(store, summary)
    where: dict[str, tuple[str, str]] = {}
    reported = [0, 0]  # imported, problems already passed to `add`

    def report() -> None:
        for result in summary.imported[reported[0]:]:
            add(result.status, result.force, result.month, records=result.records)
            old = before.get((result.force, result.month))
            api = old.records if old is not None and old.status in ("ok", "empty") and ".zip:" not in old.source \
                else None
            seen[f"{result.force}|{result.month}"] = {"archive": result.records, "source": result.source, "api": api}
        for problem in summary.problems[reported[1]:]:
            force, month = where[problem.where]
            _fail(store, add, force, month, problem.where, problem.message)
        reported[:] = [len(summary.imported), len(summary.problems)]

    stop = threading.Event()

    def get(member: Member) -> bytes | StopSearchDataError | None:
        if stop.is_set():
            return None
        try:
            return reader.read(member)
        except RangeIgnored as exc:
            return StopSearchDataError(f"{exc} (it honoured them for the directory); try again later.")
        except StopSearchDataError as exc:
            return exc

    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="archive")
    queue = iter(wanted)
    running: dict[Future, tuple[str, str, Member]] = {}
    try:
        while True:
            while len(running) < 2 * max(1, workers) and (item := next(queue, None)) is not None:
                running[pool.submit(get, item[2])] = item
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                force, month, member = running.pop(future)
                source = f"{reader.name}:{member.name}"
                result = future.result()
                if isinstance(result, StopSearchDataError):
                    _fail(store, add, force, month, source, str(result))
                elif result is not None:
                    where[source] = (force, month)
                    batch.add(archive._File(force=force, month=month, source=source, where=source, payload=result))
            report()
        batch.flush()
        report()
    except BaseException:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


# -- the record counts of both sources, for `data status` --------------------------------------------------
_SOURCES_LOCK = threading.Lock()


def _remember(store: Store, seen: dict[str, dict]) -> None:
    path = store.root / SOURCES_FILE
    with _SOURCES_LOCK:
        known = _load(path)
        for key, value in seen.items():
            old = known.get(key, {})
            known[key] = {**value, "api": value["api"] if value["api"] is not None else old.get("api")}
        atomic_write_text(path, json.dumps(known, sort_keys=True, indent=0) + "\n")


def _load(path: Path) -> dict[str, dict]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def comparison_lines(store: Store, *, limit: int = 10) -> list[str]:
    """Force-months whose records were seen from both the API and an archive zip: do the counts agree?"""
    known = _load(store.root / SOURCES_FILE)
    if not known:
        return []
    entries = {f"{e.force}|{e.month}": e for e in store.entries()}
    both = []
    for key, value in sorted(known.items()):
        entry = entries.get(key)
        api = value.get("api")
        if entry is not None and entry.status in ("ok", "empty") and ".zip:" not in entry.source:
            api = entry.records  # the API's copy is the one stored now
        if api is not None and value.get("archive") is not None:
            both.append((key.replace("|", " "), int(api), int(value["archive"])))
    if not both:
        return []
    differ = [b for b in both if b[1] != b[2]]
    lines = [f"API vs archive record counts: {len(both)} force-months seen in both, {len(both) - len(differ)} agree"
             + (f", {len(differ)} differ:" if differ else ".")]
    lines += [f"  {key}: API {api:,}, archive {arch:,}" for key, api, arch in differ[:limit]]
    if len(differ) > limit:
        lines.append(f"  ... and {len(differ) - limit} more.")
    return lines


def plan_for(months: list[str], *, options: ArchiveOptions, limiter: RateLimiter | None = None
             ) -> tuple[ArchiveIndex, ArchivePlan]:
    """The index and the plan for `months` (one request): what the app shows before a long fetch."""
    ranges = make_ranges(options, limiter)
    try:
        index = open_index(ranges, options.url)
    finally:
        ranges.close()
    return index, plan(index, months)


@dataclass(frozen=True)
class Estimate:
    zips: int
    members: int
    member_bytes: int    # compressed stop-and-search bytes to fetch
    zip_bytes: int       # the full size of those zips
    directory_bytes: int  # what reading the directories took
    seconds: float       # the estimate: requests at the rate limit plus bytes at the measured speed


def estimate(chosen: ArchivePlan, forces: list[str], *, options: ArchiveOptions,
             limiter: RateLimiter | None = None) -> Estimate:
    """Read each chosen zip's directory (2-3 Range requests each) and add up what the fetch would take."""
    ranges = make_ranges(options, limiter)
    members = member_bytes = zip_bytes = 0
    wanted_forces = set(forces)
    started = time.monotonic()
    try:
        for choice in chosen.choices:
            try:
                reader = remote_zip(ranges, choice.url)
            except RangeIgnored as ignored:  # the whole zip will be downloaded
                zip_bytes += ignored.size or 0
                member_bytes += ignored.size or 0
                continue
            zip_bytes += reader.size
            for (force, month), member in _stop_search_members(reader.members).items():
                if force in wanted_forces and month in choice.months:
                    members += 1
                    member_bytes += member.compress_size + 30 + len(member.name) + member.extra_length
    finally:
        ranges.close()
    took = max(time.monotonic() - started, 1e-3)
    speed = max(ranges.bytes / took, 1e6)  # bytes/s seen on the directory reads (at least 1 MB/s)
    rate = ranges.limiter.rate
    return Estimate(zips=len(chosen.choices), members=members, member_bytes=member_bytes, zip_bytes=zip_bytes,
                    directory_bytes=ranges.bytes, seconds=members / rate + member_bytes / speed)
