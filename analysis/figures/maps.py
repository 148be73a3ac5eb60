"""Choropleth maps (forces; districts of one force) and the within-force funnel plot of district rates.

Maps are plotly `go.Choropleth` on a geo subplot with its base layers hidden (`visible=False`): drawn in SVG
from the project's own boundaries, so nothing is fetched (plotly fetches its world topojson only for base
layers), no WebGL is needed (a WebGL map took about 1 s of software drawing in a browser without a GPU), and
an SVG or PDF export keeps the areas as vectors. The window is the bounds of the areas drawn. Boundaries are the project's generalised ONS files
(data/reference/*_boundaries.geojson, British National Grid), projected to WGS84 here.
Areas without a value are drawn grey with a legend entry; flagged areas carry a marker with a legend entry,
so a printed copy can be read without hovering.
"""
from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.figures.base import RATE_UNIT, finish, fmt_int, fmt_num
from data import districts as geo
from data import reference_data

if TYPE_CHECKING:  # shapely and pyproj are imported where maps are drawn, not by every page
    import shapely
    from pyproj import Transformer

NO_VALUE_COLOUR = "#d9d9d9"
RATE_SCALE = "Blues"
RATIO_SCALE = "RdBu_r"
RATIO_TICKS = (0.125, 0.25, 0.5, 1, 2, 4, 8, 16)


@cache
def _to_wgs84() -> Transformer:
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def _wgs84(geometry: shapely.Geometry) -> shapely.Geometry:
    """British National Grid -> lon/lat, outer rings clockwise (d3-geo), 5 decimals (~1 m)."""
    import shapely

    moved = shapely.transform(geometry, lambda xy: np.round(np.column_stack(
        _to_wgs84().transform(xy[:, 0], xy[:, 1])), 5))
    return moved


def _collection(ids: list[str], geometries: np.ndarray, names: list[str]) -> dict:
    import shapely

    features = [{"type": "Feature", "id": i, "properties": {"name": n},
                 "geometry": json.loads(shapely.to_geojson(_wgs84(g), indent=None))}
                for i, g, n in zip(ids, geometries, names, strict=True)]
    return {"type": "FeatureCollection", "features": features}


@cache
def force_areas() -> dict:
    """WGS84 GeoJSON of the police force areas, feature id = data.police.uk force id."""
    props, geometries = geo.read_boundaries(geo.FORCE_BOUNDARIES)
    return _collection([p["force"] for p in props], geometries, [p["name"] for p in props])


@cache
def force_districts(force: str) -> dict:
    """WGS84 GeoJSON of one force's districts, feature id = LAD22 code."""
    d = geo.districts()
    own = d.of_force(force)
    return _collection([d.codes[i] for i in own], d.geometries[own], [d.names[i] for i in own])


def _label_points(geojson: dict, ids: list[str]) -> tuple[list[float], list[float]]:
    import shapely

    by_id = {f["id"]: shapely.from_geojson(json.dumps(f["geometry"])) for f in geojson["features"]}
    points = [shapely.point_on_surface(by_id[i]) if i in by_id else shapely.Point(np.nan, np.nan) for i in ids]
    return [p.x for p in points], [p.y for p in points]


def _mercator_y(lat: float) -> float:
    return float(np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)))


def _latitude(y: float) -> float:
    return float(np.degrees(2 * np.arctan(np.exp(y)) - np.pi / 2))


def window(geojson: dict, ids: list[str], *, aspect: float = 1.25, pad: float = 0.06) -> dict[str, list[float]]:
    """Longitude and latitude ranges that show the given areas (all areas when none is given), padded and
    widened to about the chart's shape (`aspect`, width over height) so a tall force is seen with its
    neighbours rather than in a strip."""
    import shapely

    chosen = [f for f in geojson["features"] if f["id"] in set(ids)] or geojson["features"]
    if not chosen:
        west, south, east, north = -6.0, 49.8, 2.0, 56.0   # England and Wales
    else:
        west, south, east, north = (float(v) for v in shapely.total_bounds(
            [shapely.from_geojson(json.dumps(f["geometry"])) for f in chosen]))
    x0, x1 = np.radians(west), np.radians(east)   # Mercator: x is longitude in radians
    y0, y1 = _mercator_y(south), _mercator_y(north)
    width, height = max(x1 - x0, 1e-3) * (1 + 2 * pad), max(y1 - y0, 1e-3) * (1 + 2 * pad)
    width, height = max(width, height * aspect), max(height, width / aspect)
    mid_x, mid_y = (x0 + x1) / 2, (y0 + y1) / 2
    return dict(lon=[float(np.degrees(mid_x - width / 2)), float(np.degrees(mid_x + width / 2))],
                lat=[_latitude(mid_y - height / 2), _latitude(mid_y + height / 2)])


