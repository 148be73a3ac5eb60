"""The `python -m data` command line: forces, fetch, import, status, export, verify, fetch-use-of-force."""
from __future__ import annotations

import argparse
import io
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from data import reference_data
from data.errors import StopSearchDataError, StoreError
from data.months import month_range
from data.safe_text import escape_controls

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2) like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {message}. Run `{self.prog} --help` for the options.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m data", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens (to stderr)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    sub.add_parser("forces", help="list force ids and names (incl. btp)")

    fetch = sub.add_parser("fetch", help="fetch force-months from the data.police.uk API into the store")
    fetch.add_argument("--forces", default="all", help="'all' (default) or ids separated by commas")
    fetch.add_argument("--from", dest="start", required=True, metavar="YYYY-MM")
    fetch.add_argument("--to", dest="end", required=True, metavar="YYYY-MM")
    fetch.add_argument("--refresh", action="store_true", help="fetch again months already stored")
    fetch.add_argument("--workers", type=int, default=4, help="parallel requests (default 4; the rate limit is shared)")
    fetch.add_argument("--api-url", default=None, help="API root (default $STOPSEARCH_API_URL or data.police.uk)")
    fetch.add_argument("--archive-url", default=None, help="archive index whose YYYY-MM.zip files hold the months "
                       "the API no longer serves (default $STOPSEARCH_ARCHIVE_URL or data.police.uk/data/archive/)")
    fetch.add_argument("--prefer", choices=("api", "archive"), default="api",
                       help="which copy to take of a month both serve (default api)")
    fetch.add_argument("--no-archive", action="store_true", help="use the API only (older months: not published)")

    imp = sub.add_parser("import", help="import data.police.uk zips, CSVs or folders; use-of-force files too")
    imp.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    imp.add_argument("--allow-empty", action="store_true",
                     help="let a file with no records (a header only) replace a month already stored with records")

    status = sub.add_parser("status", help="what the store holds: one row per force-month, then unknown labels")
    status.add_argument("--format", choices=("table", "csv"), default="table")

    export = sub.add_parser("export", help="write stored canonical records to a CSV or Parquet file")
    export.add_argument("--forces", default="all")
    export.add_argument("--from", dest="start", required=True, metavar="YYYY-MM")
    export.add_argument("--to", dest="end", required=True, metavar="YYYY-MM")
    export.add_argument("--format", choices=("csv", "parquet"), default=None,
                        help="default: from the output's suffix, else csv")
    export.add_argument("--output", required=True, type=Path, metavar="FILE")

    verify = sub.add_parser("verify", help="check every stored file against the manifest; --repair fixes what it can")
    verify.add_argument("--repair", action="store_true",
                        help="remove stale temporaries, rebuild a lost manifest, mark damaged months failed")

    uof = sub.add_parser("fetch-use-of-force", help="fetch use-of-force statistics (see its own --help)",
                         add_help=False)
    uof.add_argument("args", nargs=argparse.REMAINDER)
    return parser


