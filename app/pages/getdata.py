"""Get data: fetch chosen forces and months from data.police.uk, or import downloaded files, into the store.

Everything goes through the data layer (data.fetch.fetch, data.archive.import_paths), exactly as the
command line does, and ends with the same summary lines.
"""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import streamlit as st

from analysis import views
from analysis.selection import Selection
from app import archive_fetch_panel
from app import dataset as dataset_module
from app.dataset import Dataset
from app.safe_text import markdown_lines, markdown_text
from data import archive, reference_data
from data.api import PoliceApiClient, api_url
from data.errors import SourceUnavailable, StopSearchDataError
from data.fetch import fetch
from data.store import Store
from data.use_of_force.commands import import_path as import_use_of_force

RESULT = "_getdata_result"
EXPLAINER = """
Fetch stop-and-search records straight from **data.police.uk** (about the last three years are served),
or import files you downloaded from data.police.uk (monthly archive zips, custom-download zips, or
`YYYY-MM-<force>-stop-and-search.csv` files) and Home Office use-of-force tables. Everything is kept in
the local store; a month already stored is not fetched again. As soon as the store holds data the
dashboard shows only stored records, never mixed with the demo data.
"""


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Get data")
    st.markdown(EXPLAINER)
    store = Store()
    st.caption(f"Store: `{store.root}`. API: `{api_url()}`.")
    st.markdown(f"**In the store now:** {views.store_summary(store.manifest())}")
    _last_result()

    st.subheader("Fetch from data.police.uk")
    ids = reference_data.resolve_forces("all")
    months = views.recent_months(dt.date.today(), count=36)
    with st.form("fetch_form", border=True):
        forces = st.multiselect("Forces", ids, format_func=reference_data.force_name, key="fetch_forces",
                                placeholder="Choose forces (or tick 'every force')")
        every = st.checkbox("Every force in England and Wales (and British Transport Police)", key="fetch_all")
        left, right = st.columns(2)
        start = left.selectbox("From", months, index=max(0, len(months) - 12), key="fetch_start")
        end = right.selectbox("To", months, index=len(months) - 1, key="fetch_end")
        refresh = st.checkbox("Fetch again months already stored", key="fetch_refresh")
        go = st.form_submit_button("Fetch", type="primary", key="fetch_go")
    if go:
        _fetch(ids if every else forces, start, end, refresh=refresh)

    archive_fetch_panel.render()  # all forces, 2015 to now (archive zips), planned first

    st.subheader("Import downloaded files")
    uploads = st.file_uploader("Zip or CSV files from data.police.uk, or Home Office use-of-force tables",
                               type=["zip", "csv", "ods", "xlsx"], accept_multiple_files=True,
                               key="import_files")
    allow_empty = st.checkbox("Allow empty months: a file with no records replaces a month stored with records",
                              key="import_allow_empty")
    if st.button("Import", key="import_go", disabled=not uploads):
        _import(uploads or [], allow_empty=allow_empty)


def _fetch(forces: list[str], start: str, end: str, *, refresh: bool) -> None:
    if not forces:
        st.warning("Choose at least one force, or tick 'every force'.")
        return
    try:
        wanted = views.month_span(start, end)
    except StopSearchDataError as exc:
        st.error(markdown_text(exc))
        return
    bar = st.progress(0.0, text=f"Asking data.police.uk which of {len(forces) * len(wanted)} force-months exist...")

    def progress(done: int, total: int, force: str, month: str) -> None:
        bar.progress(done / max(total, 1), text=f"{done} of {total}: {reference_data.force_name(force)} {month}")

    try:
        with PoliceApiClient(max_attempts=3, timeout=20.0) as client:
            summary = fetch(Store(), forces, wanted, client=client, refresh=refresh, progress=progress)
    except SourceUnavailable as exc:
        bar.empty()
        st.error(f"data.police.uk could not be reached ({markdown_text(exc.message)}); nothing was changed and "
                 "the data you already have is kept.")
        return
    bar.empty()
    _finish("Fetch finished", summary.lines(), failed=bool(summary.failed))


def _import(uploads: list, *, allow_empty: bool = False) -> None:
    with tempfile.TemporaryDirectory(prefix="stopsearch-upload-") as folder, st.spinner("Importing..."):
        paths = []
        for upload in uploads:
            path = Path(folder) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            paths.append(path)
        try:
            summary = archive.import_paths(Store(), paths, other=import_use_of_force, allow_empty=allow_empty)
        except StopSearchDataError as error:
            # name the uploaded file, never the server's temporary folder
            _finish("Import failed", [views.without_folder(str(error), folder)], failed=True)
            return
        lines = [views.without_folder(line, folder) for line in views.import_summary_lines(summary)]
    _finish("Import finished", lines, failed=not summary.ok)


def _finish(title: str, lines: list[str], *, failed: bool) -> None:
    """Keep the summary for the next run, forget cached data, and rerun so every page shows the store."""
    st.session_state[RESULT] = (title, lines, failed)
    dataset_module.forget()
    st.rerun()


def _last_result() -> None:
    result = st.session_state.get(RESULT)
    if not result:
        return
    title, lines, failed = result
    show = st.warning if failed else st.success
    # the lines quote file names, file content and API replies: untrusted, shown as text (never Markdown)
    show(f"**{title}.** " + markdown_lines(lines))
