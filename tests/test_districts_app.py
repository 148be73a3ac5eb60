"""The Map page through AppTest on a fixture store: force choropleth, district view, and the empty state.

Fixture: West Midlands 2024-01 with located searches in four districts; South Yorkshire 2024-01 with no
coordinates at all (as its recent months on data.police.uk). Oracle: analysis.districts on the same records.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analysis import districts as ad
from analysis.selection import Selection
from data.store import Store
from tests.synthetic_records import records_from_counts
from tests.test_districts import _interior_points, _latlon

PROJECT = Path(__file__).resolve().parents[1]
MONTH = "2024-01"


@pytest.fixture()
def store(store_dir: Path) -> Store:
    st.cache_data.clear()
    rng = np.random.default_rng(3)
    s = Store(store_dir)
    frames = []
    for code, group, n in (("E08000025", "White", 80), ("E08000025", "Black", 40), ("E08000026", "White", 30),
                           ("E08000030", "Black", 12), ("E08000031", "White", 25)):
        part = records_from_counts(pd.DataFrame({"force": ["west-midlands"], "month": [MONTH], "group": [group],
                                                 "n": [n]}))
        x, y, _ = _interior_points([code], [n], rng)
        part["latitude"], part["longitude"] = _latlon(x, y)
        frames.append(part)
    s.write_month("west-midlands", MONTH, pd.concat(frames, ignore_index=True), source="test")
    south = records_from_counts(pd.DataFrame({"force": ["south-yorkshire"] * 2, "month": [MONTH] * 2,
                                              "group": ["White", "Black"], "n": [50, 20]}))
    s.write_month("south-yorkshire", MONTH, south, source="test")
    yield s
    st.cache_data.clear()


def _open(force: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=180)
    for key, value in {"page": "map", "forces": force, "start": MONTH, "end": MONTH}.items():
        at.query_params[key] = value
    return at.run()


def _kinds(at: AppTest) -> dict[str, dict]:
    out = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        out[spec["layout"].get("meta", {}).get("kind")] = spec
    return out


def test_district_view_for_a_force_with_located_searches(store: Store) -> None:
    at = _open("west-midlands")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    kinds = _kinds(at)
    assert {"force_map", "district_map", "district_funnel"} <= set(kinds)
    assert kinds["district_map"]["layout"]["meta"]["force"] == "west-midlands"
    # the table on the page has the library's numbers for the group shown (Black)
    expected = ad.district_rates(store.read(["west-midlands"], [MONTH]),
                                 Selection.build("west-midlands", MONTH, MONTH))
    expected = expected.loc[expected["group"].eq("Black")].set_index("district_name")["searches"]
    tables = [d.value for d in at.dataframe if list(d.value.columns[:2]) == ["district_name", "group"]]
    assert len(tables) == 1
    shown = tables[0].set_index("district_name")["searches"]
    pd.testing.assert_series_equal(shown.sort_index(), expected.sort_index(), check_dtype=False)
    texts = " ".join(str(c.value) for c in at.caption) + " ".join(str(m.value) for m in at.markdown)
    assert "Shrunk rate" in texts
    assert (store.root / "districts" / "west-midlands" / f"{MONTH}.parquet").is_file()   # kept in the store


def test_force_without_coordinates_gets_an_explained_empty_state(store: Store) -> None:
    at = _open("south-yorkshire")
    assert not at.exception, [e.value for e in at.exception]
    kinds = _kinds(at)
    assert "district_map" not in kinds and "force_map" in kinds   # never an empty map
    warnings = " ".join(w.value for w in at.warning)
    assert "No district figures for South Yorkshire Police" in warnings
    assert "without coordinates" in warnings


def test_choosing_a_force_drills_into_its_districts(store: Store) -> None:
    at = _open("west-midlands,south-yorkshire")
    assert "district_map" not in _kinds(at)
    at.selectbox(key="map_drill").select("west-midlands").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "district_map" in _kinds(at)


def test_the_points_map_is_drawn_only_when_asked(store: Store) -> None:
    """Up to 20,000 points cost seconds on the server and in the browser: the page draws them on request."""
    at = _open("west-midlands")
    assert not at.exception, [e.value for e in at.exception]
    assert "map" not in _kinds(at)
    at.toggle(key="map_show_points").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    points = _kinds(at)["map"]
    assert points["layout"]["meta"]["points"] == 187  # every located search of the fixture (80+40+30+12+25)
