"""Report-ready static exports: figures stamped with title, filters, sources, caveats (PNG/SVG/PDF) and CSVs."""
from __future__ import annotations

import csv
import io
import logging
import os  # noqa: F401 - tests patch export.os / export.shutil to hide Chromium
import re
import shutil  # noqa: F401
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go

from analysis import export_layout as layout
from analysis.export_render import (  # noqa: F401 - re-exported: callers use analysis.export.*
    RELOAD_EVERY,
    ExportUnavailable,
    Renderer,
    browser_path,
    print_pdf_cli,
    shared_renderer,
)

log = logging.getLogger(__name__)

Format = Literal["png", "svg", "pdf"]
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")

SOURCE_POLICE = "data.police.uk stop and search"
SOURCE_CENSUS = "Census 2021, ONS"
SOURCE_USE_OF_FORCE = "Home Office use-of-force statistics"
LICENCE = "Open Government Licence v3.0"
DEMO_TEXT = "Synthetic demo data"
DEMO_NOTE = "Synthetic demo data: generated for demonstration, not police records. Do not publish as findings."

# Print geometry: 1200 x ~700 layout pixels; PNG at scale 3 is 3600 px wide, 300 dpi on a 12-inch column.
WIDTH = 1200
MIN_HEIGHT = 700
PLOT_HEIGHT = 440           # height kept for the plot area itself, whatever the header and footer need
PNG_SCALE = 3
FONT = layout.FONT
TITLE_SIZE, SUBTITLE_SIZE, FOOT_SIZE = 22, 14, 12
CSV_READ_HINT = "pandas.read_csv(path, comment='#')"


# --------------------------------------------------------------------------------------------------
# What a figure says about itself

@dataclass(frozen=True)
class ExportContext:
    """Everything an exported figure or table must carry so it can be published on its own."""

    title: str
    subtitle: str = ""                               # Selection.describe(): forces, period, filters, ...
    sources: tuple[str, ...] = (SOURCE_POLICE, SOURCE_CENSUS)
    retrieved: str = ""                              # '2025-05-01' or '2025-05-01 to 2025-05-03'
    caveats: tuple[str, ...] = ()
    demo: bool = False
    view_url: str | None = None
    notes: tuple[str, ...] = field(default=())       # extra provenance lines (CSV comments only)

    @property
    def source_line(self) -> str:
        parts = []
        for source in self.sources:
            if source == SOURCE_POLICE and self.demo:
                parts.append("synthetic records shaped like data.police.uk (not real data)")
            elif source == SOURCE_POLICE and self.retrieved:
                parts.append(f"{source} (retrieved {self.retrieved})")
            else:
                parts.append(source)
        return f"Source: {'; '.join(parts)}. {LICENCE}."

    def provenance(self) -> list[str]:
        """Plain lines, in order: title, selection, source, caveats, demo flag, view link."""
        lines = [f"title: {self.title}"]
        if self.subtitle:
            lines.append(f"selection: {self.subtitle}")
        lines.append(self.source_line)
        lines += [f"caveat: {c}" for c in self.caveats]
        lines += list(self.notes)
        if self.demo:
            lines.append(DEMO_NOTE)
        if self.view_url:
            lines.append(f"view: {self.view_url}")
        return lines

    def with_(self, **changes: Any) -> ExportContext:
        from dataclasses import replace
        return replace(self, **changes)


def retrieved_range(manifest: pd.DataFrame | None, *, forces: Iterable[str] | None = None,
                    months: Iterable[str] | None = None) -> str:
    """'YYYY-MM-DD' or 'YYYY-MM-DD to YYYY-MM-DD' over the manifest rows for these forces and months."""
    if manifest is None or len(manifest) == 0 or "retrieved_at" not in manifest:
        return ""
    rows = manifest
    if forces is not None:
        rows = rows.loc[rows["force"].isin(list(forces))]
    if months is not None:
        rows = rows.loc[rows["month"].isin(list(months))]
    if "status" in rows:
        rows = rows.loc[rows["status"].isin(["ok", "empty"])]
    stamps = pd.to_datetime(rows["retrieved_at"], errors="coerce", utc=True, format="mixed").dropna()
    if stamps.empty:
        return ""
    first, last = stamps.min().strftime("%Y-%m-%d"), stamps.max().strftime("%Y-%m-%d")
    return first if first == last else f"{first} to {last}"


