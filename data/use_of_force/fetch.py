"""Download the Home Office use-of-force files from GOV.UK into the store, with retries and a manifest."""
from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import requests

from data import redirects
from data.errors import BadFile, SourceUnavailable, StopSearchDataError
from data.use_of_force.importer import import_file
from data.use_of_force.names import financial_year
from data.use_of_force.store import UseOfForceStore

log = logging.getLogger(__name__)
COLLECTION_PAGE = "https://www.gov.uk/government/collections/police-use-of-force-statistics"
_ASSETS = "https://assets.publishing.service.gov.uk/government/uploads/system/uploads/attachment_data/file"
# Year -> URL of a file published on GOV.UK: the two data-table ODS files, from their attachment numbers
# (764895, 944989; ../shared/data/use_of_force/README.md), not checked online from here. Open data
# table addresses change with each release: give them with --url YEAR=URL or
# $STOPSEARCH_USE_OF_FORCE_URLS (a JSON object, or the path of a JSON file).
DEFAULT_SOURCES: dict[str, str] = {
    "2017/18": f"{_ASSETS}/764895/police-use-of-force-apr2017-mar2018-hosb3018-tables.ods",
    "2019/20": f"{_ASSETS}/944989/police-use-of-force-apr2019-mar2020-hosb3720-tables.ods",
}
URLS_ENV = "STOPSEARCH_USE_OF_FORCE_URLS"
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class FetchResult:
    year: str
    url: str
    status: str                    # 'ok' | 'failed'
    reason: str = ""
    attempts: int = 0
    lines: list[str] = field(default_factory=list)


def configured_sources(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """DEFAULT_SOURCES, then $STOPSEARCH_USE_OF_FORCE_URLS, then explicit overrides (years normalised)."""
    sources = dict(DEFAULT_SOURCES)
    env = os.environ.get(URLS_ENV, "").strip()
    if env:
        text = Path(env).read_text("utf-8") if not env.startswith("{") and Path(env).is_file() else env
        try:
            sources.update(json.loads(text))
        except ValueError as exc:
            raise StopSearchDataError(f"${URLS_ENV} is neither JSON nor a JSON file: {exc}.",
                                      hint='Set it to {"2022/23": "https://..."}.') from exc
    sources.update(overrides or {})
    return {financial_year(y): u for y, u in sources.items()}


def download(url: str, *, session: requests.Session | None = None, timeout: float = 60.0,
             max_attempts: int = 4, backoff: float = 1.0) -> tuple[bytes, int]:
    """GET the whole body (checked against Content-Length); retry 5xx, 429 and broken transfers."""
    session = session or requests.Session()
    last = ""
    for attempt in range(1, max_attempts + 1):
        wait = backoff * 2 ** (attempt - 1)
        try:
            with redirects.get(session, url, timeout=timeout) as response:  # own host only
                if response.status_code in RETRY_STATUSES:
                    last = f"HTTP {response.status_code}"
                    retry_after = response.headers.get("Retry-After", "")
                    if retry_after.isdigit():
                        wait = min(float(retry_after), 60.0)
                elif response.status_code >= 400:
                    raise SourceUnavailable(f"{url} answered HTTP {response.status_code}.",
                                            hint=f"Check the address on {COLLECTION_PAGE} and pass it with --url.",
                                            url=url, status=response.status_code)
                else:
                    payload = b"".join(response.iter_content(chunk_size=1 << 16))
                    expected = response.headers.get("Content-Length")
                    if expected is not None and expected.isdigit() and int(expected) != len(payload):
                        last = f"incomplete download ({len(payload):,} of {int(expected):,} bytes)"
                    else:
                        return payload, attempt
        except requests.RequestException as exc:
            last = f"{type(exc).__name__}: {exc}"
        if attempt < max_attempts:
            log.warning("use-of-force download %s failed (%s); retry %d of %d in %.1fs", url, last, attempt,
                        max_attempts - 1, wait)
            time.sleep(wait)
    raise SourceUnavailable(f"Could not download {url} after {max_attempts} attempts: {last}.",
                            hint="Check your connection and try again later.", url=url)


def fetch_year(year: str, url: str, *, store: UseOfForceStore, session: requests.Session | None = None,
               timeout: float = 60.0, max_attempts: int = 4, backoff: float = 1.0) -> FetchResult:
    """Download one file, check it parses, then store it; on any failure the store keeps what it had."""
    year = financial_year(year)
    result = FetchResult(year=year, url=url, status="failed")
    dataset = "home_office_tables" if url.lower().endswith(".ods") else "home_office_open_data"
    try:
        payload, result.attempts = download(url, session=session, timeout=timeout, max_attempts=max_attempts,
                                            backoff=backoff)
        name = Path(urlparse(url).path).name or f"use-of-force-{year.replace('/', '-')}"
        store.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=store.folder, prefix=".download-") as tmp:
            local = Path(tmp) / name
            local.write_bytes(payload)
            entries = import_file(local, store=store, source=url)
        if entries is None:
            raise BadFile(f"{url} is not a use-of-force file this project reads.",
                          hint=f"Check the link on {COLLECTION_PAGE}.", url=url)
        store.save_raw(name, payload)
        years = [e.year for e in entries]
        if year not in years:
            log.warning("%s holds %s, not %s", url, ", ".join(years), year)
        result.status = "ok"
        result.lines = [f"{e.dataset} {e.year}: ok, {e.rows:,} rows from {url}" for e in entries]
    except StopSearchDataError as exc:
        result.reason = str(exc)
        store.record_failure(dataset, year, source=url, reason=result.reason)
        result.lines = [f"{year}: failed: {result.reason}"]
    return result
