"""`python -m analysis report`: whole-view reports (HTML, PDF, figures, CSV) without a browser, one or per force."""
from __future__ import annotations

import argparse
import html
import logging
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd

from analysis import views
from analysis.coverage import restrict_to_published
from analysis.export import DEMO_NOTE, FORMATS, ExportUnavailable, Renderer, slug
from analysis.report import SECTION_KEYS, Report, build_report
from analysis.selection import Selection
from data import reference_data
from data.errors import StopSearchDataError
from data.months import normalise_month

log = logging.getLogger(__name__)

ALL_FORMATS = ("html", "pdf", "png", "svg", "csv")
DEFAULT_APP_URL = "http://localhost:8501/"
# Query-string keys of the dashboard (app/state.py FIELDS) for the selection's filter columns.
FILTER_KEYS = {column: key for key, column in views.FILTER_COLUMNS.items()}


def view_url(selection: Selection, *, base: str | None = None) -> str:
    """The dashboard link that restores this selection (keys as app/state.py writes them)."""
    base = base or os.environ.get("STOPSEARCH_APP_URL", DEFAULT_APP_URL)
    params: list[tuple[str, str]] = [("forces", f) for f in selection.forces]
    params += [("start", selection.start), ("end", selection.end), ("eth", selection.ethnicity),
               ("level", selection.level), ("ref", selection.reference), ("btp", "1" if selection.include_btp else "0"),
               ("census", getattr(selection, "census", "auto"))]
    for column, values in selection.filters:
        params += [(FILTER_KEYS.get(column, column), v) for v in values]
    return f"{base}?{urlencode(params)}"


@dataclass
class Outcome:
    force: str                  # force id, or 'ALL' for one pooled report
    directory: Path
    report: Report | None
    files: list[Path]
    error: str = ""
    seconds: float = 0.0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m analysis report", description=(
        "Write the whole-view report (HTML with interactive charts, PDF, chart images, CSV tables) for a "
        "selection, reading the local store ($STOPSEARCH_DATA_DIR) or the synthetic demo data."))
    p.add_argument("--forces", required=True, help="force ids separated by commas, or 'all'")
    p.add_argument("--each-force", action="store_true", help="one report per force, and an index.html")
    p.add_argument("--from", dest="start", required=True, metavar="YYYY-MM")
    p.add_argument("--to", dest="end", required=True, metavar="YYYY-MM")
    p.add_argument("--out", required=True, type=Path, help="output folder (created)")
    p.add_argument("--formats", default=",".join(ALL_FORMATS), help=f"any of {','.join(ALL_FORMATS)}")
    p.add_argument("--sections", default=None,
                   help=f"only these report sections, comma-separated: {','.join(SECTION_KEYS)} (default all)")
    p.add_argument("--ethnicity", choices=("self", "officer"), default="self")
    p.add_argument("--level", choices=("broad", "detailed"), default="broad")
    p.add_argument("--reference", default=None, help="reference group (default White; White British if detailed)")
    p.add_argument("--include-btp", action="store_true", help="add BTP searches to pooled numerators")
    p.add_argument("--census", choices=("auto", "2011", "2021"), default="auto",
                   help="Census residents that divide: auto (default, as the Home Office: 2011 for periods "
                        "ending up to 2019/20, 2021 from 2020/21), 2011 or 2021")
    p.add_argument("--demo", action="store_true", help="use the synthetic demo data (marked on every page)")
    p.add_argument("--app-url", default=None, help=f"dashboard address for the view link (default {DEFAULT_APP_URL})")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="reports built at once (and Chromium tabs); default 2")
    p.add_argument("--pdf-method", choices=("session", "cli"), default="session",
                   help="print PDFs in the shared Chromium session (default) or one chromium process each")
    return p


def _formats(text: str) -> list[str]:
    wanted = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in wanted if f not in ALL_FORMATS]
    if bad or not wanted:
        raise ValueError(f"unknown format {', '.join(bad) or '(none)'}; choose from {','.join(ALL_FORMATS)}")
    return list(dict.fromkeys(wanted))


