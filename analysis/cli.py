"""`python -m analysis table KIND ...` (one table from the store, fixed columns) and `python -m analysis report`."""
from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

import pandas as pd

from analysis.coverage import restrict_to_published
from analysis.selection import FILTERABLE, Selection, select
from analysis.tables import KINDS, TableUnavailable, build_table, with_fixed_columns
from data import reference_data, vocab
from data.errors import StopSearchDataError

YEAR = re.compile(r"^\d{4}/\d{2}$")


class UsageError(Exception):
    """Bad command-line input, reported as one line (argparse would print usage and a traceback-free error)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `python -m {self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="analysis", description="Stop-and-search tables from the local store.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    table = sub.add_parser("table", help="print one table (CSV or JSON) with fixed columns",
                           description="Print one table. Kinds: " + "; ".join(
                               f"{k.name}: {k.description}" for k in KINDS.values()))
    table.add_argument("kind", choices=list(KINDS), metavar="KIND", help=", ".join(KINDS))
    table.add_argument("--forces", required=True, help="'all' or force ids separated by commas")
    table.add_argument("--from", dest="start", metavar="YYYY-MM", help="first month")
    table.add_argument("--to", dest="end", metavar="YYYY-MM", help="last month")
    table.add_argument("--year", metavar="YYYY/YY", help="financial year (use-of-force only), e.g. 2022/23")
    table.add_argument("--ethnicity", choices=("self", "officer"), default="self",
                       help="self-defined (default, as the Home Office) or officer-defined")
    table.add_argument("--level", choices=("broad", "detailed"), default="broad",
                       help="5 broad groups (default) or 19 Census groups (self-defined only)")
    table.add_argument("--reference", default="White", help="reference group for ratios (default White)")
    table.add_argument("--include-btp", action="store_true", help="add BTP searches to pooled figures")
    table.add_argument("--filter", action="append", default=[], metavar="COLUMN=VALUE[,VALUE]",
                       help=f"keep records whose COLUMN is one of the values; COLUMN in {', '.join(FILTERABLE)}")
    table.add_argument("--pairs", choices=("reference", "all"), default="reference",
                       help="outcome-tests: each group against the reference (default) or all pairs of groups")
    table.add_argument("--census", choices=reference_data.CENSUS_CHOICES, default="auto",
                       help="Census residents that divide: auto (default, as the Home Office: 2011 for periods "
                            "ending up to 2019/20, 2021 from 2020/21), 2011 or 2021")
    table.add_argument("--format", choices=("csv", "json"), default="csv")
    sub.add_parser("report", help="write a report (HTML/PDF); see `python -m analysis report --help`",
                   add_help=False)
    return parser


def _filters(items: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        column, sep, values = item.partition("=")
        column = column.strip()
        if not sep or not values.strip():
            raise UsageError(f"--filter {item!r} is not COLUMN=VALUE[,VALUE]")
        if column not in FILTERABLE:
            raise UsageError(f"cannot filter on {column!r}; choose from {', '.join(FILTERABLE)}")
        out.setdefault(column, []).extend(v.strip() for v in values.split(",") if v.strip())
    return out


def _check_reference(selection: Selection) -> None:
    groups = vocab.DETAILED_WITH_NOT_STATED if selection.level == "detailed" else vocab.BROAD_WITH_NOT_STATED
    allowed = [g for g in groups if g != vocab.NOT_STATED]
    if selection.level == "detailed":
        allowed += list(vocab.BROAD_GROUPS)   # a broad reference sums its detailed groups
    if selection.reference not in allowed:
        raise UsageError(f"unknown reference group {selection.reference!r}; choose from {', '.join(allowed)}")


def _no_records(selection: Selection, spec: str, manifest: pd.DataFrame, root: object) -> str:
    forces = spec if spec.strip().lower() == "all" else ",".join(selection.forces)
    held = manifest.loc[manifest["force"].isin(selection.forces) & manifest["month"].isin(selection.months)]
    counts = held["status"].value_counts()
    status = (" (the store has " + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items())
              + " force-months for it)") if len(held) else ""
    return (f"no records in the store for {forces}, {selection.start} to {selection.end}{status}; run "
            f"`python -m data fetch --forces {forces} --from {selection.start} --to {selection.end}` or "
            f"`python -m data import PATH` (store: {root})")


def _print(table: pd.DataFrame, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(table.to_json(orient="records", double_precision=15) + "\n")
    else:
        table.to_csv(sys.stdout, index=False, lineterminator="\n")


def run_table(args: argparse.Namespace) -> int:
    if args.kind == "use-of-force":
        if not args.year or not YEAR.match(args.year.strip()):
            raise UsageError("the use-of-force table needs --year YYYY/YY, e.g. --year 2022/23")
        from analysis.use_of_force import use_of_force_table

        ids = reference_data.resolve_forces(args.forces)   # unknown ids fail here, with suggestions
        spec = args.forces if args.forces.strip().lower() == "all" else ids
        table = use_of_force_table(spec, args.year.strip(), reference=args.reference)
        _print(with_fixed_columns("use-of-force", table), args.format)
        return 0
    if not args.start or not args.end:
        raise UsageError(f"the {args.kind} table needs --from YYYY-MM and --to YYYY-MM")
    if args.level == "detailed" and args.ethnicity == "officer":
        raise UsageError("--level detailed needs --ethnicity self: officer-defined ethnicity has only broad groups")
    selection = Selection.build(args.forces, args.start, args.end, filters=_filters(args.filter),
                                ethnicity=args.ethnicity, level=args.level, reference=args.reference,
                                include_btp=args.include_btp, census=args.census)
    _check_reference(selection)
    from data.store import Store

    store = Store()
    manifest = store.manifest()
    if args.kind != "quality":
        # a force with no published month would read as 0 searches and dilute pooled rates: leave it out
        coverage = restrict_to_published(selection, manifest)
        if coverage.selection.forces:  # when nothing is published, the no-records error below says so
            for line in coverage.notes():
                print(f"note: {line}", file=sys.stderr)
            selection = coverage.selection
    stored = store.read(list(selection.forces), selection.months)
    records = select(stored, selection)
    if not len(stored) and (args.kind != "quality" or not manifest["force"].isin(selection.forces).any()):
        raise UsageError(_no_records(selection, args.forces, manifest, store.root))
    if not len(records) and args.kind != "quality":
        raise UsageError(f"no records match the filters ({selection.describe()}); {len(stored):,} records "
                         f"are stored for these forces and months")
    table = build_table(args.kind, records, selection, manifest=manifest, pairs=args.pairs, store=store)
    if selection.ethnicity == "officer":
        print("note: groups are officer-defined ethnicity (the officer's perception), not self-defined",
              file=sys.stderr)
    _print(table, args.format)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the exit code (0 ok, 2 bad input or no data, 1 unexpected table failure)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "report":
        from analysis.report_cli import main as report_main

        return int(report_main(argv[1:]) or 0)
    try:
        args = build_parser().parse_args(argv)
        return run_table(args)
    except (UsageError, StopSearchDataError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except TableUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `| head`: stop quietly
        return 0

