"""A whole-view report: headline numbers, charts with their tables, methods and data-quality notes (HTML, PDF)."""
from __future__ import annotations

import base64
import datetime as dt
import html
import importlib
import inspect
import logging
import pkgutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from analysis import SMALL_N, report_districts, views
from analysis.export import (
    CSV_READ_HINT,
    DEMO_NOTE,
    ExportContext,
    Renderer,
    export_context,
    figures_bytes,
    interactive,
    print_pdf_cli,
    retrieved_range,
    shared_renderer,
    slug,
    table_csv,
)
from analysis.figures.base import PLOTLY_CONFIG
from analysis.selection import Selection, select
from data import reference_data
from data.errors import StopSearchDataError

log = logging.getLogger(__name__)


class NoData(StopSearchDataError):
    """The selection holds no records (a force never fetched, or nothing published for the period)."""


# --------------------------------------------------------------------------------------------------
# What goes in a report

@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    explainer: str
    table: str                              # 'module:function' returning the section's table
    figures: tuple[str, ...] = ()           # analysis.figures builder names to try, in order
    caveats: tuple[str, ...] = ()
    multi_force_only: bool = False
    caveat_from: str = ""                   # 'module:NAME' constant or function(selection) adding a caveat


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("rates", "Search rates per 1,000 residents",
                "Searches of persons a year per 1,000 residents of each ethnic group (Census 2021), with exact "
                "95% intervals. Vehicle-only searches are left out; 'Not stated' searches have no population.",
                "analysis.rates:rates", ("rates_figure", "rate_chart", "rates_chart", "rates"),
                ("Residents are not the population at risk of a search: people searched need not live in "
                 "the force area.",)),
    SectionSpec("disparity", "Disparity ratios against the reference group",
                "Each group's rate divided by the reference group's rate, with 95% intervals (Katz log; an "
                "exact conditional interval is in the table). A ratio of 1 means equal rates.",
                "analysis.rates:disparity", ("disparity_figure", "disparity_chart", "ratio_chart", "disparity"),
                ("The ratio moves if 'Not stated' searches belong mostly to one group: the table gives the "
                 "ratio if every 'Not stated' search were in the group or in the reference group.",)),
    SectionSpec("trend", "Trend: rolling 12-month rate",
                "Rate and disparity ratio over the 12 months ending each month.",
                "analysis.trend:trend", ("trend_figure", "trend_chart", "trend"),
                ("Months before the first full year of data give partial windows.",)),
    SectionSpec("outcomes", "Outcomes of searches",
                "Share of searches ending in arrest, no further action or another action, by group.",
                "analysis.outcomes:outcomes|outcome_table", ("outcomes_figure", "outcome_chart", "outcomes_chart", "outcomes"),
                ("Searches with no recorded outcome are left out of the shares.",),
                caveat_from="analysis.outcomes:caveat"),
    SectionSpec("find_rate", "Find rate: outcome linked to the object of search",
                "Share of searches where the outcome was linked to what the officer was looking for.",
                "analysis.outcomes:find_rate|find_rate_table", ("find_rate_figure", "find_rate_chart", "find_rate"),
                ("Some forces do not record whether the outcome was linked to the object of search.",),
                caveat_from="analysis.outcomes:caveat"),
    SectionSpec("thorough", "More thorough searches",
                "Share of searches with removal of more than outer clothing (not the same as a strip search).",
                "analysis.thorough:thorough|thorough_table", ("thorough_figure", "thorough_chart", "thorough"),
                ("Some forces never record this field: 'not recorded', not zero.",),
                caveat_from="analysis.thorough:THOROUGH_CAVEAT"),
    SectionSpec("mix", "What searches were for",
                "Legislation and object of search by group: differences in mix can explain part of a disparity.",
                "analysis.mix:mix|mix_table", ("mix_figure", "mix_chart", "mix")),
    SectionSpec("compare", "Forces compared",
                "Each force's disparity ratio against the pooled ratio with 95% and 99.8% funnel limits; "
                "flags use false-discovery-rate adjusted q-values.",
                "analysis.compare:compare", ("compare_figure", "funnel_figure", "funnel_chart", "compare"),
                ("Small forces have wide limits; a flag is a reason to look closer, not a finding.",),
                multi_force_only=True),
    SectionSpec(**report_districts.SPEC),  # type: ignore[arg-type]  # single force only; else one line why not
    SectionSpec("quality", "Recording quality",
                "Share of records missing each field, by force: where a force does not record a field, the "
                "numbers above that use it are 'not recorded', never zero.",
                "analysis.quality:quality|quality_table", ("quality_figure", "quality_chart"),
                ("Months the force did not publish, or that failed to download, hold no records: see the "
                 "data-quality notes.",)),
)