def write_report(report: Report, directory: Path, formats: Sequence[str], *, renderer: Renderer | None,
                 pdf_method: str = "session") -> list[Path]:
    """report.html, report.pdf, figures/<key>.<fmt>, tables/<key>.csv in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    if "html" in formats:
        files.append(report.write_html(directory / "report.html"))
    images = [f for f in formats if f in FORMATS]
    if images:
        files += report.write_figures(directory / "figures", images, renderer=renderer)
    if "csv" in formats:
        files += report.write_csv(directory / "tables")
    if "pdf" in formats:
        files.append(report.write_pdf(directory / "report.pdf", renderer=renderer, method=pdf_method))
    return files


class _Source:
    """Records and manifest from the store or the demo, read per force when reports are per force."""

    def __init__(self, *, demo: bool) -> None:
        self.demo = demo
        if demo:
            from data.demo import demo_manifest, demo_records
            self._records = demo_records()
            self._manifest = demo_manifest()
        else:
            from data.store import Store
            self._store = Store()
            self._manifest = self._store.manifest()

    @property
    def manifest(self) -> pd.DataFrame:
        return self._manifest

    def records(self, forces: Sequence[str], months: Sequence[str]) -> pd.DataFrame:
        if self.demo:
            rows = self._records
            return rows.loc[rows["force"].isin(list(forces)).to_numpy(bool) & rows["month"].isin(list(months))
                            .to_numpy(bool)]
        return self._store.read(forces=list(forces), months=list(months))


def _one(source: _Source, selection: Selection, directory: Path, formats: Sequence[str], *,
         renderer: Renderer | None, app_url: str | None, pdf_method: str, label: str,
         sections: Sequence[str] | None = None) -> Outcome:
    started = time.perf_counter()
    try:
        records = source.records(selection.forces, selection.months)
        report = build_report(records, source.manifest, selection, demo=source.demo,
                              view_url=view_url(selection, base=app_url), sections=sections)
        files = write_report(report, directory, formats, renderer=renderer, pdf_method=pdf_method)
        return Outcome(label, directory, report, files, seconds=time.perf_counter() - started)
    except StopSearchDataError as error:
        return Outcome(label, directory, None, [], error=str(error), seconds=time.perf_counter() - started)


def write_index(outcomes: Sequence[Outcome], path: Path, *, title: str, demo: bool) -> Path:
    """index.html linking every force's report, with its headline ratio, or why it has none."""
    rows = []
    for o in sorted(outcomes, key=lambda o: reference_data.force_name(o.force)):
        name = html.escape(reference_data.force_name(o.force))
        if o.report is None:
            rows.append(f"<tr><td>{name}</td><td colspan='3' class='err'>{html.escape(o.error)}</td></tr>")
            continue
        rel = o.directory.name
        links = [f"<a href='{rel}/report.html'>HTML</a>" if (o.directory / "report.html").exists() else "",
                 f"<a href='{rel}/report.pdf'>PDF</a>" if (o.directory / "report.pdf").exists() else ""]
        headline = next((h for label, h in o.report.headlines if "disparity" in label), None)
        label = next((label for label, _ in o.report.headlines if "disparity" in label), "")
        value = f"{html.escape(label)}: {html.escape(headline.value)} ({html.escape(headline.interval)})" \
            if headline else ""
        searches = o.report.headlines[0][1].value if o.report.headlines else ""
        rows.append(f"<tr><td>{name}</td><td>{searches}</td><td>{value}</td><td>{' '.join(x for x in links if x)}"
                    "</td></tr>")
    banner = f"<p class='demo'>{html.escape(DEMO_NOTE)}</p>" if demo else ""
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>" + html.escape(title) +
            "</title><style>body{font-family:'Liberation Sans',Arial,sans-serif;max-width:1100px;margin:auto;"
            "padding:20px}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px 8px}"
            ".err{color:#a00}.demo{background:#fde8e8;border:2px solid #b40000;padding:8px;font-weight:bold}"
            "</style></head><body><h1>" + html.escape(title) + "</h1>" + banner +
            "<table><thead><tr><th>Force</th><th>Searches of persons</th><th>Headline</th><th>Report</th></tr>"
            "</thead><tbody>" + "".join(rows) + "</tbody></table></body></html>")
    path.write_text(page, encoding="utf-8")
    return path


