"""Which local authority district (LAD22) each located search is in, by point-in-polygon, kept per stored month.

Method. data.police.uk latitude/longitude (WGS84, EPSG:4326) are projected to British National Grid
(EPSG:27700) with pyproj, then tested against the project's generalised district boundaries
(data/reference/lad22_boundaries.geojson, ~500 m ONS generalisation simplified at 100 m) with a shapely 2
STRtree, vectorised. Rules, in order:

1. no latitude or longitude -> no location (`NO_LOCATION`), counted apart, never guessed;
2. inside or on the edge of one or more districts -> that district; a point exactly on a shared border
   (it touches both) goes to the district whose LAD22 code sorts first, so every point has one answer;
3. outside every district (generalised coastlines cut off piers, harbours and some snap points) but within
   `NEAREST_METRES` of one -> the nearest district (equal distances: the code that sorts first);
4. otherwise -> `OUTSIDE` (e.g. a point in Scotland or at sea): located, but in no England and Wales district.

Assignment depends on the point alone, so it is computed once per distinct point and, for stored data, once
per stored month: `<store root>/districts/<force>/<YYYY-MM>.parquet` holds that month's distinct points and
their district, with the month file's checksum (from the manifest) in its metadata; a month re-fetched with
other records gets a new checksum and is recomputed. These side files are written atomically (temporary file,
os.replace) and may be deleted at will. The store's own files are never touched.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import Transformer

from data.atomic import atomic_write_parquet
from data.errors import StoreError
from data.reference_data import REFERENCE_DIR

log = logging.getLogger(__name__)

BOUNDARIES = REFERENCE_DIR / "lad22_boundaries.geojson"
FORCE_BOUNDARIES = REFERENCE_DIR / "pfa_boundaries.geojson"
POPULATION = REFERENCE_DIR / "census2021_lad_population.csv"
NEAREST_METRES = 1000.0
NO_LOCATION = -1   # district index of a search with no latitude/longitude
OUTSIDE = -2       # located, but in (or near) no England and Wales district
# Bump when the boundaries or the rules change: side files of another version are recomputed.
VERSION = b"lad22-buc-100m-nearest1000-v1"
_META_CHECKSUM, _META_VERSION = b"month_checksum", b"district_rules"


@dataclass(frozen=True)
class Districts:
    """The district polygons (British National Grid) in LAD22 code order, and a spatial index of them."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    forces: tuple[str, ...]          # data.police.uk force id of the force area each district is in
    geometries: np.ndarray           # shapely geometries, EPSG:27700
    tree: shapely.STRtree

    def of_force(self, force: str) -> list[int]:
        """Indexes of the districts inside one force area (empty for BTP or an unknown force)."""
        return [i for i, f in enumerate(self.forces) if f == force]