# ---- subcommands -------------------------------------------------------------------------------------
def cmd_forces(args: argparse.Namespace) -> int:
    table = reference_data.forces()
    width = max(len(f) for f in table["force"])
    for force, name, country in zip(table["force"], table["name"], table["country"], strict=True):
        note = "  (no stop-and-search data: not England and Wales)" if country == "Northern Ireland" else ""
        print(f"{force:<{width}}  {name}{note}")
    return EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from data.api import PoliceApiClient
    from data.archive_fetch import ArchiveOptions
    from data.fetch import fetch
    from data.store import Store

    forces = reference_data.resolve_forces(args.forces)   # bad input fails here, before any request
    months = month_range(args.start, args.end)
    if args.workers < 1:
        raise StopSearchDataError(f"--workers must be at least 1, not {args.workers}.")
    store = Store()
    archive = None if args.no_archive else ArchiveOptions(url=args.archive_url, prefer=args.prefer)
    bar = tqdm(total=len(forces) * len(months), file=sys.stderr, unit="force-month", disable=None,
               dynamic_ncols=True)

    def progress(done: int, total: int, force: str, month: str) -> None:
        bar.total = total
        bar.update(done - bar.n)
        bar.set_postfix_str(f"{force} {month}", refresh=False)

    with PoliceApiClient(args.api_url) as client, logging_redirect_tqdm(), store.writing():
        try:
            summary = fetch(store, forces, months, client=client, workers=args.workers, refresh=args.refresh,
                            progress=progress, archive=archive)
        finally:
            bar.close()
    for line in summary.lines():
        print(line)
    if summary.failed:
        print(f"{len(summary.failed)} force-months failed (listed above); what was stored before is kept. "
              "Run the same command again to retry them.", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _use_of_force_handler(store_root: Path) -> tuple[Callable[[Path], list[str] | None], list[str]]:
    """data.use_of_force.commands.import_path, imported only when a non-stop-search file turns up."""
    notes: list[str] = []

    def handle(path: Path) -> list[str] | None:
        try:
            from data.use_of_force.commands import import_path
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith("data.use_of_force"):
                raise
            notes.append(f"{path}: use-of-force import is not available in this version "
                         "(data.use_of_force.commands is missing); skipped.")
            return []
        return import_path(path, store_root=store_root)

    return handle, notes


def cmd_import(args: argparse.Namespace) -> int:
    from data.archive import import_paths
    from data.store import Store

    store = Store()
    handler, notes = _use_of_force_handler(store.root)
    started = time.monotonic()
    summary = import_paths(store, args.paths, other=handler, allow_empty=args.allow_empty)
    if summary.imported:
        print(pd.DataFrame([vars(r) for r in summary.latest()]).to_string(index=False))
    for line in summary.other_lines:
        print(line)
    for line in [*notes, *summary.unrecognised]:
        print(line, file=sys.stderr)
    only_other = summary.other_lines and not (summary.imported or summary.problems or summary.skipped_members)
    if not only_other:  # use-of-force files alone: their lines say what was stored, not "0 force-months"
        print(summary.closing_line(seconds=time.monotonic() - started))
    for problem in summary.problems:
        print(f"error: {problem.message}", file=sys.stderr)
    if summary.problems:  # each problem's file left the store unchanged
        return EXIT_FAILED
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from data.store import Store

    store = Store()
    manifest = store.manifest()
    if manifest.empty:
        print(f"The store at {store.root} is empty. Fill it with `python -m data fetch --from YYYY-MM --to YYYY-MM` "
              "or `python -m data import FILES`.")
        return EXIT_OK
    rows = manifest.loc[:, ["force", "month", "status", "records", "source"]].copy()
    for column in ("force", "month", "status", "source"):  # labels come from files and replies: untrusted
        rows[column] = rows[column].map(escape_controls)
    unknown = store.unknown_labels()
    unknown["label"] = unknown["label"].map(escape_controls)
    if args.format == "csv":
        buffer = io.StringIO()
        rows.to_csv(buffer, index=False, lineterminator="\n")
        for item in unknown.itertuples(index=False):
            buffer.write(f"# unknown label: column={item.column}; label={item.label}; records={item.records}\n")
        sys.stdout.write(buffer.getvalue())
        return EXIT_OK
    print(rows.to_string(index=False))
    counts = manifest["status"].value_counts()
    print(f"\n{len(manifest)} force-months: " + ", ".join(f"{counts.get(s, 0)} {s.replace('_', ' ')}"
                                                          for s in ("ok", "empty", "not_published", "failed"))
          + f"; {int(manifest['records'].sum()):,} records in {store.root}")
    for entry in manifest.loc[manifest["reason"].notna() & manifest["status"].ne("not_published")].itertuples():
        print(escape_controls(f"note: {entry.force} {entry.month} ({entry.status}): {entry.reason}"))
    from data.archive_fetch import comparison_lines
    for line in comparison_lines(store):
        print(line)
    if unknown.empty:
        print("Every label in the stored records is mapped.")
    else:
        print("\nLabels no mapping table knows (kept raw; <NA> in the derived columns):")
        print(unknown.to_string(index=False))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from data.atomic import atomic_write_bytes, atomic_write_parquet
    from data.store import Store

    forces = reference_data.resolve_forces(args.forces)
    months = month_range(args.start, args.end)
    fmt = args.format or ("parquet" if args.output.suffix.lower() == ".parquet" else "csv")
    _check_output(args.output)
    store = Store()
    entries = [e for e in store.entries() if e.force in set(forces) and e.month in set(months)]
    held = [e for e in entries if e.status in ("ok", "empty")]
    if not held:
        raise StoreError(f"The store holds nothing for {args.forces} {args.start}..{args.end}.",
                         hint="Fetch or import those months first (python -m data status shows what is stored).")
    missing = len(forces) * len(months) - len(held)
    records = store.read(forces, months)
    if fmt == "parquet":
        import pyarrow as pa

        atomic_write_parquet(args.output, pa.Table.from_pandas(records, preserve_index=False))
    else:
        atomic_write_bytes(args.output, records.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    print(f"{len(records):,} records from {len(held)} force-months written to {args.output} ({fmt}).")
    if missing:
        print(f"note: {missing} force-months of the selection are not stored as ok or empty "
              "(not in the store, not published or failed); see `python -m data status`.", file=sys.stderr)
    return EXIT_OK


def _check_output(output: Path) -> None:
    """--output must name a file in an existing folder (checked before anything is written)."""
    hint = "Give a file name, e.g. --output records.csv."
    if output.is_dir() or str(output).endswith(("/", "\\")):
        raise StopSearchDataError(f"--output {output} is a folder, not a file.", hint=hint)
    for parent in output.parents:  # missing folders are created; one that is a file cannot be
        if parent.exists():
            if not parent.is_dir():
                raise StopSearchDataError(f"--output {output}: {parent} is not a folder.",
                                          hint="Choose another path.")
            break


def cmd_verify(args: argparse.Namespace) -> int:
    from data.store import Store
    from data.verify import verify

    report = verify(Store(), repair=args.repair)
    for line in report.lines():
        print(line, file=sys.stderr if line.startswith("problem:") else sys.stdout)
    if report.busy:
        return EXIT_FAILED
    if args.repair:  # repaired: the store must now verify clean
        report = verify(Store())
        for finding in report.problems:
            print(f"still wrong: {finding.line()}", file=sys.stderr)
        if report.ok:
            print("The store now verifies clean.")
    return EXIT_OK if report.ok else EXIT_FAILED


def _os_error_line(exc: OSError) -> str:
    """One line for a file-system error: what, which file, what to do next."""
    name = exc.filename if exc.filename is not None else ""
    what = exc.strerror or type(exc).__name__
    if isinstance(exc, PermissionError):
        advice = "Check its permissions, or set STOPSEARCH_DATA_DIR to a folder you can write."
    elif isinstance(exc, NotADirectoryError):
        advice = "A path that should be a folder is a file: check STOPSEARCH_DATA_DIR and the paths given."
    elif isinstance(exc, IsADirectoryError):
        advice = "A folder was given where a file is needed."
    else:
        advice = "Check the path and the disk (free space, permissions)."
    return escape_controls(f"{what}: {name}. {advice}" if name else f"{what}. {advice}")


def cmd_fetch_use_of_force(argv: Sequence[str]) -> int:
    try:
        from data.use_of_force.commands import fetch_main
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("data.use_of_force"):
            raise
        raise StopSearchDataError("fetch-use-of-force is not available in this version "
                                  "(data.use_of_force.commands is missing).") from exc
    return int(fetch_main(list(argv)) or 0)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "forces": cmd_forces, "fetch": cmd_fetch, "import": cmd_import, "status": cmd_status, "export": cmd_export,
    "verify": cmd_verify,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = any(a in ("-v", "--verbose") for a in argv[:1])
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        rest = argv[1:] if verbose else argv
        if rest[:1] == ["fetch-use-of-force"]:  # its options belong to the use-of-force command line
            return cmd_fetch_use_of_force(rest[1:])
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except StopSearchDataError as exc:
        print(f"error: {escape_controls(exc, keep_newlines=True)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # not BrokenPipeError (below): the file system said no
        if isinstance(exc, BrokenPipeError):
            return EXIT_OK
        print(f"error: {_os_error_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted; what was stored so far is kept. Run the same command again to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
