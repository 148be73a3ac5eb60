"""Benchmark: a full 2015-to-now fetch plan against a local archive server with archive-scale zips.

Every force, 2015-01 to LAST_MONTH. The index offers a zip for every month; the plan picks the fewest.
Each chosen zip has the real layout and proportions (36 months x 44 forces; ~1 MB of street and outcomes
files per force-month, so ~1.6 GB a zip, as data.police.uk's are) but is generated as it is served
(tests.archive_server.VirtualZip). Stop-and-search members are synthetic CSVs sized like real months (the
Met ~10,000 records, other forces 200-1,500). Measured: the plan's requests and bytes (index, then each
zip's tail and central directory), then every wanted member read with Range requests and CRC-checked
(not stored: `bench_import` measures the import path), against the zips' full size, which is what a
server ignoring Range would make the client download.
"""
from __future__ import annotations

import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from data.archive_fetch import ArchiveOptions, _stop_search_members, estimate, plan_for  # noqa: E402
from data.archive_plan import ZIP_MONTHS  # noqa: E402
from data.archive_remote import HttpRanges, remote_zip  # noqa: E402
from data.months import add_months, month_range  # noqa: E402
from data.ratelimit import API_RATE, RateLimiter  # noqa: E402
from data.reference_data import resolve_forces  # noqa: E402
from tests.archive_server import FakeArchive, VirtualZip, synthetic_csv  # noqa: E402

FIRST, LAST_MONTH = "2015-01", "2025-06"
STREET, OUTCOMES = 750_000, 250_000  # bytes a force-month, as stored filler


def forces() -> list[str]:
    return [f for f in resolve_forces("all") if f != "northern-ireland"]


def build(zip_month: str, csvs: dict[str, bytes]) -> VirtualZip:
    members: list[tuple[str, bytes | int]] = []
    for month in month_range(add_months(zip_month, -(ZIP_MONTHS - 1)), zip_month):
        for force in sorted(csvs):
            members += [(f"{month}/{month}-{force}-street.csv", STREET),
                        (f"{month}/{month}-{force}-outcomes.csv", OUTCOMES),
                        (f"{month}/{month}-{force}-stop-and-search.csv", csvs[force])]
    return VirtualZip(members)


def main() -> int:
    ids = forces()
    rng = random.Random(2015)
    csvs = {f: synthetic_csv(f, "2015-01", n=10_000 if f == "metropolitan" else rng.randint(200, 1500)) for f in ids}
    months = month_range(FIRST, LAST_MONTH)
    offered = month_range(FIRST, LAST_MONTH)
    print(f"plan: {len(ids)} forces x {len(months)} months ({FIRST}..{LAST_MONTH}) = {len(ids) * len(months):,} "
          f"force-months; the index offers {len(offered)} zips; {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}")
    archive = FakeArchive({})
    archive.start()
    try:
        links = "".join(f'<a href="/files/archive/{m}.zip">{m}</a>\n' for m in offered)
        archive.index_page = f"<html><title>Archive</title><body>{links}</body></html>"
        opts = ArchiveOptions(url=archive.url)
        unlimited = RateLimiter(rate=10_000, burst=10_000)
        started = time.monotonic()
        _, chosen = plan_for(months, options=opts, limiter=unlimited)
        for choice in chosen.choices:
            archive.zips[choice.month] = build(choice.month, csvs)
        built = time.monotonic() - started
        print(f"  zips chosen: {', '.join(c.month for c in chosen.choices)} ({len(chosen.choices)}; "
              f"{len(chosen.uncovered)} months uncovered); built in {built:.1f} s")
        started = time.monotonic()
        figures = estimate(chosen, ids, options=opts)  # the fetch's own limiter: 15/s, so the estimate is real
        planned = time.monotonic() - started
        print(f"  directories: {figures.directory_bytes / 1e6:.2f} MB read in {planned:.2f} s "
              f"({archive.sent('.zip') / 1e6:.2f} MB served); full zips {figures.zip_bytes / 1e9:.2f} GB")
        print(f"  plan: {figures.members:,} stop-and-search members, {figures.member_bytes / 1e6:.1f} MB to fetch "
              f"({100 * figures.member_bytes / figures.zip_bytes:.2f}% of the zips); estimate "
              f"{figures.seconds / 60:.1f} min at {API_RATE:g} requests/s")

        ranges = HttpRanges(limiter=unlimited)
        before, requests0 = archive.sent(".zip"), ranges.requests
        started = time.monotonic()
        checked = 0
        for choice in chosen.choices:
            reader = remote_zip(ranges, choice.url)
            wanted = [m for (f, month), m in _stop_search_members(reader.members).items()
                      if f in set(ids) and month in choice.months]
            with ThreadPoolExecutor(4) as pool:
                checked += sum(len(b) > 0 for b in pool.map(reader.read, wanted))
        seconds = time.monotonic() - started
        fetched = archive.sent(".zip") - before
        requests = ranges.requests - requests0
        ranges.close()
    finally:
        archive.stop()
    print(f"  fetch (members read and CRC-checked, not stored): {checked:,} members, {requests:,} requests, "
          f"{fetched / 1e6:.1f} MB in {seconds:.1f} s unthrottled; at {API_RATE:g} requests/s: "
          f"{requests / API_RATE / 60:.1f} min")
    print(f"  bytes fetched vs the zips' full size: {fetched / 1e6:.1f} MB of {figures.zip_bytes / 1e9:.2f} GB "
          f"= {100 * fetched / figures.zip_bytes:.2f}% (1 in {figures.zip_bytes / max(fetched, 1):.0f}); "
          "without Range the whole zips would be downloaded")
    ok = fetched < 0.05 * figures.zip_bytes and checked == figures.members
    print(f"{'PASS' if ok else 'BELOW TARGET'}: under 5% of the zips fetched, every planned member read")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