def _layout(fig: go.Figure, geojson: dict, ids: list[str]) -> None:
    shown = window(geojson, ids)
    fig.update_layout(geo=dict(visible=False, projection_type="mercator", bgcolor="rgba(0,0,0,0)",
                               lonaxis_range=shown["lon"], lataxis_range=shown["lat"]))
    fig.update_layout(height=640, margin=dict(l=10, r=10, t=80, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.02, x=0, xanchor="left"))


def _flag_markers(fig: go.Figure, geojson: dict, ids: list[str], mask: np.ndarray, *, name: str,
                  colour: str, size: int, hover: list[str]) -> None:
    chosen = [i for i, m in zip(ids, mask, strict=True) if m]
    if not chosen:
        return
    lon, lat = _label_points(geojson, chosen)
    fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="markers", name=name, showlegend=True,
                                marker=dict(size=size, color=colour),
                                hovertext=[h for h, m in zip(hover, mask, strict=True) if m], hoverinfo="text",
                                customdata=chosen))


OUTSIDE_COLOUR = "#f1f1f1"


def _features(geojson: dict, ids) -> dict:  # noqa: ANN001 - a list or an array of feature ids
    """Only the features a trace draws: each trace carries its own GeoJSON to the browser, so three traces
    over every area sent (and parsed) the whole of England and Wales three times."""
    wanted = set(ids)
    return {**geojson, "features": [f for f in geojson.get("features", []) if f.get("id") in wanted]}


def _areas(geojson: dict, ids, **trace) -> go.Choropleth:
    """A choropleth of the areas `ids` of `geojson`, each carrying its id (what a click on it reports)."""
    return go.Choropleth(locationmode="geojson-id", geojson=_features(geojson, ids), locations=ids, customdata=ids,
                         hoverinfo="text", **trace)


def _flat_areas(geojson: dict, ids, *, colour: str, name: str, hover: list[str], outline: dict) -> go.Choropleth:
    """Areas in one colour, with a legend entry (a printed map is read without hovering)."""
    return _areas(geojson, ids, z=np.zeros(len(ids)), colorscale=[[0, colour], [1, colour]], showscale=False,
                  name=name, showlegend=True, hovertext=hover, marker_line=outline)


def _not_selected(fig: go.Figure, geojson: dict, ids: list[str]) -> None:
    """The other force areas, pale and outlined, so a few forces are seen in England and Wales, not afloat."""
    others = [f["id"] for f in geojson.get("features", []) if f.get("id") not in set(ids)]
    if not others:
        return
    names = [reference_data.force_name(f) for f in others]
    fig.add_trace(_flat_areas(geojson, others, colour=OUTSIDE_COLOUR, name="Not in this selection (no data here)",
                              hover=[f"{n}: not in this selection (no published month in the store for it, or not "
                                     "chosen)" for n in names],
                              outline=dict(color="#9a9a9a", width=0.6)))


def _choropleth(fig: go.Figure, geojson: dict, ids: list[str], values: np.ndarray, hover: list[str], *,
                ratio: bool, colourbar_title: str) -> None:
    has = np.isfinite(values) & ((values > 0) if ratio else np.ones(len(values), bool))
    ids_arr = np.asarray(ids, dtype=object)
    if (~has).any():
        fig.add_trace(_flat_areas(geojson, ids_arr[~has], colour=NO_VALUE_COLOUR, name="No value (see hover)",
                                  hover=[h for h, k in zip(hover, has, strict=True) if not k],
                                  outline=dict(color="white", width=0.8)))
    if not has.any():
        return
    z = np.log2(values[has]) if ratio else values[has]
    bar: dict[str, object] = dict(title=dict(text=colourbar_title, side="right"), len=0.8, thickness=16)
    extra: dict[str, object] = {}
    if ratio:
        reach = max(1.0, float(np.nanmax(np.abs(z))))
        ticks = [t for t in RATIO_TICKS if abs(np.log2(t)) <= reach + 1e-9]
        bar.update(tickvals=[np.log2(t) for t in ticks], ticktext=[f"{t:g}" for t in ticks])
        extra = dict(zmid=0, zmin=-reach, zmax=reach)
    fig.add_trace(_areas(geojson, ids_arr[has], z=z, colorscale=RATIO_SCALE if ratio else RATE_SCALE, colorbar=bar,
                         name="", hovertext=[h for h, k in zip(hover, has, strict=True) if k],
                         marker_line=dict(color="white", width=0.8), **extra))