class NoPublishedData(StopSearchDataError):
    """No chosen force published a month of the period: there is nothing to report."""


def run(args: argparse.Namespace) -> int:
    formats = _formats(args.formats)
    sections = [k.strip() for k in args.sections.split(",") if k.strip()] if args.sections else None
    if sections is not None and (bad := sorted(set(sections) - set(SECTION_KEYS))):
        raise ValueError(f"unknown report section {', '.join(bad)}; choose from {','.join(SECTION_KEYS)}")
    start, end = normalise_month(args.start), normalise_month(args.end)
    reference = args.reference or views.default_reference(args.level)
    base = Selection.build(args.forces, start, end, ethnicity=args.ethnicity, level=args.level,
                           reference=reference, include_btp=args.include_btp, census=args.census)
    source = _Source(demo=args.demo)
    out: Path = args.out
    # a force with no published month would count as zero searches: leave it out, and say so
    coverage = restrict_to_published(base, source.manifest)
    notes = coverage.notes()
    if len(coverage.left_out) > 3:
        notes = [n for n in notes if " left out: " not in n]
        notes.insert(0, f"{len(coverage.left_out)} forces left out (no published month in the store for "
                        f"{start} to {end}): {', '.join(coverage.left_out)}.")
    for line in notes:
        print(f"note: {line}", file=sys.stderr)
    # '--forces all' means every force with data; a force named on its own is reported, with its error
    # (and a non-zero exit) when it has none
    every = str(args.forces).strip().lower() == "all"
    if not coverage.selection.forces and not (args.each_force and not every):
        raise NoPublishedData(views.no_published_data_text(list(base.forces), start, end, {}, app=False))
    if args.each_force:
        chosen = coverage.selection.forces if every else base.forces
        jobs = [(Selection(forces=(f,), start=start, end=end, ethnicity=args.ethnicity, level=args.level,
                           reference=reference, census=args.census,
                           months_published=tuple(p for p in coverage.selection.months_published if p[0] == f)),
                 out / slug(f), f) for f in chosen]
    else:
        base = coverage.selection
        jobs = [(base, out, base.forces[0] if len(base.forces) == 1 else "ALL")]
    out.mkdir(parents=True, exist_ok=True)
    needs_browser = any(f in formats for f in ("pdf", "png", "svg"))
    workers = max(1, min(args.workers, len(jobs)))
    outcomes: list[Outcome] = []
    from tqdm import tqdm

    renderer = Renderer(tabs=workers) if needs_browser else None
    try:
        if renderer is not None:
            renderer.open()
        with tqdm(total=len(jobs), file=sys.stderr, unit="report", disable=len(jobs) < 2,
                  desc="reports") as bar, ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_one, source, sel, directory, formats, renderer=renderer, app_url=args.app_url,
                                   pdf_method=args.pdf_method, label=label, sections=sections)
                       for sel, directory, label in jobs]
            for future in as_completed(futures):
                outcome = future.result()
                outcomes.append(outcome)
                if outcome.error:
                    bar.write(f"error: {outcome.force}: {outcome.error}", file=sys.stderr)
                bar.update(1)
    finally:
        if renderer is not None:
            renderer.close()
    if args.each_force:
        title = (f"Stop and search by ethnicity, {start} to {end}: one report per force"
                 + (" (synthetic demo data)" if args.demo else ""))
        write_index(outcomes, out / "index.html", title=title, demo=args.demo)
    failed = [o for o in outcomes if o.error]
    done = len(outcomes) - len(failed)
    print(f"{done} of {len(outcomes)} report(s) written to {out}"
          + (f"; no report for {', '.join(o.force for o in failed)}" if failed else "") + ".")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    """Entry point for `python -m analysis report ...` (analysis/cli.py delegates here)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except (StopSearchDataError, ExportUnavailable, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