SECTION_KEYS: tuple[str, ...] = tuple(spec.key for spec in SECTIONS)

METHODS: tuple[tuple[str, str], ...] = (
    ("Rates", "Searches of persons (vehicle-only searches left out) by ethnic group over Census 2021 usual "
              "residents of that group in the force area, per 1,000 a year (scaled by 12 / months when the "
              "period is not a year), following the Home Office method. Pooled rows sum searches and residents "
              "over the forces; they never average rates. Intervals: exact Poisson (Garwood) 95%."),
    ("Disparity", "Ratio of a group's rate to the reference group's rate from unrounded rates, with the Katz "
                  "log interval and an exact conditional (binomial) interval."),
    ("Ethnicity", "Self-defined ethnicity is the official basis (it matches the Census). Officer-defined "
                  "ethnicity is a visual judgement; dividing it by self-identified Census populations gives "
                  "numbers not comparable with official rates. 'Not stated' is a category of its own."),
    ("Small numbers", f"Groups with fewer than {SMALL_N} searches are flagged (small_n) and drawn hollow."),
    ("Forces without a meaningful rate", "British Transport Police has no resident population; City of London "
                                         "has about 8,600 residents against a large daytime population: neither "
                                         "gets a resident rate."),
    ("Sources", "data.police.uk stop-and-search records (as each force published them; totals differ from "
                "Home Office statistics, and some forces publish nothing for some months). Census 2021 "
                "(ONS) usual residents by police force area. Open Government Licence v3.0."),
)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    explainer: str
    figure: go.Figure | None
    table: pd.DataFrame
    caveats: tuple[str, ...]
    context: ExportContext