def read_boundaries(path: Path) -> tuple[list[dict], np.ndarray]:
    """(properties, geometries) of a project boundary file (GeoJSON in British National Grid)."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"The boundary file {path} cannot be read ({exc}).",
                         hint="Rebuild it with `python scripts/build_district_reference.py`.",
                         file=str(path)) from exc
    features = payload["features"]
    geometries = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    return [f["properties"] for f in features], np.asarray(geometries)


def make_districts(codes: list[str], names: list[str], forces: list[str], geometries: list) -> Districts:
    """A Districts set from polygons in British National Grid (sorted by code, as the rules need)."""
    order = np.argsort(codes, kind="stable")
    geoms = np.asarray(geometries, dtype=object)[order]
    return Districts(tuple(codes[i] for i in order), tuple(names[i] for i in order),
                     tuple(forces[i] for i in order), geoms, shapely.STRtree(geoms))


@cache
def districts() -> Districts:
    """The 331 England and Wales districts (loaded once per process)."""
    props, geometries = read_boundaries(BOUNDARIES)
    return make_districts([p["district"] for p in props], [p["district_name"] for p in props],
                          [p["force"] for p in props], list(geometries))


@cache
def _to_grid() -> Transformer:
    return Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def assign_points(latitude: object, longitude: object, *, within: Districts | None = None) -> np.ndarray:
    """District index (into `within.codes`, default `districts()`) of each point; NO_LOCATION or OUTSIDE.

    Vectorised: one projection call and one STRtree query for all points (rules in the module docstring).
    """
    d = within or districts()
    lat = np.asarray(latitude, dtype="float64")
    lon = np.asarray(longitude, dtype="float64")
    out = np.full(lat.shape, NO_LOCATION, dtype="int64")
    located = np.isfinite(lat) & np.isfinite(lon)
    if not located.any():
        return out
    x, y = _to_grid().transform(lon[located], lat[located])
    out[located] = assign_grid(x, y, within=d)
    return out


def assign_grid(x: np.ndarray, y: np.ndarray, *, within: Districts | None = None) -> np.ndarray:
    """District index of points already in British National Grid metres (rules 2-4 of the module docstring)."""
    d = within or districts()
    points = shapely.points(np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"))
    found = np.full(len(points), OUTSIDE, dtype="int64")
    point_idx, geom_idx = d.tree.query(points, predicate="intersects")
    if len(point_idx):
        # several hits (a point on a shared border): the smallest index, i.e. the code that sorts first
        order = np.lexsort((geom_idx, point_idx))
        first = np.unique(point_idx[order], return_index=True)[1]
        found[point_idx[order][first]] = geom_idx[order][first]
    missing = np.flatnonzero(found == OUTSIDE)
    if len(missing):
        near_point, near_geom = d.tree.query_nearest(points[missing], max_distance=NEAREST_METRES,
                                                     all_matches=True)
        if len(near_point):
            order = np.lexsort((near_geom, near_point))
            first = np.unique(near_point[order], return_index=True)[1]
            found[missing[near_point[order][first]]] = near_geom[order][first]
    return found


def _point_keys(latitude: pd.Series, longitude: pd.Series) -> np.ndarray:
    """One exact hashable key per point: latitude + i x longitude (a missing coordinate makes it missing).
    Factorising complex numbers is ~100x quicker than a (latitude, longitude) MultiIndex."""
    lat = np.asarray(latitude.to_numpy("float64", na_value=np.nan))
    lon = np.asarray(longitude.to_numpy("float64", na_value=np.nan))
    keys = lat + 1j * lon
    keys[~(np.isfinite(lat) & np.isfinite(lon))] = np.nan
    return keys


def assign_unique(latitude: pd.Series, longitude: pd.Series, *, within: Districts | None = None) -> np.ndarray:
    """As `assign_points`, testing each distinct point once (snap points repeat: many searches share one)."""
    codes, uniques = pd.factorize(_point_keys(latitude, longitude))
    if not len(uniques):
        return np.full(len(codes), NO_LOCATION, dtype="int64")
    assigned = assign_points(uniques.real, uniques.imag, within=within)
    return np.where(codes >= 0, assigned[np.maximum(codes, 0)], NO_LOCATION)


def district_labels(index: np.ndarray, *, within: Districts | None = None) -> pd.Categorical:
    """District indexes as a categorical of LAD22 codes (no location and outside are missing)."""
    d = within or districts()
    return pd.Categorical.from_codes(np.where(index >= 0, index, -1), categories=list(d.codes))


# ------------------------------------------------------------------------------ per stored month
def side_path(root: Path, force: str, month: str) -> Path:
    return Path(root) / "districts" / force / f"{month}.parquet"


def _side_is_current(path: Path, checksum: str | None) -> bool:
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException):
        return False
    return meta.get(_META_VERSION) == VERSION and meta.get(_META_CHECKSUM) == str(checksum).encode()


def ensure_months(store: object, forces: list[str] | None = None, months: list[str] | None = None) -> int:
    """Compute the side table of every selected stored month that lacks a current one; returns how many.

    `store` is a data.store.Store (its public manifest() and read_raw() only). One read of the stale months.
    """
    manifest = store.manifest()  # type: ignore[attr-defined]
    chosen = manifest.loc[manifest["status"].eq("ok") & manifest["records"].gt(0)]
    if forces is not None:
        chosen = chosen.loc[chosen["force"].isin(list(forces))]
    if months is not None:
        chosen = chosen.loc[chosen["month"].isin(list(months))]
    stale = [(f, m, c) for f, m, c in zip(chosen["force"], chosen["month"], chosen["checksum"], strict=True)
             if not _side_is_current(side_path(store.root, f, m), c)]  # type: ignore[attr-defined]
    if not stale:
        return 0
    raw = store.read_raw(sorted({f for f, _, _ in stale}), sorted({m for _, m, _ in stale}),  # type: ignore[attr-defined]
                         columns=["force", "month", "latitude", "longitude"])
    points = raw.loc[:, ["force", "month", "latitude", "longitude"]].dropna().drop_duplicates()
    points["force"] = points["force"].astype(str)
    points["month"] = points["month"].astype(str)
    index = assign_unique(points["latitude"], points["longitude"])
    d = districts()
    points["district"] = np.where(index >= 0, np.asarray(d.codes, dtype=object)[np.maximum(index, 0)], "")
    groups = dict(iter(points.groupby(["force", "month"], sort=False, observed=True)))
    for force, month, checksum in stale:
        part = groups.get((force, month), points.iloc[:0])
        table = pa.Table.from_pandas(part[["latitude", "longitude", "district"]].reset_index(drop=True),
                                     preserve_index=False)
        table = table.replace_schema_metadata({_META_CHECKSUM: str(checksum).encode(), _META_VERSION: VERSION})
        atomic_write_parquet(side_path(store.root, force, month), table)  # type: ignore[attr-defined]
    log.info("district side tables computed for %d force-months", len(stale))
    return len(stale)


def stored_points(store: object, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """latitude, longitude, district ('' = outside) of the distinct points of the given force-months."""
    files = [side_path(store.root, f, m) for f, m in pairs]  # type: ignore[attr-defined]
    files = [p for p in files if p.is_file()]
    if not files:
        return pd.DataFrame({"latitude": [], "longitude": [], "district": []})
    table = pq.read_table([str(p) for p in files], columns=["latitude", "longitude", "district"])
    return table.to_pandas().drop_duplicates(["latitude", "longitude"])


def district_index(records: pd.DataFrame, *, store: object | None = None) -> np.ndarray:
    """The district index (NO_LOCATION, OUTSIDE or a position in `districts().codes`) of every record.

    With a store, the stored months' side tables are computed once and reused; any record whose point is
    not in them (records not from the store) is assigned directly. Without a store, directly.
    """
    if not len(records):
        return np.empty(0, dtype="int64")
    if store is None:
        return assign_unique(records["latitude"], records["longitude"])
    held = records[["force", "month"]].drop_duplicates()   # on categoricals: no per-record Python objects
    pairs = sorted(set(zip(held["force"].astype(str), held["month"].astype(str), strict=True)))
    ensure_months(store, sorted({f for f, _ in pairs}), sorted({m for _, m in pairs}))
    known = stored_points(store, pairs)
    d = districts()
    known_index = pd.Index(list(d.codes)).get_indexer(known["district"].to_numpy(object))
    known_index = np.where(known_index >= 0, known_index, OUTSIDE).astype("int64")   # '' = outside
    keys = pd.Index(_point_keys(known["latitude"], known["longitude"]))
    wanted = _point_keys(records["latitude"], records["longitude"])
    at = keys.get_indexer(wanted) if len(keys) else np.full(len(wanted), -1)
    out = np.full(len(wanted), NO_LOCATION, dtype="int64")
    if len(known_index):   # a month with no coordinates at all keeps an empty side table
        out = np.where(at >= 0, known_index[np.maximum(at, 0)], NO_LOCATION).astype("int64")
    unknown = (at < 0) & np.isfinite(wanted)
    if unknown.any():
        out[unknown] = assign_unique(records["latitude"][unknown], records["longitude"][unknown])
    return out


@cache
def district_population(level: str = "broad") -> pd.DataFrame:
    """Census 2021 residents by district and group at one level ('total', 'broad' or 'detailed')."""
    table = pd.read_csv(POPULATION, keep_default_na=False, dtype={"population": "int64"})
    return table.loc[table["level"].eq(level)].reset_index(drop=True)
