"""Report-ready static exports: figures stamped with title, filters, sources, caveats (PNG/SVG/PDF) and CSVs."""
from __future__ import annotations

import asyncio
import atexit
import base64
import csv
import html
import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go

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
FONT = "Liberation Sans, DejaVu Sans, Arial, Helvetica, sans-serif"
TITLE_SIZE, SUBTITLE_SIZE, FOOT_SIZE = 22, 14, 12
# Average glyph width as a share of the font size (Liberation/DejaVu Sans, generous so lines never overflow).
_GLYPH = 0.52
CSV_READ_HINT = "pandas.read_csv(path, comment='#')"


class ExportUnavailable(RuntimeError):
    """Static export needs a Chromium browser; this says which one was looked for and how to get one."""


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
    sources = (SOURCE_POLICE, SOURCE_CENSUS) + ((SOURCE_USE_OF_FORCE,) if use_of_force else ())
    return ExportContext(title=title, subtitle=selection.describe(), sources=sources,
                         retrieved=retrieved_range(manifest, forces=selection.forces, months=selection.months),
                         caveats=tuple(caveats), demo=demo, view_url=view_url)


# --------------------------------------------------------------------------------------------------
# Decoration: title block, footer, watermark

def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)


def _wrap(text: str, *, px: float, width: float) -> list[str]:
    chars = max(20, int(width / (px * _GLYPH)))
    return textwrap.wrap(text, chars, break_on_hyphens=False) or [""]


WATERMARK_NAMES = ("demo-watermark", "watermark")   # analysis.figures.base.WATERMARK_NAME, and ours
NOTE_NAMES = ("note",)                              # builders' notes under the plot