def export_context(selection: Any, *, title: str, manifest: pd.DataFrame | None = None, demo: bool = False,
                   caveats: Sequence[str] = (), use_of_force: bool = False,
                   view_url: str | None = None) -> ExportContext:
    """The context for one figure of a selection (analysis.selection.Selection)."""
    census = getattr(selection, "census_label", "Census 2021")   # the Census(es) that divide this selection
    sources = (SOURCE_POLICE, SOURCE_CENSUS.replace("Census 2021", census)) + (
        (SOURCE_USE_OF_FORCE,) if use_of_force else ())
    return ExportContext(title=title, subtitle=selection.describe(), sources=sources,
                         retrieved=retrieved_range(manifest, forces=selection.forces, months=selection.months),
                         caveats=tuple(caveats), demo=demo, view_url=view_url)


# --------------------------------------------------------------------------------------------------
# Decoration: title block, footer, watermark (geometry in analysis.export_layout)

WATERMARK_NAMES = ("demo-watermark", "watermark")   # analysis.figures.base.WATERMARK_NAME, and ours
NOTE_NAMES = ("note",)                              # builders' notes under the plot


def figure_notes(fig: go.Figure) -> list[str]:
    """The builder's notes (groups left out and why), as plain sentences."""
    return [layout.plain(a.text) for a in fig.layout.annotations if a.name in NOTE_NAMES and a.text]


def footer_lines(ctx: ExportContext, *, notes: Sequence[str] = (), demo: bool = False) -> list[str]:
    """What is written under a figure, in order: notes, source line, caveats, the demo note."""
    return ([f"Note: {n}" for n in notes] + [ctx.source_line] + [f"\u2022 {c}" for c in ctx.caveats]
            + ([DEMO_NOTE] if demo or ctx.demo else []))


