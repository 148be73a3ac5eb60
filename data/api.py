"""The data.police.uk API client: rate-limited, time-limited GETs with bounded, logged retries."""
from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Mapping
from datetime import UTC
from urllib.parse import urlencode, urljoin

import requests
import urllib3

from data import redirects
from data.errors import BadResponse, RateLimited, SourceUnavailable
from data.http_sessions import SessionPool
from data.months import normalise_month
from data.ratelimit import RateLimiter, police_api_limiter

DEFAULT_API_URL = "https://data.police.uk/api/"
API_URL_ENV = "STOPSEARCH_API_URL"
# Answers worth another try: rate limited, server trouble, gateway trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "stopsearch-dashboard/0.1 (+https://github.com/; python-requests)"

log = logging.getLogger("data.api")


def api_url(base_url: str | None = None) -> str:
    """The API root: `base_url` if given, else $STOPSEARCH_API_URL, else data.police.uk; ends with '/'."""
    url = base_url or os.environ.get(API_URL_ENV) or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds to wait: delta-seconds ('2', '1.5') or an HTTP date; None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT; a naive one is read as such
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class _Retry(Exception):
    """One failed attempt worth repeating: why, the HTTP status (if any) and the server's Retry-After."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


def _short(exc: BaseException) -> str:
    """A one-line description of a network error (requests nests urllib3 errors several deep)."""
    text = str(exc) or type(exc).__name__
    for pattern in (r"IncompleteRead\([^)]*\)", r"Connection reset by peer", r"Connection refused",
                    r"Connection broken: [^'\")]+", r"Read timed out", r"Remote end closed connection[^'\")]*"):
        found = re.search(pattern, text)
        if found:
            return found.group(0)
    return text.splitlines()[0][:160]


class PoliceApiClient:
    """GET JSON from data.police.uk (or `base_url`), sharing one RateLimiter across threads
    (by default `police_api_limiter()`: 15/s, bursts of 25, a little under the API's 15/s, bursts of 30).

    Every attempt takes a limiter token and must finish (last byte read) within `timeout` seconds.
    Timeouts, connection errors, truncated or unreadable JSON and HTTP 429/500/502/503/504 are retried up to
    `max_attempts` attempts in all, waiting `backoff_base * 2**(n-1)` seconds (capped at `backoff_cap`, with
    jitter) or what Retry-After says; then SourceUnavailable (RateLimited for 429) is raised. An HTML page or
    JSON of the wrong shape raises BadResponse at once, as does a redirect to another host (data.redirects:
    only the API's own host is trusted). Safe to use from several threads.
    """

    def __init__(self, base_url: str | None = None, *, session: requests.Session | None = None,
                 timeout: float = 30.0, max_attempts: int = 6, limiter: RateLimiter | None = None,
                 backoff_base: float = 1.0, backoff_cap: float = 60.0, max_retry_after: float = 300.0,
                 seed: int | None = None) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        self.base_url = api_url(base_url)
        self.timeout = float(timeout)
        self.max_attempts = int(max_attempts)
        self.limiter = limiter or police_api_limiter()
        self.backoff_base = float(backoff_base)
        self.backoff_cap = float(backoff_cap)
        self.max_retry_after = float(max_retry_after)
        self._shared_session = session
        self._pool = SessionPool({"User-Agent": USER_AGENT, "Accept": "application/json"})
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.requests = 0  # attempts sent, retries included
        self.retries = 0

    # -- endpoints -------------------------------------------------------------------------------------
    def forces(self) -> list[dict]:
        """/api/forces: [{'id', 'name'}, ...]. BTP is not in it, although it publishes stop and search."""
        reply = self.get_json("forces")
        if not isinstance(reply, list) or not all(isinstance(f, Mapping) and "id" in f for f in reply):
            raise BadResponse(f"{self.url('forces')}: the reply is not a list of forces.",
                              hint="The API may have changed; try again later.", url=self.url("forces"))
        return [dict(f) for f in reply]

    def availability(self) -> dict[str, set[str]]:
        """/api/crimes-street-dates as {'YYYY-MM': {force ids that published stop and search that month}}."""
        url = self.url("crimes-street-dates")
        reply = self.get_json("crimes-street-dates")
        if not isinstance(reply, list):
            raise BadResponse(f"{url}: the availability reply is a JSON {type(reply).__name__}, not a list.",
                              hint="The API may have changed; try again later.", url=url)
        out: dict[str, set[str]] = {}
        for item in reply:
            forces = item.get("stop-and-search") if isinstance(item, Mapping) else None
            if not isinstance(forces, list) or "date" not in item:
                raise BadResponse(f"{url}: an availability entry lacks 'date' or 'stop-and-search': {item!r:.100}.",
                                  hint="The API may have changed; try again later.", url=url)
            try:
                month = normalise_month(item["date"])
            except Exception as exc:
                raise BadResponse(f"{url}: availability date {item['date']!r} is not a month.", url=url) from exc
            out.setdefault(month, set()).update(str(f) for f in forces)
        return out

    def stops_force(self, force: str, month: str) -> list:
        """/api/stops-force?force=&date=: every search the force reported that month, with and without location.

        Never called without a date: the API would then answer with its latest month, whatever the force has.
        """
        force = str(force).strip()
        if not force:
            raise ValueError("stops_force needs a force id")
        month = normalise_month(month)
        params = {"force": force, "date": month}
        reply = self.get_json("stops-force", params, force=force, month=month)
        if not isinstance(reply, list):
            raise BadResponse(f"{self.url('stops-force', params)}: the reply is a JSON {type(reply).__name__}, "
                              f"not a list of searches{_peek(reply)}.",
                              hint="The API may have changed or answered with an error; try again later.",
                              url=self.url("stops-force", params), force=force, month=month)
        return reply

    def url(self, endpoint: str, params: Mapping[str, str] | None = None) -> str:
        """The full URL of an endpoint (what the store records as the source)."""
        url = urljoin(self.base_url, endpoint)
        return f"{url}?{urlencode(dict(params))}" if params else url

    # -- transport -------------------------------------------------------------------------------------
    def get_json(self, endpoint: str, params: Mapping[str, str] | None = None, *,
                 force: str | None = None, month: str | None = None) -> object:
        """GET an endpoint and decode its JSON, retrying what is worth retrying (see the class docstring)."""
        url = self.url(endpoint, params)
        last: _Retry | None = None
        for attempt in range(1, self.max_attempts + 1):
            self.limiter.acquire()
            with self._lock:
                self.requests += 1
            try:
                return self._attempt(url, force=force, month=month)
            except _Retry as problem:
                last = problem
            if last.retry_after is not None and last.retry_after > self.max_retry_after:
                raise RateLimited(
                    f"{url}: the server asked to wait {last.retry_after:.0f} s (Retry-After), more than the "
                    f"{self.max_retry_after:.0f} s this client waits.",
                    hint="The API is limiting requests; run the fetch again later.",
                    url=url, force=force, month=month, attempts=attempt)
            if attempt == self.max_attempts:
                break
            if last.retry_after is not None:
                delay, why = last.retry_after, "as Retry-After asks"
            else:
                delay, why = self._backoff(attempt), "backing off"
            if last.status == 429 or last.retry_after is not None:
                # The server is counting everybody's requests: every worker waits, not just this one.
                self.limiter.pause(delay)
            with self._lock:
                self.retries += 1
            log.warning("GET %s: %s; retry %d of at most %d in %.2f s (%s)", url, last.reason, attempt,
                        self.max_attempts - 1, delay, why)
            time.sleep(delay)
        assert last is not None
        error = RateLimited if last.status == 429 else SourceUnavailable
        raise error(f"{url}: {last.reason} (gave up after {self.max_attempts} attempts).",
                    hint="The API may be busy or down; run the same fetch again later: it resumes where it stopped.",
                    url=url, force=force, month=month, attempts=self.max_attempts, status=last.status)

    def _backoff(self, attempt: int) -> float:
        """Exponential back-off with 'equal jitter': half the step fixed, half random."""
        step = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        with self._lock:
            return step / 2 + self._random.uniform(0, step / 2)

    def _attempt(self, url: str, *, force: str | None, month: str | None) -> object:
        started = time.monotonic()
        try:
            with redirects.get(self._session(), url, timeout=self.timeout) as response:  # own host only
                status = response.status_code
                if status in RETRY_STATUSES:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    raise _Retry(f"HTTP {status} {response.reason or ''}".strip(), status=status,
                                 retry_after=retry_after if status in (429, 503) else None)
                body = self._read(response, started=started)
        except requests.Timeout as exc:
            raise _Retry(f"no complete reply within {self.timeout:g} s ({_short(exc)})") from exc
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            raise _Retry(f"connection failed: {_short(exc)}") from exc
        except requests.RequestException as exc:  # a malformed URL, too many redirects...: retrying will not help
            raise SourceUnavailable(f"{url}: {type(exc).__name__}: {_short(exc)}.",
                                    hint="Check the API address (--api-url or $STOPSEARCH_API_URL).",
                                    url=url, force=force, month=month) from exc
        content_type = response.headers.get("Content-Type", "")
        if status >= 400:
            raise SourceUnavailable(f"{url}: HTTP {status} {response.reason or ''}{_title(body)}".strip() + ".",
                                    hint="Check the force id and month (`python -m data forces`); "
                                         "the API serves only about the last 36 months.",
                                    url=url, force=force, month=month, status=status)
        if "html" in content_type.lower() or body.lstrip()[:1] == b"<":
            raise BadResponse(f"{url}: the API answered HTTP {status} with an HTML page{_title(body)}, not JSON.",
                              hint="The site may be under maintenance; try again later.",
                              url=url, force=force, month=month, status=status)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise _Retry(f"truncated or invalid JSON ({len(body)} bytes: {exc})") from exc

    def _read(self, response: requests.Response, *, started: float) -> bytes:
        """The whole body, or Timeout if it has not arrived `timeout` seconds after sending the request.

        requests' own timeout applies to each socket read, and its iter_content waits for whole chunks, so
        a reply trickling in a few bytes at a time would never time out; read1 returns what each read gets.
        """
        raw = response.raw
        chunks = []
        while True:
            try:
                chunk = raw.read1(1 << 16, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError as exc:
                raise requests.Timeout(f"Read timed out ({exc})") from exc
            except (urllib3.exceptions.HTTPError, OSError) as exc:  # IncompleteRead, reset, bad gzip...
                raise requests.ConnectionError(exc) from exc
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            if time.monotonic() - started > self.timeout:
                raise requests.Timeout(f"Read timed out: the body took over {self.timeout:g} s")

    def _session(self) -> requests.Session:
        if self._shared_session is not None:
            return self._shared_session
        return self._pool.session()

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PoliceApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PoliceApiClient({self.base_url!r}, timeout={self.timeout:g}, max_attempts={self.max_attempts})"


def _title(body: bytes) -> str:
    """': "<title text>"' of an HTML page, or '' (used to say what the page was)."""
    found = re.search(rb"<title[^>]*>(.*?)</title>", body[:4096], re.I | re.S)
    return f": \"{found.group(1).decode('utf-8', 'replace').strip()[:80]}\"" if found else ""


def _peek(reply: object) -> str:
    text = json.dumps(reply)[:80] if isinstance(reply, (dict, str, int, float, bool)) else ""
    return f" ({text})" if text else ""
