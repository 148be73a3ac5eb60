"""Assigning one national year (~600,000 located searches) to local authority districts, and the district tables.

Synthetic but shaped like data.police.uk: ~150,000 distinct snap points placed inside districts in proportion
to residents, searches drawn from them with a skew (many searches share a point), ~9% with no location, each
search belonging to the force whose area holds its point; coordinates rounded to 6 decimals as published.
Timings: every point tested (no de-duplication), each distinct point tested once, and the store path (side
tables computed for 516 stored force-months, then reused).
"""
from __future__ import annotations

import tempfile
import time

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from analysis import districts as ad
from analysis.selection import Selection, select
from data import districts as geo
from data.months import month_range
from data.store import Store
from tests.synthetic_records import records_from_counts

START, END = "2023-04", "2024-03"
LOCATED = 600_000
SNAP_POINTS = 150_000


def snap_points(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(latitude, longitude, district index) of distinct points inside districts, by residents."""
    d = geo.districts()
    residents = geo.district_population("total").set_index("district")["population"].reindex(list(d.codes))
    per = np.maximum(1, np.round(residents.to_numpy(float) / residents.sum() * SNAP_POINTS)).astype(int)
    xs, ys, owner = [], [], []
    for i, (poly, k) in enumerate(zip(d.geometries, per, strict=True)):
        minx, miny, maxx, maxy = poly.bounds
        got = 0
        while got < k:
            px, py = rng.uniform(minx, maxx, 4 * k), rng.uniform(miny, maxy, 4 * k)
            inside = shapely.contains_xy(poly, px, py)
            take = min(k - got, int(inside.sum()))
            xs.append(px[inside][:take])
            ys.append(py[inside][:take])
            owner.append(np.full(take, i))
            got += take
    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(
        np.concatenate(xs), np.concatenate(ys))
    return np.round(lat, 6), np.round(lon, 6), np.concatenate(owner)


def national_year(seed: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lat, lon, owner = snap_points(rng)
    d = geo.districts()
    total = int(LOCATED / 0.91)
    pick = (len(lat) * rng.random(total) ** 1.8).astype(int)          # skewed: hotspots repeat
    forces = np.asarray(d.forces, dtype=object)[owner[pick]]
    months = np.asarray(month_range(START, END), dtype=object)[rng.integers(0, 12, total)]
    groups = rng.choice(["White", "Black", "Asian", "Mixed", "Other", "Not stated"], total,
                        p=[0.6, 0.12, 0.1, 0.04, 0.03, 0.11])
    counts = (pd.DataFrame({"force": forces, "month": months, "group": groups, "point": pick})
              .groupby(["force", "month", "group", "point"]).size().rename("n").reset_index())
    records = records_from_counts(counts[["force", "month", "group", "n"]])
    point = np.repeat(counts["point"].to_numpy(), counts["n"].to_numpy())
    records["latitude"], records["longitude"] = lat[point], lon[point]
    missing = rng.random(len(records)) < 0.09
    records.loc[missing, ["latitude", "longitude"]] = np.nan
    return records


def timed(fn):  # noqa: ANN001, ANN201
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    records, seconds = timed(national_year)
    located = int(records["latitude"].notna().sum())
    distinct = int(pd.Series(records["latitude"] + 1j * records["longitude"]).dropna().nunique())
    print(f"   synthetic year: {len(records):,} searches, {located:,} located, {distinct:,} distinct points "
          f"({seconds:.1f} s to build)")
    geo.districts()
    lat, lon = records["latitude"].to_numpy(), records["longitude"].to_numpy()
    _, seconds = timed(lambda: geo.assign_points(lat, lon))
    print(f"   assign_points, every located search tested: {seconds:.2f} s")
    direct, seconds = timed(lambda: geo.district_index(records))
    print(f"   district_index, each distinct point tested once: {seconds:.2f} s")
    selection = Selection.build("all", START, END)
    chosen = select(records, selection)
    counts, seconds = timed(lambda: ad.district_counts(chosen, selection, district=direct[chosen.index]))
    print(f"   district_counts (43 forces x 331 districts): {seconds:.2f} s")
    _, seconds = timed(lambda: ad.rates_from_district_counts(counts))
    print(f"   district rates table (intervals, shrinkage, funnel): {seconds:.2f} s")
    with tempfile.TemporaryDirectory() as root:
        store = Store(root)
        t0 = time.perf_counter()
        with store.batch():
            for (force, month), part in records.groupby(["force", "month"], observed=True, sort=False):
                store.write_month(str(force), str(month), part.loc[:, list(part.columns[:20])], source="bench")
        print(f"   (store of {len(store.manifest())} force-months written in {time.perf_counter() - t0:.1f} s)")
        stored = store.read()
        n, seconds = timed(lambda: geo.ensure_months(store))
        print(f"   side tables computed for {n} force-months (first use): {seconds:.2f} s")
        kept, seconds = timed(lambda: geo.district_index(stored, store=store))
        print(f"   district_index from the kept side tables: {seconds:.2f} s")
        same = np.array_equal(np.sort(kept), np.sort(direct))
        print(f"   same assignment as the direct path: {same}")


if __name__ == "__main__":
    main()
