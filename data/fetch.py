"""Fetch force-months from the police.uk API into the store: availability first, several workers, resumable."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from data import normalise, schema
from data.api import PoliceApiClient
from data.errors import BadResponse, StopSearchDataError
from data.months import normalise_month
from data.reference_data import resolve_forces

if TYPE_CHECKING:
    from data.archive_fetch import ArchiveOptions
    from data.store import Store

log = logging.getLogger("data.fetch")

Progress = Callable[[int, int, str, str], None]  # (done, total, force, month)
DONE_STATUSES = ("ok", "empty")  # what a re-run skips unless refresh=True
STORE_THREADS = 2  # writes wait on fsync, so two overlap well
# Replies are normalised together (see _fetch_all); wait up to this long for more to join a batch.
BATCH_SECONDS = 0.25


@dataclass(frozen=True)
class FetchSummary:
    """What one fetch did. Counts are force-months, except requests/retries (HTTP attempts) and records."""

    requests: int
    retries: int
    records: int
    ok: int
    empty: int
    not_published: int
    failed: list[tuple[str, str, str]]  # (force, month, reason)
    seconds: float
    skipped: int = 0          # already stored as ok/empty and not refreshed (or kept: see Store)
    total: int = 0            # force-months asked for
    notes: list[str] = field(default_factory=list)  # advice for the reader (older months, retries)

    def lines(self) -> list[str]:
        """The closing summary, one line per item; failures one per line with their reason."""
        out = [f"{self.total} force-months in {self.seconds:.1f} s ({self.requests} requests, "
               f"{self.retries} retries): {self.ok} ok ({self.records:,} records), {self.empty} empty, "
               f"{self.not_published} not published, {len(self.failed)} failed, {self.skipped} already stored."]
        out += [f"failed: {force} {month}: {reason}" for force, month, reason in self.failed]
        out += self.notes
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def fetch(store: Store, forces: str | Iterable[str], months: Iterable[str], *, client: PoliceApiClient | None = None,
          workers: int = 4, refresh: bool = False, progress: Progress | None = None,
          archive: ArchiveOptions | None = None) -> FetchSummary:
    """Fetch every force-month of `forces` x `months` not yet stored as ok/empty (all of them if `refresh`).

    Unknown force ids and malformed months raise before any request. The availability list
    (/api/crimes-street-dates) decides what is fetched: a force it does not list for a month is
    recorded as not published (never requested); a listed month answering [] is stored as empty; one that
    keeps failing (after the client's retries) or answers with something that is not a list of searches is
    recorded as failed with the reason, leaving what was stored before. `progress(done, total, force,
    month)` is called from the calling thread after each force-month. Interrupted runs resume: run again.
    With `archive` (data.archive_fetch.ArchiveOptions), a month the availability list does not name (older
    than the API serves) is looked for in data.police.uk's archive zips before it is recorded as not
    published; with archive.prefer == 'archive' every force-month is looked for there first (what the archive
    does not hold then goes to the API; what it fails to deliver is recorded as failed).
    """
    started = time.monotonic()
    force_ids = resolve_forces(forces if isinstance(forces, str) else list(forces))
    month_list = sorted({normalise_month(m) for m in months})
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers!r}")
    # One writer per store for the whole run (what is stored is read, fetched and written under one hold):
    # an import or another fetch started meanwhile waits, then fails with one line naming this process.
    with store.writing():
        return _fetch_locked(store, force_ids, month_list, client=client, workers=workers, refresh=refresh,
                             progress=progress, archive=archive, started=started)


def _fetch_locked(store: Store, force_ids: list[str], month_list: list[str], *, client: PoliceApiClient | None,
                  workers: int, refresh: bool, progress: Progress | None, archive: ArchiveOptions | None,
                  started: float) -> FetchSummary:
    pairs = [(f, m) for m in month_list for f in force_ids]
    stored = {(e.force, e.month): e.status for e in store.entries()}
    todo = [p for p in pairs if refresh or stored.get(p) not in DONE_STATUSES]

    own_client = client is None
    client = client or PoliceApiClient()
    requests0, retries0 = client.requests, client.retries
    tally = _Tally(total=len(pairs), progress=progress)
    waiting = set(todo)
    for force, month in pairs:
        if (force, month) not in waiting:
            tally.add("skipped", force, month)
    try:
        if todo:
            if archive is not None and archive.prefer == "archive":
                from data.archive_fetch import look_in_archive
                left, lines = look_in_archive(store, [(f, m, "") for f, m in todo], tally.add, options=archive,
                                              limiter=client.limiter, workers=workers)
                todo, archive = [(f, m) for f, m, _ in left], None
                tally.extra += lines
            published = _record_unpublished(store, client, todo, tally, archive=archive, workers=workers)
            _fetch_all(store, client, published, tally, workers=workers, refresh=refresh)
    finally:
        if own_client:
            client.close()
    return FetchSummary(requests=client.requests - requests0, retries=client.retries - retries0,
                        records=tally.records, ok=tally.counts["ok"], empty=tally.counts["empty"],
                        not_published=tally.counts["not_published"], failed=sorted(tally.failed),
                        seconds=time.monotonic() - started, skipped=tally.counts["skipped"], total=len(pairs),
                        notes=tally.notes())


class _Tally:
    """Counts and the progress callback (only ever touched by the calling thread)."""

    def __init__(self, *, total: int, progress: Progress | None) -> None:
        self.total = total
        self.progress = progress
        self.done = 0
        self.records = 0
        self.counts = dict.fromkeys(("ok", "empty", "not_published", "skipped"), 0)
        self.failed: list[tuple[str, str, str]] = []
        self.older: list[str] = []
        self.window: tuple[str, str] | None = None
        self.said: list[str] = []  # notes about single force-months (an empty reply kept out, ...)
        self.extra: list[str] = []  # lines from the archive path

    def add(self, status: str, force: str, month: str, *, records: int = 0, reason: str | None = None) -> None:
        if status == "failed":
            self.failed.append((force, month, reason or "unknown reason"))
        else:
            self.counts[status] += 1
        self.records += records
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total, force, month)

    def notes(self) -> list[str]:
        out = list(self.said)
        if self.older and self.window:
            out.append(f"{len(self.older)} force-months are older than the API's oldest month ({self.window[0]}): "
                       "the API serves about the last 36 months; use the bulk import "
                       "(`python -m data import`) for those.")
        out += self.extra
        if self.failed:
            out.append("Run the same fetch again later to retry the failed months; stored months are skipped.")
        return out


def _record_unpublished(store: Store, client: PoliceApiClient, todo: list[tuple[str, str]], tally: _Tally, *,
                        archive: ArchiveOptions | None = None, workers: int = 4) -> list[tuple[str, str]]:
    """Ask the availability list; record what it does not list as not published; return what it lists.

    With `archive`, force-months of months the list does not name (except months after its newest) are
    looked for in the archive zips first; only those it does not hold are recorded as not published."""
    availability = client.availability()
    url = client.url("crimes-street-dates")
    listed = sorted(availability)
    if listed:
        tally.window = (listed[0], listed[-1])
    published, unlisted = [], []
    for force, month in todo:
        if force in availability.get(month, ()):
            published.append((force, month))
            continue
        if not listed:
            source = f"{url} (the list is empty)"
        elif month < listed[0]:
            source = (f"{url} (lists {listed[0]}..{listed[-1]}; {month} is older: use the bulk import for "
                      "older months)")
            if archive is None:
                tally.older.append(month)
        elif month > listed[-1]:
            source = f"{url} (lists months up to {listed[-1]}; {month} is not published yet)"
        else:
            source = f"{url} (does not list {force} for {month})"
        unlisted.append((force, month, source))
    if archive is not None:
        from data.archive_fetch import look_in_archive
        ask = [p for p in unlisted if p[1] not in availability and not (listed and p[1] > listed[-1])]
        left, lines = look_in_archive(store, ask, tally.add, options=archive, limiter=client.limiter,
                                       workers=workers) if ask else ([], [])
        unlisted = [p for p in unlisted if p not in ask] + left
        tally.extra += lines
    for force, month, source in unlisted:
        entry = store.record_not_published(force, month, source=source)
        # the store keeps records already there (say, from a bulk import): those stay ok/empty
        tally.add("not_published" if entry.status == "not_published" else "skipped", force, month)
    return published


def _fetch_all(store: Store, client: PoliceApiClient, pairs: list[tuple[str, str]], tally: _Tally, *,
               workers: int, refresh: bool = False) -> None:
    """Fetch on `workers` threads, normalise in the calling thread, write on STORE_THREADS threads.

    Normalising costs about 65 ms of CPU a call however small the reply (pandas overhead): one call per
    reply would take a whole core at the API's 15 requests/s. So the calling thread gathers the replies
    that arrive within BATCH_SECONDS (or 2 x workers of them) and normalises them in one call
    (`normalise_replies`), while the fetch threads wait on the network and the store threads on the disk.
    Progress is reported from the calling thread.
    """
    stop = threading.Event()

    def get(force: str, month: str) -> list | StopSearchDataError | None:
        if stop.is_set():
            return None
        try:
            return client.stops_force(force, month)
        except StopSearchDataError as exc:
            return exc

    def put(force: str, month: str, url: str, result: object) -> tuple[str, int, str | None, str | None]:
        if isinstance(result, StopSearchDataError):
            log.warning("%s %s failed: %s", force, month, result)
            store.record_failure(force, month, source=url, reason=str(result))
            return "failed", 0, str(result), None
        old = store.entry(force, month) if not len(result) else None
        if old is not None and old.status == "ok" and old.records > 0:
            if not refresh:  # an empty reply never replaces stored records unasked
                note = (f"{force} {month}: the API answered with no records; the {old.records:,} records stored "
                        "before are kept (fetch with --refresh to store the month as empty).")
                log.warning(note)
                return "skipped", 0, None, note
            note = (f"{force} {month}: the API now answers with no records; the {old.records:,} records stored "
                    "before were replaced by an empty month (--refresh).")
            log.warning(note)
        else:
            note = None
        entry = store.write_month(force, month, result, source=url)
        return entry.status, entry.records, None, note

    fetchers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")
    writers = ThreadPoolExecutor(max_workers=STORE_THREADS, thread_name_prefix="store")
    queue = iter(pairs)
    fetching: dict[Future, tuple[str, str]] = {}
    writing: dict[Future, tuple[str, str]] = {}

    def refill() -> None:
        # Keep every fetch thread busy with one request waiting behind it, but no more: memory stays
        # bounded, and if the disk falls behind, fetching waits for it.
        while len(fetching) < 2 * workers and len(writing) < 4 * STORE_THREADS:
            pair = next(queue, None)
            if pair is None:
                return
            fetching[fetchers.submit(get, *pair)] = pair

    try:
        refill()
        arrived: list[tuple[str, str, str, object]] = []
        first_arrival = 0.0
        while fetching or writing or arrived:
            timeout = max(0.0, first_arrival + BATCH_SECONDS - time.monotonic()) if arrived else None
            wait([*fetching, *writing], timeout=timeout, return_when=FIRST_COMPLETED)
            for future in [f for f in fetching if f.done()]:
                force, month = fetching.pop(future)
                if not arrived:
                    first_arrival = time.monotonic()
                arrived.append((force, month, client.url("stops-force", {"force": force, "date": month}),
                                future.result()))
            if arrived and (len(arrived) >= 2 * workers or not fetching
                            or time.monotonic() - first_arrival >= BATCH_SECONDS):
                for (force, month, url, _), result in zip(arrived, normalise_replies(arrived), strict=True):
                    writing[writers.submit(put, force, month, url, result)] = (force, month)
                arrived = []
            for future in [f for f in writing if f.done()]:
                force, month = writing.pop(future)
                status, records, reason, note = future.result()
                tally.add(status, force, month, records=records, reason=reason)
                if note:
                    tally.said.append(note)
            refill()
    except BaseException:
        # Ctrl-C or a local error (disk full, store problem): start no more requests; replies already
        # handed to the store threads are written (each write is atomic), requests in flight are dropped.
        stop.set()
        fetchers.shutdown(wait=False, cancel_futures=True)
        writers.shutdown(wait=True)
        raise
    fetchers.shutdown(wait=True)
    writers.shutdown(wait=True)


def normalise_replies(replies: list[tuple[str, str, str, object]]) -> list[pd.DataFrame | StopSearchDataError]:
    """(force, month, url, reply or error) -> canonical raw frame or error, for each; errors pass through.

    Several replies are normalised in one call and split again: the same values and the same category
    order (sorted labels, unused ones dropped) as one call per reply, so the stored bytes are identical.
    If the joint call fails, each reply is normalised alone so the error names the reply at fault.
    """
    good = [(i, r) for i, r in enumerate(replies) if isinstance(r[3], list)]
    out: list = [r[3] if isinstance(r[3], StopSearchDataError) else None for r in replies]
    if len(good) > 1:
        try:
            joint = normalise.from_api_records(
                [x for _, r in good for x in r[3]], force=good[0][1][0], month=good[0][1][1],
                where="several stops-force replies", check=True,
                record_months=np.repeat([r[1] for _, r in good], [len(r[3]) for _, r in good]))
        except Exception:  # noqa: BLE001 - retried one by one below, which names the reply at fault
            joint = None
        if joint is not None:
            start = 0
            for i, (force, month, _, reply) in good:
                out[i] = _piece(joint, start, len(reply), force=force, month=month)
                start += len(reply)
            return out
    for i, (force, month, url, reply) in good:
        out[i] = _normalise_one(reply, force=force, month=month, url=url)
    return out


def _piece(joint: pd.DataFrame, start: int, n: int, *, force: str, month: str) -> pd.DataFrame:
    piece = joint.iloc[start:start + n].copy()
    piece["force"] = force
    piece["month"] = month
    for name, dtype in schema.RAW_COLUMNS.items():
        if dtype == "category" and name not in ("force", "month"):
            piece[name] = piece[name].cat.remove_unused_categories()
    return schema.coerce_raw(piece)


def _normalise_one(reply: list, *, force: str, month: str, url: str) -> pd.DataFrame | StopSearchDataError:
    try:
        return normalise.from_api_records(reply, force=force, month=month, where=url, check=True)
    except StopSearchDataError as exc:
        return exc
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a record of an unexpected shape
        return BadResponse(f"{url}: the reply could not be read as stop records ({type(exc).__name__}: {exc}).",
                           hint="The API may have changed; try again later.", force=force, month=month, url=url)
