"""District assignment (point-in-polygon), the per-month side tables, and the district statistics.

Oracles: hand-made squares with points on both sides of (and on) a border; an independent per-polygon count
(shapely.contains_xy, one polygon at a time, no spatial index); the shrinkage estimator written out in
Marshall's (1991) closed form; Garwood and Katz through scipy directly.
"""
from __future__ import annotations

import collections
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose, assert_array_equal
from pyproj import Transformer
from scipy import stats
from scipy.stats.contingency import relative_risk

from analysis import districts as ad
from analysis.selection import Selection
from data import districts as geo
from data.store import Store
from tests.synthetic_records import records_from_counts

TO_LATLON = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def _latlon(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = TO_LATLON.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lat), np.asarray(lon)


# -------------------------------------------------------------------- hand-made polygons
X0, Y0 = 400_000.0, 300_000.0   # somewhere in the Midlands, in British National Grid metres


@pytest.fixture()
def squares() -> geo.Districts:
    # "B" left, "A" right, sharing the border x = X0 + 1000; listed out of code order on purpose
    return geo.make_districts(["B", "A"], ["Bee", "Ay"], ["f", "f"],
                              [shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
                               shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)])


def test_points_on_each_side_of_a_border_and_on_it(squares: geo.Districts) -> None:
    assert squares.codes == ("A", "B")   # sorted by code: index 0 is A
    x = np.array([X0 + 10, X0 + 999, X0 + 1001, X0 + 1990, X0 + 1000, X0 + 1000, X0 + 500])
    y = np.array([Y0 + 500, Y0 + 500, Y0 + 500, Y0 + 999, Y0 + 500, Y0 + 1000, Y0 + 1000])
    got = geo.assign_grid(x, y, within=squares)
    # left side -> B (1), right side -> A (0); on the shared border (x = X0+1000, both a mid-edge point
    # and a shared corner) the rule gives the code that sorts first: A; on B's outer edge -> B
    assert_array_equal(got, [1, 1, 0, 0, 0, 0, 1])


def test_outside_points_go_to_the_nearest_district_only_when_near(squares: geo.Districts) -> None:
    x = np.array([X0 - 300, X0 + 2000 + 999, X0 + 2000 + 1001, X0 + 1000])
    y = np.array([Y0 + 500, Y0 + 500, Y0 + 500, Y0 - 400])
    got = geo.assign_grid(x, y, within=squares)
    # 300 m west of B -> B; 999 m east of A -> A; 1,001 m east -> outside; 400 m south of the shared corner
    # (equidistant from both) -> A, the code that sorts first
    assert_array_equal(got, [1, 0, geo.OUTSIDE, 0])
    assert geo.NEAREST_METRES == 1000.0


def test_lat_long_are_projected_and_missing_coordinates_are_no_location(squares: geo.Districts) -> None:
    lat, lon = _latlon([X0 + 250, X0 + 1750], [Y0 + 250, Y0 + 750])
    got = geo.assign_points(np.append(lat, [np.nan, 52.0]), np.append(lon, [-1.5, np.nan]), within=squares)
    assert_array_equal(got, [1, 0, geo.NO_LOCATION, geo.NO_LOCATION])


def test_real_boundaries_place_known_landmarks() -> None:
    d = geo.districts()
    assert len(d.codes) == 331 and all(g.is_valid for g in d.geometries)
    # Birmingham Council House, Trafalgar Square (Westminster), Sheffield Town Hall, Cardiff Castle;
    # Edinburgh is in no England and Wales district
    lat = [52.4797, 51.5080, 53.3806, 51.4822, 55.9533]
    lon = [-1.9026, -0.1281, -1.4701, -3.1812, -3.1883]
    got = geo.assign_points(lat, lon)
    assert [d.codes[i] if i >= 0 else i for i in got] == ["E08000025", "E09000033", "E08000019", "W06000015",
                                                           geo.OUTSIDE]
    assert d.forces[got[0]] == "west-midlands" and d.forces[got[3]] == "south-wales"