def _rate_hover(name: str, row: pd.Series) -> str:
    lines = [f"<b>{name}</b>", f"{row['group']}: {fmt_num(row['rate_per_1000'])} per 1,000 a year",
             f"95% interval {fmt_num(row['ci_low'])} to {fmt_num(row['ci_high'])}",
             f"{fmt_int(row['searches'])} searches, {fmt_int(row['population'])} residents"]
    if "shrunk_rate_per_1000" in row and np.isfinite(float(row["shrunk_rate_per_1000"])):
        lines.append(f"Shrunk (empirical Bayes): {fmt_num(row['shrunk_rate_per_1000'])} "
                     f"({fmt_num(row['shrunk_ci_low'])} to {fmt_num(row['shrunk_ci_high'])})")
    if "rate_if_unlocated_spread" in row and np.isfinite(float(row["rate_if_unlocated_spread"])):
        lines.append(f"If searches with no location were spread in proportion: "
                     f"{fmt_num(row['rate_if_unlocated_spread'])}")
    if bool(row.get("small_n", False)):
        lines.append("Fewer than 20 searches: treat with caution")
    for key in ("funnel_flag", "flag"):
        if key in row and isinstance(row[key], str) and row[key]:
            lines.append(f"Funnel: {row[key]}")
    if isinstance(row.get("reason"), str) and row["reason"]:
        lines.append(row["reason"])
    return "<br>".join(lines)


def _ratio_hover(name: str, row: pd.Series, reference: str) -> str:
    searches = f"{fmt_int(row['group_searches'])} {row['group']} and {fmt_int(row['reference_searches'])} " \
               f"{reference} searches"
    lines = [f"<b>{name}</b>", f"{row['group']} vs {reference}: ratio {fmt_num(row['ratio'])}",
             f"95% interval {fmt_num(row['ci_low'])} to {fmt_num(row['ci_high'])}", searches]
    if "shrunk_ratio" in row and np.isfinite(float(row["shrunk_ratio"])):
        lines.append(f"Ratio of shrunk rates: {fmt_num(row['shrunk_ratio'])}")
    if bool(row.get("small_n", False)):
        lines.append("Fewer than 20 searches in a group: treat with caution")
    if isinstance(row.get("flag"), str) and row["flag"]:
        lines.append(f"Funnel: {row['flag']}")
    if isinstance(row.get("reason"), str) and row["reason"]:
        lines.append(row["reason"])
    return "<br>".join(lines)


def _flag_layers(fig: go.Figure, geojson: dict, ids: list[str], rows: pd.DataFrame, hover: list[str]) -> None:
    small = rows["small_n"].astype("boolean").fillna(False).to_numpy(bool) if "small_n" in rows else np.zeros(len(rows), bool)
    flag_col = "funnel_flag" if "funnel_flag" in rows else ("flag" if "flag" in rows else None)
    outside = (rows[flag_col].astype(str).str.contains("99.8%").to_numpy(bool) if flag_col
               else np.zeros(len(rows), bool))
    _flag_markers(fig, geojson, ids, outside, name="outside the 99.8% funnel limits (large dark dot)",
                  colour="#7a0019", size=16, hover=hover)
    _flag_markers(fig, geojson, ids, small, name="fewer than 20 searches (small black dot)", colour="black",
                  size=8, hover=hover)


def force_map_figure(table: pd.DataFrame, *, group: str, measure: str = "rate", reference: str = "White",
                     demo: bool = False, title: str | None = None) -> go.Figure:
    """Force areas coloured by one group's rate per 1,000 (a `rates` table) or ratio (a `compare` table,
    which carries the funnel flag). Forces without a value are grey; pooled rows and BTP are not drawn."""
    ratio = measure == "ratio"
    rows = table.loc[table["group"].eq(group) & table["force"].isin(reference_data.force_ids())]
    rows = rows.loc[rows["force"].map(reference_data.has_residents)].reset_index(drop=True)
    ids = rows["force"].astype(str).tolist()
    names = [reference_data.force_name(f) for f in ids]
    hover = [_ratio_hover(n, r, reference) if ratio else _rate_hover(n, r) for n, (_, r) in zip(names, rows.iterrows(), strict=True)]
    values = rows["ratio" if ratio else "rate_per_1000"].to_numpy(float, na_value=np.nan)
    fig = go.Figure()
    geojson = force_areas()
    _not_selected(fig, geojson, ids)
    bar = f"{group} vs {reference}<br>(ratio, log scale)" if ratio else f"{group}: searches<br>per 1,000 a year"
    _choropleth(fig, geojson, ids, values, hover, ratio=ratio, colourbar_title=bar)
    _flag_layers(fig, geojson, ids, rows, hover)
    _layout(fig, geojson, ids)
    default = (f"Disparity ratio, {group} vs {reference}, by police force area" if ratio
               else f"Searches of {group} people per 1,000 residents, by police force area")
    return finish(fig, kind="force_map", title=title or default, demo=demo,
                  meta={"measure": measure, "group": group, "forces": ids},
                  note=("Grey: no value (see hover). " + ("Blue: below 1, red: above 1." if ratio else RATE_UNIT)))


