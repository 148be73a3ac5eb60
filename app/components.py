"""Small screen pieces shared by every page: the source banner, explainers, numbers with their intervals,
charts with their table and downloads, and the guard that keeps tracebacks off the page."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis import export, views
from analysis.coverage import Coverage
from analysis.figures.base import PLOTLY_CONFIG
from analysis.figures.describe import describe
from analysis.selection import Selection
from analysis.views import Headline
from app.dataset import Dataset
from app.safe_text import markdown_lines, markdown_text
from data.errors import StopSearchDataError

log = logging.getLogger("dashboard")

GENERIC_ERROR = ("Something went wrong while drawing this part of the page; the details are in the server "
                 "log. Try a different selection, or reload the page.")


@contextlib.contextmanager
def guard(what: str = "page") -> Iterator[None]:
    """Data problems show their own one-line message; anything else a generic line (traceback logged)."""
    try:
        yield
    except StopSearchDataError as exc:
        st.error(markdown_lines(str(exc).splitlines()))
    except Exception:  # noqa: BLE001 - the page must never show a traceback
        log.exception("error while drawing the %s", what)
        st.error(GENERIC_ERROR)


def attempt(load: Callable[[], Any], what: str) -> Any:
    """Run `load` under the guard; None (with the one-line message on the page) when it fails."""
    with guard(what):
        return load()
    return None


def source_banner(dataset: Dataset) -> None:
    """Every page says where its numbers come from; demo data says so loudly."""
    if dataset.demo:
        st.warning(f"**{dataset.label}.** {dataset.description}", icon=":material/science:")
    else:
        st.info(dataset.description, icon=":material/database:")


def explainer(text: str) -> None:
    st.markdown(text)


def headline(label: str, number: Headline, *, help: str | None = None, key: str | None = None) -> None:
    """A metric with its interval, counts and caveat underneath (never a bare number)."""
    with st.container(border=True, key=key):
        st.metric(label, number.value, help=help)
        lines = [number.interval, number.counts]
        if number.caveat:
            lines.append(number.caveat)
        st.caption("  \n".join(line for line in lines if line))


def export_context(dataset: Dataset, selection: Selection, *, title: str, caveats: Sequence[str] = (),
                   use_of_force: bool = False) -> export.ExportContext:
    return export.export_context(selection, title=title, manifest=dataset.manifest, demo=dataset.demo,
                                 caveats=tuple(caveats), use_of_force=use_of_force)


def _figure_download(fig: go.Figure, context: export.ExportContext, fmt: str) -> Callable[[], bytes]:
    def make() -> bytes:
        return export.figure_bytes(fig, context, fmt)  # type: ignore[arg-type]

    return make


def _table_download(table: pd.DataFrame, context: export.ExportContext) -> Callable[[], bytes]:
    def make() -> bytes:
        return export.table_csv(table, context)

    return make


@contextlib.contextmanager
def fold(label: str, *, key: str) -> Iterator[bool]:
    """A folded section whose content is built (and sent to the browser) only once it is opened: yields
    whether it is open. Opening it reruns the page, whose tables are cached."""
    with st.expander(label, key=key, on_change="rerun") as section:
        yield bool(section.open)


def tabs(views: dict[str, Callable[[], None]], *, key: str) -> None:
    """Tabs of which only the chosen one is built (and sent to the browser): `views` maps each label to what
    draws it. Choosing another tab reruns the page, whose tables are cached."""
    for draw, tab in zip(views.values(), st.tabs(list(views), key=key, on_change="rerun"), strict=True):
        with tab:
            if tab.open:
                draw()


def chart_with_downloads(fig: go.Figure, table: pd.DataFrame | None, *, key: str, dataset: Dataset,
                         selection: Selection, title: str, caveats: Sequence[str] = (),
                         use_of_force: bool = False, on_select: Any = "ignore",
                         selection_mode: Any = ("points",), csv_table: pd.DataFrame | None = None) -> Any:
    """A chart with its title, selection, source and notes as page text (it wraps on a phone), a text
    alternative (its numbers in sentences), then (folded) its table and downloads: CSV now, PNG/SVG/PDF
    built only when clicked.

    `csv_table`: what the CSV holds when it is more than the table on screen (the trend's every force and
    month: ~5 MB sent to the browser for a table nobody reads on screen); the screen says so.

    Every download carries the title, the selection, the sources, the caveats and, for demo data,
    'Synthetic demo data'.
    """
    context = export_context(dataset, selection, title=title, caveats=caveats, use_of_force=use_of_force)
    foot = export.footer_lines(context, notes=export.figure_notes(fig), demo=dataset.demo)
    description = describe(fig, title=context.title)
    more_key = f"{key}_more"
    folded = not st.session_state.get(more_key)  # the downloads (built only when unfolded) need the original
    with st.container(key=f"{key}_figure", gap="small"):
        st.markdown(f"**{_md(context.title)}**")
        if context.subtitle:
            st.caption(_md(context.subtitle))
        event = st.plotly_chart(export.screen(fig, in_place=folded), key=key, on_select=on_select,
                                selection_mode=selection_mode, width="stretch", config=PLOTLY_CONFIG)
        st.caption("  \n".join(_md(line) for line in foot))
        st.caption(f"Text description: {_md(description)}")
    # folded, the table and the download buttons are not built or sent: opening the fold reruns the page
    # (its tables are cached) and shows them. Sent folded, a page's tables cost the browser ~0.3 s a chart.
    with fold("Table and downloads", key=more_key) as shown:
        if shown and folded:
            st.rerun()  # opened without the state saying so: the figure was styled in place; run again
        if shown:
            _table_and_downloads(fig, table, csv_table, key=key, context=context, title=title)
    return event


def _table_and_downloads(fig: go.Figure, table: pd.DataFrame | None, csv_table: pd.DataFrame | None, *, key: str,
                         context: export.ExportContext, title: str) -> None:
    if table is not None:
        st.dataframe(table, hide_index=True, width="stretch", key=f"{key}_table")
    csv = table if csv_table is None else csv_table
    if csv_table is not None:
        st.caption(f"The table shows the charted rows ({len(table):,}); the CSV holds every row of the "
                   f"table ({len(csv_table):,}), every force included.")
    slug = export.slug(title)
    cols = st.columns(4)
    if csv is not None:
        cols[0].download_button("CSV", data=_table_download(csv, context), file_name=f"{slug}.csv",
                                mime="text/csv", key=f"{key}_csv", on_click="ignore")
    for col, fmt, mime in ((cols[1], "png", "image/png"), (cols[2], "svg", "image/svg+xml"),
                           (cols[3], "pdf", "application/pdf")):
        col.download_button(fmt.upper(), data=_figure_download(fig, context, fmt), file_name=f"{slug}.{fmt}",
                            mime=mime, key=f"{key}_{fmt}", on_click="ignore")


def _md(text: str) -> str:
    """Plain text safe inside markdown (no emphasis, links or HTML from data labels)."""
    return "".join("\\" + c if c in "\\`*_[]<>#|~$" else c for c in str(text))


APP_NAME = "Stop and search disproportionality"
# Captions and other faded text are drawn at 60% opacity in Streamlit's theme: 3.9:1 on white.
# Written here at full opacity in a grey that keeps 4.5:1 on white and on the sidebar's grey (WCAG 1.4.3),
# and every focusable control gets a visible 3 px outline (WCAG 2.4.7).
ACCESSIBLE_CSS = """<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] *,
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *,
[data-testid="stWidgetLabel"] small, [data-testid="stTooltipHoverTarget"] { color: #4a4d57 !important; }
[data-testid="stCaptionContainer"], [data-testid="stMetricLabel"] { opacity: 1 !important; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible,
summary:focus-visible, [role="button"]:focus-visible, [role="tab"]:focus-visible,
[role="option"]:focus-visible, [role="slider"]:focus-visible, [role="combobox"]:focus-visible,
[tabindex]:focus-visible {
  outline: 3px solid #0b57d0 !important; outline-offset: 2px !important; box-shadow: none;
}
</style>"""


def page_setup(title: str) -> None:
    """Per page: the browser tab says which page this is (WCAG 2.4.2) and the accessible styles apply."""
    st.set_page_config(page_title=f"{title} \u00b7 {APP_NAME}")
    st.html(ACCESSIBLE_CSS)


def note(text: str) -> None:
    st.info(text, icon=":material/info:")


def link_notes(notes: Sequence[str]) -> None:
    """What a link asked for that the data do not have: said on the page, never silently replaced."""
    for line in notes:
        st.warning(markdown_text(line), icon=":material/link_off:")


def no_published_data(coverage: Coverage) -> None:
    """The empty state of a selection in which no chosen force published a month: what to fetch."""
    selection = coverage.selection
    forces = list(coverage.left_out) or list(selection.forces)
    st.info(views.no_published_data_text(forces, selection.start, selection.end, coverage.left_out),
            icon=":material/cloud_off:")


def fallback_note(key: str) -> None:
    """Say so when this page shows another value than the user's choice (which other pages keep)."""
    from app import state

    text = state.fallback_note(key)
    if text:
        st.caption(markdown_text(text))