# -------------------------------------------------------------------- a fixture of records
FORCE, MONTH = "west-midlands", "2024-01"


def _interior_points(codes: list[str], n: list[int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """n random points inside each listed real district (rejection sampling, in grid metres)."""
    d = geo.districts()
    xs, ys, truth = [], [], []
    for code, k in zip(codes, n, strict=True):
        poly = d.geometries[d.codes.index(code)]
        minx, miny, maxx, maxy = poly.bounds
        got = 0
        while got < k:
            px, py = rng.uniform(minx, maxx, 200), rng.uniform(miny, maxy, 200)
            inside = shapely.contains_xy(shapely.buffer(poly, -600), px, py)  # well away from any border
            take = min(k - got, int(inside.sum()))
            xs.extend(px[inside][:take])
            ys.extend(py[inside][:take])
            truth.extend([code] * take)
            got += take
    return np.array(xs), np.array(ys), truth


@pytest.fixture(scope="module")
def fixture_records() -> tuple[pd.DataFrame, list[str]]:
    """West Midlands, one month: Black and White searches in four districts, some with no location, some
    located in Warwickshire (outside the force)."""
    rng = np.random.default_rng(12)
    plan = [("E08000025", "White", 120), ("E08000025", "Black", 60), ("E08000026", "White", 40),
            ("E08000026", "Black", 9), ("E08000028", "White", 30), ("E08000031", "Black", 25),
            ("E07000222", "White", 7)]                       # Warwick: another force's district
    frames, truth = [], []
    for code, group, n in plan:
        part = records_from_counts(pd.DataFrame({"force": [FORCE], "month": [MONTH], "group": [group], "n": [n]}))
        x, y, t = _interior_points([code], [n], rng)
        part["latitude"], part["longitude"] = _latlon(x, y)
        frames.append(part)
        truth += t
    for group, n in (("White", 20), ("Black", 10)):
        frames.append(records_from_counts(pd.DataFrame({"force": [FORCE], "month": [MONTH], "group": [group],
                                                        "n": [n]})))
        truth += [""] * n
    records = pd.concat(frames, ignore_index=True)
    return records, truth


def test_independent_count_per_district(fixture_records) -> None:
    records, truth = fixture_records
    selection = Selection.build(FORCE, MONTH, MONTH)
    table = ad.district_rates(records, selection)
    # oracle 1: the districts the points were drawn in, counted with collections.Counter
    expected = collections.Counter((c, g) for c, g in zip(truth, records["self_defined_broad"].astype(str),
                                                          strict=True) if c)
    # oracle 2: one polygon at a time, shapely.contains_xy (no spatial index, no tie rule)
    d = geo.districts()
    lon, lat = records["longitude"].to_numpy(float), records["latitude"].to_numpy(float)
    to_grid = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = to_grid.transform(lon, lat)
    for code in d.codes:
        if d.forces[d.codes.index(code)] != FORCE:
            continue
        inside = shapely.contains_xy(d.geometries[d.codes.index(code)], x, y)
        for group in ("White", "Black"):
            row = table.loc[table["district"].eq(code) & table["group"].eq(group)].iloc[0]
            by_polygon = int((inside & records["self_defined_broad"].astype(str).eq(group).to_numpy()).sum())
            assert row["searches"] == expected[(code, group)] == by_polygon, (code, group)
    summary = ad.location_summary(ad.district_counts(records, selection))
    assert summary.iloc[0][["searches_of_persons", "in_districts", "outside_force", "no_location"]].tolist() == \
        [len(records), 284, 7, 30]


def test_rate_interval_spread_and_ratio_by_hand(fixture_records) -> None:
    records, _ = fixture_records
    selection = Selection.build(FORCE, MONTH, MONTH)
    table = ad.district_rates(records, selection)
    pop = geo.district_population("broad").set_index(["district", "group"])["population"]
    row = table.loc[table["district"].eq("E08000025") & table["group"].eq("Black")].iloc[0]
    n = pop[("E08000025", "Black")]
    factor = 1000 * 12 / 1          # per 1,000 a year, one month
    assert_allclose(row["rate_per_1000"], 60 / n * factor)
    assert_allclose([row["ci_low"], row["ci_high"]],
                    [stats.chi2.ppf(0.025, 120) / 2 / n * factor, stats.chi2.ppf(0.975, 122) / 2 / n * factor])
    # Black: 94 located in the force's districts, 10 with no location -> x (1 + 10/94)
    assert_allclose(row["rate_if_unlocated_spread"], row["rate_per_1000"] * (1 + 10 / 94))
    assert_allclose(row["no_location_share"], 10 / (94 + 10))
    disparity = ad.district_disparity(records, selection)
    r = disparity.loc[disparity["district"].eq("E08000025") & disparity["group"].eq("Black")].iloc[0]
    oracle = relative_risk(60, int(n), 120, int(pop[("E08000025", "White")]))
    assert_allclose(r["ratio"], oracle.relative_risk)
    assert_allclose([r["ci_low"], r["ci_high"]], list(oracle.confidence_interval(0.95)))


# -------------------------------------------------------------------- shrinkage
def test_poisson_gamma_against_the_closed_form() -> None:
    y = np.array([0.0, 5.0, 20.0, 3.0, 9.0])
    e = np.array([1.0, 2.0, 4.0, 0.5, 3.0])
    got = ad.poisson_gamma(y, e)
    # Marshall (1991), global estimator: m = sum y / sum e; s2 = sum e (r - m)^2 / sum e;
    # A = s2 - m / mean(e); estimate = m + A / (A + m / e) * (r - m)
    m = 37 / 10.5
    r = y / e
    s2 = float(np.sum(e * (r - m) ** 2) / 10.5)
    a = s2 - m / 2.1
    assert a > 0
    assert_allclose(got.prior_mean, m)
    assert_allclose(got.between_variance, a)
    assert_allclose(got.estimate, m + a / (a + m / e) * (r - m))
    # posterior Gamma(shape m^2/A + y, rate m/A + e)
    shape, rate = m * m / a + y, m / a + e
    assert_allclose(got.low, stats.gamma.ppf(0.025, shape, scale=1 / rate))
    assert_allclose(got.high, stats.gamma.ppf(0.975, shape, scale=1 / rate))


def test_poisson_gamma_without_extra_variation_pools_completely() -> None:
    # rates all exactly 2: s2 = 0 < m / mean(e), so A = 0 and every estimate is the pooled rate
    got = ad.poisson_gamma(np.array([2.0, 4.0, 6.0, 0.0]), np.array([1.0, 2.0, 3.0, np.nan]))
    assert got.between_variance == 0
    assert_allclose(got.estimate[:3], 2.0)
    assert np.isnan(got.estimate[3])


def test_too_few_districts_means_no_shrinkage() -> None:
    got = ad.poisson_gamma(np.array([3.0, 4.0]), np.array([1.0, 1.0]))
    assert np.isnan(got.estimate).all()


# -------------------------------------------------------------------- side tables in the store
def test_side_tables_are_kept_per_month_and_follow_the_checksum(store_dir: Path, fixture_records) -> None:
    records, _ = fixture_records
    store = Store(store_dir)
    store.write_month(FORCE, MONTH, records, source="test")
    path = geo.side_path(store.root, FORCE, MONTH)
    direct = geo.district_index(records)
    stored = store.read([FORCE], [MONTH])
    assert_array_equal(geo.district_index(stored, store=store), geo.district_index(stored))
    assert path.is_file()
    first = path.stat().st_mtime_ns
    assert geo.ensure_months(store) == 0                      # current: nothing recomputed
    assert path.stat().st_mtime_ns == first
    assert sorted(collections.Counter(direct).items()) == sorted(collections.Counter(
        geo.district_index(stored, store=store)).items())
    store.write_month(FORCE, MONTH, records.iloc[:50], source="test")   # new records, new checksum
    assert geo.ensure_months(store) == 1
    assert len(geo.stored_points(store, [(FORCE, MONTH)])) <= 50


def test_a_stored_month_without_coordinates_is_all_no_location(store_dir: Path) -> None:
    # regression: an empty side table (no located point in the month) made district_index fail
    store = Store(store_dir)
    records = records_from_counts(pd.DataFrame({"force": ["south-yorkshire"], "month": [MONTH], "group": ["White"],
                                                "n": [5]}))
    store.write_month("south-yorkshire", MONTH, records, source="test")
    got = geo.district_index(store.read(["south-yorkshire"], [MONTH]), store=store)
    assert_array_equal(got, [geo.NO_LOCATION] * 5)
    assert geo.side_path(store.root, "south-yorkshire", MONTH).is_file()


def test_district_rates_say_when_the_force_tables_use_another_census(fixture_records) -> None:
    if "census" not in Selection.__dataclass_fields__:
        pytest.skip("this Selection has no census choice")
    records, _ = fixture_records
    table = ad.district_rates(records, Selection.build(FORCE, MONTH, MONTH, census="2011"))
    assert set(table["census"]) == {"2021"}
    assert table["reason"].str.contains("district residents are Census 2021").all()
    plain = ad.district_rates(records, Selection.build(FORCE, MONTH, MONTH, census="2021"))
    assert not plain["reason"].str.contains("Census").any()


def test_the_force_map_draws_the_other_force_areas_pale_so_few_forces_are_seen_in_place() -> None:
    import pandas as pd

    from analysis.figures.maps import force_areas, force_map_figure

    table = pd.DataFrame({"force": ["dorset", "wiltshire"], "group": ["Black", "Black"],
                          "rate_per_1000": [30.0, 8.0], "ci_low": [25.0, 6.0], "ci_high": [35.0, 10.0],
                          "searches": [99, 25], "population": [3300, 3100], "small_n": [False, False],
                          "reason": ["", ""]})
    fig = force_map_figure(table, group="Black")
    outside = [t for t in fig.data if str(t.name).startswith("Not in this selection")]
    assert len(outside) == 1
    every = {f["id"] for f in force_areas()["features"]}
    assert set(outside[0].locations) == every - {"dorset", "wiltshire"}


def test_the_force_maps_text_description_names_each_force_once() -> None:
    import pandas as pd

    from analysis.figures.describe import describe
    from analysis.figures.maps import force_map_figure

    # Cumbria has fewer than 20 searches: its small-number marker layer repeats its hover text
    table = pd.DataFrame({"force": ["dorset", "cumbria"], "group": ["Black", "Black"],
                          "rate_per_1000": [30.0, 14.0], "ci_low": [25.0, 8.0], "ci_high": [35.0, 22.0],
                          "searches": [99, 17], "population": [3300, 1200], "small_n": [False, True],
                          "reason": ["", ""]})
    text = describe(force_map_figure(table, group="Black"))
    assert text.count("Cumbria Constabulary") == 1 and text.count("Dorset Police") == 1


def test_the_map_window_holds_the_chosen_areas_in_the_charts_shape() -> None:
    from analysis.figures.maps import force_areas, window

    areas = force_areas()
    durham = next(f for f in areas["features"] if f["id"] == "durham")
    west, south, east, north = shapely.total_bounds(shapely.from_geojson(json.dumps(durham["geometry"])))
    shown = window(areas, ["durham"], aspect=1.25)
    assert shown["lon"][0] < west < east < shown["lon"][1] and shown["lat"][0] < south < north < shown["lat"][1]

    # hand calculation: on a Mercator map x is longitude in radians and y = ln(tan(pi/4 + lat/2)); the
    # window's width over height there is the chart's shape
    def y(lat: float) -> float:
        return np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))

    width = np.radians(shown["lon"][1] - shown["lon"][0])
    height = y(shown["lat"][1]) - y(shown["lat"][0])
    assert width / height == pytest.approx(1.25)
    # no area chosen: all of England and Wales
    every = window(areas, [])
    assert every["lon"][0] < -5.0 and every["lon"][1] > 1.7 and every["lat"][0] < 50.0 and every["lat"][1] > 55.7