@dataclass
class Report:
    selection: Selection
    title: str
    context: ExportContext                  # report-wide: subtitle, source line, demo, view URL
    headlines: list[tuple[str, views.Headline]]
    sections: list[Section]
    quality_notes: list[str]
    quality_tables: list[tuple[str, pd.DataFrame]]
    missing: list[str] = field(default_factory=list)  # sections that could not be built, and why
    generated_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    _svgs: dict[str, bytes] = field(default_factory=dict, repr=False)  # rendered chart SVGs, by section key

    @property
    def demo(self) -> bool:
        return self.context.demo

    # ------------------------------------------------------------------ files
    def write_csv(self, directory: str | Path) -> list[Path]:
        """One CSV per section (the analysis table, '#' provenance lines first) plus the quality tables."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for section in self.sections:
            path = out / f"{section.key}.csv"
            path.write_bytes(table_csv(section.table, section.context))
            paths.append(path)
        for name, table in self.quality_tables:
            path = out / f"{slug(name)}.csv"
            path.write_bytes(table_csv(table, self.context.with_(title=name)))
            paths.append(path)
        return paths

    def write_figures(self, directory: str | Path, formats: Sequence[str] = ("png", "svg", "pdf"), *,
                      renderer: Renderer | None = None) -> list[Path]:
        """<key>.<fmt> for every chart, rendered in one batch on one Chromium session."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        charted = [s for s in self.sections if s.figure is not None]
        images = figures_bytes([(s.figure, s.context) for s in charted], formats,  # type: ignore[misc]
                               renderer=renderer)
        paths = []
        for section, by_format in zip(charted, images, strict=True):
            if "svg" in by_format:
                self._svgs[section.key] = by_format["svg"]  # the PDF reuses them
            for fmt, data in by_format.items():
                path = out / f"{section.key}.{fmt}"
                path.write_bytes(data)
                paths.append(path)
        return paths

    def html(self) -> str:
        """The self-contained interactive page (plotly.js inlined once, no external scripts)."""
        return _page(self, interactive_charts=True)

    def write_html(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html(), encoding="utf-8")
        return path

    def print_html(self, *, renderer: Renderer | None = None) -> str:
        """The print layout: the same content with static SVG charts (A4 landscape)."""
        # the same SVGs as the chart files (each with its own diagonal demo mark); pages carry a demo
        # banner at the top rather than a second diagonal mark that would cross the chart's
        todo = [s for s in self.sections if s.figure is not None and s.key not in self._svgs]
        images = figures_bytes([(s.figure, s.context) for s in todo], ["svg"],  # type: ignore[misc]
                               renderer=renderer)
        self._svgs.update({s.key: img["svg"] for s, img in zip(todo, images, strict=True)})
        return _page(self, interactive_charts=False, svgs=self._svgs)

    def write_pdf(self, path: str | Path, *, renderer: Renderer | None = None, method: str = "session") -> Path:
        """Print the print layout with headless Chromium: 'session' (CDP, reuses the renderer) or 'cli'."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        renderer = renderer or shared_renderer()
        page = self.print_html(renderer=renderer)
        with tempfile.TemporaryDirectory(prefix="stopsearch-report-") as tmp:
            source = Path(tmp) / "print.html"
            source.write_text(page, encoding="utf-8")
            if method == "cli":
                print_pdf_cli(source, path)
            else:
                path.write_bytes(renderer.print_pdf(source))
        return path


# --------------------------------------------------------------------------------------------------
# Building

def _resolve(target: str) -> Callable[..., Any] | None:
    """'module:name|other_name' -> the first callable found, or None when the module is not there yet."""
    module_name, _, names = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    for name in names.split("|"):
        fn = getattr(module, name, None)
        if callable(fn):
            return fn
    return None


def _figure_modules() -> list[Any]:
    """analysis.figures and, when it does not re-export its builders, its submodules."""
    try:
        package = importlib.import_module("analysis.figures")
    except ImportError:
        return []
    modules = [package]
    for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
        try:
            modules.append(importlib.import_module(f"analysis.figures.{info.name}"))
        except ImportError:
            continue
    return modules


def _figure_builder(names: Sequence[str]) -> Callable[..., go.Figure] | None:
    modules = _figure_modules()
    for name in names:
        if ":" in name and (fn := _resolve(name)) is not None:  # 'module:function' outside analysis.figures
            return fn
        for module in modules:
            builder = getattr(module, name, None)
            if callable(builder):
                return builder
    return None


def _call(fn: Callable[..., Any], *args: Any, **optional: Any) -> Any:
    """Call with the optional keywords the function accepts (manifest, selection, ...)."""
    params = inspect.signature(fn).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return fn(*args, **{k: v for k, v in optional.items() if accepts_any or k in params})


def _extra_caveat(target: str, selection: Selection) -> tuple[str, ...]:
    if not target:
        return ()
    module_name, _, name = target.partition(":")
    try:
        value = getattr(importlib.import_module(module_name), name, None)
    except ImportError:
        return ()
    value = value(selection) if callable(value) else value
    return (str(value),) if value else ()


def _table_caveats(table: pd.DataFrame, base: Sequence[str], selection: Selection) -> tuple[str, ...]:
    caveats = list(base)
    if "small_n" in table and table["small_n"].fillna(False).astype(bool).any():
        caveats.append(f"Hollow markers: fewer than {SMALL_N} searches in the group; treat with caution.")
    if "reason" in table:
        # 'reference group' marks the reference rows; it explains a blank ratio, it is not a caveat
        reasons = [r for r in dict.fromkeys(table["reason"].dropna().astype(str))
                   if r and r.strip().lower() != "reference group"]
        caveats += [r[0].upper() + r[1:] + "." for r in reasons[:3]]
    if selection.ethnicity == "officer":
        caveats.append("Officer-defined ethnicity over self-identified Census populations: not comparable "
                       "with official rates.")
    return tuple(dict.fromkeys(caveats))


def build_report(records: pd.DataFrame, manifest: pd.DataFrame | None, selection: Selection, *, demo: bool,
                 view_url: str | None = None, title: str | None = None,
                 figures: Mapping[str, Callable[..., go.Figure]] | None = None,
                 sections: Sequence[str] | None = None) -> Report:
    """Compute every section for the selection (records are filtered here with `select`).

    Charts come from analysis.figures (builder names in SECTIONS); `figures` maps a section key to a
    builder that replaces it (the dashboard's own, or a test's). `sections` keeps only those keys
    (SECTION_KEYS order), e.g. ('rates', 'disparity') for a short report.
    """
    if sections is not None:
        unknown = sorted(set(sections) - set(SECTION_KEYS))
        if unknown:
            raise ValueError(f"unknown report section {', '.join(unknown)}; choose from {', '.join(SECTION_KEYS)}")
    wanted = set(SECTION_KEYS if sections is None else sections)
    chosen = select(records, selection)
    if not len(chosen):
        names = ", ".join(reference_data.force_name(f) for f in selection.forces)
        cells = views.coverage(manifest, selection.forces, selection.months) if manifest is not None else None
        status = (views.coverage_sentence(views.coverage_summary(cells)) if cells is not None else "")
        raise NoData(f"No stop-and-search records for {names} in {selection.start} to {selection.end}. {status}",
                     hint=f"Fetch them first: python -m data fetch --forces {','.join(selection.forces)} "
                          f"--from {selection.start} --to {selection.end}.")
    scope = ", ".join(reference_data.force_name(f) for f in selection.forces) if len(selection.forces) <= 3 \
        else f"{len(selection.forces)} forces"
    title = title or f"Stop and search by ethnicity: {scope}, {selection.start} to {selection.end}"
    base = export_context(selection, title=title, manifest=manifest, demo=demo, view_url=view_url)
    sections, missing = [], []
    # months each force published (manifest 'ok'/'empty'): the trend tells an empty month from a missing one
    available = None if manifest is None or not len(manifest) else {
        str(f): sorted(g["month"].astype(str)) for f, g in manifest.loc[manifest["status"].isin(["ok", "empty"])]
        .groupby("force")}
    tables: dict[str, pd.DataFrame] = {}
    for spec in SECTIONS:
        if (spec.multi_force_only and len(selection.forces) < 2) or spec.key not in wanted:
            continue
        fn = _resolve(spec.table)
        if fn is None:
            log.warning("report section %r skipped: %s is not available", spec.key, spec.table)
            continue
        try:
            table = _call(fn, chosen, selection, manifest=manifest, months_available=available)
        except (ValueError, KeyError, StopSearchDataError) as error:
            missing.append(f"{spec.title}: {error}")
            continue
        if not isinstance(table, pd.DataFrame):
            table = getattr(table, "table", None) if not isinstance(table, pd.DataFrame) else table
            if not isinstance(table, pd.DataFrame):
                missing.append(f"{spec.title}: {spec.table} did not return a table")
                continue
        tables[spec.key] = table
        builder = (figures or {}).get(spec.key) or _figure_builder(spec.figures)
        figure = None
        if builder is not None:
            try:
                figure = _call(builder, table, selection=selection, reference=selection.reference, demo=demo)
            except (ValueError, KeyError, TypeError) as error:
                log.warning("figure for %s failed: %s", spec.key, error)
                missing.append(f"{spec.title} chart: {error}")
        caveats = _table_caveats(table, spec.caveats + _extra_caveat(spec.caveat_from, selection), selection)
        ctx = base.with_(title=f"{spec.title}: {scope}, {selection.start} to {selection.end}", caveats=caveats)
        sections.append(Section(spec.key, spec.title, spec.explainer, figure, table, caveats, ctx))

    not_stated = _call(_resolve("analysis.rates:not_stated_summary"), chosen, selection)  # type: ignore[arg-type]
    headlines = _headlines(tables, not_stated, selection)
    notes, quality_tables = _quality(chosen, manifest, selection, not_stated)
    if demo:
        notes.insert(0, DEMO_NOTE)
    return Report(selection=selection, title=title, context=base, headlines=headlines, sections=sections,
                  quality_notes=notes, quality_tables=quality_tables, missing=missing)


def _headlines(tables: dict[str, pd.DataFrame], not_stated: pd.DataFrame,
               selection: Selection) -> list[tuple[str, views.Headline]]:
    out: list[tuple[str, views.Headline]] = []
    share_row = views.overall(not_stated)
    share = float(share_row["share"].iloc[0]) if len(share_row) else None
    persons = int(share_row["searches_of_persons"].iloc[0]) if len(share_row) else 0
    out.append(("Searches of persons", views.Headline(f"{persons:,}", "", f"{selection.n_months} months",
                                                      f"ethnicity not stated in {views.fmt_share(share)}")))
    disparity = tables.get("disparity")
    if disparity is not None and len(disparity):
        group = views.default_group(views.comparison_groups(views.overall(disparity)))
        if group:
            row = views.group_row(disparity, group)
            out.append((f"{group} / {selection.reference} disparity ratio",
                        views.ratio_headline(row, not_stated_share=share)))
            rates = tables.get("rates")
            if rates is not None:
                for g in (group, selection.reference):
                    out.append((f"{g} rate per 1,000 a year", views.rate_headline(views.group_row(rates, g))))
    return out


def _quality(chosen: pd.DataFrame, manifest: pd.DataFrame | None, selection: Selection,
             not_stated: pd.DataFrame) -> tuple[list[str], list[tuple[str, pd.DataFrame]]]:
    notes: list[str] = []
    tables: list[tuple[str, pd.DataFrame]] = [("Ethnicity not stated", not_stated)]
    if len(selection.forces) > 3:  # the subtitle only counts them
        notes.append("Forces: " + ", ".join(reference_data.force_name(f) for f in selection.forces) + ".")
    if manifest is not None:
        cells = views.coverage(manifest, selection.forces, selection.months)
        notes.append(views.coverage_sentence(views.coverage_summary(cells)))
        gaps = cells.loc[~cells["status"].isin(["ok", "empty"])]
        for row in gaps.head(12).itertuples():
            why = f" ({row.reason})" if row.reason else ""
            notes.append(f"{reference_data.force_name(row.force)} {row.month}: "
                         f"{views.STATUS_LABELS.get(row.status, row.status)}{why}.")
        if len(gaps) > 12:
            notes.append(f"... and {len(gaps) - 12} more force-months without data.")
        retrieved = retrieved_range(manifest, forces=selection.forces, months=selection.months)
        if retrieved:
            notes.append(f"Records retrieved from the source on {retrieved}.")
    unrecognised = int(views.overall(not_stated)["unrecognised"].sum()) if len(not_stated) else 0
    if unrecognised:
        notes.append(f"{unrecognised:,} searches carry an ethnicity label no table knows: counted in totals, "
                     "in no group.")
    never = _resolve("analysis.quality:fields_not_recorded")
    if never is not None:
        for force, fields in never(chosen).items():
            if fields:
                notes.append(f"{reference_data.force_name(force)} records no {', '.join(fields)} in this "
                             "period: shown as 'not recorded', never as zero.")
    return notes, tables


# --------------------------------------------------------------------------------------------------
# HTML

_CSS = """
*{box-sizing:border-box} .tablewrap{overflow-x:auto}
body{font-family:'Liberation Sans','DejaVu Sans',Arial,sans-serif;color:#1a1a1a;max-width:1240px;margin:0 auto;
padding:24px;line-height:1.45}
h1{font-size:26px;margin:0 0 6px} h2{font-size:20px;margin:28px 0 6px;border-bottom:1px solid #ccc}
.sub{font-size:15px;color:#333;margin:0 0 6px} .source{font-size:13px;color:#444}
.demo{background:#fde8e8;border:2px solid #b40000;color:#8a0000;font-weight:bold;padding:8px 12px;margin:10px 0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{border:1px solid #ccc;border-radius:6px;padding:10px 14px;min-width:210px;flex:1}
.card .label{font-size:13px;color:#444}.card .value{font-size:26px;font-weight:bold}
.card .small{font-size:12px;color:#444}
table.data{border-collapse:collapse;font-size:11px;margin:8px 0;width:100%}
table.data th,table.data td{border:1px solid #ddd;padding:2px 5px;text-align:right;vertical-align:top}
table.data th{background:#f3f3f3} table.data td.t{text-align:left}
ul.caveats{font-size:13px;color:#333} .link{word-break:break-all;font-size:12px}
.chart{width:100%;page-break-inside:avoid;break-inside:avoid} .chart img{width:100%}
@page{size:A4 landscape;margin:12mm}
@media print{body{max-width:none;padding:0} h2,h3{break-after:avoid} section.charted{break-before:page}
.chart img{width:auto;max-width:100%;max-height:150mm;display:block;margin:0 auto}
section.charted .tableblock{break-before:page}
.tablewrap{overflow:visible} table.data{font-size:8px;table-layout:auto}
table.data th{overflow-wrap:anywhere;white-space:normal}
details{display:block} details>summary{display:none} .chart{break-inside:avoid}
}
"""
# Demo reports: every printed page says so in its top margin (CSS margin box), clear of the content.
_DEMO_PAGE_CSS = ("@page{@top-center{content:'SYNTHETIC DEMO DATA: not police records';color:#b40000;"
                  "font:bold 10pt 'Liberation Sans',Arial,sans-serif}}")


def _e(text: object) -> str:
    return html.escape(str(text))


def _cell(value: object) -> tuple[str, bool]:
    """(display text, is text) for one table cell."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "", False
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no"), True
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}", False
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if np.isinf(v):
            return "inf", False
        return (f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"), False
    text = str(value)
    return (text if len(text) <= 60 else text[:57] + "..."), True


def table_html(table: pd.DataFrame, *, max_rows: int = 60, more: str = "the CSV") -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    rows = []
    for values in table.head(max_rows).itertuples(index=False):
        cells = []
        for v in values:
            text, is_text = _cell(v)
            cells.append(f"<td class='t'>{_e(text)}</td>" if is_text else f"<td>{_e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    tail = f"<p class='source'>{len(table) - max_rows:,} more rows in {_e(more)}.</p>" if len(table) > max_rows else ""
    return (f"<div class='tablewrap'><table class='data'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}"
            f"</tbody></table></div>{tail}")


def _csv_link(name: str, data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    return (f"<a download='{_e(name)}' href='data:text/csv;base64,{encoded}'>Download {_e(name)}</a> "
            f"<span class='source'>(read with {_e(CSV_READ_HINT)})</span>")


def _page(report: Report, *, interactive_charts: bool, svgs: dict[str, bytes] | None = None) -> str:
    ctx = report.context
    parts = [f"<h1>{_e(report.title)}</h1>", f"<p class='sub'>{_e(ctx.subtitle)}</p>",
             f"<p class='source'>{_e(ctx.source_line)} Generated {_e(report.generated_at)}.</p>"]
    if report.demo:
        parts.append(f"<div class='demo'>{_e(DEMO_NOTE)}</div>")
    if ctx.view_url:
        parts.append(f"<p class='link'>Restore this view: <a href='{_e(ctx.view_url)}'>{_e(ctx.view_url)}</a></p>")
    cards = []
    for label, h in report.headlines:
        cards.append(f"<div class='card'><div class='label'>{_e(label)}</div><div class='value'>{_e(h.value)}"
                     f"</div><div class='small'>{_e(h.interval)}</div><div class='small'>{_e(h.counts)}</div>"
                     f"<div class='small'>{_e(h.caveat)}</div></div>")
    parts.append(f"<section id='headlines'><h2>Headline numbers</h2><div class='cards'>{''.join(cards)}</div>"
                 "</section>")
    first_plot = True
    for section in report.sections:
        body = [f"<h2>{_e(section.title)}</h2>", f"<p>{_e(section.explainer)}</p>"]
        if section.figure is not None:
            if interactive_charts:
                fig = interactive(section.figure, section.context)
                body.append("<div class='chart'>" + pio.to_html(
                    fig, full_html=False, include_plotlyjs=False, include_mathjax=False,
                    div_id=f"chart-{section.key}", config={"displaylogo": False, "responsive": True, **PLOTLY_CONFIG}) + "</div>")
                first_plot = False
            elif svgs and section.key in svgs:
                data = base64.b64encode(svgs[section.key]).decode()
                body.append(f"<div class='chart'><img alt='{_e(section.context.title)}' "
                            f"src='data:image/svg+xml;base64,{data}'></div>")
        if section.caveats and section.figure is None:  # a chart carries its caveats in its footer
            body.append("<ul class='caveats'>" + "".join(f"<li>{_e(c)}</li>" for c in section.caveats) + "</ul>")
        if interactive_charts:
            body.append(f"<details><summary>Table ({len(section.table):,} rows)</summary>"
                        f"{table_html(section.table)}</details>")
        else:  # closed <details> would print nothing
            body.append(f"<div class='tableblock'><h3>{_e(section.title)}: table</h3>"
                        f"{table_html(section.table, max_rows=40, more=f'tables/{section.key}.csv')}</div>")
        if interactive_charts:
            body.append(f"<p>{_csv_link(section.key + '.csv', table_csv(section.table, section.context))}</p>")
        charted = " class='charted'" if section.figure is not None else ""
        parts.append(f"<section id='section-{_e(section.key)}'{charted}>{''.join(body)}</section>")
    if report.missing:
        parts.append("<section id='missing'><h2>Not included</h2><ul>"
                     + "".join(f"<li>{_e(m)}</li>" for m in report.missing) + "</ul></section>")
    quality = ["<h2>Data quality</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in report.quality_notes) + "</ul>"]
    for name, table in report.quality_tables:
        quality.append(f"<h3>{_e(name)}</h3>{table_html(table)}")
    parts.append(f"<section id='quality'>{''.join(quality)}</section>")
    methods = "".join(f"<h3>{_e(name)}</h3><p>{_e(text)}</p>" for name, text in METHODS)
    parts.append(f"<section id='methods'><h2>Methods</h2>{methods}</section>")
    parts.append(f"<footer><p class='source'>{_e(ctx.source_line)}</p></footer>")
    script = ""
    if interactive_charts and not first_plot:
        # plotly.js inlined once; the page needs no network
        script = f"<script type='text/javascript'>{get_plotlyjs()}</script>"
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{_e(report.title)}</title>"
            f"<style>{_CSS}{_DEMO_PAGE_CSS if report.demo else ''}</style>{script}</head><body>{''.join(parts)}</body></html>")
