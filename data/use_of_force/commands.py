"""Command-line entry points the data CLI calls: import one use-of-force file, fetch from GOV.UK."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from data.errors import StopSearchDataError
from data.use_of_force.fetch import COLLECTION_PAGE, configured_sources, fetch_year
from data.use_of_force.importer import import_file, summary_lines
from data.use_of_force.names import financial_year
from data.use_of_force.store import UseOfForceStore


def import_path(path: Path | str, *, store_root: Path | str | None = None) -> list[str] | None:
    """Import one file if it is a use-of-force file (recognised by content); summary lines, else None.

    Raises a data.errors error (BadFile naming the column or value) when the file is recognised but wrong.
    """
    store = UseOfForceStore(store_root)
    entries = import_file(path, store=store)
    if entries is None:
        return None
    return [*summary_lines(entries), f"Stored in {store.folder}."]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m data fetch-use-of-force",
        description="Download the Home Office use-of-force files from GOV.UK into the local store.")
    parser.add_argument("--years", nargs="*", default=None, metavar="YYYY/YY",
                        help="financial years (default: every year with a known address)")
    parser.add_argument("--url", action="append", default=[], metavar="YEAR=URL",
                        help="address of a year's file (repeatable); overrides the built-in list")
    parser.add_argument("--store", default=None, help="store folder (default: $STOPSEARCH_DATA_DIR or ./store)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request (default 60)")
    parser.add_argument("--attempts", type=int, default=4, help="tries per file (default 4)")
    parser.add_argument("--backoff", type=float, default=1.0, help="first retry wait in seconds (default 1)")
    return parser


def fetch_main(argv: list[str]) -> int:
    """`python -m data fetch-use-of-force [--years ...] [--url YEAR=URL]`: 0 when every year was stored."""
    args = _parser().parse_args(argv)
    try:
        overrides = {}
        for item in args.url:
            year, sep, url = item.partition("=")
            if not sep or not url:
                raise StopSearchDataError(f"--url {item!r} is not YEAR=URL.",
                                          hint="For example --url 2022/23=https://assets.publishing.service.gov.uk/...")
            overrides[financial_year(year)] = url.strip()
        sources = configured_sources(overrides)
        years = ([financial_year(y) for part in args.years for y in part.split(",") if y.strip()]
                 if args.years else sorted(set(overrides) or set(sources)))
        missing = [y for y in years if y not in sources]
        if missing:
            raise StopSearchDataError(f"No address known for {', '.join(missing)}.",
                                      hint=f"Copy the file's link from {COLLECTION_PAGE} and pass --url YEAR=URL.")
        store = UseOfForceStore(args.store)
        failed = 0
        for year in years:
            result = fetch_year(year, sources[year], store=store, timeout=args.timeout,
                                max_attempts=args.attempts, backoff=args.backoff)
            failed += result.status != "ok"
            for line in result.lines:
                print(line)
        print(f"{len(years) - failed} of {len(years)} year(s) stored in {store.folder}.")
        return 1 if failed else 0
    except StopSearchDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