def decorate(fig: go.Figure, ctx: ExportContext, *, width: int = WIDTH, watermark: bool = True) -> go.Figure:
    """A copy of `fig` laid out for print: title, subtitle, source line, caveats, demo watermark.

    `watermark=False` leaves out the diagonal demo mark (the demo note stays in the footer): for pages
    that carry their own mark. The app's figure is never changed. Legends move above the plot, horizontal,
    so they cannot meet the footer or need right margin. The bottom axis' labels get an explicit angle
    for this width, the room they need is computed from their length and angle, and the footer is written
    below that room; titles and footer lines wrap to the width. The plot keeps at least PLOT_HEIGHT pixels
    (or the height the builder asked for).
    """
    out = go.Figure(fig)
    margin = out.layout.margin
    left = margin.l if margin.l is not None else 80
    right = margin.r if margin.r is not None else 40
    labels_px = layout.left_label_px(out)
    if labels_px:  # long category labels (horizontal bars) would be cut at the left edge
        has_title = any(getattr(out.layout, n).title.text for n in dir(out.layout)
                        if n.startswith("yaxis") and getattr(out.layout, n, None) is not None)
        left = max(left, min(int(width * 0.4), labels_px + 24 + (26 if has_title else 0)))
    ticks = layout.plan_ticks(out, plot_width=width - left - right)
    left = max(left, ticks.left_px + 20)
    right = max(right, ticks.right_px + 20)
    layout.apply_ticks(out, ticks)
    layout.separate_colourbar_titles(out)
    text_width = width - 40
    # A builder's own demo mark and notes below the plot would collide with the footer: the footer takes
    # the notes over (wrapped), and one demo mark is drawn here. A figure built from demo data stays demo.
    meta = out.layout.meta if isinstance(out.layout.meta, dict) else {}
    demo = ctx.demo or bool(meta.get("demo"))
    notes = figure_notes(out)
    out.layout.annotations = [a for a in out.layout.annotations
                              if a.name not in WATERMARK_NAMES and a.name not in NOTE_NAMES]
    wanted_plot = (out.layout.height or 0) - (margin.t if margin.t is not None else 70) \
        - (margin.b if margin.b is not None else 60)

    title_lines = layout.wrap(ctx.title, px=TITLE_SIZE * 1.06, width=text_width)  # bold is wider
    sub_lines = layout.wrap(ctx.subtitle, px=SUBTITLE_SIZE, width=text_width) if ctx.subtitle else []
    header_px = 14 + 6 + len(title_lines) * TITLE_SIZE * 1.3 + len(sub_lines) * SUBTITLE_SIZE * 1.35
    # Legends go above the plot, horizontal: a legend at the right would need margin the layout lacks.
    legend_names = layout.legend_entries(out)
    legend_px = 24 * layout.legend_rows(legend_names, width=width - left - right) + 10 if legend_names else 0
    # subplot titles sit just above the plot area: a legend there goes above them
    lift_px = 24 if legend_px and any(a.yref == "paper" and a.y is not None and a.y >= 0.98
                                      and a.yanchor == "bottom" for a in out.layout.annotations) else 0
    top = int(header_px + 18 + legend_px + lift_px + 10)

    foot_lines = [line for item in footer_lines(ctx, notes=notes, demo=demo)
                  for line in layout.wrap(item, px=FOOT_SIZE, width=text_width)]
    foot_px = len(foot_lines) * FOOT_SIZE * layout.LINE + 10
    bottom = int(ticks.below_px + foot_px + 12)
    height = max(MIN_HEIGHT, top + max(PLOT_HEIGHT, wanted_plot) + bottom)

    plot_h = height - top - bottom
    out.update_layout(
        width=width, height=height, autosize=False,
        font=dict(family=FONT),
        margin=dict(l=left, r=right, t=top, b=bottom),
        title=dict(text=""),
        paper_bgcolor="white",
    )
    # Title and subtitle as annotations anchored to the paper top: multi-line layout titles are
    # positioned by their first baseline and get cut off at the top edge.
    title_top = top - 14                     # pixels above the plot area where the title block starts
    out.add_annotation(
        text="<br>".join(f"<b>{layout.esc(t)}</b>" for t in title_lines), showarrow=False, align="left",
        xref="paper", yref="paper", x=0, y=1 + title_top / plot_h, xanchor="left", yanchor="top",
        xshift=-(left - 20), font=dict(size=TITLE_SIZE, color="#111", family=FONT), name="export-title",
    )
    if sub_lines:
        sub_top = title_top - len(title_lines) * TITLE_SIZE * 1.3 - 6
        out.add_annotation(
            text="<br>".join(layout.esc(s) for s in sub_lines), showarrow=False, align="left",
            xref="paper", yref="paper", x=0, y=1 + sub_top / plot_h, xanchor="left", yanchor="top",
            xshift=-(left - 20), font=dict(size=SUBTITLE_SIZE, color="#333", family=FONT),
            name="export-subtitle",
        )
    if legend_px:
        out.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=1.0 + lift_px / plot_h,
                                      yanchor="bottom",
                                      yref="paper", font=dict(size=13)))
    # The footer hangs from the bottom of the plot area, below the room the tick labels and axis title take
    out.add_annotation(
        text="<br>".join(layout.esc(line) for line in foot_lines), showarrow=False, align="left",
        xref="paper", yref="paper", x=0, y=0, xanchor="left", yanchor="top", name="export-footer",
        xshift=-(left - 20), yshift=-ticks.below_px, font=dict(size=FOOT_SIZE, color="#333", family=FONT),
    )
    if demo and watermark:
        out.add_annotation(name=WATERMARK_NAMES[0],
            text=DEMO_TEXT, showarrow=False, textangle=-24, opacity=0.16,
            xref="paper", yref="paper", x=0.5, y=0.5, xanchor="center", yanchor="middle",
            font=dict(size=int(width / 12), color="#b40000", family=FONT),
        )
    return out


SCREEN_WRAP_WIDTH = 860  # text wraps for a column this wide, so a narrower page still shows every line


def interactive(fig: go.Figure, ctx: ExportContext) -> go.Figure:
    """The decorated figure for a web page: same text, wrapped for a narrow column; the width follows the page."""
    out = decorate(fig, ctx, width=SCREEN_WRAP_WIDTH)
    out.update_layout(width=None, autosize=True)
    return out


