"""Fetch force-months from the police.uk API into the store: availability first, several workers, resumable."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from data import normalise
from data.api import PoliceApiClient
from data.errors import BadResponse, StopSearchDataError
from data.months import normalise_month
from data.reference_data import resolve_forces

log = logging.getLogger("data.fetch")

Progress = Callable[[int, int, str, str], None]  # (done, total, force, month)
DONE_STATUSES = ("ok", "empty")  # what a re-run skips unless refresh=True


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


def fetch(store, forces: str | Iterable[str], months: Iterable[str], *, client: PoliceApiClient | None = None,
          workers: int = 4, refresh: bool = False, progress: Progress | None = None) -> FetchSummary:
    """Fetch every force-month of `forces` x `months` not yet stored as ok/empty (all of them if `refresh`).

    Unknown force ids and malformed months raise before any request. The availability list
    (/api/crimes-street-dates) decides what is fetched: a force it does not list for a month is
    recorded as not published (never requested); a listed month answering [] is stored as empty; one that
    keeps failing (after the client's retries) or answers with something that is not a list of searches is
    recorded as failed with the reason, leaving what was stored before. `progress(done, total, force,
    month)` is called from the calling thread after each force-month. Interrupted runs resume: run again.
    """
    started = time.monotonic()
    force_ids = resolve_forces(forces if isinstance(forces, str) else list(forces))
    month_list = sorted({normalise_month(m) for m in months})
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers!r}")
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
            published = _record_unpublished(store, client, todo, tally)
            _fetch_all(store, client, published, tally, workers=workers)
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
        out = []
        if self.older and self.window:
            out.append(f"{len(self.older)} force-months are older than the API's oldest month ({self.window[0]}): "
                       "the API serves about the last 36 months; use the bulk import "
                       "(`python -m data import`) for those.")
        if self.failed:
            out.append("Run the same fetch again later to retry the failed months; stored months are skipped.")
        return out


def _record_unpublished(store, client: PoliceApiClient, todo: list[tuple[str, str]],
                        tally: _Tally) -> list[tuple[str, str]]:
    """Ask the availability list; record what it does not list as not published; return what it lists."""
    availability = client.availability()
    url = client.url("crimes-street-dates")
    listed = sorted(availability)
    if listed:
        tally.window = (listed[0], listed[-1])
    published = []
    for force, month in todo:
        if force in availability.get(month, ()):
            published.append((force, month))
            continue
        if not listed:
            source = f"{url} (the list is empty)"
        elif month < listed[0]:
            source = (f"{url} (lists {listed[0]}..{listed[-1]}; {month} is older: use the bulk import for "
                      "older months)")
            tally.older.append(month)
        elif month > listed[-1]:
            source = f"{url} (lists months up to {listed[-1]}; {month} is not published yet)"
        else:
            source = f"{url} (does not list {force} for {month})"
        entry = store.record_not_published(force, month, source=source)
        # the store keeps records already there (say, from a bulk import): those stay ok/empty
        tally.add("not_published" if entry.status == "not_published" else "skipped", force, month)
    return published


def _fetch_all(store, client: PoliceApiClient, pairs: list[tuple[str, str]], tally: _Tally, *,
               workers: int) -> None:
    """Run the published force-months on `workers` threads; the calling thread collects and reports."""
    stop = threading.Event()

    def one(force: str, month: str) -> tuple[str, int, str | None]:
        if stop.is_set():
            return "cancelled", 0, None
        url = client.url("stops-force", {"force": force, "date": month})
        try:
            reply = client.stops_force(force, month)
            try:
                frame = normalise.from_api_records(reply, force=force, month=month, where=url)
            except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a record of an unexpected shape
                raise BadResponse(f"{url}: the reply could not be read as stop records "
                                  f"({type(exc).__name__}: {exc}).", force=force, month=month, url=url) from exc
        except StopSearchDataError as exc:
            log.warning("%s %s failed: %s", force, month, exc)
            store.record_failure(force, month, source=url, reason=str(exc))
            return "failed", 0, str(exc)
        entry = store.write_month(force, month, frame, source=url)
        return entry.status, entry.records, None

    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")
    try:
        pending: dict[Future, tuple[str, str]] = {executor.submit(one, f, m): (f, m) for f, m in pairs}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                force, month = pending.pop(future)
                status, records, reason = future.result()
                tally.add(status, force, month, records=records, reason=reason)
    except BaseException:
        # Ctrl-C or a local error (disk full, store problem): let requests in flight finish, start no more.
        stop.set()
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
