"""Read chosen members of a remote zip: its central directory and members over HTTP Range requests.

A data.police.uk archive zip is 1-2 GB, of which the stop-and-search files are a few MB. `HttpRanges`
GETs byte ranges with the API client's discipline (a shared RateLimiter, a deadline per attempt, bounded
retries with back-off, Retry-After honoured); `remote_zip` reads a zip through them with
data.zip_directory.ZipReader (the central directory from the tail, then each wanted member's local header
and compressed bytes, inflated and checked for CRC-32 and size). When a server ignores Range (it answers
200 with the whole body) `RangeIgnored` is raised, and `download()` fetches the zip to a file instead:
streamed, bounded by the free disk space, and resumed with Range where the server later honours it.
"""
from __future__ import annotations

import logging
import random
import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests
import urllib3

from data.api import RETRY_STATUSES, USER_AGENT, parse_retry_after
from data.errors import BadFile, RateLimited, SourceUnavailable
from data.http_sessions import SessionPool
from data.ratelimit import RateLimiter, police_api_limiter
from data.zip_directory import TAIL_BYTES, Member, ZipReader

__all__ = ["DISK_RESERVE", "HttpRanges", "Member", "RangeIgnored", "ZipReader", "local_zip", "remote_zip"]

log = logging.getLogger("data.archive_remote")

DISK_RESERVE = 512 << 20             # a fallback download leaves this much of the disk free


class RangeIgnored(Exception):
    """The server answered a Range request with 200 and the whole file; `size` from Content-Length."""

    def __init__(self, url: str, size: int | None) -> None:
        super().__init__(f"{url}: the server ignores HTTP Range requests")
        self.url, self.size = url, size


class _Retry(Exception):
    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.status, self.retry_after = reason, status, retry_after


