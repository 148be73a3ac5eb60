"""The Disparity trend's table on screen holds the charted rows; the CSV keeps every force's rows. Before,
every force, month and group went to the browser: ~5 MB at 44 forces and ten years (benchmarks/cold_start
showed a 4.9 MB message) for a folded table. Oracle: analysis.trend.trend's table for the same selection."""
from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.store_fixtures import build_fixture_store

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trend-table")
    return build_fixture_store(root / "store", root / "csv")


def test_the_trend_table_on_screen_is_the_charted_unit(fixture_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOPSEARCH_DATA_DIR", str(fixture_store))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=180)
    at.query_params["page"] = "disparity"
    at.query_params["forces"] = "gloucestershire"
    at.session_state["disparity_view"] = "Trend"  # the user picks the Trend tab
    at.run()
    assert not [d for d in at.dataframe if "rolling_rate" in d.value.columns]  # folded: not built, not sent
    at.session_state["disparity_trend_more"] = True  # the user opens "Table and downloads"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [d.value for d in at.dataframe if "rolling_rate" in d.value.columns]  # AppTest keeps no keys
    assert shown, "no trend table on the Disparity page"
    assert set(shown[0]["force"].astype(str)) == {"gloucestershire"}  # one force: its rows are the chart's

    at.query_params["forces"] = "gloucestershire,durham"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [d.value for d in at.dataframe if "rolling_rate" in d.value.columns][0]
    assert set(shown["force"].astype(str)) == {"ALL"}  # the pooled unit is charted
    # the CSV's row count (every force and the pooled unit) is named beside it
    from analysis.selection import Selection
    from analysis.trend import trend
    from data.store import Store

    store = Store(fixture_store)
    months = sorted(store.manifest()["month"].unique())
    everything = trend(store.read(), Selection(forces=("durham", "gloucestershire"), start=months[0],
                                                end=months[-1]))
    assert len(shown) == int((everything["force"] == "ALL").sum())
    captions = " ".join(c.value for c in at.caption)
    assert f"the CSV holds every row of the table ({len(everything):,})" in captions
    st.cache_data.clear()
    st.cache_resource.clear()