def district_map_figure(table: pd.DataFrame, *, force: str, group: str, measure: str = "rate",
                        reference: str = "White", demo: bool = False, title: str | None = None) -> go.Figure:
    """One force's districts coloured by a group's rate ('rate', 'shrunk', from district-rates) or ratio
    ('ratio', from district-disparity)."""
    ratio = measure == "ratio"
    rows = table.loc[table["force"].eq(force) & table["group"].eq(group)].reset_index(drop=True)
    ids = rows["district"].astype(str).tolist()
    names = rows["district_name"].astype(str).tolist()
    hover = [_ratio_hover(n, r, reference) if ratio else _rate_hover(n, r) for n, (_, r) in zip(names, rows.iterrows(), strict=True)]
    column = {"rate": "rate_per_1000", "shrunk": "shrunk_rate_per_1000", "ratio": "ratio"}[measure]
    values = rows[column].to_numpy(float, na_value=np.nan) if len(rows) else np.array([])
    fig = go.Figure()
    geojson = force_districts(force)
    what = {"rate": "searches per 1,000 a year", "shrunk": "shrunk rate per 1,000 a year",
            "ratio": f"ratio to {reference} (log scale)"}[measure]
    _choropleth(fig, geojson, ids, values, hover, ratio=ratio, colourbar_title=f"{group}:<br>{what}")
    _flag_layers(fig, geojson, ids, rows, hover)
    _layout(fig, geojson, ids)
    name = reference_data.force_name(force)
    default = {"rate": f"Searches of {group} people per 1,000 residents by district, {name}",
               "shrunk": f"Searches of {group} people per 1,000 residents by district (shrunk), {name}",
               "ratio": f"Disparity ratio, {group} vs {reference}, by district, {name}"}[measure]
    return finish(fig, kind="district_map", title=title or default, demo=demo,
                  meta={"measure": measure, "group": group, "force": force},
                  note="Located searches only; boundaries generalised (~500 m); grey: no value (see hover).")


def district_funnel_figure(table: pd.DataFrame, *, force: str, group: str, demo: bool = False,
                           title: str | None = None) -> go.Figure:
    """Each district's rate against its residents (person-years), with the force's located rate and the
    95% / 99.8% limits (over-dispersion allowed for); hollow markers: fewer than 20 searches."""
    rows = table.loc[table["force"].eq(force) & table["group"].eq(group)
                     & table["rate_per_1000"].notna()].reset_index(drop=True)
    fig = go.Figure()
    name = reference_data.force_name(force)
    if len(rows):
        x = rows["effective_population"].to_numpy(float)
        m = float(rows["force_rate_per_1000"].iloc[0])
        order = np.argsort(x)
        for low, high, label, dash in (("limit95_low", "limit95_high", "95% limits", "dash"),
                                       ("limit998_low", "limit998_high", "99.8% limits", "dot")):
            for column, show in ((low, True), (high, False)):
                fig.add_trace(go.Scatter(x=x[order], y=rows[column].to_numpy(float)[order], mode="lines",
                                         name=label, showlegend=show, legendgroup=label, hoverinfo="skip",
                                         line=dict(color="#555", dash=dash, width=1.2, shape="spline")))
        fig.add_hline(y=m, line=dict(color="#222", width=1.5), annotation_text=f"force (located) {fmt_num(m)}",
                      annotation_position="top left")
        small = rows["small_n"].astype(bool).to_numpy()
        hover = [_rate_hover(n, r) for n, (_, r) in zip(rows["district_name"], rows.iterrows(), strict=True)]
        fig.add_trace(go.Scatter(x=x, y=rows["rate_per_1000"], mode="markers", name="district",
                                 marker=dict(size=10, color="#1f4e99",
                                             symbol=["circle-open" if s else "circle" for s in small]),
                                 hovertext=hover, hoverinfo="text", customdata=rows["district"]))
        fig.update_xaxes(type="log")
    return finish(fig, kind="district_funnel", title=title or f"Districts of {name}: {group} rate against residents",
                  demo=demo, meta={"force": force, "group": group},
                  x_title=f"{group} residents (log scale)", y_title=f"{group}: {RATE_UNIT}",
                  note="Hollow: fewer than 20 searches. Limits allow for real variation between districts.")
