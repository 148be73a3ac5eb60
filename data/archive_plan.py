"""Which data.police.uk archive zips to read: the index page's links, and the fewest zips covering some months.

The archive index (https://data.police.uk/data/archive/) links monthly zips named `YYYY-MM.zip`; each
holds the 36 months up to and including the month it is named for (DATA.md, "Bulk downloads"). The
links may be relative or absolute and may point to another host (the real page links a file store), so
the index is read for its links rather than the addresses guessed.
"""
from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from data.errors import BadResponse
from data.months import add_months, normalise_month

DEFAULT_ARCHIVE_URL = "https://data.police.uk/data/archive/"
ARCHIVE_URL_ENV = "STOPSEARCH_ARCHIVE_URL"
ZIP_MONTHS = 36  # each zip holds the 36 months ending with the month in its name

_HREF = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.IGNORECASE)
_ZIP_NAME = re.compile(r"^(\d{4})-(\d{2})\.zip$", re.IGNORECASE)


def archive_url(url: str | None = None) -> str:
    """The archive index: `url` if given, else $STOPSEARCH_ARCHIVE_URL, else data.police.uk's; ends with '/'."""
    url = url or os.environ.get(ARCHIVE_URL_ENV) or DEFAULT_ARCHIVE_URL
    return url if url.endswith("/") else url + "/"


def months_held(zip_month: str) -> tuple[str, str]:
    """(first, last) month a zip named for `zip_month` holds."""
    return add_months(zip_month, -(ZIP_MONTHS - 1)), normalise_month(zip_month)


@dataclass(frozen=True)
class ArchiveIndex:
    """The zips an index page links: {'YYYY-MM': absolute URL}."""

    url: str
    zips: dict[str, str]

    @property
    def months(self) -> list[str]:
        return sorted(self.zips)


def parse_index(page: str, base_url: str) -> ArchiveIndex:
    """Every link on the page whose last path segment is `YYYY-MM.zip` (any case, any host, query ignored).

    A month linked twice keeps its first link. A page with no such links raises BadResponse (it is not
    an archive index: an error page, a login page, a moved site)."""
    zips: dict[str, str] = {}
    for match in _HREF.finditer(page):
        href = html.unescape(next(g for g in match.groups() if g is not None)).strip()
        if not href or href.startswith(("#", "mailto:", "javascript:")):
            continue
        absolute = urljoin(base_url, href)
        name = urlsplit(absolute).path.rsplit("/", 1)[-1]
        found = _ZIP_NAME.match(name)
        if not found or not 1 <= int(found.group(2)) <= 12:
            continue
        zips.setdefault(f"{found.group(1)}-{found.group(2)}", absolute)
    if not zips:
        title = re.search(r"<title[^>]*>(.*?)</title>", page[:4096], re.I | re.S)
        what = f' (the page is "{html.unescape(title.group(1)).strip()[:80]}")' if title else ""
        raise BadResponse(f"{base_url}: the archive index links no YYYY-MM.zip files{what}.",
                          hint="Check the archive address (--archive-url or $STOPSEARCH_ARCHIVE_URL); "
                               "the default is https://data.police.uk/data/archive/.", url=base_url)
    return ArchiveIndex(url=base_url, zips=zips)


@dataclass(frozen=True)
class ZipChoice:
    """One zip to read and the requested months it supplies."""

    month: str
    url: str
    months: tuple[str, ...]


@dataclass(frozen=True)
class ArchivePlan:
    choices: list[ZipChoice]
    uncovered: list[str] = field(default_factory=list)  # requested months no listed zip holds

    def zip_for(self, month: str) -> ZipChoice | None:
        return next((c for c in self.choices if month in c.months), None)


def plan(index: ArchiveIndex, months: list[str]) -> ArchivePlan:
    """The fewest zips whose 36-month spans cover `months` (greedy interval cover, which is optimal here).

    Take the earliest month not yet covered; of the zips holding it, take the one that reaches furthest
    forward (the latest-named); repeat. Each requested month is read from exactly one zip."""
    wanted = sorted({normalise_month(m) for m in months})
    available = index.months
    choices: list[ZipChoice] = []
    uncovered: list[str] = []
    pending = list(wanted)
    while pending:
        first = pending[0]
        holding = [z for z in available if months_held(z)[0] <= first <= z]
        if not holding:
            uncovered.append(pending.pop(0))
            continue
        best = holding[-1]
        taken = tuple(m for m in pending if months_held(best)[0] <= m <= best)
        choices.append(ZipChoice(month=best, url=index.zips[best], months=taken))
        pending = [m for m in pending if m not in taken]
    return ArchivePlan(choices=choices, uncovered=uncovered)
