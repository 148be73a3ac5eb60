"""Build the project's district and force-area boundaries and district residents from ONS sources.

Run once when the sources change: `python scripts/build_district_reference.py [SHARED_REFERENCE_DIR]`.
Reads the ultra-generalised (BUC) ONS boundaries (police force areas Dec 2023 as a shapefile, local
authority districts Dec 2022 as GeoJSON, both British National Grid), Census 2021 residents by ethnic group
per district and the district -> force area lookup. Writes, in data/reference/:

- `lad22_boundaries.geojson`: the 331 England and Wales districts, British National Grid (EPSG:27700),
  coordinates rounded to 1 m, simplified as one coverage (shared edges stay shared) at TOLERANCE metres;
  properties `district`, `district_name`, `force` (data.police.uk id).
- `pfa_boundaries.geojson`: the 43 police force areas, the same way; properties `ons_code`, `force`, `name`.
- `census2021_lad_population.csv`: residents by district and ethnic group (long form, as
  census2021_population.csv): district, district_name, force, level, group, broad_group, population.

No GIS packages beyond shapely are needed: the shapefile is read by the small reader below.
"""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pandas as pd
import shapely

HERE = Path(__file__).resolve().parents[1]
OUT = HERE / "data" / "reference"
TOLERANCE = 100.0  # metres; the sources are already generalised to ~500 m
CRS = {"type": "name", "properties": {"name": "EPSG:27700"}}


def read_shapefile_polygons(path: Path) -> list[shapely.Geometry]:
    """Polygon records (shape type 5) of an ESRI shapefile as shapely geometries, in record order.

    Layout (ESRI Shapefile Technical Description, 1998): a 100-byte header, then per record a big-endian
    (number, length) header and a little-endian body: type, bbox, numParts, numPoints, parts, points.
    Rings are grouped into polygons by orientation: clockwise rings are outer, counter-clockwise are holes.
    """
    data = path.read_bytes()
    offset, shapes = 100, []
    while offset < len(data):
        _, length = struct.unpack(">2i", data[offset:offset + 8])
        body = data[offset + 8: offset + 8 + 2 * length]
        offset += 8 + 2 * length
        (kind,) = struct.unpack("<i", body[:4])
        if kind != 5:
            raise SystemExit(f"{path}: shape type {kind} is not a polygon")
        n_parts, n_points = struct.unpack("<2i", body[36:44])
        parts = list(struct.unpack(f"<{n_parts}i", body[44:44 + 4 * n_parts])) + [n_points]
        start = 44 + 4 * n_parts
        xy = struct.unpack(f"<{2 * n_points}d", body[start:start + 16 * n_points])
        points = list(zip(xy[0::2], xy[1::2], strict=True))
        outers: list[list] = []
        for a, b in zip(parts[:-1], parts[1:], strict=True):
            ring = points[a:b]
            if shapely.LinearRing(ring).is_ccw and outers:
                outers[-1].append(ring)       # a hole of the last outer ring
            else:
                outers.append([ring])
        shapes.append(shapely.MultiPolygon([shapely.Polygon(r[0], r[1:]) for r in outers]).buffer(0))
    return shapes


def read_dbf(path: Path) -> pd.DataFrame:
    """A dBASE III table (the shapefile's attributes) as strings."""
    data = path.read_bytes()
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    fields, pos = [], 32
    while data[pos] != 0x0D:
        name = data[pos:pos + 11].split(b"\0")[0].decode()
        fields.append((name, data[pos + 16]))
        pos += 32
    rows = []
    for i in range(n_records):
        record, at, row = data[header_len + i * record_len: header_len + (i + 1) * record_len], 1, {}
        for name, width in fields:
            row[name] = record[at:at + width].decode("utf-8", "replace").strip()
            at += width
        rows.append(row)
    return pd.DataFrame(rows)


def simplified(geometries: list[shapely.Geometry]) -> list[shapely.Geometry]:
    """Simplify as one coverage (neighbours keep one shared edge), then round to whole metres."""
    valid = [shapely.make_valid(g) for g in geometries]
    out = shapely.coverage_simplify(valid, TOLERANCE)
    return [shapely.make_valid(shapely.set_precision(g, 1.0)) for g in out]


def write_geojson(path: Path, geometries: list[shapely.Geometry], properties: list[dict]) -> None:
    features = [{"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geom))}
                for geom, props in zip(geometries, properties, strict=True)]
    text = json.dumps({"type": "FeatureCollection", "crs": CRS, "features": features}, separators=(",", ":"))
    path.write_text(text.replace(".0,", ",").replace(".0]", "]") + "\n", encoding="utf-8")
    print(f"{path.name}: {len(features)} features, {path.stat().st_size / 1e3:.0f} kB")


def main(source: Path) -> None:
    pfa_ref = pd.read_csv(source / "pfa_reference.csv", keep_default_na=False, dtype=str)
    code_to_force = dict(zip(pfa_ref["pfa_code"], pfa_ref["police_uk_force_id"], strict=True))
    lookup = pd.read_csv(source / "lad22_csp22_pfa22_lookup.csv", dtype=str)
    lad_force = dict(zip(lookup["LAD22CD"], lookup["PFA22CD"].map(code_to_force), strict=True))

    boundaries = source / "boundaries"
    pfa_attrs = read_dbf(boundaries / "PFA_DEC_2023_EW_BUC.dbf")
    pfa_shapes = simplified(read_shapefile_polygons(boundaries / "PFA_DEC_2023_EW_BUC.shp"))
    write_geojson(OUT / "pfa_boundaries.geojson", pfa_shapes,
                  [{"ons_code": c, "force": code_to_force[c], "name": n}
                   for c, n in zip(pfa_attrs["PFA23CD"], pfa_attrs["PFA23NM"], strict=True)])

    lad = json.loads((boundaries / "Local_Authority_Districts_December_2022_Boundaries_UK_BUC.geojson")
                     .read_text(encoding="utf-8"))
    features = [f for f in lad["features"] if f["properties"]["LAD22CD"][0] in "EW"]
    features.sort(key=lambda f: f["properties"]["LAD22CD"])
    missing = [f["properties"]["LAD22CD"] for f in features if f["properties"]["LAD22CD"] not in lad_force]
    if missing:
        raise SystemExit(f"districts without a force area in the lookup: {missing}")
    shapes = simplified([shapely.from_geojson(json.dumps(f["geometry"])) for f in features])
    write_geojson(OUT / "lad22_boundaries.geojson", shapes,
                  [{"district": f["properties"]["LAD22CD"], "district_name": f["properties"]["LAD22NM"],
                    "force": lad_force[f["properties"]["LAD22CD"]]} for f in features])

    census = pd.read_csv(source / "census2021_lad_ethnicity.csv", keep_default_na=False,
                         dtype={"population": "int64"})
    census["force"] = census["pfa_code"].map(code_to_force)
    long = census.rename(columns={"lad22_code": "district", "lad22_name": "district_name",
                                  "ethnic_group_level": "level", "ethnic_group": "group"})[
        ["district", "district_name", "force", "level", "group", "broad_group", "population"]]
    long.sort_values(["district", "level", "group"]).to_csv(OUT / "census2021_lad_population.csv", index=False)
    print(f"census2021_lad_population.csv: {long['district'].nunique()} districts, {len(long)} rows")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "shared" / "reference")