class HttpRanges:
    """GET byte ranges (and small pages) with retries; counts requests, retries and bytes received."""

    def __init__(self, *, limiter: RateLimiter | None = None, timeout: float = 60.0, max_attempts: int = 6,
                 backoff_base: float = 1.0, backoff_cap: float = 60.0, max_retry_after: float = 300.0,
                 seed: int | None = None) -> None:
        self.limiter = limiter or police_api_limiter()
        self.timeout, self.max_attempts = float(timeout), int(max_attempts)
        self.backoff_base, self.backoff_cap, self.max_retry_after = backoff_base, backoff_cap, max_retry_after
        self._random = random.Random(seed)
        # byte offsets must be the file's own: no transfer compression
        self._pool = SessionPool({"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
        self._lock = threading.Lock()
        self.requests = self.retries = self.bytes = 0

    # -- public ----------------------------------------------------------------------------------------
    def get_range(self, url: str, start: int, end: int) -> bytes:
        """Bytes start..end (inclusive) of `url`; RangeIgnored when the server sends the whole file."""
        body, _ = self._with_retries(url, lambda: self._range_once(url, f"bytes={start}-{end}", start,
                                                                     end - start + 1))
        return body

    def get_tail(self, url: str, n: int) -> tuple[bytes, int]:
        """The last `n` bytes (fewer for a smaller file) and the file's total size."""
        return self._with_retries(url, lambda: self._range_once(url, f"bytes=-{n}", None, None))

    def get_page(self, url: str, *, max_bytes: int = 8 << 20) -> str:
        """A small page (the archive index) as text."""
        def once() -> tuple[bytes, int]:
            with self._session().get(url, timeout=self.timeout, stream=True) as response:
                self._check_status(url, response)
                body = self._read(response, limit=max_bytes)
            return body, len(body)
        body, _ = self._with_retries(url, once)
        return body.decode("utf-8", "replace")

    def download(self, url: str, path: Path, *, size: int | None, progress: Callable[[int, int], None] | None = None,
                 reserve: int = DISK_RESERVE) -> int:
        """Stream the whole of `url` into `path`, resuming a partial file with Range when the server allows.

        Refuses (BadFile) when the file would leave less than `reserve` bytes of disk free. Returns the size."""
        path.parent.mkdir(parents=True, exist_ok=True)

        def once() -> tuple[bytes, int]:
            have = path.stat().st_size if path.exists() else 0
            headers = {"Range": f"bytes={have}-"} if have else {}
            with self._session().get(url, timeout=self.timeout, stream=True, headers=headers) as response:
                if response.status_code == 416 and size is not None and have == size:
                    return b"", size
                self._check_status(url, response)
                total = _total_size(response)
                if response.status_code == 206 and _range_start(response) == have:
                    mode = "ab"
                else:
                    if have:
                        log.warning("%s: the server does not resume (no Range); downloading again from the start", url)
                    mode, have = "wb", 0
                if total is not None:
                    free = shutil.disk_usage(path.parent).free
                    if total - have > free - reserve:
                        raise BadFile(f"{url}: the download needs {total - have:,} bytes but {path.parent} has "
                                      f"{free:,} free (keeping {reserve:,} in reserve).",
                                      hint="Free some disk space, or use a server that honours HTTP Range "
                                           "requests (then only the stop-and-search files are fetched).")
                done = have
                with open(path, mode) as handle:
                    for chunk in self._chunks(response):
                        done += len(chunk)
                        if total is not None and done > total:
                            raise BadFile(f"{url}: more bytes than the {total:,} announced; refused.")
                        handle.write(chunk)
                        if progress is not None:
                            progress(done, total or 0)
                if total is not None and done < total:
                    raise _Retry(f"the download stopped at {done:,} of {total:,} bytes")
                return b"", done
        _, got = self._with_retries(url, once)
        return got

    def close(self) -> None:
        self._pool.close()

    # -- one attempt -----------------------------------------------------------------------------------
    def _range_once(self, url: str, spec: str, start: int | None, length: int | None) -> tuple[bytes, int]:
        started = time.monotonic()
        with self._session().get(url, timeout=self.timeout, stream=True, headers={"Range": spec}) as response:
            self._check_status(url, response)
            if response.status_code != 206:
                raise RangeIgnored(url, _total_size(response))
            first, total = _range_start(response), _total_size(response)
            if first is None or total is None or (start is not None and first != start):
                raise _Retry(f"an unusable Content-Range {response.headers.get('Content-Range')!r}")
            body = self._read(response, limit=(length or TAIL_BYTES) + 1, started=started)
        if length is not None and len(body) != min(length, total - first):
            raise _Retry(f"a truncated reply ({len(body):,} of {length:,} bytes)")
        return body, total

    def _check_status(self, url: str, response: requests.Response) -> None:
        status = response.status_code
        if status in RETRY_STATUSES:
            raise _Retry(f"HTTP {status} {response.reason or ''}".strip(), status=status,
                         retry_after=parse_retry_after(response.headers.get("Retry-After")) if status in (429, 503)
                         else None)
        if status >= 400 and status != 416:
            raise SourceUnavailable(f"{url}: HTTP {status} {response.reason or ''}".strip() + ".",
                                    hint="Check the archive address (--archive-url or $STOPSEARCH_ARCHIVE_URL).",
                                    url=url, status=status)

    def _chunks(self, response: requests.Response):
        raw = response.raw
        while True:
            try:
                chunk = raw.read1(1 << 20)
            except urllib3.exceptions.ReadTimeoutError as exc:
                raise _Retry(f"no data for {self.timeout:g} s") from exc
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise _Retry(f"connection failed: {_short(exc)}") from exc
            if not chunk:
                return
            with self._lock:
                self.bytes += len(chunk)
            yield chunk

    def _read(self, response: requests.Response, *, limit: int, started: float | None = None) -> bytes:
        """The body (at most `limit` bytes), within `timeout` seconds of `started` when given."""
        chunks, size = [], 0
        for chunk in self._chunks(response):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise BadFile(f"{response.url}: the reply is longer than the {limit:,} bytes asked for.")
            if started is not None and time.monotonic() - started > self.timeout:
                raise _Retry(f"no complete reply within {self.timeout:g} s")
        return b"".join(chunks)

    def _with_retries(self, url: str, attempt: Callable[[], tuple[bytes, int]]) -> tuple[bytes, int]:
        last: _Retry | None = None
        for n in range(1, self.max_attempts + 1):
            self.limiter.acquire()
            with self._lock:
                self.requests += 1
            try:
                return attempt()
            except _Retry as problem:
                last = problem
            except requests.Timeout as exc:
                last = _Retry(f"no reply within {self.timeout:g} s")
                last.__cause__ = exc
            except requests.ConnectionError as exc:
                last = _Retry(f"connection failed: {_short(exc)}")
            except requests.RequestException as exc:
                raise SourceUnavailable(f"{url}: {type(exc).__name__}: {_short(exc)}.",
                                        hint="Check the archive address (--archive-url or $STOPSEARCH_ARCHIVE_URL).",
                                        url=url) from exc
            if last.retry_after is not None and last.retry_after > self.max_retry_after:
                raise RateLimited(f"{url}: the server asked to wait {last.retry_after:.0f} s (Retry-After).",
                                  hint="Run the fetch again later.", url=url)
            if n == self.max_attempts:
                break
            step = min(self.backoff_cap, self.backoff_base * 2 ** (n - 1))
            with self._lock:
                delay = last.retry_after if last.retry_after is not None else step / 2 + self._random.uniform(0, step / 2)
                self.retries += 1
            if last.status == 429 or last.retry_after is not None:
                self.limiter.pause(delay)
            log.warning("GET %s: %s; retry %d of at most %d in %.2f s", url, last.reason, n, self.max_attempts - 1,
                        delay)
            time.sleep(delay)
        assert last is not None
        error = RateLimited if last.status == 429 else SourceUnavailable
        raise error(f"{url}: {last.reason} (gave up after {self.max_attempts} attempts).",
                    hint="The archive may be busy or down; run the same fetch again later: it resumes.",
                    url=url, status=last.status)

    def _session(self) -> requests.Session:
        return self._pool.session()


def _range_start(response: requests.Response) -> int | None:
    found = re.match(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)", response.headers.get("Content-Range", ""))
    return int(found.group(1)) if found else None


def _total_size(response: requests.Response) -> int | None:
    found = re.match(r"\s*bytes\s+[\d*-]+/(\d+)", response.headers.get("Content-Range", ""))
    if found:
        return int(found.group(1))
    length = response.headers.get("Content-Length", "")
    return int(length) if response.status_code == 200 and length.isdigit() else None


def _short(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:160]


def remote_zip(ranges: HttpRanges, url: str) -> ZipReader:
    """The zip at `url` read over Range requests (RangeIgnored if the server sends whole files)."""
    tail, size = ranges.get_tail(url, TAIL_BYTES)
    return ZipReader(url, lambda start, end: ranges.get_range(url, start, end), size, tail)


def local_zip(path: Path, name: str) -> ZipReader:
    """A downloaded zip, read the same way (the same checks) from disk."""
    size = path.stat().st_size
    lock = threading.Lock()
    handle = open(path, "rb")  # closed by reader.close()

    def read_at(start: int, end: int) -> bytes:
        with lock:
            handle.seek(start)
            return handle.read(end - start + 1)

    return ZipReader(name, read_at, size, close=handle.close)
