"""The report's 'districts' section: single-force reports only, with the district-rates CSV, map and funnel.

Fixture store: West Midlands 2024-01 with located searches in two of its districts (Birmingham, Coventry) and
some Black searches with no location; South Yorkshire 2024-01 with no coordinates at all (as its recent months
on data.police.uk); City of London 2024-01 with located searches (too few residents for a rate). Oracles: analysis.districts.district_rates on the same records and selection (the CSV must
equal it), and the counts placed in each district by hand with rates and Garwood intervals from scipy.
HTML and CSV only (no browser needed).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose
from scipy import stats

from analysis import districts as ad
from analysis.export import read_table_csv
from analysis.figures.base import EMPTY_TOPOLOGY_URL
from analysis.report import SECTION_KEYS, build_report
from analysis.selection import Selection, select
from data import districts as geo
from data.store import Store
from tests.synthetic_records import records_from_counts
from tests.test_districts import _interior_points, _latlon

PROJECT = Path(__file__).resolve().parents[1]
MONTH = "2024-01"
WM, SY, COL = "west-midlands", "south-yorkshire", "city-of-london"
BIRMINGHAM, COVENTRY = "E08000025", "E08000026"
PLACED = {(BIRMINGHAM, "White"): 80, (BIRMINGHAM, "Black"): 40, (COVENTRY, "White"): 30, (COVENTRY, "Black"): 12}
UNLOCATED_BLACK = 6


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    rng = np.random.default_rng(12)
    s = Store(tmp_path_factory.mktemp("store"))
    frames = []
    for (code, group), n in PLACED.items():
        part = records_from_counts(pd.DataFrame({"force": [WM], "month": [MONTH], "group": [group], "n": [n]}))
        x, y, _ = _interior_points([code], [n], rng)
        part["latitude"], part["longitude"] = _latlon(x, y)
        frames.append(part)
    frames.append(records_from_counts(pd.DataFrame({"force": [WM], "month": [MONTH], "group": ["Black"],
                                                    "n": [UNLOCATED_BLACK]})))
    s.write_month(WM, MONTH, pd.concat(frames, ignore_index=True), source="test")
    south = records_from_counts(pd.DataFrame({"force": [SY] * 2, "month": [MONTH] * 2, "group": ["White", "Black"],
                                              "n": [50, 20]}))
    s.write_month(SY, MONTH, south, source="test")
    # City of London: located searches, all at one snap point inside its one district
    city = records_from_counts(pd.DataFrame({"force": [COL], "month": [MONTH], "group": ["White"], "n": [30]}))
    point = shapely.point_on_surface(geo.districts().geometries[geo.districts().codes.index("E09000001")])
    city["latitude"], city["longitude"] = (np.full(30, v) for v in _latlon(np.array([point.x]), np.array([point.y])))
    s.write_month(COL, MONTH, city, source="test")
    return s


@pytest.fixture(scope="module")
def written(store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m analysis report --each-force` for both forces, districts section only, HTML and CSV
    (run once for the module: the reports are only read)."""
    out = tmp_path_factory.mktemp("reports") / "out"
    env = {**os.environ, "STOPSEARCH_DATA_DIR": str(store.root), "PYTHONPATH": str(PROJECT)}
    done = subprocess.run([sys.executable, "-m", "analysis", "report", "--forces", f"{WM},{SY},{COL}", "--each-force",
                           "--from", MONTH, "--to", MONTH, "--out", str(out), "--formats", "html,csv",
                           "--sections", "districts"], capture_output=True, text=True, timeout=300, cwd=PROJECT,
                          env=env)
    assert done.returncode == 0, done.stderr
    assert "3 of 3 report(s) written" in done.stdout
    return out


def test_districts_is_a_report_section() -> None:
    assert "districts" in SECTION_KEYS


