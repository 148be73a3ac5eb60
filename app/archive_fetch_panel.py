"""Get data, the long view: every force from 2015 to now, older months from data.police.uk's archive zips.

A plan comes first (which zips, how many bytes of how many, about how long: read from the archive's
index and the zips' directories), then the fetch itself with a progress bar. Everything goes through
data.fetch.fetch with data.archive_fetch.ArchiveOptions, exactly as `python -m data fetch` does.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from app import dataset as dataset_module
from app.safe_text import markdown_text
from data import reference_data
from data.api import PoliceApiClient
from data.archive_fetch import ArchiveOptions, estimate, plan_for
from data.archive_plan import archive_url
from data.errors import StopSearchDataError
from data.fetch import fetch
from data.months import add_months, month_range
from data.store import Store

PLAN = "_archive_plan"
RESULT = "_getdata_result"  # the Get data page shows the last result from here (app.pages.getdata.RESULT)
FIRST = "2015-01"


@dataclass(frozen=True)
class _Shown:
    first: str
    last: str
    forces: tuple[str, ...]
    zips: list[str]
    members: int
    member_bytes: int
    zip_bytes: int
    seconds: float
    stored: int


def render(*, forces: str | list[str] = "all", first: str = FIRST, last: str | None = None) -> None:
    """The panel (arguments only for tests: the page shows every force from 2015 to last month)."""
    today = dt.date.today()
    last = last or add_months(f"{today.year:04d}-{today.month:02d}", -1)
    ids = tuple(reference_data.resolve_forces(forces))
    st.subheader(f"All forces, {first[:4]} to now")
    st.markdown(f"Months the API no longer serves come from the monthly archive zips at `{archive_url()}`: "
                "only their stop-and-search files are read (a few MB of each 1-2 GB zip). Plan first to "
                "see how much would be fetched and roughly how long it takes; months already stored are "
                "skipped, and a stopped fetch resumes where it left off.")
    if st.button("Plan the download", key="archive_plan_go"):
        _plan(ids, first, last)
    shown: _Shown | None = st.session_state.get(PLAN)
    if shown is None or (shown.first, shown.last, shown.forces) != (first, last, ids):
        return
    months = month_range(first, last)
    total = len(ids) * len(months)
    from_api = len(ids) * sum(m > add_months(last, -36) for m in months)  # the API serves ~36 months
    st.info(f"**Plan:** {len(ids)} forces x {len(months)} months ({first} to {last}) = {total:,} force-months; "
            f"{shown.stored:,} already stored. From the archive: {len(shown.zips)} zips "
            f"({', '.join(shown.zips) or 'none'}), {shown.members:,} stop-and-search files, about "
            f"{shown.member_bytes / 1e6:,.0f} MB of the zips' {shown.zip_bytes / 1e9:,.1f} GB; the newest months "
            f"from the API. Estimated time: about {_minutes(shown.seconds + from_api / 15)} (requests are limited "
            "to 15 a second).")
    if st.button("Start the download", key="archive_fetch_go", type="primary"):
        _fetch(ids, months)


def _plan(ids: tuple[str, ...], first: str, last: str) -> None:
    months = month_range(first, last)
    try:
        with st.spinner("Reading the archive index and the zips' directories..."):
            options = ArchiveOptions()
            _, chosen = plan_for(months, options=options)
            figures = estimate(chosen, list(ids), options=options)
    except StopSearchDataError as exc:
        st.error(f"The archive could not be planned: {markdown_text(exc)}")
        return
    stored = sum(1 for e in Store().entries()
                 if e.status in ("ok", "empty") and e.force in ids and first <= e.month <= last)
    st.session_state[PLAN] = _Shown(first=first, last=last, forces=ids, zips=[c.month for c in chosen.choices],
                                    members=figures.members, member_bytes=figures.member_bytes,
                                    zip_bytes=figures.zip_bytes, seconds=figures.seconds, stored=stored)


def _fetch(ids: tuple[str, ...], months: list[str]) -> None:
    bar = st.progress(0.0, text="Starting...")

    def progress(done: int, total: int, force: str, month: str) -> None:
        bar.progress(done / max(total, 1), text=f"{done:,} of {total:,}: {reference_data.force_name(force)} {month}")

    try:
        with PoliceApiClient(max_attempts=3, timeout=30.0) as client:
            summary = fetch(Store(), list(ids), months, client=client, archive=ArchiveOptions(max_attempts=3),
                            progress=progress)
    except StopSearchDataError as exc:
        bar.empty()
        st.error(f"The download stopped ({markdown_text(exc)}); what was stored so far is kept. Start it again to resume.")
        return
    bar.empty()
    st.session_state[RESULT] = ("Download finished", summary.lines(), bool(summary.failed))
    st.session_state.pop(PLAN, None)
    dataset_module.forget()
    st.rerun()


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:,.0f} minutes" if seconds >= 90 else "a minute or less"