def _plain(text: str) -> str:
    """Annotation text without markup: <br> becomes '; ', tags go, entities are decoded."""
    text = re.sub(r"<br\s*/?>", "; ", str(text), flags=re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _legend_entries(fig: go.Figure) -> list[str]:
    """Names the legend will show (none when the layout hides it or a lone trace needs none)."""
    if fig.layout.showlegend is False:
        return []
    names = [str(t.name) for t in fig.data if t.showlegend is not False and t.name not in (None, "")]
    names = list(dict.fromkeys(names))
    return names if (len(fig.data) > 1 or fig.layout.showlegend) else []


def _legend_rows(names: list[str], *, width: float) -> int:
    """Rows a horizontal legend of these names needs across `width` pixels (13 px font)."""
    rows, used = 1, 0.0
    for name in names:
        item = len(name) * 7.5 + 48
        if used and used + item > width:
            rows, used = rows + 1, 0.0
        used += item
    return rows


def _category_label_px(fig: go.Figure) -> int:
    """Width the longest category label on a y axis needs (horizontal bars, ticktext), 13 px font."""
    labels: list[str] = []
    for trace in fig.data:
        y = getattr(trace, "y", None)
        if y is not None and (getattr(trace, "orientation", None) == "h" or
                              any(isinstance(v, str) for v in list(y)[:50])):
            labels += [str(v) for v in y if isinstance(v, str)]
    for name in dir(fig.layout):
        if name.startswith("yaxis"):
            axis = getattr(fig.layout, name, None)
            if axis is not None and axis.ticktext:
                labels += [str(t) for t in axis.ticktext]
    return int(max((len(_plain(t)) for t in labels), default=0) * 7.2)


def decorate(fig: go.Figure, ctx: ExportContext, *, width: int = WIDTH, watermark: bool = True) -> go.Figure:
    """A copy of `fig` laid out for print: title, subtitle, source line, caveats, demo watermark.

    `watermark=False` leaves out the diagonal demo mark (the demo note stays in the footer): for pages
    that carry their own mark. The app's figure is never changed. Legends move above the plot, horizontal,
    so they cannot meet the footer or need right margin; margins grow to fit wrapped text and long
    category labels, and the plot keeps at least PLOT_HEIGHT pixels (or the height the builder asked for).
    """
    out = go.Figure(fig)
    margin = out.layout.margin
    left = margin.l if margin.l is not None else 80
    right = margin.r if margin.r is not None else 40
    labels_px = _category_label_px(out)
    if labels_px:  # long category labels (horizontal bars) would be cut at the left edge
        has_title = any(getattr(out.layout, n).title.text for n in dir(out.layout)
                        if n.startswith("yaxis") and getattr(out.layout, n, None) is not None)
        left = max(left, min(int(width * 0.4), labels_px + 24 + (26 if has_title else 0)))
    text_width = width - 40
    # A builder's own demo mark and notes below the plot would collide with the footer: the footer takes
    # the notes over (wrapped), and one demo mark is drawn here. A figure built from demo data stays demo.
    meta = out.layout.meta if isinstance(out.layout.meta, dict) else {}
    demo = ctx.demo or bool(meta.get("demo"))
    notes = [_plain(a.text) for a in out.layout.annotations if a.name in NOTE_NAMES and a.text]
    out.layout.annotations = [a for a in out.layout.annotations
                              if a.name not in WATERMARK_NAMES and a.name not in NOTE_NAMES]
    wanted_plot = (out.layout.height or 0) - (margin.t if margin.t is not None else 70) \
        - (margin.b if margin.b is not None else 60)

    title_lines = _wrap(ctx.title, px=TITLE_SIZE * 1.06, width=text_width)  # bold is wider
    sub_lines = _wrap(ctx.subtitle, px=SUBTITLE_SIZE, width=text_width) if ctx.subtitle else []
    header_px = 14 + 6 + len(title_lines) * TITLE_SIZE * 1.3 + len(sub_lines) * SUBTITLE_SIZE * 1.35
    # Legends go above the plot, horizontal: a legend at the right would need margin the layout lacks.
    legend_names = _legend_entries(out)
    legend_px = 24 * _legend_rows(legend_names, width=width - left - right) + 10 if legend_names else 0
    # subplot titles sit just above the plot area: a legend there goes above them
    lift_px = 24 if legend_px and any(a.yref == "paper" and a.y is not None and a.y >= 0.98
                                      and a.yanchor == "bottom" for a in out.layout.annotations) else 0
    top = int(header_px + 18 + legend_px + lift_px + 10)

    foot = ([f"Note: {n}" for n in notes] + [ctx.source_line] + [f"• {c}" for c in ctx.caveats]
            + ([DEMO_NOTE] if demo else []))
    foot_lines = [line for item in foot for line in _wrap(item, px=FOOT_SIZE, width=text_width)]
    axis_px = 70 if (out.layout.xaxis.title.text) else 50
    foot_px = len(foot_lines) * FOOT_SIZE * 1.35 + 10
    bottom = int(axis_px + foot_px + 12)
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
        text="<br>".join(f"<b>{_esc(t)}</b>" for t in title_lines), showarrow=False, align="left",
        xref="paper", yref="paper", x=0, y=1 + title_top / plot_h, xanchor="left", yanchor="top",
        xshift=-(left - 20), font=dict(size=TITLE_SIZE, color="#111", family=FONT), name="export-title",
    )
    if sub_lines:
        sub_top = title_top - len(title_lines) * TITLE_SIZE * 1.3 - 6
        out.add_annotation(
            text="<br>".join(_esc(s) for s in sub_lines), showarrow=False, align="left",
            xref="paper", yref="paper", x=0, y=1 + sub_top / plot_h, xanchor="left", yanchor="top",
            xshift=-(left - 20), font=dict(size=SUBTITLE_SIZE, color="#333", family=FONT),
            name="export-subtitle",
        )
    if legend_px:
        out.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=1.0 + lift_px / plot_h,
                                      yanchor="bottom",
                                      yref="paper", font=dict(size=13)))
    out.add_annotation(
        text="<br>".join(_esc(line) for line in foot_lines), showarrow=False, align="left",
        xref="paper", yref="paper", x=0, y=0, xanchor="left", yanchor="top",
        xshift=-(left - 20), yshift=-axis_px, font=dict(size=FOOT_SIZE, color="#333", family=FONT),
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


# --------------------------------------------------------------------------------------------------
# Rendering: one headless Chromium kept open (kaleido), shared by every figure of a run

def browser_path() -> str:
    """The Chromium to use: $BROWSER_PATH, then chromium on PATH, then /usr/bin/chromium."""
    wanted = os.environ.get("BROWSER_PATH")
    if wanted and not os.access(wanted, os.X_OK):
        log.warning("BROWSER_PATH=%s is not an executable; looking for chromium instead", wanted)
    candidates = [wanted, shutil.which("chromium"), "/usr/bin/chromium",
                  shutil.which("chromium-browser"), shutil.which("google-chrome")]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise ExportUnavailable(
        "Static export (PNG/SVG/PDF) needs Chromium and none was found. Install it "
        "(`apt-get install chromium`) or set BROWSER_PATH to a Chrome or Chromium executable.")


RELOAD_EVERY = 25  # renders between page reloads of a kaleido tab (kaleido itself reloads after every one)


def _session_class(kaleido: Any) -> type:
    """kaleido.Kaleido, but a tab is reloaded every RELOAD_EVERY renders instead of after each one.

    The reload (re-parsing plotly.js) costs ~4x the render itself; the images are byte-identical either
    way (tests/test_export.py checks). Falls back to plain Kaleido if its internals change.
    """
    base = kaleido.Kaleido
    if not hasattr(base, "_return_kaleido_tab"):
        return base

    class Session(base):  # type: ignore[misc, valid-type]
        async def _return_kaleido_tab(self, tab: Any) -> None:
            uses = getattr(self, "_uses", {})
            self._uses = uses
            uses[id(tab)] = uses.get(id(tab), 0) + 1
            if uses[id(tab)] >= RELOAD_EVERY:
                uses[id(tab)] = 0
                await tab.reload()
            await self.tabs_ready.put(tab)

    return Session


class Renderer:
    """A kaleido session (one headless Chromium, `tabs` pages) on its own thread, safe to share.

    Starting Chromium costs ~2 s; a figure then costs ~0.1-0.3 s. Use one Renderer for a whole run
    (`with Renderer() as r:`), or `shared_renderer()`, which stays open until the interpreter exits.
    """

    def __init__(self, *, tabs: int = 2, timeout: float = 120.0) -> None:
        self.tabs = tabs
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> Renderer:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return self._kaleido is not None

    def open(self) -> Renderer:
        with self._lock:
            if self._kaleido is not None:
                return self
            path = browser_path()  # passed to kaleido explicitly: it never downloads a browser
            import kaleido

            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="kaleido", daemon=True)
            thread.start()

            async def start() -> Any:
                k = _session_class(kaleido)(n=self.tabs, timeout=self.timeout, mathjax=False, path=path)
                await k.open()
                return k

            try:
                self._kaleido = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=120)
            except Exception as error:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=5)
                raise ExportUnavailable(f"Could not start Chromium at {path} for static export: {error}") from error
            self._loop, self._thread = loop, thread
            log.debug("kaleido renderer open (%s tabs)", self.tabs)
            return self

    def close(self) -> None:
        with self._lock:
            if self._kaleido is None or self._loop is None:
                return
            try:
                asyncio.run_coroutine_threadsafe(self._kaleido.close(), self._loop).result(timeout=30)
            except Exception:  # noqa: BLE001 - closing a dead browser must not mask the real error
                log.warning("kaleido did not close cleanly", exc_info=True)
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._kaleido = self._loop = self._thread = None

    def _run(self, coro: Any, timeout: float | None = None) -> Any:
        if self._kaleido is None:
            self.open()
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=timeout)

    def render_many(self, jobs: Sequence[tuple[go.Figure | dict, dict]]) -> list[bytes]:
        """Render (figure, opts) pairs concurrently on the session's tabs; opts: format, width, height, scale.

        If the browser died (crash, killed), it is restarted once and the batch tried again.
        """
        if not jobs:
            return []
        specs = [(f.to_dict() if isinstance(f, go.Figure) else f, o) for f, o in jobs]
        try:
            return self._render(specs)
        except ExportUnavailable:
            raise
        except Exception as error:  # noqa: BLE001 - one restart, then the error goes to the caller
            log.warning("static export failed (%s); restarting Chromium once", error)
            self.close()
            return self._render(specs)

    def _render(self, specs: list[tuple[dict, dict]]) -> list[bytes]:
        if self._kaleido is None:
            self.open()
        k = self._kaleido

        async def run() -> list[bytes]:
            return list(await asyncio.gather(*(k.calc_fig(f, opts=o) for f, o in specs)))

        return self._run(run(), timeout=self.timeout * max(1, len(specs)))

    def render(self, fig: go.Figure | dict, **opts: Any) -> bytes:
        return self.render_many([(fig, opts)])[0]

    def print_pdf(self, html_path: Path) -> bytes:
        """Print a local HTML page to PDF in this session's Chromium (CSS @page size, no header/footer)."""
        if self._kaleido is None:
            self.open()
        k = self._kaleido
        url = Path(html_path).resolve().as_uri()

        async def run() -> bytes:
            tab = await k.create_tab(url="")
            try:
                await tab.send_command("Page.enable")
                loaded = tab.subscribe_once("Page.loadEventFired")
                await tab.send_command("Page.navigate", params={"url": url})
                await asyncio.wait_for(loaded, self.timeout)
                reply = await tab.send_command("Page.printToPDF", params={
                    "printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False,
                    "generateDocumentOutline": True, "generateTaggedPDF": True})
                if "error" in reply:
                    raise ExportUnavailable(f"Chromium could not print {html_path}: {reply['error']}")
                return base64.b64decode(reply["result"]["data"])
            finally:
                await k.close_tab(tab.target_id)

        return self._run(run(), timeout=self.timeout * 2)


_shared: Renderer | None = None
_shared_lock = threading.Lock()


def shared_renderer() -> Renderer:
    """One process-wide Renderer (opened on first use, closed at exit): what the dashboard uses."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Renderer()
            atexit.register(_shared.close)
        return _shared.open()


def print_pdf_cli(html_path: Path, pdf_path: Path, *, timeout: float = 120.0) -> None:
    """Print a local HTML page with a one-off headless Chromium process (no session needed)."""
    with tempfile.TemporaryDirectory(prefix="stopsearch-chromium-") as profile:
        cmd = [browser_path(), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
               "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
               f"--print-to-pdf={Path(pdf_path).resolve()}", Path(html_path).resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0 or not Path(pdf_path).is_file():
        raise ExportUnavailable(f"Chromium could not print {html_path} (exit {done.returncode}): "
                                f"{done.stderr.decode(errors='replace')[-400:]}")


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