def screen(fig: go.Figure, *, in_place: bool = False) -> go.Figure:
    """The plot alone for a page of any width (a phone too): the page writes title, source and notes as
    text that wraps (app.components.chart_with_downloads); margins grow to fit the axis labels. A copy, or
    with `in_place` the figure itself (when nothing else will use it: a copy costs 0.05 to 0.15 s)."""
    out = layout.screen_layout(fig, in_place=in_place)
    out.layout.annotations = [a for a in out.layout.annotations if a.name not in NOTE_NAMES]
    return out


# --------------------------------------------------------------------------------------------------
# Bytes for download buttons and files

def render_options(fmt: str, fig: go.Figure) -> dict[str, Any]:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return {"format": fmt, "width": fig.layout.width or WIDTH, "height": fig.layout.height or MIN_HEIGHT,
            "scale": PNG_SCALE if fmt == "png" else 1}


def figure_bytes(fig: go.Figure, ctx: ExportContext, fmt: Format, *, renderer: Renderer | None = None) -> bytes:
    """The decorated figure as PNG (3600 px wide), SVG or PDF bytes."""
    decorated = decorate(fig, ctx)
    return (renderer or shared_renderer()).render(decorated, **render_options(fmt, decorated))


def figures_bytes(items: Sequence[tuple[go.Figure, ExportContext]], formats: Sequence[str], *,
                  renderer: Renderer | None = None, watermark: bool = True) -> list[dict[str, bytes]]:
    """Many figures in many formats in one batch (concurrent on the renderer's tabs)."""
    decorated = [decorate(fig, ctx, watermark=watermark) for fig, ctx in items]
    jobs = [(d, render_options(fmt, d)) for d in decorated for fmt in formats]
    out = (renderer or shared_renderer()).render_many(jobs)
    n = len(formats)
    return [dict(zip(formats, out[i * n:(i + 1) * n], strict=True)) for i in range(len(decorated))]


MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "csv": "text/csv"}


@dataclass(frozen=True)
class Download:
    """One file for a download button: st.download_button(label, data=d.data, file_name=d.file_name, mime=d.mime)."""

    file_name: str
    mime: str
    data: bytes


def downloads(fig: go.Figure | None, table: pd.DataFrame | None, ctx: ExportContext, *,
              formats: Sequence[str] = ("png", "svg", "pdf", "csv"), renderer: Renderer | None = None,
              stem: str | None = None) -> dict[str, Download]:
    """Every download of one chart: decorated images in one batch and the CSV of its table."""
    stem = stem or slug(ctx.title)
    images = [f for f in formats if f in FORMATS]
    out: dict[str, Download] = {}
    if fig is not None and images:
        rendered = figures_bytes([(fig, ctx)], images, renderer=renderer)[0]
        out.update({f: Download(f"{stem}.{f}", MIME[f], rendered[f]) for f in images})
    if table is not None and "csv" in formats:
        out["csv"] = Download(f"{stem}.csv", MIME["csv"], table_csv(table, ctx))
    return out


def table_csv(table: pd.DataFrame, ctx: ExportContext) -> bytes:
    """The plotted numbers as CSV, provenance first as '#' lines: read with pandas.read_csv(path, comment='#').

    Values containing '#' are quoted (pandas ignores a comment character inside quotes), so the
    one argument is always enough. UTF-8, LF line endings, no index column.
    """
    head = [*ctx.provenance(), f"read with: {CSV_READ_HINT}"]
    comment = "".join(f"# {line.replace(chr(10), ' ')}\n" for line in head)
    has_hash = any(table[c].astype("string").str.contains("#", regex=False).any()
                   for c in table.columns if not pd.api.types.is_numeric_dtype(table[c]))
    body = table.to_csv(index=False, lineterminator="\n",
                        quoting=csv.QUOTE_NONNUMERIC if has_hash else csv.QUOTE_MINIMAL)
    return (comment + body).encode("utf-8")


def read_table_csv(source: str | Path | bytes) -> pd.DataFrame:
    """Read a CSV written by table_csv (the same as pandas.read_csv(path, comment='#'))."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)  # type: ignore[assignment]
    return pd.read_csv(source, comment="#")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "figure"