def test_single_force_report_has_the_district_csv_equal_to_the_district_table(store: Store, written: Path) -> None:
    got = read_table_csv((written / WM / "tables" / "districts.csv").read_bytes())
    # oracle: analysis.districts on the same records and selection, through a plain CSV round trip
    selection = Selection.build(WM, MONTH, MONTH)
    records = store.read(forces=[WM], months=[MONTH])
    oracle = ad.district_rates(select(records, selection), selection)
    expected = pd.read_csv(pd.io.common.StringIO(oracle.to_csv(index=False)))
    assert list(got.columns[:18]) == ["force", "district", "district_name", "group", "searches", "population",
                                      "rate_per_1000", "ci_low", "ci_high", "shrunk_rate_per_1000",
                                      "shrunk_ci_low", "shrunk_ci_high", "no_location_share",
                                      "rate_if_unlocated_spread", "funnel_flag", "small_n", "flags", "reason"]
    pd.testing.assert_frame_equal(got[list(expected.columns)], expected)

    # independent oracle: the searches placed in each district by the fixture; residents straight from the
    # Census CSV; rate per 1,000 a year over one month; Garwood interval chi2.ppf(a/2, 2y)/2,
    # chi2.ppf(1-a/2, 2y+2)/2 (Garwood 1936) from scipy
    census = pd.read_csv(geo.POPULATION, keep_default_na=False)
    for (code, group), n in PLACED.items():
        row = got.loc[got["district"].eq(code) & got["group"].eq(group)].iloc[0]
        pop = census.loc[census["level"].eq("broad") & census["district"].eq(code) & census["group"].eq(group),
                         "population"].sum()
        assert row["searches"] == n and row["population"] == pop
        exposure = pop / 12 / 1000
        assert_allclose([row["rate_per_1000"], row["ci_low"], row["ci_high"]],
                        [n / exposure, stats.chi2.ppf(0.025, 2 * n) / 2 / exposure,
                         stats.chi2.ppf(0.975, 2 * n + 2) / 2 / exposure], rtol=1e-9)
    black = got.loc[got["group"].eq("Black")]
    located_black = PLACED[(BIRMINGHAM, "Black")] + PLACED[(COVENTRY, "Black")]
    assert_allclose(black["no_location_share"], UNLOCATED_BLACK / (located_black + UNLOCATED_BLACK))
    # districts of the force without any search are rows of zero searches, not missing
    assert got["district"].nunique() == len(geo.districts().of_force(WM))


def test_single_force_html_holds_the_section_map_funnel_and_caveats(written: Path) -> None:
    page = (written / WM / "report.html").read_text(encoding="utf-8")
    assert "id='section-districts'" in page and "Where inside the force" in page
    assert "chart-districts" in page and '"kind":"district_report"' in page.replace(" ", "")
    assert '"type":"choropleth"' in page.replace(" ", "") and "99.8% limits" in page  # the map, the funnel
    # the map's plotly fetches no world topojson from the internet: it is pointed at an empty one in place
    assert f'"topojsonURL":"{EMPTY_TOPOLOGY_URL}"' in page.replace(": ", ":")
    for caveat in ("Residents are not the population at risk", "anonymised snap points",
                   "generalised (about 500 m)"):
        assert caveat in page
    assert "districts.csv" in page
    assert "id='missing'" not in page


def test_force_without_coordinates_says_why_there_is_no_district_section(written: Path) -> None:
    page = (written / SY / "report.html").read_text(encoding="utf-8")
    assert "id='section-districts'" not in page and not (written / SY / "tables" / "districts.csv").exists()
    missing = page[page.index("id='missing'"):]
    missing = missing[:missing.index("</section>")]
    assert missing.count("<li>") == 1
    assert "none of South Yorkshire Police&#x27;s 70 searches of persons" in missing
    assert "70 have no location at all" in missing


def test_city_of_london_gets_no_rate_per_resident_by_district(written: Path) -> None:
    # as analysis.rates, which gives City of London (about 8,600 residents) no force rate
    page = (written / COL / "report.html").read_text(encoding="utf-8")
    assert "id='section-districts'" not in page and not (written / COL / "tables" / "districts.csv").exists()
    assert "City of London Police has only 8,584 residents (under 50,000)" in page


def test_pooled_report_says_why_there_is_no_district_section(store: Store) -> None:
    selection = Selection.build(f"{WM},{SY}", MONTH, MONTH)
    records = store.read(forces=[WM, SY], months=[MONTH])
    report = build_report(records, store.manifest(), selection, demo=False, sections=("districts",))
    assert [s.key for s in report.sections] == []
    assert len(report.missing) == 1
    assert "single force's report; this report pools 2 forces" in report.missing[0]
    assert "--each-force" in report.missing[0]
    page = report.html()
    assert "this report pools 2 forces" in page and "id='section-districts'" not in page
