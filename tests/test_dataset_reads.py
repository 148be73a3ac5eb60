"""No page reads the whole store: each reads its selection's force-months (counted records where counts will
do), so ten national years cost a page what one year does. The numbers on screen are checked against
the analysis functions in tests/test_dashboard_real_store.py; here, what was read."""
from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data import store_read
from tests.store_fixtures import build_fixture_store

PROJECT = Path(__file__).resolve().parents[1]
PAGES = ("overview", "disparity", "long-view", "outcomes", "compare", "map", "quality", "use-of-force")


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reads-store")
    return build_fixture_store(root / "store", root / "csv")


@pytest.fixture()
def reads(fixture_store: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    monkeypatch.setenv("STOPSEARCH_DATA_DIR", str(fixture_store))
    st.cache_data.clear()
    st.cache_resource.clear()
    calls: list[tuple] = []
    real = store_read.read_raw

    def spy(store, forces, months, *, columns=None):
        calls.append((None if forces is None else tuple(forces), None if months is None else tuple(months),
                      None if columns is None else tuple(columns)))
        return real(store, forces, months, columns=columns)

    monkeypatch.setattr(store_read, "read_raw", spy)
    real_counts = store_read.read_counts

    def counts_spy(store, forces, months):
        calls.append((None if forces is None else tuple(forces), None if months is None else tuple(months),
                      ("counted",)))
        return real_counts(store, forces, months)

    monkeypatch.setattr(store_read, "read_counts", counts_spy)
    yield calls
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.mark.parametrize("page", PAGES)
def test_a_page_reads_only_its_selection(reads: list[tuple], page: str) -> None:
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=180)
    at.query_params["page"] = page
    if page == "quality":
        at.session_state["quality_view"] = "Missing fields"  # the tab that reads records
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # the fixture store holds 2019-01..2020-02: the default period is its latest 12 months
    for forces, months, columns in reads:
        if columns == ("counted",):
            continue  # counted records (~15 records a row) may be read for the whole store, once
        whole = forces is None and months is None
        assert not (whole and columns is None), f"{page} read every column of the whole store"
        if whole:  # only the label counts' fallback may read everything, and then only the label columns
            assert set(columns) <= set(store_read.read_copy.LABEL_COLUMNS)
    if page in ("overview", "outcomes", "compare", "quality"):
        assert reads, f"{page} read no records"
        records = [c for c in reads if c[2] != ("counted",)]
        assert all(months is not None and len(months) <= 12 for _, months, _ in records), reads


def test_the_long_view_reads_only_counted_records(reads: list[tuple]) -> None:
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=180)
    at.query_params["page"] = "long-view"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert ("counted",) in [columns for _, _, columns in reads], reads
    records = [c for c in reads if c[2] != ("counted",)]
    assert all(months is not None and len(months) <= 12 for _, months, _ in records), records  # only the period


@pytest.mark.parametrize("page", ("disparity", "outcomes", "quality"))
def test_a_page_reads_only_the_columns_its_tables_read(reads: list[tuple], page: str) -> None:
    # reading every column of a national year takes ~1 s, the search mix's eight ~0.15 s (analysis.columns_read)
    from analysis.columns_read import COLUMNS_READ
    from analysis.selection import Selection

    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=180)
    at.query_params["page"] = page
    if page == "disparity":
        at.session_state["disparity_view"] = "Search mix"  # the tab that reads records
    if page == "quality":
        at.session_state["quality_view"] = "Missing fields"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    default = Selection(forces=("durham",), start="2019-03", end="2020-02")  # self-defined, broad: the default
    named = [{"force", "month", *columns(default)} for columns in COLUMNS_READ.values()]
    records = [columns for _, _, columns in reads if columns != ("counted",)]
    assert records, f"{page} read no records"
    for columns in records:
        assert columns is not None and any(set(columns) <= allowed for allowed in named), (page, columns)
